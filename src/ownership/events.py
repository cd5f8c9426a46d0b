"""Domain events: immutable facts about a record, kept as its history (X2).

Every event names the record, the acting user (None when the host acted, and
in a history read by another tenant than the actor's), the moment, and
`private_to`: the one tenant allowed to read it, or None when every tenant
taking part in the record may (LD7).
"""

from datetime import datetime

from attrs import frozen

from ownership.model import Assignee, RecordRef


@frozen
class RecordCreated:
    """The library began tracking a record in its home tenant."""

    record: RecordRef
    tenant: str
    actor: str | None
    at: datetime
    private_to: str | None = None


@frozen
class Assigned:
    """An assignee began holding a role, in `tenant`'s slot."""

    record: RecordRef
    role: str
    assignee: Assignee
    tenant: str
    actor: str | None
    at: datetime
    private_to: str | None = None


@frozen
class Unassigned:
    """An assignee stopped holding a role, in `tenant`'s slot."""

    record: RecordRef
    role: str
    assignee: Assignee
    tenant: str
    actor: str | None
    at: datetime
    private_to: str | None = None


@frozen
class RecordShared:
    """A record was offered to another tenant (a forwarded lead, LD7)."""

    record: RecordRef
    tenant: str
    actor: str | None
    at: datetime
    private_to: str | None = None


@frozen
class ShareAccepted:
    """A tenant accepted a record offered to it (LD6)."""

    record: RecordRef
    tenant: str
    actor: str | None
    at: datetime
    private_to: str | None = None


@frozen
class ActivityRecorded:
    """Something happened to a record that its holders may need to hear of (a note, a reply, ...)."""

    record: RecordRef
    activity: str
    tenant: str
    actor: str | None
    at: datetime
    private_to: str | None = None


@frozen
class StatusChanged:
    """A record moved from one status of its kind's lifecycle to another (CT1)."""

    record: RecordRef
    source: str | None
    target: str
    tenant: str
    actor: str | None
    at: datetime
    private_to: str | None = None


Event = RecordCreated | Assigned | Unassigned | RecordShared | ShareAccepted | ActivityRecorded | StatusChanged
"""Every kind of event a record's history holds."""

AssignmentEvent = Assigned | Unassigned
"""The events that change who holds a role."""
