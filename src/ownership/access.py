"""Access predicates: one rule that decides one record, explains itself, and compiles into a filter.

Predicates read as sentences and combine with ``&``, ``|`` and ``~``:

    is_admin | ~restricted("company") | holds("account_manager", "second_account_manager")

Each predicate can `decide` one record for one viewer, `explain` that decision
leaf by leaf (X1), and `compile` into a `Filter` once the viewer is known, by
partial evaluation: facts about the viewer (admin, restricted switches, group
memberships, tenant) become constants and sets, so an admin's filter is
`EVERYTHING` and group tests become sets of ids (X6). The three answers come
from one definition per leaf, and the test suite proves they agree.
"""

import abc
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from ownership.errors import RulebookError
from ownership.filters import (
    EVERYTHING,
    NOTHING,
    Filter,
    HasAssignee,
    HomeIs,
    IdIn,
    SharedWith,
    all_of,
    any_of,
    negate,
)
from ownership.model import EVERYONE, LEVELS, Assignee, AssigneeKind, Assignment, Grant, Record, User, when


def _read_only(items: Mapping[str, Any]) -> Mapping[str, Any]:
    """A mapping no one can change: a viewer is kept and shared between calls."""
    return MappingProxyType(dict(items))


@frozen
class Viewer:
    """What a predicate knows of who asks, resolved once per viewer and record kind.

    Attributes:
        user: the user asking.
        groups: ids of the groups their memberships link them to at the moment of asking.
        available: the record kind's roles that exist for the user's tenant (its features).
        team: the users who report to the user, directly or through others, each with how far below them
            (1: reports to them): resolved only for a kind whose rules read it (`held_within_team`).
        grants: the grants to the user or to one of their groups that count at the moment of asking, by the
            id of the record granted: resolved only for a kind whose rules read them (`granted`).
    """

    user: User
    groups: frozenset[str]
    available: frozenset[str]
    team: Mapping[str, int] = field(factory=dict, kw_only=True, converter=_read_only, hash=False)
    grants: Mapping[str, tuple[Grant, ...]] = field(factory=dict, kw_only=True, converter=_read_only, hash=False)

    def granted(self, level: str) -> frozenset[str]:
        """The ids of the records granted to the viewer at `level` or above."""
        return frozenset(id for id, grants in self.grants.items() if any(g.allows(level) for g in grants))

    def below(self, depth: int | None) -> frozenset[str]:
        """The ids of the users who report to the viewer, to `depth` levels (None: to any depth)."""
        return frozenset(id for id in self.team if self.reports(id, depth))

    def reports(self, user: str, depth: int | None) -> bool:
        """Whether `user` reports to the viewer, directly or through others, to `depth` levels (None: any)."""
        level = self.team.get(user)
        return level is not None and (depth is None or level <= depth)

    @property
    def tenant(self) -> str:
        """The viewer's tenant."""
        return self.user.tenant

    def assignees(self, *, groups_only: bool = False) -> frozenset[Assignee]:
        """Return the assignees that stand for the viewer: their groups, and unless `groups_only`, them and everyone."""
        through_groups = frozenset(Assignee.group(g) for g in self.groups)
        return through_groups if groups_only else through_groups | {Assignee.user(self.user.id), EVERYONE}

    def stands_for(self, assignee: Assignee, *, groups_only: bool = False) -> bool:
        """Return whether `assignee` is the viewer, one of their groups, or everyone (only groups if `groups_only`)."""
        if assignee.kind is AssigneeKind.GROUP:
            return assignee.id in self.groups
        if groups_only:
            return False
        return assignee.kind is AssigneeKind.EVERYONE or assignee.id == self.user.id


@frozen
class Facts:
    """What a predicate knows of one record: the record and its current assignments, in every slot."""

    record: Record
    assignments: Sequence[Assignment]

    @classmethod
    def of(cls, record: Record, assignments: Iterable[Assignment]) -> "Facts":
        """Return the facts of a record with these current assignments."""
        return cls(record, tuple(assignments))


@frozen
class Reason:
    """One leaf of a rule and whether it matched, with why, in words."""

    leaf: str
    matched: bool
    because: str

    def __str__(self) -> str:
        return f"{self.leaf}: {'yes' if self.matched else 'no'} ({self.because})"


