"""Strategies for the directory, records, history and notifications; `ownership.testing.strategies` shows them."""

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from hypothesis import strategies as st

from ownership.access import (
    Predicate,
)
from ownership.events import (
    AccessGranted,
    AccessRevoked,
    ActivityRecorded,
    Assigned,
    Event,
    RecordCreated,
    RecordShared,
    ShareAccepted,
    StatusChanged,
    Unassigned,
)
from ownership.model import (
    EVERYONE,
    LEVELS,
    Assignee,
    AssigneeKind,
    Assignment,
    Follower,
    Grant,
    Group,
    GroupKind,
    Membership,
    Profile,
    Record,
    RecordRef,
    Tenant,
    User,
)
from ownership.notify import Activity, Channel, Dispatched, Notification, OutboxEntry
from ownership.segments import Criterion

_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)

EVENT_TYPES: tuple[type[Event], ...] = (
    RecordCreated,
    Assigned,
    Unassigned,
    RecordShared,
    ShareAccepted,
    ActivityRecorded,
    StatusChanged,
    AccessGranted,
    AccessRevoked,
)
"""Every class of event, in the order `events()` draws them."""

FINDING_KINDS = (
    "unseen_record",
    "inactive_holder",
    "no_caretaker_group",
    "group_without_members",
    "expired_deputy",
    "dead_letter",
    "grant",
    "expired_grant",
    "inactive_grantee",
)
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
    elif cls is AccessGranted:
        fields |= {"assignee": _grantees(), "level": st.sampled_from(LEVELS), "until": st.none() | moments()}
    elif cls is AccessRevoked:
        fields |= {"assignee": _grantees()}
    return st.builds(cls, **fields)


def _grantees() -> st.SearchStrategy[Assignee]:
    return st.one_of(assignees(kind=AssigneeKind.USER), assignees(kind=AssigneeKind.GROUP))


def grants(*, record: RecordRef | None = None, tenant: str | None = None) -> st.SearchStrategy[Grant]:
    """Grants to a user or group at either level, for good or until a moment; each knob pins its field."""
    return st.builds(
        Grant,
        record=_pinned(record, record_refs()),
        assignee=_grantees(),
        level=st.sampled_from(LEVELS),
        tenant=_pinned(tenant, ids()),
        since=moments(),
        until=st.none() | moments(),
        actor=st.none() | ids(),
    )


def followers(*, record: RecordRef | None = None, tenant: str | None = None) -> st.SearchStrategy[Follower]:
    """Followers of records; each knob pins its field."""
    return st.builds(
        Follower, record=_pinned(record, record_refs()), user=ids(), tenant=_pinned(tenant, ids()), since=moments()
    )


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
    """Outbox entries, pending, delivered or dead, with attempts, some waiting out a backoff."""
    return st.builds(
        OutboxEntry,
        notification=notifications(),
        attempts=st.integers(0, 5),
        delivered=st.booleans(),
        dead=st.booleans(),
        next_attempt_at=st.none() | moments(),
    )


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
