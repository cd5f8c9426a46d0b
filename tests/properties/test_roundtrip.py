"""Round trips are identity: for every public value ``x`` of type ``T``, ``structure(unstructure(x), T) == x``.

Each law is checked twice: on the plain data `serde.unstructure` returns, and
after that data went through `json.dumps` / `json.loads`, which is how a host
stores or sends it (datetimes as ISO strings, sets as lists, enums as values).
"""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ownership import (
    Activity,
    ActivityRecorded,
    Assigned,
    Assignee,
    Assignment,
    AutoAssign,
    Dispatched,
    Event,
    Group,
    GroupKind,
    Membership,
    Notification,
    OutboxEntry,
    Ownership,
    Plan,
    Policy,
    Profile,
    Record,
    RecordCreated,
    RecordRef,
    RecordShared,
    Role,
    Rulebook,
    ShareAccepted,
    Snapshot,
    Tenant,
    Trigger,
    Unassigned,
    User,
    presets,
    serde,
)
from ownership.adapters.memory import MemoryRepository
from ownership.distribution import Rule
from ownership.filters import FILTER_TYPES, Filter
from ownership.service import Setting
from ownership.testing import (
    FakeClock,
    activities,
    assignees,
    assignments,
    events,
    groups,
    memberships,
    moments,
    notifications,
    outbox_entries,
    plans,
    policies,
    profiles,
    record_refs,
    records,
    roles,
    rulebooks,
    tenants,
    users,
)
from ownership.testing import strategies as testing_strategies

EVENT_TYPES = (RecordCreated, Assigned, Unassigned, RecordShared, ShareAccepted, ActivityRecorded)


any_ids = st.text(st.characters(exclude_categories=("C", "Z")), min_size=1, max_size=8)
"""Any valid id, not only the testing kit's plain ones: letters of every script, symbols, emoji."""


def assert_roundtrips(value: Any, cls: Any) -> None:
    """`value` comes back equal from its plain data, and from that data sent through JSON."""
    data = serde.unstructure(value)
    assert serde.structure(data, cls) == value, f"plain data {data!r} does not give back {value!r}"
    sent = json.loads(json.dumps(data))
    assert serde.structure(sent, cls) == value, f"JSON {sent!r} does not give back {value!r}"


def auto_assigns() -> st.SearchStrategy[AutoAssign]:
    """Auto-assignment triggers on any role name."""
    return st.builds(AutoAssign, on=st.sampled_from(Trigger), role=any_ids)


json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
"""What a setting holds: JSON-ready data."""


def snapshots() -> st.SearchStrategy[Snapshot]:
    """Snapshots of arbitrary values of every kind (not necessarily a consistent state)."""
    few = {"max_size": 3}
    return st.builds(
        Snapshot,
        tenants=st.lists(tenants(), **few).map(tuple),
        users=st.lists(users(), **few).map(tuple),
        groups=st.lists(groups(), **few).map(tuple),
        memberships=st.lists(memberships(), **few).map(tuple),
        records=st.lists(records(), **few).map(tuple),
        assignments=st.lists(assignments(), **few).map(tuple),
        events=st.lists(events(), **few).map(tuple),
        outbox=st.lists(outbox_entries(), **few).map(tuple),
        settings=st.lists(st.builds(Setting, any_ids, any_ids, json_data), **few).map(tuple),
    )


@given(tenants())
def test_roundtrip_is_identity_for_tenants(tenant: Tenant) -> None:
    assert_roundtrips(tenant, Tenant)


@given(profiles())
def test_roundtrip_is_identity_for_profiles(profile: Profile) -> None:
    assert_roundtrips(profile, Profile)


@given(users())
def test_roundtrip_is_identity_for_users(user: User) -> None:
    assert_roundtrips(user, User)


@given(groups())
def test_roundtrip_is_identity_for_groups(group: Group) -> None:
    assert_roundtrips(group, Group)


@given(memberships())
def test_roundtrip_is_identity_for_memberships(membership: Membership) -> None:
    assert_roundtrips(membership, Membership)


@given(assignees())
def test_roundtrip_is_identity_for_assignees(assignee: Assignee) -> None:
    assert_roundtrips(assignee, Assignee)


@given(record_refs())
def test_roundtrip_is_identity_for_record_refs(ref: RecordRef) -> None:
    assert_roundtrips(ref, RecordRef)


@given(records())
def test_roundtrip_is_identity_for_records(record: Record) -> None:
    assert_roundtrips(record, Record)
    assert serde.structure(serde.unstructure(record), Record).ref == record.ref


@given(assignments())
def test_roundtrip_is_identity_for_assignments(assignment: Assignment) -> None:
    assert_roundtrips(assignment, Assignment)