@frozen
class Decision:
    """Whether a viewer may do an action on a record, and the leaves that decided it (X1).

    Attributes:
        allowed: the answer.
        rule: the rule that was applied, as it reads.
        reasons: every leaf of the rule, in order, with whether it matched.
    """

    allowed: bool
    rule: str
    reasons: tuple[Reason, ...]

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def matched(self) -> tuple[Reason, ...]:
        """The leaves that matched."""
        return tuple(r for r in self.reasons if r.matched)

    @property
    def failed(self) -> tuple[Reason, ...]:
        """The leaves that did not match."""
        return tuple(r for r in self.reasons if not r.matched)

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "refused"
        return f"{verdict} by {self.rule}: " + "; ".join(map(str, self.reasons))


class Predicate(abc.ABC):
    """A composable access rule; combine the built-ins with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    @abc.abstractmethod
    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        """Return whether the rule holds for this viewer and record."""

    @abc.abstractmethod
    def compile(self, viewer: Viewer) -> Filter:
        """Return the filter that matches exactly the records `decide` allows for this viewer."""

    @abc.abstractmethod
    def explain(self, viewer: Viewer, facts: Facts) -> tuple[bool, tuple[Reason, ...]]:
        """Return the decision and every leaf's reason, evaluating all leaves."""

    def roles(self) -> frozenset[str]:
        """Return the role names the rule reads, so a policy can check they exist."""
        return frozenset()

    def reads_team(self) -> bool:
        """Return whether the rule reads who reports to the viewer, which is then resolved with them."""
        return False

    def grant_levels(self) -> frozenset[str]:
        """Return the levels of the grants the rule reads (`granted`), which are then resolved with the viewer."""
        return frozenset()

    def __and__(self, other: "Predicate") -> "Predicate":
        return AllOf((self, other))

    def __or__(self, other: "Predicate") -> "Predicate":
        return AnyOf((self, other))

    def __invert__(self) -> "Predicate":
        return Negation(self)


class _Leaf(Predicate):
    """A predicate whose `explain` is one reason derived from `decide`."""

    __slots__ = ()

    @abc.abstractmethod
    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        """Say in words why the leaf matched or not."""

    def explain(self, viewer: Viewer, facts: Facts) -> tuple[bool, tuple[Reason, ...]]:
        matched = self.decide(viewer, facts)
        return matched, (Reason(str(self), matched, self.because(viewer, facts, matched)),)


@frozen
class Always(_Leaf):
    """Every viewer of a tenant taking part in the record (TL6, TL8, LD3, CG10)."""

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return True

    def compile(self, viewer: Viewer) -> Filter:
        return EVERYTHING

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        return "this kind's rule lets everyone of the tenant"

    def __str__(self) -> str:
        return "always"


@frozen
class Never(_Leaf):
    """No viewer."""

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return False

    def compile(self, viewer: Viewer) -> Filter:
        return NOTHING

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        return "this kind's rule lets no one"

    def __str__(self) -> str:
        return "never"


@frozen
class IsAdmin(_Leaf):
    """The viewer is an admin of their tenant (TL4, CG2)."""

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return viewer.user.admin

    def compile(self, viewer: Viewer) -> Filter:
        return EVERYTHING if viewer.user.admin else NOTHING

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        return f"{viewer.user.name} is {'an' if matched else 'not an'} admin"

    def __str__(self) -> str:
        return "is_admin"


@frozen
class Restricted(_Leaf):
    """The viewer's profile restricts their access to records of `kind` (TL4)."""

    kind: str

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return self.kind in viewer.user.profile.restricted

    def compile(self, viewer: Viewer) -> Filter:
        return EVERYTHING if self.kind in viewer.user.profile.restricted else NOTHING

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        return f"{viewer.user.name}'s access to {self.kind} records is {'restricted' if matched else 'not restricted'}"

    def __str__(self) -> str:
        return f"restricted({self.kind!r})"


@frozen
class Holds(_Leaf):
    """The viewer holds one of `roles`: directly, through a group they belong to, or as everyone.

    With `groups_only`, only through a group: the record's caretaker groups
    meet the viewer's live memberships (CG2, CG5).
    """

    names: tuple[str, ...]
    groups_only: bool = False

    def roles(self) -> frozenset[str]:
        return frozenset(self.names)

    def _via(self, viewer: Viewer, facts: Facts) -> list[Assignee]:
        """The assignees standing for the viewer that hold one of the roles in the viewer's slot."""
        tenant, names, available, only = viewer.tenant, self.names, viewer.available, self.groups_only
        return [
            a.assignee
            for a in facts.assignments
            if a.tenant == tenant
            and a.role in names
            and a.role in available
            and viewer.stands_for(a.assignee, groups_only=only)
        ]

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        tenant, names, available, only = viewer.tenant, self.names, viewer.available, self.groups_only
        for a in facts.assignments:
            if (
                a.tenant == tenant
                and a.role in names
                and a.role in available
                and viewer.stands_for(a.assignee, groups_only=only)
            ):
                return True
        return False

    def compile(self, viewer: Viewer) -> Filter:
        roles = frozenset(self.names) & viewer.available
        mine = viewer.assignees(groups_only=self.groups_only)
        return HasAssignee(roles, mine, viewer.tenant) if roles and mine else NOTHING

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        if matched:
            how = ", ".join(
                "directly" if a.kind is AssigneeKind.USER else str(a) for a in sorted(set(self._via(viewer, facts)))
            )
            return f"{viewer.user.name} holds it ({how})"
        how = "through a group they belong to now" if self.groups_only else "directly, through a group, or as everyone"
        return f"{viewer.user.name} holds none of {', '.join(self.names)} {how}"

    def __str__(self) -> str:
        name = "in_caretaker_group" if self.groups_only else "holds"
        return f"{name}({', '.join(map(repr, self.names))})"


