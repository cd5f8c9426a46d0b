"""The laws of `reconcile_users` (X8), over generated directories and host tables, against a plain model.

A host keeps its people in its own user table: a name, whether they work
here, whether they are an admin, maybe a profile, maybe the groups they are
in. Generated worlds: tenant Acme with some of the users u0-u4 (some have
left, some are admins, some have a profile of their own), two groups, one
user's personal caretaker group, lasting links and deputies' covers (one
still running, one run out) between them; tenant Globex with Gus and Gina,
their group and a cover of its own. Generated host tables are dicts id -> row
over the ids u0-u6, so that tables overlap the directory and each other (u5
and u6 are never in it): a row may say of a user just what `ownership` says
already, give no profile (keep it) or no groups (leave the links), or name
any set of Acme's groups, the personal one included. Table A is reconciled
in, then table B; each whole or partial.

From any state, reconciling a table:

1. returns exactly the drift `reconciled`, a plain function of the state and
   the table written here, says: added, deactivated, each change's (was, now)
   pairs and joined and left groups, all by id; it is applied;
2. leaves every row's user as the row says (`user`), linked for good to
   exactly the row's groups where it names them (besides their own personal
   group), every cover of a group the row does not name as it was, and the
   directory read back (`users`, `members`, `groups_of`, the snapshot's
   memberships) as the model says;
3. leaves nothing to do: reconciling it again is in step and changes nothing;
4. is what a dry run of it said it would be, and the dry run changed nothing;
5. never touches Globex's users, groups or links, and records no event and
   tells no one;
6. refused (a row naming Globex's group or user, a group no one has, one id
   twice, a tenant no one has), changes nothing, dry run or not.

They run on the in-memory repository, and laws 1-3 on SQLite too.
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import NamedTuple, TypeVar

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from ownership import (
    DirectoryDrift,
    DuplicateIdError,
    ForeignTenantError,
    Group,
    GroupKind,
    HostUser,
    InvalidValueError,
    Membership,
    Ownership,
    OwnershipError,
    Profile,
    UnknownGroupError,
    UnknownTenantError,
    User,
    UserDrift,
    presets,
)
from ownership.adapters.memory import MemoryRepository
from ownership.ports import Repository
from ownership.snapshot import Snapshot
from ownership.testing import FakeClock, counted_ids

pytest_plugins = ("sql_repositories",)

TENANT, OTHER = "acme", "globex"
KNOWN = ("u0", "u1", "u2", "u3", "u4")  # the ids a generated directory may hold
IDS = (*KNOWN, "u5", "u6")  # the ids rows name: u5 and u6 are always new
GROUPS = {"north": GroupKind.CARETAKER, "tax": GroupKind.COMPETENCE}
PERSONAL = "p-0000"  # the personal caretaker group of the world's owner: the first id `counted_ids("p-")` gives
ACME_GROUPS = (*GROUPS, PERSONAL)
OTHER_USERS, OTHER_GROUP = ("gina", "gus"), "g-north"
NAMES = ("Ann", "Ben", "Cleo")
PROFILES = (Profile(), Profile(restricted={"deal"}), Profile(restricted={"deal", "company"}, push=True))
START = FakeClock().now
COVERS = (START + timedelta(days=7), START - timedelta(days=1))  # one still running, one run out
MOSTLY = st.integers(0, 3).map(lambda n: n < 3)  # True three times in four, and True as it shrinks


# --- the directory, as plain data, and host tables ----------------------------------------------------------


class Person(NamedTuple):
    """What `ownership` holds of one of Acme's users."""

    name: str
    active: bool
    admin: bool
    profile: Profile


class World(NamedTuple):
    """Acme's users, their links to Acme's groups ((group, user) -> until, None for good), the personal group's user."""

    users: Mapping[str, Person]
    links: Mapping[tuple[str, str], datetime | None]
    owner: str


