"""A whole state as one value, `Snapshot`, and the checks a snapshot must pass before it is restored.

`Ownership.snapshot` reads one; `Ownership.restore` writes one into an empty
repository after `check_whole` found nothing a repository could not have given.
"""

import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from attrs import field, frozen

from ownership.distribution import AutoAssignment, picking
from ownership.errors import InvalidValueError
from ownership.events import AccessGranted, AccessRevoked, Assigned, Event, Unassigned
from ownership.model import (
    Assignee,
    AssigneeKind,
    Assignment,
    Follower,
    Grant,
    Group,
    Membership,
    Record,
    RecordRef,
    Tenant,
    User,
    a_key,
    an_id,
    each,
)
from ownership.notify import OutboxEntry
from ownership.segments import HeldByCriterion, Segment, nodes


@frozen
class Setting:
    """One tenant's setting, as `Snapshot` lists them: number ranges, segments, auto-assignment rules and turns."""

    tenant: str = field(validator=an_id)
    key: str = field(validator=a_key)
    value: Any


@frozen
class Snapshot:
    """Everything a repository holds, in a stable order; for exports and for comparing states."""

    tenants: tuple[Tenant, ...] = field(validator=each(Tenant))
    users: tuple[User, ...] = field(validator=each(User))
    groups: tuple[Group, ...] = field(validator=each(Group))
    memberships: tuple[Membership, ...] = field(validator=each(Membership))
    records: tuple[Record, ...] = field(validator=each(Record))
    assignments: tuple[Assignment, ...] = field(validator=each(Assignment))
    events: tuple[Event, ...] = field(validator=each(*typing.get_args(Event)))
    outbox: tuple[OutboxEntry, ...] = field(default=(), validator=each(OutboxEntry))
    settings: tuple[Setting, ...] = field(default=(), validator=each(Setting))
    grants: tuple[Grant, ...] = field(default=(), validator=each(Grant))
    followers: tuple[Follower, ...] = field(default=(), validator=each(Follower))


def check_whole(snapshot: Snapshot, *, read: Callable[[str, Any], object]) -> None:
    """Refuse a snapshot no repository could have given (a file edited by hand, or put together from two).

    It must hold everything it refers to, hold nothing twice, give every
    moment its time zone, hold only settings `read` can read, and link no
    tenant's user, group or record to another tenant's beyond what sharing
    allows: a record's holders, history and notifications name people of
    the tenants taking part in it, everything else people of its own tenant.

    Args:
        snapshot: the snapshot to check.
        read: how a setting is read, ``read(key, value)``: it returns the
            setting as a value, or raises `InvalidValueError` when it cannot.

    Raises:
        InvalidValueError: the first problem found, in a sentence naming the entry.
    """
    settings: list[tuple[Setting, object]] = []
    unreadable: list[str] = []
    for setting in snapshot.settings:
        try:
            settings.append((setting, read(setting.key, setting.value)))
        except InvalidValueError as error:
            where = f"setting {setting.key!r} of tenant {setting.tenant!r}"
            unreadable.append(f"holds {where}, which cannot be read: {error}")
    for problem in (
        *_missing(snapshot),
        *_repeated(snapshot),
        *unreadable,
        *_crossing(snapshot),
        *_crossing_settings(snapshot, settings),
    ):
        raise InvalidValueError(f"The snapshot {problem.rstrip('.')}; export the whole state again.")


def _missing(snapshot: Snapshot) -> Iterator[str]:
    tenants = {t.id for t in snapshot.tenants}
    users = {u.id for u in snapshot.users}
    groups = {g.id for g in snapshot.groups}
    records = {r.ref for r in snapshot.records}
    record_ids = {r.id for r in snapshot.records}
    notified = [entry.notification for entry in snapshot.outbox]
    changes = (*snapshot.assignments, *snapshot.events)
    named = (
        *((f"tenant {u.tenant!r} of user {u.id!r}", u.tenant in tenants) for u in snapshot.users),
        *((f"tenant {g.tenant!r} of group {g.id!r}", g.tenant in tenants) for g in snapshot.groups),
        *(
            (f"user {g.personal_of!r} of group {g.id!r}", g.personal_of in users)
            for g in snapshot.groups
            if g.personal_of
        ),
        *(
            (f"user {u.manager!r} whom user {u.id!r} reports to", u.manager in users)
            for u in snapshot.users
            if u.manager
        ),
        *((f"tenant {t!r} of {r}", t in tenants) for r in snapshot.records for t in sorted(r.tenants | r.offered_to)),
        *((f"record group {g!r} of {r}", g in record_ids) for r in snapshot.records for g in sorted(r.groups)),
        *((f"group {m.group!r} of a membership", m.group in groups) for m in snapshot.memberships),
        *((f"user {m.user!r} of a membership", m.user in users) for m in snapshot.memberships),
        *((f"{c.record}, which its history or holders name", c.record in records) for c in changes),
        *((f"tenant {c.tenant!r} named for {c.record}", c.tenant in tenants) for c in changes),
        *(
            (f"tenant {e.private_to!r} named for {e.record}", e.private_to in tenants)
            for e in snapshot.events
            if e.private_to
        ),
        *((f"{a.assignee} holding {a.record}", _known(a.assignee, users, groups)) for a in snapshot.assignments),
        *(
            (f"{e.assignee} named in the history of {e.record}", _known(e.assignee, users, groups))
            for e in snapshot.events
            if isinstance(e, Assigned | Unassigned | AccessGranted | AccessRevoked)
        ),
        *((f"{g.record}, which a grant names", g.record in records) for g in snapshot.grants),
        *((f"{g.assignee} granted {g.record}", _known(g.assignee, users, groups)) for g in snapshot.grants),
        *((f"{f.record}, which a follower names", f.record in records) for f in snapshot.followers),
        *((f"user {f.user!r} following {f.record}", f.user in users) for f in snapshot.followers),
        *((f"user {actor!r} who acted on {r}", actor in users) for r, actor in _actors(snapshot)),
        *((f"user {n.recipient!r} told of {n.record}", n.recipient in users) for n in notified),
        *((f"{n.record} of notification {n.key!r}", n.record in records) for n in notified),
        *((f"tenant {s.tenant!r} of setting {s.key!r}", s.tenant in tenants) for s in snapshot.settings),
    )
    yield from (f"does not hold the {what}" for what, held in named if not held)


