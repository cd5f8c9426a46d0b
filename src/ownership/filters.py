"""The `Filter` tree: what an access predicate becomes once the viewer is known, and what storage runs.

A filter speaks only of a record's own facts (its home tenant, whom it is
shared with, who holds which role in which tenant's slot); everything about the
viewer has been resolved into constants and sets before it is built (X6).
Build filters with `all_of`, `any_of` and `negate`, which fold constants away,
so an admin's filter is `EVERYTHING` and an impossible one is `NOTHING`.

A filter keeps its hash once worked out: stores and hosts look compiled
statements up by the filter on every request.
"""

from collections.abc import Callable, Iterable, Sequence

from attrs import field, frozen, resolve_types

from ownership.model import Assignee, Assignment, Record, names


def _assignees(items: Iterable[Assignee]) -> frozenset[Assignee]:
    return frozenset(items)


@frozen(cache_hash=True)
class Everything:
    """Matches every record."""

    def __str__(self) -> str:
        return "everything"


@frozen(cache_hash=True)
class Nothing:
    """Matches no record."""

    def __str__(self) -> str:
        return "nothing"


EVERYTHING = Everything()
NOTHING = Nothing()


@frozen(cache_hash=True)
class HomeIs:
    """The record's home tenant is `tenant`."""

    tenant: str

    def __str__(self) -> str:
        return f"home = {self.tenant!r}"


@frozen(cache_hash=True)
class SharedWith:
    """The record is shared with `tenant` (accepted there)."""

    tenant: str

    def __str__(self) -> str:
        return f"shared with {self.tenant!r}"


@frozen(cache_hash=True)
class HasAssignee:
    """One of `roles` is held, in `tenant`'s slot, by one of `assignees`."""

    roles: frozenset[str] = field(converter=names)
    assignees: frozenset[Assignee] = field(converter=_assignees)
    tenant: str

    def __str__(self) -> str:
        roles = ", ".join(sorted(self.roles))
        who = ", ".join(str(a) for a in sorted(self.assignees))
        return f"({roles}) held by any of ({who}) in {self.tenant!r}"


@frozen(cache_hash=True)
class Held:
    """One of `roles` has a holder, any holder, in `tenant`'s slot; negated, the role is unassigned (CT5, CG2)."""

    roles: frozenset[str] = field(converter=names)
    tenant: str

    def __str__(self) -> str:
        return f"({', '.join(sorted(self.roles))}) held in {self.tenant!r}"


@frozen(cache_hash=True)
class StatusIn:
    """The record's status is one of `statuses` (CT1); a record without a status matches none."""

    statuses: frozenset[str] = field(converter=names)

    def __str__(self) -> str:
        return f"status in ({', '.join(sorted(self.statuses))})"


@frozen(cache_hash=True)
class NameHas:
    """The record's name contains `text`, ignoring case (`str.casefold`); a record with no name has the name ``""``."""

    text: str

    def __str__(self) -> str:
        return f"name contains {self.text!r}"


@frozen(cache_hash=True)
class Labelled:
    """The host tagged the record with `label`."""

    label: str

    def __str__(self) -> str:
        return f"labelled {self.label!r}"


@frozen(cache_hash=True)
class InGroup:
    """The record belongs to the record group with id `group` (CT6)."""

    group: str

    def __str__(self) -> str:
        return f"in group {self.group!r}"


@frozen(cache_hash=True)
class IdIn:
    """The record's id is one of `ids`: the records granted to a viewer (`granted`), resolved with them."""

    ids: frozenset[str] = field(converter=names)

    def __str__(self) -> str:
        return f"id in ({', '.join(map(repr, sorted(self.ids)))})"


def _parts(items: Iterable["Filter"]) -> tuple["Filter", ...]:
    return tuple(items)


@frozen(cache_hash=True)
class And:
    """Every part matches."""

    parts: tuple["Filter", ...] = field(converter=_parts)

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.parts)) + ")"


@frozen(cache_hash=True)
class Or:
    """At least one part matches."""

    parts: tuple["Filter", ...] = field(converter=_parts)

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.parts)) + ")"


@frozen(cache_hash=True)
class Not:
    """The part does not match."""

    part: "Filter"

    def __str__(self) -> str:
        return f"NOT {self.part}"


Filter = (
    Everything
    | Nothing
    | HomeIs
    | SharedWith
    | HasAssignee
    | Held
    | StatusIn
    | NameHas
    | Labelled
    | InGroup
    | IdIn
    | And
    | Or
    | Not
)
"""A filter tree node."""

