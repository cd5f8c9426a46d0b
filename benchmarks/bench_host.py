"""Host benchmark: `ownership` embedded in a CRM's own requests, against what the CRM would write by hand (issue 16).

World, as in the SQL benchmark (`bench_sql.World`): 10,000 users (1 % admins),
1,000 caretaker groups (3 per user), 100,000 records of kind ``account``, each
with one ``owner`` and one caretaker group; with ``--large`` also 1,000,000
records, the 900,000 more held by others. Beside them, in the same database,
the host's own table ``crm_accounts(id, name)`` holds the same ids (its id in
collation "C" on PostgreSQL, as docs/postgresql.md asks). The viewer is
``u1`` (no admin; some 330 accounts are theirs, so their page is full), the
admin ``u0``. Every figure is a ratio
against its baseline measured in the same run, in turns (the machine is
shared: absolute times drift, ratios do not), on a SQLite file and PostgreSQL:

1. host select: per request ``own.filter(viewer, "view", "account")`` and the
   host's ``select(crm_accounts).where(where(...)).order_by(id).limit(100)``,
   timed together. Baseline: the same select with the condition folded by
   hand, the host resolving the viewer's groups in SQL itself, in two forms,
   each a line of the report: ``OR``, as the issue writes it, ``id IN (SELECT
   record_id FROM ownership_assignments WHERE kind = 'account' AND tenant =
   :tenant AND ((role = 'owner' AND assignee_kind = 'user' AND assignee_id =
   :user) OR (role = 'caretaker_group' AND assignee_kind = 'group' AND
   assignee_id IN (SELECT group_id FROM ownership_memberships WHERE user_id =
   :user AND (until IS NULL OR until > :now)))))``; and ``UNION``, the same
   as a UNION ALL of the owner's look-up and the groups' (joined with the
   memberships), which PostgreSQL plans as two index look-ups where it reads
   the whole holders' index for the ``OR``. Target <= 1.5x, at 100k and 1M.
2. `visible()` page (limit 100) against the same two hand-folded conditions
   on ``ownership_records`` (101 rows, so that it knows whether a next page
   follows, as `visible` does): rows only, and followed by a second query for
   the page's holders, built into the same `Record` and `Assignment` values.
   Like with like: `visible()`, which returns the holders, against the query
   followed by the holders' query, and ``visible_ids`` (ids alone) against the
   rows-only queries; target <= 3x each.
3. an admin's first page, through the host select with
   ``where(own.filter(admin, ...))``, through ``own.visible_ids(admin,
   limit=100)`` and (with holders, no target) ``own.visible(admin, limit=100)``,
   against ``SELECT * FROM crm_accounts ORDER BY id LIMIT 100``. Target <= 2x,
   at 100k and 1M.
4. a warm ``can(viewer, "view", ref)``: the round trips it costs, counted with
   SQLAlchemy's engine events on the repository's engine (every statement a
   cursor runs, and every begin, commit and rollback, each a round trip on
   PostgreSQL; a ``BEGIN`` SQLite runs through the cursor counts once). Target
   <= 2. And its calls a second against one hand-written query a host would
   send: does the viewer hold the record, or is in a group that does.
5. `create` (a record with an owner and a caretaker group, by an admin: the
   record, three history events, two holders, one notice in the outbox) and
   `assign` (a handover: `bench_sql.measure_assign`) against hand-written SQL
   writing the same rows (checked equal after one call each). Target <= 2x.
6. `transfer` of 100,000 holdings against hand-written SQL
   (`bench_sql.measure_transfer`). Target <= 2x.
7. 4 processes (spawned) each creating 400 different records (random ids;
   ``--creates N``) at once, each with its own `Ownership` on its own engine,
   against 4 processes doing the hand-written create (READ COMMITTED on
   PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), in turns: two rounds of half.
   Target: throughput >= 0.5x, 0 ConflictError reaching the caller; the
   retries the ``ownership`` logger tells of are counted too.
8. a soak on PostgreSQL: 4 processes for ``--soak-seconds`` (60) looping over
   a random mix of use cases on a small shared world of two tenants (can,
   visible, filter + host select, explain, holders, create (the host's row
   first), assign, unassign, transfer and back, bulk reassign, delete,
   record_activity, add and remove a member, deactivate and reactivate).
   Counted per use case: calls, refusals that are the library's answers (by
   error type: AccessDeniedError, NotHeldError, ...), ConflictError that
   reached the caller, other errors. Targets: 0 escaped conflicts, 0 failed
   reads (a read's conflict is a failed read too).

Run it with ``nox -s bench``, or ``python benchmarks/bench_host.py [--large]
[--postgresql URL] [--soak-seconds N] [--only NAMES] [--json PATH]``;
PostgreSQL is measured when a URL is given or ``OWNERSHIP_POSTGRES_URL`` is
set, a SQLite file always (the soak runs on PostgreSQL only).
"""

import argparse
import functools
import json
import logging
import multiprocessing
import os
import queue
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench_sql import (
    TENANT,
    World,
    _chunks,
    _notice,
    _user_row,
    analyze,
    bench_database,
    best_of,
    measure_assign,
    measure_transfer,
    rulebook,
    with_holders_by_hand,
)
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    exists,
    insert,
    or_,
    select,
    text,
    union_all,
)

from ownership import (
    Assignee,
    ConflictError,
    Ownership,
    OwnershipError,
    RecordRef,
    StorageError,
)
from ownership.adapters import sql
from ownership.adapters.sql import where

FIGURES = ("host-select", "visible", "admin", "can", "create", "assign", "transfer", "concurrent", "soak")
"""The measurements `--only` can name."""
ON_WORLD = {"host-select", "visible", "admin", "can", "create", "assign", "concurrent"}
ADMIN = "u0"
PAGE = 100
MS = 1000

# --- the host's own table ---------------------------------------------------------------------

HOST = MetaData()
crm_accounts = Table(
    "crm_accounts",
    HOST,
    # Text ids in collation "C" on PostgreSQL, as docs/postgresql.md asks of a host's key that `where` compares.
    Column("id", String().with_variant(String(collation="C"), "postgresql"), primary_key=True),
    Column("name", String),
)


def load_host_table(engine: Engine, ids: Iterator[str]) -> None:
    """Make the host's ``crm_accounts`` afresh, with a row for each id, a chunk at a time (setup, not measured)."""
    HOST.drop_all(engine)
    HOST.create_all(engine)
    with engine.begin() as c:
        for chunk in _chunks({"id": id, "name": f"Account {id}"} for id in ids):
            c.execute(insert(crm_accounts), chunk)
    analyze(engine)


# --- the hand-folded queries a host would write ----------------------------------------------------

_a, _m, _r = sql.assignments.c, sql.memberships.c, sql.records.c