Table = dict[str, HostUser]


class Scenario(NamedTuple):
    """A generated world, and tables A and B of the host's people, each reconciled whole or partially."""

    world: World
    a: Table
    partial_a: bool
    b: Table
    partial_b: bool


def lasting(world: World, user: str) -> frozenset[str]:
    """The groups `user` is linked to for good."""
    return frozenset(g for (g, u), until in world.links.items() if u == user and until is None)


BOOLS = st.booleans()
PERSONS = st.builds(Person, st.sampled_from(NAMES), MOSTLY, BOOLS, st.sampled_from(PROFILES))
LINKS = st.sampled_from(((), (None,), *((c,) for c in COVERS)))  # no link, a link for good, or a cover
GROUP_SETS = [frozenset(g for i, g in enumerate(ACME_GROUPS) if n >> i & 1) for n in range(2 ** len(ACME_GROUPS))]
ECHOES = st.tuples(BOOLS, BOOLS)  # a row saying what `ownership` does: whether it gives the groups, the profile
FRESH = st.tuples(
    st.sampled_from(NAMES),
    MOSTLY,
    BOOLS,
    st.sampled_from([None, *GROUP_SETS]),
    st.sampled_from([None, *PROFILES]),
)
"""A row drawn afresh: a name, active, admin, its groups or None, its profile or None (each a single choice)."""


@st.composite
def worlds(draw: st.DrawFn) -> World:
    ids = sorted(draw(st.sets(st.sampled_from(KNOWN), min_size=1)))
    users = {id: draw(PERSONS) for id in ids}
    owner = draw(st.sampled_from(ids))
    links: dict[tuple[str, str], datetime | None] = {(PERSONAL, owner): None}
    for group in ACME_GROUPS:
        for user in ids:
            if (group, user) not in links:
                for until in draw(LINKS):  # none, or the one link
                    links[group, user] = until
    return World(users, links, owner)


def _row(draw: st.DrawFn, id: str, world: World) -> HostUser:
    """A row for `id`: for a user `ownership` has, often just what it says already; else drawn afresh."""
    was = world.users.get(id)
    if was is not None and draw(BOOLS):
        with_groups, with_profile = draw(ECHOES)
        return HostUser(
            id,
            was.name,
            active=was.active,
            admin=was.admin,
            groups=lasting(world, id) if with_groups else None,
            profile=was.profile if with_profile else None,
        )
    name, active, admin, groups, profile = draw(FRESH)
    return HostUser(id, name, active=active, admin=admin, groups=groups, profile=profile)


@st.composite
def tables(draw: st.DrawFn, world: World) -> Table:
    """A table over `IDS`: most of the world's users named, others added or left out, in any order."""
    chosen = [id for id in IDS if draw(MOSTLY if id in world.users else BOOLS)]
    return {id: _row(draw, id, world) for id in draw(st.permutations(chosen))}


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    world = draw(worlds())
    a, partial_a = draw(tables(world)), draw(st.booleans())
    b, partial_b = draw(tables(reconciled(world, a, partial=partial_a)[1])), draw(st.booleans())
    return Scenario(world, a, partial_a, b, partial_b)


# --- the model: the drift a table makes, and the directory after it -----------------------------------------


_V = TypeVar("_V")


def _pair(was: _V, now: _V) -> tuple[_V, _V] | None:
    return None if was == now else (was, now)