FILTER_TYPES = (
    Everything,
    Nothing,
    HomeIs,
    SharedWith,
    HasAssignee,
    Held,
    StatusIn,
    NameHas,
    Labelled,
    InGroup,
    IdIn,
    And,
    Or,
    Not,
)
"""Every class of filter node, for ``isinstance`` checks."""

for _branch in (And, Or, Not):
    # Their parts name `Filter` before it exists; resolved now, so cattrs can read a nested tree back.
    resolve_types(_branch, globals())


def all_of(*parts: Filter) -> Filter:
    """Return the filter that matches when every part does, with constants folded away."""
    kept: list[Filter] = []
    for part in parts:
        if isinstance(part, Nothing):
            return NOTHING
        if isinstance(part, And):
            kept.extend(part.parts)
        elif not isinstance(part, Everything):
            kept.append(part)
    if not kept:
        return EVERYTHING
    return kept[0] if len(kept) == 1 else And(tuple(kept))


def any_of(*parts: Filter) -> Filter:
    """Return the filter that matches when some part does, with constants folded away."""
    kept: list[Filter] = []
    for part in parts:
        if isinstance(part, Everything):
            return EVERYTHING
        if isinstance(part, Or):
            kept.extend(part.parts)
        elif not isinstance(part, Nothing):
            kept.append(part)
    if not kept:
        return NOTHING
    return kept[0] if len(kept) == 1 else Or(tuple(kept))


def negate(part: Filter) -> Filter:
    """Return the filter that matches when `part` does not, with constants folded away."""
    if isinstance(part, Everything):
        return NOTHING
    if isinstance(part, Nothing):
        return EVERYTHING
    if isinstance(part, Not):
        return part.part
    return Not(part)


def without_implied_participation(filter: Filter) -> Filter:
    """`filter` without its tests that a tenant takes part (``home is t OR shared with t``) that its holdings imply.

    A holding in tenant t's slot is only ever kept on a record t takes part in: the
    use cases write holdings in the slots of the tenants taking part, and a snapshot
    that breaks this is refused. So where every record a filter's other parts match
    has a holding in t's slot, the test that t takes part adds nothing, and a store
    can find those records from the holders' index alone. The result matches the
    same records as `filter` on every state the library keeps.
    """
    if not isinstance(filter, And):
        return filter
    slots = {slot for part in filter.parts if (slot := _slot_held(part)) is not None}
    return all_of(*(part for part in filter.parts if _participation(part) not in slots))


def _slot_held(filter: Filter) -> str | None:
    """The tenant in whose slot every record `filter` matches has a holding, or None when there is no one such."""
    if isinstance(filter, HasAssignee | Held):
        return filter.tenant
    if isinstance(filter, Or):
        slots = {_slot_held(part) for part in filter.parts}
        return slots.pop() if len(slots) == 1 else None
    if isinstance(filter, And):
        return next((slot for part in filter.parts if (slot := _slot_held(part)) is not None), None)
    return None


def matches(filter: Filter, record: Record, assignments: Sequence[Assignment]) -> bool:  # noqa: PLR0911 - a case per node
    """Return whether one record, with its current assignments, matches `filter`.

    This is the reference meaning of every filter; each repository's way of
    running filters must agree with it.
    """
    if isinstance(filter, Everything):
        return True
    if isinstance(filter, Nothing):
        return False
    if isinstance(filter, HomeIs):
        return record.tenant == filter.tenant
    if isinstance(filter, SharedWith):
        return filter.tenant in record.shared_with
    if isinstance(filter, HasAssignee):
        return any(
            a.role in filter.roles and a.tenant == filter.tenant and a.assignee in filter.assignees for a in assignments
        )
    if isinstance(filter, And):
        return all(matches(part, record, assignments) for part in filter.parts)
    if isinstance(filter, Or):
        return any(matches(part, record, assignments) for part in filter.parts)
    if isinstance(filter, Not):
        return not matches(filter.part, record, assignments)
    return _matches_fact(filter, record, assignments)


def _matches_fact(
    filter: "Held | StatusIn | NameHas | Labelled | InGroup | IdIn", record: Record, assignments: Sequence[Assignment]
) -> bool:
    """The meaning of the nodes that test one fact of the record: holders at all, status, name, labels, groups, id."""
    if isinstance(filter, Held):
        return any(a.role in filter.roles and a.tenant == filter.tenant for a in assignments)
    if isinstance(filter, StatusIn):
        return record.status in filter.statuses
    if isinstance(filter, NameHas):
        return filter.text.casefold() in (record.name or "").casefold()
    if isinstance(filter, Labelled):
        return filter.label in record.labels
    if isinstance(filter, IdIn):
        return record.id in filter.ids
    return filter.group in record.groups


