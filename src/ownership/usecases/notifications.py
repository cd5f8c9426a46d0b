"""Notifications: recording what happened to a record, and delivering who must hear of it from the outbox (X7).

A notice is written to the outbox in the same unit of work as what caused it;
`dispatch` hands pending ones to the host's `Notifier` afterwards, at least
once, and logs on the ``ownership`` logger what the notifier refused or raised on.
"""

import functools
import random
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from ownership.errors import ConflictError, ForeignActorError, InvalidValueError
from ownership.events import ActivityRecorded
from ownership.lifecycle import NOTIFY
from ownership.model import Record, RecordLike, User, UserLike, id_of
from ownership.notify import Dispatched, Notification, Notifier, OutboxEntry
from ownership.ports import Transaction
from ownership.usecases._sharing import record_followers
from ownership.usecases._unit import logger, retried
from ownership.usecases._writer import Writer

LEASE = timedelta(seconds=60)
"""How long `dispatch` holds a claimed batch by default: far longer than a notifier takes on a batch."""
MAX_ATTEMPTS = 10
"""How many failures make a notification a dead letter, by default."""
BACKOFF = timedelta(seconds=1)
"""The pause after a notification's first failure, by default; it doubles with each further one."""
LONGEST_PAUSE = timedelta(hours=1)
"""The longest pause between two attempts at one notification, however often it failed."""


class Notifications(Writer):
    """Recording activities, and delivering and listing the outbox (TL3, TL8, LD8, CT3, X7)."""

    @retried
    def record_activity(self, record: RecordLike, activity: str, *, actor: UserLike | None) -> tuple[Notification, ...]:
        """Record that something happened to a record, and notify who must hear of it (TL3, TL8, LD8, CT3).

        The recipients are the holders of the roles that hear of the activity
        (by default, every role marked notified), in every tenant's slot: users
        directly, the live members of held groups, and for *everyone* every
        user of the slot's tenant (CT2); then the record's followers who may
        view it now (`follow`), for an activity some role may hear of. Each is
        told once, if active (inactive holders too, where the kind's policy
        says `tell_inactive`), and never the actor. The notifications are
        written to the outbox in the same unit of work as the activity;
        `dispatch` delivers them.

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
            recipients = self._users_of(tx, held, at, inactive=policy.tell_inactive)
            if known.roles is None or known.roles:
                recipients += self._following(tx, found, {user.id for user in recipients})
            written = self._notify(tx, found.ref, known.name, recipients, actor=acting, at=at, position=position)
            if acting is None:
                return written
            ours = {user.id for user in recipients if user.tenant == acting.tenant}
            return tuple(n for n in written if n.recipient in ours)

    def _following(self, tx: Transaction, found: Record, told: set[str]) -> list[User]:
        """The record's followers not `told` already who are active, of a tenant taking part, and may view it now."""
        held = tx.assignments(found.ref)
        following = []
        for follower in record_followers(tx, found.ref):
            user = self._kept(tx, "user", follower.user, functools.partial(tx.user, follower.user))
            if user is None or user.id in told or not user.active or user.tenant not in found.tenants:
                continue
            if self._sees(tx, user, found, held):
                following.append(user)
        return following

    def dispatch(
        self,
        notifier: Notifier | None = None,
        *,
        limit: int = 100,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: timedelta = BACKOFF,
    ) -> Dispatched:
        """Claim up to `limit` due notifications, oldest first, deliver them to the notifier, and settle them (X7).

        Any number of dispatchers, in threads or processes, may call this at
        once: each claims its batch for `lease` before handing it over, and no
        other claims a key while that lease is live, so no key reaches two
        notifiers at once. A dispatcher that dies before settling loses its
        claim when the lease ends, and its batch is delivered again: delivery is
        at least once, and exactly once while no dispatcher dies and each
        settles within its lease.

        A batch the notifier raises on is split in halves, and each half tried
        again, down to the one key that makes it raise, so the others are
        delivered in this call. A key the notifier refuses or raises on alone
        has one more attempt counted and is not tried again before its
        backoff, ``min(backoff * 2 ** (attempts - 1), 1 hour)``, has passed;
        after `max_attempts` failures it becomes a dead letter, which
        `outbox(dead=True)` and `audit` show and `retry_dead` gives back.
        Settling is retried until it is saved, so a delivery is never followed
        by a `ConflictError`; what the notifier did is logged on the
        ``ownership`` logger.

        Args:
            notifier: where to deliver; the one given to `Ownership` if None.
            limit: the most notifications in this batch.
            lease: how long the batch is this dispatcher's alone; longer than delivering a batch ever takes.
            max_attempts: how many failures make a key a dead letter.
            backoff: the pause after a key's first failure, doubled after each further one; zero tries it at once.

        Returns:
            The keys delivered, the keys that failed, and those of the failed that are now dead letters.

        Raises:
            InvalidValueError: no notifier was given here or to `Ownership`; `limit` or `max_attempts` is below 1,
                `lease` is not positive, or `backoff` is negative.
            StorageError: the store could not be reached to claim a batch or settle it.
        """
        target = notifier if notifier is not None else self._notifier
        if target is None:
            raise InvalidValueError("There is no notifier to deliver to; pass one to dispatch() or to Ownership().")
        _check_dispatch(lease, backoff)
        token = self._ids()
        batch = self._claim(limit, lease, token)
        if not batch:
            return Dispatched((), ())
        delivered, failed = _deliver(target, [entry.notification for entry in batch])
        attempts = {entry.notification.key: entry.attempts + 1 for entry in batch}
        dead = tuple(key for key in failed if attempts[key] >= max_attempts)
        at = self._clock()
        retry_at = {key: at + pause(backoff, attempts[key]) for key in failed if key not in dead}
        self._settle(token, delivered, failed, retry_at, dead, lease=lease)
        if dead:
            logger.error(
                "%d notifications failed %d times and are dead letters now; see outbox(dead=True), then "
                "retry_dead(): %s",
                len(dead),
                max_attempts,
                ", ".join(dead),
            )
        return Dispatched(delivered, failed, dead=dead)

    @retried
    def _claim(self, limit: int, lease: timedelta, token: str) -> Sequence[OutboxEntry]:
        with self._claiming() as tx:
            now = self._clock()
            return tx.claim(limit=limit, now=now, until=now + lease, token=token)

    def _settle(
        self,
        token: str,
        delivered: Sequence[str],
        failed: Sequence[str],
        retry_at: Mapping[str, datetime],
        dead: Sequence[str],
        *,
        lease: timedelta,
    ) -> None:
        """Settle a delivered batch under its token, again and again while it conflicts, until its lease has ended.

        Settling under the token is idempotent, so running it again is safe; once
        the lease has ended, another dispatcher may hold the keys, and what was
        not saved is delivered again (at least once).
        """
        # Measured on this machine's monotonic clock: the lease ends by the wall, and a host's clock may stand still.
        deadline = time.monotonic() + lease.total_seconds()
        attempt = 0
        while True:
            try:
                with self._claiming() as tx:
                    tx.settle(delivered, failed, token=token, retry_at=retry_at, dead=dead)
            except ConflictError as conflict:
                attempt += 1
                if attempt > self._retries and time.monotonic() >= deadline:
                    logger.error(
                        "Settling %d delivered and %d failed notifications gave up after %d runs, as their lease "
                        "ended; they will be delivered again: %s",
                        len(delivered),
                        len(failed),
                        attempt,
                        conflict,
                    )
                    return
                logger.info("Settling a dispatched batch met another unit of work; settling it again (%d)", attempt)
                time.sleep(random.uniform(0, min(0.5, 0.002 * 2**attempt)))
            else:
                return

    @retried
    def retry_dead(self, keys: Collection[str] | None = None) -> tuple[str, ...]:
        """Give dead letters another go: the next `dispatch` tries them, as if they had never failed (X7).

        Their attempts start again from 0 and their backoff ends; a key that is
        not a dead letter (unknown, pending or delivered) is passed over.

        Args:
            keys: the dead letters to retry; every one if None.

        Returns:
            The keys given back to dispatch, in the order the outbox was filled.
        """
        wanted = None if keys is None else set(keys)
        with self._writing(alone=True) as tx:
            dead = [e for e in tx.outbox(dead=True) if wanted is None or e.notification.key in wanted]
            for entry in dead:
                tx.put_outbox_entry(attrs.evolve(entry, dead=False, attempts=0, next_attempt_at=None))
            return tuple(entry.notification.key for entry in dead)

    def outbox(self, *, pending: bool = False, dead: bool = False) -> tuple[OutboxEntry, ...]:
        """Return the outbox in the order it was filled: every entry, the pending ones (`pending`), or the dead letters.

        Pending are those neither delivered nor dead; `dead` gives the dead letters alone, for `retry_dead`.
        """
        with self._reading() as tx:
            return tuple(tx.outbox(pending=pending, dead=dead))


