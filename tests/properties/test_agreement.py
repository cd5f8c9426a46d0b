"""The law that matters most: checking one record and listing many never disagree (X1, X6).

Over generated worlds (users, admins, restricted profiles, groups of every
kind, memberships that expire, records, holders, shared leads) and every
preset's rules, for every user, kind and action:

    {r : can(user, action, r)} == set(visible(user, kind, action))
                                == {r : checker(r, its assignments)}
                                == {r : explain(user, action, r).allowed}
    {u : can(u, action, r)}     == {p.user : p in who_can(action, r)}

and a follower of a record who is active and may view it is told of its activities.

It holds on a repository that offers a generation (where `can` runs the
compiled rule) and on one that does not (where `can` runs the predicate), and
on the SQL repositories, SQLite and PostgreSQL, where `visible` runs the rule
compiled to SQL.
"""

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import UnversionedRepository
from ownership import ACTIONS, IdPage, Ownership, OwnershipError, Page, Record, Rulebook, User
from ownership.adapters.memory import MemoryRepository
from ownership.ports import Repository
from worlds import RULEBOOKS, worlds

pytest_plugins = ("sql_repositories",)

REPOSITORIES: dict[str, Callable[[], Repository]] = {
    "versioned": MemoryRepository,
    "unversioned": UnversionedRepository,
}


def _listed(own: Ownership, user: User, kind: str, action: str, *, ids_only: bool = False) -> list[str]:
    """Every id `visible` (or `visible_ids`) returns, walking the pages two rows at a time to prove the cursor."""
    ids: list[str] = []
    cursor = None
    while True:
        if ids_only:
            page: IdPage | Page = own.visible_ids(user, kind, action=action, limit=2, after=cursor)
            ids += page.ids
        else:
            page = own.visible(user, kind, action=action, limit=2, after=cursor)
            ids += [r.id for r in page.records]
        if page.cursor is None:
            return ids
        cursor = page.cursor


def _records(own: Ownership) -> list[Record]:
    return list(own.snapshot().records)


@pytest.mark.parametrize("repository", REPOSITORIES.values(), ids=REPOSITORIES.keys())
@pytest.mark.parametrize("rulebook", RULEBOOKS.values(), ids=RULEBOOKS.keys())
@settings(max_examples=60)
@given(data=st.data())
def test_check_list_checker_and_explain_agree_for_every_viewer(
    rulebook: Rulebook, repository: Callable[[], Repository], data: st.DataObject
) -> None:
    _check_agreement(rulebook, repository, data, who_can=True)


# The SQL repositories, by the fixture that makes new, empty ones (tests/sql_repositories.py).
SQL_REPOSITORIES = [
    pytest.param("sqlite_memory_repositories", id="sqlite"),
    pytest.param("postgres_repositories", id="postgresql", marks=pytest.mark.postgresql),
]


@pytest.mark.parametrize("backend", SQL_REPOSITORIES)
@pytest.mark.parametrize("rulebook", RULEBOOKS.values(), ids=RULEBOOKS.keys())
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_check_and_list_agree_on_sql_repositories(
    rulebook: Rulebook, backend: str, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    """The same law where `visible` runs the filter compiled to SQL and `can` the predicate: SQLite, PostgreSQL.

    `who_can` decides with the predicate alone, as `can` does here: its law is proven on the repositories above.
    """
    _check_agreement(rulebook, request.getfixturevalue(backend), data)


def _check_agreement(
    rulebook: Rulebook, repository: Callable[[], Repository], data: st.DataObject, *, who_can: bool = False
) -> None:
    own, users = data.draw(worlds(rulebook, repository))
    records = _records(own)
    assignments = {r.ref: [a for a in own.snapshot().assignments if a.record == r.ref] for r in records}
    for user in users:
        for kind in rulebook.kinds:
            of_kind = [r for r in records if r.kind == kind]
            for action in ACTIONS:
                checked = {r.id for r in of_kind if own.can(user, action, r)}
                listed = _listed(own, user, kind, action)
                assert listed == sorted(listed), "pages come in id order"
                assert len(listed) == len(set(listed)), "no row is listed twice across pages"
                assert set(listed) == checked, (user, kind, action)
                assert _listed(own, user, kind, action, ids_only=True) == listed, "ids alone list the same"
                checker = own.checker(user, action, kind)
                assert {r.id for r in of_kind if checker(r, assignments[r.ref])} == checked
                explained = {r.id for r in of_kind if own.explain(user, action, r).allowed}
                assert explained == checked
    if not who_can:
        return
    for record in records:
        for action in ACTIONS:
            allowed = {u.id for u in users if own.can(u, action, record)}
            assert {p.user.id for p in own.who_can(action, record)} == allowed, (record, action)
    for user in users:  # asked by a user who may view it: their own tenant's people only
        for record in (r for r in records if own.can(user, "view", r)):
            mine = {u.id for u in users if u.tenant == user.tenant and own.can(u, "edit", record)}
            assert {p.user.id for p in own.who_can("edit", record, viewer=user)} == mine, (user, record)
    for record in records:  # a follower who may view the record hears of what happens to it; one who may not, not
        known = rulebook.policy(record.kind).activities
        try:
            told = {n.recipient for n in own.record_activity(record, known[0].name if known else "noted", actor=None)}
        except OwnershipError:
            continue  # a status that takes no activity (CT1)
        for follower in own.followers(record):
            user = own.user(follower.user)
            assert (follower.user in told) >= (user.active and own.can(user, "view", record)), (record, follower)


@pytest.mark.parametrize("rulebook", RULEBOOKS.values(), ids=RULEBOOKS.keys())
@settings(max_examples=40)
@given(data=st.data())
def test_no_read_crosses_a_tenant(rulebook: Rulebook, data: st.DataObject) -> None:
    own, users = data.draw(worlds(rulebook, MemoryRepository))
    for user in users:
        for kind in rulebook.kinds:
            for row in own.visible(user, kind, limit=1_000).rows:
                assert user.tenant in row.record.tenants
                for a in row.assignments:
                    assert a.tenant == user.tenant or not rulebook.policy(kind).role(a.role).private