Test = Callable[[Record, Sequence[Assignment]], bool]
"""A filter turned into a plain function of one record and its assignments."""


def compiled(filter: Filter) -> Test:  # noqa: PLR0911 - a case per node
    """Return a function that answers as `matches` does for `filter`, with its sets built once.

    Holdings tested in one tenant's slot under an ``Or`` are merged into one
    set, so a rule of several roles costs one pass over the assignments.
    """
    if isinstance(filter, Everything):
        return lambda _record, _assignments: True
    if isinstance(filter, Nothing):
        return lambda _record, _assignments: False
    if isinstance(filter, HomeIs):
        tenant = filter.tenant
        return lambda record, _assignments: record.tenant == tenant
    if isinstance(filter, SharedWith):
        tenant = filter.tenant
        return lambda record, _assignments: tenant in record.shared_with
    if isinstance(filter, HasAssignee):
        return _holding_test(filter.tenant, frozenset((r, a) for r in filter.roles for a in filter.assignees))
    if isinstance(filter, Or):
        merged = [_holding_test(tenant, wanted) for tenant, wanted in _merged_holdings(filter.parts)]
        return _either([*merged, *(compiled(p) for p in filter.parts if not _holding(p))])
    if isinstance(filter, And):
        if len(filter.parts) == 2 and (fused := _fused(*filter.parts)) is not None:
            return fused
        tests = [compiled(part) for part in filter.parts]
        if len(tests) == 2:
            first, second = tests
            return lambda record, assignments: first(record, assignments) and second(record, assignments)
        return lambda record, assignments: all(test(record, assignments) for test in tests)
    if isinstance(filter, Not):
        test = compiled(filter.part)
        return lambda record, assignments: not test(record, assignments)
    fact = filter
    return lambda record, assignments: _matches_fact(fact, record, assignments)


def _fused(first: Filter, second: Filter) -> Test | None:
    """One function for the shape of most compiled access rules: the viewer's tenant takes part, and holds a role."""
    tenant = _participation(first)
    parts = _parts_if_or(second)
    if tenant is None or not all(map(_holding, parts)):
        return None
    holdings = _merged_holdings(parts)
    if len(holdings) != 1:
        return None
    slot, pairs = holdings[0]
    wanted = _by_role(pairs)
    nobody: frozenset[Assignee] = frozenset()

    def test(record: Record, assignments: Sequence[Assignment]) -> bool:
        if record.tenant != tenant and tenant not in record.shared_with:
            return False
        for a in assignments:  # noqa: SIM110 - a plain loop: this runs on every check
            if a.tenant == slot and a.assignee in wanted.get(a.role, nobody):
                return True
        return False

    return test


def _by_role(pairs: frozenset[tuple[str, Assignee]]) -> dict[str, frozenset[Assignee]]:
    roles: dict[str, set[Assignee]] = {}
    for role, assignee in pairs:
        roles.setdefault(role, set()).add(assignee)
    return {role: frozenset(assignees) for role, assignees in roles.items()}


def _parts_if_or(filter: Filter) -> tuple[Filter, ...]:
    return filter.parts if isinstance(filter, Or) else (filter,)


def _participation(filter: Filter) -> str | None:
    """The tenant of a filter that reads `home is t OR shared with t`, or None."""
    if isinstance(filter, Or) and len(filter.parts) == 2:
        home, shared = filter.parts
        if isinstance(home, HomeIs) and isinstance(shared, SharedWith) and home.tenant == shared.tenant:
            return home.tenant
    return None


def _holding(filter: Filter) -> bool:
    return isinstance(filter, HasAssignee)


def _merged_holdings(parts: Sequence[Filter]) -> list[tuple[str, frozenset[tuple[str, Assignee]]]]:
    """The (role, assignee) pairs wanted per tenant by every `HasAssignee` among `parts`."""
    wanted: dict[str, set[tuple[str, Assignee]]] = {}
    for part in parts:
        if isinstance(part, HasAssignee):
            wanted.setdefault(part.tenant, set()).update((r, a) for r in part.roles for a in part.assignees)
    return [(tenant, frozenset(pairs)) for tenant, pairs in wanted.items()]


def _holding_test(tenant: str, wanted: frozenset[tuple[str, Assignee]]) -> Test:

    def test(_record: Record, assignments: Sequence[Assignment]) -> bool:
        for a in assignments:  # noqa: SIM110 - a plain loop: this runs on every check
            if a.tenant == tenant and (a.role, a.assignee) in wanted:
                return True
        return False

    return test


def _either(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda record, assignments: first(record, assignments) or second(record, assignments)
    return lambda record, assignments: any(test(record, assignments) for test in tests)
