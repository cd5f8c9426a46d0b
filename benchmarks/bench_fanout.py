"""Fan-out benchmark: an activity on a contact held by *everyone* tells 10,000 employees (CT2, CT3).

World: one tenant of 10,000 active employees (every tenth allows push) and
100 inactive ones, and one contact whose ``assignee`` is *everyone*. Measured:
`record_activity` on it by one employee, which writes 9,999 notifications to
the outbox in one unit of work, on the memory repository, a SQLite file and
PostgreSQL. Against the baseline a host would write on its own data in the
same run, in turns: read the tenant's active employees, and insert one row per
employee but the actor into its own notifications table, with one hand-written
bulk insert (a list of rows for the memory figure). The figures are ratios
(the machine is shared, so absolute times drift; ratios do not).

Run it with ``nox -s bench``, or ``python benchmarks/bench_fanout.py
[--postgresql URL]``; PostgreSQL is measured when a URL is given or
``OWNERSHIP_POSTGRES_URL`` is set.
"""

import argparse
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from bench_sql import bench_database, best_of
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, insert, text

from ownership import EVERYONE, Ownership, Policy, Profile, Role, Rulebook
from ownership.adapters import sql
from ownership.adapters.memory import MemoryRepository
from ownership.testing import FakeClock

TENANT = "bench"
EMPLOYEES = 10_000
INACTIVE = 100
ACTOR = "u00000"
AT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
REPEAT = 7

RULEBOOK = Rulebook((Policy("contact", (Role("assignee", max=None, everyone=True, notified=True),)),))

HOST = MetaData()
host_notifications = Table(
    "host_notifications",
    HOST,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient", String(64), nullable=False),
    Column("record", String(64), nullable=False),
    Column("activity", String(64), nullable=False),
    Column("actor", String(64)),
    Column("at", String(40), nullable=False),
    Column("channel", String(16), nullable=False),
)


def _user(n: int) -> str:
    return f"u{n:05d}"


def _push(n: int) -> bool:
    return n % 10 == 0


# --- memory --------------------------------------------------------------------------------------


def measure_memory() -> dict[str, float]:
    """`record_activity` on the memory repository against a host's loop filling a list from its list of users."""
    own = Ownership(RULEBOOK, MemoryRepository(), clock=FakeClock(AT))
    own.add_tenant(TENANT)
    for n in range(EMPLOYEES + INACTIVE):
        own.add_user(TENANT, _user(n), id=_user(n), profile=Profile(push=_push(n)), active=n < EMPLOYEES)
    contact = own.create("contact", actor=None, tenant=TENANT, id="P-1", holders={"assignee": EVERYONE})
    people = [{"id": _user(n), "active": n < EMPLOYEES, "push": _push(n)} for n in range(EMPLOYEES + INACTIVE)]
    told: list[int] = []

    def ours() -> None:
        told.append(len(own.record_activity(contact, "note_added", actor=ACTOR)))

    def theirs() -> None:
        at = datetime.now(timezone.utc).isoformat()
        inbox = []
        for person in people:
            if person["active"] and person["id"] != ACTOR:
                inbox.append(
                    {
                        "recipient": person["id"],
                        "record": "P-1",
                        "activity": "note_added",
                        "actor": ACTOR,
                        "at": at,
                        "channel": "push" if person["push"] else "in_app",
                    }
                )

    ours_s, theirs_s = best_of(ours, theirs, repeat=REPEAT)
    assert set(told) == {EMPLOYEES - 1}, told
    return {"ours": ours_s, "theirs": theirs_s}


# --- SQL -----------------------------------------------------------------------------------------


def load(engine: Engine) -> None:
    """The tenant, its employees and the contact held by everyone, inserted in bulk (setup, not measured)."""
    sql.drop_schema(engine)
    sql.create_schema(engine)
    HOST.drop_all(engine)
    HOST.create_all(engine)
    with engine.begin() as c:
        c.execute(insert(sql.tenants), [{"id": TENANT, "name": "Bench", "plan": None, "switches": []}])
        c.execute(
            insert(sql.users),
            [
                {
                    "id": _user(n),
                    "tenant": TENANT,
                    "name": _user(n),
                    "active": n < EMPLOYEES,
                    "admin": False,
                    "restricted": [],
                    "push": _push(n),
                }
                for n in range(EMPLOYEES + INACTIVE)
            ],
        )
    own = Ownership(RULEBOOK, sql.SqlRepository(engine), clock=FakeClock(AT))
    own.create("contact", actor=None, tenant=TENANT, id="P-1", holders={"assignee": EVERYONE})
    with engine.begin() as c:
        c.exec_driver_sql("ANALYZE")


ACTIVE = text("SELECT id, push FROM ownership_users WHERE tenant = :tenant AND active ORDER BY id")


def measure_sql(engine: Engine) -> dict[str, float]:
    """`record_activity` on the SQL repository against a host's read of its employees and one bulk insert."""
    load(engine)
    own = Ownership(RULEBOOK, sql.SqlRepository(engine))
    contact = own.record("contact", "P-1")
    told: list[int] = []

    def ours() -> None:
        told.append(len(own.record_activity(contact, "note_added", actor=ACTOR)))

    def theirs() -> None:
        at = datetime.now(timezone.utc).isoformat()
        with engine.begin() as c:
            rows: list[dict[str, Any]] = []
            for person in c.execute(ACTIVE, {"tenant": TENANT}):
                if person.id != ACTOR:
                    rows.append(
                        {
                            "recipient": person.id,
                            "record": "P-1",
                            "activity": "note_added",
                            "actor": ACTOR,
                            "at": at,
                            "channel": "push" if person.push else "in_app",
                        }
                    )
            c.execute(insert(host_notifications), rows)

    ours_s, theirs_s = best_of(ours, theirs, repeat=REPEAT)
    assert set(told) == {EMPLOYEES - 1}, told
    with engine.connect() as c:
        written = c.execute(text("SELECT count(*) FROM ownership_outbox")).scalar_one()
    assert written == EMPLOYEES + REPEAT * (EMPLOYEES - 1), written  # the assignment told everyone too
    return {"ours": ours_s, "theirs": theirs_s}


def report(name: str, f: dict[str, float]) -> None:
    """Print one store's figures: the time, the rate and the ratio to the host's own loop."""
    told = EMPLOYEES - 1
    print(
        f"{name}: record_activity telling {told:,} employees {f['ours'] * 1e3:.0f} ms "
        f"({told / f['ours']:,.0f} notifications/s); the host's own loop {f['theirs'] * 1e3:.0f} ms; "
        f"ratio {f['ours'] / f['theirs']:.1f}x"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure on memory, a SQLite file, and PostgreSQL when a URL is known; print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", default=os.environ.get("OWNERSHIP_POSTGRES_URL"), help="a PostgreSQL URL")
    args = parser.parse_args(argv)
    report("memory", measure_memory())
    with tempfile.TemporaryDirectory() as folder:
        engine = sql.make_engine(f"sqlite:///{folder}/fanout.db")
        report("SQLite", measure_sql(engine))
        engine.dispose()
    if args.postgresql:
        engine = sql.make_engine(bench_database(args.postgresql, "ownership_bench_fanout"))
        report("PostgreSQL", measure_sql(engine))
        engine.dispose()
    else:
        print("PostgreSQL not measured: pass --postgresql URL or set OWNERSHIP_POSTGRES_URL.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
