"""Criteria for finding records, and segments: criteria saved under a name (CT5, CT6, TL9).

A criterion reads as a sentence and combines with ``&``, ``|`` and ``~``:

    named("müller") & held_by(anna) & ~status_in("archive")

It speaks of a record's own facts and of named people, not of the viewer:
`Ownership.find` resolves it into a `Filter` when it runs (the groups a
holder is in *now*, the viewer's tenant's slots) and ANDs it with what the
viewer may see, so a saved segment stays right as people join and leave
groups. A `Segment` is a criterion of one kind with a name; saved, it is a
tenant's dynamic group.
"""

import abc
from collections.abc import Callable, Iterable, Iterator

from attrs import evolve, field, frozen

from ownership.errors import InvalidValueError
from ownership.filters import (
    EVERYTHING,
    NOTHING,
    Filter,
    HasAssignee,
    Held,
    HomeIs,
    InGroup,
    Labelled,
    NameHas,
    StatusIn,
    all_of,
    any_of,
    negate,
)
from ownership.model import (
    AN_ID,
    EVERYONE,
    Assignee,
    AssigneeKind,
    Group,
    Record,
    RecordRef,
    User,
    a_flag,
    a_name_set,
    a_text,
    an_id,
    an_optional_id,
    each,
    is_id,
    listed,
    names,
    one_of,
    shown,
)
from ownership.policy import Policy