FORMS = ("OR", "UNION")
"""The two ways a host folds the viewer's access by hand: the issue's one OR, and a UNION ALL of its two look-ups."""


def _readable(form: str = "OR") -> Any:
    """The ids of the accounts ``:user`` may view, folded by hand: held, or held by a group they are in now.

    ``OR`` is the condition as the issue writes it, the groups a subquery on
    the memberships; ``UNION`` is the same as two look-ups in the holders'
    index, the second joined with the memberships, the form a host reaches
    when its planner reads the whole holders' index for the ``OR``.
    """
    live = or_(_m.until.is_(None), _m.until > bindparam("now"))
    if form == "UNION":
        owned = select(_a.record_id).where(
            _a.kind == "account",
            _a.tenant == bindparam("tenant"),
            _a.role == "owner",
            _a.assignee_kind == "user",
            _a.assignee_id == bindparam("user"),
        )
        cared = (
            select(_a.record_id)
            .select_from(sql.assignments.join(sql.memberships, _m.group_id == _a.assignee_id))
            .where(
                _m.user_id == bindparam("user"),
                live,
                _a.kind == "account",
                _a.tenant == bindparam("tenant"),
                _a.role == "caretaker_group",
                _a.assignee_kind == "group",
            )
        )
        return union_all(owned, cared)
    groups = select(_m.group_id).where(_m.user_id == bindparam("user"), live)
    return select(_a.record_id).where(
        _a.kind == "account",
        _a.tenant == bindparam("tenant"),
        or_(
            and_(_a.role == "owner", _a.assignee_kind == "user", _a.assignee_id == bindparam("user")),
            and_(_a.role == "caretaker_group", _a.assignee_kind == "group", _a.assignee_id.in_(groups)),
        ),
    )


HOST_PAGES = {
    form: select(crm_accounts).where(crm_accounts.c.id.in_(_readable(form))).order_by(crm_accounts.c.id).limit(PAGE)
    for form in FORMS
}
"""Figure 1's baselines: the host's page of what the viewer may see, the condition folded by hand."""
ADMIN_PAGE = select(crm_accounts).order_by(crm_accounts.c.id).limit(PAGE)
"""Figure 3's baseline: the host's first page, unfiltered."""
RECORD_PAGES = {
    form: select(sql.records)
    .where(_r.kind == "account", _r.tenant == bindparam("tenant"), _r.id.in_(_readable(form)))
    .order_by(_r.id)
    .limit(PAGE + 1)
    for form in FORMS
}
"""Figure 2's baselines: the page of ownership's records the viewer may see, and whether another follows."""
CAN = select(
    exists().where(
        _a.kind == "account",
        _a.record_id == bindparam("record"),
        _a.tenant == bindparam("tenant"),
        or_(
            and_(_a.role == "owner", _a.assignee_kind == "user", _a.assignee_id == bindparam("user")),
            and_(
                _a.role == "caretaker_group",
                _a.assignee_kind == "group",
                _a.assignee_id.in_(
                    select(_m.group_id).where(
                        _m.user_id == bindparam("user"), or_(_m.until.is_(None), _m.until > bindparam("now"))
                    )
                ),
            ),
        ),
    )
)
"""Figure 4's baseline: one query that says whether the viewer may view one record."""


def _params(user: str) -> dict[str, Any]:
    return {"user": user, "tenant": TENANT, "now": datetime.now(timezone.utc)}


def host_page(own: Ownership, engine: Engine, viewer: str) -> list[Any]:
    """One host request: the viewer's filter, and the host's own select of its page through `where`."""
    allowed = own.filter(viewer, "view", "account")
    query = (
        select(crm_accounts)
        .where(where(allowed, kind="account", id=crm_accounts.c.id))
        .order_by(crm_accounts.c.id)
        .limit(PAGE)
    )
    with engine.connect() as c:
        return list(c.execute(query).all())


def host_page_by_hand(engine: Engine, viewer: str, form: str = "OR") -> list[Any]:
    """Figure 1's baseline request, in one of the two `FORMS`."""
    with engine.connect() as c:
        return list(c.execute(HOST_PAGES[form], _params(viewer)).all())


def admin_page_by_hand(engine: Engine) -> list[Any]:
    """Figure 3's baseline request."""
    with engine.connect() as c:
        return list(c.execute(ADMIN_PAGE).all())


def record_page_by_hand(engine: Engine, viewer: str, *, with_holders: bool, form: str = "OR") -> list[Any]:
    """Figure 2's baseline: the page's rows, or the same values `visible` returns, its records with their holders."""
    with engine.connect() as c:
        rows = c.execute(RECORD_PAGES[form], _params(viewer)).all()
        if not with_holders:
            return list(rows)
        return with_holders_by_hand(c, rows[:PAGE])


def can_by_hand(engine: Engine, viewer: str, record: str) -> bool:
    """Figure 4's baseline: may the viewer view the record, in one query."""
    with engine.connect() as c:
        return bool(c.execute(CAN, {**_params(viewer), "record": record}).scalar_one())


# --- figures 1 to 3: reads ---------------------------------------------------------------------------


def _ids(rows: Sequence[Any]) -> list[str]:
    return [r.id for r in rows]


def measure_host_select(world: World, *, requests: int = 10) -> dict[str, float]:
    """Figure 1: the viewer's page of the host's table through `filter` and `where`, against the hand-folded selects."""
    own, engine, viewer = world.own, world.engine, world.viewer
    ours = _ids(host_page(own, engine, viewer))
    for form in FORMS:
        assert ours == _ids(host_page_by_hand(engine, viewer, form)), f"where() lists other rows than the {form} form"

    def by_hand(form: str) -> list[Any]:
        return [host_page_by_hand(engine, viewer, form) for _ in range(requests)]

    ours_s, *theirs = best_of(
        lambda: [host_page(own, engine, viewer) for _ in range(requests)],
        *(functools.partial(by_hand, form) for form in FORMS),
    )
    return {"rows": float(len(ours)), "ours": ours_s / requests} | {
        form: seconds / requests for form, seconds in zip(FORMS, theirs, strict=True)
    }


