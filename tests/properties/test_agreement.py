"""The law that matters most: checking one record and listing many never disagree (X1, X6).

Over generated worlds (users, admins, restricted profiles, groups of every
kind, memberships that expire, records, holders, shared leads) and every
preset's rules, for every user, kind and action:

    {r : can(user, action, r)} == set(visible(user, kind, action))
                                == {r : checker(r, its assignments)}
                                == {r : explain(user, action, r).allowed}

It holds on a repository that offers a generation (where `can` runs the
compiled rule) and on one that does not (where `can` runs the predicate), and
on the SQL repositories, SQLite and PostgreSQL, where `visible` runs the rule
compiled to SQL.
"""

import contextlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import UnversionedRepository, attempt
from ownership import (
    ACTIONS,
    EVERYONE,
    Access,
    Assignee,
    AutoAssign,
    GroupKind,
    IdPage,
    Ownership,
    OwnershipError,
    Page,
    Policy,
    Profile,
    Record,
    Role,
    Rulebook,
    Trigger,
    User,
    presets,
)
from ownership.access import holds, in_caretaker_group, is_admin, restricted, same_tenant, shared_with_viewer
from ownership.adapters.memory import MemoryRepository
from ownership.ports import Repository
from ownership.testing import FakeClock, counted_ids

pytest_plugins = ("sql_repositories",)

# A host's own rule, of the shapes no preset builds: ORs of ANDs, negations, a private role, shared records.
HOST_RULE = (
    (holds("owner") & same_tenant)
    | (is_admin & ~restricted("deal"))
    | (shared_with_viewer & holds("partner_rep"))
    | (in_caretaker_group("desk") & ~holds("owner"))
)
HOST_RULEBOOK = Rulebook(
    (
        Policy(
            "deal",
            (
                Role("owner", grants_access=True),
                Role("partner_rep", grants_access=True, private=True),
                Role("desk", users=False, groups={GroupKind.CARETAKER, GroupKind.TEAM}, grants_access=True),
            ),
            auto_assign=(AutoAssign(Trigger.ACCEPTED, "partner_rep"),),
            access=Access(view=HOST_RULE, assign=HOST_RULE & ~restricted("deal")),
        ),
    )
)
RULEBOOKS = {
    "accounts+leads+customers": presets.account_managers()
    | presets.lead_exchange()
    | presets.caretaker_groups().only("customer", "follow_up"),
    "contacts+tickets": presets.contact_desk() | presets.caretaker_groups().only("ticket"),
    "host-rule": HOST_RULEBOOK,
}
SWITCHES = [
    presets.SECOND_ACCOUNT_MANAGER,
    presets.PROJECTS,
    presets.TICKETS,
    presets.SECOND_CARETAKER_GROUP,
]
TENANTS = ("acme", "globex")


REPOSITORIES: dict[str, Callable[[], Repository]] = {
    "versioned": MemoryRepository,
    "unversioned": UnversionedRepository,
}


