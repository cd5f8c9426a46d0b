"""Notifications: recording what happened to a record, and delivering who must hear of it from the outbox (X7).

A notice is written to the outbox in the same unit of work as what caused it;
`dispatch` hands pending ones to the host's `Notifier` afterwards, at least
once, and logs on the ``ownership`` logger what the notifier refused or raised on.
"""

from ownership.errors import ForeignActorError, InvalidValueError
from ownership.events import ActivityRecorded
from ownership.lifecycle import NOTIFY
from ownership.model import RecordLike, UserLike, id_of
from ownership.notify import Dispatched, Notification, Notifier, OutboxEntry
from ownership.usecases._unit import logger, retried
from ownership.usecases._writer import Writer


class Notifications(Writer):
    """Recording activities, and delivering and listing the outbox (TL3, TL8, LD8, CT3, X7)."""

    @retried
    def record_activity(self, record: RecordLike, activity: str, *, actor: UserLike | None) -> tuple[Notification, ...]:
        """Record that something happened to a record, and notify who must hear of it (TL3, TL8, LD8, CT3).

        The recipients are the holders of the roles that hear of the activity
        (by default, every role marked notified), in every tenant's slot: users
        directly, the live members of held groups, and for *everyone* every
        user of the slot's tenant (CT2); each once, active, and not the actor. The notifications are written to the
        outbox in the same unit of work as the activity; `dispatch` delivers them.

        An actor must be able to see the record: what they cannot see, they
        cannot tell of. They get back only the notices to their own tenant's
        users: a shared record's other tenant hears of it too, but which of
        its colleagues do is not the actor's to learn (LD7). The host (no
        actor) gets back every notice written.

        Args:
            record: the record it happened to.
            activity: the activity's name; the policy must know it, unless it takes any.
            actor: who did it, or None for the host (a customer's reply, a mechanism).

        Returns:
            The notifications written to the outbox: all of them for the host, those to the actor's tenant for a user.

        Raises:
            UnknownRecordError, UnknownUserError: no such record or actor.
            UnknownActivityError: the kind's policy knows no such activity.
            ForeignActorError: the actor's tenant has no part in the record.
            AccessDeniedError: the kind's rule does not let the actor view the record.
            InactiveUserError: the actor is inactive.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            policy = self.rulebook.policy(found.kind)
            known = policy.activity(activity)
            self._check_status(found, NOTIFY, "have activities recorded")
            acting = self._actor(tx, actor) if actor is not None else None
            if acting is not None and acting.tenant not in found.tenants:
                raise ForeignActorError(
                    f"{found} is not shared with tenant {acting.tenant!r}; {acting.name} cannot act on it."
                )
            if acting is not None:
                self._check_allowed(tx, acting, "view", found, doing="record an activity on")
            at = self._clock()
            [position] = tx.append_events(
                [ActivityRecorded(found.ref, known.name, acting.tenant if acting else found.tenant, id_of(acting), at)]
            )
            hearing = {role.name for role in policy.hears(known)}
            slots = {a.tenant: self.rulebook.features(self._tenant(tx, a.tenant)) for a in tx.assignments(found.ref)}
            held = [
                (a.assignee, a.tenant)
                for a in tx.assignments(found.ref)
                if a.role in hearing and policy.role(a.role).available(slots[a.tenant])
            ]
            recipients = self._users_of(tx, held, at)
            written = self._notify(tx, found.ref, known.name, recipients, actor=acting, at=at, position=position)
            if acting is None:
                return written
            ours = {user.id for user in recipients if user.tenant == acting.tenant}
            return tuple(n for n in written if n.recipient in ours)

    def dispatch(self, notifier: Notifier | None = None, *, limit: int = 100) -> Dispatched:
        """Deliver up to `limit` pending notifications, oldest first, to the notifier (X7).

        Delivery is at least once: what the notifier refuses, or everything in
        a batch it raises on, stays pending with one more attempt counted, for
        the next call. A key it acknowledged is never handed to it again.

        Args:
            notifier: where to deliver; the one given to `Ownership` if None.
            limit: the most notifications in this batch.

        Returns:
            The keys delivered, and the keys left pending.

        Raises:
            InvalidValueError: no notifier was given here or to `Ownership`, or `limit` is below 1.
        """
        target = notifier if notifier is not None else self._notifier
        if target is None:
            raise InvalidValueError("There is no notifier to deliver to; pass one to dispatch() or to Ownership().")
        with self._reading() as tx:
            batch = [entry.notification for entry in tx.outbox(pending=True, limit=limit)]
        if not batch:
            return Dispatched((), ())
        keys = [n.key for n in batch]
        try:
            refused = set(target.deliver(batch) or ())
        except Exception:
            # At least once: a notifier that raises delivered none of the batch; all of it is tried again.
            logger.exception("The notifier raised on a batch of %d notifications; they stay pending", len(keys))
            refused = set(keys)
        else:
            if refused:
                logger.warning(
                    "The notifier refused %d of %d notifications; they stay pending", len(refused), len(keys)
                )
        delivered = tuple(k for k in keys if k not in refused)
        failed = tuple(k for k in keys if k in refused)
        with self._reading() as tx:
            tx.settle(delivered, failed)
        return Dispatched(delivered, failed)

    def outbox(self, *, pending: bool = False) -> tuple[OutboxEntry, ...]:
        """Return the outbox in the order it was filled: every entry, or only those still pending."""
        with self._reading() as tx:
            return tuple(tx.outbox(pending=pending))