@frozen
class Scope:
    """What resolving a criterion needs: whose slots to read, which roles exist, and who is in which group.

    Attributes:
        tenant: the viewer's tenant; holders are read in its slots.
        roles: the kind's roles that exist for that tenant, and for each whether it is private (LD7).
        groups_of: the ids of the groups a user is a live member of now.
        employs: whether a user (by id) is an employee of `tenant`, so that *everyone* of it stands for them (CT2).
    """

    tenant: str
    roles: tuple[tuple[str, bool], ...]
    groups_of: Callable[[str], Iterable[str]]
    employs: Callable[[str], bool]

    def pick(self, roles: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
        """Return the (shared, private) roles among `roles`, or among all if it is empty; unknown ones drop out."""
        known = dict(self.roles)
        wanted = roles or frozenset(known)
        return (
            frozenset(r for r in wanted if known.get(r) is False),
            frozenset(r for r in wanted if known.get(r) is True),
        )


class Criterion(abc.ABC):
    """A condition on records that `Ownership.find` runs in storage; combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    @abc.abstractmethod
    def resolve(self, scope: Scope) -> Filter:
        """Return the filter of the records that meet the criterion, as `scope`'s tenant sees them."""

    def reads(self) -> frozenset[str]:
        """Return the role names the criterion reads, so they can be checked against the kind."""
        return frozenset()

    def __and__(self, other: "Criterion") -> "Criterion":
        _check_joined("&", other)
        return Every((*_flat(self, Every), *_flat(other, Every)))

    def __or__(self, other: "Criterion") -> "Criterion":
        _check_joined("|", other)
        return Some((*_flat(self, Some), *_flat(other, Some)))

    def __invert__(self) -> "Criterion":
        return Without(self)


def _check_joined(operator: str, other: object) -> None:
    if not isinstance(other, Criterion):
        raise InvalidValueError(f"A criterion joins another criterion with {operator}, not {shown(other)}.")


def _criteria(items: Iterable[Criterion]) -> tuple[Criterion, ...]:
    return listed(items)


def _flat(criterion: Criterion, joint: "type[Every] | type[Some]") -> tuple[Criterion, ...]:
    """The parts of `criterion` if it is a `joint` already, so ``a & b & c`` is one `Every` of three."""
    return criterion.parts if isinstance(criterion, joint) else (criterion,)


@frozen
class Anything(Criterion):
    """Every record."""

    def resolve(self, scope: Scope) -> Filter:
        return EVERYTHING

    def __str__(self) -> str:
        return "anything"


@frozen
class NamedCriterion(Criterion):
    """The record's name contains `text`, ignoring case (CT5)."""

    text: str = field(validator=a_text)

    def resolve(self, scope: Scope) -> Filter:
        return NameHas(self.text)

    def __str__(self) -> str:
        return f"named {self.text!r}"


@frozen
class StatusInCriterion(Criterion):
    """The record is in one of `statuses` (CT1)."""

    statuses: frozenset[str] = field(converter=names, validator=a_name_set)

    def resolve(self, scope: Scope) -> Filter:
        return StatusIn(self.statuses) if self.statuses else NOTHING

    def __str__(self) -> str:
        return f"status in ({', '.join(sorted(self.statuses))})"


@frozen
class LabelledCriterion(Criterion):
    """The host tagged the record with `label` (a region, a source)."""

    label: str = field(validator=an_id)

    def resolve(self, scope: Scope) -> Filter:
        return Labelled(self.label)

    def __str__(self) -> str:
        return f"labelled {self.label!r}"


@frozen
class InGroupCriterion(Criterion):
    """The record belongs to the record group with id `group` (CT6)."""

    group: str = field(validator=an_id)

    def resolve(self, scope: Scope) -> Filter:
        return InGroup(self.group)

    def __str__(self) -> str:
        return f"in group {self.group!r}"


@frozen
class HeldByCriterion(Criterion):
    """`assignee` holds one of `roles` (any role if empty); a user also through the groups they are in (CT5, TL9).

    With `through_groups`, a user of the viewer's tenant also holds what
    *everyone* holds there (CT2), as `holds()` counts it, so a record the
    access rule says they hold is one this criterion finds. Without it, only
    what names the user themselves matches.

    Holders are read in the viewer's tenant's slots; a role that is not
    private to each tenant has its holders in the home tenant's slot, so for
    those only the viewer's tenant's own records can match.
    """

    assignee: Assignee = field(validator=one_of(Assignee))
    roles: frozenset[str] = field(default=frozenset(), converter=names, validator=a_name_set)
    through_groups: bool = field(default=True, validator=a_flag)

    def resolve(self, scope: Scope) -> Filter:
        standing = {self.assignee}
        if self.through_groups and self.assignee.kind is AssigneeKind.USER:
            standing |= {Assignee.group(g) for g in scope.groups_of(self.assignee.id)}
            if scope.employs(self.assignee.id):
                standing.add(EVERYONE)  # everyone of the tenant stands for each of its employees, as in holds()
        shared, private = scope.pick(self.roles)
        return any_of(
            all_of(HomeIs(scope.tenant), HasAssignee(shared, standing, scope.tenant)) if shared else NOTHING,
            HasAssignee(private, standing, scope.tenant) if private else NOTHING,
        )

    def reads(self) -> frozenset[str]:
        return self.roles

    def __str__(self) -> str:
        return f"held by {self.assignee}" + (f" as {', '.join(sorted(self.roles))}" if self.roles else "")


@frozen
class UnassignedCriterion(Criterion):
    """No one holds any of `roles` (CT5, CG2): work still to hand out.

    As for `HeldByCriterion`, a role not private to each tenant is read in the home
    tenant's slot, so only the viewer's tenant's own records match it.
    """

    roles: frozenset[str] = field(converter=names, validator=a_name_set)

    def resolve(self, scope: Scope) -> Filter:
        shared, private = scope.pick(self.roles)
        return all_of(
            all_of(HomeIs(scope.tenant), negate(Held(shared, scope.tenant))) if shared else EVERYTHING,
            negate(Held(private, scope.tenant)) if private else EVERYTHING,
        )

    def reads(self) -> frozenset[str]:
        return self.roles

    def __str__(self) -> str:
        return f"unassigned as {', '.join(sorted(self.roles))}"


@frozen
class Every(Criterion):
    """Every part holds."""

    parts: tuple[Criterion, ...] = field(converter=_criteria, validator=each(Criterion))

    def resolve(self, scope: Scope) -> Filter:
        return all_of(*(part.resolve(scope) for part in self.parts))

    def reads(self) -> frozenset[str]:
        return frozenset().union(*(part.reads() for part in self.parts))

    def __str__(self) -> str:
        return "(" + " and ".join(map(str, self.parts)) + ")"


@frozen
class Some(Criterion):
    """At least one part holds."""

    parts: tuple[Criterion, ...] = field(converter=_criteria, validator=each(Criterion))

    def resolve(self, scope: Scope) -> Filter:
        return any_of(*(part.resolve(scope) for part in self.parts))

    def reads(self) -> frozenset[str]:
        return frozenset().union(*(part.reads() for part in self.parts))

    def __str__(self) -> str:
        return "(" + " or ".join(map(str, self.parts)) + ")"


@frozen
class Without(Criterion):
    """The part does not hold."""

    part: Criterion = field(validator=one_of(Criterion))

    def resolve(self, scope: Scope) -> Filter:
        return negate(self.part.resolve(scope))

    def reads(self) -> frozenset[str]:
        return self.part.reads()

    def __str__(self) -> str:
        return f"not {self.part}"


ANYTHING = Anything()
"""The criterion every record meets."""


def named(text: str) -> Criterion:
    """Records whose name contains `text`, ignoring case (CT5)."""
    return NamedCriterion(text)


def status_in(*statuses: str) -> Criterion:
    """Records in one of these statuses (CT1)."""
    return StatusInCriterion(statuses)


def labelled(label: str) -> Criterion:
    """Records the host tagged with `label`."""
    return LabelledCriterion(label)


def in_group(group: Record | RecordRef | str) -> Criterion:
    """Records of the record group `group` (a record, its identity, or its id) (CT6).

    Raises:
        InvalidValueError: `group` is a group of users; find its records with `held_by`.
    """
    if isinstance(group, Group):
        raise InvalidValueError(
            f"{group.name!r} is a group of users, not a record group; held_by() finds the records it holds."
        )
    if isinstance(group, Record | RecordRef):
        return InGroupCriterion(group.id)
    if not is_id(group):
        raise InvalidValueError(
            f"in_group(): group takes a Record, a RecordRef or a record group's id ({AN_ID}), not {shown(group)}."
        )
    return InGroupCriterion(group)


def held_by(who: User | Group | Assignee | str, *roles: str, through_groups: bool = True) -> Criterion:
    """Records that `who` holds in one of `roles` (any role if none), a user also through their groups (CT5, TL9).

    `who` is a user, a group, an assignee, or a user's id. A user holds what
    they are assigned by name and, with `through_groups` (the default), what
    the groups they are a live member of hold and what *everyone* of their
    tenant holds (CT2): the holding `holds()` grants access by. With
    ``through_groups=False``, only what names them. `held_by(EVERYONE)`
    finds what is assigned to everyone.
    """
    if isinstance(who, User):
        assignee = Assignee.user(who.id)
    elif isinstance(who, Group):
        assignee = Assignee.group(who.id)
    elif isinstance(who, Assignee):
        assignee = who
    elif is_id(who):
        assignee = Assignee.user(who)
    else:
        raise InvalidValueError(
            f"held_by(): who takes a User, a Group, an Assignee or a user's id ({AN_ID}), not {shown(who)}."
        )
    return HeldByCriterion(assignee, roles, through_groups)


def unassigned(*roles: str) -> Criterion:
    """Records in which none of `roles` has a holder (CT5, CG2)."""
    return UnassignedCriterion(roles)


@frozen
class Segment:
    """Records of one kind that meet a criterion: a saved filter, a dynamic group (CT5, TL9).

    Build one to use once, or save it with `Ownership.save_segment`, which
    gives it an id and its tenant.

    Attributes:
        kind: the record kind it selects.
        criteria: what its records meet.
        name: a name to show people.
        id: its id among its tenant's segments, once saved.
        tenant: the tenant it was saved for, once saved.
        creator: the id of the user who first saved it; only they or an admin of its tenant may
            overwrite or delete it. None for a segment saved before creators were kept (admins only).
    """

    kind: str = field(validator=an_id)
    criteria: Criterion = field(default=ANYTHING, validator=one_of(Criterion))
    name: str = field(default="", validator=a_text)
    id: str | None = field(default=None, validator=an_optional_id)
    tenant: str | None = field(default=None, validator=an_optional_id)
    creator: str | None = field(default=None, kw_only=True, validator=an_optional_id)


def nodes(criteria: Criterion) -> Iterator[Criterion]:
    """Every criterion in the tree `criteria`, itself and its parts, depth first."""
    yield criteria
    if isinstance(criteria, Every | Some):
        for part in criteria.parts:
            yield from nodes(part)
    elif isinstance(criteria, Without):
        yield from nodes(criteria.part)


CRITERIA: dict[str, type[Criterion]] = {
    "Anything": Anything,
    "Named": NamedCriterion,
    "InStatus": StatusInCriterion,
    "HasLabel": LabelledCriterion,
    "InRecordGroup": InGroupCriterion,
    "HeldBy": HeldByCriterion,
    "Unassigned": UnassignedCriterion,
    "Every": Every,
    "Some": Some,
    "Without": Without,
}
"""Every class of criterion by the tag saved segments carry, for turning saved criteria back into values.

The tags are the classes' first names and stay as they were written: a segment saved before a class
was renamed reads back the same.
"""

# The names the criteria had at first, before each was named for the function that builds it; kept for hosts.
Named = NamedCriterion
InStatus = StatusInCriterion
HasLabel = LabelledCriterion
InRecordGroup = InGroupCriterion
HeldBy = HeldByCriterion
Unassigned = UnassignedCriterion


def segment_of(what: Segment | str, criteria: Criterion | None) -> Segment:
    """Return the segment `find` runs: a segment, or a kind, narrowed by `criteria` if any.

    Raises:
        InvalidValueError: `what` is neither a segment nor a kind, or `criteria` is no criterion.
    """
    if criteria is not None and not isinstance(criteria, Criterion):
        raise InvalidValueError(
            f"Criteria are built from named(), held_by(), status_in() and the like, not a {type(criteria).__name__}."
        )
    if not isinstance(what, Segment | str):
        raise InvalidValueError(f"find() takes a Segment or a record kind, not a {type(what).__name__}.")
    if isinstance(what, Segment):
        return what if criteria is None else evolve(what, criteria=what.criteria & criteria)
    return Segment(what, criteria if criteria is not None else ANYTHING)


def check_reads(policy: Policy, criteria: Criterion) -> None:
    """Refuse criteria that name a role the kind lacks.

    Raises:
        UnknownRoleError: the policy has no role the criteria read.
    """
    for role in sorted(criteria.reads()):
        policy.role(role)


def check_saved(criteria: Criterion) -> None:
    """Refuse to keep criteria that could not be read back: a host's own kind of criterion.

    Raises:
        InvalidValueError: a part of `criteria` is not one of the built-in criteria.
    """
    built_in = set(CRITERIA.values())
    for part in nodes(criteria):
        if type(part) not in built_in:
            raise InvalidValueError(
                f"Only the built-in criteria can be saved, not a {type(part).__name__}; "
                "build the segment from named(), held_by(), status_in() and the like."
            )


def check_territory(criteria: Criterion) -> None:
    """Refuse a territory whose criteria read what a record has only after it is created: holders, record groups.

    Raises:
        InvalidValueError: `criteria` read holders or record groups.
    """
    for part in nodes(criteria):
        if isinstance(part, HeldByCriterion | UnassignedCriterion | InGroupCriterion):
            raise InvalidValueError(
                f"A territory is chosen before a record has holders or groups, so it cannot read {part}; "
                "use its name, status or labels."
            )
