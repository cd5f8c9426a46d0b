"""Team benchmark: a manager's list of what their team holds against the host's hand-folded query (issue 19).

World: 10,000 users, 100,000 deals each with one owner drawn at random. The
manager ``m`` has 1,000 people below them: 10 report to them, and 990 to
those 10. `ownership` keeps who reports to whom (`User.manager`) and the
owners (its own tables); the host keeps the same facts in its own columns, as
a CRM does without `ownership`: ``host_users(id, manager)`` and
``host_deals(id, title, owner)``, each indexed on what is looked up.

The manager asks for the first page of 100 deals their team owns, in id order:

- ours: ``visible_ids("m", "deal", limit=100)`` under the rule
  ``is_admin | holds("owner") | held_within_team("owner")``, on a warm
  `Ownership` (the viewer resolved once, kept until the directory changes);
  and ``visible`` (the page with its holders);
- baseline: one query over the host's own tables, the team folded by hand
  with a recursive CTE: ``WITH RECURSIVE team AS (...) SELECT id, title,
  owner FROM host_deals WHERE owner IN (SELECT id FROM team) ORDER BY id
  LIMIT 100``.

Also shown, without a target: the same list on a cold `Ownership` (a new
one each call, so the team is worked out again from the users each time).

Target: ``visible_ids`` <= 1.5x the hand-folded query, on SQLite and
PostgreSQL, measured in turns in the same run. Run it with ``nox -s bench``,
or ``python benchmarks/bench_team.py [--postgresql URL] [--json PATH]``.
"""

import argparse
import json
import os
import random
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench_sql import AT, TENANT, _chunks, analyze, bench_database, best_of
from sqlalchemy import Engine, insert, text

from ownership import Access, Ownership, Policy, Role, Rulebook
from ownership.access import held_within_team, holds, is_admin
from ownership.adapters import sql
from ownership.testing import FakeClock

USERS = 10_000
DEALS = 100_000
DIRECT = 10
TEAM = 1_000
MANAGER = "m"
PAGE = 100
REQUESTS = 20

RULES = Rulebook(
    (
        Policy(
            "deal",
            (Role("owner", grants_access=True),),
            access=Access(view=is_admin | holds("owner") | held_within_team("owner")),
        ),
    )
)

HAND_FOLDED = text(
    """
    WITH RECURSIVE team(id) AS (
        SELECT id FROM host_users WHERE manager = :manager
        UNION
        SELECT u.id FROM host_users u JOIN team t ON u.manager = t.id
    )
    SELECT d.id, d.title, d.owner FROM host_deals d
    WHERE d.owner IN (SELECT id FROM team)
    ORDER BY d.id LIMIT :page
    """
)


def manager_of(n: int) -> str | None:
    """Whom user ``u<n>`` reports to: the manager for the first 10, one of them for the next 990, no one after."""
    if n < DIRECT:
        return MANAGER
    if n < TEAM:
        return f"u{n % DIRECT}"
    return None


def load(engine: Engine, seed: int = 7) -> None:
    """Both sides' tables, loaded in bulk (setup, not measured)."""
    sql.drop_schema(engine)
    with engine.begin() as c:
        c.exec_driver_sql("DROP TABLE IF EXISTS host_deals")
        c.exec_driver_sql("DROP TABLE IF EXISTS host_users")
    sql.create_schema(engine)
    rng = random.Random(seed)
    owners = [f"u{rng.randrange(USERS)}" for _ in range(DEALS)]
    people = [(MANAGER, None), *((f"u{n}", manager_of(n)) for n in range(USERS))]
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE host_users (id VARCHAR PRIMARY KEY, manager VARCHAR)")
        c.exec_driver_sql("CREATE INDEX host_users_by_manager ON host_users (manager)")
        c.exec_driver_sql("CREATE TABLE host_deals (id VARCHAR PRIMARY KEY, title VARCHAR, owner VARCHAR)")
        c.exec_driver_sql("CREATE INDEX host_deals_by_owner ON host_deals (owner, id)")
        c.execute(
            text("INSERT INTO host_users (id, manager) VALUES (:id, :manager)"),
            [{"id": id, "manager": boss} for id, boss in people],
        )
        for chunk in _chunks({"id": f"d{n:07d}", "title": f"Deal {n}", "owner": o} for n, o in enumerate(owners)):
            c.execute(text("INSERT INTO host_deals (id, title, owner) VALUES (:id, :title, :owner)"), chunk)
        c.execute(insert(sql.tenants), [{"id": TENANT, "name": "Bench", "plan": None, "switches": []}])
        c.execute(
            insert(sql.users),
            [
                {
                    "id": id,
                    "tenant": TENANT,
                    "name": id,
                    "active": True,
                    "admin": False,
                    "restricted": [],
                    "push": False,
                    "manager": boss,
                    "traits": [],
                }
                for id, boss in people
            ],
        )

        def records() -> Iterator[dict[str, Any]]:
            for n in range(DEALS):
                yield {
                    "kind": "deal",
                    "id": f"d{n:07d}",
                    "tenant": TENANT,
                    "created_at": AT,
                    "shared_with": [],
                    "offered_to": [],
                }

        def holdings() -> Iterator[dict[str, Any]]:
            for n, owner in enumerate(owners):
                yield {
                    "kind": "deal",
                    "record_id": f"d{n:07d}",
                    "tenant": TENANT,
                    "since": AT,
                    "actor": None,
                    "role": "owner",
                    "assignee_kind": "user",
                    "assignee_id": owner,
                }

        for chunk in _chunks(records()):
            c.execute(insert(sql.records), chunk)
        for chunk in _chunks(holdings()):
            c.execute(insert(sql.assignments), chunk)
    analyze(engine)


