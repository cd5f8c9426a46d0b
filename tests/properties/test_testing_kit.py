"""The testing kit keeps its promises (X8): its strategies draw valid values, worlds build, knobs pin, from_type works.

- Every strategy draws values of its type that construct (rulebooks, policies,
  lifecycles are checked when built) and round-trip through `ownership.serde`.
- `worlds()` builds into an `Ownership` on memory and on SQLite through the use
  cases, and the built state is the world: the same tenants, users, groups,
  memberships, records and holders, with every mandatory role filled by
  assignees of the right kind and tenant.
- Installing `ownership` registers a strategy for every public value type with
  hypothesis's entry point, so ``st.from_type(User)`` works in a host's tests
  without importing `ownership.testing`, whichever is imported first.
- Each keyword-only knob pins what it says.
"""

import inspect
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ownership
from ownership import (
    Access,
    AssigneeKind,
    GroupKind,
    Lifecycle,
    Permitted,
    Predicate,
    Record,
    RecordRef,
    Rulebook,
    Snapshot,
    StatusChanged,
    Unassigned,
    presets,
    serde,
)
from ownership.adapters.memory import MemoryRepository
from ownership.adapters.sql import SqlRepository
from ownership.segments import HeldBy, InRecordGroup, nodes
from ownership.segments import Unassigned as NoHolder
from ownership.testing import (
    World,
    assignees,
    assignments,
    criteria,
    events,
    groups,
    memberships,
    notifications,
    predicates,
    records,
    rulebooks,
    segments,
    snapshots,
    tenants,
    users,
    worlds,
)
from ownership.testing import strategies as kit
from ownership.testing._hypothesis import STRATEGIES

PUBLIC_VALUE_TYPES = sorted(
    name
    for name in ownership.__all__
    if inspect.isclass(cls := getattr(ownership, name)) and (attrs.has(cls) or cls in (Predicate, ownership.Criterion))
)
"""Every public attrs class of `ownership`, and the two abstract bases of rule trees."""

PRESETS = {
    "account_managers": presets.account_managers(),
    "lead_exchange": presets.lead_exchange(),
    "caretaker_groups": presets.caretaker_groups(),
    "contact_desk": presets.contact_desk(),
    "composed": presets.account_managers().only("company", "deal", "project")
    | presets.lead_exchange()
    | presets.contact_desk(),
}


def strategy_for(name: str) -> st.SearchStrategy[Any]:
    """The kit's strategy for the public type `name`, as the entry point registers it."""
    cls = getattr(ownership, name)
    return kit.events(types=[cls]) if STRATEGIES[name] == "events" else getattr(kit, STRATEGIES[name])()


# --- every strategy draws valid values -----------------------------------------------------------------


def test_x8_every_public_value_type_has_a_strategy() -> None:
    """A public type added to `ownership` without a strategy fails here: register it in `_hypothesis.STRATEGIES`."""
    assert sorted(STRATEGIES) == PUBLIC_VALUE_TYPES
    assert all(hasattr(kit, name) for name in STRATEGIES.values())


@pytest.mark.parametrize("name", PUBLIC_VALUE_TYPES)
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_x8_each_strategy_draws_its_type_and_round_trips_through_serde(name: str, data: st.DataObject) -> None:
    cls = getattr(ownership, name)
    value = data.draw(strategy_for(name), label=name)
    assert isinstance(value, cls)
    assert serde.structure(serde.unstructure(value), cls) == value


@given(rulebooks())
def test_x8_drawn_rulebooks_compose_with_themselves_and_compile_every_rule(rulebook: Rulebook) -> None:
    """A drawn rulebook was checked when built: each kind's rule for each action reads only roles it has."""
    assert rulebook | rulebook == rulebook
    for policy in rulebook.policies:
        names = {r.name for r in policy.roles}
        for action in ownership.ACTIONS:
            assert policy.rule(action).roles() <= names
        assert policy.rule("view").roles() <= {r.name for r in policy.roles if r.grants_access}