def measure_visible(world: World, *, requests: int = 5) -> dict[str, float]:
    """Figure 2: a page of `visible` (and of `visible_ids`, where there is one) against the hand-folded queries."""
    own, engine, viewer = world.own, world.engine, world.viewer
    page = own.visible(viewer, "account", limit=PAGE)
    listed = [r.id for r in page.records]
    for form in FORMS:
        rows = record_page_by_hand(engine, viewer, with_holders=False, form=form)
        assert listed == _ids(rows[:PAGE]), f"visible() disagrees with the {form} form"
        assert (page.cursor is None) == (len(rows) <= PAGE)
    names = ["visible"]
    runs: list[Callable[[], object]] = [lambda: [own.visible(viewer, "account", limit=PAGE) for _ in range(requests)]]

    def by_hand(form: str, holders: bool) -> list[Any]:
        return [record_page_by_hand(engine, viewer, with_holders=holders, form=form) for _ in range(requests)]

    for form in FORMS:
        for holders in (False, True):
            names.append(f"{form} {'rows + holders' if holders else 'rows only'}")
            runs.append(functools.partial(by_hand, form, holders))
    ids_of = getattr(own, "visible_ids", None)
    if ids_of is not None:
        ids = ids_of(viewer, "account", action="view", limit=PAGE, after=None)
        assert list(getattr(ids, "ids", ids))[:PAGE] == listed, "visible_ids() disagrees with visible()"
        names.append("visible_ids")
        runs.append(lambda: [ids_of(viewer, "account", action="view", limit=PAGE, after=None) for _ in range(requests)])
    times = best_of(*runs)
    return {"rows": float(len(page.rows))} | {name: t / requests for name, t in zip(names, times, strict=True)}


def measure_admin(world: World, *, requests: int = 10) -> dict[str, float]:
    """Figure 3: an admin's first page, through the host select with `where` and through `visible`."""
    own, engine = world.own, world.engine
    first = _ids(admin_page_by_hand(engine))
    assert _ids(host_page(own, engine, ADMIN)) == first, "where() lists another first page for the admin"
    assert [r.id for r in own.visible(ADMIN, "account", limit=PAGE).records] == first, "so does visible()"
    assert list(own.visible_ids(ADMIN, "account", limit=PAGE).ids) == first, "so does visible_ids()"
    where_s, visible_s, ids_s, theirs_s = best_of(
        lambda: [host_page(own, engine, ADMIN) for _ in range(requests)],
        lambda: [own.visible(ADMIN, "account", limit=PAGE) for _ in range(requests)],
        lambda: [own.visible_ids(ADMIN, "account", limit=PAGE) for _ in range(requests)],
        lambda: [admin_page_by_hand(engine) for _ in range(requests)],
    )
    return {
        "where": where_s / requests,
        "visible": visible_s / requests,
        "visible_ids": ids_s / requests,
        "baseline": theirs_s / requests,
    }


# --- figure 4: can() --------------------------------------------------------------------------------


def _autocommit(connection: Connection) -> bool:
    """Whether the driver runs each statement on its own: then a begin, commit or rollback sends nothing.

    SQLite's driver (with `make_engine`'s setup) sends a commit or rollback only inside a transaction it
    began with a BEGIN statement, which is counted as a statement.
    """
    dbapi = connection.connection.dbapi_connection
    if isinstance(dbapi, sqlite3.Connection):
        return not dbapi.in_transaction
    return bool(getattr(dbapi, "autocommit", False))


