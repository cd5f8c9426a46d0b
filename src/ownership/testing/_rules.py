"""Strategies for the rules: predicates, policies, rulebooks, lifecycles, criteria, distribution rules and filters.

`ownership.testing.strategies` shows them; they live here so that no module of the kit grows past a screenful of
sections.
"""

from collections.abc import Collection, Sequence

from hypothesis import strategies as st

from ownership.access import (
    Decision,
    Facts,
    Predicate,
    Reason,
    Viewer,
    always,
    granted,
    held_within_team,
    holds,
    in_caretaker_group,
    is_admin,
    never,
    restricted,
    same_tenant,
    shared_with_viewer,
    viewer_has,
    viewer_in,
)
from ownership.distribution import AutoAssignment, LeastLoad, Pick, RoundRobin, Rule, Territory, ToGroup
from ownership.filters import (
    EVERYTHING,
    NOTHING,
    And,
    Filter,
    HasAssignee,
    Held,
    HomeIs,
    IdIn,
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
    LEVELS,
    Assignment,
)
from ownership.numbering import NumberRange
from ownership.policy import Access, AssignActor, Plan, Policy, Role, Rulebook, Trigger
from ownership.segments import ANYTHING, Criterion, Segment, held_by, in_group, labelled, named, status_in, unassigned
from ownership.testing._values import (
    _algebra,
    _pinned,
    activities,
    assignees,
    group_kinds,
    ids,
    moments,
    names,
    records,
    users,
)

# --- access: predicates, viewers, facts, decisions ---------------------------------------------------

TRAITS = ("chief", "trainee")
"""The traits drawn users have, and drawn rules read (`viewer_has`)."""


def predicates(
    *, roles: Collection[str] | None = None, kinds: Collection[str] | None = None, grants: bool = True
) -> st.SearchStrategy[Predicate]:
    """Access rules built from the built-in leaves with ``&``, ``|`` and ``~``.

    Traits `viewer_has` names are among `TRAITS`, as worlds' users have them.

    Args:
        roles: the roles `holds`, `in_caretaker_group` and `held_within_team` may name; any ids
            if None, and none of those leaves if empty.
        kinds: the kinds `restricted` may name; any ids if None, and no such leaf if empty.
        grants: whether `granted` leaves are drawn too (an assign rule reads none).
    """
    constants = st.sampled_from([always, never, is_admin, same_tenant, shared_with_viewer])
    leaves: list[st.SearchStrategy[Predicate]] = [
        constants,
        st.sampled_from(TRAITS).map(viewer_has),
        ids().map(viewer_in),
        *([st.sampled_from(LEVELS).map(granted)] if grants else []),
    ]
    if roles is None or roles:
        role_names = st.sampled_from(sorted(roles)) if roles else ids()
        named_roles = st.lists(role_names, min_size=1, max_size=3, unique=True)
        leaves += [named_roles.map(lambda r: holds(*r)), named_roles.map(lambda r: in_caretaker_group(*r))]
        depths = st.none() | st.integers(1, 3)
        leaves.append(st.builds(lambda r, depth: held_within_team(*r, depth=depth), named_roles, depths))
    if kinds is None or kinds:
        leaves.append((st.sampled_from(sorted(kinds)) if kinds else ids()).map(restricted))
    return _algebra(leaves)


def access_rules(*, roles: Collection[str] | None = None) -> st.SearchStrategy[Access]:
    """Who may view, edit and assign: each a predicate over `roles` (see `predicates`), or None for the default.

    The assign rule reads no grant, as a policy takes none there.
    """
    rule = st.none() | predicates(roles=roles)
    return st.builds(Access, view=rule, edit=rule, assign=st.none() | predicates(roles=roles, grants=False))


def viewers(*, tenant: str | None = None, roles: Collection[str] | None = None) -> st.SearchStrategy[Viewer]:
    """What a predicate knows of who asks: a user of `tenant`, their groups, and the kind's `roles` available."""
    available = st.frozensets(st.sampled_from(sorted(roles))) if roles else st.frozensets(ids(), max_size=3)
    team = st.dictionaries(ids(), st.integers(1, 3), max_size=3)
    return st.builds(
        Viewer, user=users(tenant=tenant), groups=st.frozensets(ids(), max_size=3), available=available, team=team
    )


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


def reasons(*, matched: bool | None = None) -> st.SearchStrategy[Reason]:
    """Leaves of a rule, matched or not (`matched` pins it), with why."""
    return st.builds(Reason, leaf=names(), matched=_pinned(matched, st.booleans()), because=names())


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
            assign=draw(st.none() | predicates(roles=role_names, grants=False)),
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
        st.frozensets(ids(), max_size=3).map(IdIn),
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
