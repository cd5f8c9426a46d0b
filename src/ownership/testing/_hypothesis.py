"""The hook hypothesis runs when it is imported: ``st.from_type`` of every public value type draws from our strategies.

``pyproject.toml`` names `_hypothesis_setup_hook` under the ``hypothesis``
entry point, so a host's ``st.from_type(User)`` works without importing
`ownership.testing`. The hook runs inside ``import hypothesis``, which may
itself run inside ``import ownership.testing``, before the strategies are
defined; so the hook reads only the public types from `ownership`, and each
registered function looks its strategy up in `ownership.testing.strategies`
when hypothesis first asks for it. Nothing heavy is imported: no pytest, no
SQLAlchemy, not the contract or the state machine.
"""

from collections.abc import Callable
from typing import Any

# Each public value type of `ownership` and the strategy of `ownership.testing.strategies` that draws it.
# The unions (`Event`, `Rule`), the protocols, the errors and `Ownership` itself are not values to draw.
STRATEGIES = {
    "Access": "access_rules",
    "AccessGranted": "events",
    "AccessRevoked": "events",
    "Activity": "activities",
    "ActivityRecorded": "events",
    "Assigned": "events",
    "Assignee": "assignees",
    "Assignment": "assignments",
    "AssignActor": "auto_assigns",
    "AutoAssign": "auto_assigns",
    "AutoAssignment": "auto_assignments",
    "Criterion": "criteria",
    "Decision": "decisions",
    "DirectoryDrift": "directory_drifts",
    "Dispatched": "dispatch_reports",
    "Drift": "drifts",
    "Facts": "facts",
    "Finding": "findings",
    "Follower": "followers",
    "Grant": "grants",
    "Group": "groups",
    "HostRecord": "host_records",
    "HostUser": "host_users",
    "LeastLoad": "least_loads",
    "Lifecycle": "lifecycles",
    "Membership": "memberships",
    "Notification": "notifications",
    "IdPage": "id_pages",
    "NumberRange": "number_ranges",
    "OutboxEntry": "outbox_entries",
    "Page": "pages",
    "Permitted": "permitted",
    "Plan": "plans",
    "Policy": "policies",
    "Predicate": "predicates",
    "Profile": "profiles",
    "Reason": "reasons",
    "Record": "records",
    "RecordCreated": "events",
    "RecordDrift": "record_drifts",
    "RecordRef": "record_refs",
    "RecordShared": "events",
    "Role": "roles",
    "RoundRobin": "round_robins",
    "Row": "rows",
    "Rulebook": "rulebooks",
    "Segment": "segments",
    "Setting": "tenant_settings",
    "ShareAccepted": "events",
    "Snapshot": "snapshots",
    "State": "states",
    "StatusChanged": "events",
    "Tenant": "tenants",
    "Territory": "territories",
    "ToGroup": "to_groups",
    "Transition": "transitions",
    "Unassigned": "events",
    "User": "users",
    "UserDrift": "user_drifts",
    "Viewer": "viewers",
}
"""The name of each registered type in `ownership`, and the name of the strategy that draws it."""


def _deferred(name: str) -> Callable[[type], Any]:
    """A function hypothesis calls with the type it is asked for: it returns the strategy `name` for it.

    An event class gets `events` of that class alone.
    """

    def strategy(wanted: type) -> Any:
        from ownership.testing import strategies  # noqa: PLC0415 - at first use, when every import is done

        if name == "events":
            return strategies.events(types=[wanted])
        return getattr(strategies, name)()

    return strategy


def _hypothesis_setup_hook() -> None:
    """Register a strategy for every public value type of `ownership` with ``st.register_type_strategy``."""
    from hypothesis import strategies as st  # noqa: PLC0415 - hypothesis is importing when this runs

    import ownership  # noqa: PLC0415 - only when hypothesis asks

    for type_name, strategy_name in STRATEGIES.items():
        st.register_type_strategy(getattr(ownership, type_name), _deferred(strategy_name))
