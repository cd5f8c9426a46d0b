"""The catalogue of bad inputs (issue 14): every one must be refused with a typed error and change nothing.

`CASES` is data: each `Case` holds an id, a call on a `World`, the error (or errors) it must raise and a piece
of text the error's sentence must contain (the argument's or field's name, or the unknown id). They come from
tables: for each public method of `Ownership`, a valid call and the kind of each argument; for each value a host
builds, the kind of each field; then bad snapshots for `restore` and bad command lines for the ``ownership``
command. A kind of argument brings its bad values (`BAD`) and, for ids, a well-formed one nothing has (`UNKNOWN`).

The contract checked (issue 14, "What to build"): a valid id is a str of 1 to 100 printable characters; free
text is a str of at most 1,000 characters without NUL or lone surrogates; moments are timezone-aware datetimes;
flags are real bools; sets of names refuse a bare str and non-str items; counts are ints (not bools) that fit in
64 bits, a limit at least 1. A caller's mistake at a method is an `InvalidValueError` naming the argument; at a
constructor an `InvalidValueError` (or its module's own error) naming the field; an id nothing has is a
`NotFoundError` naming it.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import operator
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import attrs
import cattrs
from small_world import START, World, rulebook

import ownership
from ownership import (
    EVERYONE,
    Access,
    AccessGranted,
    AccessRevoked,
    Activity,
    ActivityRecorded,
    AssignActor,
    Assigned,
    Assignee,
    AssigneeKind,
    Assignment,
    AutoAssign,
    AutoAssignment,
    Channel,
    Follower,
    ForeignTenantError,
    Grant,
    Group,
    GroupKind,
    HostRecord,
    HostUser,
    InvalidValueError,
    LeastLoad,
    Lifecycle,
    Membership,
    NotFoundError,
    NotHeldError,
    Notification,
    NumberingError,
    NumberRange,
    OutboxEntry,
    Ownership,
    OwnershipError,
    Plan,
    Policy,
    Profile,
    Record,
    RecordCreated,
    RecordRef,
    RecordShared,
    Role,
    RoundRobin,
    Rulebook,
    RulebookError,
    Segment,
    Setting,
    ShareAccepted,
    Snapshot,
    State,
    StatusChanged,
    StatusError,
    Tenant,
    Territory,
    ToGroup,
    Transition,
    Trigger,
    Unassigned,
    UnknownActivityError,
    UnknownGroupError,
    UnknownKindError,
    UnknownPlanError,
    UnknownRecordError,
    UnknownRoleError,
    UnknownSegmentError,
    UnknownTenantError,
    UnknownUserError,
    User,
    cli,
    held_by,
    in_group,
    labelled,
    named,
    serde,
    status_in,
    unassigned,
)
from ownership.adapters.memory import MemoryRepository
from ownership.testing import RecordingNotifier

Expected = type[BaseException] | tuple[type[BaseException], ...]


class Case(NamedTuple):
    """One bad input: `call(world)` must raise `error` with `contains` in its sentence, and change nothing.

    `kind` groups the catalogue (method, unknown, constructor, criteria, restore, command); `target` is the method
    or value it is thrown at. `stores` says whether it needs the stores (False: it builds a value and touches none).
    """

    id: str
    call: Callable[[World], object]
    error: Expected
    contains: str
    kind: str
    target: str
    stores: bool = True


class CommandRefusedError(Exception):
    """The command exited non-zero; `code` and what it wrote on standard error."""

    def __init__(self, code: int, stderr: str) -> None:
        super().__init__(stderr.strip())
        self.code = code
        self.stderr = stderr


class CommandSucceededError(AssertionError):
    """The command exited 0 where it had to refuse."""


NAIVE = datetime(2026, 1, 5, 9, 0)  # naive on purpose: a moment without a zone must be refused
LONG_ID = "x" * 10_000
LONG_TEXT = "x" * 1_001

# --- bad values, by the kind of argument they are given as ------------------------------------------------

_ID: list[tuple[str, object]] = [
    ("int", 5),
    ("none", None),
    ("bytes", b"x"),
    ("list", ["x"]),
    ("empty", ""),
    ("nul", "a\x00b"),
    ("surrogate", "\ud800"),
    ("long", LONG_ID),
]
_TEXT: list[tuple[str, object]] = [
    ("int", 5),
    ("none", None),
    ("bytes", b"x"),
    ("nul", "a\x00b"),
    ("surrogate", "\ud800"),
    ("long", LONG_TEXT),
]
_FLAG: list[tuple[str, object]] = [("str-false", "false"), ("int-0", 0), ("int-1", 1), ("none", None)]
_MOMENT: list[tuple[str, object]] = [
    ("naive", NAIVE),
    ("iso-str", "2026-01-05T09:00:00+00:00"),
    ("int", 5),
    ("none", None),
]
_COUNT: list[tuple[str, object]] = [
    ("negative", -1),
    ("bool", True),
    ("huge", 2**64),
    ("float", 1.5),
    ("str", "3"),
    ("none", None),
]
_NAMES: list[tuple[str, object]] = [
    ("bare-str", "big"),
    ("int-item", [5]),
    ("none-item", [None]),
    ("nul-item", ["a\x00b"]),
    ("int", 5),
    ("none", None),
]
_RECORD: list[tuple[str, object]] = [
    ("int", 5),
    ("none", None),
    ("str", "d-1"),
    ("tuple", ("deal", "d-1")),
    ("dict", {"kind": "deal", "id": "d-1"}),
]
_ASSIGNEE: list[tuple[str, object]] = [("int", 5), ("none", None), ("str", "bob"), ("tuple", ("user", "bob"))]
_SELECTION: list[tuple[str, object]] = [
    ("int", 5),
    ("none", None),
    ("str", "d-1"),
    ("int-item", [5]),
    ("none-item", [None]),
]
_CALLBACK: list[tuple[str, object]] = [("int", 5), ("str", "progress")]


def _without_none(values: list[tuple[str, object]]) -> list[tuple[str, object]]:
    return [(label, value) for label, value in values if value is not None]


BAD: dict[str, list[tuple[str, object]]] = {
    "id": _ID,
    "id?": _without_none(_ID),
    "user": _ID,
    "user?": _without_none(_ID),
    "tenant": _ID,
    "tenant?": _without_none(_ID),
    "group": _ID,
    "kind": _ID,
    "kind?": _without_none(_ID),
    "role": _ID,
    "action": _ID,
    "activity": _ID,
    "status": _ID,
    "plan?": _without_none(_ID),
    "segment-id": _ID,
    "what": _ID,
    "text": _TEXT,
    "text?": _without_none(_TEXT),
    "flag": _FLAG,
    "flag?": _without_none(_FLAG),
    "moment": _MOMENT,
    "moment?": _without_none(_MOMENT),
    "limit": [("zero", 0), *_COUNT],
    "count": _COUNT,
    "names": _NAMES,
    "names?": _without_none(_NAMES),
    "record": _RECORD,
    "group-record": _RECORD,
    "assignee": _ASSIGNEE,
    "assignee?": _without_none(_ASSIGNEE),
    "selection": _SELECTION,
    "progress?": _CALLBACK,
    "criteria?": [("int", 5), ("str", "lamp"), ("dict", {"type": "Named", "text": "lamp"})],
    "profile?": [("int", 5), ("str", "restricted"), ("dict", {"push": True})],
    "segment": [("int", 5), ("none", None), ("str", "seg-1")],
    "rules": [
        ("int", 5),
        ("str", "acme-team"),
        ("int-item", [5]),
        ("none-item", [None]),
        ("bare-rule", ToGroup("team", "acme-team")),
    ],
    "holders?": [
        ("int", 5),
        ("str", "anna"),
        ("int-value", {"watcher": 5}),
        ("int-key", {5: "anna"}),
        ("int-items", {"watcher": [5]}),
    ],
    "notifier?": [("int", 5), ("str", "notifier")],
    "host-rows": [("int", 5), ("str", "D-1"), ("int-item", [5]), ("none-item", [None]), ("dict-item", [{"id": "D-1"}])],
    "host-users": [
        ("int", 5),
        ("str", "anna"),
        ("int-item", [5]),
        ("record-row", [HostRecord("D-1")]),
        ("dict-item", [{"id": "anna", "name": "Anna"}]),
    ],
    "lease": [("int", 60), ("str", "60s"), ("none", None), ("zero", timedelta(0)), ("negative", timedelta(seconds=-1))],
    "backoff": [("int", 1), ("str", "1s"), ("none", None), ("negative", timedelta(seconds=-1))],
    "keys?": [("int", 5), ("int-item", [5]), ("none-item", [None])],
    "cursor?": _without_none(_ID),
    "number?": _without_none(_ID),
    "prefix": [("int", 5), ("none", None), ("nul", "a\x00b"), ("surrogate", "\ud800"), ("long", LONG_TEXT)],
    "level": [("int", 5), ("none", None), ("unknown-str", "own"), ("upper", "VIEW"), ("empty", "")],
    "grantee": [*_ASSIGNEE, ("everyone", EVERYONE)],
}
"""Bad values of each kind of argument, each with a label for the case's id."""

