"""A state machine that proves a repository agrees with the in-memory one on every read (X8).

The contract suite (`ownership.testing.contract`) holds a repository to each
promise of the port, one at a time. This machine holds it to all of them
together, the way `Ownership` uses them: it runs one random sequence of public
use cases on two `Ownership`s with the same rulebook, clock and ids, one over a
`MemoryRepository` and one over the host's repository, and after every step it
checks that they agree::

    from ownership.testing.machine import RepositoryAgreement

    class MyRepositoryAgreement(RepositoryAgreement):
        def make_repository(self):
            return MyRepository(fresh_database())

    TestMyRepositoryAgreement = MyRepositoryAgreement.TestCase

In a pytest test that gets its repositories from a fixture, build the machine
with `agreement` and run it with ``hypothesis.stateful.run_state_machine_as_test``.

What must agree: each step's outcome (the same result, or the same error with
the same message); then `Ownership.snapshot` (everything stored: records,
holders, history, outbox, settings); what `visible` and `can` answer for every
user, kind and record; every record's `holders` and `history` as each tenant
taking part sees it; each tenant's `audit`, and what its first user finds with
`find` and counts with `counts_by_holder` and `counts_by_status`, kind by kind;
and what the notifier was handed. A disagreement fails the step with both answers.

The steps start from a world of `worlds()` under `RepositoryAgreement.rulebook`
(by default deals of `presets.account_managers`, leads of
`presets.lead_exchange` and the contacts of `presets.contact_desk`), then add
tenants' users, groups and members, let time pass, create records, give and
take roles, share and accept leads, move statuses, number records, record
activities, dispatch notifications, hand over a user's holdings, reassign,
regroup and delete; valid calls mostly, and some that must be refused.
"""

import math
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from attrs import frozen
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ownership import presets
from ownership.adapters.memory import MemoryRepository
from ownership.clock import FakeClock, counted_ids
from ownership.distribution import LeastLoad, RoundRobin, Rule, ToGroup
from ownership.model import EVERYONE, Assignee, GroupKind, Record, RecordRef
from ownership.policy import ACTIONS, Rulebook
from ownership.ports import Repository
from ownership.segments import Criterion, held_by, labelled, named, status_in, unassigned
from ownership.service import Ownership, Snapshot
from ownership.testing.notifier import RecordingNotifier
from ownership.testing.strategies import _features_named, worlds

DEFAULT_RULEBOOK = presets.account_managers().only("deal") | presets.lead_exchange() | presets.contact_desk()
"""Deals with a mandatory responsible and a switched second one, private colleagues on shared leads, and contacts
assigned to users, competences or everyone, moving through their lifecycle and gathered in contact groups."""

_GHOST = "ghost"
"""An id no tenant, user, group or record has: calls naming it must be refused alike."""
_T = TypeVar("_T")
_NEW_USERS = ("new-ann", "new-ben")
_NEW_GROUPS = ("new-team", "new-desk")
_RECORD_IDS = tuple(f"R-{n}" for n in range(1, 10))
_NAMES = ("Müller GmbH", "Straße 5", "50%_off", "Acme Lamps")
_LABELS = ("north", "south", "web")