class RoundTrips:
    """Counts what connections of an engine (and of engines derived from it) send, while the block runs.

    Every statement a cursor runs is a round trip; so is every begin, commit
    and rollback on PostgreSQL, whose driver sends BEGIN before the first
    statement. SQLite's BEGIN is a statement through the cursor already, so a
    begin counts only where no BEGIN statement came for it. On a connection the
    driver runs in autocommit, a begin, commit or rollback sends nothing, and
    counts nothing.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []
        self.events: Counter[str] = Counter()

    def _statement(self, *args: Any) -> None:
        self.statements.append(args[2])

    def _begin(self, connection: Connection) -> None:
        if not _autocommit(connection):
            self.events["begin"] += 1

    def _commit(self, connection: Connection) -> None:
        if not _autocommit(connection):
            self.events["commit"] += 1

    def _rollback(self, connection: Connection) -> None:
        if not _autocommit(connection):
            self.events["rollback"] += 1

    def _listeners(self) -> list[tuple[str, Callable[..., None]]]:
        return [
            ("before_cursor_execute", self._statement),
            ("begin", self._begin),
            ("commit", self._commit),
            ("rollback", self._rollback),
        ]

    def __enter__(self) -> "RoundTrips":
        for name, listener in self._listeners():
            event.listen(self.engine, name, listener)
        return self

    def __exit__(self, *_: object) -> None:
        for name, listener in self._listeners():
            event.remove(self.engine, name, listener)

    @property
    def trips(self) -> int:
        """Every round trip counted."""
        begun = sum(s.lstrip().upper().startswith("BEGIN") for s in self.statements)
        implicit = max(0, self.events["begin"] - begun)
        return len(self.statements) + implicit + self.events["commit"] + self.events["rollback"]


def measure_can(world: World, *, each: int = 20) -> dict[str, Any]:
    """Figure 4: the round trips of a warm `can`, and its calls a second against the hand-written check."""
    own, engine, viewer = world.own, world.engine, world.viewer
    with engine.connect() as c:
        readable = c.execute(_readable().order_by(_a.record_id), _params(viewer)).scalars().all()
    seen = sorted(set(readable))[:each]  # fewer, if the viewer may see fewer
    held = set(readable)
    unseen = [f"r{r:07d}" for r in random.Random(5).sample(range(100_000), 4 * each) if f"r{r:07d}" not in held]
    records = [r for pair in zip(seen, unseen[: len(seen)], strict=True) for r in pair]
    refs = [RecordRef("account", r) for r in records]
    answers = [own.can(viewer, "view", ref) for ref in refs]  # the first call warms the viewer up
    assert answers == [can_by_hand(engine, viewer, r) for r in records], "can() disagrees with the hand-written check"
    assert answers.count(True) == len(seen)
    with RoundTrips(engine) as ours:
        for ref in refs:
            own.can(viewer, "view", ref)
    with RoundTrips(engine) as theirs:
        for record in records:
            can_by_hand(engine, viewer, record)
    ours_s, theirs_s = best_of(
        lambda: [own.can(viewer, "view", ref) for ref in refs],
        lambda: [can_by_hand(engine, viewer, r) for r in records],
    )
    calls = len(refs)
    return {
        "round trips": ours.trips / calls,
        "statements": len(ours.statements) / calls,
        "begins": ours.events["begin"] / calls,
        "commits": ours.events["commit"] / calls,
        "rollbacks": ours.events["rollback"] / calls,
        "what it sends": _shapes(ours.statements[: len(ours.statements) // calls]),
        "baseline round trips": theirs.trips / calls,
        "ours per second": calls / ours_s,
        "baseline per second": calls / theirs_s,
    }


def _shapes(statements: Sequence[str]) -> list[str]:
    """The statements one call sent, each cut to its first words, to show what a round trip went on."""
    return [" ".join(s.split())[:70] for s in statements]


# --- figure 5: create and assign ------------------------------------------------------------------


def host_writer(url: str) -> Engine:
    """The engine a host writes by hand with: SQLite's writes taking the one writer at BEGIN, as `ownership` does.

    PostgreSQL is left as SQLAlchemy makes it: READ COMMITTED, which suffices
    for rows no one else writes.
    """
    if not url.startswith("sqlite"):
        return create_engine(url)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA busy_timeout = 5000")

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class HandWrittenCreate:
    """`create` of an account with an owner and a caretaker group as a host would write it: the same rows.

    It reads the actor, the owner and the group (are they there, active, of
    the tenant) and writes the record, its three history events (created, and
    each holder assigned), its two holders and the owner's notice, in one
    transaction. A taken id is the primary key's to refuse.
    """

    USER = text("SELECT id, tenant, active, admin FROM ownership_users WHERE id = :id")
    GROUP = text("SELECT id, tenant, kind FROM ownership_groups WHERE id = :id")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, record: str, owner: str, group: str, actor: str) -> None:
        """Track `record` with `owner` and `group`, as `actor`."""
        now = datetime.now(timezone.utc)
        with self.engine.begin() as c:
            acting = c.execute(self.USER, {"id": actor}).one()
            holder = c.execute(self.USER, {"id": owner}).one()
            team = c.execute(self.GROUP, {"id": group}).one()
            if not (acting.active and holder.active) or {acting.tenant, holder.tenant, team.tenant} != {TENANT}:
                raise ValueError("refused")
            c.execute(
                insert(sql.records),
                {
                    "kind": "account",
                    "id": record,
                    "tenant": TENANT,
                    "created_at": now,
                    "shared_with": [],
                    "offered_to": [],
                },
            )
            c.execute(insert(sql.events), created_events(record, owner, group, actor, now))
            base = {"kind": "account", "record_id": record, "tenant": TENANT, "since": now, "actor": actor}
            c.execute(
                insert(sql.assignments),
                [
                    {**base, "role": "owner", "assignee_kind": "user", "assignee_id": owner},
                    {**base, "role": "caretaker_group", "assignee_kind": "group", "assignee_id": group},
                ],
            )
            c.execute(insert(sql.outbox), [_notice(record, 1, owner, actor, now)])


def created_events(record: str, owner: str, group: str, actor: str, now: datetime) -> list[dict[str, Any]]:
    """The history of a new account: created, then each of its two holders assigned."""
    common = {"record": {"kind": "account", "id": record}, "tenant": TENANT, "actor": actor, "at": now.isoformat()}
    bodies = [
        {**common, "private_to": None, "type": "RecordCreated"},
        {**common, "role": "owner", "assignee": {"kind": "user", "id": owner}, "private_to": None, "type": "Assigned"},
        {
            **common,
            "role": "caretaker_group",
            "assignee": {"kind": "group", "id": group},
            "private_to": None,
            "type": "Assigned",
        },
    ]
    return [{"kind": "account", "record_id": record, "position": p, "body": b} for p, b in enumerate(bodies)]


def create_ours(own: Ownership, record: str, owner: str, group: str, actor: str) -> None:
    """`create` as a host calls it for a new account with its owner and caretaker group."""
    own.create(
        "account",
        actor=actor,
        id=record,
        holders={"owner": Assignee.user(owner), "caretaker_group": Assignee.group(group)},
    )


def written_rows(engine: Engine, record: str) -> dict[str, Any]:
    """What is stored of one account, its id and moments taken out, to compare two ways of writing it."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if k not in ("at",)}
        if isinstance(value, str):
            return value.replace(record, "<id>")
        if isinstance(value, frozenset | set):
            return sorted(value)
        return value

    with engine.connect() as c:
        r = c.execute(select(sql.records).where(_r.kind == "account", _r.id == record)).one()
        events = c.execute(
            select(sql.events.c.position, sql.events.c.body)
            .where(sql.events.c.kind == "account", sql.events.c.record_id == record)
            .order_by(sql.events.c.position)
        ).all()
        held = c.execute(
            select(_a.role, _a.tenant, _a.assignee_kind, _a.assignee_id, _a.actor)
            .where(_a.kind == "account", _a.record_id == record)
            .order_by(_a.role)
        ).all()
        notices = c.execute(
            select(sql.outbox.c.key, sql.outbox.c.body, sql.outbox.c.attempts, sql.outbox.c.delivered)
            .where(sql.outbox.c.kind == "account", sql.outbox.c.record_id == record)
            .order_by(sql.outbox.c.key)
        ).all()
    return {
        "record": [plain(v) for k, v in r._mapping.items() if k not in ("id", "created_at")],
        "events": [(p, plain(b)) for p, b in events],
        "holders": [tuple(h) for h in held],
        "outbox": [(plain(k), plain(b), n, d) for k, b, n, d in notices],
    }


def measure_create(world: World, url: str, count: int = 150) -> dict[str, float]:
    """Figure 5: `count` creates through `create` and by hand, in turns; the rows each writes checked equal first."""
    own, manual = world.own, HandWrittenCreate(host_writer(url))
    rng = random.Random(11)
    picks = [(f"u{rng.randrange(2, World.USERS)}", f"g{rng.randrange(World.GROUPS)}") for _ in range(count)]
    create_ours(own, "x-check-ours", "u2", "g7", ADMIN)
    manual("x-check-theirs", "u2", "g7", ADMIN)
    ours_rows, theirs_rows = written_rows(world.engine, "x-check-ours"), written_rows(world.engine, "x-check-theirs")
    assert ours_rows == theirs_rows, f"the hand-written create writes other rows:\n{ours_rows}\n{theirs_rows}"
    turns = {"ours": 0, "theirs": 0}

    def run_ours() -> None:
        turns["ours"] += 1
        for n, (owner, group) in enumerate(picks):
            create_ours(own, f"x-ours-{turns['ours']}-{n:04d}", owner, group, ADMIN)

    def run_theirs() -> None:
        turns["theirs"] += 1
        for n, (owner, group) in enumerate(picks):
            manual(f"x-theirs-{turns['theirs']}-{n:04d}", owner, group, ADMIN)

    ours_s, theirs_s = best_of(run_ours, run_theirs, repeat=5)
    manual.engine.dispose()
    return {"ours": ours_s / count, "baseline": theirs_s / count}


# --- figure 7: four processes creating at once --------------------------------------------------


class Retries(logging.Handler):
    """Counts the retries the ``ownership`` logger tells of, and keeps the first words of each give-up."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.retries = 0
        self.gave_up: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Count one log record."""
        message = record.getMessage()
        if "met another unit of work" in message:
            self.retries += 1
        elif record.levelno >= logging.WARNING:
            self.gave_up.append(message[:300])


def _listen_for_retries() -> Retries:
    handler = Retries()
    logger = logging.getLogger("ownership")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    # psycopg warns of each pipelined executemany a conflict aborts; the conflicts are counted, not printed.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    return handler


