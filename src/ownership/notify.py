"""Who must hear of what: activities, notifications, the outbox, and the `Notifier` port.

A policy names the activities its kind knows and which roles hear of each.
When something happens, the service writes one `Notification` per recipient
into the outbox, in the same unit of work as the change (X7); `dispatch`
hands pending ones to the host's `Notifier` after the commit, and whatever it
refused or crashed on stays pending, with its attempts counted.
"""

import enum
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Protocol
from urllib.parse import quote

from attrs import field, frozen

from ownership.errors import InvalidValueError
from ownership.events import Event
from ownership.model import (
    BIGGEST,
    RecordRef,
    User,
    a_flag,
    a_key,
    a_moment,
    an_id,
    an_optional_id,
    an_optional_moment,
    an_optional_name_set,
    names,
    one_of,
)


def _some_names(items: Iterable[str] | None) -> frozenset[str] | None:
    return None if items is None else names(items)


ASSIGNED = "assigned"
"""The activity of a notification telling a user a role was given to them (LD8)."""


class Channel(enum.Enum):
    """How a notification should reach its recipient (CT3)."""

    PUSH = "push"
    """A push message: the recipient's profile allows push."""
    IN_APP = "in_app"
    """An in-app message or popup."""


@frozen
class Activity:
    """A kind of thing that happens to a record, and which roles hear of it.

    Attributes:
        name: the activity's name (``"note_added"``, ``"invoice_paid"``, ...).
        roles: the roles whose holders hear of it; None for every role marked notified.
    """

    name: str = field(validator=an_id)
    roles: frozenset[str] | None = field(default=None, converter=_some_names, validator=an_optional_name_set)


@frozen
class Notification:
    """One message for one user about one thing that happened to a record.

    Attributes:
        key: the idempotency key, from the event and the recipient: a host drops a key it has seen.
        recipient: the id of the user to tell.
        record: the record it is about.
        activity: what happened: `ASSIGNED` or an activity's name.
        actor: who did it; None when the host did, or when the actor is of another tenant (LD7).
        at: when it happened.
        channel: push or in-app, from the recipient's profile (CT3).
    """

    key: str = field(validator=a_key)
    recipient: str = field(validator=an_id)
    record: RecordRef = field(validator=one_of(RecordRef))
    activity: str = field(validator=an_id)
    actor: str | None = field(validator=an_optional_id)
    at: datetime = field(validator=a_moment)
    channel: Channel = field(validator=one_of(Channel))


@frozen
class OutboxEntry:
    """A notification in the outbox, with how often delivering it failed and what became of it (X7).

    Attributes:
        notification: what to deliver.
        attempts: how often delivering it failed.
        delivered: whether the notifier acknowledged it.
        dead: whether it failed `dispatch`'s `max_attempts` times and waits in the dead letters for
            `Ownership.retry_dead`; dispatch passes it over until then.
        next_attempt_at: the moment before which dispatch does not try it again after a failure (backoff); None
            when it may be tried at once.
    """

    notification: Notification = field(validator=one_of(Notification))
    attempts: int = field(default=0, validator=lambda _entry, _attribute, value: _check_attempts(value))
    delivered: bool = field(default=False, validator=a_flag)
    dead: bool = field(default=False, validator=a_flag, kw_only=True)
    next_attempt_at: datetime | None = field(default=None, validator=an_optional_moment, kw_only=True)

    @property
    def pending(self) -> bool:
        """Whether dispatch still has to deliver it: neither delivered nor dead."""
        return not self.delivered and not self.dead


def _check_attempts(attempts: object) -> None:
    """Refuse attempts that are no count of failed deliveries: negative, a bool, not a whole number."""
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 0 <= attempts <= BIGGEST:
        raise InvalidValueError(f"An outbox entry's attempts are a whole number of at least 0, not {attempts!r}.")


@frozen
class Dispatched:
    """What one `dispatch` did: the keys delivered, the keys that failed, and of those the ones now dead letters.

    A failed key that is not in `dead` stays pending, to be tried again after its backoff.
    """

    delivered: tuple[str, ...]
    failed: tuple[str, ...]
    dead: tuple[str, ...] = field(default=(), kw_only=True)


class Notifier(Protocol):
    """The host's delivery of notifications: push, e-mail, in-app, ... (one method; a batch at a time)."""

    def deliver(self, notifications: Sequence[Notification]) -> Collection[str] | None:
        """Deliver a batch.

        Returns:
            The keys of the notifications it could not deliver, to be tried again; None or
            empty when it delivered them all. Raising delivers none of the batch.
        """
        ...


_UNQUOTED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-"
"""What `quote` leaves as it is: a part made only of these is its own quoting, told without calling it."""


def key(*parts: str) -> str:
    """Return a key made of `parts`: each quoted, joined by ``/``, so no two sets of parts give one key."""
    # A fan-out to a tenant's every employee builds thousands of keys at once; most parts need no quoting.
    return "/".join(part if not part.strip(_UNQUOTED) else quote(part, safe="") for part in parts)


def readable_position(history: Sequence[Event], position: int, tenant: str) -> int:
    """Return the place of the event at `position` in a record's `history` among the events `tenant` may read (LD7).

    It counts the events before it that are not private to another tenant, so a key built from it grows
    with what the tenant's own users may read of the record, and tells nothing of another tenant's private
    changes. It is stable, as history only grows, and tells apart the events the tenant may read.
    """
    return sum(1 for event in history[:position] if event.private_to in (None, tenant))


def notification_for(
    recipient: User, record: RecordRef, activity: str, *, actor: User | None, at: datetime, position: int
) -> Notification:
    """Return the notification that tells `recipient` of the event at `position` in their tenant's view (X7, CT3, LD7).

    `position` is the event's place among the events of the record the recipient's tenant may read
    (`readable_position`), so the key reveals nothing of another tenant's private events. The key names
    the record, that place and the recipient, so it is the same however often it is written; the
    channel follows the recipient's profile; an actor of another tenant than the recipient's reads None.
    """
    return Notification(
        key=key(record.kind, record.id, str(position), recipient.id),
        recipient=recipient.id,
        record=record,
        activity=activity,
        actor=actor.id if actor is not None and actor.tenant == recipient.tenant else None,
        at=at,
        channel=Channel.PUSH if recipient.profile.push else Channel.IN_APP,
    )