@frozen
class HeldWithinTeam(_Leaf):
    """Someone who reports to the viewer, directly or through others to `depth` levels, holds one of `roles`.

    Only what they hold themselves counts (not a group they are in): a
    manager sees what their people hold, wherever it is held in the viewer's
    tenant. Resolved to the team's ids when the viewer is known, so it lists
    as one ``IN`` of holders.
    """

    names: tuple[str, ...]
    depth: int | None = None

    def roles(self) -> frozenset[str]:
        return frozenset(self.names)

    def reads_team(self) -> bool:
        return True

    def _holders(self, viewer: Viewer, facts: Facts) -> list[str]:
        """The ids of the viewer's people who hold one of the roles in the viewer's slot."""
        tenant, names, available, depth = viewer.tenant, self.names, viewer.available, self.depth
        return [
            a.assignee.id
            for a in facts.assignments
            if a.tenant == tenant
            and a.role in names
            and a.role in available
            and a.assignee.kind is AssigneeKind.USER
            and viewer.reports(a.assignee.id, depth)
        ]

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return bool(self._holders(viewer, facts))

    def compile(self, viewer: Viewer) -> Filter:
        roles = frozenset(self.names) & viewer.available
        team = frozenset(Assignee.user(id) for id in viewer.below(self.depth))
        return HasAssignee(roles, team, viewer.tenant) if roles and team else NOTHING

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        whom = "who reports to" if self.depth == 1 else "in the team of"
        if matched:
            return f"{', '.join(sorted(set(self._holders(viewer, facts))))}, {whom} {viewer.user.name}, holds it"
        return f"no one {whom} {viewer.user.name} holds {' or '.join(self.names)}"

    def __str__(self) -> str:
        depth = "" if self.depth is None else f", depth={self.depth}"
        return f"held_within_team({', '.join(map(repr, self.names))}{depth})"


@frozen
class Granted(_Leaf):
    """The record is granted to the viewer, or to a group they are in now, at `level` or above, and not expired.

    Resolved to the ids of the records granted when the viewer is known, so it
    lists as one ``IN`` of ids; a grant stops counting by itself at its `until`.
    """

    level: str

    def grant_levels(self) -> frozenset[str]:
        return frozenset({self.level})

    def _grants(self, viewer: Viewer, facts: Facts) -> list[Grant]:
        return [g for g in viewer.grants.get(facts.record.id, ()) if g.allows(self.level)]

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return any(g.allows(self.level) for g in viewer.grants.get(facts.record.id, ()))

    def compile(self, viewer: Viewer) -> Filter:
        ids = viewer.granted(self.level)
        return IdIn(ids) if ids else NOTHING

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        if not matched:
            return f"no grant lets {viewer.user.name} {self.level} it"
        return "; ".join(_granted_because(viewer, g) for g in self._grants(viewer, facts))

    def __str__(self) -> str:
        return f"granted({self.level!r})"


def _granted_because(viewer: Viewer, grant: Grant) -> str:
    to = "them" if grant.assignee.kind is AssigneeKind.USER else f"group {grant.assignee.id!r}"
    until = "" if grant.until is None else f" until {when(grant.until)}"
    by = "" if grant.actor is None else f" by {grant.actor}"
    return f"{viewer.user.name} may {grant.level} it: granted to {to}{by}{until}"


@frozen
class ViewerHas(_Leaf):
    """The viewer has the trait `trait`: a fact about them the host keeps (a job, a right, a flag)."""

    trait: str

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return self.trait in viewer.user.traits

    def compile(self, viewer: Viewer) -> Filter:
        return EVERYTHING if self.trait in viewer.user.traits else NOTHING

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        return f"{viewer.user.name} is {'' if matched else 'not '}{self.trait}"

    def __str__(self) -> str:
        return f"viewer_has({self.trait!r})"


