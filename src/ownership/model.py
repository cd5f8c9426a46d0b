"""The domain's values: tenants, users, groups, memberships, records, assignees, assignments.

Every value is a frozen attrs class with slots. Nothing here reads or writes
storage; the service produces new values and hands them to a repository.
"""

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, NoReturn

from attrs import Attribute, field, frozen

from ownership.errors import InvalidValueError

ID_LENGTH = 100
"""The most characters an id has."""
TEXT_LENGTH = 1_000
"""The most characters a name or other text has."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def is_id(value: object) -> bool:
    """Whether `value` is a valid id: a str of 1 to `ID_LENGTH` characters, every one printable.

    One definition serves every id and name the rules look things up by (tenants, users, groups,
    records, kinds, roles, statuses, labels, activities, segments) on every store: no NUL byte, no
    control character, no lone surrogate, nothing PostgreSQL would refuse after SQLite took it.
    """
    return isinstance(value, str) and 0 < len(value) <= ID_LENGTH and value.isprintable()


BIGGEST = 2**63 - 1
"""The largest whole number every store keeps (64 bits, signed)."""


def is_text(value: object) -> bool:
    """Whether `value` is valid free text: a str of at most `TEXT_LENGTH` characters, no NUL, no lone surrogate.

    Names to show people, a segment's name, what a name criterion looks for.
    """
    return isinstance(value, str) and len(value) <= TEXT_LENGTH and _clean(value)


def _clean(text: str) -> bool:
    return "\x00" not in text and _SURROGATE.search(text) is None


def shown(value: object) -> str:
    """`value` as a sentence shows it: its repr, cut short when long."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:50]}...({len(text)} characters)"


def when(moment: datetime) -> str:
    """A moment as a sentence shows it, to the minute, with its zone: ``2030-01-01 00:00 UTC``."""
    return f"{moment:%Y-%m-%d %H:%M %Z}".rstrip()


AN_ID = f"an id (1 to {ID_LENGTH} printable characters)"
"""How a sentence names what `is_id` accepts."""
A_TEXT = f"a text (a str of at most {TEXT_LENGTH:,} characters, no NUL byte)"
"""How a sentence names what `is_text` accepts."""


def _refuse(instance: object, attribute: "Attribute[Any]", wanted: str, value: object) -> NoReturn:
    raise InvalidValueError(f"{type(instance).__name__}.{attribute.name} takes {wanted}, not {shown(value)}.")


def _or_none(test: "Callable[[object], bool]", wanted: str) -> "Callable[[object, Attribute[Any], object], None]":
    """An attrs validator taking None, or what `test` takes; the refusal says it takes None or `wanted`."""

    def check(instance: object, attribute: "Attribute[Any]", value: object) -> None:
        if value is not None and not test(value):
            _refuse(instance, attribute, f"None or {wanted}", value)

    return check


def an_id(instance: object, attribute: "Attribute[Any]", value: object) -> None:
    """Refuse what is not an id (an attrs validator); the sentence names the field."""
    if type(value) is str and 0 < len(value) <= ID_LENGTH and value.isprintable():
        return  # the usual case, decided without a call
    if not is_id(value):
        _refuse(instance, attribute, AN_ID, value)


an_optional_id = _or_none(is_id, AN_ID)
"""Refuse what is neither None nor an id (an attrs validator)."""


def a_text(instance: object, attribute: "Attribute[Any]", value: object) -> None:
    """Refuse what is not text (an attrs validator)."""
    if type(value) is str and len(value) <= TEXT_LENGTH and value.isprintable():
        return  # the usual case, decided without a call
    if not is_text(value):
        _refuse(instance, attribute, A_TEXT, value)


an_optional_text = _or_none(is_text, A_TEXT)
"""Refuse what is neither None nor text (an attrs validator)."""


KEY_LENGTH = 6_000
"""The most characters a key has: up to four ids joined, each quoted (one character may take twelve)."""


def a_key(instance: object, attribute: "Attribute[Any]", value: object) -> None:
    """Refuse what is no key (a setting's, a notification's): a non-empty str of ids joined, no NUL."""
    if not (isinstance(value, str) and 0 < len(value) <= KEY_LENGTH and _clean(value)):
        _refuse(instance, attribute, f"a key (a non-empty str of at most {KEY_LENGTH:,} characters, no NUL)", value)


def a_flag(instance: object, attribute: "Attribute[Any]", value: object) -> None:
    """Refuse what is not True or False: ``"false"`` or ``0`` is no flag (an attrs validator)."""
    if value is not True and value is not False:
        _refuse(instance, attribute, "True or False", value)


def is_moment(value: object) -> bool:
    """Whether `value` is a moment: a datetime with a time zone."""
    return isinstance(value, datetime) and (value.tzinfo is timezone.utc or value.utcoffset() is not None)


A_MOMENT = "a datetime with a time zone"


def a_moment(instance: object, attribute: "Attribute[Any]", value: object) -> None:
    """Refuse what is not a datetime with a time zone (an attrs validator)."""
    if not is_moment(value):
        _refuse(instance, attribute, A_MOMENT, value)


