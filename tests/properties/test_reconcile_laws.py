"""The laws of `reconcile` (X8), over generated host states, against a plain model of what the rows say.

A host keeps deals in its own table: an owner (one, mandatory), co-owners
(any number) and a caretaker desk (groups). Generated worlds: tenant Acme with
an admin and a handful of users, some of whom have left, two caretaker groups
with members; tenant Globex with deals of its own. Generated host tables are
dicts id -> row over a small alphabet of ids, so that two of them overlap: a
row names some of the roles (the owner always, for a deal it adds), and may
give a name and labels. Between the two tables Acme's admin changes holders by
hand (`assign`, `unassign`): of the row roles, and of watchers, a role no row names.

From any state A (reconciled in first), reconciling table B:

1. returns a drift whose added, removed, changed ids and each change's
   assigned and unassigned pairs (and name and labels) are what `_expected`,
   a plain function of A and B written here, says; it is applied;
2. leaves every role of every row's deal held as `_after` says (B's holders
   for a role B's row names, as it was for one it does not), and no other deal
   of the kind tracked in Acme;
3. leaves nothing to do: reconciling B again is in step and changes nothing;
4. is what a dry run of it said it would be, and the dry run changed nothing;
5. tells no one (the outbox does not grow), though told it would have;
6. leaves the watchers where the admin put them, on every deal that stays;
7. never touches Globex's deals, their holders or their history.

They run on the in-memory repository, and laws 1-3 on SQLite too.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from ownership import (
    Access,
    Assignee,
    AssigneeKind,
    Assignment,
    Drift,
    Event,
    GroupKind,
    HostRecord,
    Ownership,
    Policy,
    Record,
    RecordRef,
    Role,
    Rulebook,
)
from ownership.access import holds, in_caretaker_group, is_admin
from ownership.adapters.memory import MemoryRepository
from ownership.ports import Repository
from ownership.snapshot import Snapshot
from ownership.testing import FakeClock, counted_ids

pytest_plugins = ("sql_repositories",)

KIND = "deal"
ROW_ROLES = ("owner", "co_owner", "desk")  # the roles the host's rows keep
EXTRA_ROLE = "watcher"  # `ownership`'s own: no row names it
NOTIFIED_USER_ROLES = ("owner", "co_owner")
RULEBOOK = Rulebook(
    (
        Policy(
            KIND,
            (
                Role("owner", min=1, max=1, grants_access=True, notified=True),
                Role("co_owner", max=None, grants_access=True, notified=True),
                Role("desk", max=None, users=False, groups={GroupKind.CARETAKER}, grants_access=True, notified=True),
                Role(EXTRA_ROLE, max=None, notified=True),
            ),
            access=Access(view=is_admin | holds("owner") | holds("co_owner") | in_caretaker_group("desk")),
        ),
    )
)
TENANT, OTHER = "acme", "globex"
ADMIN = "admin"
IDS = ("D-1", "D-2", "D-3", "D-4", "D-5", "D-6")  # few, so that two tables share most of them
USERS = ("u0", "u1", "u2", "u3", "u4")
GROUPS = ("north", "south")
NAMES = ("Fleet renewal", "Pilot", "Rollout")
LABELS = ("vip", "north", "fair")
OTHER_IDS = ("G-1", "G-2", "G-3")  # Globex's: no Acme row may name them (that is refused, not passed by)
MOSTLY = st.integers(0, 3).map(lambda n: n < 3)  # True three times in four, and True as it shrinks


# --- host tables, as plain data ------------------------------------------------------------------------------


class Row(NamedTuple):
    """One row of the host's table: holders of the roles it names, and its name and labels, None to leave them."""

    holders: Mapping[str, tuple[Assignee, ...]]
    name: str | None
    labels: frozenset[str] | None


Table = dict[str, Row]


