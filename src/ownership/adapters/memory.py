"""The in-memory repository: the embedded default, and the reference every adapter agrees with.

State lives in plain dictionaries, and the sets and sorted ids that index
them. A transaction holds the repository's lock and keeps an undo journal of
every write, so leaving it by an exception puts every dictionary and index
back exactly as it was; committing costs nothing.
"""

import bisect
import heapq
import itertools
import json
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import attrs

from ownership.events import Event
from ownership.filters import (
    And,
    Everything,
    Filter,
    HasAssignee,
    HomeIs,
    IdIn,
    Nothing,
    Or,
    SharedWith,
    compiled,
    matches,
)
from ownership.model import (
    Assignee,
    Assignment,
    Follower,
    Grant,
    Group,
    Membership,
    Record,
    RecordRef,
    Tenant,
    User,
)
from ownership.notify import Notification, OutboxEntry
from ownership.ports import Transaction

_MISSING: Any = object()


class MemoryRepository:
    """A `Repository` kept in this process's memory; safe to share between threads.

    Transactions are serialised by one re-entrant lock; a transaction opened
    inside another on the same thread is a savepoint within it.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._generation = 0
        self._undo: list[Callable[[], None]] = []
        self._tenants: dict[str, Tenant] = {}
        self._users: dict[str, User] = {}
        self._users_by_tenant: dict[str, set[str]] = {}
        self._groups: dict[str, Group] = {}
        self._groups_by_tenant: dict[str, set[str]] = {}
        self._memberships: dict[tuple[str, str], Membership] = {}
        self._groups_of_user: dict[str, set[str]] = {}
        self._users_of_group: dict[str, set[str]] = {}
        self._records: dict[RecordRef, Record] = {}
        self._records_by_tenant: dict[str, set[RecordRef]] = {}
        self._assignments: dict[RecordRef, tuple[Assignment, ...]] = {}
        self._events: dict[RecordRef, tuple[Event, ...]] = {}
        self._outbox: dict[str, OutboxEntry] = {}
        # The keys not delivered yet and not dead (a set, kept as a dictionary so a rollback puts a key back as it was).
        self._pending: dict[str, None] = {}
        # The claims on outbox keys: the claiming dispatcher's token and when its lease ends.
        self._claims: dict[str, tuple[str, datetime]] = {}
        # Every key's place in the order the outbox was filled: the order both listings keep, whatever a rollback
        # does to the dictionaries' own order. A place taken back is never given again.
        self._places: dict[str, int] = {}
        self._filled = itertools.count()
        # The indexes `select` runs filters through, by record id within a kind; a kind's ids are kept in order too.
        self._ids_by_kind: dict[str, _SortedIds] = {}
        self._ids_by_home: dict[tuple[str, str], set[str]] = {}
        self._ids_by_share: dict[tuple[str, str], set[str]] = {}
        self._ids_by_holding: dict[tuple[str, str, Assignee, str], set[str]] = {}
        # The records each assignee holds a role of, for `holdings`.
        self._refs_by_assignee: dict[Assignee, set[RecordRef]] = {}
        # Numbered records by (tenant, kind, number), for `numbered`.
        self._numbers: dict[tuple[str, str, str], RecordRef] = {}
        # The outbox's keys by the record they are about, so deleting a record forgets them.
        self._keys_by_record: dict[RecordRef, set[str]] = {}
        # Settings by (tenant, key), kept as JSON text so they read back as a database gives them.
        self._settings: dict[tuple[str, str], str] = {}
        # Grants by record and assignee, and the records each assignee is granted, for `grants_to`.
        self._grants: dict[tuple[RecordRef, Assignee], Grant] = {}
        self._granted_by_record: dict[RecordRef, set[Assignee]] = {}
        self._granted_to: dict[Assignee, set[RecordRef]] = {}
        # Followers by record and user id.
        self._followers: dict[tuple[RecordRef, str], Follower] = {}
        self._followed_by_record: dict[RecordRef, set[str]] = {}

    @property
    def generation(self) -> int:
        """A number that changes with every write, committed or not, and with every rollback."""
        return self._generation

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work; see `ownership.ports.Repository.transaction`."""
        return _Unit(self)

    # Writes go through these, which journal how to take them back and move the generation on.
    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        old = table.get(key, _MISSING)
        table[key] = value
        self._journal(lambda: _restore(table, key, old))

    def _delete(self, table: dict[Any, Any], key: Any) -> None:
        old = table.pop(key, _MISSING)
        if old is not _MISSING:
            self._journal(lambda: _restore(table, key, old))

    def _index(
        self, table: dict[Any, Any], key: Any, add: Any = None, remove: Any = None, *, new: Callable[[], set[Any]] = set
    ) -> None:
        """Add `add` to, or remove `remove` from, the set at `table[key]` (made by `new`), journaling the reverse."""
        members = table.get(key)
        if members is None:
            members = table[key] = new()
        if add is not None and add not in members:
            members.add(add)
            self._journal(lambda: members.discard(add))
        if remove is not None and remove in members:
            members.discard(remove)
            self._journal(lambda: members.add(remove))

    def _journal(self, undo: Callable[[], None]) -> None:
        # Every write, committed or not yet, changes what a cached reading of the state would say.
        self._undo.append(undo)
        self._generation += 1

    def _roll_back(self, mark: int) -> None:
        """Take back every write journaled since `mark`, newest first."""
        while len(self._undo) > mark:
            self._undo.pop()()
        self._generation += 1