def reconciled(world: World, table: Table, *, partial: bool) -> tuple[DirectoryDrift, World]:
    """The drift reconciling `table` into `world` should report, and the world after it."""
    users, links = dict(world.users), dict(world.links)
    added: list[str] = []
    changed: list[UserDrift] = []
    for id, row in table.items():
        was = world.users.get(id)
        kept = was.profile if was is not None else Profile()
        now = Person(row.name, row.active, row.admin, kept if row.profile is None else row.profile)
        users[id] = now
        joined: list[str] = []
        left: list[str] = []
        if row.groups is not None:
            mine = lasting(world, id)
            joined = sorted(row.groups - mine)
            left = sorted(g for g in mine - row.groups if (g, id) != (PERSONAL, world.owner))
            links.update({(g, id): None for g in joined})
            for g in left:
                del links[g, id]
        if was is None:
            added.append(id)
            continue
        change = UserDrift(
            id,
            name=_pair(was.name, now.name),
            active=_pair(was.active, now.active),
            admin=_pair(was.admin, now.admin),
            profile=was.profile != now.profile,
            joined=tuple(joined),
            left=tuple(left),
        )
        if change != UserDrift(id):
            changed.append(change)
    gone = [] if partial else sorted(u for u, p in world.users.items() if p.active and u not in table)
    for user in gone:
        users[user] = users[user]._replace(active=False)
    drift = DirectoryDrift(TENANT, tuple(sorted(added)), tuple(gone), tuple(sorted(changed, key=lambda d: d.id)))
    return drift, World(users, links, world.owner)


def live(until: datetime | None) -> bool:
    """Whether a link with this end counts now (the clock stays at `START`)."""
    return until is None or until > START


# --- the world, built through the public API ----------------------------------------------------------------


def build(world: World, repository: Callable[[], Repository]) -> Ownership:
    """Acme's users, groups and links as `world` says; Globex's Gus and (inactive) Gina, linked to its group."""
    own = Ownership(presets.caretaker_groups(), repository(), clock=FakeClock(START), ids=counted_ids("p-"))
    own.add_tenant(TENANT)
    for group, kind in GROUPS.items():
        own.add_group(TENANT, group.title(), kind, id=group)
    for id, person in sorted(world.users.items()):
        own.add_user(
            TENANT,
            person.name,
            id=id,
            admin=person.admin,
            profile=person.profile,
            personal_caretaker_group=id == world.owner,
        )
    for (group, user), until in sorted(world.links.items()):
        if (group, user) != (PERSONAL, world.owner):  # made with the owner
            own.add_member(group, user, until=until)
    for id, person in sorted(world.users.items()):
        if not person.active:
            own.update_user(id, active=False)
    own.add_tenant(OTHER)
    own.add_group(OTHER, "G-North", GroupKind.CARETAKER, id=OTHER_GROUP)
    for user in OTHER_USERS:
        own.add_user(OTHER, user.title(), id=user)
    own.add_member(OTHER_GROUP, "gus")
    own.add_member(OTHER_GROUP, "gina", until=COVERS[0])
    own.update_user("gina", active=False)
    personal = own.personal_group(world.owner)
    assert personal is not None
    assert personal.id == PERSONAL
    return own


def run(own: Ownership, world: World, table: Table, *, partial: bool) -> tuple[DirectoryDrift, World]:
    """Reconcile `table`, check law 1 (the drift is the model's, applied) and law 2; return the drift, the world."""
    note(f"reconciling {list(table.values())}, partial={partial}")
    expected, after = reconciled(world, table, partial=partial)
    drift = own.reconcile_users(table.values(), tenant=TENANT, partial=partial)
    assert drift == expected
    assert drift.applied
    check_directory(own, world, after, table)
    return drift, after


