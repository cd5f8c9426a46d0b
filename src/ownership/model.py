"""The domain's values: tenants, users, groups, memberships, records, assignees, assignments.

Every value is a frozen attrs class with slots. Nothing here reads or writes
storage; the service produces new values and hands them to a repository.
"""

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from attrs import Attribute, field, frozen

from ownership.errors import InvalidValueError


def nonempty(_instance: object, attribute: "Attribute[str]", value: str) -> None:
    """Refuse an empty or non-string id or name (an attrs validator)."""
    if not isinstance(value, str) or not value:
        raise InvalidValueError(f"{attribute.name} must be a non-empty string, not {value!r}.")


def names(items: Iterable[str]) -> frozenset[str]:
    """Return a set of names (ids, switches, kinds) as a frozenset; an attrs converter."""
    return frozenset(items)


class GroupKind(enum.Enum):
    """The three kinds of group the seeds tell apart."""

    CARETAKER = "caretaker"
    """Grants visibility of the records assigned to it (CG1, CG2)."""
    COMPETENCE = "competence"
    """An assignable set of employees with a skill in common (CT2)."""
    TEAM = "team"
    """A pool: work is assigned to it and members take it from there (CG10)."""


class AssigneeKind(enum.Enum):
    """What a role can hold: a user, a group, or every employee of the tenant."""

    USER = "user"
    GROUP = "group"
    EVERYONE = "everyone"


@frozen
class Tenant:
    """One company using the host CRM; everything else has a home tenant.

    Attributes:
        id: the host's id for the company.
        name: a name to show people.
        plan: the name of the tenant's plan in the rulebook, or None for none.
        switches: features switched on for this tenant beyond its plan (TL5, CG8, TL10).
    """

    id: str = field(validator=nonempty)
    name: str
    plan: str | None = None
    switches: frozenset[str] = field(default=frozenset(), converter=names)


@frozen
class Profile:
    """A user's settings that the rules read.

    Attributes:
        restricted: record kinds the user may see only where they are responsible (TL4).
        push: whether the user takes push notifications (CT3); otherwise in-app.
    """

    restricted: frozenset[str] = field(default=frozenset(), converter=names)
    push: bool = False


@frozen
class User:
    """An employee of a tenant.

    Attributes:
        id: the host's id for the user; unique across tenants.
        tenant: the id of the user's home tenant.
        name: a name to show people.
        active: inactive users can neither act nor be assigned (LD2).
        admin: admins see every record of their tenant (TL4, CG2).
        profile: per-kind restricted access and the push opt-in.
    """

    id: str = field(validator=nonempty)
    tenant: str = field(validator=nonempty)
    name: str
    active: bool = True
    admin: bool = False
    profile: Profile = Profile()


@frozen
class Group:
    """A named set of users of one tenant.

    Attributes:
        id: unique across tenants.
        tenant: the id of the group's home tenant; only its users can be members.
        name: a name to show people.
        kind: caretaker, competence or team.
        personal_of: for a personal caretaker group (CG3, CG6), the user it was made for.
    """

    id: str = field(validator=nonempty)
    tenant: str = field(validator=nonempty)
    name: str
    kind: GroupKind
    personal_of: str | None = None


@frozen
class Membership:
    """A user linked to a group, for good or until a moment (a deputy, X5).

    Attributes:
        group: the group's id.
        user: the user's id.
        until: when the membership stops counting by itself, or None for never.
    """

    group: str
    user: str
    until: datetime | None = None

    def live(self, at: datetime) -> bool:
        """Return whether the membership counts at the moment `at`."""
        return self.until is None or at < self.until


@frozen(order=True, cache_hash=True)
class Assignee:
    """What a role holds: a user, a group, or everyone of the slot's tenant.

    Build one with `Assignee.user`, `Assignee.group` or `EVERYONE`; the
    service also takes `User` and `Group` values wherever an assignee goes.
    """

    kind: AssigneeKind = field(order=lambda k: k.value)
    id: str = ""

    def __attrs_post_init__(self) -> None:
        if (self.kind is AssigneeKind.EVERYONE) != (self.id == ""):
            raise InvalidValueError("An assignee names a user or a group by a non-empty id; everyone names none.")

    @classmethod
    def user(cls, id: str) -> "Assignee":
        """Return the assignee that is the user with this id."""
        return cls(AssigneeKind.USER, id)

    @classmethod
    def group(cls, id: str) -> "Assignee":
        """Return the assignee that is the group with this id."""
        return cls(AssigneeKind.GROUP, id)

    def __str__(self) -> str:
        return "everyone" if self.kind is AssigneeKind.EVERYONE else f"{self.kind.value} {self.id}"


EVERYONE = Assignee(AssigneeKind.EVERYONE)
"""The assignee that stands for every employee of the tenant (CT2)."""


@frozen(order=True, cache_hash=True)
class RecordRef:
    """The identity of a tracked record: its kind and the host's id for it."""

    kind: str = field(validator=nonempty)
    id: str = field(validator=nonempty)

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


