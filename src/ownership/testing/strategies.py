"""Hypothesis strategies for every public value of `ownership`, named as plural nouns, and `worlds()`.

Each takes keyword-only knobs to pin a field (``users(tenant="acme")``); what is
not pinned is drawn, and shrinks towards small ids and early moments. Values
that the library checks when they are built (roles, policies, rulebooks,
lifecycles) are drawn consistent, so every draw constructs.

`worlds()` draws a whole consistent state: a rulebook, tenants, users, groups,
memberships and records whose holders keep the rulebook. A `World` is a plain
value; `World.build` writes it into an `Ownership` over any repository through
the public use cases, so it is valid by construction.

Text that people see (names, messages, settings) has no control characters and
no lone surrogates, so a value drawn here can be stored in any database.
"""

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from attrs import frozen
from hypothesis import strategies as st

from ownership.access import (
    Decision,
    Facts,
    Predicate,
    Reason,
    Viewer,
    always,
    holds,
    in_caretaker_group,
    is_admin,
    never,
    restricted,
    same_tenant,
    shared_with_viewer,
)
from ownership.adapters.memory import MemoryRepository
from ownership.clock import FakeClock
from ownership.distribution import AutoAssignment, LeastLoad, Pick, RoundRobin, Rule, Territory, ToGroup
from ownership.events import (
    ActivityRecorded,
    Assigned,
    Event,
    RecordCreated,
    RecordShared,
    ShareAccepted,
    StatusChanged,
    Unassigned,
)
from ownership.filters import (
    EVERYTHING,
    NOTHING,
    And,
    Filter,
    HasAssignee,
    Held,
    HomeIs,
    InGroup,
    Labelled,
    NameHas,
    Not,
    Or,
    SharedWith,
    StatusIn,
)
from ownership.lifecycle import OPERATIONS, Lifecycle, State, Transition
from ownership.model import (
    EVERYONE,
    Assignee,
    AssigneeKind,
    Assignment,
    Group,
    GroupKind,
    Membership,
    Profile,
    Record,
    RecordRef,
    Tenant,
    User,
)
from ownership.notify import Activity, Channel, Dispatched, Notification, Notifier, OutboxEntry
from ownership.numbering import NumberRange
from ownership.policy import Access, AssignActor, Plan, Policy, Role, Rulebook, Trigger
from ownership.ports import Repository
from ownership.segments import ANYTHING, Criterion, Segment, held_by, in_group, labelled, named, status_in, unassigned
from ownership.service import Finding, Ownership, Page, Row, Setting, Snapshot

_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)

EVENT_TYPES: tuple[type[Event], ...] = (
    RecordCreated,
    Assigned,
    Unassigned,
    RecordShared,
    ShareAccepted,
    ActivityRecorded,
    StatusChanged,
)
"""Every class of event, in the order `events()` draws them."""

FINDING_KINDS = ("unseen_record", "inactive_holder", "no_caretaker_group", "group_without_members", "expired_deputy")
"""The kinds of `Finding` that `Ownership.audit` reports."""