D1, GD1, T1, C1, CG1, L1 = (
    RecordRef("deal", "d-1"),
    RecordRef("deal", "gd-1"),
    RecordRef("ticket", "t-1"),
    RecordRef("contact", "c-1"),
    RecordRef("contact_group", "cg-1"),
    RecordRef("lead", "l-1"),
)

UNKNOWN: dict[str, tuple[object, type[NotFoundError] | tuple[type[OwnershipError], ...], str]] = {
    "user": ("nobody", UnknownUserError, "nobody"),
    "user?": ("nobody", UnknownUserError, "nobody"),
    "tenant": ("nowhere", UnknownTenantError, "nowhere"),
    "tenant?": ("nowhere", UnknownTenantError, "nowhere"),
    "group": ("no-group", UnknownGroupError, "no-group"),
    "kind": ("spaceship", UnknownKindError, "spaceship"),
    "kind?": ("spaceship", UnknownKindError, "spaceship"),
    "role": ("pilot", UnknownRoleError, "pilot"),
    "activity": ("sneezed", UnknownActivityError, "sneezed"),
    "status": ("asleep", StatusError, "asleep"),
    "plan?": ("platinum", UnknownPlanError, "platinum"),
    "segment-id": ("no-segment", UnknownSegmentError, "no-segment"),
    "record": (RecordRef("deal", "nope"), UnknownRecordError, "nope"),
    "group-record": (RecordRef("contact_group", "nope"), UnknownRecordError, "nope"),
    "assignee": (Assignee.user("nobody"), UnknownUserError, "nobody"),
    "grantee": (Assignee.group("no-group"), UnknownGroupError, "no-group"),
    "selection": ([RecordRef("contact", "nope")], UnknownRecordError, "nope"),
}
"""For each kind of id: one that is well formed but names nothing, the `NotFoundError` it brings, and the text."""

# --- the methods: a valid call each, and the kind of each argument ------------------------------------------

BOB = Assignee.user("bob")
ANNA = Assignee.user("anna")


def _notifier() -> RecordingNotifier:
    return RecordingNotifier()


