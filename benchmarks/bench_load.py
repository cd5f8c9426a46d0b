"""Load benchmark: a host's first load through `reconcile`, against a hand-written bulk insert, SQLite and PostgreSQL.

The host keeps accounts with an owner (a user; 15 % of them have left) and a
caretaker group. Its first load hands `ownership` every account as a
`HostRecord` and calls `reconcile`; the baseline is what a host would write by
hand from the same facts: one bulk INSERT a table, through SQLAlchemy Core, of
the same rows (the records, their two holders each, and their history: created,
and each holder assigned).

- Figure 1: 1,000,000 accounts into an empty store (the directory only).
- Figure 2: 100,000 accounts of a second tenant into that store, now full.

Each side starts from the same fresh store and runs once (a load is long, so the
machine's drift falls on both alike); the figures are ratios. Run it with
``nox -s bench`` or ``python benchmarks/bench_load.py [--records N] [--postgresql URL]``.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from bench_sql import _chunks, analyze, bench_database, rulebook
from sqlalchemy import Engine, func, insert, select

from ownership import Assignee, HostRecord, Ownership
from ownership.adapters import sql

TENANTS = ("first", "second")
USERS = 1_000  # a tenant's; every seventh has left
GROUPS = 100
LEFT_EVERY = 7


def fresh_store(engine: Engine) -> None:
    """The schema anew, with each tenant's users (some of whom have left) and caretaker groups."""
    sql.drop_schema(engine)
    sql.create_schema(engine)
    with engine.begin() as c:
        c.execute(insert(sql.tenants), [{"id": t, "name": t.title(), "plan": None, "switches": []} for t in TENANTS])
        c.execute(
            insert(sql.users),
            [
                {
                    "id": f"{t}-u{i}",
                    "tenant": t,
                    "name": f"User {i}",
                    "active": i % LEFT_EVERY != 0,
                    "admin": False,
                    "restricted": [],
                    "push": False,
                }
                for t in TENANTS
                for i in range(USERS)
            ],
        )
        c.execute(
            insert(sql.groups),
            [
                {"id": f"{t}-g{g}", "tenant": t, "name": f"Group {g}", "kind": "caretaker", "personal_of": None}
                for t in TENANTS
                for g in range(GROUPS)
            ],
        )
    analyze(engine)


def host_facts(tenant: str, count: int) -> list[tuple[str, str, str]]:
    """The host's accounts of a tenant: id, owner, caretaker group."""
    rng = random.Random(f"{tenant}-{count}")
    return [
        (f"{tenant}-a{n:07d}", f"{tenant}-u{rng.randrange(USERS)}", f"{tenant}-g{rng.randrange(GROUPS)}")
        for n in range(count)
    ]


def load_ours(engine: Engine, tenant: str, facts: Sequence[tuple[str, str, str]]) -> int:
    """The host's first load through `reconcile`: its rows as `HostRecord`s; returns the progress reports."""
    reports = 0

    def progress(_done: int, _total: int) -> None:
        nonlocal reports
        reports += 1

    own = Ownership(rulebook(), sql.SqlRepository(engine))
    rows = [
        HostRecord(id, {"owner": Assignee.user(owner), "caretaker_group": Assignee.group(group)})
        for id, owner, group in facts
    ]
    drift = own.reconcile("account", rows, tenant=tenant, progress=progress)
    assert (len(drift.added), drift.removed, drift.changed) == (len(facts), (), ())
    return reports