@frozen
class ViewerIn(_Leaf):
    """The viewer is in the group `group` now: a member for good, or covering until a moment not yet past."""

    group: str

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return self.group in viewer.groups

    def compile(self, viewer: Viewer) -> Filter:
        return EVERYTHING if self.group in viewer.groups else NOTHING

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        return f"{viewer.user.name} is {'' if matched else 'not '}in group {self.group!r}"

    def __str__(self) -> str:
        return f"viewer_in({self.group!r})"


@frozen
class SameTenant(_Leaf):
    """The record's home is the viewer's tenant."""

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return facts.record.tenant == viewer.tenant

    def compile(self, viewer: Viewer) -> Filter:
        return HomeIs(viewer.tenant)

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        return f"the record's home is {facts.record.tenant!r}"

    def __str__(self) -> str:
        return "same_tenant"


@frozen
class SharedWithViewer(_Leaf):
    """The record was shared with, and accepted by, the viewer's tenant (LD7)."""

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return viewer.tenant in facts.record.shared_with

    def compile(self, viewer: Viewer) -> Filter:
        return SharedWith(viewer.tenant)

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        return f"the record is {'' if matched else 'not '}shared with {viewer.tenant!r}"

    def __str__(self) -> str:
        return "shared_with_viewer"


@frozen
class IsActive(_Leaf):
    """The viewer is an active user: inactive users may do nothing (a gate before every rule)."""

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return viewer.user.active

    def compile(self, viewer: Viewer) -> Filter:
        return EVERYTHING if viewer.user.active else NOTHING

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        return f"{viewer.user.name} is {'active' if matched else 'inactive'}"

    def __str__(self) -> str:
        return "active"


@frozen
class TakesPart(_Leaf):
    """The viewer's tenant takes part in the record: its home, or a tenant that accepted it (a gate of every rule)."""

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return viewer.tenant in facts.record.tenants

    def compile(self, viewer: Viewer) -> Filter:
        return any_of(HomeIs(viewer.tenant), SharedWith(viewer.tenant))

    def because(self, viewer: Viewer, facts: Facts, matched: bool) -> str:
        return f"{facts.record} is {'' if matched else 'not '}held in or shared with {viewer.tenant!r}"

    def __str__(self) -> str:
        return "tenant takes part"


@frozen
class AllOf(Predicate):
    """Every part holds."""

    parts: tuple[Predicate, ...]

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        for part in self.parts:  # noqa: SIM110 - a plain loop: this runs on every check
            if not part.decide(viewer, facts):
                return False
        return True

    def compile(self, viewer: Viewer) -> Filter:
        return all_of(*(part.compile(viewer) for part in self.parts))

    def explain(self, viewer: Viewer, facts: Facts) -> tuple[bool, tuple[Reason, ...]]:
        results = [part.explain(viewer, facts) for part in self.parts]
        return all(ok for ok, _ in results), tuple(r for _, reasons in results for r in reasons)

    def roles(self) -> frozenset[str]:
        return frozenset().union(*(part.roles() for part in self.parts))

    def reads_team(self) -> bool:
        return any(part.reads_team() for part in self.parts)

    def grant_levels(self) -> frozenset[str]:
        return frozenset().union(*(part.grant_levels() for part in self.parts))

    def __and__(self, other: Predicate) -> Predicate:
        return AllOf((*self.parts, other))

    def __str__(self) -> str:
        return "(" + " & ".join(map(_grouped, self.parts)) + ")"


@frozen
class AnyOf(Predicate):
    """At least one part holds."""

    parts: tuple[Predicate, ...]

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        for part in self.parts:  # noqa: SIM110 - a plain loop: this runs on every check
            if part.decide(viewer, facts):
                return True
        return False

    def compile(self, viewer: Viewer) -> Filter:
        return any_of(*(part.compile(viewer) for part in self.parts))

    def explain(self, viewer: Viewer, facts: Facts) -> tuple[bool, tuple[Reason, ...]]:
        results = [part.explain(viewer, facts) for part in self.parts]
        return any(ok for ok, _ in results), tuple(r for _, reasons in results for r in reasons)

    def roles(self) -> frozenset[str]:
        return frozenset().union(*(part.roles() for part in self.parts))

    def reads_team(self) -> bool:
        return any(part.reads_team() for part in self.parts)

    def grant_levels(self) -> frozenset[str]:
        return frozenset().union(*(part.grant_levels() for part in self.parts))

    def __or__(self, other: Predicate) -> Predicate:
        return AnyOf((*self.parts, other))

    def __str__(self) -> str:
        return " | ".join(map(str, self.parts))