class _Unit:
    """The context manager of one unit of work: holds the lock, and on an error takes its own writes back.

    A unit opened inside another is a savepoint: leaving it by an error takes
    back its writes alone, and the outer unit goes on.
    """

    __slots__ = ("_mark", "_repo")

    def __init__(self, repo: MemoryRepository) -> None:
        self._repo = repo
        self._mark = 0

    def __enter__(self) -> "_MemoryTransaction":
        repo = self._repo
        repo._lock.acquire()
        repo._depth += 1
        self._mark = len(repo._undo)
        return _MemoryTransaction(repo)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        repo = self._repo
        try:
            if kind is not None:
                repo._roll_back(self._mark)
        finally:
            repo._depth -= 1
            if repo._depth == 0:
                repo._undo.clear()
            repo._lock.release()


def _restore(table: dict[Any, Any], key: Any, old: Any) -> None:
    if old is _MISSING:
        table.pop(key, None)
    else:
        table[key] = old


class _MemoryTransaction:
    """A `Transaction` over a `MemoryRepository`; valid only inside its ``with`` block."""

    def __init__(self, repo: MemoryRepository) -> None:
        self._r = repo

    def tenant(self, id: str) -> Tenant | None:
        return self._r._tenants.get(id)

    def tenants(self) -> Sequence[Tenant]:
        return [self._r._tenants[k] for k in sorted(self._r._tenants)]

    def put_tenant(self, tenant: Tenant) -> None:
        self._r._set(self._r._tenants, tenant.id, tenant)

    def user(self, id: str) -> User | None:
        return self._r._users.get(id)

    def users(self, tenant: str) -> Sequence[User]:
        return [self._r._users[k] for k in sorted(self._r._users_by_tenant.get(tenant, ()))]

    def put_user(self, user: User) -> None:
        old = self._r._users.get(user.id)
        if old is not None and old.tenant != user.tenant:
            self._r._index(self._r._users_by_tenant, old.tenant, remove=user.id)
        self._r._set(self._r._users, user.id, user)
        self._r._index(self._r._users_by_tenant, user.tenant, add=user.id)

    def group(self, id: str) -> Group | None:
        return self._r._groups.get(id)

    def groups(self, tenant: str) -> Sequence[Group]:
        return [self._r._groups[k] for k in sorted(self._r._groups_by_tenant.get(tenant, ()))]

    def put_group(self, group: Group) -> None:
        old = self._r._groups.get(group.id)
        if old is not None and old.tenant != group.tenant:
            self._r._index(self._r._groups_by_tenant, old.tenant, remove=group.id)
        self._r._set(self._r._groups, group.id, group)
        self._r._index(self._r._groups_by_tenant, group.tenant, add=group.id)

    def memberships_of_group(self, group: str) -> Sequence[Membership]:
        users = sorted(self._r._users_of_group.get(group, ()))
        return [self._r._memberships[(group, user)] for user in users]

    def memberships_of_user(self, user: str) -> Sequence[Membership]:
        groups = sorted(self._r._groups_of_user.get(user, ()))
        return [self._r._memberships[(group, user)] for group in groups]

    def put_membership(self, membership: Membership) -> None:
        self._r._set(self._r._memberships, (membership.group, membership.user), membership)
        self._r._index(self._r._groups_of_user, membership.user, add=membership.group)
        self._r._index(self._r._users_of_group, membership.group, add=membership.user)

    def delete_membership(self, group: str, user: str) -> None:
        if (group, user) in self._r._memberships:
            self._r._delete(self._r._memberships, (group, user))
            self._r._index(self._r._groups_of_user, user, remove=group)
            self._r._index(self._r._users_of_group, group, remove=user)

    def record(self, ref: RecordRef) -> Record | None:
        return self._r._records.get(ref)

    def records(self, tenant: str) -> Sequence[Record]:
        return [self._r._records[ref] for ref in sorted(self._r._records_by_tenant.get(tenant, ()))]

    def put_record(self, record: Record) -> None:
        r = self._r
        old = r._records.get(record.ref)
        if old is not None:
            r._index(r._records_by_tenant, old.tenant, remove=record.ref)
            r._index(r._ids_by_home, (old.kind, old.tenant), remove=old.id)
            for tenant in old.shared_with:
                r._index(r._ids_by_share, (old.kind, tenant), remove=old.id)
            if old.number is not None:
                r._delete(r._numbers, (old.tenant, old.kind, old.number))
        r._set(r._records, record.ref, record)
        if record.number is not None:
            r._set(r._numbers, (record.tenant, record.kind, record.number), record.ref)
        r._index(r._records_by_tenant, record.tenant, add=record.ref)
        r._index(r._ids_by_kind, record.kind, add=record.id, new=_SortedIds)
        r._index(r._ids_by_home, (record.kind, record.tenant), add=record.id)
        for tenant in record.shared_with:
            r._index(r._ids_by_share, (record.kind, tenant), add=record.id)

    def delete_record(self, ref: RecordRef) -> None:
        r = self._r
        old = r._records.get(ref)
        if old is None:
            return
        for assignment in r._assignments.get(ref, ()):
            self.remove_assignment(assignment)
        r._delete(r._assignments, ref)
        r._delete(r._events, ref)
        for assignee in sorted(r._granted_by_record.get(ref, ())):
            self.delete_grant(ref, assignee)
        for user in sorted(r._followed_by_record.get(ref, ())):
            self.delete_follower(ref, user)
        for key in sorted(r._keys_by_record.get(ref, ())):
            r._delete(r._outbox, key)
            r._delete(r._places, key)
            r._delete(r._pending, key)
            r._delete(r._claims, key)
            r._index(r._keys_by_record, ref, remove=key)
        r._delete(r._records, ref)
        if old.number is not None:
            r._delete(r._numbers, (old.tenant, old.kind, old.number))
        r._index(r._records_by_tenant, old.tenant, remove=ref)
        r._index(r._ids_by_kind, old.kind, remove=old.id)
        r._index(r._ids_by_home, (old.kind, old.tenant), remove=old.id)
        for tenant in old.shared_with:
            r._index(r._ids_by_share, (old.kind, tenant), remove=old.id)

    def numbered(self, tenant: str, kind: str, number: str) -> Record | None:
        ref = self._r._numbers.get((tenant, kind, number))
        return self._r._records[ref] if ref is not None else None

    def assignments(self, ref: RecordRef) -> Sequence[Assignment]:
        return self._r._assignments.get(ref, ())

    def assignments_of(self, refs: Sequence[RecordRef]) -> Mapping[RecordRef, Sequence[Assignment]]:
        return {ref: held for ref in refs if (held := self._r._assignments.get(ref))}

    def holdings(self, assignee: Assignee) -> Sequence[Assignment]:
        refs = sorted(self._r._refs_by_assignee.get(assignee, ()))
        return [a for ref in refs for a in self._r._assignments.get(ref, ()) if a.assignee == assignee]

    def add_assignment(self, assignment: Assignment) -> None:
        held = self._r._assignments.get(assignment.record, ())
        self._r._set(self._r._assignments, assignment.record, (*held, assignment))
        self._r._index(self._r._ids_by_holding, _holding_key(assignment), add=assignment.record.id)
        self._r._index(self._r._refs_by_assignee, assignment.assignee, add=assignment.record)

    def remove_assignment(self, assignment: Assignment) -> None:
        held = self._r._assignments.get(assignment.record, ())
        kept = tuple(a for a in held if _slot_key(a) != _slot_key(assignment))
        self._r._set(self._r._assignments, assignment.record, kept)
        self._r._index(self._r._ids_by_holding, _holding_key(assignment), remove=assignment.record.id)
        if all(a.assignee != assignment.assignee for a in kept):
            self._r._index(self._r._refs_by_assignee, assignment.assignee, remove=assignment.record)

    def grants(self, ref: RecordRef) -> Sequence[Grant]:
        return [self._r._grants[ref, a] for a in sorted(self._r._granted_by_record.get(ref, ()))]

    def grants_to(self, kind: str, assignees: Collection[Assignee]) -> Sequence[Grant]:
        found = {(ref, a) for a in assignees for ref in self._r._granted_to.get(a, ()) if ref.kind == kind}
        return [self._r._grants[key] for key in sorted(found)]

    def grants_in(self, tenant: str) -> Sequence[Grant]:
        return [grant for _, grant in sorted(self._r._grants.items()) if grant.tenant == tenant]

    def put_grant(self, grant: Grant) -> None:
        self._r._set(self._r._grants, (grant.record, grant.assignee), grant)
        self._r._index(self._r._granted_by_record, grant.record, add=grant.assignee)
        self._r._index(self._r._granted_to, grant.assignee, add=grant.record)

    def delete_grant(self, ref: RecordRef, assignee: Assignee) -> None:
        if (ref, assignee) in self._r._grants:
            self._r._delete(self._r._grants, (ref, assignee))
            self._r._index(self._r._granted_by_record, ref, remove=assignee)
            self._r._index(self._r._granted_to, assignee, remove=ref)

    def followers(self, ref: RecordRef) -> Sequence[Follower]:
        return [self._r._followers[ref, user] for user in sorted(self._r._followed_by_record.get(ref, ()))]

    def followers_in(self, tenant: str) -> Sequence[Follower]:
        return [follower for _, follower in sorted(self._r._followers.items()) if follower.tenant == tenant]

    def put_follower(self, follower: Follower) -> None:
        self._r._set(self._r._followers, (follower.record, follower.user), follower)
        self._r._index(self._r._followed_by_record, follower.record, add=follower.user)

    def delete_follower(self, ref: RecordRef, user: str) -> None:
        if (ref, user) in self._r._followers:
            self._r._delete(self._r._followers, (ref, user))
            self._r._index(self._r._followed_by_record, ref, remove=user)

    def select(self, kind: str, filter: Filter, *, limit: int, after: str | None = None) -> Sequence[Record]:
        return [self._r._records[RecordRef(kind, i)] for i in self._page(kind, filter, limit, after)]

    def _page(self, kind: str, wanted: Filter, limit: int, after: str | None) -> list[str]:
        """Return the ids of one page: the first `limit` ids above `after` that match `wanted`, in order.

        A broad filter is walked: the kind's ids in order from `after`, each
        tested, until the page is full. A narrow one is picked: its matching ids
        from the indexes, the `limit` smallest of them. `_walk_budget` chooses,
        and a walk that has looked at as many ids as picking would cost gives up
        and picks, so a page never costs much more than the cheaper way.
        """
        order = self._r._ids_by_kind.get(kind)
        if order is None or limit < 1:
            return []
        total = len(order)
        size = self._size(kind, wanted)
        budget = _walk_budget(limit, total if size is None else size, total)
        if budget:
            walked = itertools.islice(order.after(after), budget)
            page = list(itertools.islice(filter(self._test(kind, wanted), walked), limit))
            # A short page is whole when the walk saw every id above `after`, not when it ran out of budget.
            if len(page) == limit or order.above(after) <= budget:
                return page
        matching = self._ids(kind, wanted)
        return heapq.nsmallest(limit, matching if after is None else (i for i in matching if i > after))

    def _test(self, kind: str, filter: Filter) -> Callable[[str], bool]:
        """Return a test of one id of `kind` against `filter`: membership in the indexes where they answer it."""
        sets = self._index_sets(kind, filter)
        if sets is not None:
            if not sets:
                return lambda _id: False
            if len(sets) == 1:
                return sets[0].__contains__
            if len(sets) == 2:
                first, second = sets
                return lambda id: id in first or id in second
            return lambda id: any(id in ids for ids in sets)
        test = compiled(filter)
        records, assignments = self._r._records, self._r._assignments

        def matching(id: str) -> bool:
            ref = RecordRef(kind, id)
            return test(records[ref], assignments.get(ref, ()))

        return matching

    def _ids(self, kind: str, filter: Filter) -> set[str] | frozenset[str]:
        """Return the ids of `kind`'s records matching `filter`: from the indexes, checking as few as it can."""
        exact = self._indexed(kind, filter)
        if exact is not None:
            return exact
        if isinstance(filter, Or) and self._size(kind, filter) is not None:
            # Every part can be answered from the indexes, some only through an AND: the union of each part's ids.
            return set().union(*(self._ids(kind, part) for part in filter.parts))
        candidates: set[str] | frozenset[str] = self._r._ids_by_kind.get(kind, set())
        if isinstance(filter, And):
            sizes = [(size, part) for part in filter.parts if (size := self._size(kind, part)) is not None]
            if sizes:
                candidates = self._ids(kind, min(sizes, key=lambda sp: sp[0])[1])
        return {i for i in candidates if self._matches(kind, i, filter)}

    def _indexed(self, kind: str, filter: Filter) -> set[str] | frozenset[str] | None:
        """Return the exact ids for a filter the indexes answer alone, or None."""
        sets = self._index_sets(kind, filter)
        if sets is None:
            return None
        return sets[0] if len(sets) == 1 else set().union(*sets)

    def _index_sets(self, kind: str, filter: Filter) -> list[set[str] | frozenset[str]] | None:  # noqa: PLR0911 - a case per node
        """Return the index entries whose union is exactly the ids `filter` matches, without joining them; or None."""
        r = self._r
        if isinstance(filter, Nothing):
            return []
        if isinstance(filter, Everything):
            return [r._ids_by_kind.get(kind, frozenset())]
        if isinstance(filter, HomeIs):
            return [r._ids_by_home.get((kind, filter.tenant), frozenset())]
        if isinstance(filter, SharedWith):
            return [r._ids_by_share.get((kind, filter.tenant), frozenset())]
        if isinstance(filter, HasAssignee):
            slots = ((kind, role, assignee, filter.tenant) for role in filter.roles for assignee in filter.assignees)
            return [held for slot in slots if (held := r._ids_by_holding.get(slot))]
        if isinstance(filter, IdIn):
            tracked: Collection[str] = r._ids_by_kind.get(kind, frozenset())
            return [frozenset(id for id in filter.ids if id in tracked)]
        if isinstance(filter, Or):
            found: list[set[str] | frozenset[str]] = []
            for part in filter.parts:
                sets = self._index_sets(kind, part)
                if sets is None:
                    return None
                found += sets
            return found
        return None

    def _size(self, kind: str, filter: Filter) -> int | None:  # noqa: PLR0911 - a case per node
        """Return how many ids the indexes would give for `filter` at most, without building them; None if unknown."""
        r = self._r
        if isinstance(filter, Nothing):
            return 0
        if isinstance(filter, Everything):
            return len(r._ids_by_kind.get(kind, ()))
        if isinstance(filter, HomeIs):
            return len(r._ids_by_home.get((kind, filter.tenant), ()))
        if isinstance(filter, SharedWith):
            return len(r._ids_by_share.get((kind, filter.tenant), ()))
        if isinstance(filter, HasAssignee):
            return sum(
                len(r._ids_by_holding.get((kind, role, assignee, filter.tenant), ()))
                for role in filter.roles
                for assignee in filter.assignees
            )
        if isinstance(filter, IdIn):
            return len(filter.ids)
        if isinstance(filter, Or | And):
            sizes = [self._size(kind, part) for part in filter.parts]
            known = [size for size in sizes if size is not None]
            if isinstance(filter, And):
                return min(known) if known else None
            return sum(known) if len(known) == len(sizes) else None
        return None

    def _matches(self, kind: str, id: str, filter: Filter) -> bool:
        ref = RecordRef(kind, id)
        return matches(filter, self._r._records[ref], self._r._assignments.get(ref, ()))

    def count(self, kind: str, filter: Filter) -> int:
        return len(self._ids(kind, filter))

    def count_by_holder(self, kind: str, filter: Filter, roles: Collection[str], tenant: str) -> Mapping[Assignee, int]:
        counts: dict[Assignee, int] = {}
        for id in self._ids(kind, filter):
            held = self._r._assignments.get(RecordRef(kind, id), ())
            for assignee in {a.assignee for a in held if a.role in roles and a.tenant == tenant}:
                counts[assignee] = counts.get(assignee, 0) + 1
        return counts

    def count_by_status(self, kind: str, filter: Filter) -> Mapping[str | None, int]:
        counts: dict[str | None, int] = {}
        for id in self._ids(kind, filter):
            status = self._r._records[RecordRef(kind, id)].status
            counts[status] = counts.get(status, 0) + 1
        return counts

    def homes(self, kind: str, ids: Sequence[str]) -> Mapping[str, str]:
        found = (self._r._records.get(RecordRef(kind, id)) for id in ids)
        return {record.id: record.tenant for record in found if record is not None}

    def setting(self, tenant: str, key: str, *, changing: bool = False) -> Any:  # noqa: ARG002 - units run one at a time
        text = self._r._settings.get((tenant, key))
        return json.loads(text) if text is not None else None

    def settings(self, tenant: str, prefix: str) -> Mapping[str, Any]:
        found = {k: v for (t, k), v in self._r._settings.items() if t == tenant and k.startswith(prefix)}
        return {k: json.loads(found[k]) for k in sorted(found)}

    def put_setting(self, tenant: str, key: str, value: Any) -> None:
        self._r._set(self._r._settings, (tenant, key), json.dumps(value))

    def delete_setting(self, tenant: str, key: str) -> None:
        self._r._delete(self._r._settings, (tenant, key))

    def append_events(self, events: Sequence[Event]) -> Sequence[int]:
        positions = []
        for event in events:
            history = self._r._events.get(event.record, ())
            positions.append(len(history))
            self._r._set(self._r._events, event.record, (*history, event))
        return positions

    def events(self, ref: RecordRef) -> Sequence[Event]:
        return self._r._events.get(ref, ())

    def enqueue(self, notification: Notification) -> None:
        if notification.key not in self._r._outbox:
            place = next(self._r._filled)
            self._r._set(self._r._outbox, notification.key, OutboxEntry(notification))
            self._r._set(self._r._places, notification.key, place)
            self._r._set(self._r._pending, notification.key, None)
            self._r._index(self._r._keys_by_record, notification.record, add=notification.key)

    def put_outbox_entry(self, entry: OutboxEntry) -> None:
        key = entry.notification.key
        old = self._r._outbox.get(key)
        self.enqueue(entry.notification)
        if old is not None and old.notification.record != entry.notification.record:
            self._r._index(self._r._keys_by_record, old.notification.record, remove=key)
            self._r._index(self._r._keys_by_record, entry.notification.record, add=key)
        self._put(entry)
        self._r._delete(self._r._claims, key)

    def _put(self, entry: OutboxEntry) -> None:
        """Replace a known key's entry, keeping the pending keys in step."""
        key = entry.notification.key
        self._r._set(self._r._outbox, key, entry)
        if entry.pending:
            self._r._set(self._r._pending, key, None)
        else:
            self._r._delete(self._r._pending, key)

    def outbox(self, *, pending: bool = False, limit: int | None = None, dead: bool = False) -> Sequence[OutboxEntry]:
        order = self._r._places.__getitem__
        if pending:
            first = (
                sorted(self._r._pending, key=order)
                if limit is None
                else heapq.nsmallest(limit, self._r._pending, order)
            )
            return [self._r._outbox[key] for key in first]
        # In the order filled: a deletion taken back puts a key back at the dictionary's end.
        entries = (self._r._outbox[key] for key in sorted(self._r._outbox, key=order))
        return list(itertools.islice((e for e in entries if e.dead or not dead), limit))

    def claim(self, *, limit: int, now: datetime, until: datetime, token: str) -> Sequence[OutboxEntry]:
        claims = self._r._claims

        def due(key: str) -> bool:
            entry = self._r._outbox[key]
            claimed = claims.get(key)
            return (entry.next_attempt_at is None or entry.next_attempt_at <= now) and (
                claimed is None or claimed[1] <= now
            )

        order = self._r._places.__getitem__
        taken = heapq.nsmallest(limit, filter(due, self._r._pending), order)
        for key in taken:
            self._r._set(claims, key, (token, until))
        return [self._r._outbox[key] for key in taken]

    def settle(
        self,
        delivered: Collection[str],
        failed: Collection[str],
        *,
        token: str | None = None,
        retry_at: Mapping[str, datetime] | None = None,
        dead: Collection[str] = (),
    ) -> None:
        def held(key: str) -> OutboxEntry | None:
            entry = self._r._outbox.get(key)
            if entry is None or (token is not None and self._r._claims.get(key, ("", None))[0] != token):
                return None
            if token is not None:
                self._r._delete(self._r._claims, key)
            return entry

        for key in delivered:
            if (entry := held(key)) is not None:
                self._put(attrs.evolve(entry, delivered=True))
        for key in failed:
            if (entry := held(key)) is not None:
                later = (retry_at or {}).get(key)
                self._put(attrs.evolve(entry, attempts=entry.attempts + 1, next_attempt_at=later, dead=key in dead))