def check_directory(own: Ownership, before: World, after: World, table: Table) -> None:
    """Law 2: the rows read back as they were given, covers and the personal link kept, all as the model says."""
    snapshot = own.snapshot()
    for id, row in table.items():
        read = own.user(id)
        assert (read.id, read.tenant, read.name, read.active, read.admin) == (
            row.id,
            TENANT,
            row.name,
            row.active,
            row.admin,
        )
        if row.profile is not None:
            assert read.profile == row.profile
        elif id in before.users:
            assert read.profile == before.users[id].profile, "no profile given: the user's is kept"
        else:
            assert read.profile == Profile(), "a new user's profile is the default"
        if row.groups is not None:
            mine = {m.group for m in snapshot.memberships if m.user == id and m.until is None}
            assert mine == row.groups | ({PERSONAL} if id == before.owner else set()), id
    for (group, user), until in before.links.items():
        named = table[user].groups if user in table else None
        if until is not None and (named is None or group not in named):
            assert Membership(group, user, until) in snapshot.memberships, "a cover is left as it is"
    assert Membership(PERSONAL, before.owner) in snapshot.memberships, "the personal link is left as it is"

    assert own.users(TENANT) == tuple(
        User(id, TENANT, p.name, active=p.active, admin=p.admin, profile=p.profile)
        for id, p in sorted(after.users.items())
    )
    assert {m for m in snapshot.memberships if m.group in ACME_GROUPS} == {
        Membership(group, user, until) for (group, user), until in after.links.items()
    }
    for group in ACME_GROUPS:
        members = sorted(u for (g, u), until in after.links.items() if g == group and live(until))
        assert [u.id for u in own.members(group)] == members, group
    for user in after.users:
        groups = sorted(g for (g, u), until in after.links.items() if u == user and live(until))
        assert [g.id for g in own.groups_of(user)] == groups, user


def _classify(drift: DirectoryDrift) -> None:
    for part in ("added", "deactivated", "changed"):
        event(f"table B {'no' if not getattr(drift, part) else 'some'} {part}")
    if any(d.joined or d.left for d in drift.changed):
        event("table B moves someone between groups")


# --- laws 1-3: exact, what the rows say, nothing left to do -------------------------------------------------


def _check_exact_read_back_idempotent(repository: Callable[[], Repository], scenario: Scenario) -> None:
    own = build(scenario.world, repository)
    _, world = run(own, scenario.world, scenario.a, partial=scenario.partial_a)
    drift, world_b = run(own, world, scenario.b, partial=scenario.partial_b)
    _classify(drift)
    before = own.snapshot()

    again = own.reconcile_users(scenario.b.values(), tenant=TENANT, partial=scenario.partial_b)

    assert again == DirectoryDrift(TENANT)
    assert again.in_step
    assert own.snapshot() == before, "a run with nothing to change writes nothing"
    check_directory(own, world_b, world_b, scenario.b)


@given(scenario=scenarios())
def test_x8_reconcile_users_reports_the_exact_drift_makes_the_rows_true_and_then_is_in_step_on_memory(
    scenario: Scenario,
) -> None:
    _check_exact_read_back_idempotent(MemoryRepository, scenario)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_x8_reconcile_users_reports_the_exact_drift_makes_the_rows_true_and_then_is_in_step_on_sqlite(
    sqlite_memory_repositories: Callable[[], Repository], scenario: Scenario
) -> None:
    _check_exact_read_back_idempotent(sqlite_memory_repositories, scenario)


# --- law 4: a dry run ---------------------------------------------------------------------------------------


@given(scenario=scenarios())
def test_x8_a_dry_run_of_reconcile_users_reports_the_drift_the_run_then_finds_and_changes_nothing(
    scenario: Scenario,
) -> None:
    own = build(scenario.world, MemoryRepository)
    _, world = run(own, scenario.world, scenario.a, partial=scenario.partial_a)
    before = own.snapshot()

    preview = own.reconcile_users(scenario.b.values(), tenant=TENANT, partial=scenario.partial_b, dry_run=True)

    assert own.snapshot() == before, "a dry run changes nothing"
    expected, _ = reconciled(world, scenario.b, partial=scenario.partial_b)
    assert preview == DirectoryDrift(TENANT, expected.added, expected.deactivated, expected.changed, applied=False)
    drift = own.reconcile_users(scenario.b.values(), tenant=TENANT, partial=scenario.partial_b)
    assert (drift.tenant, drift.added, drift.deactivated, drift.changed) == (
        preview.tenant,
        preview.added,
        preview.deactivated,
        preview.changed,
    )
    assert drift.in_step == preview.in_step


