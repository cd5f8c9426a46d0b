"""The ports a host plugs storage in through: `Repository` and its `Transaction`.

Both are `typing.Protocol`s: a host's class conforms by having the methods,
never by inheriting. `ownership.testing` ships the contract suite that proves
a repository keeps the promises written here.
"""

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ownership.events import Event
from ownership.filters import Filter
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


class Transaction(Protocol):
    """One unit of work: every read and write of one use case.

    Reads see the transaction's own writes. Writes become visible to other
    transactions only when the transaction commits, and all of them together.
    The ``put_*`` methods insert or replace by id; the service has checked
    the rules before it calls them.

    Units of work must behave as if they ran one after another. A repository
    that runs them side by side and finds one would break that (two units
    changing one record's holders from the same reading) raises
    `ownership.errors.ConflictError` from it, and it leaves nothing behind.
    """

    def tenant(self, id: str) -> Tenant | None:
        """Return the tenant with this id, or None."""
        ...

    def tenants(self) -> Sequence[Tenant]:
        """Return every tenant, ordered by id."""
        ...

    def put_tenant(self, tenant: Tenant) -> None:
        """Insert or replace a tenant."""
        ...

    def user(self, id: str) -> User | None:
        """Return the user with this id, or None."""
        ...

    def users(self, tenant: str) -> Sequence[User]:
        """Return the users of a tenant, ordered by id."""
        ...

    def put_user(self, user: User) -> None:
        """Insert or replace a user."""
        ...

    def group(self, id: str) -> Group | None:
        """Return the group with this id, or None."""
        ...

    def groups(self, tenant: str) -> Sequence[Group]:
        """Return the groups of a tenant, ordered by id."""
        ...

    def put_group(self, group: Group) -> None:
        """Insert or replace a group."""
        ...

    def memberships_of_group(self, group: str) -> Sequence[Membership]:
        """Return a group's memberships, live or expired, ordered by user id."""
        ...

    def memberships_of_user(self, user: str) -> Sequence[Membership]:
        """Return a user's memberships, live or expired, ordered by group id."""
        ...

    def put_membership(self, membership: Membership) -> None:
        """Insert or replace the membership of `membership.user` in `membership.group`."""
        ...

    def delete_membership(self, group: str, user: str) -> None:
        """Remove a user's membership of a group; nothing happens if there is none."""
        ...

    def record(self, ref: RecordRef) -> Record | None:
        """Return the tracked record, or None."""
        ...

    def records(self, tenant: str) -> Sequence[Record]:
        """Return the records whose home is this tenant, ordered by kind and id."""
        ...

    def put_record(self, record: Record) -> None:
        """Insert or replace a record."""
        ...

    def delete_record(self, ref: RecordRef) -> None:
        """Remove a record for good, with its assignments, its history and its notifications in the outbox.

        Nothing happens if there is none. A record created again with the same
        id starts a history of its own, whose notifications may reuse the keys
        of the deleted one's.

        The service has taken it out of every record group first, and taken every member out of it.
        """
        ...

    def numbered(self, tenant: str, kind: str, number: str) -> Record | None:
        """Return the record of `kind` whose home is `tenant` that carries `number`, or None (CT4).

        Two records of one kind and tenant never carry one number: a repository
        that lets units run side by side refuses the later with
        `ownership.errors.ConflictError` (or `DuplicateIdError` when its store
        says so at once), never keeping both.
        """
        ...

    def assignments(self, ref: RecordRef) -> Sequence[Assignment]:
        """Return a record's current assignments, oldest first."""
        ...

    def assignments_of(self, refs: Sequence[RecordRef]) -> Mapping[RecordRef, Sequence[Assignment]]:
        """Return the current assignments of several records at once, each oldest first.

        A record with none may be missing from the mapping. This is how a page
        of `select` gets its holders in one read, not one read a row.
        """
        ...

    def holdings(self, assignee: Assignee) -> Sequence[Assignment]:
        """Return every assignment the assignee holds, in every tenant's slot, ordered by record, then oldest first."""
        ...

    def add_assignment(self, assignment: Assignment) -> None:
        """Add an assignment to its record, which is tracked; the service never adds one whose slot is held already.

        A holding is only ever kept on a record the repository tracks (deleting the record deletes its holdings):
        a store may find a page of a filter of holder tests alone from its holdings, without reading the records.
        """
        ...

    def remove_assignment(self, assignment: Assignment) -> None:
        """Remove the assignment with the same record, role, assignee and tenant."""
        ...

    def select(self, kind: str, filter: Filter, *, limit: int, after: str | None = None) -> Sequence[Record]:
        """Return up to `limit` records of `kind` that match `filter`, ordered by id, with ids above `after`.

        What matches is defined by `ownership.filters.matches`; a repository
        should answer from indexes, not by reading every record of the kind.
        """
        ...

    def count(self, kind: str, filter: Filter) -> int:
        """Return how many records of `kind` match `filter`."""
        ...

    def count_by_holder(self, kind: str, filter: Filter, roles: Collection[str], tenant: str) -> Mapping[Assignee, int]:
        """Return how many records of `kind` matching `filter` each assignee holding one of `roles` holds.

        Only holdings in `tenant`'s slot count. A record counts once per
        assignee, however many of the roles they hold on it;
        assignees holding none are missing from the mapping (TL8).
        """
        ...

    def count_by_status(self, kind: str, filter: Filter) -> Mapping[str | None, int]:
        """Return how many records of `kind` matching `filter` are in each status; None counts those without one."""
        ...

    def setting(self, tenant: str, key: str, *, changing: bool = False) -> Any:
        """Return the tenant's setting under `key`, as the JSON-ready data it was put as, or None.

        `changing` says the unit will put or delete the setting from what it
        reads here (the next number of a range, a round robin's turn): a
        repository whose units run side by side then keeps other units from
        reading it to change it, or changing it, until this unit ends. A plain
        read keeps it from changing under the unit, and lets other units read it.
        """
        ...

    def settings(self, tenant: str, prefix: str) -> Mapping[str, Any]:
        """Return the tenant's settings whose keys begin with `prefix`, by key."""
        ...

    def put_setting(self, tenant: str, key: str, value: Any) -> None:
        """Insert or replace a setting of a tenant: JSON-ready data (dicts, lists, strings, numbers, booleans)."""
        ...

    def delete_setting(self, tenant: str, key: str) -> None:
        """Remove a setting; nothing happens if there is none."""
        ...

    def append_events(self, events: Sequence[Event]) -> Sequence[int]:
        """Append events to their records' histories, in order; return each one's position in its record's history.

        A record's first event has position 0. Positions name notifications
        (their keys), so two units of work must never give one position twice:
        a repository that lets units run side by side refuses the later one
        with `ownership.errors.ConflictError`.
        """
        ...

    def events(self, ref: RecordRef) -> Sequence[Event]:
        """Return a record's history, oldest first."""
        ...

    def enqueue(self, notification: Notification) -> None:
        """Put a notification into the outbox, pending; a key already there is left as it is."""
        ...

    def put_outbox_entry(self, entry: OutboxEntry) -> None:
        """Insert or replace an outbox entry as it is: its notification, attempts, delivery, death and backoff.

        A new key goes last in the order the outbox was filled; a key already
        there keeps its place, and loses any claim on it. This is how `restore`
        puts an outbox back, and `retry_dead` gives a dead letter another go.
        """
        ...

    def outbox(self, *, pending: bool = False, limit: int | None = None, dead: bool = False) -> Sequence[OutboxEntry]:
        """Return the outbox in the order it was filled, the first `limit` of them.

        Every entry; or with `pending` those neither delivered nor dead; or with `dead` the dead letters alone.
        """
        ...

    def claim(self, *, limit: int, now: datetime, until: datetime, token: str) -> Sequence[OutboxEntry]:
        """Claim for one dispatcher up to `limit` entries due at `now`, oldest first, and return them.

        Due: pending (neither delivered nor dead), with no `next_attempt_at`
        after `now`, and no claim whose lease runs past `now`. Each claimed
        entry carries `token` until `until` (its lease) or until `settle` with
        that token: no other claim takes it before. Units claiming side by side
        never claim one key twice while its lease is live (PostgreSQL: row locks
        skipped by the others; SQLite: its one writer; memory: its lock).
        """
        ...

    def settle(
        self,
        delivered: Collection[str],
        failed: Collection[str],
        *,
        token: str | None = None,
        retry_at: Mapping[str, datetime] | None = None,
        dead: Collection[str] = (),
    ) -> None:
        """Mark the `delivered` keys delivered, and count one more attempt for each `failed` key.

        A failed key's `next_attempt_at` becomes its moment in `retry_at`
        (None if it has none), and it becomes dead if it is in `dead`. With a
        `token`, only keys still claimed with that token are touched, and their
        claim ends; settling again with the same token then changes nothing.
        Keys that are not in the outbox are passed over.
        """
        ...