@st.composite
def worlds(  # noqa: PLR0912 - a world's life reads best as one story, step by step
    draw: st.DrawFn, rulebook: Rulebook, repository: Callable[[], Repository]
) -> tuple[Ownership, list[User]]:
    clock = FakeClock()
    # Ids are counted, not random: a world drawn twice from the same choices must come out the same.
    own = Ownership(rulebook, repository(), clock=clock, ids=counted_ids())
    plans = [None, *(p.name for p in rulebook.plans)]
    for tenant in TENANTS:
        own.add_tenant(tenant, plan=draw(st.sampled_from(plans)), switches=draw(st.sets(st.sampled_from(SWITCHES))))

    users: list[User] = []
    for tenant in TENANTS:
        for n in range(draw(st.integers(1, 4))):
            users.append(
                own.add_user(
                    tenant,
                    f"{tenant}-user-{n}",
                    id=f"{tenant}-u{n}",
                    admin=draw(st.integers(0, 4)) == 0,
                    profile=Profile(restricted=draw(st.sets(st.sampled_from(rulebook.kinds), max_size=3))),
                    personal_caretaker_group=draw(st.booleans()),
                )
            )
    for tenant in TENANTS:
        for n in range(draw(st.integers(0, 2))):
            own.add_group(tenant, f"{tenant}-group-{n}", draw(st.sampled_from(GroupKind)), id=f"{tenant}-g{n}")
    groups = [g for tenant in TENANTS for g in own.groups(tenant)]
    for _ in range(draw(st.integers(2, 10))):
        group, user = draw(st.sampled_from(groups)) if groups else None, draw(st.sampled_from(users))
        if group is not None:
            until = draw(st.none() | st.integers(-48, 48).map(lambda h: clock.now + timedelta(hours=h)))
            attempt(lambda group=group, user=user, until=until: own.add_member(group, user, until=until))

    assignees = [*(Assignee.user(u.id) for u in users), *(Assignee.group(g.id) for g in groups), EVERYONE]

    def fitting(kind: str, role: str, tenant: str) -> st.SearchStrategy[Assignee]:
        """Mostly assignees the role takes in the tenant, sometimes any at all (to be refused)."""
        takes = rulebook.policy(kind).role(role)
        good = [Assignee.user(u.id) for u in users if u.tenant == tenant and takes.users]
        good += [Assignee.group(g.id) for g in groups if g.tenant == tenant and g.kind in takes.groups]
        good += [EVERYONE] if takes.everyone else []
        return st.sampled_from(good) if good and draw(st.integers(0, 4)) else st.sampled_from(assignees)

    records: list[Record] = []
    for _ in range(draw(st.integers(4, 12))):
        kind = draw(st.sampled_from(rulebook.kinds))
        actor = draw(st.sampled_from(users))
        features = rulebook.features(own.tenant(actor.tenant))
        holders = {
            role.name: draw(fitting(kind, role.name, actor.tenant))
            for role in rulebook.policy(kind).roles
            if (role.requires is None or role.requires in features) and draw(st.integers(0, 3))
        }
        with contextlib.suppress(OwnershipError):
            records.append(own.create(kind, actor=actor, holders=holders, manual=draw(st.booleans())))
    for _ in range(draw(st.integers(0, 8))):
        if not records:
            break
        record = draw(st.sampled_from(records))
        roles = [r.name for r in rulebook.policy(record.kind).roles]
        actor = draw(st.sampled_from(users))
        what = draw(st.sampled_from(["assign", "unassign", "share", "claim"]))
        if what == "share":
            partner = next(t for t in TENANTS if t != record.tenant)
            accepter = draw(st.sampled_from(users))
            attempt(lambda record=record, actor=actor, partner=partner: own.share(record, partner, actor=actor))
            attempt(lambda record=record, accepter=accepter: own.accept(record, actor=accepter))
        elif roles:
            role = draw(st.sampled_from(roles))
            if what == "claim":
                attempt(lambda record=record, role=role, actor=actor: own.claim(record, role, actor=actor))
            else:
                who = draw(fitting(record.kind, role, actor.tenant))
                change = own.assign if what == "assign" else own.unassign
                attempt(lambda change=change, r=record, role=role, who=who, a=actor: change(r, role, who, actor=a))
    for tenant in draw(st.lists(st.sampled_from(TENANTS), max_size=2, unique=True)):
        # A switch turned off hides its roles' holders, who then grant nothing (TL10, CG8).
        own.configure_tenant(tenant, switches=draw(st.sets(st.sampled_from(SWITCHES))))
    for user in draw(st.lists(st.sampled_from(users), max_size=2)):
        own.update_user(user, active=False)
    clock.advance(hours=draw(st.integers(0, 72)))
    return own, [own.user(u.id) for u in users]


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
    _check_agreement(rulebook, repository, data)


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
    """The same law where `visible` runs the filter compiled to SQL and `can` the predicate: SQLite, PostgreSQL."""
    _check_agreement(rulebook, request.getfixturevalue(backend), data)


def _check_agreement(rulebook: Rulebook, repository: Callable[[], Repository], data: st.DataObject) -> None:
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