def load_by_hand(engine: Engine, tenant: str, facts: Sequence[tuple[str, str, str]]) -> None:
    """The same rows in one transaction, one bulk INSERT a table, as a host writes them by hand."""
    now = datetime.now(timezone.utc)
    at = now.isoformat()

    def records() -> Iterator[dict[str, Any]]:
        for id, _, _ in facts:
            yield {
                "kind": "account",
                "id": id,
                "tenant": tenant,
                "created_at": now,
                "shared_with": [],
                "offered_to": [],
            }

    def holders() -> Iterator[dict[str, Any]]:
        for id, owner, group in facts:
            base = {"kind": "account", "record_id": id, "tenant": tenant, "since": now, "actor": None}
            yield {**base, "role": "owner", "assignee_kind": "user", "assignee_id": owner}
            yield {**base, "role": "caretaker_group", "assignee_kind": "group", "assignee_id": group}

    def history() -> Iterator[dict[str, Any]]:
        for id, owner, group in facts:
            record = {"kind": "account", "id": id}
            common = {"record": record, "tenant": tenant, "actor": None, "at": at}
            assigned = {"type": "Assigned", **common, "private_to": None}
            yield {"kind": "account", "record_id": id, "position": 0, "body": {"type": "RecordCreated", **common}}
            owned = {**assigned, "role": "owner", "assignee": {"kind": "user", "id": owner}}
            yield {"kind": "account", "record_id": id, "position": 1, "body": owned}
            cared = {**assigned, "role": "caretaker_group", "assignee": {"kind": "group", "id": group}}
            yield {"kind": "account", "record_id": id, "position": 2, "body": cared}

    with engine.begin() as c:
        for table, rows in ((sql.records, records()), (sql.assignments, holders()), (sql.events, history())):
            for chunk in _chunks(rows):
                c.execute(insert(table), chunk)


def counted(engine: Engine) -> tuple[int, ...]:
    """The rows of the tables a load writes, to check that both sides wrote the same."""
    with engine.connect() as c:
        return tuple(
            c.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (sql.records, sql.assignments, sql.events, sql.outbox)
        )


def run(name: str, engine: Engine, records: int) -> dict[str, Any]:
    """Both figures on one database, by hand first, then through `reconcile`."""
    print(f"{name}:", file=sys.stderr)
    first, second = host_facts(TENANTS[0], records), host_facts(TENANTS[1], max(1, records // 10))
    figures: dict[str, Any] = {"records": records, "second": len(second)}
    rows: dict[str, tuple[int, ...]] = {}
    for way in ("by hand", "ours"):
        fresh_store(engine)
        for figure, tenant, facts in (("empty", TENANTS[0], first), ("non-empty", TENANTS[1], second)):
            started = time.perf_counter()
            if way == "ours":
                figures["progress reports"] = load_ours(engine, tenant, facts)
            else:
                load_by_hand(engine, tenant, facts)
            figures[f"{figure} {way}"] = time.perf_counter() - started
            print(f"  {figure}, {way}: {figures[f'{figure} {way}']:.1f} s", file=sys.stderr)
        rows[way] = counted(engine)
    assert rows["ours"] == rows["by hand"], f"the two loads wrote other rows: {rows}"
    figures["rows"] = rows["ours"]
    sql.drop_schema(engine)
    engine.dispose()
    return figures


def report(name: str, f: dict[str, Any]) -> None:
    """Print one database's figures as ratios against the hand-written loads."""
    print(f"Load benchmark on {name} (ratios against the hand-written bulk insert, measured in this run)")
    for figure, count, where in (("empty", f["records"], "an empty store"), ("non-empty", f["second"], "a full one")):
        ours, theirs = f[f"{figure} ours"], f[f"{figure} by hand"]
        print(
            f"  {count:>9,} records into {where:<14} reconcile {ours:8.1f} s   hand-written {theirs:8.1f} s"
            f"   {ours / theirs:.2f}x (target <= 2x)"
        )
    records, holders, events, notices = f["rows"]
    print(
        f"  rows each side wrote: {records:,} records, {holders:,} holders, {events:,} events, {notices} notices; "
        f"progress reported {f['progress reports']} times"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on SQLite, and on PostgreSQL when a URL is known; print the ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="accounts of the first load (1,000,000)")
    parser.add_argument("--postgresql", default=os.environ.get("OWNERSHIP_POSTGRES_URL"), help="a PostgreSQL URL")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = run("SQLite", sql.make_engine(f"sqlite:///{folder}/bench.db"), args.records)
    if args.postgresql:
        url = bench_database(args.postgresql, "ownership_bench_load")
        results["PostgreSQL"] = run("PostgreSQL", sql.make_engine(url), args.records)
    else:
        print("PostgreSQL not measured: pass --postgresql URL or set OWNERSHIP_POSTGRES_URL.")
    for name, figures in results.items():
        report(name, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
