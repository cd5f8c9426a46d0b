"""The in-memory repository: the embedded default, and the reference every adapter agrees with.

State lives in plain dictionaries. A transaction holds the repository's lock
and keeps an undo journal of every write, so leaving it by an exception puts
every dictionary back exactly as it was; committing costs nothing.
"""

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ownership.events import Event
from ownership.model import Assignment, Group, Membership, Record, RecordRef, Tenant, User

_MISSING: Any = object()


class MemoryRepository:
    """A `Repository` kept in this process's memory; safe to share between threads.

    Transactions are serialised by one re-entrant lock; a transaction opened
    inside another on the same thread joins it.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._undo: list[Callable[[], None]] = []
        self._tenants: dict[str, Tenant] = {}
        self._users: dict[str, User] = {}
        self._users_by_tenant: dict[str, frozenset[str]] = {}
        self._groups: dict[str, Group] = {}
        self._groups_by_tenant: dict[str, frozenset[str]] = {}
        self._memberships: dict[tuple[str, str], Membership] = {}
        self._groups_of_user: dict[str, frozenset[str]] = {}
        self._users_of_group: dict[str, frozenset[str]] = {}
        self._records: dict[RecordRef, Record] = {}
        self._records_by_tenant: dict[str, frozenset[RecordRef]] = {}
        self._assignments: dict[RecordRef, tuple[Assignment, ...]] = {}
        self._events: dict[RecordRef, tuple[Event, ...]] = {}

    @contextmanager
    def transaction(self) -> Iterator["_MemoryTransaction"]:
        """Open a unit of work; see `ownership.ports.Repository.transaction`."""
        with self._lock:
            outermost = self._depth == 0
            self._depth += 1
            try:
                yield _MemoryTransaction(self)
            except BaseException:
                if outermost:
                    for undo in reversed(self._undo):
                        undo()
                raise
            finally:
                self._depth -= 1
                if outermost:
                    self._undo.clear()

    # Writes go through these two, which journal how to take them back.
    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        old = table.get(key, _MISSING)
        table[key] = value
        self._undo.append(lambda: _restore(table, key, old))

    def _delete(self, table: dict[Any, Any], key: Any) -> None:
        old = table.pop(key, _MISSING)
        if old is not _MISSING:
            self._undo.append(lambda: _restore(table, key, old))

    def _index(self, table: dict[Any, frozenset[Any]], key: Any, add: Any = None, remove: Any = None) -> None:
        members = table.get(key, frozenset())
        if add is not None:
            members = members | {add}
        if remove is not None:
            members = members - {remove}
        self._set(table, key, members)


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
        old = self._r._records.get(record.ref)
        if old is not None and old.tenant != record.tenant:
            self._r._index(self._r._records_by_tenant, old.tenant, remove=record.ref)
        self._r._set(self._r._records, record.ref, record)
        self._r._index(self._r._records_by_tenant, record.tenant, add=record.ref)

    def assignments(self, ref: RecordRef) -> Sequence[Assignment]:
        return self._r._assignments.get(ref, ())

    def add_assignment(self, assignment: Assignment) -> None:
        held = self._r._assignments.get(assignment.record, ())
        self._r._set(self._r._assignments, assignment.record, (*held, assignment))

    def remove_assignment(self, assignment: Assignment) -> None:
        held = self._r._assignments.get(assignment.record, ())
        kept = tuple(a for a in held if _slot_key(a) != _slot_key(assignment))
        self._r._set(self._r._assignments, assignment.record, kept)

    def append_event(self, event: Event) -> None:
        history = self._r._events.get(event.record, ())
        self._r._set(self._r._events, event.record, (*history, event))

    def events(self, ref: RecordRef) -> Sequence[Event]:
        return self._r._events.get(ref, ())


def _slot_key(assignment: Assignment) -> tuple[str, object, str]:
    return (assignment.role, assignment.assignee, assignment.tenant)