def _pinned(value: Any, otherwise: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`value` itself if it is pinned (not None), else what `otherwise` draws."""
    return st.just(value) if value is not None else otherwise


_Node = TypeVar("_Node", Predicate, Criterion)


def _algebra(leaves: Sequence[st.SearchStrategy[_Node]]) -> st.SearchStrategy[_Node]:
    """Trees of up to five leaves joined with ``&``, ``|`` and ``~``: predicates and criteria alike."""
    return st.recursive(
        st.one_of(leaves),
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda pair: pair[0] & pair[1]),
            st.tuples(inner, inner).map(lambda pair: pair[0] | pair[1]),
            inner.map(lambda part: ~part),
        ),
        max_leaves=5,
    )


def ids() -> st.SearchStrategy[str]:
    """Short non-empty ids of lower-case letters, digits and dashes."""
    return st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)


def names() -> st.SearchStrategy[str]:
    """Names to show people: any text without control characters or lone surrogates."""
    return st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=12)


def moments() -> st.SearchStrategy[datetime]:
    """Aware UTC moments within a few years of 2026, to the microsecond."""
    return st.integers(0, 3 * 365 * 86_400 * 10**6).map(lambda us: _EPOCH + timedelta(microseconds=us))


def group_kinds() -> st.SearchStrategy[GroupKind]:
    """Caretaker, competence or team."""
    return st.sampled_from(GroupKind)


# --- tenants, users, groups --------------------------------------------------------------------


def tenants(*, id: str | None = None, plan: str | None = None) -> st.SearchStrategy[Tenant]:
    """Tenants, with or without a plan and switches; `id` and `plan` pin those."""
    return st.builds(
        Tenant,
        id=_pinned(id, ids()),
        name=names(),
        plan=_pinned(plan, st.none() | ids()),
        switches=st.frozensets(ids(), max_size=3),
    )


def profiles() -> st.SearchStrategy[Profile]:
    """User profiles: restricted kinds and the push opt-in."""
    return st.builds(Profile, restricted=st.frozensets(ids(), max_size=3), push=st.booleans())


def users(
    *, tenant: str | None = None, id: str | None = None, active: bool | None = None, admin: bool | None = None
) -> st.SearchStrategy[User]:
    """Users, active or not, admin or not; each knob pins its field."""
    return st.builds(
        User,
        id=_pinned(id, ids()),
        tenant=_pinned(tenant, ids()),
        name=names(),
        active=_pinned(active, st.booleans()),
        admin=_pinned(admin, st.booleans()),
        profile=profiles(),
    )


def groups(
    *, tenant: str | None = None, kind: GroupKind | None = None, id: str | None = None
) -> st.SearchStrategy[Group]:
    """Groups of every kind, some personal; each knob pins its field."""
    return st.builds(
        Group,
        id=_pinned(id, ids()),
        tenant=_pinned(tenant, ids()),
        name=names(),
        kind=_pinned(kind, group_kinds()),
        personal_of=st.none() | ids(),
    )


def memberships(*, group: str | None = None, user: str | None = None) -> st.SearchStrategy[Membership]:
    """Memberships, for good or until a moment; `group` and `user` pin whose."""
    return st.builds(Membership, group=_pinned(group, ids()), user=_pinned(user, ids()), until=st.none() | moments())


def assignees(*, kind: AssigneeKind | None = None) -> st.SearchStrategy[Assignee]:
    """Users, groups and everyone; `kind` pins which of the three."""
    drawn = {
        AssigneeKind.USER: ids().map(Assignee.user),
        AssigneeKind.GROUP: ids().map(Assignee.group),
        AssigneeKind.EVERYONE: st.just(EVERYONE),
    }
    return drawn[kind] if kind is not None else st.one_of(*drawn.values())


# --- records, holders, history ------------------------------------------------------------------


def record_refs(*, kind: str | None = None) -> st.SearchStrategy[RecordRef]:
    """Record identities; `kind` pins the kind."""
    return st.builds(RecordRef, kind=_pinned(kind, ids()), id=ids())


def records(*, kind: str | None = None, tenant: str | None = None, id: str | None = None) -> st.SearchStrategy[Record]:
    """Tracked records, some shared or offered, some with a name, status, number, labels or record groups."""
    return st.builds(
        Record,
        kind=_pinned(kind, ids()),
        id=_pinned(id, ids()),
        tenant=_pinned(tenant, ids()),
        created_at=moments(),
        shared_with=st.frozensets(ids(), max_size=2),
        offered_to=st.frozensets(ids(), max_size=2),
        name=st.none() | names(),
        status=st.none() | ids(),
        number=st.none() | ids(),
        labels=st.frozensets(ids(), max_size=2),
        groups=st.frozensets(ids(), max_size=2),
    )


def assignments(
    *, record: RecordRef | None = None, role: str | None = None, tenant: str | None = None
) -> st.SearchStrategy[Assignment]:
    """Assignments of any assignee to any role; each knob pins its field."""
    return st.builds(
        Assignment,
        record=_pinned(record, record_refs()),
        role=_pinned(role, ids()),
        assignee=assignees(),
        tenant=_pinned(tenant, ids()),
        since=moments(),
        actor=st.none() | ids(),
    )


def _events_of(cls: type[Event], record: RecordRef | None) -> st.SearchStrategy[Event]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        "record": _pinned(record, record_refs()),
        "tenant": ids(),
        "actor": st.none() | ids(),
        "at": moments(),
        "private_to": st.none() | ids(),
    }
    if cls in (Assigned, Unassigned):
        fields |= {"role": ids(), "assignee": assignees()}
    elif cls is ActivityRecorded:
        fields |= {"activity": ids()}
    elif cls is StatusChanged:
        fields |= {"source": st.none() | ids(), "target": ids()}
    return st.builds(cls, **fields)


def events(*, record: RecordRef | None = None, types: Sequence[type[Event]] | None = None) -> st.SearchStrategy[Event]:
    """Events of every class, or of `types` only; `record` pins the record they are about."""
    return st.one_of(*(_events_of(cls, record) for cls in (types or EVENT_TYPES)))


# --- notifications -------------------------------------------------------------------------------


def activities(*, roles: list[str] | None = None) -> st.SearchStrategy[Activity]:
    """Activities heard of by every notified role, or by some of `roles` (any ids if None; none if empty)."""
    if roles is not None and not roles:
        return st.builds(Activity, name=ids())
    drawn = st.sampled_from(roles) if roles else ids()
    return st.builds(Activity, name=ids(), roles=st.none() | st.frozensets(drawn, max_size=3))


def notifications(*, recipient: str | None = None) -> st.SearchStrategy[Notification]:
    """Notifications of any activity, by push or in-app; `recipient` pins who is told."""
    return st.builds(
        Notification,
        key=ids(),
        recipient=_pinned(recipient, ids()),
        record=record_refs(),
        activity=ids(),
        actor=st.none() | ids(),
        at=moments(),
        channel=st.sampled_from(Channel),
    )


def outbox_entries() -> st.SearchStrategy[OutboxEntry]:
    """Outbox entries, pending or delivered, with attempts."""
    return st.builds(OutboxEntry, notification=notifications(), attempts=st.integers(0, 5), delivered=st.booleans())


def dispatch_reports() -> st.SearchStrategy[Dispatched]:
    """What one `dispatch` did: distinct keys, each either delivered or failed."""
    return _dispatch_reports()


@st.composite
def _dispatch_reports(draw: st.DrawFn) -> Dispatched:
    """What one `dispatch` did: distinct keys, each either delivered or failed."""
    keys = draw(st.lists(ids(), max_size=6, unique=True))
    delivered = draw(st.lists(st.booleans(), min_size=len(keys), max_size=len(keys)))
    return Dispatched(
        tuple(k for k, ok in zip(keys, delivered, strict=True) if ok),
        tuple(k for k, ok in zip(keys, delivered, strict=True) if not ok),
    )


# --- access: predicates, viewers, facts, decisions ---------------------------------------------------


def predicates(
    *, roles: Collection[str] | None = None, kinds: Collection[str] | None = None
) -> st.SearchStrategy[Predicate]:
    """Access rules built from the built-in leaves with ``&``, ``|`` and ``~``.

    Args:
        roles: the roles `holds` and `in_caretaker_group` may name; any ids if None, and
            neither leaf if empty.
        kinds: the kinds `restricted` may name; any ids if None, and no such leaf if empty.
    """
    constants = st.sampled_from([always, never, is_admin, same_tenant, shared_with_viewer])
    leaves: list[st.SearchStrategy[Predicate]] = [constants]
    if roles is None or roles:
        role_names = st.sampled_from(sorted(roles)) if roles else ids()
        named_roles = st.lists(role_names, min_size=1, max_size=3, unique=True)
        leaves += [named_roles.map(lambda r: holds(*r)), named_roles.map(lambda r: in_caretaker_group(*r))]
    if kinds is None or kinds:
        leaves.append((st.sampled_from(sorted(kinds)) if kinds else ids()).map(restricted))
    return _algebra(leaves)


def access_rules(*, roles: Collection[str] | None = None) -> st.SearchStrategy[Access]:
    """Who may view, edit and assign: each a predicate over `roles` (see `predicates`), or None for the default."""
    rule = st.none() | predicates(roles=roles)
    return st.builds(Access, view=rule, edit=rule, assign=rule)


def viewers(*, tenant: str | None = None, roles: Collection[str] | None = None) -> st.SearchStrategy[Viewer]:
    """What a predicate knows of who asks: a user of `tenant`, their groups, and the kind's `roles` available."""
    available = st.frozensets(st.sampled_from(sorted(roles))) if roles else st.frozensets(ids(), max_size=3)
    return st.builds(Viewer, user=users(tenant=tenant), groups=st.frozensets(ids(), max_size=3), available=available)


def facts(*, roles: Collection[str] | None = None) -> st.SearchStrategy[Facts]:
    """A record and its current assignments, in the slots of the tenants taking part; roles among `roles` if given."""
    return _facts(roles=roles)


@st.composite
def _facts(draw: st.DrawFn, *, roles: Collection[str] | None = None) -> Facts:
    """A record and its current assignments, in the slots of the tenants taking part; roles among `roles` if given."""
    record = draw(records())
    role_names = st.sampled_from(sorted(roles)) if roles else ids()
    slots = st.sampled_from(sorted(record.tenants))
    held = draw(
        st.lists(
            st.builds(
                Assignment,
                record=st.just(record.ref),
                role=role_names,
                assignee=assignees(),
                tenant=slots,
                since=moments(),
                actor=st.none() | ids(),
            ),
            max_size=4,
            unique_by=lambda a: (a.role, a.assignee, a.tenant),
        )
    )
    return Facts.of(record, held)


def reasons() -> st.SearchStrategy[Reason]:
    """Leaves of a rule, matched or not, with why."""
    return st.builds(Reason, leaf=names(), matched=st.booleans(), because=names())


def decisions() -> st.SearchStrategy[Decision]:
    """Decisions as `Ownership.explain` makes them: a drawn rule explained for a drawn viewer and record."""
    return _decisions()


@st.composite
def _decisions(draw: st.DrawFn) -> Decision:
    """Decisions as `Ownership.explain` makes them: a drawn rule explained for a drawn viewer and record."""
    roles = ("owner", "helper")
    rule = draw(predicates(roles=roles))
    seen = draw(facts(roles=roles))
    allowed, why = rule.explain(draw(viewers(roles=roles)), seen)
    return Decision(allowed, str(rule), why)


# --- policies and rulebooks ------------------------------------------------------------------------


def roles(*, name: str | None = None) -> st.SearchStrategy[Role]:
    """Consistent roles: bounds in order, and at least one kind of assignee; `name` pins the name."""
    return _roles(name=name)


@st.composite
def _roles(draw: st.DrawFn, *, name: str | None = None) -> Role:
    """Consistent roles: bounds in order, and at least one kind of assignee; `name` pins the name."""
    minimum = draw(st.integers(0, 2))
    maximum = draw(st.none() | st.integers(max(minimum, 1), 3))
    users_ok = draw(st.booleans())
    kinds = draw(st.frozensets(group_kinds()))
    everyone = draw(st.booleans()) or not (users_ok or kinds)
    return Role(
        name if name is not None else draw(ids()),
        min=minimum,
        max=maximum,
        users=users_ok,
        groups=kinds,
        everyone=everyone,
        grants_access=draw(st.booleans()),
        notified=draw(st.booleans()),
        requires=draw(st.none() | ids()),
        private=draw(st.booleans()),
    )


def auto_assigns(*, roles: Collection[str] | None = None) -> st.SearchStrategy[AssignActor]:
    """Triggers that make the acting user a holder of one of `roles` (any ids if None)."""
    return st.builds(AssignActor, on=st.sampled_from(Trigger), role=st.sampled_from(sorted(roles)) if roles else ids())


def states(*, name: str | None = None) -> st.SearchStrategy[State]:
    """Statuses, each refusing some of the operations; `name` pins the name."""
    return _states(name=name)


@st.composite
def _states(draw: st.DrawFn, *, name: str | None = None) -> State:
    """Statuses, each refusing some of the operations; `name` pins the name."""
    return State(name if name is not None else draw(ids()), refuses=draw(st.frozensets(st.sampled_from(OPERATIONS))))


def transitions(*, source: str | None = None, target: str | None = None) -> st.SearchStrategy[Transition]:
    """Ways from one status to another, confirmed or not; `source` and `target` pin the ends."""
    return st.builds(Transition, source=_pinned(source, ids()), target=_pinned(target, ids()), confirm=st.booleans())


def lifecycles() -> st.SearchStrategy[Lifecycle]:
    """Consistent lifecycles: distinct states, and every status they name among them."""
    return _lifecycles()


@st.composite
def _lifecycles(draw: st.DrawFn) -> Lifecycle:
    """Consistent lifecycles: distinct states, and every status they name among them."""
    state_names = draw(st.lists(ids(), min_size=1, max_size=4, unique=True))
    some = st.sampled_from(state_names)
    ways = draw(st.lists(st.tuples(some, some), max_size=6, unique=True))
    return Lifecycle(
        tuple(draw(states(name=n)) for n in state_names),
        initial=draw(some),
        transitions=tuple(Transition(s, t, confirm=draw(st.booleans())) for s, t in ways),
        imported=draw(st.none() | some),
        archived=draw(st.none() | some),
    )


def policies(*, kind: str | None = None) -> st.SearchStrategy[Policy]:
    """Consistent policies: distinct role names, triggers only on roles that take users.

    Some have their own access rules (a view rule reads only roles that grant
    access), some a lifecycle; `kind` pins the kind.
    """
    return _policies(kind=kind)


@st.composite
def _policies(draw: st.DrawFn, *, kind: str | None = None) -> Policy:
    """Consistent policies: distinct role names, triggers only on roles that take users.

    Some have their own access rules (a view rule reads only roles that grant
    access), some a lifecycle; `kind` pins the kind.
    """
    role_names = draw(st.lists(ids(), max_size=4, unique=True))
    drawn = tuple(draw(roles(name=n)) for n in role_names)
    for_users = [r.name for r in drawn if r.users]
    triggers = draw(st.lists(auto_assigns(roles=for_users), max_size=2)) if for_users else []
    listed = draw(st.none() | st.lists(activities(roles=role_names), max_size=3, unique_by=lambda a: a.name))
    granting = [r.name for r in drawn if r.grants_access]
    access = Access()
    if draw(st.booleans()):
        access = Access(
            view=draw(st.none() | predicates(roles=granting)),
            edit=draw(st.none() | predicates(roles=role_names)),
            assign=draw(st.none() | predicates(roles=role_names)),
        )
    return Policy(
        kind if kind is not None else draw(ids()),
        drawn,
        tuple(triggers),
        requires=draw(st.none() | ids()),
        access=access,
        activities=None if listed is None else tuple(listed),
        lifecycle=draw(st.none() | lifecycles()),
    )


def plans(*, name: str | None = None) -> st.SearchStrategy[Plan]:
    """Plans with a few features; `name` pins the name."""
    return st.builds(Plan, name=_pinned(name, ids()), features=st.frozensets(ids(), max_size=3))


def rulebooks(*, kinds: Sequence[str] | None = None) -> st.SearchStrategy[Rulebook]:
    """Consistent rulebooks: distinct kinds and plans, a default plan among them or none.

    Args:
        kinds: the record kinds it governs, in order; up to three drawn ids if None.
    """
    return _rulebooks(kinds)


@st.composite
def _rulebooks(draw: st.DrawFn, kinds: Sequence[str] | None) -> Rulebook:
    governed = list(kinds) if kinds is not None else draw(st.lists(ids(), max_size=3, unique=True))
    drawn_plans = draw(st.lists(plans(), max_size=3, unique_by=lambda p: p.name))
    default = draw(st.none() | st.sampled_from([p.name for p in drawn_plans])) if drawn_plans else None
    return Rulebook(tuple(draw(policies(kind=k)) for k in governed), tuple(drawn_plans), default)


# --- lifecycle, numbering, segments, distribution ---------------------------------------------------


def number_ranges() -> st.SearchStrategy[NumberRange]:
    """Number ranges: a short prefix, a width and the counter's next value."""
    return st.builds(
        NumberRange,
        prefix=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ-/", max_size=4),
        width=st.integers(1, 8),
        next=st.integers(0, 10**6),
    )


def criteria(*, roles: Collection[str] | None = None, territorial: bool = False) -> st.SearchStrategy[Criterion]:
    """Criteria built from the built-in ones with ``&``, ``|`` and ``~``.

    Args:
        roles: the roles `held_by` and `unassigned` may name; any ids if None, none if empty.
        territorial: only what a territory may read before a record has holders or groups:
            names, statuses and labels.
    """
    leaves: list[st.SearchStrategy[Criterion]] = [
        st.just(ANYTHING),
        names().map(named),
        st.lists(ids(), max_size=3).map(lambda statuses: status_in(*statuses)),
        ids().map(labelled),
    ]
    if not territorial:
        some_roles = st.lists(st.sampled_from(sorted(roles)) if roles else ids(), max_size=2, unique=True)
        leaves.append(ids().map(in_group))
        leaves.append(
            st.builds(
                lambda who, r, through: held_by(who, *r, through_groups=through), assignees(), some_roles, st.booleans()
            )
        )
        if roles is None or roles:
            one_or_two = st.lists(
                st.sampled_from(sorted(roles)) if roles else ids(), min_size=1, max_size=2, unique=True
            )
            leaves.append(one_or_two.map(lambda r: unassigned(*r)))
    return _algebra(leaves)


def segments(
    *, kind: str | None = None, roles: Collection[str] | None = None, saved: bool | None = None
) -> st.SearchStrategy[Segment]:
    """Segments of criteria over `roles`; saved ones (`saved` pins which) have an id and a tenant."""
    return _segments(kind=kind, roles=roles, saved=saved)


@st.composite
def _segments(
    draw: st.DrawFn, *, kind: str | None = None, roles: Collection[str] | None = None, saved: bool | None = None
) -> Segment:
    """Segments of criteria over `roles`; saved ones (`saved` pins which) have an id and a tenant."""
    keep = draw(st.booleans()) if saved is None else saved
    return Segment(
        kind if kind is not None else draw(ids()),
        draw(criteria(roles=roles)),
        draw(names()),
        id=draw(ids()) if keep else None,
        tenant=draw(ids()) if keep else None,
    )


def round_robins(*, role: str | None = None, group: str | None = None) -> st.SearchStrategy[RoundRobin]:
    """Members of a group taking turns at a role; each knob pins its field."""
    return st.builds(RoundRobin, role=_pinned(role, ids()), group=_pinned(group, ids()))


def least_loads(*, role: str | None = None, group: str | None = None) -> st.SearchStrategy[LeastLoad]:
    """The least loaded member of a group taking a role; each knob pins its field."""
    return st.builds(LeastLoad, role=_pinned(role, ids()), group=_pinned(group, ids()))


def to_groups(*, role: str | None = None, group: str | None = None) -> st.SearchStrategy[ToGroup]:
    """A group itself taking a role; each knob pins its field."""
    return st.builds(ToGroup, role=_pinned(role, ids()), group=_pinned(group, ids()))


def _picks(role: str | None, group: str | None) -> st.SearchStrategy[Pick]:
    return st.one_of(
        round_robins(role=role, group=group), least_loads(role=role, group=group), to_groups(role=role, group=group)
    )


def territories(*, role: str | None = None, group: str | None = None) -> st.SearchStrategy[Territory]:
    """Rules that pick only for records meeting criteria a territory may read (names, statuses, labels)."""
    return st.builds(Territory, criteria=criteria(territorial=True), rule=_picks(role, group))


def distribution_rules(*, role: str | None = None, group: str | None = None) -> st.SearchStrategy[Rule]:
    """Auto-assignment rules of every shape; `role` and `group` pin what they fill and draw from."""
    return st.one_of(_picks(role, group), territories(role=role, group=group))


def auto_assignments(*, kind: str | None = None) -> st.SearchStrategy[AutoAssignment]:
    """A tenant's auto-assignment rules for one kind, in order; `kind` pins the kind."""
    return st.builds(AutoAssignment, kind=_pinned(kind, ids()), rules=st.lists(distribution_rules(), max_size=3))


# --- filters ---------------------------------------------------------------------------------------


def filters(
    *, tenants: Collection[str] | None = None, roles: Collection[str] | None = None
) -> st.SearchStrategy[Filter]:
    """Filter trees of every node, as `Ownership.filter` hands to a repository; knobs narrow tenants and roles."""
    tenant_ids = st.sampled_from(sorted(tenants)) if tenants else ids()
    role_names = st.sampled_from(sorted(roles)) if roles else ids()
    leaves: st.SearchStrategy[Filter] = st.one_of(
        st.just(EVERYTHING),
        st.just(NOTHING),
        tenant_ids.map(HomeIs),
        tenant_ids.map(SharedWith),
        st.builds(
            HasAssignee,
            roles=st.frozensets(role_names, max_size=2),
            assignees=st.frozensets(assignees(), max_size=3),
            tenant=tenant_ids,
        ),
        st.builds(Held, roles=st.frozensets(role_names, max_size=2), tenant=tenant_ids),
        st.frozensets(ids(), max_size=2).map(StatusIn),
        names().map(NameHas),
        ids().map(Labelled),
        ids().map(InGroup),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda parts: And(tuple(parts))),
            st.lists(inner, min_size=2, max_size=3).map(lambda parts: Or(tuple(parts))),
            inner.map(Not),
        ),
        max_leaves=6,
    )