def _mostly(likely: Sequence[_T], others: Sequence[_T]) -> st.SearchStrategy[_T]:
    """Nine draws in ten from `likely`, if it has any; the rest from `others`, which must have some.

    A step draws several values, and each one off the likely path mostly makes the step a refusal; nine in ten
    keeps most steps doing what they say, and still refuses one in a few. One flat `sampled_from`, each likely
    value repeated to weigh nine in ten together: cheap to draw, and it shrinks towards the first likely value.
    """
    if not likely:
        return st.sampled_from(others)
    common = math.gcd(9 * len(others), len(likely))
    return st.sampled_from([*likely] * (9 * len(others) // common) + [*others] * (len(likely) // common))


def _tracks_records(machine: "RepositoryAgreement") -> bool:
    """Whether the in-memory side tracks any record: the steps on records wait for one."""
    return bool(machine.state.records)


@frozen
class _Outcome:
    """What one call did: returned a value, or raised an error of a type with a message."""

    value: Any = None
    error: str | None = None
    message: str = ""

    def __str__(self) -> str:
        return f"raised {self.error}: {self.message}" if self.error is not None else f"returned {self.value!r}"


def _outcome(call: Callable[[], object]) -> _Outcome:
    try:
        return _Outcome(call())
    except Exception as error:  # every outcome, a refusal or a storage failure, is compared
        return _Outcome(error=type(error).__name__, message=str(error))


class RepositoryAgreement(RuleBasedStateMachine):
    """Runs the same use cases over the in-memory repository and yours, and checks that every read agrees.

    Subclass it and define `make_repository`; run it with ``YourSubclass.TestCase``
    (unittest, pytest) or ``run_state_machine_as_test(YourSubclass)``. Set
    `rulebook` on the subclass to run your own rules instead of the default.
    Close what your repository holds open (an engine, a connection) in
    ``teardown``, which runs after each sequence of steps.
    """

    rulebook: ClassVar[Rulebook] = DEFAULT_RULEBOOK
    """The rules both `Ownership`s keep."""

    def make_repository(self) -> Repository:
        """Return a new, empty repository to test; a host's subclass defines this one hook."""
        raise NotImplementedError("define make_repository() to return a new, empty repository")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.notifiers = (RecordingNotifier(fail_every=3), RecordingNotifier(fail_every=3))
        self.reference = self._ownership(MemoryRepository(), self.notifiers[0])
        self.subject = self._ownership(self.make_repository(), self.notifiers[1])
        self.state = self.reference.snapshot()
        self.steps: list[str] = []

    def _ownership(self, repository: Repository, notifier: RecordingNotifier) -> Ownership:
        return Ownership(self.rulebook, repository, clock=self.clock, ids=counted_ids(), notifier=notifier)

    # --- running a call on both sides ------------------------------------------------------------------

    def _agree(self, what: str, ours: object, yours: object) -> None:
        if ours != yours:
            raise AssertionError(
                f"after {len(self.steps)} steps ({'; '.join(self.steps[-3:]) or 'none'}), {what} disagrees:\n"
                f"  the in-memory repository: {ours}\n"
                f"  yours:                    {yours}"
            )

    def _both(self, what: str, call: Callable[[Ownership], object]) -> _Outcome:
        """Make `call` on both sides; they must return equal values, or raise the same error with the same message."""
        ours = _outcome(lambda: call(self.reference))
        yours = _outcome(lambda: call(self.subject))
        self._agree(what, ours, yours)
        return ours

    def _do(self, use_case: str, *args: object, **kwargs: object) -> None:
        """One step: a minute later, make the call `use_case(*args, **kwargs)` on both sides; they must agree."""
        what = _call(use_case, args, kwargs)
        self.steps.append(what)
        self.clock.advance(minutes=1)
        self._both(what, lambda own: getattr(own, use_case)(*args, **kwargs))

    # --- what to draw from ----------------------------------------------------------------------------

    def _tenant(self, data: st.DataObject) -> str:
        return data.draw(_mostly([t.id for t in self.state.tenants], [_GHOST]), label="tenant")

    def _user(self, data: st.DataObject, label: str = "user") -> str:
        """Mostly an active user, sometimes any user, rarely no one's id."""
        active = [u.id for u in self.state.users if u.active]
        return data.draw(_mostly(active, [*(u.id for u in self.state.users), _GHOST]), label=label)

    def _actor(self, data: st.DataObject, ref: RecordRef | None = None) -> str:
        """Mostly an active admin or holder of a tenant taking part in the record, sometimes anyone."""
        record = next((r for r in self.state.records if r.ref == ref), None)
        held = {a.assignee.id for a in self.state.assignments if a.record == ref}
        likely = [
            u.id
            for u in self.state.users
            if u.active and (record is None or u.tenant in record.tenants) and (u.admin or u.id in held)
        ]
        return data.draw(_mostly(likely, [*(u.id for u in self.state.users), _GHOST]), label="actor")

    def _group(self, data: st.DataObject) -> str:
        return data.draw(_mostly([g.id for g in self.state.groups], [_GHOST]), label="group")

    def _record(self, data: st.DataObject, label: str = "record") -> RecordRef:
        refs = [r.ref for r in self.state.records]
        return data.draw(_mostly(refs, [RecordRef(self.rulebook.kinds[0], _GHOST)]), label=label)

    def _records(self, data: st.DataObject) -> list[RecordRef]:
        """One to three records picked by hand, mostly tracked ones."""
        refs = [r.ref for r in self.state.records] or [RecordRef(self.rulebook.kinds[0], _GHOST)]
        return data.draw(st.lists(st.sampled_from(refs), min_size=1, max_size=3, unique=True), label="records")

    def _role(self, data: st.DataObject, ref: RecordRef) -> str:
        names = [r.name for r in self.rulebook.policy(ref.kind).roles] if ref.kind in self.rulebook.kinds else []
        return data.draw(_mostly(names, ["no_such_role"]), label="role")

    def _assignees(self) -> list[Assignee]:
        return [
            *(Assignee.user(u.id) for u in self.state.users),
            *(Assignee.group(g.id) for g in self.state.groups),
            EVERYONE,
        ]

    def _assignee(self, data: st.DataObject, ref: RecordRef, role: str, label: str = "assignee") -> Assignee:
        """Mostly one the role of the record takes: an active user or a group of a tenant taking part, or everyone.

        Sometimes any user or group, everyone, or no one's id: what the role refuses must be refused alike.
        """
        record = next((r for r in self.state.records if r.ref == ref), None)
        policy = self.rulebook.policy(ref.kind) if ref.kind in self.rulebook.kinds else None
        taken = policy.role(role) if policy is not None and role in {r.name for r in policy.roles} else None
        likely: list[Assignee] = []
        if record is not None and taken is not None:
            likely += [
                Assignee.user(u.id) for u in self.state.users if taken.users and u.active and u.tenant in record.tenants
            ]
            likely += [
                Assignee.group(g.id) for g in self.state.groups if g.kind in taken.groups and g.tenant in record.tenants
            ]
            likely += [EVERYONE] if taken.everyone else []
        return data.draw(_mostly(likely, [*self._assignees(), Assignee.user(_GHOST)]), label=label)

    def _holder(self, data: st.DataObject, ref: RecordRef, role: str, label: str = "holder") -> Assignee:
        """Mostly someone who holds the role, sometimes anyone."""
        held = [a.assignee for a in self.state.assignments if a.record == ref and a.role == role]
        return data.draw(_mostly(held, self._assignees()), label=label)

    def _kind(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(self.rulebook.kinds), label="kind")

    # --- the steps ------------------------------------------------------------------------------------

    @initialize(data=st.data())
    def start_from_a_world(self, data: st.DataObject) -> None:
        """Both sides begin with one world of `worlds()`, written through the use cases."""
        world = data.draw(worlds(rulebook=self.rulebook, max_records=5), label="world")
        self.clock.now = world.at
        self.steps.append("building a world")
        self._both("building the world", world.fill)

    @precondition(lambda self: not {u.id for u in self.state.users} >= set(_NEW_USERS))
    @rule(data=st.data(), admin=st.booleans(), active=st.booleans())
    def add_user(self, data: st.DataObject, admin: bool, active: bool) -> None:
        """Add a user, some admins, some inactive; an id taken already is refused."""
        tenant, id = self._tenant(data), data.draw(st.sampled_from(_NEW_USERS), label="id")
        self._do("add_user", tenant, id.title(), id=id, admin=admin, active=active)

    @rule(data=st.data(), active=st.booleans(), admin=st.none() | st.booleans())
    def update_user(self, data: st.DataObject, active: bool, admin: bool | None) -> None:
        """Deactivate or reactivate a user, or change their admin right."""
        user = self._user(data)
        self._do("update_user", user, active=active, admin=admin)

    @precondition(lambda self: not {g.id for g in self.state.groups} >= set(_NEW_GROUPS))
    @rule(data=st.data(), kind=st.sampled_from(GroupKind))
    def add_group(self, data: st.DataObject, kind: GroupKind) -> None:
        """Add a group of any kind."""
        tenant, id = self._tenant(data), data.draw(st.sampled_from(_NEW_GROUPS), label="id")
        self._do("add_group", tenant, id.title(), kind.value, id=id)

    @rule(data=st.data(), hours=st.none() | st.integers(-2, 48))
    def add_member(self, data: st.DataObject, hours: int | None) -> None:
        """Link a user to a group, for good or until a moment (some past)."""
        group, user = self._group(data), self._user(data)
        until = None if hours is None else self.clock.now + timedelta(hours=hours)
        self._do("add_member", group, user, until=until)

    @rule(data=st.data())
    def remove_member(self, data: st.DataObject) -> None:
        """Unlink a user from a group."""
        group, user = self._group(data), self._user(data)
        self._do("remove_member", group, user)

    @rule(data=st.data())
    def configure_tenant(self, data: st.DataObject) -> None:
        """Change a tenant's plan or switches: roles behind a feature appear and disappear."""
        tenant = self._tenant(data)
        plan = data.draw(st.none() | st.sampled_from([*(p.name for p in self.rulebook.plans), _GHOST]), label="plan")
        features = st.sampled_from(_features_named(self.rulebook) or [_GHOST])
        switches = data.draw(st.none() | st.frozensets(features), label="switches")
        self._do("configure_tenant", tenant, plan=plan, switches=switches)

    @rule(hours=st.integers(1, 48))
    def time_passes(self, hours: int) -> None:
        """Let hours pass: memberships run out by themselves."""
        self.steps.append(f"{hours} hours pass")
        self.clock.advance(hours=hours)

    @rule(data=st.data(), manual=st.booleans())
    def create(self, data: st.DataObject, manual: bool) -> None:
        """Create a record by a user or the host, with some holders named; auto-assignment fills what it can."""
        kind = self._kind(data)
        policy = self.rulebook.policy(kind)
        actor = data.draw(st.none() | st.just(self._actor(data)), label="actor")
        tenant = data.draw(st.none() | st.just(self._tenant(data)), label="home") if actor else self._tenant(data)
        id = data.draw(st.sampled_from(_RECORD_IDS), label="id")
        named_roles = data.draw(st.lists(st.sampled_from([r.name for r in policy.roles] or ["none"]), max_size=2))
        anyone = _mostly(self._assignees(), [Assignee.user(_GHOST)])
        holders = {r: data.draw(st.lists(anyone, max_size=2), label=r) for r in named_roles}
        status = (
            data.draw(st.none() | st.sampled_from(policy.lifecycle.names), label="status") if policy.lifecycle else None
        )
        name = data.draw(st.none() | st.sampled_from(_NAMES), label="name")
        labels = data.draw(st.frozensets(st.sampled_from(_LABELS), max_size=2), label="labels")
        self._do(
            "create",
            kind,
            actor=actor,
            tenant=tenant,
            id=id,
            holders=holders,
            manual=manual,
            name=name,
            status=status,
            labels=labels,
        )

    @precondition(_tracks_records)
    @rule(data=st.data())
    def assign(self, data: st.DataObject) -> None:
        """Give a role to someone: handed over if it has one holder, added if several."""
        ref = self._record(data)
        role = self._role(data, ref)
        who, actor = self._assignee(data, ref, role), self._actor(data, ref)
        self._do("assign", ref, role, who, actor=actor)

    @precondition(_tracks_records)
    @rule(data=st.data())
    def unassign(self, data: st.DataObject) -> None:
        """Take a role from a holder; a mandatory role keeps its minimum."""
        ref = self._record(data)
        role = self._role(data, ref)
        who, actor = self._holder(data, ref, role), self._actor(data, ref)
        self._do("unassign", ref, role, who, actor=actor)

    @precondition(_tracks_records)
    @rule(data=st.data())
    def replace(self, data: st.DataObject) -> None:
        """Hand one holder's part of a role to someone else in one step."""
        ref = self._record(data)
        role = self._role(data, ref)
        old, new, actor = self._holder(data, ref, role), self._assignee(data, ref, role, "new"), self._actor(data, ref)
        self._do("replace", ref, role, old, new, actor=actor)

    @precondition(_tracks_records)
    @rule(data=st.data(), back=st.booleans())
    def claim_or_release(self, data: st.DataObject, back: bool) -> None:
        """Take work from a team's pool, or put it back."""
        ref = self._record(data)
        role, actor = self._role(data, ref), self._actor(data, ref)
        self._do("release" if back else "claim", ref, role, actor=actor)

    @precondition(_tracks_records)
    @rule(data=st.data())
    def share_and_accept(self, data: st.DataObject) -> None:
        """Offer a record to another tenant; a user of that tenant may accept it, and take its private roles."""
        ref = self._record(data)
        tenant, actor = self._tenant(data), self._actor(data, ref)
        self._do("share", ref, tenant, actor=actor)
        if data.draw(st.booleans(), label="accept"):
            taker = self._user(data, "acceptor")
            self._do("accept", ref, actor=taker)

    @precondition(_tracks_records)
    @rule(data=st.data(), confirmed=st.booleans())
    def set_status(self, data: st.DataObject, confirmed: bool) -> None:
        """Move a record along its lifecycle; some ways must be confirmed, some are none."""
        refs = [r.ref for r in self.state.records]
        moving = [ref for ref in refs if self.rulebook.policy(ref.kind).lifecycle is not None]
        ref = data.draw(_mostly(moving, refs), label="record")
        lifecycle = self.rulebook.policy(ref.kind).lifecycle
        status = data.draw(st.sampled_from([*(lifecycle.names if lifecycle else ()), _GHOST]), label="status")
        actor = data.draw(st.none() | st.just(self._actor(data, ref)), label="actor")
        self._do("set_status", ref, status, actor=actor, confirmed=confirmed)

    @precondition(_tracks_records)
    @rule(data=st.data())
    def update_record(self, data: st.DataObject) -> None:
        """Rename or relabel a record, as the host's own record changed."""
        ref = self._record(data)
        name = data.draw(st.none() | st.sampled_from(_NAMES), label="name")
        labels = data.draw(st.none() | st.frozensets(st.sampled_from(_LABELS), max_size=2), label="labels")
        actor = data.draw(st.none() | st.just(self._actor(data, ref)), label="actor")
        self._do("update_record", ref, actor=actor, name=name, labels=labels)

    @rule(data=st.data(), next=st.integers(0, 3))
    def number(self, data: st.DataObject, next: int) -> None:
        """Set a tenant's number range for a kind, or number a record from it or by hand; a number is never twice."""
        what = data.draw(st.sampled_from(["range", "draw", "by hand"]), label="numbering")
        if what == "range":
            tenant, kind = self._tenant(data), self._kind(data)
            self._do("set_number_range", tenant, kind, prefix="K-", width=3, next=next)
            return
        ref = self._record(data)
        number = None if what == "draw" else data.draw(st.sampled_from(["K-001", "K-002", "N-1"]), label="number")
        actor = data.draw(st.none() | st.just(self._actor(data, ref)), label="actor")
        self._do("set_number", ref, number, actor=actor)

    @precondition(_tracks_records)
    @rule(data=st.data())
    def record_activity(self, data: st.DataObject) -> None:
        """Record an activity: its holders hear of it through the outbox."""
        ref = self._record(data)
        policy = self.rulebook.policy(ref.kind)
        known = [a.name for a in policy.activities] if policy.activities is not None else ["note_added"]
        activity = data.draw(st.sampled_from([*known, presets.CHAT_MESSAGE, _GHOST]), label="activity")
        actor = data.draw(st.none() | st.just(self._actor(data, ref)), label="actor")
        self._do("record_activity", ref, activity, actor=actor)

    @rule(limit=st.integers(1, 4))
    def dispatch(self, limit: int) -> None:
        """Hand pending notifications to the notifier, which fails every third call; failures stay pending."""
        self._do("dispatch", limit=limit)

    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        """Hand every holding of a user to a successor of their tenant, all or none."""
        leaving = self._user(data, "leaving")
        others = [u.id for u in self.state.users if u.active and u.id != leaving]
        successor = data.draw(_mostly(others, [leaving, _GHOST]), label="successor")
        actor = data.draw(st.none() | st.just(self._actor(data)), label="actor")
        self._do("transfer", leaving, successor, actor=actor)

    @precondition(_tracks_records)
    @rule(data=st.data(), replacing=st.booleans())
    def reassign(self, data: st.DataObject, replacing: bool) -> None:
        """Hand a role of several records picked by hand to one assignee, in one unit of work."""
        picked = self._records(data)
        role = self._role(data, picked[0])
        to, actor = self._assignee(data, picked[0], role, "to"), self._actor(data, picked[0])
        old = self._holder(data, picked[0], role) if replacing else None
        self._do("reassign", picked, role, to, actor=actor, replacing=old)

    @precondition(_tracks_records)
    @rule(data=st.data(), joining=st.booleans())
    def regroup(self, data: st.DataObject, joining: bool) -> None:
        """Put records into a record group, or take them out; only a collecting kind groups records."""
        group = self._record(data, "record group")
        picked = self._records(data)
        actor = self._actor(data, group)
        self._do("add_to_group" if joining else "remove_from_group", group, picked, actor=actor)

    @precondition(_tracks_records)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """Stop tracking a record for good: its holders, history and pending notifications go too."""
        ref = self._record(data)
        actor = self._actor(data, ref)
        self._do("delete", [ref], actor=actor)

    @rule(data=st.data())
    def set_auto_assign(self, data: st.DataObject) -> None:
        """Set a tenant's auto-assignment for a kind: turns, the least loaded, or a group itself."""
        tenant, kind = self._tenant(data), self._kind(data)
        role = self._role(data, RecordRef(kind, _GHOST))
        group = self._group(data)
        shapes: list[Sequence[Rule]] = [[], [RoundRobin(role, group)], [LeastLoad(role, group)], [ToGroup(role, group)]]
        rules = data.draw(st.sampled_from(shapes), label="rules")
        self._do("set_auto_assign", tenant, kind, rules)

    # --- what must agree after every step ---------------------------------------------------------------

    @invariant()
    def every_read_agrees(self) -> None:
        """The stored state, and every read of it for every user, kind and record, agree on both sides.

        An action whose rule is the same as another's (edit and assign default to view) is asked once.
        """
        snapshot = self._ask("snapshot")
        self.state = snapshot.value if isinstance(snapshot.value, Snapshot) else self.state
        self._agree("what the notifier was handed", self.notifiers[0].sent, self.notifiers[1].sent)
        actions = {kind: self._actions(kind) for kind in self.rulebook.kinds}
        for user in self.state.users:
            for kind in self.rulebook.kinds:
                for action in actions[kind]:
                    self._ask("visible", user.id, kind, action=action, limit=1_000)
            for record in self.state.records:
                for action in actions[record.kind]:
                    self._ask("can", user.id, action, record.ref)
        for record in self.state.records:
            self._record_reads(record)
        for tenant in self.state.tenants:
            self._tenant_reads(tenant.id)

    def _record_reads(self, record: Record) -> None:
        """A record's history and holders, as its home tenant and as users of each tenant taking part see them."""
        seeing = [u.id for t in sorted(record.tenants) for u in self.state.users if u.tenant == t]
        for viewer in [None, *seeing[:3]]:
            self._ask("history", record.ref, viewer=viewer)
            for role in self.rulebook.policy(record.kind).roles:
                self._ask("holders", record.ref, role.name, viewer=viewer)

    def _tenant_reads(self, tenant: str) -> None:
        """A tenant's audit, and what its first user finds and counts of each kind."""
        self._ask("audit", tenant)
        first = next((u.id for u in self.state.users if u.tenant == tenant), None)
        if first is None:
            return
        for kind in self.rulebook.kinds:
            for where in self._criteria(first, kind):
                self._ask("find", first, kind, where, limit=1_000)
            self._ask("counts_by_status", first, kind)
            for role in self.rulebook.policy(kind).roles:
                self._ask("counts_by_holder", first, kind, role.name)

    def _actions(self, kind: str) -> list[str]:
        """The actions on `kind` whose rules differ: each rule is asked about once."""
        rules = self.rulebook.policy(kind)
        return [a for n, a in enumerate(ACTIONS) if rules.rule(a) not in [rules.rule(b) for b in ACTIONS[:n]]]

    def _ask(self, read: str, *args: object, **kwargs: object) -> _Outcome:
        """Ask both sides the read `read` with these arguments; they must answer alike."""
        return self._both(_call(read, args, kwargs), lambda own: getattr(own, read)(*args, **kwargs))

    def _criteria(self, user: str, kind: str) -> list[Criterion]:
        """A few criteria over the kind's roles, of every node: holders, no holders, names, statuses, labels."""
        policy = self.rulebook.policy(kind)
        found: list[Criterion] = [held_by(user) | (named("ü") & ~labelled("north"))]
        if policy.roles:
            first_status = policy.lifecycle.names[:1] if policy.lifecycle is not None else ()
            found.append(unassigned(policy.roles[0].name) & ~status_in(*first_status))
        return found


def _shown(value: object) -> str:
    """An argument as a call reads in a message: a string quoted, a record as its kind and id, criteria as they read."""
    if isinstance(value, list | tuple):
        return f"[{', '.join(map(_shown, value))}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Assignee):
        return repr(str(value))
    return repr(value) if isinstance(value, str | bool | int | frozenset) or value is None else str(value)


def _call(name: str, args: Sequence[object], kwargs: dict[str, object]) -> str:
    """A call as it reads in a message: ``assign(deal R-1, 'responsible', 'user acme-ada', actor='acme-bob')``."""
    return f"{name}({', '.join([*map(_shown, args), *(f'{k}={_shown(v)}' for k, v in kwargs.items())])})"


def agreement(make_repository: Callable[[], Repository]) -> type[RepositoryAgreement]:
    """Return a `RepositoryAgreement` whose `make_repository` calls `make_repository`.

    For a pytest test whose repositories come from a fixture::

        def test_my_repository_agrees(my_repositories):
            run_state_machine_as_test(agreement(my_repositories))
    """

    class Agreement(RepositoryAgreement):
        def make_repository(self) -> Repository:
            return make_repository()

    return Agreement