METHODS: dict[str, dict[str, tuple[str, object]]] = {
    "accept": {"record": ("record", L1), "actor": ("user", "hugo")},
    "add_group": {
        "tenant": ("tenant", "acme"),
        "name": ("text", "Night shift"),
        "kind": ("id", "team"),
        "id": ("id?", "night"),
    },
    "add_member": {"group": ("group", "acme-team"), "user": ("user", "anna"), "until": ("moment?", None)},
    "add_tenant": {
        "id": ("id", "initech"),
        "name": ("text?", "Initech"),
        "plan": ("plan?", "go"),
        "switches": ("names", ()),
    },
    "add_to_group": {
        "group": ("group-record", CG1),
        "selection": ("selection", [C1]),
        "actor": ("user", "anna"),
        "progress": ("progress?", None),
    },
    "add_user": {
        "tenant": ("tenant", "acme"),
        "name": ("text", "Dora"),
        "id": ("id?", "dora"),
        "admin": ("flag", False),
        "active": ("flag", True),
        "profile": ("profile?", None),
        "personal_caretaker_group": ("flag", False),
        "manager": ("user?", "anna"),
        "traits": ("names", ["chief"]),
    },
    "archive": {
        "selection": ("selection", [C1]),
        "actor": ("user", "anna"),
        "confirmed": ("flag", False),
        "progress": ("progress?", None),
    },
    "assign": {
        "record": ("record", D1),
        "role": ("role", "watcher"),
        "assignee": ("assignee", BOB),
        "actor": ("user", "anna"),
    },
    "assignments": {"record": ("record", D1), "viewer": ("user?", "anna"), "tenant": ("tenant?", None)},
    "audit": {"tenant": ("tenant", "acme")},
    "auto_assign_rules": {"tenant": ("tenant", "acme"), "kind": ("kind", "ticket")},
    "can": {"viewer": ("user", "bob"), "action": ("action", "view"), "record": ("record", D1)},
    "checker": {"viewer": ("user", "bob"), "action": ("action", "view"), "kind": ("kind", "deal")},
    "claim": {"record": ("record", T1), "role": ("role", "team"), "actor": ("user", "bob")},
    "configure_tenant": {"tenant": ("tenant", "acme"), "plan": ("plan?", "go"), "switches": ("names?", ["x"])},
    "counts_by_holder": {
        "viewer": ("user", "anna"),
        "kind": ("kind", "deal"),
        "role": ("role", "responsible"),
        "criteria": ("criteria?", None),
    },
    "counts_by_status": {"viewer": ("user", "anna"), "kind": ("kind", "contact"), "criteria": ("criteria?", None)},
    "create": {
        "kind": ("kind", "deal"),
        "actor": ("user?", "anna"),
        "tenant": ("tenant?", "acme"),
        "id": ("id?", "d-2"),
        "holders": ("holders?", None),
        "manual": ("flag", True),
        "name": ("text?", "New lamp"),
        "status": ("id?", None),
        "number": ("number?", None),
        "labels": ("names", ()),
    },
    "delete": {"selection": ("selection", [D1]), "actor": ("user", "anna"), "progress": ("progress?", None)},
    "delete_segment": {"tenant": ("tenant", "acme"), "id": ("segment-id", "seg-1"), "actor": ("user", "anna")},
    "dispatch": {
        "notifier": ("notifier?", _notifier),
        "limit": ("limit", 100),
        "lease": ("lease", timedelta(seconds=60)),
        "max_attempts": ("limit", 10),
        "backoff": ("backoff", timedelta(seconds=1)),
    },
    "explain": {"viewer": ("user", "bob"), "action": ("action", "view"), "record": ("record", D1)},
    "filter": {"viewer": ("user", "bob"), "action": ("action", "view"), "kind": ("kind", "deal")},
    "find": {
        "viewer": ("user", "anna"),
        "what": ("what", "deal"),
        "criteria": ("criteria?", None),
        "limit": ("limit", 100),
        "after": ("cursor?", None),
    },
    "group": {"id": ("group", "acme-team")},
    "groups": {"tenant": ("tenant", "acme")},
    "groups_of": {"user": ("user", "bob"), "at": ("moment?", None)},
    "history": {"record": ("record", D1), "viewer": ("user?", "anna"), "tenant": ("tenant?", None)},
    "holders": {
        "record": ("record", D1),
        "role": ("role", "responsible"),
        "viewer": ("user?", "anna"),
        "tenant": ("tenant?", None),
    },
    "holders_at": {
        "record": ("record", D1),
        "role": ("role", "responsible"),
        "at": ("moment", START),
        "viewer": ("user?", "anna"),
        "tenant": ("tenant?", None),
    },
    "members": {"group": ("group", "acme-team"), "at": ("moment?", None)},
    "next_number": {"tenant": ("tenant", "acme"), "kind": ("kind", "deal")},
    "number_range": {"tenant": ("tenant", "acme"), "kind": ("kind", "deal")},
    "outbox": {"pending": ("flag", False), "dead": ("flag", False)},
    "retry_dead": {"keys": ("keys?", None)},
    "personal_group": {"user": ("user", "anna")},
    "reassign": {
        "selection": ("selection", [D1]),
        "role": ("role", "responsible"),
        "to": ("assignee", BOB),
        "actor": ("user", "anna"),
        "replacing": ("assignee?", None),
        "progress": ("progress?", None),
    },
    "record": {"record": ("record", D1)},
    "reconcile": {
        "kind": ("kind", "deal"),
        "rows": ("host-rows", [HostRecord("D-1", {"responsible": ANNA})]),
        "tenant": ("tenant", "acme"),
        "partial": ("flag", True),
        "gone": ("names", ()),
        "dry_run": ("flag", True),
        "notify": ("flag", False),
        "progress": ("progress?", None),
    },
    "reconcile_users": {
        "rows": ("host-users", [HostUser("anna", "Anna", groups={"acme-team"})]),
        "tenant": ("tenant", "acme"),
        "partial": ("flag", True),
        "dry_run": ("flag", True),
        "host_groups": ("progress?", None),
    },
    "record_activity": {"record": ("record", D1), "activity": ("activity", "note_added"), "actor": ("user?", "bob")},
    "release": {"record": ("record", T1), "role": ("role", "team"), "actor": ("user", "bob")},
    "remove_from_group": {
        "group": ("group-record", CG1),
        "selection": ("selection", [C1]),
        "actor": ("user", "anna"),
        "progress": ("progress?", None),
    },
    "remove_member": {"group": ("group", "acme-team"), "user": ("user", "bob")},
    "replace": {
        "record": ("record", D1),
        "role": ("role", "responsible"),
        "old": ("assignee", ANNA),
        "new": ("assignee", BOB),
        "actor": ("user", "anna"),
    },
    "save_segment": {
        "segment": ("segment", Segment("deal", named("lamp"), name="Lamps", id="seg-2", tenant="acme")),
        "actor": ("user", "anna"),
    },
    "segment": {"tenant": ("tenant", "acme"), "id": ("segment-id", "seg-1")},
    "segments": {"tenant": ("tenant", "acme"), "kind": ("kind?", None)},
    "set_auto_assign": {
        "tenant": ("tenant", "acme"),
        "kind": ("kind", "ticket"),
        "rules": ("rules", [ToGroup("team", "acme-team")]),
        "actor": ("user?", "anna"),
    },
    "set_number": {"record": ("record", D1), "number": ("number?", None), "actor": ("user?", "anna")},
    "set_number_range": {
        "tenant": ("tenant", "acme"),
        "kind": ("kind", "deal"),
        "prefix": ("prefix", "D-"),
        "width": ("count", 3),
        "next": ("count", 5),
        "actor": ("user?", "anna"),
    },
    "set_status": {
        "record": ("record", C1),
        "status": ("status", "customer"),
        "actor": ("user?", "anna"),
        "confirmed": ("flag", True),
    },
    "share": {"record": ("record", D1), "tenant": ("tenant", "globex"), "actor": ("user", "anna")},
    "tenant": {"id": ("tenant", "acme")},
    "transfer": {"leaving": ("user", "bob"), "successor": ("user", "anna"), "actor": ("user?", "anna")},
    "unassign": {
        "record": ("record", D1),
        "role": ("role", "responsible"),
        "assignee": ("assignee", ANNA),
        "actor": ("user", "anna"),
    },
    "update_record": {
        "record": ("record", D1),
        "actor": ("user?", "anna"),
        "name": ("text?", "Simple lamp"),
        "labels": ("names?", ["small"]),
    },
    "update_user": {
        "user": ("user", "bob"),
        "name": ("text?", "Robert"),
        "active": ("flag?", True),
        "admin": ("flag?", False),
        "profile": ("profile?", None),
        "traits": ("names?", ["chief"]),
    },
    "report_to": {"user": ("user", "bob"), "manager": ("user?", "anna")},
    "grant": {
        "record": ("record", D1),
        "to": ("grantee", BOB),
        "level": ("level", "view"),
        "until": ("moment?", START + timedelta(days=1)),
        "actor": ("user?", "anna"),
    },
    "revoke": {"record": ("record", D1), "to": ("grantee", BOB), "actor": ("user?", "anna")},
    "grants": {"record": ("record", D1), "viewer": ("user?", "anna"), "tenant": ("tenant?", None)},
    "follow": {"record": ("record", D1), "user": ("user", "bob")},
    "unfollow": {"record": ("record", D1), "user": ("user", "bob")},
    "followers": {"record": ("record", D1), "viewer": ("user?", "anna"), "tenant": ("tenant?", None)},
    "who_can": {
        "action": ("action", "view"),
        "record": ("record", D1),
        "viewer": ("user?", None),
        "tenant": ("tenant?", None),
    },
    "user": {"id": ("user", "anna")},
    "users": {"tenant": ("tenant", "acme")},
    "visible": {
        "viewer": ("user", "anna"),
        "kind": ("kind", "deal"),
        "action": ("action", "view"),
        "limit": ("limit", 100),
        "after": ("cursor?", None),
    },
    "visible_ids": {
        "viewer": ("user", "anna"),
        "kind": ("kind", "deal"),
        "action": ("action", "view"),
        "limit": ("limit", 100),
        "after": ("cursor?", None),
    },
}
"""Each public method of `Ownership` but `restore` (thrown snapshots below): a valid call, argument by argument."""

WITHOUT_ARGUMENTS = frozenset({"snapshot", "tenants"})
"""Public methods that take no argument, so no bad one can be given."""


def _method_call(method: str, arguments: dict[str, object]) -> Callable[[World], object]:
    def call(world: World) -> object:
        given = {
            name: value() if callable(value) and not isinstance(value, type) else value
            for name, value in arguments.items()
        }
        return getattr(world.own, method)(**given)

    return call


PER_ARGUMENT = 2
"""How many of its kind's bad values each argument of a method is given (each case runs on three stores)."""

PER_FIELD = 3
"""How many of its kind's bad values each field of a value is given."""


def in_turn(per: int) -> Callable[[str, list[tuple[str, object]]], list[tuple[str, object]]]:
    """Hand out `per` bad values of a kind at a time, going on where the last argument of that kind stopped.

    So every argument gets `per` of its kind's bad values, and every bad value is thrown at many arguments
    (the id's NUL, surrogate and 10,000 characters at every store), at a cost the run can afford.
    """
    turn: dict[str, int] = {}

    def pick(kind: str, values: list[tuple[str, object]]) -> list[tuple[str, object]]:
        if len(values) <= per:
            return values
        start = turn.get(kind, 0)
        turn[kind] = start + per
        return [values[(start + i) % len(values)] for i in range(per)]

    return pick