class Repository(Protocol):
    """Where `ownership` keeps its state: a source of transactions."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work.

        Leaving the ``with`` block normally commits every write made in it;
        leaving it by an exception discards them all and lets the exception
        go on. A unit opened inside another is a savepoint within it.

        Raises:
            ConflictError: another unit changed what this one read (when the repository runs units side by side).
            StorageError: the store failed or could not be reached; nothing of the unit was kept, unless the
                failure came while committing, when the store holds all of it or none of it.
        """
        ...


@runtime_checkable
class Versioned(Protocol):
    """What a repository may offer besides `Repository`: a number that changes with every write.

    A repository that has it lets `Ownership` reuse what it resolved about a
    viewer (their live groups, their tenant's features) until anything is
    written or one of their memberships expires, which makes `can` cheaper.
    The number must change with every write, committed or not yet, and with
    every rollback, in any process that shares the store; a repository that
    cannot promise that must not offer it.
    """

    @property
    def generation(self) -> int:
        """A number that changes with every write, committed or not, and with every rollback."""
        ...


@runtime_checkable
class WritesFirst(Protocol):
    """What a repository may offer besides `Repository`: a unit of work that takes its write locks at once.

    `Ownership` opens the units of the use cases that change state through it.
    A database with one writer (SQLite) then makes such units wait their turn
    instead of refusing the later of two with `ConflictError`.
    """

    def writing(self, turn: str | None = None) -> AbstractContextManager[Transaction]:
        """Open a unit of work that will write, as `Repository.transaction` does, taking the write locks first.

        Units naming the same `turn` (a number range's key) must never run side
        by side: the later begins after the earlier has ended, so a counter every
        such unit writes is never a conflict.
        """
        ...