@frozen
class Record:
    """A host record the library tracks.

    Attributes:
        kind: the record kind (``"deal"``, ``"lead"``, ...), named by a policy.
        id: the host's id; a kind and an id name one record across all tenants.
        tenant: the home tenant's id.
        created_at: when the library began tracking it.
        shared_with: tenants that accepted the record (LD6, LD7).
        offered_to: tenants it is offered to that have not accepted yet.
        name: a name to show people and to find it by (CT5), or None.
        status: its state in its kind's `Lifecycle` (CT1), or None for a kind without one.
        number: its number, unique among its tenant's records of its kind (CT4), or None.
        labels: facts the host tags it with (a region, a source) that segments and
            auto-assignment by territory read (X4).
        groups: the ids of the record groups it belongs to, records of the kind that
            collects its kind (CT6).
    """

    kind: str = field(validator=nonempty)
    id: str = field(validator=nonempty)
    tenant: str = field(validator=nonempty)
    created_at: datetime
    shared_with: frozenset[str] = field(default=frozenset(), converter=names)
    offered_to: frozenset[str] = field(default=frozenset(), converter=names)
    name: str | None = field(default=None, kw_only=True)
    status: str | None = field(default=None, kw_only=True)
    number: str | None = field(default=None, kw_only=True)
    labels: frozenset[str] = field(default=frozenset(), converter=names, kw_only=True)
    groups: frozenset[str] = field(default=frozenset(), converter=names, kw_only=True)
    # The identity, built once: every read of a record's holders or history asks for it.
    ref: RecordRef = field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "ref", RecordRef(self.kind, self.id))

    @property
    def tenants(self) -> frozenset[str]:
        """The tenants taking part in the record: its home and those that accepted it."""
        return self.shared_with | {self.tenant}

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


@frozen
class Assignment:
    """One assignee holding one role of one record, in one tenant's slot.

    Attributes:
        record: the record held.
        role: the role's name.
        assignee: who holds it.
        tenant: whose slot it is: the home tenant's, or for a role private to
            each tenant (LD7), the tenant that assigned it.
        since: when it began.
        actor: the id of the user who assigned it, or None for the host itself.
    """

    record: RecordRef
    role: str
    assignee: Assignee
    tenant: str
    since: datetime
    actor: str | None = None


@frozen
class Row:
    """One listed record with its assignments, as the viewer's tenant sees them (LD4)."""

    record: Record
    assignments: tuple[Assignment, ...]


@frozen
class Page:
    """One page of `Ownership.visible`: rows by id, and the cursor of the next page, or None at the end."""

    rows: tuple[Row, ...]
    cursor: str | None

    @property
    def records(self) -> tuple[Record, ...]:
        """The page's records, without their assignments."""
        return tuple(row.record for row in self.rows)


UserLike = User | str
"""A user, or a user's id."""
GroupLike = Group | str
"""A group, or a group's id."""
RecordLike = Record | RecordRef
"""A record, or its identity."""
AssigneeLike = Assignee | User | Group
"""What a role can be given: an `Assignee`, or a user or group to stand for one."""
HoldersLike = Mapping[str, AssigneeLike | Sequence[AssigneeLike]]
"""Initial holders by role name: one assignee or several."""


def as_assignee(given: AssigneeLike) -> Assignee:
    """Return what a role is given as an `Assignee`: a user or group stands for itself.

    Raises:
        InvalidValueError: `given` is neither an assignee, a user nor a group.
    """
    if isinstance(given, User):
        return Assignee.user(given.id)
    if isinstance(given, Group):
        return Assignee.group(given.id)
    if isinstance(given, Assignee):
        return given
    raise InvalidValueError(f"An assignee is an Assignee, a User or a Group, not {type(given).__name__}.")


def as_assignees(given: AssigneeLike | Sequence[AssigneeLike]) -> list[AssigneeLike]:
    """Return one role's initial holders as a list: one assignee, or several."""
    if isinstance(given, Assignee | User | Group):
        return [given]
    return list(given)


def as_labels(labels: Iterable[str]) -> frozenset[str]:
    """Return labels as a set; one label given as a bare string would otherwise be split into letters.

    Raises:
        InvalidValueError: `labels` is a string, or holds an empty or non-string label.
    """
    if isinstance(labels, str):
        raise InvalidValueError(f"labels takes a collection of labels; write labels={{{labels!r}}} for one.")
    tags = frozenset(labels)
    bad = sorted(repr(t) for t in tags if not isinstance(t, str) or not t)
    if bad:
        raise InvalidValueError(f"A label is a non-empty string, not {bad[0]}.")
    return tags


def as_group_kind(kind: GroupKind | str) -> GroupKind:
    """Return a group kind given as itself or by its value (``"team"``).

    Raises:
        InvalidValueError: there is no such group kind.
    """
    try:
        return GroupKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in GroupKind)
        raise InvalidValueError(f"There is no group kind {kind!r}; the kinds are: {kinds}.") from None


def check_number(number: object) -> None:
    """Refuse a record number that is not a non-empty string; None (no number) passes.

    Raises:
        InvalidValueError: `number` is empty or not a string.
    """
    if number is not None and (not isinstance(number, str) or not number):
        raise InvalidValueError(f"A record number is a non-empty string, not {number!r}.")


def id_of(user: User | None) -> str | None:
    """Return a user's id, or None for no user (the host acting)."""
    return user.id if user is not None else None