class Scenario(NamedTuple):
    """A generated world and what is done to it: Globex's table, tables A and B of Acme, the admin's edits between."""

    inactive: frozenset[str]
    members: Mapping[str, tuple[str, ...]]
    other: Table
    a: Table
    b: Table
    edits: tuple[tuple[str, bool, str, str], ...]  # (deal id of A, assign or unassign, role, active user id)
    whole: bool  # whether a single holder is given bare rather than in a list


@st.composite
def _rows(draw: st.DrawFn, users: Sequence[str], groups: Sequence[str], *, known: bool) -> Row:
    """A valid row: a deal it adds names its one owner; one it knows may leave the owner unnamed."""
    holders: dict[str, tuple[Assignee, ...]] = {}
    for role in draw(st.permutations(ROW_ROLES)):
        if role == "owner":
            owner = draw(st.sampled_from(users)) if not known or draw(st.booleans()) else None
            if owner is not None:
                holders[role] = (Assignee.user(owner),)
        elif role == "co_owner" and draw(st.booleans()):
            holders[role] = tuple(
                Assignee.user(u) for u in draw(st.lists(st.sampled_from(users), unique=True, max_size=3))
            )
        elif role == "desk" and groups and draw(st.booleans()):
            holders[role] = tuple(Assignee.group(g) for g in draw(st.lists(st.sampled_from(groups), unique=True)))
    name = draw(st.none() | st.sampled_from(NAMES))
    labels = draw(st.none() | st.frozensets(st.sampled_from(LABELS)))
    return Row(holders, name, labels)


@st.composite
def _tables(draw: st.DrawFn, ids: Sequence[str], users: Sequence[str], groups: Sequence[str], known: Table) -> Table:
    """A table over `ids`: most of the `known` table's ids kept (to change or not), others added or left out."""
    chosen = [id for id in ids if draw(MOSTLY if id in known else st.booleans())]
    return {id: draw(_rows(users, groups, known=id in known)) for id in draw(st.permutations(chosen))}


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    users = USERS[: draw(st.integers(1, len(USERS)))]
    inactive = frozenset(u for u in users if draw(st.integers(0, 3)) == 0)
    members = {g: tuple(u for u in users if draw(st.booleans())) for g in GROUPS}
    other = draw(_tables(OTHER_IDS, ("gus",), ("g-desk",), {}))
    a = draw(_tables(IDS, users, GROUPS, {}))
    b = draw(_tables(IDS, users, GROUPS, a))
    active = [ADMIN, *(u for u in users if u not in inactive)]
    edit = st.tuples(
        MOSTLY,
        st.sampled_from([EXTRA_ROLE, EXTRA_ROLE, *NOTIFIED_USER_ROLES]),
        st.sampled_from(active),
    )
    edits = [(id, *draw(edit)) for id in sorted(a) for _ in range(draw(st.integers(0, 2)))]
    return Scenario(inactive, members, other, a, b, tuple(draw(st.permutations(edits))), draw(st.booleans()))


def host_rows(table: Table, *, whole: bool = False) -> list[HostRecord]:
    """The table as `reconcile` takes it; with `whole`, a single holder is given bare, as a host may."""
    rows = []
    for id, row in table.items():
        holders: dict[str, Any] = {
            role: given[0] if whole and len(given) == 1 else list(given) for role, given in row.holders.items()
        }
        rows.append(HostRecord(id, holders, name=row.name, labels=row.labels))
    return rows


# --- the model: what `ownership` tracks after a table, and the drift it should find -------------------------


class Tracked(NamedTuple):
    """What `ownership` should track of one deal: the holders of each row role, its name and its labels."""

    holders: Mapping[str, frozenset[Assignee]]
    name: str | None
    labels: frozenset[str]


State = dict[str, Tracked]


def _after(state: State, table: Table) -> State:
    """What is tracked after reconciling `table` from `state`: its rows' deals, each role as the row says or as was."""
    after = {}
    for id, row in table.items():
        before = state.get(id, Tracked({role: frozenset() for role in ROW_ROLES}, None, frozenset()))
        after[id] = Tracked(
            {role: frozenset(row.holders[role]) if role in row.holders else before.holders[role] for role in ROW_ROLES},
            before.name if row.name is None else row.name,
            before.labels if row.labels is None else row.labels,
        )
    return after