@runtime_checkable
class Claiming(Protocol):
    """What a repository may offer besides `Repository`: a lighter unit of work for claiming and settling the outbox.

    `Ownership.dispatch` claims and settles through it. A claim is made safe by
    its row locks (`SELECT ... FOR UPDATE SKIP LOCKED`), not by the units
    running as if one after another, so a database can run these units with no
    other lock (PostgreSQL: READ COMMITTED) and let many dispatchers claim at once.
    """

    def claiming(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work used only for `Transaction.claim` and `Transaction.settle`."""
        ...


@runtime_checkable
class ReadsApart(Protocol):
    """What a repository may offer besides `Repository`: a unit of work that only reads, and never conflicts.

    `Ownership` opens the units of the use cases that only read through it.
    The unit reads one snapshot of the store, as it was when the unit began,
    and is never refused with `ConflictError`: no write can be in its way
    (PostgreSQL runs it REPEATABLE READ, READ ONLY). A write in it fails.
    """

    def reading(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work that only reads, from one snapshot."""
        ...


@runtime_checkable
class WritesAlone(Protocol):
    """What a repository may offer besides `Repository`: a unit of work that writes while no other one writes.

    `Ownership` opens through it the units that change the directory (tenants,
    users, groups, memberships), or many records at once (offboarding, bulk
    actions, a restore): they then never meet another writer halfway, and a
    writer of one record never meets them.
    """

    def writing_alone(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work that begins once every other writing unit has ended, and keeps them out until it ends."""
        ...


@runtime_checkable
class Generations(Protocol):
    """What a repository may offer besides `Repository`: the directory's generation, kept by the store itself.

    The generation is a number that changes whenever a unit that wrote a
    tenant, user, group or membership commits, in any process that shares the
    store. `Ownership` reuses what it resolved about a viewer while the
    generation is the one it was resolved at, so a warm `Ownership.can` costs
    one statement, `Ownership.visible_ids` one, and `Ownership.filter` one look at the generation.
    """

    def generation_now(self) -> int:
        """The generation of the directory as last committed, read outside any unit of work."""
        ...

    def look(self, ref: RecordRef) -> "Look":
        """The generation, the record and its assignments, read together at one moment outside any unit of work."""
        ...

    def look_ids(self, kind: str, filter: Filter, *, limit: int, after: str | None = None) -> tuple[int, Sequence[str]]:
        """The generation, and the ids `Transaction.select` would list, read together at one moment outside any unit.

        The ids are those of the first `limit` records of `kind` matching `filter` whose id sorts after `after`,
        by id; `Ownership.visible_ids` for a viewer kept from before costs this one statement.
        """
        ...


class Look(Protocol):
    """What `Generations.look` reads: the generation and one record with its holders, as they were at one moment."""

    @property
    def generation(self) -> int:
        """The directory's generation."""
        ...

    @property
    def record(self) -> Record | None:
        """The record, or None if it is not tracked."""
        ...

    @property
    def assignments(self) -> Sequence[Assignment]:
        """Its assignments, oldest first (none when the record is not tracked)."""
        ...


@runtime_checkable
class MovesHolders(Protocol):
    """What a repository's `Transaction` may offer: a holding handed over in place, in one write.

    `Ownership` hands a role of one holder from one assignee to another
    (`assign` as a handover, `transfer`) through it: the same as
    `Transaction.remove_assignment` of `old` then `Transaction.add_assignment`
    of `new`, for a slot that holds `old` alone, as one UPDATE.
    """

    def move_assignment(self, old: Assignment, new: Assignment) -> None:
        """Replace `old` by `new`, of the same record, role and tenant, in a slot `old` holds alone."""
        ...


@runtime_checkable
class AddsRecords(Protocol):
    """What a repository's `Transaction` may offer: records the unit knows are not tracked, written in bulk.

    `Ownership` adds the records of a first load (`reconcile`) through it: the
    same as `Transaction.put_record` of each, for records of which no version is
    tracked (their histories begin at position 0), in as few writes as the
    repository can. A record that is tracked after all makes the unit fail.
    """

    def add_records(self, records: Sequence[Record]) -> None:
        """Track `records`, none of which is tracked yet."""
        ...


@runtime_checkable
class FindsHomes(Protocol):
    """What a repository's `Transaction` may offer: where many records are at home, in few reads.

    `Ownership` checks the ids of a load (`reconcile`) through it, rather than
    reading each record: the same as `Transaction.record` of each id, keeping
    only the home tenants of those tracked.
    """

    def homes(self, kind: str, ids: Sequence[str]) -> Mapping[str, str]:
        """The home tenant of each of `ids` that names a tracked record of `kind`, by id."""
        ...


@runtime_checkable
class KnowsManagers(Protocol):
    """What a repository's `Transaction` may offer: who reports to whom in a tenant, in one narrow read.

    `Ownership` works out a manager's team through it (`held_within_team`),
    rather than reading every user of the tenant: the same as the ``manager``
    of each of `Transaction.users`, keeping those who have one.
    """

    def managers(self, tenant: str) -> Mapping[str, str]:
        """The manager of each user of `tenant` who has one, by the user's id."""
        ...


@runtime_checkable
class KeepsGrants(Protocol):
    """What a repository's `Transaction` may offer: records shared with users and groups (`Ownership.grant`).

    A record has at most one grant for each user or group. A grant is kept
    after its `until` has passed (it stops granting by itself, `Grant.live`),
    until it is revoked or its record deleted; deleting a record deletes its grants.
    A unit that writes a grant moves the directory's generation on, where the
    repository keeps one, as writing a membership does: a viewer's grants are
    resolved with them.
    """

    def grants(self, ref: RecordRef) -> Sequence[Grant]:
        """The grants of one record, by assignee."""
        ...

    def grants_to(self, kind: str, assignees: Collection[Assignee]) -> Sequence[Grant]:
        """The grants of records of `kind` to any of `assignees`, by record id then assignee."""
        ...

    def grants_in(self, tenant: str) -> Sequence[Grant]:
        """Every grant to a user or group of `tenant`, by record then assignee."""
        ...

    def put_grant(self, grant: Grant) -> None:
        """Keep `grant`, in place of the record's grant to the same assignee, if any."""
        ...

    def delete_grant(self, ref: RecordRef, assignee: Assignee) -> None:
        """Forget the record's grant to `assignee`; nothing if there is none."""
        ...


@runtime_checkable
class KeepsFollowers(Protocol):
    """What a repository's `Transaction` may offer: users who follow records (`Ownership.follow`).

    Deleting a record deletes its followers.
    """

    def followers(self, ref: RecordRef) -> Sequence[Follower]:
        """The followers of one record, by user id."""
        ...

    def followers_in(self, tenant: str) -> Sequence[Follower]:
        """Every follower of `tenant`, by record then user id."""
        ...

    def put_follower(self, follower: Follower) -> None:
        """Keep `follower`, in place of the record's follower with the same user, if any."""
        ...

    def delete_follower(self, ref: RecordRef, user: str) -> None:
        """Forget that `user` follows the record; nothing if they do not."""
        ...


@runtime_checkable
class GenerationOfUnit(Protocol):
    """What a repository's `Transaction` may offer: the directory's generation the unit reads at.

    None when the unit itself changed the directory, so that nothing resolved
    from its uncommitted writes is kept beyond it.
    """

    def generation(self) -> int | None:
        """The generation of the directory this unit sees, or None once it has written the directory."""
        ...