def _method_cases() -> Iterator[Case]:
    pick = in_turn(PER_ARGUMENT)
    for method, spec in METHODS.items():
        valid = {name: value for name, (_kind, value) in spec.items()}
        for name, (kind, _value) in spec.items():
            error: Expected = InvalidValueError
            if method == "set_number_range" and name in {"prefix", "width", "next"}:
                error = (InvalidValueError, NumberingError)
            for label, bad in pick(kind, BAD[kind]):
                yield Case(
                    f"{method}-{name}-{label}",
                    _method_call(method, {**valid, name: bad}),
                    error,
                    name,
                    "method",
                    method,
                )
            if kind in UNKNOWN:
                unknown, missing, text = UNKNOWN[kind]
                if (method, name) in {("unassign", "assignee"), ("replace", "old")}:
                    missing = (UnknownUserError, NotHeldError)  # no one of that id holds it: either answer is true
                yield Case(
                    f"{method}-{name}-unknown",
                    _method_call(method, {**valid, name: unknown}),
                    missing,
                    text,
                    "unknown",
                    method,
                )
    # The forms of the record() look-up a host may also use: (kind, id).
    for label, bad in (_ID[0], *_ID[5:]):
        yield Case(
            f"record-id-{label}",
            _method_call("record", {"record": "deal", "id": bad}),
            InvalidValueError,
            "id",
            "method",
            "record",
        )
    yield Case(
        "record-id-unknown",
        _method_call("record", {"record": "deal", "id": "nope"}),
        UnknownRecordError,
        "nope",
        "unknown",
        "record",
    )
    # A user or group of the other tenant given where one of this tenant is wanted: to a tenant's user it reads
    # as an unknown id (nothing of the other tenant is told); to the host, as another tenant's.
    yield Case(
        "assign-assignee-foreign",
        _method_call("assign", {"record": D1, "role": "watcher", "assignee": Assignee.user("hugo"), "actor": "anna"}),
        UnknownUserError,
        "hugo",
        "unknown",
        "assign",
    )
    yield Case(
        "add_member-user-foreign",
        _method_call("add_member", {"group": "acme-team", "user": "hugo"}),
        ForeignTenantError,
        "hugo",
        "unknown",
        "add_member",
    )


# --- the values a host builds: the kind of each field -----------------------------------------------------

_RULEBOOK_ERRORS = (InvalidValueError, RulebookError)

_EVENT_FIELDS = {"record": "record", "tenant": "id", "actor": "id?", "at": "moment", "private_to": "id?"}