@given(kit.lifecycles())
def test_x8_drawn_lifecycles_name_only_their_states(lifecycle: Lifecycle) -> None:
    named = {lifecycle.initial, lifecycle.imported, lifecycle.archived} - {None}
    named |= {end for t in lifecycle.transitions for end in (t.source, t.target)}
    assert named <= set(lifecycle.names)


CONVERTER = serde.converter()


@given(tree=kit.filters(), record=records(), held=st.lists(assignments(), max_size=3))
def test_x8_drawn_filters_are_filter_trees_that_decide_records(tree: Any, record: Record, held: list[Any]) -> None:
    assert isinstance(tree, ownership.filters.FILTER_TYPES)
    assert ownership.filters.matches(tree, record, held) == ownership.filters.compiled(tree)(record, held)


def test_x8_a_nested_filter_round_trips_through_serde() -> None:
    tree = ownership.filters.And(
        (ownership.filters.HomeIs("acme"), ownership.filters.Not(ownership.filters.EVERYTHING))
    )
    data = CONVERTER.unstructure(tree, unstructure_as=ownership.filters.Filter)
    assert CONVERTER.structure(data, ownership.filters.Filter) == tree


@given(kit.distribution_rules())
def test_x8_drawn_distribution_rules_are_rules(rule: Any) -> None:
    assert CONVERTER.structure(CONVERTER.unstructure(rule, unstructure_as=ownership.Rule), ownership.Rule) == rule


@settings(max_examples=20)
@given(snapshots(rulebook=PRESETS["composed"]))
def test_x8_drawn_snapshots_restore_into_an_empty_repository(snapshot: Snapshot) -> None:
    """A snapshot of `snapshots()` is of a consistent state: restored, it reads back the same."""
    own = ownership.Ownership(PRESETS["composed"], MemoryRepository())
    own.restore(snapshot)
    assert own.snapshot() == snapshot


# --- worlds -------------------------------------------------------------------------------------------


def assert_the_world_keeps_its_rulebook(world: World) -> None:
    """Every record's roles that its home tenant has hold min..max assignees the role takes, of that tenant."""
    tenants_by_id = {t.id: t for t in world.tenants}
    users_by_id = {u.id: u for u in world.users}
    groups_by_id = {g.id: g for g in world.groups}
    held = Counter((a.record, a.role) for a in world.assignments)
    for record in world.records:
        policy = world.rulebook.policy(record.kind)
        features = world.rulebook.features(tenants_by_id[record.tenant])
        assert policy.requires is None or policy.requires in features
        for role in policy.roles:
            count = held[(record.ref, role.name)]
            if role.requires is not None and role.requires not in features:
                assert count == 0, f"{record} holds {role.name}, which its tenant lacks"
                continue
            assert role.min <= count, f"the {role.name} of {record} has {count} < {role.min}"
            assert role.max is None or count <= role.max
    for a in world.assignments:
        role = world.rulebook.policy(a.record.kind).role(a.role)
        assert a.tenant == next(r.tenant for r in world.records if r.ref == a.record)
        if a.assignee.kind is AssigneeKind.USER:
            assert role.users
            assert users_by_id[a.assignee.id].tenant == a.tenant
            assert users_by_id[a.assignee.id].active, "a world's holders are active"
        elif a.assignee.kind is AssigneeKind.GROUP:
            group = groups_by_id[a.assignee.id]
            assert (group.tenant, group.kind in role.groups) == (a.tenant, True)
        else:
            assert role.everyone


def assert_built_as_drawn(world: World, own: ownership.Ownership) -> None:
    """The built state is the world, value for value and in order."""
    built = own.snapshot()
    assert built.tenants == world.tenants
    assert built.users == world.users
    assert built.groups == world.groups
    assert built.memberships == world.memberships
    assert built.records == world.records
    assert built.assignments == world.assignments
    assert built.grants == world.grants
    for record in world.records:
        for role in world.rulebook.policy(record.kind).roles:
            if role.requires is None or role.requires in world.rulebook.features(own.tenant(record.tenant)):
                assert own.holders(record, role.name) == world.holders(record, role.name)