an_optional_moment = _or_none(is_moment, A_MOMENT)
"""Refuse what is neither None nor a datetime with a time zone (an attrs validator)."""


def one_of(*classes: type) -> "Callable[[object, Attribute[Any], object], None]":
    """An attrs validator refusing what is not an instance of one of `classes`."""
    wanted = " or ".join(c.__name__ for c in classes)

    def check(instance: object, attribute: "Attribute[Any]", value: object) -> None:
        if not isinstance(value, classes):
            _refuse(instance, attribute, f"a {wanted}", value)

    return check


def an_optional_name_set(instance: object, attribute: "Attribute[Any]", value: object) -> None:
    """Refuse what is neither None nor a collection of ids (an attrs validator, after `names`)."""
    if value is not None:
        a_name_set(instance, attribute, value)


def listed(items: Iterable[Any]) -> tuple[Any, ...]:
    """Return a collection as a tuple, in order; an attrs converter.

    A string or a non-collection is left as it is, for `each` to refuse.
    """
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        return items  # type: ignore[return-value]
    return tuple(items)


def each(*classes: type) -> "Callable[[object, Attribute[Any], object], None]":
    """An attrs validator refusing what is not a tuple (after `listed`) of instances of `classes`."""
    wanted = " or ".join(c.__name__ for c in classes)

    def check(instance: object, attribute: "Attribute[Any]", value: object) -> None:
        if not isinstance(value, tuple):
            _refuse(instance, attribute, f"a collection of {wanted}", value)
        for item in value:
            if not isinstance(item, classes):
                raise InvalidValueError(
                    f"{type(instance).__name__}.{attribute.name} holds {wanted} values; {shown(item)} is none."
                )

    return check


def names(items: Iterable[str]) -> frozenset[str]:
    """Return a collection of names (ids, switches, kinds) as a frozenset; an attrs converter.

    A bare string is left as it is, for `a_name_set` to refuse: ``frozenset("deal")`` would be its letters.
    """
    if type(items) is frozenset:
        return items
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        return items  # type: ignore[return-value]  # what a_name_set refuses
    items = tuple(items)
    try:
        return frozenset(items)
    except TypeError:  # an item that is no name (a list, a dict): a_name_set names it
        return items  # type: ignore[return-value]


def a_name_set(instance: object, attribute: "Attribute[Any]", value: object) -> None:
    """Refuse what is not a collection of ids (an attrs validator, after the `names` converter).

    A bare string would be split into its letters, so it is refused with the way to write one name.
    """
    if not value and type(value) is frozenset:
        return  # the usual case: no names
    if isinstance(value, str):
        raise InvalidValueError(
            f"{type(instance).__name__}.{attribute.name} takes a collection of names; "
            f"write {attribute.name}={{{shown(value)}}} for one."
        )
    if not isinstance(value, frozenset | tuple):
        _refuse(instance, attribute, f"a collection of ids ({AN_ID})", value)
    for item in value:
        if not is_id(item):
            raise InvalidValueError(
                f"{type(instance).__name__}.{attribute.name} holds ids ({AN_ID}); {shown(item)} is none."
            )


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

    id: str = field(validator=an_id)
    name: str = field(validator=a_text)
    plan: str | None = field(default=None, validator=an_optional_id)
    switches: frozenset[str] = field(default=frozenset(), converter=names, validator=a_name_set)