CONSTRUCTORS: dict[str, tuple[Callable[..., object], dict[str, object], dict[str, str], Expected]] = {
    # name: (the class or factory, a valid call, the kind of each field, the error it raises)
    "Tenant": (
        Tenant,
        {"id": "acme", "name": "Acme", "plan": None, "switches": ()},
        {"id": "id", "name": "text", "plan": "id?", "switches": "names"},
        InvalidValueError,
    ),
    "User": (
        User,
        {
            "id": "anna",
            "tenant": "acme",
            "name": "Anna",
            "active": True,
            "admin": False,
            "profile": Profile(),
            "manager": None,
            "traits": frozenset(),
        },
        {
            "id": "id",
            "tenant": "id",
            "name": "text",
            "active": "flag",
            "admin": "flag",
            "profile": "profile",
            "manager": "id?",
            "traits": "names",
        },
        InvalidValueError,
    ),
    "Profile": (Profile, {"restricted": (), "push": False}, {"restricted": "names", "push": "flag"}, InvalidValueError),
    "Group": (
        Group,
        {"id": "g", "tenant": "acme", "name": "G", "kind": GroupKind.TEAM, "personal_of": None},
        {"id": "id", "tenant": "id", "name": "text", "kind": "group-kind", "personal_of": "id?"},
        InvalidValueError,
    ),
    "Membership": (
        Membership,
        {"group": "g", "user": "anna", "until": None},
        {"group": "id", "user": "id", "until": "moment?"},
        InvalidValueError,
    ),
    "Assignee": (
        Assignee,
        {"kind": AssigneeKind.USER, "id": "anna"},
        {"kind": "assignee-kind", "id": "id"},
        InvalidValueError,
    ),
    "Assignee.user": (Assignee.user, {"id": "anna"}, {"id": "id"}, InvalidValueError),
    "Assignee.group": (Assignee.group, {"id": "g"}, {"id": "id"}, InvalidValueError),
    "RecordRef": (RecordRef, {"kind": "deal", "id": "d-1"}, {"kind": "id", "id": "id"}, InvalidValueError),
    "HostRecord": (
        HostRecord,
        {"id": "d-1", "holders": {"responsible": ANNA}, "status": None, "name": None, "labels": None},
        {"id": "id", "holders": "holders-map", "status": "id?", "name": "text?", "labels": "names?"},
        InvalidValueError,
    ),
    "HostUser": (
        HostUser,
        {"id": "anna", "name": "Anna", "active": True, "admin": False, "groups": None, "profile": None, "traits": None},
        {
            "id": "id",
            "name": "text",
            "active": "flag",
            "admin": "flag",
            "groups": "names?",
            "profile": "profile?",
            "traits": "names?",
        },
        InvalidValueError,
    ),
    "Record": (
        Record,
        {
            "kind": "deal",
            "id": "d-1",
            "tenant": "acme",
            "created_at": START,
            "name": None,
            "status": None,
            "number": None,
        },
        {
            "kind": "id",
            "id": "id",
            "tenant": "id",
            "created_at": "moment",
            "shared_with": "names",
            "offered_to": "names",
            "name": "text?",
            "status": "id?",
            "number": "id?",
            "labels": "names",
            "groups": "names",
        },
        InvalidValueError,
    ),
    "Assignment": (
        Assignment,
        {"record": D1, "role": "responsible", "assignee": ANNA, "tenant": "acme", "since": START, "actor": None},
        {"record": "record", "role": "id", "assignee": "assignee", "tenant": "id", "since": "moment", "actor": "id?"},
        InvalidValueError,
    ),
    "RecordCreated": (
        RecordCreated,
        {"record": D1, "tenant": "acme", "actor": None, "at": START},
        _EVENT_FIELDS,
        InvalidValueError,
    ),
    "RecordShared": (
        RecordShared,
        {"record": D1, "tenant": "acme", "actor": None, "at": START},
        _EVENT_FIELDS,
        InvalidValueError,
    ),
    "ShareAccepted": (
        ShareAccepted,
        {"record": D1, "tenant": "acme", "actor": None, "at": START},
        _EVENT_FIELDS,
        InvalidValueError,
    ),
    "Assigned": (
        Assigned,
        {"record": D1, "role": "responsible", "assignee": ANNA, "tenant": "acme", "actor": None, "at": START},
        {**_EVENT_FIELDS, "role": "id", "assignee": "assignee"},
        InvalidValueError,
    ),
    "Unassigned": (
        Unassigned,
        {"record": D1, "role": "responsible", "assignee": ANNA, "tenant": "acme", "actor": None, "at": START},
        {**_EVENT_FIELDS, "role": "id", "assignee": "assignee"},
        InvalidValueError,
    ),
    "ActivityRecorded": (
        ActivityRecorded,
        {"record": D1, "activity": "note_added", "tenant": "acme", "actor": None, "at": START},
        {**_EVENT_FIELDS, "activity": "id"},
        InvalidValueError,
    ),
    "StatusChanged": (
        StatusChanged,
        {"record": C1, "source": None, "target": "prospect", "tenant": "acme", "actor": None, "at": START},
        {**_EVENT_FIELDS, "source": "id?", "target": "id"},
        InvalidValueError,
    ),
    "AccessGranted": (
        AccessGranted,
        {"record": D1, "assignee": BOB, "level": "view", "until": None, "tenant": "acme", "actor": None, "at": START},
        {**_EVENT_FIELDS, "assignee": "assignee", "level": "id", "until": "moment?"},
        InvalidValueError,
    ),
    "AccessRevoked": (
        AccessRevoked,
        {"record": D1, "assignee": BOB, "tenant": "acme", "actor": None, "at": START},
        {**_EVENT_FIELDS, "assignee": "assignee"},
        InvalidValueError,
    ),
    "Grant": (
        Grant,
        {
            "record": D1,
            "assignee": BOB,
            "level": "edit",
            "tenant": "acme",
            "since": START,
            "until": None,
            "actor": None,
        },
        {
            "record": "record",
            "assignee": "grantee",
            "level": "level",
            "tenant": "id",
            "since": "moment",
            "until": "moment?",
            "actor": "id?",
        },
        InvalidValueError,
    ),
    "Follower": (
        Follower,
        {"record": D1, "user": "bob", "tenant": "acme", "since": START},
        {"record": "record", "user": "id", "tenant": "id", "since": "moment"},
        InvalidValueError,
    ),
    "Notification": (
        Notification,
        {
            "key": "k-1",
            "recipient": "anna",
            "record": D1,
            "activity": "note_added",
            "actor": None,
            "at": START,
            "channel": Channel.IN_APP,
        },
        {
            "key": "id",
            "recipient": "id",
            "record": "record",
            "activity": "id",
            "actor": "id?",
            "at": "moment",
            "channel": "channel",
        },
        InvalidValueError,
    ),
    "OutboxEntry": (
        OutboxEntry,
        {
            "notification": Notification("k-1", "anna", D1, "note_added", None, START, Channel.IN_APP),
            "attempts": 0,
            "delivered": False,
            "dead": False,
            "next_attempt_at": None,
        },
        {
            "notification": "value",
            "attempts": "count",
            "delivered": "flag",
            "dead": "flag",
            "next_attempt_at": "moment?",
        },
        InvalidValueError,
    ),
    "NumberRange": (
        NumberRange,
        {"prefix": "D-", "width": 3, "next": 1},
        {"prefix": "prefix", "width": "count", "next": "count"},
        (InvalidValueError, NumberingError),
    ),
    "Role": (
        Role,
        {"name": "responsible"},
        {
            "name": "id",
            "min": "count",
            "max": "count?",
            "users": "flag",
            "groups": "group-kinds",
            "everyone": "flag",
            "grants_access": "flag",
            "notified": "flag",
            "requires": "id?",
            "private": "flag",
        },
        _RULEBOOK_ERRORS,
    ),
    "Policy": (
        Policy,
        {"kind": "deal"},
        {
            "kind": "id",
            "roles": "values",
            "auto_assign": "values",
            "requires": "id?",
            "access": "value",
            "activities": "values?",
            "lifecycle": "value?",
            "collects": "id?",
        },
        _RULEBOOK_ERRORS,
    ),
    "Rulebook": (Rulebook, {}, {"policies": "values", "plans": "values", "default_plan": "id?"}, _RULEBOOK_ERRORS),
    "Plan": (Plan, {"name": "go", "features": ()}, {"name": "id", "features": "names"}, _RULEBOOK_ERRORS),
    "Access": (Access, {}, {"view": "value?", "edit": "value?", "assign": "value?"}, _RULEBOOK_ERRORS),
    "Activity": (Activity, {"name": "note_added", "roles": None}, {"name": "id", "roles": "names?"}, _RULEBOOK_ERRORS),
    "AssignActor": (
        AssignActor,
        {"on": Trigger.CREATED, "role": "responsible"},
        {"on": "trigger", "role": "id"},
        _RULEBOOK_ERRORS,
    ),
    "AutoAssign": (
        AutoAssign,
        {"on": Trigger.CREATED, "role": "responsible"},
        {"on": "trigger", "role": "id"},
        _RULEBOOK_ERRORS,
    ),
    "Lifecycle": (
        Lifecycle,
        {"states": (State("new"),), "initial": "new", "transitions": ()},
        {"states": "values", "initial": "id", "transitions": "values", "imported": "id?", "archived": "id?"},
        _RULEBOOK_ERRORS,
    ),
    "State": (State, {"name": "new", "refuses": ()}, {"name": "id", "refuses": "names"}, _RULEBOOK_ERRORS),
    "Transition": (
        Transition,
        {"source": "a", "target": "b", "confirm": False},
        {"source": "id", "target": "id", "confirm": "flag"},
        _RULEBOOK_ERRORS,
    ),
    "Segment": (
        Segment,
        {"kind": "deal", "criteria": named("lamp"), "name": "", "id": None, "tenant": None},
        {"kind": "id", "criteria": "criteria", "name": "text", "id": "id?", "tenant": "id?"},
        InvalidValueError,
    ),
    "RoundRobin": (
        RoundRobin,
        {"role": "team", "group": "acme-team"},
        {"role": "id", "group": "id"},
        InvalidValueError,
    ),
    "LeastLoad": (LeastLoad, {"role": "team", "group": "acme-team"}, {"role": "id", "group": "id"}, InvalidValueError),
    "ToGroup": (ToGroup, {"role": "team", "group": "acme-team"}, {"role": "id", "group": "id"}, InvalidValueError),
    "Territory": (
        Territory,
        {"criteria": named("lamp"), "rule": ToGroup("team", "acme-team")},
        {"criteria": "criteria", "rule": "value"},
        InvalidValueError,
    ),
    "AutoAssignment": (
        AutoAssignment,
        {"kind": "ticket", "rules": ()},
        {"kind": "id", "rules": "values"},
        InvalidValueError,
    ),
    "Setting": (
        Setting,
        {"tenant": "acme", "key": "numbers/deal", "value": {}},
        {"tenant": "id", "key": "id"},
        InvalidValueError,
    ),
    "Snapshot": (
        Snapshot,
        {"tenants": (), "users": (), "groups": (), "memberships": (), "records": (), "assignments": (), "events": ()},
        {
            "tenants": "values",
            "users": "values",
            "records": "values",
            "events": "values",
            "outbox": "values",
            "grants": "values",
            "followers": "values",
        },
        InvalidValueError,
    ),
    "named": (named, {"text": "lamp"}, {"text": "text"}, InvalidValueError),
    "labelled": (labelled, {"label": "big"}, {"label": "id"}, InvalidValueError),
    "in_group": (in_group, {"group": CG1}, {"group": "group-ref"}, InvalidValueError),
    "held_by": (held_by, {"who": ANNA}, {"who": "who", "through_groups": "flag"}, InvalidValueError),
    "Ownership": (
        Ownership,
        {"rulebook": rulebook(), "repository": MemoryRepository()},
        {
            "rulebook": "value",
            "repository": "value",
            "clock": "callable",
            "ids": "callable",
            "notifier": "value?",
            "retries": "count",
        },
        InvalidValueError,
    ),
}
"""Each value a host builds (and the criteria and factories): a valid call and the kind of each field."""