@pytest.mark.parametrize("rulebook", PRESETS.values(), ids=PRESETS.keys())
@settings(max_examples=30)
@given(data=st.data())
def test_x8_worlds_of_a_preset_keep_it_and_build_as_drawn_in_memory(rulebook: Rulebook, data: st.DataObject) -> None:
    world = data.draw(worlds(rulebook=rulebook), label="world")
    assert world.rulebook == rulebook
    assert_the_world_keeps_its_rulebook(world)
    assert_built_as_drawn(world, world.build())


@settings(max_examples=60)
@given(worlds())
def test_x8_worlds_of_drawn_rulebooks_keep_them_and_build_as_drawn(world: World) -> None:
    assert_the_world_keeps_its_rulebook(world)
    assert_built_as_drawn(world, world.build())


@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(rulebook=PRESETS["composed"]))
def test_x8_worlds_build_as_drawn_on_sqlite(world: World) -> None:
    repository = SqlRepository.from_url("sqlite://")
    try:
        assert_built_as_drawn(world, world.build(repository))
    finally:
        repository.close()


@settings(max_examples=30)
@given(world=worlds(rulebook=PRESETS["composed"]))
def test_x8_a_built_world_has_no_inactive_holder_and_every_record_is_seen(world: World) -> None:
    """Its audit finds no mandatory role held by an inactive user; admins and holders see what the rules say."""
    own = world.build()
    for tenant in world.tenants:
        assert not [f for f in own.audit(tenant) if f.kind == "inactive_holder"]
    for user in world.users:
        for kind in world.rulebook.kinds:
            listed = {r.id for r in own.visible(user, kind, limit=1_000).records}
            assert listed == {r.id for r in world.records if r.kind == kind and own.can(user, "view", r)}


# --- registered with hypothesis ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", PUBLIC_VALUE_TYPES)
@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_x8_from_type_draws_every_public_value_type(name: str, data: st.DataObject) -> None:
    cls = getattr(ownership, name)
    assert isinstance(data.draw(st.from_type(cls), label=name), cls)


def run_python(code: str, cwd: Path) -> str:
    """Run `code` in a new interpreter of this environment, away from the source tree; return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


FROM_TYPE_IN_A_HOST = """
    import sys
    {first}
    from hypothesis import given, settings, strategies as st
    from ownership import Assigned, Predicate, Rulebook, User
    # Registered, not inferred: the entry point's hook put each type in hypothesis's table of strategies.
    from hypothesis.strategies._internal.types import _global_type_lookup

    assert all(t in _global_type_lookup for t in (User, Rulebook, Assigned, Predicate))

    @settings(max_examples=20, database=None)
    @given(st.from_type(User), st.from_type(Rulebook), st.from_type(Assigned), st.from_type(Predicate))
    def drawn(user, rulebook, event, rule):
        assert isinstance(user, User) and isinstance(rulebook, Rulebook)
        assert isinstance(event, Assigned) and isinstance(rule, Predicate)

    drawn()
    print("imported by the host:", sorted(m for m in {modules} if m in sys.modules))