@frozen
class Profile:
    """A user's settings that the rules read.

    Attributes:
        restricted: record kinds the user may see only where they are responsible (TL4).
        push: whether the user takes push notifications (CT3); otherwise in-app.
    """

    restricted: frozenset[str] = field(default=frozenset(), converter=names, validator=a_name_set)
    push: bool = field(default=False, validator=a_flag)


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
        manager: the id of the user they report to, if anyone: a manager sees what their team holds
            where a rule says so (`held_within_team`).
        traits: facts about them a rule reads (`viewer_has`): a job, a right, a flag, each a name.
    """

    id: str = field(validator=an_id)
    tenant: str = field(validator=an_id)
    name: str = field(validator=a_text)
    active: bool = field(default=True, validator=a_flag)
    admin: bool = field(default=False, validator=a_flag)
    profile: Profile = field(default=Profile(), validator=one_of(Profile))
    manager: str | None = field(default=None, kw_only=True, validator=an_optional_id)
    traits: frozenset[str] = field(default=frozenset(), kw_only=True, converter=names, validator=a_name_set)


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

    id: str = field(validator=an_id)
    tenant: str = field(validator=an_id)
    name: str = field(validator=a_text)
    kind: GroupKind = field(validator=one_of(GroupKind))
    personal_of: str | None = field(default=None, validator=an_optional_id)


@frozen
class Membership:
    """A user linked to a group, for good or until a moment (a deputy, X5).

    Attributes:
        group: the group's id.
        user: the user's id.
        until: when the membership stops counting by itself, or None for never.
    """

    group: str = field(validator=an_id)
    user: str = field(validator=an_id)
    until: datetime | None = field(default=None, validator=an_optional_moment)

    def live(self, at: datetime) -> bool:
        """Return whether the membership counts at the moment `at`."""
        return self.until is None or at < self.until


@frozen(order=True, cache_hash=True)
class Assignee:
    """What a role holds: a user, a group, or everyone of the slot's tenant.

    Build one with `Assignee.user`, `Assignee.group` or `EVERYONE`; the
    service also takes `User` and `Group` values wherever an assignee goes.
    """

    kind: AssigneeKind = field(order=lambda k: k.value, validator=one_of(AssigneeKind))
    id: str = ""

    def __attrs_post_init__(self) -> None:
        if self.kind is AssigneeKind.EVERYONE:
            if self.id != "":
                raise InvalidValueError(f"Assignee.id of everyone is empty, not {shown(self.id)}.")
        elif not is_id(self.id):
            raise InvalidValueError(f"Assignee.id of a {self.kind.value} takes {AN_ID}, not {shown(self.id)}.")

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

    kind: str = field(validator=an_id)
    id: str = field(validator=an_id)

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

    kind: str = field(validator=an_id)
    id: str = field(validator=an_id)
    tenant: str = field(validator=an_id)
    created_at: datetime = field(validator=a_moment)
    shared_with: frozenset[str] = field(default=frozenset(), converter=names, validator=a_name_set)
    offered_to: frozenset[str] = field(default=frozenset(), converter=names, validator=a_name_set)
    name: str | None = field(default=None, kw_only=True, validator=an_optional_text)
    status: str | None = field(default=None, kw_only=True, validator=an_optional_id)
    number: str | None = field(default=None, kw_only=True, validator=an_optional_id)
    labels: frozenset[str] = field(default=frozenset(), converter=names, validator=a_name_set, kw_only=True)
    groups: frozenset[str] = field(default=frozenset(), converter=names, validator=a_name_set, kw_only=True)
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

    record: RecordRef = field(validator=one_of(RecordRef))
    role: str = field(validator=an_id)
    assignee: Assignee = field(validator=one_of(Assignee))
    tenant: str = field(validator=an_id)
    since: datetime = field(validator=a_moment)
    actor: str | None = field(default=None, validator=an_optional_id)


LEVELS = ("view", "edit")
"""The levels a record is granted at (`Ownership.grant`), weakest first: a grant to edit lets its holder view too."""


def at_least(level: str, wanted: str) -> bool:
    """Return whether `level` is `wanted` or above it, in `LEVELS`: edit is at least view."""
    return LEVELS.index(level) >= LEVELS.index(wanted)


def a_level(instance: object, attribute: "Attribute[Any]", value: object) -> None:
    """Refuse what is not one of `LEVELS` (an attrs validator); the sentence names the field."""
    if value not in LEVELS:
        _refuse(instance, attribute, " or ".join(map(repr, LEVELS)), value)


@frozen
class Grant:
    """One record shared with one user or group at a level, for good or until a moment (`Ownership.grant`).

    Attributes:
        record: the record shared.
        assignee: the user or group it is shared with.
        level: ``"view"`` or ``"edit"``; a grant to edit lets them view too.
        tenant: the tenant of the user or group, one taking part in the record.
        since: when it was granted.
        until: when it stops granting by itself, or None for never.
        actor: the id of the user who granted it, or None for the host itself.
    """

    record: RecordRef = field(validator=one_of(RecordRef))
    assignee: Assignee = field(validator=one_of(Assignee))
    level: str = field(validator=a_level)
    tenant: str = field(validator=an_id)
    since: datetime = field(validator=a_moment)
    until: datetime | None = field(default=None, validator=an_optional_moment)
    actor: str | None = field(default=None, validator=an_optional_id)

    def __attrs_post_init__(self) -> None:
        if self.assignee.kind is AssigneeKind.EVERYONE:
            raise InvalidValueError("A grant is to a user or a group, not to everyone; a kind's rule lets everyone.")

    def live(self, at: datetime) -> bool:
        """Return whether the grant counts at the moment `at`."""
        return self.until is None or at < self.until

    def allows(self, level: str) -> bool:
        """Return whether the grant is at `level` or above it."""
        return at_least(self.level, level)


@frozen
class Follower:
    """A user who hears of a record's activities without holding it (`Ownership.follow`).

    Attributes:
        record: the record followed.
        user: the id of the user following it.
        tenant: the user's tenant, one taking part in the record.
        since: when they began following it.
    """

    record: RecordRef = field(validator=one_of(RecordRef))
    user: str = field(validator=an_id)
    tenant: str = field(validator=an_id)
    since: datetime = field(validator=a_moment)


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


@frozen
class IdPage:
    """One page of `Ownership.visible_ids`: record ids in order, and the cursor of the next page, or None at the end."""

    ids: tuple[str, ...]
    cursor: str | None


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


def id_of(user: User | None) -> str | None:
    """Return a user's id, or None for no user (the host acting)."""
    return user.id if user is not None else None