_VALUE: list[tuple[str, object]] = [("int", 5), ("str", "x"), ("dict", {"x": 1})]
FIELD_BAD: dict[str, list[tuple[str, object]]] = {
    **BAD,
    "count?": [(label, value) for label, value in _COUNT if value is not None],
    "profile": [("int", 5), ("none", None), ("str", "restricted"), ("dict", {"push": True})],
    "group-kind": [("int", 5), ("none", None), ("unknown-str", "club")],
    "assignee-kind": [("int", 5), ("none", None), ("unknown-str", "robot")],
    "channel": [("int", 5), ("none", None), ("unknown-str", "pigeon")],
    "trigger": [("int", 5), ("none", None), ("unknown-str", "deleted")],
    "group-kinds": [("bare-str", "team"), ("int-item", [5]), ("unknown-item", ["club"]), ("int", 5)],
    "value": [("none", None), *_VALUE],
    "value?": _VALUE,
    "values": [("int", 5), ("str", "deal"), ("int-item", [5]), ("none-item", [None])],
    "values?": [("int", 5), ("str", "deal"), ("int-item", [5])],
    "criteria": [("int", 5), ("none", None), ("str", "lamp")],
    "group-ref": [("int", 5), ("none", None), ("empty", ""), ("nul", "a\x00b"), ("long", LONG_ID)],
    "who": [("int", 5), ("none", None), ("empty", ""), ("nul", "a\x00b"), ("surrogate", "\ud800"), ("long", LONG_ID)],
    "callable": [("int", 5), ("str", "now")],
    "holders-map": [
        ("int", 5),
        ("str", "anna"),
        ("int-key", {5: ANNA}),
        ("str-value", {"responsible": "anna"}),
        ("int-items", {"responsible": [5]}),
    ],
}
"""Bad values of each kind of field: those of the arguments, and the kinds only values have."""


def _calling(make: Callable[..., object], *arguments: object) -> Callable[[World], object]:
    return lambda _world: make(*arguments)


def _restoring_with(progress: object) -> Callable[[World], object]:
    return lambda world: world.blank.restore(world.original, progress=progress)  # type: ignore[arg-type]


def _auditing_with(spec: str) -> Callable[[World], object]:
    return lambda world: run_command(["--db", str(world.url), "--rulebook", spec, "audit"])


def _construct(make: Callable[..., object], arguments: dict[str, object]) -> Callable[[World], object]:
    return lambda _world: make(**arguments)


def _constructor_cases() -> Iterator[Case]:
    pick = in_turn(PER_FIELD)
    for name, (make, valid, fields, error) in CONSTRUCTORS.items():
        kind = "criteria" if name[0].islower() and not name.startswith("Assignee") else "constructor"
        for field, field_kind in fields.items():
            for label, bad in pick(field_kind, FIELD_BAD[field_kind]):
                yield Case(
                    f"{name}-{field}-{label}",
                    _construct(make, {**valid, field: bad}),
                    error,
                    field,
                    kind,
                    name,
                    stores=False,
                )
    # The criteria that take any number of names: a bad one among them.
    for make, name, field in ((status_in, "status_in", "status"), (unassigned, "unassigned", "role")):
        for label, bad in _ID:
            yield Case(
                f"{name}-{field}-{label}",
                _calling(make, bad),
                InvalidValueError,
                field,
                "criteria",
                name,
                stores=False,
            )
    for label, bad in _ID:
        yield Case(
            f"held_by-roles-{label}",
            _calling(held_by, ANNA, bad),
            InvalidValueError,
            "role",
            "criteria",
            "held_by",
            stores=False,
        )
    # Criteria combined with what is not a criterion.
    for label, bad in (("int", 5), ("str", "lamp"), ("none", None)):
        yield Case(
            f"Criterion-and-{label}",
            _calling(operator.and_, named("lamp"), bad),
            InvalidValueError,
            "criteri",
            "criteria",
            "Criterion",
            stores=False,
        )
        yield Case(
            f"Criterion-or-{label}",
            _calling(operator.or_, named("lamp"), bad),
            InvalidValueError,
            "criteri",
            "criteria",
            "Criterion",
            stores=False,
        )


# --- restore: bad snapshots, thrown at the empty repository beside the world --------------------------------


def _first_ownership_error(error: BaseException) -> OwnershipError | None:
    """The first `OwnershipError` in a cattrs error's tree, if strict hooks raised one inside it."""
    if isinstance(error, OwnershipError):
        return error
    for inner in getattr(error, "exceptions", ()):
        found = _first_ownership_error(inner)
        if found is not None:
            return found
    return None


def _restore_data(edit: Callable[[dict[str, Any]], object]) -> Callable[[World], object]:
    """Read the world's export, edited by `edit`, as `import` does, and restore it into the empty repository."""

    def call(world: World) -> object:
        data = copy.deepcopy(serde.unstructure(world.original))
        edit(data)
        try:
            snapshot = serde.structure(data, Snapshot)
        except cattrs.BaseValidationError as error:
            found = _first_ownership_error(error)
            if found is None:
                raise
            raise found from error
        return world.blank.restore(snapshot)

    return call


def _restore_value(change: Callable[[Snapshot], Snapshot]) -> Callable[[World], object]:
    """Restore the world's snapshot, changed by `change`, into the empty repository."""
    return lambda world: world.blank.restore(change(world.original))


def _at(data: dict[str, Any], table: str, **match: object) -> dict[str, Any]:
    """The first entry of `table` whose fields equal `match`."""
    return next(entry for entry in data[table] if all(entry.get(k) == v for k, v in match.items()))


def _set(
    table: str, match: dict[str, object], path: tuple[str, ...], value: object
) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        entry = _at(data, table, **match)
        for step in path[:-1]:
            entry = entry[step]
        entry[path[-1]] = value

    return edit


