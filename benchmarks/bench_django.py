"""Django benchmark: a queryset filtered by `ownership` against the same list by a hand-written ``Q`` (issue 18).

World, as in the SQL benchmark (`bench_sql`): 10,000 users (1 % admins), 1,000
caretaker groups (3 per user), 100,000 records of kind ``account``, each with one
``owner`` and one caretaker group, in `ownership`'s tables. Beside them, in the
same database, the host's own Django models hold the same facts in the host's
own columns, as a CRM keeps them without `ownership`: ``Deal(id, title, owner,
department)``, keyed by integers (Django's default, the record ids are the
numbers), and ``Membership(user, department)``.

The viewer ``u1`` (no admin; some 330 deals are theirs or their departments')
asks for their first page of 100 deals, in id order, each request timed whole:

- ours: ``visible_to(Deal.objects.all(), user).order_by("id")[:100]``, with
  `bind` on an `Ownership` over a `SqlRepository` on the same database, and,
  as a second line, over a `DjangoRepository` (no generation to cache the
  viewer by, so each request resolves them again);
- baseline: ``Deal.objects.filter(Q(owner=user) | Q(department__in=Membership
  .objects.filter(user=user).values("department"))).order_by("id")[:100]``,
  one query over the host's own columns, as a Django host writes it by hand;
  and, as a line of its own, the same as the ``union`` of the two querysets,
  which a database may plan as two index look-ups where it scans for the OR.

Target: ``visible_to`` <= 1.5x the hand-written ``Q``, on SQLite and
PostgreSQL, measured in turns in the same run (the machine is shared:
absolute times drift, ratios do not).

Run it with ``nox -s bench``, or ``python benchmarks/bench_django.py
[--postgresql URL] [--json PATH]``.
"""

import argparse
import json
import os
import random
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import django
from bench_sql import AT, TENANT, _chunks, _user_row, analyze, bench_database, best_of, rulebook
from django.conf import settings
from sqlalchemy import Engine, column, delete, insert, table
from sqlalchemy.engine import make_url

from ownership import Ownership
from ownership.adapters import sql
from ownership.testing import FakeClock

RECORDS = 100_000
USERS = 10_000
GROUPS = 1_000
VIEWER = "u1"
PAGE = 100
REQUESTS = 20


