"""The host app of ``examples/host_app.py`` does what it claims, on SQLite and on PostgreSQL.

- Its own list query, joined with the filter `ownership` compiles, returns exactly
  the deals `visible` lists, for an admin, an unrestricted user, restricted users
  and an inactive one (TL4, X6), with the host's own columns, page by page.
- `show_deal` agrees with `can`; a row `ownership` does not track is no one's to see.
- Offboarding moves the leaving user's deals into the successor's list (X3).
- Each notification reaches the host's mailer once, at the address in the host's own table (X7).
"""

import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from ownership import InactiveUserError, Notifier, Ownership, User
from ownership.adapters.sql import where
from postgres import throwaway_database

ROOT = Path(__file__).resolve().parents[2]
APP = runpy.run_path(str(ROOT / "examples" / "host_app.py"))  # its functions, without running its story
Crm = APP["Crm"]
deals, app_users = APP["deals"], APP["app_users"]

DEALS = [  # (title, amount, index of the creator in STAFF)
    ("Complicated lamp", 1_200, 1),
    ("Fleet of vans", 48_000, 2),
    ("Office chairs", 3_500, 1),
    ("Coffee for a year", 900, 2),
    ("Server racks", 21_000, 3),
    ("Standing desks", 7_800, 2),
    ("Printer paper", 150, 1),
    ("Solar roof", 95_000, 3),
    ("Night shift cover", 4_100, 2),
    ("Conference booth", 12_500, 1),
    ("Van insurance", 2_300, 2),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The host app on a new database of its own: a SQLite file, or a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        app = Crm(f"sqlite:///{tmp_path / 'crm.db'}")
        yield app
        app.close()
        return
    with throwaway_database(request.getfixturevalue("postgres_url"), "ownership_host_app") as url:
        app = Crm(url)
        yield app
        app.close()


def staffed(crm: Any) -> dict[str, User]:
    """Acme with an admin, an unrestricted user and two restricted ones, and DEALS made through the host app."""
    crm.own.add_tenant("acme", plan="go")
    staff = [
        crm.add_user("Bea", "bea@acme.example", admin=True),
        crm.add_user("Anna", "anna@acme.example"),
        crm.add_user("Bob", "bob@acme.example", restricted=True),
        crm.add_user("Carl", "carl@acme.example", restricted=True),
    ]
    for title, amount, by in DEALS:
        crm.create_deal(title, amount, by=staff[by])
    return {user.name: user for user in staff}


def visible_ids(own: Ownership, viewer: User) -> list[int]:
    """Every deal id `visible` lists for `viewer`, through all its pages."""
    found, cursor = [], None
    while True:
        page = own.visible(viewer, "deal", limit=3, after=cursor)
        found += [int(record.id) for record in page.records]
        if page.cursor is None:
            return sorted(found)
        cursor = page.cursor


def listed_ids(crm: Any, viewer: User) -> list[int]:
    return [row.id for row in crm.all_my_deals(viewer, page=3)]


def test_x6_host_list_query_returns_exactly_the_deals_visible_lists(crm: Any) -> None:
    staff = staffed(crm)
    crm.own.update_user(staff["Anna"], active=False)  # an inactive user sees nothing at all
    for name, user in staff.items():
        assert listed_ids(crm, user) == visible_ids(crm.own, user), name
    assert listed_ids(crm, staff["Bea"]) == list(range(1, len(DEALS) + 1))  # the admin sees every deal
    assert listed_ids(crm, staff["Anna"]) == []
    bobs = [n for n, (_, _, by) in enumerate(DEALS, start=1) if by == 2]
    assert listed_ids(crm, staff["Bob"]) == bobs  # TL4: restricted, he sees only the deals he is responsible for


def test_tl4_unrestricted_user_lists_every_deal_of_the_tenant(crm: Any) -> None:
    staff = staffed(crm)
    assert listed_ids(crm, staff["Anna"]) == visible_ids(crm.own, staff["Anna"]) == list(range(1, len(DEALS) + 1))


def test_x6_host_list_brings_the_hosts_own_columns_page_by_page(crm: Any) -> None:
    staff = staffed(crm)
    first = crm.my_deals(staff["Bob"], limit=2)
    second = crm.my_deals(staff["Bob"], limit=2, after=first[-1].id)
    assert [(r.title, r.amount) for r in first] == [("Fleet of vans", 48_000), ("Coffee for a year", 900)]
    assert [(r.title, r.amount) for r in second] == [("Standing desks", 7_800), ("Night shift cover", 4_100)]
    rows = list(crm.all_my_deals(staff["Bea"], page=4))
    assert [(r.id, r.title, r.amount) for r in rows] == [(n, t, a) for n, (t, a, _) in enumerate(DEALS, start=1)]


def test_x1_show_deal_agrees_with_can_and_hides_untracked_rows(crm: Any) -> None:
    staff = staffed(crm)
    for user in staff.values():
        for row in crm.all_my_deals(staff["Bea"]):
            shown = crm.show_deal(user, row.id)
            assert (shown is not None) == crm.own.can(user, "view", crm.own.record("deal", str(row.id)))
            assert shown is None or shown.title == row.title
    with crm.engine.begin() as connection:  # a row written, then a crash before ownership heard of it
        lost = connection.execute(insert(deals).values(title="Lost", amount=1)).inserted_primary_key[0]
    assert crm.untracked_deals() == [lost]
    assert crm.show_deal(staff["Bea"], lost) is None
    assert lost not in listed_ids(crm, staff["Bea"])


def test_refused_create_deletes_the_hosts_row_again(crm: Any) -> None:
    staff = staffed(crm)
    crm.own.update_user(staff["Bob"], active=False)
    with pytest.raises(InactiveUserError):
        crm.create_deal("One more", 10, by=staff["Bob"])
    with crm.engine.connect() as connection:
        assert connection.execute(select(deals.c.title).where(deals.c.title == "One more")).all() == []
    assert crm.untracked_deals() == []


def test_x3_offboarding_moves_the_leaving_users_deals_into_the_successors_list(crm: Any) -> None:
    staff = staffed(crm)
    bob, carl = staff["Bob"], staff["Carl"]
    bobs, carls = listed_ids(crm, bob), listed_ids(crm, carl)
    assert crm.offboard(bob, carl, by=staff["Bea"]) == len(bobs)
    assert listed_ids(crm, carl) == sorted(bobs + carls) == visible_ids(crm.own, carl)
    assert listed_ids(crm, bob) == []  # inactive now


def test_x7_notifications_reach_the_hosts_mailer_once(crm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    staff = staffed(crm)
    mailer: Notifier = crm.mailer  # a Notifier by its shape: it inherits nothing of ownership
    assert not any(base.__module__.startswith("ownership") for base in type(mailer).__mro__)
    moved = listed_ids(crm, staff["Bob"])
    crm.offboard(staff["Bob"], staff["Carl"], by=staff["Bea"])
    first = crm.send_notifications()
    again = crm.send_notifications()
    assert len(first.delivered) == len(moved)
    assert not first.failed
    assert again.delivered == again.failed == ()
    sent = crm.mailer.sent
    assert [key for key, _, _ in sent] == list(first.delivered)  # each once
    assert {address for _, address, _ in sent} == {"carl@acme.example"}  # from the host's own users table
    assert sorted(subject for _, _, subject in sent) == sorted(f"assigned: deal {n}" for n in moved)
    assert crm.own.outbox(pending=True) == ()
    assert "mail to carl@acme.example" in capsys.readouterr().out


def test_x6_host_list_finds_its_rows_by_its_own_integer_key(crm: Any) -> None:
    staff = staffed(crm)
    query = select(deals).where(where(crm.own.filter(staff["Bob"], "view", "deal"), kind="deal", id=deals.c.id))
    sql = str(query.compile(crm.engine, compile_kwargs={"literal_binds": True}))
    with crm.engine.connect() as connection:
        if crm.engine.dialect.name == "sqlite":
            plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
            assert "SEARCH deals USING INTEGER PRIMARY KEY (rowid=?)" in plan  # not a scan of every deal
        else:
            connection.exec_driver_sql("SET enable_seqscan = off")  # so a usable index is used, even on 11 rows
            plan = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}")]
            assert any("using deals_pkey on deals" in step for step in plan), "\n".join(plan)
        assert not any("Seq Scan on deals" in step or step.startswith("SCAN deals") for step in plan), plan


def test_user_ids_are_the_hosts_own(crm: Any) -> None:
    staff = staffed(crm)
    with crm.engine.connect() as connection:
        rows = connection.execute(select(app_users.c.id, app_users.c.name)).all()
    assert sorted((str(id), name) for id, name in rows) == sorted((u.id, u.name) for u in staff.values())


def test_the_story_runs_on_a_named_file_and_refuses_an_existing_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kept.db"
    APP["main"](["--db", str(path)])
    out = capsys.readouterr().out
    assert "Bob's deals (restricted): [(2, 'Fleet of vans', 48000), (4, 'Coffee for a year', 900)]" in out
    assert "Carl opens deal 2: refused" in out
    assert "Carl's deals now: ['Fleet of vans', 'Coffee for a year', 'Server racks']" in out
    assert "delivered: 2 then: 0" in out
    assert path.exists()
    with pytest.raises(SystemExit):
        APP["main"](["--db", str(path)])
