"""Domain events: immutable facts about a record, kept as its history (X2).

Every event names the record, the acting user (None when the host acted, and
in a history read by another tenant than the actor's), the moment, and
`private_to`: the one tenant allowed to read it, or None when every tenant
taking part in the record may (LD7).
"""

from datetime import datetime

from attrs import field, frozen

from ownership.model import (
    Assignee,
    RecordRef,
    a_level,
    a_moment,
    an_id,
    an_optional_id,
    an_optional_moment,
    one_of,
)


@frozen
class RecordCreated:
    """The library began tracking a record in its home tenant."""

    record: RecordRef = field(validator=one_of(RecordRef))
    tenant: str = field(validator=an_id)
    actor: str | None = field(validator=an_optional_id)
    at: datetime = field(validator=a_moment)
    private_to: str | None = field(default=None, validator=an_optional_id)


@frozen
class Assigned:
    """An assignee began holding a role, in `tenant`'s slot."""

    record: RecordRef = field(validator=one_of(RecordRef))
    role: str = field(validator=an_id)
    assignee: Assignee = field(validator=one_of(Assignee))
    tenant: str = field(validator=an_id)
    actor: str | None = field(validator=an_optional_id)
    at: datetime = field(validator=a_moment)
    private_to: str | None = field(default=None, validator=an_optional_id)


@frozen
class Unassigned:
    """An assignee stopped holding a role, in `tenant`'s slot."""

    record: RecordRef = field(validator=one_of(RecordRef))
    role: str = field(validator=an_id)
    assignee: Assignee = field(validator=one_of(Assignee))
    tenant: str = field(validator=an_id)
    actor: str | None = field(validator=an_optional_id)
    at: datetime = field(validator=a_moment)
    private_to: str | None = field(default=None, validator=an_optional_id)


@frozen
class RecordShared:
    """A record was offered to another tenant (a forwarded lead, LD7)."""

    record: RecordRef = field(validator=one_of(RecordRef))
    tenant: str = field(validator=an_id)
    actor: str | None = field(validator=an_optional_id)
    at: datetime = field(validator=a_moment)
    private_to: str | None = field(default=None, validator=an_optional_id)


@frozen
class ShareAccepted:
    """A tenant accepted a record offered to it (LD6)."""

    record: RecordRef = field(validator=one_of(RecordRef))
    tenant: str = field(validator=an_id)
    actor: str | None = field(validator=an_optional_id)
    at: datetime = field(validator=a_moment)
    private_to: str | None = field(default=None, validator=an_optional_id)


@frozen
class ActivityRecorded:
    """Something happened to a record that its holders may need to hear of (a note, a reply, ...)."""

    record: RecordRef = field(validator=one_of(RecordRef))
    activity: str = field(validator=an_id)
    tenant: str = field(validator=an_id)
    actor: str | None = field(validator=an_optional_id)
    at: datetime = field(validator=a_moment)
    private_to: str | None = field(default=None, validator=an_optional_id)


@frozen
class StatusChanged:
    """A record moved from one status of its kind's lifecycle to another (CT1)."""

    record: RecordRef = field(validator=one_of(RecordRef))
    source: str | None = field(validator=an_optional_id)
    target: str = field(validator=an_id)
    tenant: str = field(validator=an_id)
    actor: str | None = field(validator=an_optional_id)
    at: datetime = field(validator=a_moment)
    private_to: str | None = field(default=None, validator=an_optional_id)


@frozen
class AccessGranted:
    """A record was shared with a user or group at a level, for good or `until` a moment (`Ownership.grant`).

    Private to the tenant of the user or group: the grant is that tenant's business.
    """

    record: RecordRef = field(validator=one_of(RecordRef))
    assignee: Assignee = field(validator=one_of(Assignee))
    level: str = field(validator=a_level)
    until: datetime | None = field(validator=an_optional_moment)
    tenant: str = field(validator=an_id)
    actor: str | None = field(validator=an_optional_id)
    at: datetime = field(validator=a_moment)
    private_to: str | None = field(default=None, validator=an_optional_id)


@frozen
class AccessRevoked:
    """A record's grant to a user or group was taken back (`Ownership.revoke`), before or after it ended."""

    record: RecordRef = field(validator=one_of(RecordRef))
    assignee: Assignee = field(validator=one_of(Assignee))
    tenant: str = field(validator=an_id)
    actor: str | None = field(validator=an_optional_id)
    at: datetime = field(validator=a_moment)
    private_to: str | None = field(default=None, validator=an_optional_id)


Event = (
    RecordCreated
    | Assigned
    | Unassigned
    | RecordShared
    | ShareAccepted
    | ActivityRecorded
    | StatusChanged
    | AccessGranted
    | AccessRevoked
)
"""Every kind of event a record's history holds."""

AssignmentEvent = Assigned | Unassigned
"""The events that change who holds a role."""