# --- what the service returns ----------------------------------------------------------------------


def _json_data() -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers(-(2**31), 2**31) | names(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names(), inner, max_size=3),
        max_leaves=8,
    )


def tenant_settings(*, tenant: str | None = None) -> st.SearchStrategy[Setting]:
    """A tenant's settings as a snapshot lists them: a key and JSON-ready data; `tenant` pins whose."""
    return st.builds(Setting, tenant=_pinned(tenant, ids()), key=ids(), value=_json_data())


def findings() -> st.SearchStrategy[Finding]:
    """Findings of every kind the audit reports, about any subject."""
    return st.builds(Finding, kind=st.sampled_from(FINDING_KINDS), subject=ids(), message=names())


def rows(*, kind: str | None = None) -> st.SearchStrategy[Row]:
    """Listed records, each with assignments of its own; `kind` pins the kind."""
    return _rows(kind=kind)


@st.composite
def _rows(draw: st.DrawFn, *, kind: str | None = None) -> Row:
    """Listed records, each with assignments of its own; `kind` pins the kind."""
    record = draw(records(kind=kind))
    seen = draw(facts()).assignments
    return Row(record, tuple(Assignment(record.ref, a.role, a.assignee, a.tenant, a.since, a.actor) for a in seen))


def pages(*, kind: str | None = None) -> st.SearchStrategy[Page]:
    """Pages of rows of one kind, in id order, each id once, with a cursor or at the end."""
    return _pages(kind=kind)