Change = tuple[list[tuple[str, Assignee]], list[tuple[str, Assignee]], tuple[str | None, str | None] | None, bool]
Summary = tuple[tuple[str, ...], tuple[str, ...], dict[str, Change]]


def _expected(state: State, table: Table) -> Summary:
    """The drift from `state` to `table`: ids added, ids removed, and for each deal that changed, how."""
    after = _after(state, table)
    changed: dict[str, Change] = {}
    for id in sorted(state.keys() & table.keys()):
        was, now = state[id], after[id]
        assigned = sorted((role, a) for role in ROW_ROLES for a in now.holders[role] - was.holders[role])
        unassigned = sorted((role, a) for role in ROW_ROLES for a in was.holders[role] - now.holders[role])
        name = (was.name, now.name) if was.name != now.name else None
        labels = was.labels != now.labels
        if assigned or unassigned or name is not None or labels:
            changed[id] = (assigned, unassigned, name, labels)
    return tuple(sorted(table.keys() - state.keys())), tuple(sorted(state.keys() - table.keys())), changed


def _summary(drift: Drift) -> Summary:
    """A drift as `_expected` states one; a change's pairs are compared as sorted lists, so twice is not once."""
    assert all(d.status is None for d in drift.changed), "no row gives a status"
    return (
        drift.added,
        drift.removed,
        {d.id: (sorted(d.assigned), sorted(d.unassigned), d.name, d.labels) for d in drift.changed},
    )


def _check_exact(drift: Drift, state: State, table: Table) -> None:
    """Law 1: the drift is the model's, applied, in order of id."""
    expected = _expected(state, table)
    if state:
        for part, ids in zip(("adds", "removes", "changes"), expected, strict=True):
            event(f"table B {part} {'no' if not ids else 'some'} deals")
    assert (drift.kind, drift.tenant, drift.applied) == (KIND, TENANT, True)
    assert [d.id for d in drift.changed] == list(expected[2]), "changes come once each, by id"
    assert _summary(drift) == expected


def _check_tracked(own: Ownership, state: State) -> None:
    """Law 2: every role of every deal held as the model says, and no other deal of the kind tracked in Acme."""
    for id, tracked in state.items():
        ref = RecordRef(KIND, id)
        for role in ROW_ROLES:
            assert sorted(own.holders(ref, role)) == sorted(tracked.holders[role]), (id, role)
        record = own.record(KIND, id)
        assert (record.tenant, record.name, record.labels) == (TENANT, tracked.name, tracked.labels), id
    assert _visible(own) == sorted(state)
    snapshot = own.snapshot()
    assert sorted(r.id for r in snapshot.records if r.kind == KIND and r.tenant == TENANT) == sorted(state)
    forgotten = {RecordRef(KIND, id) for id in IDS} - {RecordRef(KIND, id) for id in state}
    assert not [a for a in snapshot.assignments if a.record in forgotten], "a removed deal's holders are forgotten"
    assert not [e for e in snapshot.events if e.record in forgotten], "and so is its history"


def _visible(own: Ownership) -> list[str]:
    """Every deal Acme's admin lists, walking the pages two at a time."""
    listed: list[str] = []
    cursor = None
    while True:
        page = own.visible(ADMIN, KIND, limit=2, after=cursor)
        listed += [r.id for r in page.records]
        if page.cursor is None:
            return listed
        cursor = page.cursor


# --- the world ---------------------------------------------------------------------------------------------------