def _repeated(snapshot: Snapshot) -> Iterator[str]:
    keyed: tuple[tuple[str, Iterable[object]], ...] = (
        ("tenant", (t.id for t in snapshot.tenants)),
        ("user", (u.id for u in snapshot.users)),
        ("group", (g.id for g in snapshot.groups)),
        ("record", (str(r.ref) for r in snapshot.records)),
        ("membership", ((m.group, m.user) for m in snapshot.memberships)),
        ("holding", ((str(a.record), a.role, str(a.assignee), a.tenant) for a in snapshot.assignments)),
        ("number", ((r.tenant, r.kind, r.number) for r in snapshot.records if r.number is not None)),
        ("notification", (e.notification.key for e in snapshot.outbox)),
        ("setting", ((s.tenant, s.key) for s in snapshot.settings)),
        ("grant", ((str(g.record), str(g.assignee)) for g in snapshot.grants)),
        ("follower", ((str(f.record), f.user) for f in snapshot.followers)),
    )
    for what, keys in keyed:
        seen: set[object] = set()
        for key in keys:
            if key in seen:
                yield f"holds {what} {key!r} twice"
            seen.add(key)


def _crossing(snapshot: Snapshot) -> Iterator[str]:
    home = {u.id: u.tenant for u in snapshot.users} | {g.id: g.tenant for g in snapshot.groups}
    users = {u.id: u.tenant for u in snapshot.users}
    taking_part = {r.ref: r.tenants for r in snapshot.records}
    for g in snapshot.groups:
        if g.personal_of is not None and users.get(g.personal_of, g.tenant) != g.tenant:
            yield f"makes group {g.id!r} of tenant {g.tenant!r} the personal group of user {g.personal_of!r} of another"
    for u in snapshot.users:
        if u.manager is not None and users.get(u.manager, u.tenant) != u.tenant:
            yield f"makes user {u.id!r} of tenant {u.tenant!r} report to user {u.manager!r} of another"
    yield from _above_themselves(snapshot.users)
    for m in snapshot.memberships:
        if home.get(m.user) != home.get(m.group):
            yield f"puts user {m.user!r} of tenant {home.get(m.user)!r} in group {m.group!r} of another tenant"
    for a in snapshot.assignments:
        if a.tenant not in taking_part.get(a.record, {a.tenant}):
            yield f"gives tenant {a.tenant!r} holders of {a.record}, which it does not take part in"
        if a.assignee.id is not None and home.get(a.assignee.id, a.tenant) != a.tenant:
            yield f"makes {a.assignee}, of tenant {home[a.assignee.id]!r}, a holder of {a.record} for {a.tenant!r}"
    yield from _crossing_sharing(snapshot, users, home)
    yield from _crossing_records(snapshot.records)
    yield from _crossing_history(snapshot)


def _crossing_sharing(snapshot: Snapshot, users: dict[str, str], home: dict[str, str]) -> Iterator[str]:
    """A grant or a follower is of a tenant taking part in its record, and names that tenant's people alone."""
    taking_part = {r.ref: r.tenants for r in snapshot.records}
    links: tuple[Grant | Follower, ...] = (*snapshot.grants, *snapshot.followers)
    for link in links:
        if link.tenant not in taking_part.get(link.record, {link.tenant}):
            yield f"shares {link.record} with tenant {link.tenant!r}, which does not take part in it"
        if isinstance(link, Grant):
            yield from _crossing_grant(link, link.assignee, link.actor, users, home)
        elif users.get(link.user, link.tenant) != link.tenant:
            yield f"names user {link.user!r}, of tenant {users[link.user]!r}, a follower for tenant {link.tenant!r}"