@st.composite
def _pages(draw: st.DrawFn, *, kind: str | None = None) -> Page:
    """Pages of rows of one kind, in id order, each id once, with a cursor or at the end."""
    one_kind = kind if kind is not None else draw(ids())
    listed = draw(st.lists(rows(kind=one_kind), max_size=4, unique_by=lambda row: row.record.id))
    listed.sort(key=lambda row: row.record.id)
    more = bool(listed) and draw(st.booleans())
    return Page(tuple(listed), listed[-1].record.id if more else None)


# --- worlds ----------------------------------------------------------------------------------------

_TENANT_IDS = ("acme", "globex", "initech", "umbrella")
_FIRST_NAMES = ("ada", "bob", "cyd", "dee", "eve", "fay", "gus", "hal")
_RECORD_NAMES = ("Müller GmbH", "MÜLLER & Söhne", "Straße 5", "Acme Lamps", "50%_off", "Complicated Lamp")
_LABELS = ("north", "south", "web")


@frozen
class World:
    """A consistent state of `ownership`, as plain values: what `worlds()` draws.

    Every record's holders keep the rulebook: each role the home tenant has is
    held by at least its minimum and at most its maximum, by assignees the
    role takes, of the home tenant; users hold roles only while active.
    Everything is listed in the order `Ownership.snapshot` lists it, so the
    snapshot of a built world shows these very values.

    Attributes:
        rulebook: the rules the state keeps.
        at: the moment it is built at: every record's creation and every holder's start.
        tenants: the tenants, by id, each on a plan of the rulebook and with some of its features switched on.
        users: the users, by tenant and id; some inactive, some admins, some with restricted kinds.
        groups: the groups of every kind, by tenant and id; none personal.
        memberships: links of users to groups of their tenant, by group and user; some end before `at`.
        records: the records, by tenant, kind and id, with names, statuses, numbers and labels, none shared.
        assignments: the holders, record by record, in the order they were given; none names an actor.
    """

    rulebook: Rulebook
    at: datetime
    tenants: tuple[Tenant, ...]
    users: tuple[User, ...]
    groups: tuple[Group, ...]
    memberships: tuple[Membership, ...]
    records: tuple[Record, ...]
    assignments: tuple[Assignment, ...]

    def build(
        self,
        repository: Repository | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        ids: Callable[[], str] | None = None,
        notifier: Notifier | None = None,
    ) -> Ownership:
        """Return a new `Ownership` over `repository` with the world written into it by `fill`.

        Args:
            repository: an empty repository; a new `MemoryRepository` if None.
            clock: the clock of the `Ownership`; a `FakeClock` showing `at` if None. Built with a clock
                showing another moment, records and holders start at that moment instead.
            ids: makes ids for what is created later without one; the library's default if None.
            notifier: the `Notifier` the `Ownership` dispatches to, if any.

        Raises:
            DuplicateIdError: the repository holds a tenant, user, group or record of the world already.
        """
        store = repository if repository is not None else MemoryRepository()
        moment = clock if clock is not None else FakeClock(self.at)
        own = (
            Ownership(self.rulebook, store, clock=moment, notifier=notifier)
            if ids is None
            else Ownership(self.rulebook, store, clock=moment, notifier=notifier, ids=ids)
        )
        self.fill(own)
        return own

    def fill(self, own: Ownership) -> None:
        """Write the world into `own`, whose repository is empty, through its public use cases.

        Users are added active, join their groups and take their roles, and
        those the world has inactive are deactivated last; records are created
        by the host (no actor, not by hand), so no trigger adds a holder the
        world lacks. `own` must have the world's rulebook.

        Raises:
            DuplicateIdError: the repository holds a tenant, user, group or record of the world already.
        """
        for tenant in self.tenants:
            own.add_tenant(tenant.id, name=tenant.name, plan=tenant.plan, switches=tenant.switches)
        for user in self.users:
            own.add_user(user.tenant, user.name, id=user.id, admin=user.admin, profile=user.profile)
        for group in self.groups:
            own.add_group(group.tenant, group.name, group.kind, id=group.id)
        for membership in self.memberships:
            own.add_member(membership.group, membership.user, until=membership.until)
        for record in self.records:
            holders: dict[str, list[Assignee]] = {}
            for a in self.assignments:
                if a.record == record.ref:
                    holders.setdefault(a.role, []).append(a.assignee)
            own.create(
                record.kind,
                actor=None,
                tenant=record.tenant,
                id=record.id,
                holders=holders,
                manual=False,
                name=record.name,
                status=record.status,
                number=record.number,
                labels=record.labels,
            )
        for user in self.users:
            if not user.active:
                own.update_user(user.id, active=False)

    def holders(self, record: Record | RecordRef, role: str) -> tuple[Assignee, ...]:
        """Return who holds `role` of `record` in this world, in the order they were given."""
        ref = record.ref if isinstance(record, Record) else record
        return tuple(a.assignee for a in self.assignments if a.record == ref and a.role == role)