def creating_worker(  # noqa: PLR0917 - what one spawned process is handed
    way: str, url: str, number: int, count: int, barrier: Any, results: Any
) -> None:
    """One process of figure 7: `count` creates of new accounts, `ours` through `create` or `theirs` by hand."""
    retries = _listen_for_retries()
    engine = sql.make_engine(url) if way == "ours" else host_writer(url)
    own = Ownership(rulebook(), sql.SqlRepository(engine)) if way == "ours" else None
    manual = HandWrittenCreate(engine)
    rng = random.Random(number)
    actor = f"u{number * 100}"  # an admin: every hundredth user is one
    picks = [(f"u{rng.randrange(2, World.USERS)}", f"g{rng.randrange(World.GROUPS)}") for _ in range(count + 1)]
    stamp = f"{way}-{os.getpid()}-{time.time_ns()}"

    def create(n: int) -> None:
        # Ids as a host makes them (random), so that the processes' records fall anywhere among the others.
        record = f"y{rng.getrandbits(64):016x}-{stamp}-{n}"
        owner, group = picks[n]
        if own is not None:
            create_ours(own, record, owner, group, actor)
        else:
            manual(record, owner, group, actor)

    create(count)  # warm: connections made, statements compiled
    conflicts, errors, first = 0, Counter[str](), ""
    barrier.wait()
    start = time.monotonic()
    for n in range(count):
        try:
            create(n)
        except ConflictError as error:
            conflicts += 1
            first = first or str(error)
        except Exception as error:
            errors[type(error).__name__] += 1
            first = first or f"{type(error).__name__}: {error}"
    end = time.monotonic()
    engine.dispose()
    results.put(
        {
            "start": start,
            "end": end,
            "conflicts": conflicts,
            "errors": dict(errors),
            "retries": retries.retries,
            "first": first[:400],
        }
    )


def run_processes(target: Callable[..., None], arguments: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Start a spawned process for each tuple of arguments, let them go at once, and gather what each put.

    Raises:
        RuntimeError: a process ended without putting its result (its traceback is on stderr).
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(arguments))
    results = context.Queue()
    processes = [context.Process(target=target, args=(*a, barrier, results)) for a in arguments]
    for p in processes:
        p.start()
    gathered: list[dict[str, Any]] = []
    while len(gathered) < len(processes):
        try:
            gathered.append(results.get(timeout=1))
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in processes):
                barrier.abort()
                for p in processes:
                    p.join(timeout=10)
                    if p.is_alive():
                        p.terminate()
                raise RuntimeError("a benchmark process failed; its traceback is above") from None
    for p in processes:
        p.join(timeout=60)
    return gathered


def measure_concurrent(url: str, *, processes: int = 4, count: int = 200, rounds: int = 2) -> dict[str, Any]:
    """Figure 7: creates a second of `processes` processes at once, through `create` and by hand.

    The two ways take turns, `rounds` times, each process creating `count`
    records a round; a way's rate is all it created over all its rounds' time.
    """
    totals: dict[str, dict[str, Any]] = {
        way: {"seconds": 0.0, "created": 0, "conflicts": 0, "errors": Counter[str](), "retries": 0, "first": ""}
        for way in ("ours", "theirs")
    }
    for _ in range(rounds):
        for way, into in totals.items():
            done = run_processes(creating_worker, [(way, url, n, count) for n in range(processes)])
            into["seconds"] += max(d["end"] for d in done) - min(d["start"] for d in done)
            into["created"] += processes * count - sum(d["conflicts"] + sum(d["errors"].values()) for d in done)
            into["conflicts"] += sum(d["conflicts"] for d in done)
            into["retries"] += sum(d["retries"] for d in done)
            for d in done:
                into["errors"].update(d["errors"])
                into["first"] = into["first"] or d["first"]
    for into in totals.values():
        into["per second"] = into["created"] / into["seconds"]
        into["errors"] = dict(into["errors"])
    return {**totals, "processes": processes, "count": count * rounds, "rounds": rounds}


# --- figure 8: the soak ---------------------------------------------------------------------------

SOAK_TENANTS = ("north", "south")
SOAK_USERS = 24  # per tenant, besides two admins and two "small" users; the last four are deactivated and back
SOAK_GROUPS = 8
SOAK_RECORDS = 200
READS = ("can", "visible", "filter+select", "explain", "holders")
MIX = {
    "can": 14,
    "visible": 8,
    "filter+select": 8,
    "explain": 5,
    "holders": 3,
    "create": 8,
    "assign": 10,
    "unassign": 4,
    "transfer": 2,
    "reassign": 3,
    "delete": 3,
    "record_activity": 8,
    "add_member": 3,
    "remove_member": 3,
    "deactivate/reactivate": 2,
}


def _soak_users(tenant: str) -> list[str]:
    return [f"{tenant}-u{i:02d}" for i in range(SOAK_USERS)]


def load_soak(engine: Engine) -> None:
    """The soak's small world, in bulk: two tenants, each with users, groups, memberships and held accounts."""
    rng = random.Random(17)
    sql.drop_schema(engine)
    sql.create_schema(engine)
    at = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    ids: list[str] = []
    with engine.begin() as c:
        for tenant in SOAK_TENANTS:
            users = _soak_users(tenant)
            groups = [f"{tenant}-g{g}" for g in range(SOAK_GROUPS)]
            c.execute(insert(sql.tenants), [{"id": tenant, "name": tenant.title(), "plan": None, "switches": []}])
            rows = [{**_user_row(u), "tenant": tenant} for u in [*users, f"{tenant}-small0", f"{tenant}-small1"]]
            rows += [{**_user_row(f"{tenant}-admin{a}", admin=True), "tenant": tenant} for a in range(2)]
            c.execute(insert(sql.users), rows)
            c.execute(
                insert(sql.groups),
                [{"id": g, "tenant": tenant, "name": g, "kind": "caretaker", "personal_of": None} for g in groups],
            )
            c.execute(
                insert(sql.memberships),
                [{"group_id": g, "user_id": u, "until": None} for u in users for g in rng.sample(groups, 2)],
            )
            records = [f"{tenant}-r{r:03d}" for r in range(SOAK_RECORDS)]
            c.execute(
                insert(sql.records),
                [
                    {
                        "kind": "account",
                        "id": r,
                        "tenant": tenant,
                        "created_at": at,
                        "shared_with": [],
                        "offered_to": [],
                    }
                    for r in records
                ],
            )
            holders = []
            for n, r in enumerate(records):
                owner = f"{tenant}-small{n % 2}" if n < 10 else rng.choice(users)
                base = {"kind": "account", "record_id": r, "tenant": tenant, "since": at, "actor": None}
                holders.append({**base, "role": "owner", "assignee_kind": "user", "assignee_id": owner})
                holders.append(
                    {**base, "role": "caretaker_group", "assignee_kind": "group", "assignee_id": rng.choice(groups)}
                )
            c.execute(insert(sql.assignments), holders)
            ids += records
    analyze(engine)
    load_host_table(engine, iter(ids))