def run(name: str, engine: Engine) -> dict[str, float]:
    """Load the world, check both sides list the same page, then time them in turns."""
    print(f"{name}: loading {USERS:,} users and {DEALS:,} deals ...", file=sys.stderr)
    load(engine)
    repository = sql.SqlRepository(engine)
    own = Ownership(RULES, repository, clock=FakeClock())

    def hand() -> list[Any]:
        with engine.connect() as c:
            return list(c.execute(HAND_FOLDED, {"manager": MANAGER, "page": PAGE}))

    def ours_ids() -> list[str]:
        return list(own.visible_ids(MANAGER, "deal", limit=PAGE).ids)

    def ours_page() -> list[str]:
        return [r.id for r in own.visible(MANAGER, "deal", limit=PAGE).records]

    def cold() -> list[str]:
        return list(Ownership(RULES, repository, clock=FakeClock()).visible_ids(MANAGER, "deal", limit=PAGE).ids)

    expected = [row.id for row in hand()]
    assert len(expected) == PAGE, "the team holds more than a page"
    assert ours_ids() == expected == ours_page() == cold(), "the sides list one page"
    assert len(own.explain(MANAGER, "view", own.record("deal", expected[0])).matched) >= 1
    hand_s, ids_s, page_s, cold_s = best_of(
        lambda: [hand() for _ in range(REQUESTS)],
        lambda: [ours_ids() for _ in range(REQUESTS)],
        lambda: [ours_page() for _ in range(REQUESTS)],
        lambda: [cold() for _ in range(REQUESTS)],
    )
    repository.close()
    engine.dispose()
    return {
        "hand_ms": hand_s / REQUESTS * 1e3,
        "ids_ms": ids_s / REQUESTS * 1e3,
        "page_ms": page_s / REQUESTS * 1e3,
        "cold_ms": cold_s / REQUESTS * 1e3,
    }


def report(name: str, f: dict[str, float]) -> None:
    """Print one database's figures as ratios against the hand-folded query."""
    print(
        f"Team benchmark on {name}: the manager of {TEAM:,} people, first page of {PAGE} (ratios, same run, in turns)"
    )
    for label, key, target in (
        ("visible_ids, warm", "ids_ms", "<= 1.5x"),
        ("visible (with holders), warm", "page_ms", ""),
        ("visible_ids, cold Ownership", "cold_ms", ""),
    ):
        print(
            f"  {label:<30} | {f[key]:8.3f} ms | hand-folded recursive query {f['hand_ms']:8.3f} ms"
            f" | {f[key] / f['hand_ms']:5.2f}x | {target}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run on SQLite, and on PostgreSQL when a URL is known; print the ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgresql", default=os.environ.get("OWNERSHIP_POSTGRES_URL"), help="a PostgreSQL URL")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = run("SQLite", sql.make_engine(f"sqlite:///{folder}/team.db"))
    if args.postgresql:
        results["PostgreSQL"] = run("PostgreSQL", sql.make_engine(bench_database(args.postgresql)))
    else:
        print("PostgreSQL not measured: pass --postgresql URL or set OWNERSHIP_POSTGRES_URL.")
    for name, figures in results.items():
        report(name, figures)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