def _features_named(book: Rulebook) -> list[str]:
    """Every feature the rulebook names, in a kind's or role's `requires` or in a plan, sorted."""
    return sorted(
        {p.requires for p in book.policies if p.requires}
        | {r.requires for p in book.policies for r in p.roles if r.requires}
        | {f for plan in book.plans for f in plan.features}
    )


def _candidates(role: Role, tenant: str, people: Sequence[User], teams: Sequence[Group]) -> list[Assignee]:
    """Every assignee `role` takes in `tenant`'s slot: its active users, its groups of kinds it takes, everyone."""
    return [
        *(Assignee.user(u.id) for u in people if role.users and u.tenant == tenant and u.active),
        *(Assignee.group(g.id) for g in teams if g.tenant == tenant and g.kind in role.groups),
        *([EVERYONE] if role.everyone else []),
    ]


def worlds(
    *,
    rulebook: Rulebook | None = None,
    max_tenants: int = 2,
    max_users: int = 3,
    max_groups: int = 2,
    max_records: int = 6,
    at: datetime | None = None,
) -> st.SearchStrategy[World]:
    """Consistent worlds: a rulebook, and tenants, users, groups, memberships and records that keep it.

    Build one with `World.build`. Ids are memorable: tenants ``acme``,
    ``globex``, ...; users ``acme-ada``; groups ``acme-team-1``; records ``R-1``, ...

    Args:
        rulebook: the rules; drawn by `rulebooks()` if None (pass a preset to test your own).
        max_tenants: at most this many tenants, and at least one.
        max_users: at most this many users per tenant, and at least one.
        max_groups: at most this many groups per tenant.
        max_records: at most this many records in all; a kind whose mandatory roles a tenant
            cannot fill is never drawn for it.
        at: the moment the world is built at; the start of `FakeClock` if None.
    """
    return _worlds(
        rulebook=rulebook,
        max_tenants=max_tenants,
        max_users=max_users,
        max_groups=max_groups,
        max_records=max_records,
        at=at,
    )


