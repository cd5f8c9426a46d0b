"""`Ownership`: the one object a host talks to, assembled from one room per area of the use cases.

Every method that changes state runs in one unit of work: it reads what it
needs, checks every rule, and only then writes the new values and the events
that record them. A refusal raises an `OwnershipError` before anything is
written, and the unit of work discards whatever an unexpected error leaves.

The methods live in `ownership.usecases`, one module per area; this module
only puts them together, and names the values they take and return.
"""

from ownership.arguments import guarded
from ownership.model import AssigneeLike, GroupLike, HoldersLike, IdPage, Page, RecordLike, Row, UserLike
from ownership.snapshot import Setting, Snapshot
from ownership.usecases._unit import Progress
from ownership.usecases.audit import Audit, Finding
from ownership.usecases.auto_assign import AutoAssigning
from ownership.usecases.bulk import Bulk, Selection
from ownership.usecases.directory import Directory
from ownership.usecases.holders import Holders
from ownership.usecases.notifications import Notifications
from ownership.usecases.people import DirectoryDrift, HostUser, People, UserDrift
from ownership.usecases.questions import Permitted, Questions
from ownership.usecases.reads import Reads
from ownership.usecases.reconcile import Drift, HostRecord, Reconciling, RecordDrift
from ownership.usecases.records import Records
from ownership.usecases.search import Search
from ownership.usecases.sharing import Sharing
from ownership.usecases.snapshots import Snapshots
from ownership.usecases.status import Statuses

__all__ = [
    "AssigneeLike",
    "DirectoryDrift",
    "Drift",
    "Finding",
    "GroupLike",
    "HoldersLike",
    "HostRecord",
    "HostUser",
    "Ownership",
    "IdPage",
    "Page",
    "Permitted",
    "Progress",
    "RecordDrift",
    "RecordLike",
    "Row",
    "Selection",
    "Setting",
    "Snapshot",
    "UserDrift",
    "UserLike",
]


@guarded
class Ownership(
    Directory,
    People,
    Records,
    Holders,
    Bulk,
    AutoAssigning,
    Statuses,
    Search,
    Notifications,
    Reads,
    Questions,
    Audit,
    Snapshots,
    Reconciling,
    Sharing,
):
    """Who is responsible for which record, kept right as people and records change.

    Args:
        rulebook: the policies of the record kinds and the tenants' plans.
        repository: where state is kept (`MemoryRepository` for the embedded default).
        clock: returns the current moment; tests pass a fake one.
        ids: returns a fresh id for a tenant, user, group or record created without one.
        notifier: where `dispatch` delivers notifications from the outbox, if anywhere.
        retries: how often a use case that changes state is run again when its unit of work met
            another at the same moment, before `ConflictError` reaches the caller.
    """