"""


HEAVY = ("pytest", "sqlalchemy", "hypothesis.stateful", "ownership.testing.contract", "ownership.testing.machine")
"""What the hook must not import: hypothesis runs it whenever it is imported."""


def test_x8_from_type_works_in_a_host_without_importing_the_kit(tmp_path: Path) -> None:
    out = run_python(FROM_TYPE_IN_A_HOST.format(first="", modules=HEAVY), tmp_path)
    assert out.strip() == "imported by the host: []", "the hook imported something heavy"


def test_x8_from_type_works_when_the_kit_is_imported_before_hypothesis(tmp_path: Path) -> None:
    """``import ownership.testing`` first imports hypothesis, whose hook runs while the kit is half imported."""
    first = "from ownership.testing import FakeClock  # the kit first: it imports hypothesis"
    out = run_python(FROM_TYPE_IN_A_HOST.format(first=first, modules=HEAVY), tmp_path)
    assert out.strip() == "imported by the host: []"


# --- knobs pin what they say ------------------------------------------------------------------------------

AT = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
DEAL_1 = RecordRef("deal", "D-1")


@given(data=st.data())
def test_x8_knobs_pin_the_fields_they_name(data: st.DataObject) -> None:
    user = data.draw(users(tenant="acme", id="ada", active=False, admin=True))
    assert (user.tenant, user.id, user.active, user.admin) == ("acme", "ada", False, True)
    group = data.draw(groups(tenant="acme", kind=GroupKind.TEAM, id="pool"))
    assert (group.tenant, group.kind, group.id) == ("acme", GroupKind.TEAM, "pool")
    record = data.draw(records(kind="deal", tenant="acme", id="D-1"))
    assert (record.kind, record.tenant, record.id) == ("deal", "acme", "D-1")
    assignment = data.draw(assignments(record=DEAL_1, role="responsible", tenant="acme"))
    assert (assignment.record, assignment.role, assignment.tenant) == (DEAL_1, "responsible", "acme")
    membership = data.draw(memberships(group="pool", user="ada"))
    assert (membership.group, membership.user) == ("pool", "ada")
    tenant = data.draw(tenants(id="acme", plan="go"))
    assert (tenant.id, tenant.plan) == ("acme", "go")
    event = data.draw(events(record=DEAL_1, types=[StatusChanged, Unassigned]))
    assert event.record == DEAL_1
    assert isinstance(event, StatusChanged | Unassigned)
    assert data.draw(notifications(recipient="ada")).recipient == "ada"
    assert data.draw(assignees(kind=AssigneeKind.GROUP)).kind is AssigneeKind.GROUP
    assert data.draw(kit.reasons(matched=False)).matched is False


@given(kit.permitted())
def test_x8_drawn_permitted_users_are_what_who_can_lists(permitted: Permitted) -> None:
    """An active user, and only leaves that matched: what who_can returns, and nothing it never would."""
    assert permitted.user.active
    assert all(reason.matched for reason in permitted.reasons)


@given(rule=predicates(roles=["owner"], kinds=["deal"]), access=kit.access_rules(roles=["owner"]))
def test_x8_predicates_read_only_the_roles_and_kinds_they_are_given(rule: Predicate, access: Access) -> None:
    assert rule.roles() <= {"owner"}
    assert "restricted(" not in str(rule) or "restricted('deal')" in str(rule)
    for part in (access.view, access.edit, access.assign):
        assert part is None or part.roles() <= {"owner"}


@given(
    territory=criteria(territorial=True),
    some=criteria(roles=["owner"]),
    saved=segments(kind="deal", saved=True),
    unsaved=segments(saved=False),
)
def test_x8_criteria_and_segments_keep_to_their_knobs(territory: Any, some: Any, saved: Any, unsaved: Any) -> None:
    assert not [n for n in nodes(territory) if isinstance(n, HeldBy | NoHolder | InRecordGroup)]
    assert some.reads() <= {"owner"}
    assert saved.kind == "deal"
    assert saved.id is not None
    assert saved.tenant is not None
    assert (unsaved.id, unsaved.tenant) == (None, None)


@given(rulebook=rulebooks(kinds=["deal", "lead"]))
def test_x8_rulebooks_govern_the_kinds_they_are_given(rulebook: Rulebook) -> None:
    assert rulebook.kinds == ("deal", "lead")


@given(world=worlds(rulebook=presets.contact_desk(), max_tenants=1, max_users=2, max_groups=1, max_records=3, at=AT))
def test_x8_worlds_keep_to_their_knobs(world: World) -> None:
    assert world.rulebook == presets.contact_desk()
    assert [t.id for t in world.tenants] == ["acme"]
    assert 1 <= len(world.users) <= 2
    assert len(world.groups) <= 1
    assert len(world.records) <= 3
    assert world.at == AT
    assert all(r.created_at == AT for r in world.records)
    assert all(a.since == AT for a in world.assignments)
    for record in world.records:
        lifecycle = world.rulebook.policy(record.kind).lifecycle
        assert record.status in (lifecycle.names if lifecycle is not None else (None,))