def build(scenario: Scenario, repository: Callable[[], Repository]) -> Ownership:
    """Acme's and Globex's people and groups, and Globex's deals, reconciled in from its own table."""
    own = Ownership(RULEBOOK, repository(), clock=FakeClock(), ids=counted_ids())
    own.add_tenant(TENANT)
    own.add_user(TENANT, "Admin", id=ADMIN, admin=True)
    for user in USERS:
        own.add_user(TENANT, user.upper(), id=user)
    for group, members in scenario.members.items():
        own.add_group(TENANT, group.title(), GroupKind.CARETAKER, id=group)
        for user in members:
            own.add_member(group, user)
    for user in sorted(scenario.inactive):
        own.update_user(user, active=False)
    own.add_tenant(OTHER)
    own.add_user(OTHER, "Gus", id="gus")
    own.add_group(OTHER, "G-Desk", GroupKind.CARETAKER, id="g-desk")
    own.add_member("g-desk", "gus")
    own.reconcile(KIND, host_rows(scenario.other), tenant=OTHER)
    return own


Watchers = dict[str, frozenset[Assignee]]


def reconciled_a(scenario: Scenario, repository: Callable[[], Repository]) -> tuple[Ownership, State, Watchers]:
    """The world with table A reconciled in (law 1 from nothing), then the admin's edits; what is tracked now."""
    note(f"A = {scenario.a}")
    note(f"B = {scenario.b}")
    note(f"edits = {scenario.edits}")
    own = build(scenario, repository)
    first = own.reconcile(KIND, host_rows(scenario.a, whole=scenario.whole), tenant=TENANT)
    _check_exact(first, {}, scenario.a)
    state = _after({}, scenario.a)
    watchers: Watchers = {}
    for id, give, role, user in scenario.edits:
        ref, who = RecordRef(KIND, id), Assignee.user(user)
        held = watchers.get(id, frozenset()) if role == EXTRA_ROLE else state[id].holders[role]
        if give:
            own.assign(ref, role, who, actor=ADMIN)
            now = frozenset({who}) if role == "owner" else held | {who}  # the owner is handed over
        elif who in held and role != "owner":  # the owner may not be left without one
            own.unassign(ref, role, who, actor=ADMIN)
            now = held - {who}
        else:
            continue
        if role == EXTRA_ROLE:
            watchers[id] = now
        else:
            state[id] = state[id]._replace(holders={**state[id].holders, role: now})
    _check_tracked(own, state)
    return own, state, watchers


def _of_other_tenant(snapshot: Snapshot) -> tuple[list[Record], list[Assignment], list[Event]]:
    """Everything the snapshot holds of Globex's deals: the deals, their holders, their history."""
    refs = {r.ref for r in snapshot.records if r.tenant == OTHER}
    return (
        [r for r in snapshot.records if r.ref in refs],
        [a for a in snapshot.assignments if a.record in refs],
        [e for e in snapshot.events if e.record in refs],
    )


# --- laws 1-3: exact, what the rows say, nothing left to do ------------------------------------------------------


def _check_exact_tracked_idempotent(repository: Callable[[], Repository], scenario: Scenario) -> None:
    own, state, _ = reconciled_a(scenario, repository)
    calls: list[tuple[int, int]] = []

    drift = own.reconcile(
        KIND,
        host_rows(scenario.b, whole=scenario.whole),
        tenant=TENANT,
        progress=lambda done, total: calls.append((done, total)),
    )

    _check_exact(drift, state, scenario.b)
    after = _after(state, scenario.b)
    _check_tracked(own, after)
    n = len(scenario.b)
    assert calls == sorted(set(calls)), "done only grows"
    assert all(total == n for _, total in calls)
    assert calls[-1:] == ([(n, n)] if n else []), "the last report says all rows were compared"

    before = own.snapshot()
    again = own.reconcile(KIND, host_rows(scenario.b), tenant=TENANT)
    assert again.in_step, again
    assert (again.added, again.removed, again.changed, again.applied) == ((), (), (), True)
    assert own.snapshot() == before, "a run with nothing to change writes nothing"
    _check_tracked(own, after)


@given(scenario=scenarios())
def test_x8_reconcile_reports_the_exact_drift_records_what_the_rows_say_and_then_is_in_step_on_memory(
    scenario: Scenario,
) -> None:
    _check_exact_tracked_idempotent(MemoryRepository, scenario)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_x8_reconcile_reports_the_exact_drift_records_what_the_rows_say_and_then_is_in_step_on_sqlite(
    sqlite_memory_repositories: Callable[[], Repository], scenario: Scenario
) -> None:
    _check_exact_tracked_idempotent(sqlite_memory_repositories, scenario)