@st.composite
def _worlds(
    draw: st.DrawFn,
    *,
    rulebook: Rulebook | None,
    max_tenants: int,
    max_users: int,
    max_groups: int,
    max_records: int,
    at: datetime | None,
) -> World:
    book = rulebook if rulebook is not None else draw(rulebooks())
    moment = at if at is not None else FakeClock().now
    count = draw(st.integers(1, max(1, max_tenants)))
    tenant_ids = [*_TENANT_IDS, *(f"tenant-{n}" for n in range(len(_TENANT_IDS), count))][:count]
    features = _features_named(book)
    plan_names = [p.name for p in book.plans] + ([] if book.default_plan is not None else [None])
    made_tenants = sorted(
        (
            Tenant(
                t,
                t.title(),
                draw(st.sampled_from(plan_names), label=f"plan of {t}") if plan_names else None,
                draw(st.frozensets(st.sampled_from(features)), label=f"switches of {t}") if features else frozenset(),
            )
            for t in tenant_ids
        ),
        key=lambda tenant: tenant.id,
    )
    people: list[User] = []
    teams: list[Group] = []
    links: list[Membership] = []
    restrictable = st.frozensets(st.sampled_from(book.kinds), max_size=2) if book.kinds else st.just(frozenset())
    for t in tenant_ids:
        firsts = draw(st.lists(st.sampled_from(_FIRST_NAMES), min_size=1, max_size=max(1, max_users), unique=True))
        for first in sorted(firsts):
            people.append(
                User(
                    f"{t}-{first}",
                    t,
                    first.title(),
                    active=draw(st.integers(0, 4), label="inactive one in five") > 0,
                    admin=draw(st.integers(0, 3), label="admin one in four") == 0,
                    profile=Profile(restricted=draw(restrictable), push=draw(st.booleans())),
                )
            )
        kinds = draw(st.lists(group_kinds(), max_size=max_groups))
        mine = [u for u in people if u.tenant == t]
        for n, kind in enumerate(kinds, 1):
            group = Group(f"{t}-{kind.value}-{n}", t, f"{kind.value.title()} {n}", kind)
            teams.append(group)
            for user in draw(st.lists(st.sampled_from(mine), max_size=len(mine), unique=True)):
                hours = draw(st.none() | st.integers(-48, 48), label="membership ends in hours")
                links.append(Membership(group.id, user.id, None if hours is None else moment + timedelta(hours=hours)))
    teams.sort(key=lambda g: (g.tenant, g.id))
    place = {g.id: n for n, g in enumerate(teams)}
    links.sort(key=lambda m: (place[m.group], m.user))

    def available(policy: Policy, tenant: Tenant) -> list[Role] | None:
        """The roles `policy` has for `tenant`, or None if the tenant cannot create its records."""
        has = book.features(tenant)
        if policy.requires is not None and policy.requires not in has:
            return None
        present = [r for r in policy.roles if r.requires is None or r.requires in has]
        if any(len(_candidates(r, tenant.id, people, teams)) < r.min for r in present):
            return None
        return present

    creatable = [
        (tenant, policy, present)
        for tenant in made_tenants
        for policy in book.policies
        if (present := available(policy, tenant)) is not None
    ]
    made_records: list[Record] = []
    held: dict[RecordRef, list[Assignment]] = {}
    total = draw(st.integers(0, max_records)) if creatable else 0
    for n in range(1, total + 1):
        tenant, policy, present = draw(st.sampled_from(creatable), label=f"home and kind of R-{n}")
        lifecycle = policy.lifecycle
        record = Record(
            policy.kind,
            f"R-{n}",
            tenant.id,
            moment,
            name=draw(st.none() | st.sampled_from(_RECORD_NAMES)),
            status=draw(st.sampled_from(lifecycle.names)) if lifecycle is not None else None,
            number=draw(st.none() | st.just(f"N-{n}")),
            labels=draw(st.frozensets(st.sampled_from(_LABELS), max_size=2)),
        )
        made_records.append(record)
        for role in present:
            options = _candidates(role, tenant.id, people, teams)
            most = min(len(options), role.max if role.max is not None else role.min + 2)
            chosen = draw(st.permutations(options), label=f"candidates for {role.name}")[
                : draw(st.integers(role.min, max(role.min, most)), label=f"holders of {role.name}")
            ]
            held.setdefault(record.ref, []).extend(
                Assignment(record.ref, role.name, who, tenant.id, moment) for who in chosen
            )
    made_records.sort(key=lambda r: (r.tenant, r.kind, r.id))
    return World(
        book,
        moment,
        tuple(made_tenants),
        tuple(sorted(people, key=lambda u: (u.tenant, u.id))),
        tuple(teams),
        tuple(links),
        tuple(made_records),
        tuple(a for r in made_records for a in held.get(r.ref, ())),
    )


def snapshots(*, rulebook: Rulebook | None = None) -> st.SearchStrategy[Snapshot]:
    """Snapshots of consistent states: a world drawn by `worlds(rulebook=...)`, built in memory, then read whole.

    Each holds the history and the outbox its building wrote, so it can be restored into an empty repository.
    """
    return worlds(rulebook=rulebook).map(lambda world: world.build().snapshot())
