"""What a host needs to test its own integration with `ownership` (X8).

Importing this package needs the ``testing`` extra (hypothesis).
"""

from ownership.clock import FakeClock
from ownership.testing.notifier import RecordingNotifier
from ownership.testing.strategies import (
    activities,
    assignees,
    assignments,
    events,
    group_kinds,
    groups,
    memberships,
    moments,
    notifications,
    outbox_entries,
    plans,
    policies,
    profiles,
    record_refs,
    records,
    roles,
    rulebooks,
    tenants,
    users,
)

__all__ = [
    "FakeClock",
    "RecordingNotifier",
    "activities",
    "assignees",
    "assignments",
    "events",
    "group_kinds",
    "groups",
    "memberships",
    "moments",
    "notifications",
    "outbox_entries",
    "plans",
    "policies",
    "profiles",
    "record_refs",
    "records",
    "roles",
    "rulebooks",
    "tenants",
    "users",
]