def _crossing_grant(
    grant: Grant | AccessGranted | AccessRevoked,
    assignee: Assignee,
    actor: str | None,
    users: dict[str, str],
    home: dict[str, str],
) -> Iterator[str]:
    """A grant, and its history, name the people of its own tenant alone: whom it is to, and who granted it."""
    if home.get(assignee.id, grant.tenant) != grant.tenant:
        yield f"grants {grant.record} to {assignee}, of tenant {home[assignee.id]!r}, for tenant {grant.tenant!r}"
    if actor is not None and users.get(actor, grant.tenant) != grant.tenant:
        yield f"names user {actor!r}, of tenant {users[actor]!r}, granting {grant.record} for {grant.tenant!r}"


def _above_themselves(users: Iterable[User]) -> Iterator[str]:
    """A user who reports, through others, to themselves: a team above itself, which `report_to` refuses."""
    managers = {u.id: u.manager for u in users if u.manager is not None}
    for start in sorted(managers):
        seen = {start}
        above = managers.get(start)
        while above is not None and above not in seen:
            seen.add(above)
            above = managers.get(above)
        if above == start:
            yield f"makes user {start!r} report to themselves through others"
            return


def _crossing_history(snapshot: Snapshot) -> Iterator[str]:
    """A record's history and notifications name the tenants taking part in it, and their people."""
    home = {u.id: u.tenant for u in snapshot.users} | {g.id: g.tenant for g in snapshot.groups}
    users = {u.id: u.tenant for u in snapshot.users}
    records = {r.ref: r for r in snapshot.records}
    taking_part = {r.ref: r.tenants for r in snapshot.records}
    for e in snapshot.events:
        part = taking_part.get(e.record, frozenset())
        offered = records[e.record].offered_to if e.record in records else frozenset()
        if e.tenant not in part | offered or (e.private_to is not None and e.private_to not in part):
            yield f"names tenant {e.private_to or e.tenant!r} in the history of {e.record}, which it has no part in"
        if e.actor is not None and users.get(e.actor) not in part:
            yield f"names user {e.actor!r} of tenant {users.get(e.actor)!r} as acting on {e.record}, not shared with it"
        if isinstance(e, Assigned | Unassigned) and e.assignee.id and home.get(e.assignee.id, e.tenant) != e.tenant:
            yield f"names {e.assignee}, of tenant {home[e.assignee.id]!r}, a holder of {e.record} for {e.tenant!r}"
        if isinstance(e, AccessGranted | AccessRevoked):
            yield from _crossing_grant(e, e.assignee, e.actor, users, home)
            if e.private_to != e.tenant:
                yield f"shows the grant of {e.record} to {e.assignee} beyond tenant {e.tenant!r}, whose business it is"
    for o in snapshot.outbox:
        n = o.notification
        to = users.get(n.recipient)
        if to not in taking_part.get(n.record, frozenset()):
            yield f"tells user {n.recipient!r} of tenant {to!r} of {n.record}, which is not shared with it"
        if n.actor is not None and users.get(n.actor) != to:
            yield f"tells user {n.recipient!r} of tenant {to!r} that user {n.actor!r} of another tenant acted"


def _crossing_records(records: Iterable[Record]) -> Iterator[str]:
    """Record groups hold records of their own tenant alone."""
    records = tuple(records)
    homes: dict[str, set[str]] = {}
    for r in records:
        homes.setdefault(r.id, set()).add(r.tenant)
    for r in records:
        for g in sorted(r.groups):
            if r.tenant not in homes.get(g, {r.tenant}):
                yield f"puts {r} of tenant {r.tenant!r} in record group {g!r} of another tenant"


def _crossing_settings(snapshot: Snapshot, settings: Iterable[tuple[Setting, object]]) -> Iterator[str]:
    """A tenant's saved segments, auto-assignment rules and turns name its own people alone."""
    home = {u.id: u.tenant for u in snapshot.users} | {g.id: g.tenant for g in snapshot.groups}
    for setting, value in settings:
        named: list[str] = []
        if isinstance(value, Segment):
            if value.tenant not in (None, setting.tenant):
                yield f"keeps segment {setting.key!r} of tenant {value.tenant!r} for tenant {setting.tenant!r}"
            named = [p.assignee.id for p in nodes(value.criteria) if isinstance(p, HeldByCriterion)]
        elif isinstance(value, AutoAssignment):
            named = [picking(rule).group for rule in value.rules]
        elif isinstance(value, str):
            named = [value]
        for id in named:
            if home.get(id, setting.tenant) != setting.tenant:
                yield f"names {id!r} of tenant {home[id]!r} in setting {setting.key!r} of tenant {setting.tenant!r}"


def _actors(snapshot: Snapshot) -> Iterator[tuple[RecordRef, str]]:
    """Every user named as having done something, with the record it was done to."""
    for change in (*snapshot.assignments, *snapshot.events, *snapshot.grants):
        if change.actor is not None:
            yield change.record, change.actor
    for entry in snapshot.outbox:
        if entry.notification.actor is not None:
            yield entry.notification.record, entry.notification.actor


def _known(assignee: Assignee, users: set[str], groups: set[str]) -> bool:
    if assignee.kind is AssigneeKind.USER:
        return assignee.id in users
    return assignee.kind is AssigneeKind.EVERYONE or assignee.id in groups