# --- law 4: a dry run --------------------------------------------------------------------------------------------


@given(scenario=scenarios())
def test_x8_a_dry_run_reports_the_drift_the_run_then_finds_and_changes_nothing(scenario: Scenario) -> None:
    own, state, _ = reconciled_a(scenario, MemoryRepository)
    before = own.snapshot()

    preview = own.reconcile(KIND, host_rows(scenario.b), tenant=TENANT, dry_run=True)

    assert own.snapshot() == before, "a dry run changes nothing"
    assert preview.applied is False
    assert _summary(preview) == _expected(state, scenario.b)
    drift = own.reconcile(KIND, host_rows(scenario.b), tenant=TENANT)
    assert (preview.added, preview.removed, preview.changed) == (drift.added, drift.removed, drift.changed)
    assert (preview.kind, preview.tenant) == (drift.kind, drift.tenant)


# --- law 5: quiet unless told ------------------------------------------------------------------------------------


@given(scenario=scenarios())
def test_x8_reconcile_tells_no_one_unless_told_to(scenario: Scenario) -> None:
    quiet = build(scenario, MemoryRepository)
    told = len(quiet.outbox())
    quiet.reconcile(KIND, host_rows(scenario.a), tenant=TENANT)
    assert len(quiet.outbox()) == told, "reconciling A told someone"
    quiet.reconcile(KIND, host_rows(scenario.b), tenant=TENANT, notify=False)
    assert len(quiet.outbox()) == told, "reconciling B told someone"

    # The same, told to tell: each active user who comes to hold a notified role hears of it, so the outbox had
    # something to hold back above.
    loud = build(scenario, MemoryRepository)
    told = len(loud.outbox())
    loud.reconcile(KIND, host_rows(scenario.a), tenant=TENANT)
    drift = loud.reconcile(KIND, host_rows(scenario.b), tenant=TENANT, notify=True)
    newcomers = {
        a.id
        for d in drift.changed
        for role, a in d.assigned
        if role in NOTIFIED_USER_ROLES and a.kind is AssigneeKind.USER
    }
    newcomers |= {
        a.id for id in drift.added for role in NOTIFIED_USER_ROLES for a in scenario.b[id].holders.get(role, ())
    }
    newcomers -= scenario.inactive
    recipients = {e.notification.recipient for e in loud.outbox()[told:]}
    assert newcomers <= recipients, "told to tell, reconciling tells each active newcomer to a notified role"


# --- law 6: roles no row names are `ownership`'s own -------------------------------------------------------------


@given(scenario=scenarios())
def test_x8_reconcile_leaves_the_holders_of_a_role_no_row_names(scenario: Scenario) -> None:
    own, _, watchers = reconciled_a(scenario, MemoryRepository)
    event(f"{'some' if any(watchers.values()) else 'no'} deals have watchers")

    own.reconcile(KIND, host_rows(scenario.b), tenant=TENANT)

    for id in scenario.b:
        assert set(own.holders(RecordRef(KIND, id), EXTRA_ROLE)) == watchers.get(id, frozenset()), id


# --- law 7: another tenant's deals -------------------------------------------------------------------------------


@given(scenario=scenarios())
def test_x8_reconcile_never_touches_another_tenants_records(scenario: Scenario) -> None:
    own = build(scenario, MemoryRepository)
    theirs = _of_other_tenant(own.snapshot())
    assert len(theirs[0]) == len(scenario.other)

    own.reconcile(KIND, host_rows(scenario.a), tenant=TENANT)
    own.reconcile(KIND, host_rows(scenario.b), tenant=TENANT, notify=True)
    own.reconcile(KIND, [], tenant=TENANT)  # Acme keeps no deals at all now

    assert _of_other_tenant(own.snapshot()) == theirs
    assert own.reconcile(KIND, host_rows(scenario.other), tenant=OTHER).in_step
