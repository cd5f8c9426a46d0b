"""Bulk benchmark: reassigning a selection and allocating numbers, against hand-written SQL, on SQLite and PostgreSQL.

- `reassign` of a segment's 100,000 records (those labelled ``north``, out of
  150,000) to a new owner, in one transaction: the selection, the holders, two
  history events and one notification a record. Against hand-written SQL doing
  the same rows: the selection with its holders, one UPDATE of the holdings, the
  same events and notices in bulk.
- `next_number` called 10,000 times, each in its own transaction, some numbers
  taken by hand on the way. Against hand-written SQL: the same reads (the
  tenant, the range, whether the number is taken) and the range's update.

Both sides run in turns on the same database in the same run; the figures are
ratios (the machine is shared, so absolute times drift). Run it with
``nox -s bench`` or ``python benchmarks/bench_bulk.py [--postgresql URL]``.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from bench_sql import (
    AT,
    TENANT,
    _chunks,
    _events,
    _notice,
    _user_row,
    analyze,
    bench_database,
    insert_owners,
    rulebook,
)
from sqlalchemy import Engine, bindparam, insert, text

from ownership import Assignee, NumberRange, Ownership, Segment, labelled
from ownership.adapters import sql
from ownership.serde import unstructure
from ownership.testing import FakeClock

SELECTED = 100_000
RECORDS = 150_000
NUMBERS = 10_000
TAKEN_EVERY = 500  # a number taken by hand every so often, which both sides skip


def load(engine: Engine) -> None:
    """A tenant with an admin and three owners, 150,000 accounts held by ``leaver``; 100,000 labelled north."""
    sql.drop_schema(engine)
    sql.create_schema(engine)
    with engine.begin() as c:
        c.execute(insert(sql.tenants), [{"id": TENANT, "name": "Bench", "plan": None, "switches": []}])
        c.execute(
            insert(sql.users), [_user_row("ada", admin=True), *(_user_row(u) for u in ("leaver", "heir", "other"))]
        )
        ids = [f"r{r:07d}" for r in range(RECORDS)]
        north = {i for n, i in enumerate(ids) if n % 3 != 2}  # two of every three
        for chunk in _chunks(
            {
                "kind": "account",
                "id": i,
                "tenant": TENANT,
                "created_at": AT,
                "shared_with": [],
                "offered_to": [],
                "labels": ["north"] if i in north else [],
                "groups": [],
            }
            for i in ids
        ):
            c.execute(insert(sql.records), chunk)
        for chunk in _chunks({"kind": "account", "record_id": i, "label": "north"} for i in sorted(north)):
            c.execute(insert(sql.labels), chunk)
        insert_owners(c, ids, "leaver")
    analyze(engine)


class HandWrittenReassign:
    """A selection's owner handed to someone else as a host would write it: the same rows, in bulk."""

    SELECTION = text(
        "SELECT r.id, a.assignee_id FROM ownership_records r "
        "JOIN ownership_labels l ON l.kind = r.kind AND l.record_id = r.id AND l.label = 'north' "
        "LEFT JOIN ownership_assignments a ON a.kind = r.kind AND a.record_id = r.id AND a.role = 'owner' "
        "AND a.tenant = :tenant WHERE r.kind = 'account' AND r.tenant = :tenant ORDER BY r.id"
    )
    MOVE = text(
        "UPDATE ownership_assignments SET assignee_id = :new, since = :now, actor = :actor "
        "WHERE kind = 'account' AND role = 'owner' AND tenant = :tenant AND record_id IN "
        "(SELECT record_id FROM ownership_labels WHERE kind = 'account' AND label = 'north')"
    )
    POSITIONS = text(
        "SELECT record_id, max(position) FROM ownership_events WHERE kind = 'account' AND record_id IN :ids "
        "GROUP BY record_id"
    ).bindparams(bindparam("ids", expanding=True))

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, new: str, actor: str) -> int:
        """Make `new` the owner of every north account, as `actor`; return how many changed."""
        now = datetime.now(timezone.utc)
        with self.engine.begin() as c:
            rows = c.execute(self.SELECTION, {"tenant": TENANT}).all()
            last: dict[str, int] = {}
            for start in range(0, len(rows), 500):
                ids = [row.id for row in rows[start : start + 500]]
                last.update(dict(c.execute(self.POSITIONS, {"ids": ids}).all()))  # type: ignore[arg-type]
            c.execute(self.MOVE, {"new": new, "now": now, "actor": actor, "tenant": TENANT})
            events, notices = [], []
            for row in rows:
                position = last.get(row.id, -1) + 1
                events += _events(row.id, position, row.assignee_id, new, actor, now)
                notices.append(_notice(row.id, position + 1, new, actor, now))
            for chunk in _chunks(iter(events)):
                c.execute(insert(sql.events), chunk)
            for chunk in _chunks(iter(notices)):
                c.execute(insert(sql.outbox), chunk)
        return len(rows)


def measure_reassign(engine: Engine) -> dict[str, float]:
    """Time handing the north accounts' owner role over, in turns: through `reassign`, then by hand."""
    load(engine)
    own = Ownership(rulebook(), sql.SqlRepository(engine), clock=FakeClock())
    manual = HandWrittenReassign(engine)
    north = Segment("account", labelled("north"))
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(2):
        analyze(engine)
        start = time.perf_counter()
        moved = own.reassign(north, "owner", Assignee.user("heir"), actor="ada")
        ours.append(time.perf_counter() - start)
        assert moved == SELECTED, moved
        analyze(engine)
        start = time.perf_counter()
        moved = manual("other", "ada")
        theirs.append(time.perf_counter() - start)
        assert moved == SELECTED, moved
    return {"reassign": min(ours), "hand-written reassign": min(theirs)}


