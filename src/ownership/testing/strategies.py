"""Hypothesis strategies for every public value of `ownership`, named as plural nouns.

Each takes keyword-only knobs to pin a field (``users(tenant="acme")``); what is
not pinned is drawn, and shrinks towards small ids and early moments.
"""

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

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
from ownership.model import (
    EVERYONE,
    Assignee,
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
from ownership.notify import Activity, Channel, Notification, OutboxEntry
from ownership.policy import AutoAssign, Plan, Policy, Role, Rulebook, Trigger

_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def ids() -> st.SearchStrategy[str]:
    """Short non-empty ids."""
    return st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)


def names() -> st.SearchStrategy[str]:
    """Names to show people, any text."""
    return st.text(max_size=12)


def moments() -> st.SearchStrategy[datetime]:
    """Aware UTC moments within a few years of 2026, to the microsecond."""
    return st.integers(0, 3 * 365 * 86_400 * 10**6).map(lambda us: _EPOCH + timedelta(microseconds=us))


def group_kinds() -> st.SearchStrategy[GroupKind]:
    """Caretaker, competence or team."""
    return st.sampled_from(GroupKind)


def tenants(*, id: str | None = None) -> st.SearchStrategy[Tenant]:
    """Tenants, with or without a plan and switches."""
    return st.builds(
        Tenant,
        id=st.just(id) if id is not None else ids(),
        name=names(),
        plan=st.none() | ids(),
        switches=st.frozensets(ids(), max_size=3),
    )


def profiles() -> st.SearchStrategy[Profile]:
    """User profiles: restricted kinds and the push opt-in."""
    return st.builds(Profile, restricted=st.frozensets(ids(), max_size=3), push=st.booleans())


def users(*, tenant: str | None = None) -> st.SearchStrategy[User]:
    """Users, active or not, admin or not."""
    return st.builds(
        User,
        id=ids(),
        tenant=st.just(tenant) if tenant is not None else ids(),
        name=names(),
        active=st.booleans(),
        admin=st.booleans(),
        profile=profiles(),
    )


def groups(*, tenant: str | None = None, kind: GroupKind | None = None) -> st.SearchStrategy[Group]:
    """Groups of every kind, some personal."""
    return st.builds(
        Group,
        id=ids(),
        tenant=st.just(tenant) if tenant is not None else ids(),
        name=names(),
        kind=st.just(kind) if kind is not None else group_kinds(),
        personal_of=st.none() | ids(),
    )


def memberships() -> st.SearchStrategy[Membership]:
    """Memberships, for good or until a moment."""
    return st.builds(Membership, group=ids(), user=ids(), until=st.none() | moments())


def assignees() -> st.SearchStrategy[Assignee]:
    """Users, groups and everyone."""
    return st.one_of(ids().map(Assignee.user), ids().map(Assignee.group), st.just(EVERYONE))


def record_refs(*, kind: str | None = None) -> st.SearchStrategy[RecordRef]:
    """Record identities."""
    return st.builds(RecordRef, kind=st.just(kind) if kind is not None else ids(), id=ids())


def records(*, kind: str | None = None, tenant: str | None = None) -> st.SearchStrategy[Record]:
    """Tracked records, some shared or offered, some with a name, status, number, labels or record groups."""
    return st.builds(
        Record,
        kind=st.just(kind) if kind is not None else ids(),
        id=ids(),
        tenant=st.just(tenant) if tenant is not None else ids(),
        created_at=moments(),
        shared_with=st.frozensets(ids(), max_size=2),
        offered_to=st.frozensets(ids(), max_size=2),
        name=st.none() | st.text(max_size=12),
        status=st.none() | ids(),
        number=st.none() | ids(),
        labels=st.frozensets(ids(), max_size=2),
        groups=st.frozensets(ids(), max_size=2),
    )


def assignments() -> st.SearchStrategy[Assignment]:
    """Assignments of any assignee to any role."""
    return st.builds(
        Assignment,
        record=record_refs(),
        role=ids(),
        assignee=assignees(),
        tenant=ids(),
        since=moments(),
        actor=st.none() | ids(),
    )


def events() -> st.SearchStrategy[Event]:
    """Events of every kind."""
    common = {"record": record_refs(), "tenant": ids(), "actor": st.none() | ids(), "at": moments()}
    private = {"private_to": st.none() | ids()}
    changes = {**common, **private, "role": ids(), "assignee": assignees()}
    return st.one_of(
        st.builds(RecordCreated, **common, **private),
        st.builds(Assigned, **changes),
        st.builds(Unassigned, **changes),
        st.builds(RecordShared, **common, **private),
        st.builds(ShareAccepted, **common, **private),
        st.builds(ActivityRecorded, **common, **private, activity=ids()),
        st.builds(StatusChanged, **common, **private, source=st.none() | ids(), target=ids()),
    )


def activities(*, roles: list[str] | None = None) -> st.SearchStrategy[Activity]:
    """Activities heard of by every notified role, or by some of `roles` (any ids if None; none if empty)."""
    if roles is not None and not roles:
        return st.builds(Activity, name=ids())
    names = st.sampled_from(roles) if roles else ids()
    return st.builds(Activity, name=ids(), roles=st.none() | st.frozensets(names, max_size=3))


def notifications() -> st.SearchStrategy[Notification]:
    """Notifications of any activity, by push or in-app."""
    return st.builds(
        Notification,
        key=ids(),
        recipient=ids(),
        record=record_refs(),
        activity=ids(),
        actor=st.none() | ids(),
        at=moments(),
        channel=st.sampled_from(Channel),
    )


def outbox_entries() -> st.SearchStrategy[OutboxEntry]:
    """Outbox entries, pending or delivered, with attempts."""
    return st.builds(OutboxEntry, notification=notifications(), attempts=st.integers(0, 5), delivered=st.booleans())


@st.composite
def roles(draw: st.DrawFn, *, name: str | None = None) -> Role:
    """Consistent roles: bounds in order, and at least one kind of assignee."""
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


@st.composite
def policies(draw: st.DrawFn, *, kind: str | None = None) -> Policy:
    """Consistent policies: distinct role names, triggers only on roles that take users."""
    role_names = draw(st.lists(ids(), max_size=4, unique=True))
    drawn = tuple(draw(roles(name=n)) for n in role_names)
    for_users = [r.name for r in drawn if r.users]
    triggers = (
        draw(st.lists(st.builds(AutoAssign, on=st.sampled_from(Trigger), role=st.sampled_from(for_users)), max_size=2))
        if for_users
        else []
    )
    listed = draw(st.none() | st.lists(activities(roles=role_names), max_size=3, unique_by=lambda a: a.name))
    return Policy(
        kind if kind is not None else draw(ids()),
        drawn,
        tuple(triggers),
        requires=draw(st.none() | ids()),
        activities=None if listed is None else tuple(listed),
    )


def plans() -> st.SearchStrategy[Plan]:
    """Plans with a few features."""
    return st.builds(Plan, name=ids(), features=st.frozensets(ids(), max_size=3))


@st.composite
def rulebooks(draw: st.DrawFn) -> Rulebook:
    """Consistent rulebooks: distinct kinds and plans, a default plan among them or none."""
    kinds = draw(st.lists(ids(), max_size=3, unique=True))
    drawn_plans = draw(st.lists(plans(), max_size=3, unique_by=lambda p: p.name))
    default = draw(st.none() | st.sampled_from([p.name for p in drawn_plans])) if drawn_plans else None
    return Rulebook(tuple(draw(policies(kind=k)) for k in kinds), tuple(drawn_plans), default)