def _replace_table(table: str, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data[table] = value

    return edit


def _setting(key: str, value: object, tenant: str = "acme") -> Callable[[Snapshot], Snapshot]:
    def change(snapshot: Snapshot) -> Snapshot:
        kept = tuple(s for s in snapshot.settings if not (s.tenant == tenant and s.key == key))
        return attrs.evolve(snapshot, settings=(*kept, Setting(tenant, key, value)))

    return change


def _restore_cases() -> Iterator[Case]:
    anna = {"id": "anna"}
    flags = [("str-false", "false"), ("str-no", "no"), ("int-0", 0), ("int-1", 1), ("none", None)]
    data_cases: list[tuple[str, Callable[[dict[str, Any]], object], str]] = []
    for field in ("admin", "active"):
        data_cases += [(f"user-{field}-{label}", _set("users", anna, (field,), bad), field) for label, bad in flags]
    data_cases += [
        (f"user-push-{label}", _set("users", anna, ("profile", "push"), bad), "push") for label, bad in flags[:3]
    ]
    data_cases += [
        (f"user-restricted-{label}", _set("users", anna, ("profile", "restricted"), bad), "restricted")
        for label, bad in _NAMES
    ]
    data_cases += [
        (f"tenant-switches-{label}", _set("tenants", {"id": "acme"}, ("switches",), bad), "switches")
        for label, bad in _NAMES
    ]
    data_cases += [
        (f"record-labels-{label}", _set("records", {"id": "d-1"}, ("labels",), bad), "labels")
        for label, bad in _NAMES[:4]
    ]
    data_cases += [
        ("record-shared_with-bare-str", _set("records", {"id": "l-1"}, ("shared_with",), "globex"), "shared_with")
    ]
    json_ids = [(label, bad) for label, bad in _ID if not isinstance(bad, bytes)]  # JSON has no bytes
    data_cases += [(f"user-id-{label}", _set("users", anna, ("id",), bad), "id") for label, bad in json_ids]
    data_cases += [
        (f"tenant-id-{label}", _set("tenants", {"id": "globex"}, ("id",), bad), "id") for label, bad in json_ids
    ]
    data_cases += [
        (f"record-id-{label}", _set("records", {"id": "gd-1"}, ("id",), bad), "id") for label, bad in json_ids
    ]
    data_cases += [
        (f"user-name-{label}", _set("users", anna, ("name",), bad), "name")
        for label, bad in _TEXT
        if not isinstance(bad, bytes)
    ]
    naive = NAIVE.isoformat()
    data_cases += [
        ("record-created_at-naive", _set("records", {"id": "d-1"}, ("created_at",), naive), "created_at"),
        ("record-created_at-garbage", _set("records", {"id": "d-1"}, ("created_at",), "yesterday"), "created_at"),
        ("record-created_at-int", _set("records", {"id": "d-1"}, ("created_at",), 5), "created_at"),
        ("assignment-since-naive", lambda d: d["assignments"][0].__setitem__("since", naive), "since"),
        ("event-at-naive", lambda d: d["events"][0].__setitem__("at", naive), "at"),
        ("outbox-at-naive", lambda d: d["outbox"][0]["notification"].__setitem__("at", naive), "at"),
        ("membership-until-naive", lambda d: d["memberships"][0].__setitem__("until", naive), "until"),
        ("outbox-attempts-negative", lambda d: d["outbox"][0].__setitem__("attempts", -1), "attempts"),
        ("outbox-attempts-str", lambda d: d["outbox"][0].__setitem__("attempts", "1"), "attempts"),
        ("outbox-attempts-bool", lambda d: d["outbox"][0].__setitem__("attempts", True), "attempts"),
        ("outbox-attempts-beyond-64-bits", lambda d: d["outbox"][0].__setitem__("attempts", -(2**64)), "attempts"),
        ("outbox-delivered-str", lambda d: d["outbox"][0].__setitem__("delivered", "false"), "delivered"),
        (
            "outbox-channel-unknown",
            lambda d: d["outbox"][0]["notification"].__setitem__("channel", "pigeon"),
            "channel",
        ),
        ("group-kind-unknown", _set("groups", {"id": "acme-team"}, ("kind",), "club"), "kind"),
        (
            "assignment-assignee-kind-unknown",
            lambda d: d["assignments"][0]["assignee"].__setitem__("kind", "robot"),
            "kind",
        ),
        ("event-type-unknown", lambda d: d["events"][0].__setitem__("type", "Exploded"), "type"),
        ("tenants-int", _replace_table("tenants", 5), "tenants"),
        ("tenants-str", _replace_table("tenants", "acme"), "tenants"),
        ("users-dict", _replace_table("users", {"anna": {"id": "anna"}}), "users"),
        ("records-none", _replace_table("records", None), "records"),
        ("outbox-str", _replace_table("outbox", "none"), "outbox"),
        ("settings-int-item", _replace_table("settings", [5]), "settings"),
    ]
    for name, edit, text in data_cases:
        yield Case(f"restore-{name}", _restore_data(edit), InvalidValueError, text, "restore", "restore")

    cross = (InvalidValueError, ForeignTenantError)
    value_cases: list[tuple[str, Callable[[Snapshot], Snapshot], Expected, str]] = [
        (
            "personal-group-of-other-tenant",
            lambda s: attrs.evolve(
                s, groups=tuple(attrs.evolve(g, personal_of="hugo") if g.id == "acme-care" else g for g in s.groups)
            ),
            cross,
            "hugo",
        ),
        (
            "membership-across-tenants",
            lambda s: attrs.evolve(s, memberships=(*s.memberships, Membership("acme-team", "hugo"))),
            cross,
            "hugo",
        ),
        (
            "event-actor-of-other-tenant",
            lambda s: attrs.evolve(
                s,
                events=tuple(
                    attrs.evolve(e, actor="hugo") if isinstance(e, RecordCreated) and e.record == D1 else e
                    for e in s.events
                ),
            ),
            cross,
            "hugo",
        ),
        (
            "notification-to-other-tenant",
            lambda s: attrs.evolve(
                s,
                outbox=tuple(
                    attrs.evolve(o, notification=attrs.evolve(o.notification, recipient="hugo")) for o in s.outbox
                ),
            ),
            cross,
            "hugo",
        ),
        (
            "record-group-of-other-tenant",
            lambda s: attrs.evolve(
                s, records=tuple(attrs.evolve(r, groups={"gd-1"}) if r.id == "c-1" else r for r in s.records)
            ),
            cross,
            "gd-1",
        ),
        (
            "assignment-of-other-tenants-user",
            lambda s: attrs.evolve(
                s, assignments=(*s.assignments, Assignment(D1, "watcher", Assignee.user("hugo"), "acme", START))
            ),
            cross,
            "hugo",
        ),
        (
            "assignment-in-slot-of-unshared-tenant",
            lambda s: attrs.evolve(
                s, assignments=(*s.assignments, Assignment(D1, "watcher", Assignee.user("gina"), "globex", START))
            ),
            cross,
            "globex",
        ),
        (
            "segment-of-other-tenant",
            _setting(
                "segments/seg-1",
                {
                    "kind": "deal",
                    "criteria": {"type": "Named", "text": "lamp"},
                    "name": "Lamp deals",
                    "id": "seg-1",
                    "tenant": "globex",
                },
            ),
            cross,
            "seg-1",
        ),
        (
            "auto-assign-to-other-tenants-team",
            _setting(
                "auto_assign/ticket",
                {"kind": "ticket", "rules": [{"role": "team", "group": "globex-team", "type": "ToGroup"}]},
            ),
            cross,
            "globex-team",
        ),
        (
            "setting-numbers-broken",
            _setting("numbers/deal", {"prefix": 5, "width": -1, "next": "x"}),
            InvalidValueError,
            "numbers/deal",
        ),
        (
            "setting-auto-assign-broken",
            _setting("auto_assign/ticket", "round robin"),
            InvalidValueError,
            "auto_assign/ticket",
        ),
        ("setting-segment-broken", _setting("segments/seg-1", {"kind": 5}), InvalidValueError, "segments/seg-1"),
        ("setting-unknown-key", _setting("bogus/x", 1), InvalidValueError, "bogus/x"),
        (
            "setting-unknown-tenant",
            _setting("numbers/deal", {"prefix": "", "width": 1, "next": 1}, tenant="nowhere"),
            InvalidValueError,
            "nowhere",
        ),
        (
            "user-of-unknown-tenant",
            lambda s: attrs.evolve(s, users=(*s.users, User("zed", "nowhere", "Zed"))),
            InvalidValueError,
            "nowhere",
        ),
        ("duplicate-user", lambda s: attrs.evolve(s, users=(*s.users, s.users[0])), InvalidValueError, "anna"),
        (
            "outbox-attempts-negative-value",
            lambda s: attrs.evolve(s, outbox=tuple(attrs.evolve(o, attempts=-1) for o in s.outbox)),
            InvalidValueError,
            "attempts",
        ),
        ("not-a-snapshot-int", lambda _s: 5, InvalidValueError, "snapshot"),  # type: ignore[arg-type,return-value]
        ("not-a-snapshot-none", lambda _s: None, InvalidValueError, "snapshot"),  # type: ignore[arg-type,return-value]
        ("not-a-snapshot-dict", serde.unstructure, InvalidValueError, "snapshot"),
    ]
    for name, change, error, text in value_cases:
        yield Case(f"restore-{name}", _restore_value(change), error, text, "restore", "restore")
    for label, bad in _CALLBACK:
        yield Case(
            f"restore-progress-{label}",
            _restoring_with(bad),
            InvalidValueError,
            "progress",
            "restore",
            "restore",
        )
    # The world itself is not empty: restoring into it is refused, as the method says.
    yield Case(
        "restore-into-a-repository-in-use",
        lambda w: w.own.restore(w.original),
        ownership.DuplicateIdError,
        "",
        "restore",
        "restore",
    )


# --- the command ----------------------------------------------------------------------------------------------


def run_command(argv: list[str]) -> None:
    """Run ``ownership argv``; raise `CommandRefusedError` when it exits non-zero, `CommandSucceededError` when not.

    argparse's own refusals (exit 2 through SystemExit) count as a refusal too.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    if code:
        raise CommandRefusedError(code, err.getvalue())
    raise CommandSucceededError(f"ownership {' '.join(argv)!r} exited 0: {out.getvalue()[:200]!r}")


def _command(*argv: str, on: str = "world") -> Callable[[World], object]:
    def call(world: World) -> None:
        url = world.url if on == "world" else world.blank_url
        assert url is not None, "the command runs on a database"
        run_command(["--db", url, "--rulebook", "small_world:rulebook", *argv])

    return call


def _import(text: str | Callable[[World], str]) -> Callable[[World], object]:
    def call(world: World) -> None:
        assert world.blank_url is not None
        assert world.files is not None
        path = world.files / "import.json"
        path.write_text(text(world) if callable(text) else text, encoding="utf-8")
        run_command(["--db", world.blank_url, "import", str(path)])

    return call


def _edited_export(edit: Callable[[dict[str, Any]], object]) -> Callable[[World], str]:
    def text(world: World) -> str:
        data = copy.deepcopy(serde.unstructure(world.original))
        edit(data)
        return json.dumps(data)

    return text


def _command_cases() -> Iterator[Case]:
    rulebooks = {
        "sys-exit": "sys:exit",
        "os-getcwd": "os:getcwd",
        "builtins-dict": "builtins:dict",
        "no-module": "no_such_module_xyz:rules",
        "no-name": "small_world:no_such_rules",
        "not-a-preset": "no_such_preset",
        "a-moment": "small_world:START",
        "needs-arguments": "small_world:build",
        "empty-module": ":rulebook",
    }
    for label, spec in rulebooks.items():
        yield Case(
            f"command-rulebook-{label}",
            _auditing_with(spec),
            CommandRefusedError,
            "rulebook",
            "command",
            "ownership",
        )
    unknown = [
        ("holders-unknown-record", ("holders", "deal:nope"), "nope"),
        ("holders-unknown-kind", ("holders", "spaceship:d-1"), "spaceship"),
        ("holders-not-kind-id", ("holders", "deal"), "KIND:ID"),
        ("holders-unknown-role", ("holders", "deal:d-1", "--role", "pilot"), "pilot"),
        ("holders-unknown-viewer", ("holders", "deal:d-1", "--viewer", "nobody"), "nobody"),
        ("holders-nul-id", ("holders", "deal:a\x00b"), "id"),
        ("holders-long-id", ("holders", f"deal:{LONG_ID}"), "id"),
        ("holders-surrogate-id", ("holders", "deal:\ud800"), "id"),
        ("explain-unknown-user", ("explain", "nobody", "deal:d-1"), "nobody"),
        ("explain-unknown-record", ("explain", "anna", "deal:nope"), "nope"),
        ("explain-unknown-action", ("explain", "anna", "deal:d-1", "--action", "fly"), "fly"),
        ("explain-nul-user", ("explain", "a\x00b", "deal:d-1"), "viewer"),
        ("explain-long-user", ("explain", LONG_ID, "deal:d-1"), "viewer"),
        ("transfer-unknown-leaving", ("transfer", "--from", "nobody", "--to", "anna"), "nobody"),
        ("transfer-unknown-successor", ("transfer", "--from", "bob", "--to", "nobody"), "nobody"),
        ("transfer-foreign-successor", ("transfer", "--from", "bob", "--to", "gina"), "tenant"),
        ("transfer-unknown-actor", ("transfer", "--from", "bob", "--to", "anna", "--actor", "nobody"), "nobody"),
        ("audit-unknown-tenant", ("audit", "nowhere"), "nowhere"),
        ("audit-nul-tenant", ("audit", "a\x00b"), "tenant"),
        ("export-unwritable", ("export", "-o", "/nonexistent-dir/export.json"), "nonexistent-dir"),
        ("no-such-command", ("launch",), "launch"),
    ]
    for label, argv, text in unknown:
        yield Case(f"command-{label}", _command(*argv), CommandRefusedError, text, "command", "ownership")
    imports: list[tuple[str, str | Callable[[World], str], str]] = [
        ("not-json", "{", "JSON"),
        ("a-list", "[]", "export"),
        ("tenants-int", '{"tenants": 5}', "export"),
        ("empty-object", "{}", "export"),
        ("admin-str-false", _edited_export(_set("users", {"id": "anna"}, ("admin",), "false")), "admin"),
        ("active-str-no", _edited_export(_set("users", {"id": "carl"}, ("active",), "no")), "active"),
        (
            "restricted-bare-str",
            _edited_export(_set("users", {"id": "bob"}, ("profile", "restricted"), "deal")),
            "restricted",
        ),
        ("switches-bare-str", _edited_export(_set("tenants", {"id": "acme"}, ("switches",), "tickets")), "switches"),
        (
            "created_at-naive",
            _edited_export(_set("records", {"id": "d-1"}, ("created_at",), NAIVE.isoformat())),
            "created_at",
        ),
        ("attempts-negative", _edited_export(lambda d: d["outbox"][0].__setitem__("attempts", -1)), "attempts"),
        ("user-id-nul", _edited_export(_set("users", {"id": "anna"}, ("id",), "a\x00b")), "id"),
        ("user-id-long", _edited_export(_set("users", {"id": "anna"}, ("id",), LONG_ID)), "id"),
        (
            "membership-across-tenants",
            _edited_export(lambda d: d["memberships"].append({"group": "acme-team", "user": "hugo", "until": None})),
            "hugo",
        ),
    ]
    for label, text, needle in imports:
        yield Case(f"command-import-{label}", _import(text), CommandRefusedError, needle, "command", "ownership")
    yield Case(
        "command-import-missing-file",
        lambda w: run_command(["--db", str(w.blank_url), "import", "/nonexistent-dir/export.json"]),
        CommandRefusedError,
        "nonexistent-dir",
        "command",
        "ownership",
    )
    yield Case(
        "command-import-into-database-in-use",
        _import_into_world,
        CommandRefusedError,
        "",
        "command",
        "ownership",
    )


def _import_into_world(world: World) -> None:
    assert world.url is not None
    assert world.files is not None
    path = world.files / "export.json"
    path.write_text(json.dumps(serde.unstructure(world.original)), encoding="utf-8")
    run_command(["--db", world.url, "import", str(path)])


CASES: list[Case] = [*_method_cases(), *_constructor_cases(), *_restore_cases(), *_command_cases()]
"""Every bad input of the catalogue."""

HOST_BUILT = sorted(
    name
    for name in ownership.__all__
    if isinstance(getattr(ownership, name), type) and attrs.has(getattr(ownership, name))
)
"""The public value classes; those a host never builds (the library's answers) are left out in the test."""