def configure(sqlite_file: str, postgresql: str | None) -> None:
    """Django's settings for the benchmark: a SQLite file, and a PostgreSQL database when there is one."""
    databases: dict[str, Any] = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_file}}
    if postgresql:
        url = make_url(postgresql)
        databases["postgresql"] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": url.database,
            "USER": url.username or "",
            "PASSWORD": url.password or "",
            "HOST": url.host or "",
            "PORT": str(url.port or ""),
        }
    settings.configure(
        DATABASES=databases,
        INSTALLED_APPS=["ownership.contrib.django", "bench_django_crm"],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def build(alias: str, engine: Engine) -> None:
    """Fill `ownership`'s tables and the host's with the same world (setup, not measured)."""
    from bench_django_crm.models import Deal, Membership  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415  # once Django is set up

    sql.drop_schema(engine)
    call_command("migrate", "ownership", "zero", database=alias, verbosity=0)
    call_command("migrate", database=alias, run_syncdb=True, verbosity=0)
    deals = table(Deal._meta.db_table, column("id"), column("title"), column("owner"), column("department"))
    members = table(Membership._meta.db_table, column("user"), column("department"))
    rng = random.Random(7)
    groups_of = {f"u{u}": [f"g{g}" for g in rng.sample(range(GROUPS), 3)] for u in range(USERS)}
    holders = [(f"u{rng.randrange(USERS)}", f"g{rng.randrange(GROUPS)}") for _ in range(RECORDS)]
    with engine.begin() as c:
        c.execute(delete(deals))
        c.execute(delete(members))
        c.execute(insert(sql.tenants), [{"id": TENANT, "name": "Bench", "plan": None, "switches": []}])
        c.execute(
            insert(sql.groups),
            [
                {"id": f"g{g}", "tenant": TENANT, "name": f"G{g}", "kind": "caretaker", "personal_of": None}
                for g in range(GROUPS)
            ],
        )
        c.execute(insert(sql.users), [_user_row(f"u{u}", admin=u % 100 == 0) for u in range(USERS)])
        c.execute(
            insert(sql.memberships),
            [{"group_id": g, "user_id": u, "until": None} for u, gs in groups_of.items() for g in gs],
        )
        c.execute(insert(members), [{"user": u, "department": g} for u, gs in groups_of.items() for g in gs])
        numbered = list(enumerate(holders, start=1))
        for chunk in _chunks(
            {"kind": "account", "id": str(n), "tenant": TENANT, "created_at": AT, "shared_with": [], "offered_to": []}
            for n, _ in numbered
        ):
            c.execute(insert(sql.records), chunk)
        for chunk in _chunks(
            {"kind": "account", "record_id": str(n), "tenant": TENANT, "since": AT, "actor": None, **held}
            for n, (owner, group) in numbered
            for held in (
                {"role": "owner", "assignee_kind": "user", "assignee_id": owner},
                {"role": "caretaker_group", "assignee_kind": "group", "assignee_id": group},
            )
        ):
            c.execute(insert(sql.assignments), chunk)
        for chunk in _chunks(
            {"id": n, "title": f"Deal {n}", "owner": owner, "department": group} for n, (owner, group) in numbered
        ):
            c.execute(insert(deals), chunk)
    analyze(engine)


def measure(alias: str, engine: Engine) -> dict[str, float]:
    """The viewer's first page through `visible_to` (two repositories) and through the hand-written ``Q``, in turns."""
    from bench_django_crm.models import Deal, Membership  # noqa: PLC0415
    from django.db.models import Q  # noqa: PLC0415

    from ownership.contrib.django import DjangoRepository, bind, visible_to  # noqa: PLC0415

    class Viewer:
        """The host's user, as Django's auth gives it: authenticated, named by their id."""

        is_authenticated = True

        def get_username(self) -> str:
            return VIEWER

    viewer = Viewer()
    deals = Deal.objects.using(alias)
    stored = Ownership(rulebook(), sql.SqlRepository(engine), clock=FakeClock())
    joined = Ownership(rulebook(), DjangoRepository(alias), clock=FakeClock())

    def ours(own: Ownership) -> list[int]:
        bind(own, kinds={Deal: "account"})
        return [d.id for d in visible_to(deals.all(), viewer).order_by("id")[:PAGE]]

    def by_hand() -> list[int]:
        departments = Membership.objects.using(alias).filter(user=VIEWER).values("department")
        return [d.id for d in deals.filter(Q(owner=VIEWER) | Q(department__in=departments)).order_by("id")[:PAGE]]

    def by_hand_union() -> list[int]:
        departments = Membership.objects.using(alias).filter(user=VIEWER).values("department")
        mine, theirs = deals.filter(owner=VIEWER), deals.filter(department__in=departments)
        return [d.id for d in mine.union(theirs).order_by("id")[:PAGE]]

    expected = by_hand()
    assert len(expected) == PAGE, "the viewer's first page is full"
    assert by_hand_union() == expected, "the two hand-written forms list one page"
    assert ours(stored) == expected, "visible_to lists another page than the hand-written Q"
    assert ours(joined) == expected, "so does it over DjangoRepository"
    stored_s, joined_s, theirs_s, union_s = best_of(
        lambda: [ours(stored) for _ in range(REQUESTS)],
        lambda: [ours(joined) for _ in range(REQUESTS)],
        lambda: [by_hand() for _ in range(REQUESTS)],
        lambda: [by_hand_union() for _ in range(REQUESTS)],
    )
    return {
        "sql": stored_s / REQUESTS,
        "django": joined_s / REQUESTS,
        "baseline": theirs_s / REQUESTS,
        "union": union_s / REQUESTS,
    }


def report(name: str, f: dict[str, float]) -> None:
    """One database's lines: ours against the hand-written Q, and against the same as a UNION of two querysets."""
    print(f"Django benchmark on {name} (ratios against hand-written querysets, measured in this run, in turns)")
    for label, key, baseline, target in (
        ("visible_to, on SqlRepository", "sql", "baseline", "<= 1.5x"),
        ("visible_to, on DjangoRepository", "django", "baseline", ""),
        ("visible_to, on SqlRepository", "sql", "union", ""),
    ):
        shown = "Q(owner) | Q(department__in)" if baseline == "baseline" else "owner .union(department__in)"
        ratio = f[key] / f[baseline]
        print(f"  {label:32} | {f[key] * 1e3:7.3f} ms | {shown} {f[baseline] * 1e3:7.3f} ms | {ratio:5.2f}x | {target}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on a SQLite file, and on PostgreSQL when a URL is known; print the ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgresql", default=os.environ.get("OWNERSHIP_POSTGRES_URL"), help="a PostgreSQL URL")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        sqlite_file = f"{folder}/bench.db"
        url = bench_database(args.postgresql, "ownership_bench_django") if args.postgresql else None
        configure(sqlite_file, url)
        for name, alias, engine_url in (
            ("SQLite", "default", f"sqlite:///{sqlite_file}"),
            ("PostgreSQL", "postgresql", url),
        ):
            if engine_url is None:
                continue
            engine = sql.make_engine(engine_url)
            build(alias, engine)
            results[name] = measure(alias, engine)
            engine.dispose()
    for name, figures in results.items():
        report(name, figures)
    if "PostgreSQL" not in results:
        print("PostgreSQL not measured: pass --postgresql URL or set OWNERSHIP_POSTGRES_URL.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