class Soaker:
    """One soak process: its own `Ownership` on its own engine, and a random mix of use cases on the shared world."""

    def __init__(self, url: str, number: int) -> None:
        self.engine = sql.make_engine(url)
        self.own = Ownership(rulebook(), sql.SqlRepository(self.engine))
        self.rng = random.Random(1000 + number)
        self.number = number
        self.created: dict[str, list[str]] = {t: [] for t in SOAK_TENANTS}
        self.made = 0
        self.counts: dict[str, dict[str, Any]] = {}
        self.firsts: dict[str, str] = {}

    def _tenant(self) -> str:
        return self.rng.choice(SOAK_TENANTS)

    def _user(self, tenant: str) -> str:
        return self.rng.choice(_soak_users(tenant))

    def _viewer(self) -> str:
        tenant = self._tenant()
        return self.rng.choice([*_soak_users(tenant), f"{tenant}-admin0", f"{tenant}-small0"])

    def _admin(self, tenant: str) -> str:
        # Mostly an admin; now and then a user, whom the rules may refuse.
        if self.rng.random() < 0.8:
            return f"{tenant}-admin{self.rng.randrange(2)}"
        return self._user(tenant)

    def _record(self, tenant: str | None = None) -> RecordRef:
        tenant = tenant or self._tenant()
        pool = self.created[tenant]
        if pool and self.rng.random() < 0.3:
            return RecordRef("account", self.rng.choice(pool))
        return RecordRef("account", f"{tenant}-r{self.rng.randrange(SOAK_RECORDS):03d}")

    def run(self, name: str) -> None:
        """Run the use case `name` once, on random arguments."""
        getattr(self, "case_" + name.replace("+", "_").replace("/", "_"))()

    def case_can(self) -> None:
        """Ask whether someone may view some record, of their tenant or the other."""
        self.own.can(self._viewer(), "view", self._record())

    def case_visible(self) -> None:
        """List someone's first page."""
        self.own.visible(self._viewer(), "account", limit=50)

    def case_filter_select(self) -> None:
        """List someone's first page of the host's table, through `filter` and `where`."""
        allowed = self.own.filter(self._viewer(), "view", "account")
        query = select(crm_accounts.c.id).where(where(allowed, kind="account", id=crm_accounts.c.id))
        with self.engine.connect() as c:
            c.execute(query.order_by(crm_accounts.c.id).limit(50)).all()

    def case_explain(self) -> None:
        """Explain whether someone may view some record."""
        self.own.explain(self._viewer(), "view", self._record())

    def case_holders(self) -> None:
        """Read a record's owner as its tenant sees it."""
        tenant = self._tenant()
        self.own.holders(self._record(tenant), "owner", tenant=tenant)

    def case_create(self) -> None:
        """Create an account as a host does: its own row first, then ownership's, its row taken back if refused."""
        tenant = self._tenant()
        self.made += 1
        id = f"{tenant}-p{self.number}-{self.made:05d}"
        with self.engine.begin() as c:
            c.execute(insert(crm_accounts).values(id=id, name=id))
        try:
            holders = {
                "owner": Assignee.user(self._user(tenant)),
                "caretaker_group": Assignee.group(f"{tenant}-g{self.rng.randrange(SOAK_GROUPS)}"),
            }
            self.own.create("account", actor=self._admin(tenant), id=id, holders=holders)
        except BaseException:
            with self.engine.begin() as c:
                c.execute(delete(crm_accounts).where(crm_accounts.c.id == id))
            raise
        self.created[tenant].append(id)

    def case_assign(self) -> None:
        """Hand a record's owner role to someone."""
        tenant = self._tenant()
        self.own.assign(self._record(tenant), "owner", Assignee.user(self._user(tenant)), actor=self._admin(tenant))

    def case_unassign(self) -> None:
        """Take a record's owner role from whoever holds it (read first, so another may have taken it meanwhile)."""
        tenant = self._tenant()
        ref = self._record(tenant)
        held = self.own.holders(ref, "owner", tenant=tenant)
        self.own.unassign(
            ref, "owner", held[0] if held else Assignee.user(self._user(tenant)), actor=self._admin(tenant)
        )

    def case_transfer(self) -> None:
        """Hand one small user's holdings to the other, and back."""
        tenant = self._tenant()
        there, back = (f"{tenant}-small0", f"{tenant}-small1")[:: self.rng.choice((1, -1))]
        self.own.transfer(there, back, actor=f"{tenant}-admin0")
        self.own.transfer(back, there, actor=f"{tenant}-admin1")

    def case_reassign(self) -> None:
        """Hand the owner role of a few records picked by hand to one user, in one bulk action."""
        tenant = self._tenant()
        picked = list({self._record(tenant) for _ in range(5)})
        self.own.reassign(picked, "owner", Assignee.user(self._user(tenant)), actor=self._admin(tenant))

    def case_delete(self) -> None:
        """Delete a record this process created: ownership's first, then the host's row (docs/embedding.md)."""
        tenant = self._tenant()
        if not self.created[tenant]:
            return
        id = self.created[tenant].pop(self.rng.randrange(len(self.created[tenant])))
        self.own.delete([RecordRef("account", id)], actor=f"{tenant}-admin0")
        with self.engine.begin() as c:
            c.execute(delete(crm_accounts).where(crm_accounts.c.id == id))

    def case_record_activity(self) -> None:
        """Record a call or a mail on a record, mostly by an admin, now and then by a user who may not see it."""
        tenant = self._tenant()
        activity = self.rng.choice(("called", "mailed"))
        self.own.record_activity(self._record(tenant), activity, actor=self._admin(tenant))

    def case_add_member(self) -> None:
        """Put a user into a caretaker group."""
        tenant = self._tenant()
        self.own.add_member(f"{tenant}-g{self.rng.randrange(SOAK_GROUPS)}", self._user(tenant))

    def case_remove_member(self) -> None:
        """Take a user out of a caretaker group."""
        tenant = self._tenant()
        self.own.remove_member(f"{tenant}-g{self.rng.randrange(SOAK_GROUPS)}", self._user(tenant))

    def case_deactivate_reactivate(self) -> None:
        """Deactivate one of the last four users of a tenant, and make them active again."""
        user = _soak_users(self._tenant())[-self.rng.randrange(1, 5)]
        self.own.update_user(user, active=False)
        self.own.update_user(user, active=True)

    def counted(self, name: str, call: Callable[[], Any]) -> Any:
        """Run `call` as one call of use case `name`, counting how it ended; None where it raised."""
        tally = self.counts.setdefault(
            name, {"calls": 0, "ok": 0, "refused": Counter[str](), "conflicts": 0, "errors": Counter[str]()}
        )
        tally["calls"] += 1
        try:
            answer = call()
        except ConflictError as error:
            tally["conflicts"] += 1
            self.firsts.setdefault(f"{name}: ConflictError", str(error)[:400])
        except StorageError as error:
            tally["errors"]["StorageError"] += 1
            self.firsts.setdefault(f"{name}: StorageError", str(error)[:400])
        except OwnershipError as error:  # the library's answer: refused, by its type
            tally["refused"][type(error).__name__] += 1
        except Exception as error:
            tally["errors"][type(error).__name__] += 1
            self.firsts.setdefault(f"{name}: {type(error).__name__}", f"{error}"[:400])
        else:
            tally["ok"] += 1
            return answer
        return None