@frozen
class Negation(Predicate):
    """The part does not hold."""

    part: Predicate

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return not self.part.decide(viewer, facts)

    def compile(self, viewer: Viewer) -> Filter:
        return negate(self.part.compile(viewer))

    def explain(self, viewer: Viewer, facts: Facts) -> tuple[bool, tuple[Reason, ...]]:
        ok, reasons = self.part.explain(viewer, facts)
        if isinstance(self.part, _Leaf):
            # A negated leaf is one leaf of the rule: it matches when the inner test does not.
            [inner] = reasons
            return not ok, (Reason(str(self), not ok, inner.because),)
        return not ok, reasons

    def roles(self) -> frozenset[str]:
        return self.part.roles()

    def reads_team(self) -> bool:
        return self.part.reads_team()

    def grant_levels(self) -> frozenset[str]:
        return self.part.grant_levels()

    def __str__(self) -> str:
        return f"~{_grouped(self.part)}"


def _grouped(part: Predicate) -> str:
    """A part as it reads inside ``&`` or after ``~``: an ``|`` is bracketed, since ``&`` and ``~`` bind tighter."""
    return f"({part})" if isinstance(part, AnyOf) else str(part)


def without_grants(rule: Predicate) -> Predicate:
    """`rule` as it reads for one who holds no grant: what `granted` adds to an ``|`` is gone, elsewhere it never holds.

    A kind's assign rule is read this way: a grant lets its holder view or edit a record, never give it away.
    """
    if isinstance(rule, Granted):
        return never
    if isinstance(rule, AnyOf):
        kept = tuple(without_grants(part) for part in rule.parts if not isinstance(part, Granted))
        return never if not kept else kept[0] if len(kept) == 1 else AnyOf(kept)
    if isinstance(rule, AllOf):
        return AllOf(tuple(without_grants(part) for part in rule.parts))
    if isinstance(rule, Negation):
        return Negation(without_grants(rule.part))
    return rule


def holds(*roles: str) -> Predicate:
    """The viewer holds one of `roles`: directly, through one of their groups, or as everyone."""
    return Holds(roles)


def in_caretaker_group(*roles: str) -> Predicate:
    """The record's groups in `roles` meet the viewer's live memberships (CG2, CG5, X5)."""
    return Holds(roles, groups_only=True)


def restricted(kind: str) -> Predicate:
    """The viewer's profile restricts their access to records of `kind` (TL4)."""
    return Restricted(kind)


def held_within_team(*roles: str, depth: int | None = None) -> Predicate:
    """Someone who reports to the viewer (to `depth` levels; None: any) holds one of `roles` themselves."""
    if depth is not None and (type(depth) is not int or depth < 1):
        raise RulebookError(f"held_within_team takes a depth of at least 1, or None for any; not {depth!r}.")
    return HeldWithinTeam(roles, depth)


def granted(level: str) -> Predicate:
    """The record is granted to the viewer, or to a group they are in now, at `level` or above (`Ownership.grant`).

    A grant stops counting by itself at its `until`. Put it in the rule of the action it grants:
    ``Access(view=... | granted("view"), edit=... | granted("edit"))``. It never counts to assign: a kind's
    assign rule that falls back to its edit rule reads it as if no one held a grant, and one that names it
    is refused.
    """
    if level not in LEVELS:
        raise RulebookError(f"granted takes a level of {' or '.join(map(repr, LEVELS))}, not {level!r}.")
    return Granted(level)


def viewer_has(trait: str) -> Predicate:
    """The viewer has `trait`, a fact about them the host keeps (`User.traits`): ``viewer_has("chief")``."""
    return ViewerHas(trait)


def viewer_in(group: str) -> Predicate:
    """The viewer is in the group with id `group` now (a cover counts until it ends)."""
    return ViewerIn(group)


is_admin: Predicate = IsAdmin()
"""The viewer is an admin of their tenant."""
always: Predicate = Always()
"""Every viewer of a tenant taking part in the record."""
never: Predicate = Never()
"""No viewer."""
same_tenant: Predicate = SameTenant()
"""The record's home is the viewer's tenant."""
shared_with_viewer: Predicate = SharedWithViewer()
"""The record is shared with the viewer's tenant."""
GATE: Predicate = AllOf((IsActive(), TakesPart()))
"""What every rule sits behind: an active viewer of a tenant taking part in the record; no rule opens it."""