def events_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Events of one class, with or without an actor, private or not."""
    ids = any_ids
    fields = {"record": record_refs(), "tenant": ids, "actor": st.none() | ids, "at": moments()}
    if cls in (Assigned, Unassigned):
        fields |= {"role": ids, "assignee": assignees()}
    if cls is ActivityRecorded:
        fields |= {"activity": ids}
    return st.builds(cls, **fields, private_to=st.none() | ids)


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_roundtrip_is_identity_for_each_event_class(cls: type[Any], data: st.DataObject) -> None:
    """Structured as its own class, too, an event comes back equal."""
    assert_roundtrips(data.draw(events_of(cls), label=cls.__name__), cls)


@given(activities())
def test_roundtrip_is_identity_for_activities(activity: Activity) -> None:
    assert_roundtrips(activity, Activity)


@given(notifications())
def test_roundtrip_is_identity_for_notifications(notification: Notification) -> None:
    assert_roundtrips(notification, Notification)


@given(outbox_entries())
def test_roundtrip_is_identity_for_outbox_entries(entry: OutboxEntry) -> None:
    assert_roundtrips(entry, OutboxEntry)


@given(st.lists(st.text(max_size=8), max_size=3), st.lists(st.text(max_size=8), max_size=3))
def test_roundtrip_is_identity_for_dispatch_reports(delivered: list[str], failed: list[str]) -> None:
    assert_roundtrips(Dispatched(tuple(delivered), tuple(failed)), Dispatched)


@given(events())
def test_roundtrip_is_identity_for_the_event_union(event: Event) -> None:
    """Structured as the union, an event comes back as the very class it was: the ``"type"`` tag finds it."""
    assert_roundtrips(event, Event)
    assert type(serde.structure(serde.unstructure(event), Event)) is type(event)


@given(roles())
def test_roundtrip_is_identity_for_roles(role: Role) -> None:
    assert_roundtrips(role, Role)


@given(auto_assigns())
def test_roundtrip_is_identity_for_auto_assigns(auto: AutoAssign) -> None:
    assert_roundtrips(auto, AutoAssign)


@given(policies())
def test_roundtrip_is_identity_for_policies(policy: Policy) -> None:
    assert_roundtrips(policy, Policy)


@given(plans())
def test_roundtrip_is_identity_for_plans(plan: Plan) -> None:
    assert_roundtrips(plan, Plan)


@given(rulebooks())
def test_roundtrip_is_identity_for_rulebooks(rulebook: Rulebook) -> None:
    assert_roundtrips(rulebook, Rulebook)


@given(snapshots())
def test_roundtrip_is_identity_for_snapshots(snapshot: Snapshot) -> None:
    assert_roundtrips(snapshot, Snapshot)


PRESETS = {
    "account_managers": presets.account_managers,
    "lead_exchange": presets.lead_exchange,
    "caretaker_groups": presets.caretaker_groups,
    "contact_desk": presets.contact_desk,
}


@pytest.mark.parametrize("preset", PRESETS.values(), ids=PRESETS.keys())
def test_roundtrip_is_identity_for_each_preset(preset: Any) -> None:
    """Every preset, with its access rules (predicates) and plans, comes back equal and behaves the same."""
    rulebook = preset()
    assert_roundtrips(rulebook, Rulebook)
    back = serde.structure(json.loads(json.dumps(serde.unstructure(rulebook))), Rulebook)
    for policy in rulebook.policies:
        for action in ("view", "edit", "assign"):
            assert str(back.policy(policy.kind).rule(action)) == str(policy.rule(action))


def test_roundtrip_is_identity_for_composed_presets() -> None:
    composed = (
        presets.account_managers().only("company", "deal", "project")
        | presets.lead_exchange()
        | presets.caretaker_groups()
        | presets.contact_desk()
    )
    assert_roundtrips(composed, Rulebook)


@given(
    switches=st.frozensets(st.sampled_from((presets.SECOND_ACCOUNT_MANAGER, presets.SECOND_CARETAKER_GROUP))),
    deputy_hours=st.none() | st.integers(1, 48),
    later_hours=st.integers(0, 72),
)
def test_roundtrip_is_identity_for_real_snapshots(
    switches: frozenset[str], deputy_hours: int | None, later_hours: int
) -> None:
    """A snapshot taken after a short scenario in every preset: every kind of event, shared and private slots."""
    clock = FakeClock()
    composed = (
        presets.account_managers().only("company", "deal", "project")
        | presets.lead_exchange()
        | presets.caretaker_groups()
        | presets.contact_desk()
    )
    own = Ownership(composed, MemoryRepository(), clock=clock)
    own.add_tenant("acme", plan="move", switches=switches)
    own.add_tenant("globex")
    anna = own.add_user("acme", "Anna", id="anna", personal_caretaker_group=True)
    own.add_user("acme", "Bob", id="bob", admin=True)
    own.add_user("acme", "Carl", id="carl", active=False)
    own.add_user("globex", "Paul", id="paul")
    north = own.add_group("acme", "North", GroupKind.CARETAKER, id="north")
    own.add_member(north, "bob", until=None if deputy_hours is None else clock.advance(hours=deputy_hours))
    clock.advance(hours=later_hours)
    own.create("deal", actor=anna, id="D-1")
    own.create("customer", actor=anna, id="C-1", holders={"caretaker_group": north})
    lead = own.create("lead", actor=anna, id="L-1")
    own.share(lead, "globex", actor=anna)
    clock.advance(minutes=5)
    own.accept(lead, actor="paul")
    own.assign(lead, "colleague", own.user("bob"), actor="anna")
    own.replace(RecordRef("deal", "D-1"), "responsible", anna, own.user("bob"), actor="bob")
    own.unassign(RecordRef("customer", "C-1"), "caretaker_group", north, actor="bob")
    own.record_activity(lead, "task_created", actor="paul")
    snapshot = own.snapshot()
    assert {type(e) for e in snapshot.events} == set(EVENT_TYPES)
    assert snapshot.outbox, "the scenario notified someone: the outbox round-trips too"
    assert_roundtrips(snapshot, Snapshot)


@given(value=st.one_of(testing_strategies.filters(), testing_strategies.distribution_rules()))
def test_x8_the_public_unstructure_tags_filters_and_rules_so_the_public_structure_reads_them_back(value: Any) -> None:
    """Through `serde.unstructure` and `serde.structure` alone, as a host stores a filter or a rule, via JSON text."""
    union = Filter if isinstance(value, FILTER_TYPES) else Rule
    text = json.dumps(serde.unstructure(value))
    assert serde.structure(json.loads(text), union) == value