def soaking_worker(url: str, number: int, seconds: float, barrier: Any, results: Any) -> None:
    """One process of the soak: use cases drawn at random from `MIX` until `seconds` are over."""
    retries = _listen_for_retries()
    soaker = Soaker(url, number)
    names, weights = list(MIX), list(MIX.values())
    barrier.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        name = soaker.rng.choices(names, weights)[0]
        soaker.counted(name, functools.partial(soaker.run, name))
    soaker.engine.dispose()
    counts = {
        name: {**tally, "refused": dict(tally["refused"]), "errors": dict(tally["errors"])}
        for name, tally in soaker.counts.items()
    }
    results.put(
        {
            "counts": counts,
            "retries": retries.retries,
            "gave up": retries.gave_up[:5],
            "gave up count": len(retries.gave_up),
            "firsts": soaker.firsts,
        }
    )


def measure_soak(url: str, seconds: float, *, processes: int = 4) -> dict[str, Any]:
    """Figure 8: `processes` processes for `seconds` on the soak's world; the counts of every process added up."""
    engine = sql.make_engine(url)
    load_soak(engine)
    started = time.perf_counter()
    done = run_processes(soaking_worker, [(url, n, seconds) for n in range(processes)])
    wall = time.perf_counter() - started
    counts: dict[str, dict[str, Any]] = {}
    for d in done:
        for name, tally in d["counts"].items():
            into = counts.setdefault(name, {"calls": 0, "ok": 0, "refused": {}, "conflicts": 0, "errors": {}})
            for key in ("calls", "ok", "conflicts"):
                into[key] += tally[key]
            for key in ("refused", "errors"):
                into[key] = dict(Counter(into[key]) + Counter(tally[key]))
    firsts: dict[str, str] = {}
    for d in done:
        for key, message in d["firsts"].items():
            firsts.setdefault(key, message)
    HOST.drop_all(engine)
    sql.drop_schema(engine)
    engine.dispose()
    return {
        "seconds": seconds,
        "wall": wall,
        "processes": processes,
        "counts": counts,
        "retries": sum(d["retries"] for d in done),
        "gave up": [m for d in done for m in d["gave up"]][:5],
        "gave up count": sum(d["gave up count"] for d in done),
        "firsts": firsts,
    }


# --- a database's figures --------------------------------------------------------------------


