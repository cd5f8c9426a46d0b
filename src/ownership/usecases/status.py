"""Statuses, names and numbers: moving a record through its lifecycle, renaming it, numbering it (CT1, CT4, CT5)."""

from collections.abc import Iterable
from datetime import datetime

from attrs import evolve

from ownership.errors import DuplicateNumberError, NumberingError
from ownership.events import StatusChanged
from ownership.lifecycle import required
from ownership.model import Record, RecordLike, Tenant, User, UserLike, id_of
from ownership.numbering import NumberRange
from ownership.ports import Transaction
from ownership.usecases import _settings
from ownership.usecases._unit import retried
from ownership.usecases._writer import Writer


class Statuses(Writer):
    """Changing a record's status, name and labels, and handing out numbers from a tenant's ranges."""

    @retried
    def set_status(self, record: RecordLike, status: str, *, actor: UserLike | None, confirmed: bool = False) -> Record:
        """Move a record to another status of its kind's lifecycle (CT1).

        Archiving and making active again keep the record's holders and
        history. Asking for the status it has already changes nothing.

        Args:
            record: the record.
            status: the status to move it to.
            actor: a user of its home tenant who may edit it, or None for the host.
            confirmed: whether the user confirmed a change that asks for it (prospect to customer).

        Returns:
            The record as it is now.

        Raises:
            TransitionError: the kind has no lifecycle, no such status, or no way from its status to this one.
            ConfirmationError: the change must be confirmed, and `confirmed` is false.
            UnknownRecordError, UnknownUserError: no such record or actor.
            ForeignActorError: the actor is not of the record's home tenant.
            AccessDeniedError: the kind's rule does not let the actor edit the record.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            acting = self._home_actor(tx, actor, found, "change the status of")
            required(found.kind, self.rulebook.policy(found.kind).lifecycle).check_name(found.kind, status)
            moved = self._move(tx, found, status, acting, confirmed=confirmed, at=self._clock())
            return moved if moved is not None else found

    @retried
    def update_record(
        self,
        record: RecordLike,
        *,
        actor: UserLike | None,
        name: str | None = None,
        labels: Iterable[str] | None = None,
    ) -> Record:
        """Change a record's name or labels, as the host's own record changed; None keeps a value.

        Raises:
            UnknownRecordError, UnknownUserError: no such record or actor.
            ForeignActorError: the actor is not of the record's home tenant.
            AccessDeniedError: the kind's rule does not let the actor edit the record.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            self._home_actor(tx, actor, found, "change")
            changed = evolve(
                found,
                name=found.name if name is None else name,
                labels=found.labels if labels is None else frozenset(labels),
            )
            tx.put_record(changed)
            return changed

    @retried
    def set_number_range(
        self,
        tenant: Tenant | str,
        kind: str,
        *,
        prefix: str = "",
        width: int = 1,
        next: int = 1,
        actor: UserLike | None = None,
    ) -> NumberRange:
        """Configure how `next_number` numbers a tenant's records of `kind` (CT4).

        Args:
            tenant: the tenant, or its id.
            kind: the record kind.
            prefix: put before every number.
            width: the digits a number is padded to with zeros.
            next: the counter's next value.
            actor: an admin of the tenant, or None for the host.

        Raises:
            NumberingError: `width` is below 1 or `next` below 0.
            UnknownTenantError, UnknownKindError: no such tenant or kind.
            AccessDeniedError: the actor is not an admin of the tenant.
        """
        self.rulebook.policy(kind)
        numbers = NumberRange(prefix, width, next)
        with self._writing() as tx:
            home = self._tenant(tx, tenant)
            self._check_admin(tx, actor, home.id, "configure number ranges")
            _settings.put_number_range(tx, home.id, kind, numbers)
            return numbers

    def number_range(self, tenant: Tenant | str, kind: str) -> NumberRange | None:
        """Return the tenant's number range for `kind`, as `next_number` would use it now, or None.

        Raises:
            UnknownTenantError, UnknownKindError: no such tenant, or no such record kind.
        """
        self.rulebook.policy(kind)
        with self._reading() as tx:
            return _settings.number_range(tx, self._tenant(tx, tenant).id, kind)

    @retried
    def next_number(self, tenant: Tenant | str, kind: str) -> str:
        """Hand out the next free number of the tenant's range for `kind`, and move the range on (CT4).

        No two calls ever get one number, from however many threads or
        processes share the repository; a number a record carries already
        (given by hand) is skipped.

        Raises:
            NumberingError: the tenant has no number range for the kind.
            UnknownTenantError: no such tenant.
        """
        self.rulebook.policy(kind)
        with self._writing(turn=_settings.numbers_turn(tenant, kind)) as tx:
            return self._next_number(tx, self._tenant(tx, tenant).id, kind)

    @retried
    def set_number(self, record: RecordLike, number: str | None = None, *, actor: UserLike | None) -> Record:
        """Give a record a number: `number`, or the next free one of its tenant's range if None (CT4).

        Returns:
            The record as it is now, with its number.

        Raises:
            DuplicateNumberError: another record of the kind and tenant carries `number`.
            NumberingError: `number` is None and the tenant has no range for the kind.
            InvalidValueError: `number` is empty.
            UnknownRecordError, UnknownUserError: no such record or actor.
            ForeignActorError, AccessDeniedError: the actor may not edit the record.
        """
        # Drawing from the range takes its tenant's turn, so the record's home is read first.
        turn = _settings.numbers_turn((read := self._read_record(record)).tenant, read.kind) if number is None else None
        with self._writing(turn=turn) as tx:
            found = self._record(tx, record)
            self._home_actor(tx, actor, found, "number")
            given = number if number is not None else self._next_number(tx, found.tenant, found.kind)
            numbered = evolve(found, number=given)
            self._check_number_free(tx, numbered)
            tx.put_record(numbered)
            return numbered

    def _next_number(self, tx: Transaction, tenant: str, kind: str) -> str:
        numbers = _settings.number_range(tx, tenant, kind, changing=True)
        if numbers is None:
            raise NumberingError(
                f"Tenant {tenant!r} has no number range for {kind} records; configure one with set_number_range."
            )
        value = numbers.next
        while tx.numbered(tenant, kind, numbers.format(value)) is not None:
            value += 1
        _settings.put_number_range(tx, tenant, kind, evolve(numbers, next=value + 1))
        return numbers.format(value)

    def _check_number_free(self, tx: Transaction, record: Record) -> None:
        if record.number is None:
            return
        taken = tx.numbered(record.tenant, record.kind, record.number)
        if taken is not None and taken.ref != record.ref:
            raise DuplicateNumberError(
                f"The {taken} carries number {record.number!r} already; each {record.kind} of tenant "
                f"{record.tenant!r} needs its own number."
            )

    def _move(
        self, tx: Transaction, record: Record, target: str, acting: User | None, *, confirmed: bool, at: datetime
    ) -> Record | None:
        """Move a record to `target` by its lifecycle's transition, with the event; None if it is there already."""
        if record.status == target:
            return None
        required(record.kind, self.rulebook.policy(record.kind).lifecycle).check_move(
            record, target, confirmed=confirmed
        )
        moved = evolve(record, status=target)
        tx.put_record(moved)
        tx.append_events([StatusChanged(record.ref, record.status, target, record.tenant, id_of(acting), at)])
        return moved

    def _read_record(self, record: RecordLike) -> Record:
        """The record as it is now, read in a unit of its own."""
        with self._reading() as tx:
            return self._record(tx, record)