# --- law 5: another tenant's people, and no history ---------------------------------------------------------


def _of_other_tenant(snapshot: Snapshot) -> tuple[list[User], list[Group], list[Membership]]:
    """Everything the snapshot holds of Globex's directory: its users, its groups, their links."""
    groups = [g for g in snapshot.groups if g.tenant == OTHER]
    ids = {g.id for g in groups}
    return (
        [u for u in snapshot.users if u.tenant == OTHER],
        groups,
        [m for m in snapshot.memberships if m.group in ids or m.user in OTHER_USERS],
    )


@given(scenario=scenarios())
def test_x8_reconcile_users_never_touches_another_tenants_people_and_records_no_history(scenario: Scenario) -> None:
    own = build(scenario.world, MemoryRepository)
    start = own.snapshot()
    theirs = _of_other_tenant(start)
    assert [u.id for u in theirs[0]] == sorted(OTHER_USERS)

    own.reconcile_users(scenario.a.values(), tenant=TENANT, partial=scenario.partial_a)
    own.reconcile_users(scenario.b.values(), tenant=TENANT, partial=scenario.partial_b)
    own.reconcile_users([], tenant=TENANT)  # everyone at Acme has left

    end = own.snapshot()
    assert _of_other_tenant(end) == theirs
    assert (end.events, end.outbox) == (start.events, start.outbox), "directory changes record no history"
    assert not [u for u in own.users(TENANT) if u.active]


# --- law 6: a refused table changes nothing -----------------------------------------------------------------

SPOILS: dict[str, tuple[type[OwnershipError], str]] = {
    "another tenant's group": (ForeignTenantError, "belongs to tenant 'globex'"),
    "another tenant's user": (DuplicateIdError, "at home in tenant 'globex'"),
    "a group no one has": (UnknownGroupError, "no group 'nowhere'"),
    "one id twice": (InvalidValueError, "more than once"),
    "a tenant no one has": (UnknownTenantError, "no tenant 'initech'"),
}


def spoiled(table: Table, how: str, at: int, id: str) -> list[HostUser]:
    """`table`'s rows with one that breaks a rule put in at `at`: `how` says which rule."""
    rows = list(table.values())
    if how == "one id twice":
        twin = rows[at % len(rows)].id if rows else id
        rows = rows or [HostUser(twin, "Once")]
        bad = HostUser(twin, "Twice")
    elif how == "another tenant's user":
        bad = HostUser(OTHER_USERS[at % 2], "Taken")
    else:
        group = OTHER_GROUP if how == "another tenant's group" else "nowhere"
        rows = [r for r in rows if r.id != id]
        bad = HostUser(id, "Lost", groups={*ACME_GROUPS[: at % 3], group})
    rows.insert(at % (len(rows) + 1), bad)
    return rows


@given(scenario=scenarios(), how=st.sampled_from(sorted(SPOILS)), at=st.integers(0, 7), id=st.sampled_from(IDS))
def test_x8_a_refused_reconcile_users_changes_nothing_dry_run_or_not(
    scenario: Scenario, how: str, at: int, id: str
) -> None:
    own = build(scenario.world, MemoryRepository)
    own.reconcile_users(scenario.a.values(), tenant=TENANT, partial=scenario.partial_a)
    rows = spoiled(scenario.b, how, at, id)
    tenant = "initech" if how == "a tenant no one has" else TENANT
    error, says = SPOILS[how]
    note(f"rows = {rows}")
    before = own.snapshot()

    for dry_run in (True, False):
        with pytest.raises(error, match=says) as caught:
            own.reconcile_users(rows, tenant=tenant, partial=scenario.partial_b, dry_run=dry_run)
        assert str(caught.value).endswith("."), "a refusal reads as a sentence"
        assert own.snapshot() == before