def _elapsed(started: float, what: str) -> None:
    print(f"  {what} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def run(name: str, url: str, *, large: bool, only: set[str], creates: int) -> dict[str, Any]:
    """Every figure but the soak on one database."""
    print(f"{name}:", file=sys.stderr)
    engine = sql.make_engine(url)
    figures: dict[str, Any] = {}
    if only & ON_WORLD:
        started = time.perf_counter()
        world = World(engine, 100_000)
        load_host_table(engine, (f"r{r:07d}" for r in range(100_000)))
        _elapsed(started, "built 100,000 records and the host's table")
        small = figures["100k"] = {}
        for figure, measure in (
            ("host-select", measure_host_select),
            ("visible", measure_visible),
            ("admin", measure_admin),
            ("can", measure_can),
        ):
            if figure in only:
                started = time.perf_counter()
                small[figure] = measure(world)
                _elapsed(started, f"measured {figure}")
        if "create" in only:
            started = time.perf_counter()
            small["create"] = measure_create(world, url)
            _elapsed(started, "measured create")
        if "assign" in only:
            started = time.perf_counter()
            writes = measure_assign(world, count=150)
            small["assign"] = {"ours": writes["assign"], "baseline": writes["hand-written assign"]}
            _elapsed(started, "measured assign")
        if "concurrent" in only:
            started = time.perf_counter()
            figures["concurrent"] = measure_concurrent(url, count=max(1, creates // 2))
            _elapsed(started, "measured 4 processes creating at once")
    if "transfer" in only:
        started = time.perf_counter()
        moved = measure_transfer(engine)
        figures["transfer"] = {"ours": moved["transfer"], "baseline": moved["hand-written transfer"]}
        _elapsed(started, "measured transfer")
    if large and only & {"host-select", "visible", "admin"}:
        started = time.perf_counter()
        world = World(engine, 1_000_000, crowd_after=100_000)
        load_host_table(engine, (f"r{r:07d}" for r in range(1_000_000)))
        _elapsed(started, "built 1,000,000 records and the host's table")
        big = figures["1m"] = {}
        for figure, measure in (
            ("host-select", measure_host_select),
            ("visible", measure_visible),
            ("admin", measure_admin),
        ):
            if figure in only:
                big[figure] = measure(world)
    HOST.drop_all(engine)
    sql.drop_schema(engine)
    engine.dispose()
    return figures


# --- the report ----------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * MS:.3f} ms"


def lines(f: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:  # noqa: PLR0912 - one block a figure
    """One database's figures as rows: figure, ours, baseline, ratio, target."""
    rows: list[tuple[str, str, str, str, str]] = []

    def ratio(ours: float, theirs: float, target: str, figure: str, baseline: str, *, unit: str = "ms") -> None:
        shown = _ms if unit == "ms" else (lambda s: f"{s:.2f} s")
        rows.append((figure, shown(ours), f"{shown(theirs)} {baseline}".strip(), f"{ours / theirs:.2f}x", target))

    for scale in ("100k", "1m"):
        if scale not in f:
            continue
        at = "100,000" if scale == "100k" else "1,000,000"
        s = f[scale]
        if "host-select" in s:
            h = s["host-select"]
            for form in FORMS:
                ratio(h["ours"], h[form], "<= 1.5x", f"1. host select, filter + where, {at}", f"hand-folded, {form}")
        if "visible" in s:
            v = s["visible"]
            for form in FORMS:
                # Like with like: visible() returns the page's holders, visible_ids() its ids alone.
                for part, target in (("rows only", ""), ("rows + holders", "<= 3x")):
                    ratio(v["visible"], v[f"{form} {part}"], target, f"2. visible() page, {at}", f"{form}, {part}")
            if "visible_ids" in v:
                for form in FORMS:
                    ratio(
                        v["visible_ids"],
                        v[f"{form} rows only"],
                        "<= 3x",
                        f"2. visible_ids(), {at}",
                        f"{form}, rows only",
                    )
        if "admin" in s:
            a = s["admin"]
            ratio(a["where"], a["baseline"], "<= 2x", f"3. admin page, filter + where, {at}", "ORDER BY id LIMIT 100")
            ratio(a["visible"], a["baseline"], "", f"3. admin page, visible(), {at}", "ORDER BY id LIMIT 100")
            ratio(
                a["visible_ids"], a["baseline"], "<= 2x", f"3. admin page, visible_ids(), {at}", "ORDER BY id LIMIT 100"
            )
        if "can" in s:
            c = s["can"]
            rows.append(
                (
                    "4. can(), round trips a warm call",
                    f"{c['round trips']:.1f}",
                    f"{c['baseline round trips']:.1f} (one query)",
                    f"{c['statements']:.1f} statements, {c['begins']:.0f} begin, {c['commits']:.0f} commit, "
                    f"{c['rollbacks']:.0f} rollback",
                    "<= 2",
                )
            )
            rows.append(
                (
                    "4. can(), calls a second",
                    f"{c['ours per second']:.0f}/s",
                    f"{c['baseline per second']:.0f}/s hand-written",
                    f"{c['ours per second'] / c['baseline per second']:.2f}x",
                    "",
                )
            )
        if "create" in s:
            ratio(s["create"]["ours"], s["create"]["baseline"], "<= 2x", "5. create (owner + group)", "hand-written")
        if "assign" in s:
            ratio(s["assign"]["ours"], s["assign"]["baseline"], "<= 2x", "5. assign (handover)", "hand-written")
    if "transfer" in f:
        t = f["transfer"]
        ratio(t["ours"], t["baseline"], "<= 2x", "6. transfer of 100,000 holdings", "hand-written", unit="s")
    if "concurrent" in f:
        c = f["concurrent"]
        ours, theirs = c["ours"], c["theirs"]
        rows.append(
            (
                f"7. {c['processes']} processes x {c['count']} creates",
                f"{ours['per second']:.0f}/s",
                f"{theirs['per second']:.0f}/s hand-written",
                f"{ours['per second'] / theirs['per second']:.2f}x",
                ">= 0.5x",
            )
        )
        rows.append(
            (
                "7. ConflictError reaching the caller",
                f"{ours['conflicts']}",
                f"{theirs['conflicts']} hand-written",
                f"retries logged: {ours['retries']}; other errors: {ours['errors'] or 0}",
                "0",
            )
        )
    return rows


def print_table(title: str, rows: Sequence[tuple[str, ...]]) -> None:
    """Print rows under a title, in columns."""
    header = ("figure", "ours", "baseline", "ratio", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(title)
    for row in [header, *rows]:
        print("  " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def report(name: str, f: dict[str, Any]) -> None:
    """Print one database's figures, with what a warm can() sent and what the concurrent creates met."""
    print_table(f"Host benchmark on {name} (ratios against baselines measured in this run, in turns)", lines(f))
    can = f.get("100k", {}).get("can")
    if can:
        print("  what one warm can() sent: " + " / ".join(can["what it sends"]))
    if "concurrent" in f and f["concurrent"]["ours"]["first"]:
        print(f"  first error of the concurrent creates: {f['concurrent']['ours']['first']}")


def report_soak(s: dict[str, Any]) -> None:
    """Print the soak's counts per use case and its totals."""
    print(f"Soak on PostgreSQL: {s['processes']} processes, {s['seconds']:.0f} s each ({s['wall']:.0f} s in all)")
    header = ("use case", "calls", "ok", "refused", "conflicts", "errors")
    rows = [
        (
            name + (" (read)" if name in READS else ""),
            str(t["calls"]),
            str(t["ok"]),
            ", ".join(f"{k} {v}" for k, v in sorted(t["refused"].items())) or "0",
            str(t["conflicts"]),
            ", ".join(f"{k} {v}" for k, v in sorted(t["errors"].items())) or "0",
        )
        for name, t in sorted(s["counts"].items())
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    counts = s["counts"].values()
    conflicts = sum(t["conflicts"] for t in counts)
    failed = sum(t["conflicts"] + sum(t["errors"].values()) for n, t in s["counts"].items() if n in READS)
    errors = sum(sum(t["errors"].values()) for t in counts)
    print(
        f"  totals: {sum(t['calls'] for t in counts)} calls, {conflicts} escaped ConflictError (target 0), "
        f"{failed} failed reads (target 0), {errors} other errors, {s['retries']} retries logged"
    )
    for key, message in sorted(s["firsts"].items()):
        print(f"  first {key}: {message}")
    if s["gave up"]:
        print(f"  logged {s['gave up count']} give-ups at WARNING, the first: {s['gave up'][0]}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on SQLite, and on PostgreSQL when a URL is known; print the ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also measure figures 1 to 3 at 1,000,000 records")
    parser.add_argument("--postgresql", default=os.environ.get("OWNERSHIP_POSTGRES_URL"), help="a PostgreSQL URL")
    parser.add_argument("--soak-seconds", type=float, default=60, help="how long the soak runs (default 60)")
    parser.add_argument("--creates", type=int, default=400, help="records each process creates in figure 7 (400)")
    parser.add_argument("--only", help=f"a comma-separated subset of: {', '.join(FIGURES)}")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    only = set(FIGURES) if not args.only else {n.strip() for n in args.only.split(",") if n.strip()}
    if only - set(FIGURES):
        parser.error(f"unknown figures: {', '.join(sorted(only - set(FIGURES)))}; choose from {', '.join(FIGURES)}")
    results: dict[str, Any] = {}
    if only - {"soak"}:
        with tempfile.TemporaryDirectory() as folder:
            file = f"sqlite:///{folder}/bench.db"
            results["SQLite"] = run("SQLite", file, large=args.large, only=only, creates=args.creates)
    url = bench_database(args.postgresql, "ownership_bench_host") if args.postgresql else None
    if url and only - {"soak"}:
        results["PostgreSQL"] = run("PostgreSQL", url, large=args.large, only=only, creates=args.creates)
    if url and "soak" in only:
        print("PostgreSQL soak:", file=sys.stderr)
        results["soak"] = measure_soak(url, args.soak_seconds)
    if not url:
        print("PostgreSQL not measured: pass --postgresql URL or set OWNERSHIP_POSTGRES_URL.")
    for name in ("SQLite", "PostgreSQL"):
        if name in results:
            report(name, results[name])
    if "soak" in results:
        report_soak(results["soak"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