def pause(backoff: timedelta, attempts: int) -> timedelta:
    """How long a key that failed `attempts` times waits: ``backoff * 2**(attempts - 1)``, an hour at most."""
    if backoff <= timedelta(0):
        return timedelta(0)
    doublings = min(attempts - 1, 32)  # 2**32 seconds is past the cap already
    longer: timedelta = backoff * 2**doublings
    return min(longer, LONGEST_PAUSE)


def _check_dispatch(lease: timedelta, backoff: timedelta) -> None:
    """Refuse a lease that is over before it begins, and a backoff that would try a key before it failed."""
    if lease <= timedelta(0):
        raise InvalidValueError(
            f"dispatch()'s lease is a positive timedelta, such as timedelta(seconds=60), not {lease!r}."
        )
    if backoff < timedelta(0):
        raise InvalidValueError(f"dispatch()'s backoff is a timedelta of zero or more, not {backoff!r}.")


def _deliver(
    notifier: Notifier, batch: Sequence[Notification], *, whole: bool = True
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Hand `batch` to the notifier; return the keys it delivered and those it refused or raised on alone.

    A batch it raises on is split in halves, each handed over again, so that one
    key that makes it raise leaves the others delivered.
    """
    keys = [n.key for n in batch]
    try:
        refused = set(notifier.deliver(batch) or ()) & set(keys)
    except Exception:
        if len(batch) == 1:
            logger.exception("The notifier raised on notification %s; it stays pending, with one more attempt", keys[0])
            return (), (keys[0],)
        if whole:
            logger.warning(
                "The notifier raised on a batch of %d notifications; handing it over in halves to find the ones it "
                "raises on",
                len(batch),
                exc_info=True,
            )
        half = len(batch) // 2
        first = _deliver(notifier, batch[:half], whole=False)
        second = _deliver(notifier, batch[half:], whole=False)
        return first[0] + second[0], first[1] + second[1]
    if refused:
        logger.warning("The notifier refused %d of %d notifications; they stay pending", len(refused), len(keys))
    return tuple(k for k in keys if k not in refused), tuple(k for k in keys if k in refused)