class HandWrittenNumbers:
    """`next_number` as a host would write it: the same reads and the range's update, one transaction a call."""

    TENANT_ROW = text("SELECT id FROM ownership_tenants WHERE id = :tenant")
    RANGE = text("SELECT value FROM ownership_settings WHERE tenant = :tenant AND key = :key")
    TAKEN = text("SELECT 1 FROM ownership_records WHERE tenant = :tenant AND kind = 'account' AND number = :number")
    MOVE_ON = text("UPDATE ownership_settings SET value = :value WHERE tenant = :tenant AND key = :key")

    def __init__(self, engine: Engine, key: str) -> None:
        self.engine = engine
        self.key = key
        if engine.dialect.name == "postgresql":
            self.RANGE = text(f"{self.RANGE.text} FOR UPDATE")

    def __call__(self) -> str:
        """Hand out the next free number."""
        with self.engine.begin() as c:
            c.execute(self.TENANT_ROW, {"tenant": TENANT}).one()
            numbers = json.loads(c.execute(self.RANGE, {"tenant": TENANT, "key": self.key}).scalar_one())
            value = numbers["next"]
            while True:
                number = f"{numbers['prefix']}{value:0{numbers['width']}d}"
                if c.execute(self.TAKEN, {"tenant": TENANT, "number": number}).first() is None:
                    break
                value += 1
            numbers["next"] = value + 1
            c.execute(self.MOVE_ON, {"tenant": TENANT, "key": self.key, "value": json.dumps(numbers)})
            return number


def measure_numbers(engine: Engine) -> dict[str, float]:
    """Time `NUMBERS` allocations through `next_number` and by hand, in turns of 1,000, each on its own range."""
    own = Ownership(rulebook(), sql.SqlRepository(engine), clock=FakeClock())
    own.set_number_range(TENANT, "account", prefix="A-", width=6, next=1)
    theirs_key = "numbers/theirs"
    with engine.begin() as c:
        range_row = unstructure(NumberRange("B-", 6, 1))
        c.execute(insert(sql.settings), [{"tenant": TENANT, "key": theirs_key, "value": json.dumps(range_row)}])
        # Numbers taken by hand, on both ranges alike, which both skip.
        for n, record in enumerate(range(0, NUMBERS * 2, TAKEN_EVERY)):
            for prefix in ("A-", "B-"):
                c.execute(
                    sql.records.update()
                    .where(sql.records.c.kind == "account", sql.records.c.id == f"r{record + (prefix == 'B-'):07d}")
                    .values(number=f"{prefix}{n * TAKEN_EVERY + 7:06d}")
                )
    manual = HandWrittenNumbers(engine, theirs_key)
    ours_numbers: list[str] = []
    theirs_numbers: list[str] = []
    ours = theirs = 0.0
    for _ in range(NUMBERS // 1_000):
        start = time.perf_counter()
        ours_numbers += [own.next_number(TENANT, "account") for _ in range(1_000)]
        ours += time.perf_counter() - start
        start = time.perf_counter()
        theirs_numbers += [manual() for _ in range(1_000)]
        theirs += time.perf_counter() - start
    assert len(set(ours_numbers)) == NUMBERS
    assert [n[2:] for n in ours_numbers] == [n[2:] for n in theirs_numbers]
    return {"next_number": ours / NUMBERS, "hand-written next_number": theirs / NUMBERS}


def run(name: str, engine_for: Callable[[], Engine]) -> dict[str, Any]:
    """Both figures on one database."""
    print(f"{name}:", file=sys.stderr)
    engine = engine_for()
    started = time.perf_counter()
    figures = {"reassign": measure_reassign(engine)}
    print(f"  measured reassign in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    started = time.perf_counter()
    figures["numbers"] = measure_numbers(engine)
    print(f"  measured numbers in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    sql.drop_schema(engine)
    engine.dispose()
    return figures


def report(name: str, f: dict[str, Any]) -> None:
    """Print one database's figures as ratios against their baselines."""
    r, n = f["reassign"], f["numbers"]
    print(f"Bulk benchmark on {name} (ratios measured in this run)")
    print(
        f"  reassign 100,000        {r['reassign']:9.2f} s    hand-written {r['hand-written reassign']:.2f} s"
        f"    {r['reassign'] / r['hand-written reassign']:.2f}x (target <= 3x)"
    )
    ms = 1000
    print(
        f"  next_number             {n['next_number'] * ms:9.3f} ms   hand-written "
        f"{n['hand-written next_number'] * ms:.3f} ms   "
        f"{n['next_number'] / n['hand-written next_number']:.2f}x (target <= 3x; 10,000 numbers each)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on SQLite, and on PostgreSQL when a URL is known; print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", default=os.environ.get("OWNERSHIP_POSTGRES_URL"), help="a PostgreSQL URL")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = run("SQLite", lambda: sql.make_engine(f"sqlite:///{folder}/bench.db"))
    if args.postgresql:
        url = bench_database(args.postgresql)
        results["PostgreSQL"] = run("PostgreSQL", lambda: sql.make_engine(url))
    else:
        print("PostgreSQL not measured: pass --postgresql URL or set OWNERSHIP_POSTGRES_URL.")
    for name, figures in results.items():
        report(name, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