def _walk_budget(limit: int, size: int, total: int) -> int:
    """Return how many ids a page may walk in order before it picks from the matching ids instead; 0 to pick at once.

    Of `total` ids, at most `size` match. Picking reads about `size` ids;
    walking finds `limit` matches among about ``limit * total / size`` when the
    matches are spread evenly, so it walks when that is fewer, and never more
    than `size`: matches bunched at the end cost at most twice the picking.
    """
    if size <= limit or limit * total >= size * size:
        return 0
    return size


class _SortedIds(set[str]):
    """The ids of a kind: a set, which also keeps them in order, so a page is walked from where the last one ended.

    The order is kept in short sorted blocks: one sorted list would move half
    its items on every insert at a million ids; a block moves at most
    ``2 * LOAD``, and a bisect over the blocks' last ids finds the block. Only
    `add` and `discard` change it (as `MemoryRepository._index` and its undo
    journal do); a set's other ways to change are not for it.
    """

    __slots__ = ("_blocks", "_lasts")
    LOAD = 512

    def __init__(self) -> None:
        super().__init__()
        self._blocks: list[list[str]] = []
        self._lasts: list[str] = []  # each block's last id, for the bisect

    def add(self, id: str) -> None:
        """Add `id`, in its place."""
        if id in self:
            return
        super().add(id)
        blocks, lasts = self._blocks, self._lasts
        if not blocks:
            blocks.append([id])
            lasts.append(id)
            return
        b = min(bisect.bisect_left(lasts, id), len(lasts) - 1)  # past the last block: the last block takes it
        block = blocks[b]
        bisect.insort(block, id)
        if len(block) > 2 * self.LOAD:
            blocks[b : b + 1] = [block[: self.LOAD], block[self.LOAD :]]
            lasts[b : b + 1] = [block[self.LOAD - 1], block[-1]]
        else:
            lasts[b] = block[-1]

    def discard(self, id: object) -> None:
        """Remove `id`, if it is there."""
        if not isinstance(id, str) or id not in self:
            return
        super().discard(id)
        b = bisect.bisect_left(self._lasts, id)
        block = self._blocks[b]
        del block[bisect.bisect_left(block, id)]
        if block:
            self._lasts[b] = block[-1]
        else:
            del self._blocks[b], self._lasts[b]

    def after(self, id: str | None) -> Iterator[str]:
        """Return the ids above `id` (every id, if None), in order."""
        if id is None:
            return itertools.chain.from_iterable(self._blocks)
        b = bisect.bisect_right(self._lasts, id)
        if b == len(self._blocks):
            return iter(())
        first = self._blocks[b]
        rest = itertools.chain.from_iterable(itertools.islice(self._blocks, b + 1, None))
        return itertools.chain(itertools.islice(first, bisect.bisect_right(first, id), None), rest)

    def above(self, id: str | None) -> int:
        """Return how many ids are above `id` (all of them, if None)."""
        if id is None:
            return len(self)
        b = bisect.bisect_right(self._lasts, id)
        if b == len(self._blocks):
            return 0
        first = self._blocks[b]
        return len(first) - bisect.bisect_right(first, id) + sum(map(len, itertools.islice(self._blocks, b + 1, None)))


def _holding_key(assignment: Assignment) -> tuple[str, str, Assignee, str]:
    return (assignment.record.kind, assignment.role, assignment.assignee, assignment.tenant)


def _slot_key(assignment: Assignment) -> tuple[str, object, str]:
    return (assignment.role, assignment.assignee, assignment.tenant)
