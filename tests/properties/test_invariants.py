"""Laws of the whole service, over random sequences of use cases in worlds built from the presets.

A `RuleBasedStateMachine` drives one `Ownership` through every use case that
changes holders, with valid and invalid arguments alike: unknown ids, inactive
users, users and groups of another tenant, the wrong kind of group, everyone,
actors of tenants that have no part in the record. Beside it runs a small
model of the state. Each call either succeeds or raises an `OwnershipError`;
the model says which it must be, and after every step the laws are checked:

- mandatory roles are never below their minimum in any slot where they apply (TL2, TL7, X3);
- no role holds more than its maximum, nor one assignee twice;
- every holder belongs to the tenant of its slot (LD2);
- every user was active when they began to hold a role (LD2);
- a refused call changes nothing (errors.py);
- what the model holds is what `holders` returns, for every record, role and
  viewer tenant, and the history replays to it (LD4, X2);
- no tenant reads another tenant's private holders or events (LD7).
"""

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from attrs import define, field
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ownership import (
    EVERYONE,
    AccessDeniedError,
    Assigned,
    Assignee,
    AssigneeKind,
    AssigneeKindError,
    ClaimError,
    DuplicateIdError,
    FeatureDisabledError,
    ForeignActorError,
    ForeignTenantError,
    GroupKind,
    InactiveUserError,
    MandatoryRoleError,
    NotHeldError,
    Ownership,
    OwnershipError,
    Policy,
    RecordRef,
    RestrictedStatusError,
    Role,
    Rulebook,
    ShareError,
    Snapshot,
    Tenant,
    TooManyHoldersError,
    Trigger,
    Unassigned,
    UnknownGroupError,
    UnknownKindError,
    UnknownPlanError,
    UnknownRecordError,
    UnknownRoleError,
    UnknownTenantError,
    UnknownUserError,
    presets,
)
from ownership.adapters.memory import MemoryRepository
from ownership.adapters.sql import SqlRepository
from ownership.lifecycle import ASSIGN
from ownership.ports import Repository
from ownership.testing import FakeClock

# The four presets one at a time, and composed: kinds both define ("contact", "ticket") are taken from one.
WORLDS: dict[str, Rulebook] = {
    "account_managers": presets.account_managers(),
    "lead_exchange": presets.lead_exchange(),
    "caretaker_groups": presets.caretaker_groups(),
    "contact_desk": presets.contact_desk(),
    "all four, tickets of account managers": (
        presets.account_managers().only("company", "deal", "invoice", "project", "ticket")
        | presets.lead_exchange()
        | presets.caretaker_groups().only("customer", "follow_up")
        | presets.contact_desk()
    ),
    "all four, tickets of caretaker groups": (
        presets.caretaker_groups()
        | presets.lead_exchange()
        | presets.contact_desk()
        | presets.account_managers().only("company", "deal", "project")
    ),
}
TENANTS = ("acme", "globex", "initech")
NOWHERE = "nowhere"  # a tenant id no tenant has
GHOST = "ghost"  # a user, group or record id nobody has
NO_ROLE = "no_such_role"
NO_KIND = "spaceship"
SWITCHES = (presets.SECOND_ACCOUNT_MANAGER, presets.SECOND_CARETAKER_GROUP, presets.PROJECTS, presets.TICKETS)
USER_IDS = ("ada", "bob", "cyd", "dee", "eve", "fay", "gus", "hal")
GROUP_IDS = ("north", "south", "east", "pool", "desk")
RECORD_IDS = ("R-1", "R-2", "R-3", "R-4")

_T = TypeVar("_T")
Refusals = set[type[OwnershipError]]
Key = tuple[RecordRef, str, str]
"""A slot of holders: the record, the role's name, and the tenant whose slot it is."""


def mostly(good: Sequence[_T], anything: Sequence[_T]) -> st.SearchStrategy[_T]:
    """Seven draws in eight from `good` (if there is any), the rest from `anything`: valid calls, and some invalid.

    One flat `sampled_from`: cheap to draw, and it shrinks towards the first good value.
    """
    if not good:
        return st.sampled_from(tuple(anything))
    weight = max(1, -(-7 * len(anything) // len(good)))
    return st.sampled_from((*good,) * weight + (*anything,))


SOME_TENANT = mostly(TENANTS, [NOWHERE])
"""Mostly a tenant of the world, sometimes one that does not exist."""


def founder(tenant: str) -> str:
    """The id of the active user every tenant starts with, who is the tenant's viewer in the laws."""
    return f"{tenant}-founder"


def find_role(policy: Policy, name: str) -> Role | None:
    """Return the policy's role called `name`, or None."""
    return next((role for role in policy.roles if role.name == name), None)


def slot_of(role: Role, home: str, tenant: str) -> str:
    """Whose slot `tenant` works on for `role`: its own for a private role (LD7), the home's otherwise."""
    return tenant if role.private else home


@define
class Person:
    """The model of a user: their tenant, and whether they are active now."""

    tenant: str
    active: bool


@define
class Tracked:
    """The model of a record: its kind, home, and the tenants it is shared with or offered to."""

    kind: str
    home: str
    status: str | None = None
    shared: set[str] = field(factory=set)
    offered: set[str] = field(factory=set)

    @property
    def tenants(self) -> set[str]:
        """The tenants taking part: the home and those that accepted."""
        return self.shared | {self.home}


@define
class Outcome:
    """What the model expects of a call: refusals it may raise (none: it must succeed) and the new holders."""

    refusals: Refusals = field(factory=set)
    holders: dict[Key, list[Assignee]] = field(factory=dict)


class AssignmentWorld(RuleBasedStateMachine):
    """Tenants, users, groups and records of one world, changed by random calls, checked against a model.

    Records are shared only when they are leads, as seed 002 forwards them;
    `test_holders_and_assignments_agree_for_every_viewer_tenant` shares every kind.
    """

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.rulebook = Rulebook()
        self.own = Ownership(self.rulebook, self.make_repository(), clock=self.clock)
        self.plans: dict[str, str | None] = {}
        self.switches: dict[str, frozenset[str]] = {}
        self.users: dict[str, Person] = {}
        self.groups: dict[str, tuple[str, GroupKind]] = {}
        self.members: dict[tuple[str, str], datetime | None] = {}
        self.records: dict[RecordRef, Tracked] = {}
        self.held: dict[Key, list[Assignee]] = {}
        # Every assignee a slot lost, oldest first: `release` hands work back to the last team in it.
        self.dropped: dict[Key, list[Assignee]] = {}

    def make_repository(self) -> Repository:
        """A new, empty repository for the world to live in."""
        return MemoryRepository()

    # --- the model's reading of the rules ---------------------------------------------------

    def features(self, tenant: str) -> frozenset[str]:
        """The features a tenant has in the model: its plan's and its switches."""
        return self.rulebook.features(Tenant(tenant, tenant, self.plans[tenant], self.switches[tenant]))

    def has(self, role: Role, tenant: str) -> bool:
        """Whether `role` exists for `tenant` (TL5, CG8, TL10)."""
        return role.requires is None or role.requires in self.features(tenant)

    def live_groups(self, user: str) -> set[str]:
        """The groups whose membership of `user` counts now (X5)."""
        now = self.clock()
        return {g for (g, u), until in self.members.items() if u == user and (until is None or now < until)}

    def actor_refusals(self, actor: str) -> tuple[Refusals, Person | None]:
        """Refusals of an acting user: unknown, or inactive (LD2)."""
        person = self.users.get(actor)
        if person is None:
            return {UnknownUserError}, None
        return (set() if person.active else {InactiveUserError}), person

    def assignee_refusals(self, assignee: Assignee, role: Role, slot: str) -> Refusals:
        """Refusals of an assignee for `role` in `slot`: unknown, of another tenant, inactive, of a wrong kind."""
        refusals: Refusals = set()
        if assignee.kind is AssigneeKind.USER:
            person = self.users.get(assignee.id)
            if person is None:
                return {UnknownUserError}
            if person.tenant != slot:  # told to the host as another tenant's, to a tenant's user as unknown
                refusals |= {ForeignTenantError, UnknownUserError}
            if not person.active:
                refusals.add(InactiveUserError)
            if not role.users:
                refusals.add(AssigneeKindError)
        elif assignee.kind is AssigneeKind.GROUP:
            group = self.groups.get(assignee.id)
            if group is None:
                return {UnknownGroupError}
            if group[0] != slot:  # as for a user of another tenant
                refusals |= {ForeignTenantError, UnknownGroupError}
            if group[1] not in role.groups:
                refusals.add(AssigneeKindError)
        elif not role.everyone:
            refusals.add(AssigneeKindError)
        return refusals

    def slot_refusals(self, ref: RecordRef, name: str, actor: str) -> tuple[Refusals, tuple[Role, Key, str] | None]:
        """Refusals of a change of holders before its assignee is read; and the role, slot and actor's tenant."""
        tracked = self.records.get(ref)
        if tracked is None:
            return {UnknownRecordError}, None
        refusals, person = self.actor_refusals(actor)
        if person is None:
            return refusals, None
        if person.tenant not in tracked.tenants:
            return refusals | {ForeignActorError}, None
        if person.active and not self.own.can(actor, "assign", ref):
            # Who may assign is the access layer's to decide, and proven elsewhere; here it is only asked.
            refusals.add(AccessDeniedError)
        role = find_role(self.rulebook.policy(tracked.kind), name)
        if role is None:
            return refusals | {UnknownRoleError}, None
        slot = slot_of(role, tracked.home, person.tenant)
        if not self.has(role, slot):
            refusals.add(FeatureDisabledError)
        return refusals, (role, (ref, role.name, slot), person.tenant)

    def count_refusals(
        self, policy: Policy, planned: dict[str, list[Assignee]], slot: str, *, private: bool
    ) -> Refusals:
        """Refusals of a new slot's holders: an assignee twice, more than max, fewer than min."""
        refusals: Refusals = set()
        for role in policy.roles:
            if not self.has(role, slot) or (private and not role.private):
                continue
            mine = planned.get(role.name, [])
            if len(set(mine)) != len(mine) or (role.max is not None and len(mine) > role.max):
                refusals.add(TooManyHoldersError)
            if len(mine) < role.min:
                refusals.add(MandatoryRoleError)
        return refusals

    # --- strategies over the current state -----------------------------------------------------

    def everyone_ids(self) -> list[str]:
        """Every user id the world has, and one nobody has."""
        return [*sorted(self.users), GHOST]

    def user_ids(self, tenant: str | None = None) -> st.SearchStrategy[str]:
        """Mostly a user of `tenant` (any tenant if None); sometimes any user, or one nobody has."""
        return mostly(sorted(u for u, p in self.users.items() if tenant in (None, p.tenant)), self.everyone_ids())

    def anyone(self) -> list[Assignee]:
        """Every assignee: known and unknown users and groups, and everyone."""
        return [
            *map(Assignee.user, self.everyone_ids()),
            *map(Assignee.group, [*sorted(self.groups), GHOST]),
            EVERYONE,
        ]

    def assignees(self, tenant: str | None, role: Role | None) -> st.SearchStrategy[Assignee]:
        """Mostly an assignee `role` takes in `tenant`'s slot; sometimes any: unknown, foreign, wrong kind."""
        if role is None:
            return mostly([], self.anyone())
        fitting = [
            *(Assignee.user(u) for u, p in sorted(self.users.items()) if role.users and p.tenant == tenant),
            *(Assignee.group(g) for g, (t, k) in sorted(self.groups.items()) if k in role.groups and t == tenant),
            *([EVERYONE] if role.everyone else []),
        ]
        return mostly(fitting, self.anyone())

    def likely_actors(self, ref: RecordRef | None = None) -> list[str]:
        """Active users of a tenant taking part in the record (any record if None)."""
        tracked = self.records.get(ref) if ref is not None else None
        return sorted(
            id for id, p in self.users.items() if p.active and (tracked is None or p.tenant in tracked.tenants)
        )

    def actors(self, ref: RecordRef | None = None) -> st.SearchStrategy[str]:
        """Mostly active users of a tenant taking part in the record; sometimes anyone or no one."""
        return mostly(self.likely_actors(ref), self.everyone_ids())

    def refs(self) -> st.SearchStrategy[RecordRef]:
        """A tracked record, or rarely one nobody tracks."""
        return mostly(sorted(self.records), [RecordRef(self.rulebook.kinds[0], GHOST)])

    def role_names(self, ref: RecordRef) -> st.SearchStrategy[str]:
        """A role of the record's kind, or rarely one it lacks."""
        kind = self.records[ref].kind if ref in self.records else ref.kind
        return mostly([r.name for r in self.rulebook.policy(kind).roles], [NO_ROLE])

    def candidates(self, ref: RecordRef, name: str, actor: str) -> st.SearchStrategy[Assignee]:
        """Assignees for the role `name` when `actor` changes the record's holders: mostly ones it takes."""
        tracked, person = self.records.get(ref), self.users.get(actor)
        role = find_role(self.rulebook.policy(ref.kind), name)
        if tracked is None or person is None or role is None:
            return self.assignees(None, None)
        return self.assignees(slot_of(role, tracked.home, person.tenant), role)

    def is_team(self, assignee: Assignee) -> bool:
        """Whether the assignee is a team, whose members can claim what it holds (CG10)."""
        return assignee.kind is AssigneeKind.GROUP and self.groups.get(assignee.id, ("", None))[1] is GroupKind.TEAM

    def holders_of(self, ref: RecordRef, name: str) -> list[Assignee]:
        """Everyone holding `name` on the record, in any slot: good candidates to unassign or replace."""
        return [a for (r, n, _), held in sorted(self.held.items()) if r == ref and n == name for a in held]

    # --- making the calls ----------------------------------------------------------------------

    def attempt(self, call: Callable[[], Any], expected: Outcome, actor: str | None = None) -> Any:
        """Make `call` and hold it to the model: refused exactly when expected, and then changing nothing.

        On success, every assignment that began is checked: the user it names
        was active, and it carries the actor and the moment of the call.
        """
        before = self.own.snapshot()
        refusal: OwnershipError | None = None
        try:
            result = call()
        except OwnershipError as error:
            refusal = error
        if refusal is not None:
            assert self.own.snapshot() == before, f"{refusal!r} refused the call, yet the state changed"
            assert expected.refusals, f"refused with {refusal!r}, but the model expects success"
            assert isinstance(refusal, tuple(expected.refusals)), (
                f"refused with {refusal!r}, but the model expects one of "
                f"{sorted(e.__name__ for e in expected.refusals)}"
            )
            return None
        assert not expected.refusals, (
            f"succeeded, but the model expects one of {sorted(e.__name__ for e in expected.refusals)}"
        )
        began = set(self.own.snapshot().assignments) - set(before.assignments)
        for assignment in began:
            if assignment.assignee.kind is AssigneeKind.USER:
                assert self.users[assignment.assignee.id].active, f"inactive holder assigned: {assignment}"
            assert assignment.since == self.clock(), f"{assignment} does not start at the moment of the call"
            assert assignment.actor == actor, f"{assignment} does not name its actor {actor!r}"
        for key, after in expected.holders.items():
            old = self.held.get(key, [])
            self.dropped.setdefault(key, []).extend(a for a in old if a not in after)
            self.held[key] = after
        return result

    def tick(self) -> None:
        """Move the clock on a minute, so every call happens at its own moment."""
        self.clock.advance(minutes=1)

    # --- building the world ----------------------------------------------------------------------

    @initialize(world=st.sampled_from(sorted(WORLDS)), data=st.data())
    def build_world(self, world: str, data: st.DataObject) -> None:
        """Three tenants on drawn plans and switches, each with an active founder in a team; some users and groups."""
        self.rulebook = WORLDS[world]
        counter = itertools.count(1)
        self.own = Ownership(
            self.rulebook, self.make_repository(), clock=self.clock, ids=lambda: f"auto-{next(counter)}"
        )
        plans = [None, *(p.name for p in self.rulebook.plans)]
        for tenant in TENANTS:
            plan = data.draw(st.sampled_from(plans), label=f"plan of {tenant}")
            switches = data.draw(st.frozensets(st.sampled_from(SWITCHES)), label=f"switches of {tenant}")
            made = self.own.add_tenant(tenant, plan=plan, switches=switches)
            assert made.plan == (plan or self.rulebook.default_plan)
            self.plans[tenant], self.switches[tenant] = made.plan, made.switches
            admin = data.draw(st.booleans(), label=f"founder of {tenant} is admin")
            self.own.add_user(tenant, f"Founder of {tenant}", id=founder(tenant), admin=admin)
            self.users[founder(tenant)] = Person(tenant, True)
            # Every tenant has a team its founder works in, so pools of work can be claimed (CG10).
            self.own.add_group(tenant, "Pool", GroupKind.TEAM, id=f"{tenant}-pool")
            self.own.add_member(f"{tenant}-pool", founder(tenant))
            self.groups[f"{tenant}-pool"] = (tenant, GroupKind.TEAM)
            self.members[(f"{tenant}-pool", founder(tenant))] = None
        staff = st.tuples(st.sampled_from(USER_IDS), st.sampled_from(TENANTS), st.booleans(), st.booleans())
        for id, tenant, active, personal in data.draw(st.lists(staff, max_size=5, unique_by=lambda s: s[0])):
            self.add_user(tenant, id, active, admin=False, personal=personal)
        teams = st.tuples(st.sampled_from(GROUP_IDS), st.sampled_from(TENANTS), st.sampled_from(GroupKind))
        for id, tenant, kind in data.draw(st.lists(teams, max_size=4, unique_by=lambda g: g[0])):
            self.add_group(tenant, id, kind)
        starts = st.tuples(st.sampled_from(self.rulebook.kinds), st.sampled_from(sorted(self.users)), st.booleans())
        for n, (kind, actor, manual) in enumerate(data.draw(st.lists(starts, max_size=4))):
            self.try_create(kind, RECORD_IDS[n], actor=actor, tenant=None, holders={}, manual=manual)

    # --- tenants, users, groups, memberships ----------------------------------------------------

    @rule(
        tenant=SOME_TENANT,
        plan=st.none() | st.sampled_from(("go", "move", "boost", "platinum")),
        switches=st.none() | st.frozensets(st.sampled_from(SWITCHES)),
    )
    def configure_tenant(self, tenant: str, plan: str | None, switches: frozenset[str] | None) -> None:
        """Change a tenant's plan or switches; an unknown tenant or plan is refused (TL5, CG8, TL10)."""
        self.tick()
        expected = Outcome()
        if tenant not in self.plans:
            expected.refusals.add(UnknownTenantError)
        if plan is not None and self.rulebook.plan(plan) is None:
            expected.refusals.add(UnknownPlanError)
        if self.attempt(lambda: self.own.configure_tenant(tenant, plan=plan, switches=switches), expected):
            self.plans[tenant] = plan if plan is not None else self.plans[tenant]
            self.switches[tenant] = switches if switches is not None else self.switches[tenant]

    @precondition(lambda self: not set(USER_IDS) <= set(self.users))
    @rule(
        tenant=SOME_TENANT,
        id=st.sampled_from(USER_IDS),
        active=st.booleans(),
        admin=st.booleans(),
        personal=st.booleans(),
    )
    def add_user(self, tenant: str, id: str, active: bool, admin: bool, personal: bool) -> None:
        """Add a user, some inactive, some with a personal caretaker group made with them (CG3)."""
        self.tick()
        expected = Outcome()
        if tenant not in self.plans:
            expected.refusals.add(UnknownTenantError)
        if id in self.users:
            expected.refusals.add(DuplicateIdError)

        def call() -> object:
            return self.own.add_user(
                tenant, id.title(), id=id, active=active, admin=admin, personal_caretaker_group=personal
            )

        if self.attempt(call, expected) is None:
            return
        self.users[id] = Person(tenant, active)
        group = self.own.personal_group(id)
        assert (group is not None) == personal, "a personal caretaker group exists exactly when asked for (CG3)"
        if group is not None:
            assert (group.tenant, group.kind, group.personal_of) == (tenant, GroupKind.CARETAKER, id)
            assert group.id not in self.groups
            self.groups[group.id] = (tenant, GroupKind.CARETAKER)
            self.members[(group.id, id)] = None

    @rule(data=st.data(), active=st.booleans())
    def set_activity(self, data: st.DataObject, active: bool) -> None:
        """Deactivate or reactivate a user; their holdings stay (X3). Founders stay active, to view."""
        self.tick()
        id = data.draw(mostly(sorted(set(self.users) & set(USER_IDS)), [GHOST]), label="user")
        expected = Outcome({UnknownUserError} if id not in self.users else set())
        if self.attempt(lambda: self.own.update_user(id, active=active), expected):
            self.users[id].active = active

    @precondition(lambda self: not set(GROUP_IDS) <= set(self.groups))
    @rule(tenant=SOME_TENANT, id=st.sampled_from(GROUP_IDS), kind=st.sampled_from(GroupKind))
    def add_group(self, tenant: str, id: str, kind: GroupKind) -> None:
        """Add a caretaker group, competence or team."""
        self.tick()
        expected = Outcome()
        if tenant not in self.plans:
            expected.refusals.add(UnknownTenantError)
        if id in self.groups:
            expected.refusals.add(DuplicateIdError)
        if self.attempt(lambda: self.own.add_group(tenant, id.title(), kind, id=id), expected):
            self.groups[id] = (tenant, kind)

    @precondition(lambda self: self.groups)
    @rule(data=st.data(), hours=st.none() | st.integers(1, 72))
    def add_member(self, data: st.DataObject, hours: int | None) -> None:
        """Link a user to a group, for good or as a deputy until a moment (CG5, X5)."""
        self.tick()
        group = data.draw(mostly(sorted(self.groups), [GHOST]), label="group")
        user = data.draw(self.user_ids(self.groups.get(group, (None,))[0]), label="user")
        until = self.clock() + timedelta(hours=hours) if hours is not None else None
        expected = Outcome()
        if group not in self.groups:
            expected.refusals.add(UnknownGroupError)
        if user not in self.users:
            expected.refusals.add(UnknownUserError)
        if not expected.refusals:
            if self.users[user].tenant != self.groups[group][0]:
                expected.refusals.add(ForeignTenantError)
            if not self.users[user].active:
                expected.refusals.add(InactiveUserError)
        if self.attempt(lambda: self.own.add_member(group, user, until=until), expected):
            self.members[(group, user)] = until

    @rule(hours=st.integers(1, 48))
    def time_passes(self, hours: int) -> None:
        """Let hours pass: deputies' memberships run out by themselves (X5)."""
        self.clock.advance(hours=hours)

    # --- records -------------------------------------------------------------------------------

    @rule(data=st.data(), id=st.sampled_from(RECORD_IDS), manual=st.booleans())
    def create(self, data: st.DataObject, id: str, manual: bool) -> None:
        """Create a record by a random actor or the host, by hand or not, with random initial holders."""
        self.tick()
        kind = data.draw(mostly(self.rulebook.kinds, [NO_KIND]), label="kind")
        actor = data.draw(mostly(self.likely_actors(), [None, *self.everyone_ids()]), label="actor")
        tenant = data.draw(mostly([None], [*TENANTS, NOWHERE]), label="tenant")
        home = tenant or (self.users[actor].tenant if actor in self.users else None)
        policy = self.rulebook.policy(kind) if kind in self.rulebook.kinds else Policy(kind)
        named = data.draw(st.lists(mostly([r.name for r in policy.roles], [NO_ROLE]), max_size=2, unique=True))
        holders = {
            name: data.draw(st.lists(self.assignees(home, find_role(policy, name)), max_size=2), label=name)
            for name in named
        }
        self.try_create(kind, id, actor=actor, tenant=tenant, holders=holders, manual=manual)

    def try_create(
        self,
        kind: str,
        id: str,
        *,
        actor: str | None,
        tenant: str | None,
        holders: dict[str, list[Assignee]],
        manual: bool,
    ) -> None:
        """Attempt `create` as the model expects, and track the record if it is made."""
        expected = self.expect_create(kind, id, actor=actor, tenant=tenant, holders=holders, manual=manual)
        if self.attempt(
            lambda: self.own.create(kind, actor=actor, tenant=tenant, id=id, holders=holders, manual=manual),
            expected,
            actor,
        ):
            home = tenant or self.users[actor or ""].tenant
            lifecycle = self.rulebook.policy(kind).lifecycle
            self.records[RecordRef(kind, id)] = Tracked(
                kind, home, lifecycle.start(manual=manual) if lifecycle else None
            )

    def expect_create(
        self,
        kind: str,
        id: str,
        *,
        actor: str | None,
        tenant: str | None,
        holders: dict[str, list[Assignee]],
        manual: bool,
    ) -> Outcome:
        """The model of `create`: every mandatory role filled, the creator auto-assigned by hand (TL2, LD6)."""
        if kind not in self.rulebook.kinds:
            return Outcome({UnknownKindError})
        policy = self.rulebook.policy(kind)
        refusals, person = self.actor_refusals(actor) if actor is not None else (set(), None)
        if actor is not None and person is None:
            return Outcome(refusals)
        home = tenant if tenant is not None else person.tenant if person is not None else None
        if home is None or home not in self.plans:
            return Outcome(refusals | {UnknownTenantError})
        if person is not None and person.tenant != home:
            refusals.add(ForeignActorError)
        if policy.requires is not None and policy.requires not in self.features(home):
            refusals.add(FeatureDisabledError)
        if RecordRef(kind, id) in self.records:
            refusals.add(DuplicateIdError)
        wanted = self.wanted(policy, holders, actor if manual else None, home)
        for name in wanted:
            role = find_role(policy, name)
            if role is None:
                return Outcome(refusals | {UnknownRoleError})
            if not self.has(role, home):
                refusals.add(FeatureDisabledError)
        for name, assignees in wanted.items():
            for one in assignees:
                refusals |= self.assignee_refusals(one, policy.role(name), home)
        refusals |= self.count_refusals(policy, wanted, home, private=False)
        return Outcome(refusals, {(RecordRef(kind, id), name, home): given for name, given in wanted.items() if given})

    def wanted(
        self, policy: Policy, holders: dict[str, list[Assignee]], creator: str | None, home: str
    ) -> dict[str, list[Assignee]]:
        """The holders a new record is to start with: those named, and the creator where a trigger says (LD6)."""
        wanted = {name: list(given) for name, given in holders.items()}
        for auto in policy.auto_assign:
            role = policy.role(auto.role)
            if creator is not None and auto.on is Trigger.CREATED and self.has(role, home):
                wanted.setdefault(role.name, [Assignee.user(creator)])
        return wanted

    @precondition(lambda self: any(r.kind == "lead" for r in self.records))
    @rule(data=st.data(), tenant=SOME_TENANT)
    def share(self, data: st.DataObject, tenant: str) -> None:
        """Offer a record to another tenant, as a principal forwards a lead to a partner (LD7)."""
        self.tick()
        shareable = sorted(ref for ref in self.records if ref.kind == "lead")
        ref = data.draw(st.sampled_from(shareable), label="record")
        actor = data.draw(self.actors(ref), label="actor")
        tracked = self.records[ref]
        refusals, person = self.actor_refusals(actor)
        if person is not None:
            if person.tenant != tracked.home:
                refusals.add(ForeignActorError)
            if tenant not in self.plans:
                refusals.add(UnknownTenantError)
            elif tenant in tracked.tenants or tenant in tracked.offered:
                refusals.add(ShareError)
        if self.attempt(lambda: self.own.share(ref, tenant, actor=actor), Outcome(refusals)):
            tracked.offered.add(tenant)

    @precondition(lambda self: any(r.offered for r in self.records.values()))
    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        """Accept a record offered to the actor's tenant; the acceptor gets the private roles so triggered (LD6)."""
        self.tick()
        ref = data.draw(st.sampled_from(sorted(r for r, t in self.records.items() if t.offered)), label="record")
        tracked = self.records[ref]
        offered = sorted(u for u, p in self.users.items() if p.tenant in tracked.offered)
        actor = data.draw(mostly(offered, self.everyone_ids()), label="actor")
        refusals, person = self.actor_refusals(actor)
        expected = Outcome(refusals)
        if person is not None:
            if person.tenant not in tracked.offered:
                expected.refusals.add(ShareError)
            else:
                policy = self.rulebook.policy(tracked.kind)
                planned = {
                    auto.role: [Assignee.user(actor)]
                    for auto in policy.auto_assign
                    if auto.on is Trigger.ACCEPTED
                    and policy.role(auto.role).private
                    and self.has(policy.role(auto.role), person.tenant)
                }
                expected.refusals |= self.count_refusals(policy, planned, person.tenant, private=True)
                expected.holders = {
                    (ref, name, person.tenant): [*self.held.get((ref, name, person.tenant), []), *given]
                    for name, given in planned.items()
                }
        if self.attempt(lambda: self.own.accept(ref, actor=actor), expected, actor):
            assert person is not None
            tracked.offered.discard(person.tenant)
            tracked.shared.add(person.tenant)

    # --- holders -------------------------------------------------------------------------------

    @precondition(lambda self: self.records)
    @rule(data=st.data())
    def assign(self, data: st.DataObject) -> None:
        """Give a role to a random assignee, by a random actor: handed over if single, added if several (LD5)."""
        self.tick()
        ref = data.draw(self.refs(), label="record")
        name = data.draw(self.role_names(ref), label="role")
        actor = data.draw(self.actors(ref), label="actor")
        new = data.draw(self.candidates(ref, name, actor), label="assignee")
        refusals, found = self.slot_refusals(ref, name, actor)
        expected = Outcome(refusals)
        if found is not None:
            role, key, _ = found
            expected.refusals |= self.assignee_refusals(new, role, key[2])
            held = self.held.get(key, [])
            if new in held:
                expected.holders = {key: held}
            elif role.max == 1 and held:
                expected.holders = {key: [*held[1:], new]}
            elif role.max is not None and len(held) >= role.max:
                expected.refusals.add(TooManyHoldersError)
            else:
                expected.holders = {key: [*held, new]}
        expected.refusals |= self.status_refusals(ref, found)
        self.attempt_change(lambda: self.own.assign(ref, name, new, actor=actor), expected, actor)

    @precondition(lambda self: self.records)
    @rule(data=st.data())
    def unassign(self, data: st.DataObject) -> None:
        """Take a role from a holder, or from someone who does not hold it (LD5, TL2)."""
        self.tick()
        ref = data.draw(self.refs(), label="record")
        name = data.draw(self.role_names(ref), label="role")
        held_anywhere = self.holders_of(ref, name)
        gone = data.draw(mostly(held_anywhere, self.anyone()), label="assignee")
        actor = data.draw(self.actors(ref), label="actor")
        refusals, found = self.slot_refusals(ref, name, actor)
        expected = Outcome(refusals)
        if found is not None:
            role, key, _ = found
            held = self.held.get(key, [])
            if gone not in held:
                expected.refusals.add(NotHeldError)
            elif len(held) - 1 < role.min:
                expected.refusals.add(MandatoryRoleError)
            expected.holders = {key: [a for a in held if a != gone]}
        self.attempt_change(lambda: self.own.unassign(ref, name, gone, actor=actor), expected, actor)

    @precondition(lambda self: self.records)
    @rule(data=st.data())
    def replace(self, data: st.DataObject) -> None:
        """Hand one holder's part to another assignee in one step (LD5, X3)."""
        self.tick()
        ref = data.draw(self.refs(), label="record")
        name = data.draw(self.role_names(ref), label="role")
        held_anywhere = self.holders_of(ref, name)
        old = data.draw(mostly(held_anywhere, self.anyone()), label="old")
        actor = data.draw(self.actors(ref), label="actor")
        new = data.draw(self.candidates(ref, name, actor), label="new")
        refusals, found = self.slot_refusals(ref, name, actor)
        expected = Outcome(refusals)
        if found is not None:
            role, key, _ = found
            held = self.held.get(key, [])
            if old not in held:
                expected.refusals.add(NotHeldError)
            expected.refusals |= self.assignee_refusals(new, role, key[2])
            if new != old and new in held and len(held) - 1 < role.min:
                expected.refusals.add(MandatoryRoleError)
            kept = [a for a in held if a != old] if new != old else held
            expected.holders = {key: kept if new in held else [*kept, new]}
        expected.refusals |= self.status_refusals(ref, found)
        self.attempt_change(lambda: self.own.replace(ref, name, old, new, actor=actor), expected, actor)

    @precondition(lambda self: self.records)
    @rule(data=st.data())
    def claim(self, data: st.DataObject) -> None:
        """Take work from a team's pool: the role passes from the team to the acting member (CG10)."""
        self.tick()
        pooled = sorted({(ref, name) for (ref, name, _), held in self.held.items() if any(map(self.is_team, held))})
        ref, name = data.draw(mostly(pooled, [(ref, "") for ref in sorted(self.records)]), label="record and role")
        name = name or data.draw(self.role_names(ref), label="role")
        pools = {a.id for a in self.holders_of(ref, name) if self.is_team(a)}
        members = sorted({user for group, user in self.members if group in pools and self.users[user].active})
        actor = data.draw(mostly(members, self.everyone_ids()) if members else self.actors(ref), label="actor")
        refusals, found = self.slot_refusals(ref, name, actor)
        expected = Outcome(refusals)
        if found is not None:
            role, key, _ = found
            held = self.held.get(key, [])
            teams = [a.id for a in held if self.is_team(a)]
            team = next((t for t in teams if t in self.live_groups(actor)), None)
            if team is None:
                expected.refusals.add(ClaimError)
            else:
                me = Assignee.user(actor)
                expected.refusals |= self.assignee_refusals(me, role, key[2])
                kept = [a for a in held if a != Assignee.group(team)]
                expected.holders = {key: kept if me in held else [*kept, me]}
        expected.refusals |= self.status_refusals(ref, found)
        self.attempt_change(lambda: self.own.claim(ref, name, actor=actor), expected, actor)

    @precondition(lambda self: self.records)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        """Put claimed work back into the pool of the team it was last taken from (CG10)."""
        self.tick()
        claimed = sorted(
            (ref, name, a.id)
            for (ref, name, slot), held in self.held.items()
            if any(map(self.is_team, self.dropped.get((ref, name, slot), [])))
            for a in held
            if a.kind is AssigneeKind.USER
        )
        anything = [(ref, "", "") for ref in sorted(self.records)]
        ref, name, actor = data.draw(mostly(claimed, anything), label="record, role and holder")
        name = name or data.draw(self.role_names(ref), label="role")
        actor = actor or data.draw(self.actors(ref), label="actor")
        refusals, found = self.slot_refusals(ref, name, actor)
        expected = Outcome(refusals)
        if found is not None:
            _, key, _ = found
            held = self.held.get(key, [])
            me = Assignee.user(actor)
            teams = [a for a in self.dropped.get(key, []) if self.is_team(a)]
            if me not in held or not teams:
                expected.refusals.add(ClaimError)
            else:
                kept = [a for a in held if a != me]
                expected.holders = {key: kept if teams[-1] in held else [*kept, teams[-1]]}
        expected.refusals |= self.status_refusals(ref, found)
        self.attempt_change(lambda: self.own.release(ref, name, actor=actor), expected, actor)

    def status_refusals(self, ref: RecordRef, found: object) -> set[type[Exception]]:
        """CT1: a record in a status that takes no new holders (inbox, archive) refuses every change but removals."""
        lifecycle = self.rulebook.policy(ref.kind).lifecycle
        if found is not None and lifecycle is not None and lifecycle.refuses(self.records[ref].status, ASSIGN):
            return {RestrictedStatusError}
        return set()

    def attempt_change(self, call: Callable[[], Any], expected: Outcome, actor: str) -> None:
        """Attempt a change of holders; on success it returns the slot's holders as the model has them."""
        result = self.attempt(call, expected, actor)
        if result is not None:
            [(key, after)] = expected.holders.items()
            assert list(result) == after, f"returned {result}, but the {key[1]} of {key[0]} in {key[2]} is {after}"

    # --- the laws ----------------------------------------------------------------------------------

    @invariant()
    def laws_hold(self) -> None:
        """Every law, after every step; in one place so a failure names the first law broken."""
        snapshot = self.own.snapshot()
        self.mandatory_roles_are_held_and_no_role_overflows(snapshot)
        self.holders_belong_to_the_tenant_of_their_slot(snapshot)
        self.holders_agree_with_the_model_in_every_tenant()
        self.no_tenant_reads_another_tenants_private_holders()

    def mandatory_roles_are_held_and_no_role_overflows(self, snapshot: Snapshot) -> None:
        """TL2, TL7, X3: a mandatory role that exists for a slot's tenant keeps its minimum; no role exceeds max."""
        tenants = {t.id: t for t in snapshot.tenants}
        per_slot = Counter((a.record, a.role, a.tenant) for a in snapshot.assignments)
        per_holder = Counter((a.record, a.role, a.tenant, a.assignee) for a in snapshot.assignments)
        twice = [k for k, n in per_holder.items() if n > 1]
        assert not twice, f"an assignee holds one role twice in one slot: {twice}"
        for record in snapshot.records:
            for role in self.rulebook.policy(record.kind).roles:
                for slot in sorted(record.tenants) if role.private else [record.tenant]:
                    features = self.rulebook.features(tenants[slot])
                    if role.mandatory and (role.requires is None or role.requires in features):
                        held = per_slot[(record.ref, role.name, slot)]
                        assert held >= role.min, f"the {role.name} of {record} in {slot} has {held} < {role.min}"
        for (ref, name, slot), held in per_slot.items():
            maximum = self.rulebook.policy(ref.kind).role(name).max
            assert maximum is None or held <= maximum, f"the {name} of {ref} in {slot} has {held} > {maximum}"

    def holders_belong_to_the_tenant_of_their_slot(self, snapshot: Snapshot) -> None:
        """LD2, LD7: users and groups hold roles only in their own tenant's slot, of a tenant taking part."""
        records = {r.ref: r for r in snapshot.records}
        tenant_of = {u.id: u.tenant for u in snapshot.users} | {g.id: g.tenant for g in snapshot.groups}
        for a in snapshot.assignments:
            record = records[a.record]
            role = self.rulebook.policy(record.kind).role(a.role)
            assert a.tenant in record.tenants if role.private else a.tenant == record.tenant, f"{a} in a wrong slot"
            if a.assignee.kind is not AssigneeKind.EVERYONE:
                assert tenant_of[a.assignee.id] == a.tenant, f"{a.assignee} is not of tenant {a.tenant}: {a}"

    def expected_holders(self, ref: RecordRef, role: Role, tenant: str) -> list[Assignee] | type[OwnershipError]:
        """What `holders` must return to a viewer of `tenant`, or the error it must raise."""
        tracked = self.records[ref]
        if tenant not in tracked.tenants:
            return ForeignActorError
        if not self.has(role, tenant):
            return FeatureDisabledError
        return self.held.get((ref, role.name, slot_of(role, tracked.home, tenant)), [])

    def holders_agree_with_the_model_in_every_tenant(self) -> None:
        """LD4, LD7, X2: `holders` for every record, role and viewer tenant is the model's; history replays to it."""
        for ref, tracked in sorted(self.records.items()):
            for role in self.rulebook.policy(tracked.kind).roles:
                for viewer in (None, *(founder(t) for t in TENANTS)):
                    tenant = tracked.home if viewer is None else self.users[viewer].tenant
                    home = tracked.home if viewer is None else None  # the host reads as the home tenant, by name
                    expected = self.expected_holders(ref, role, tenant)
                    try:
                        actual: object = list(self.own.holders(ref, role.name, viewer=viewer, tenant=home))
                    except OwnershipError as error:
                        actual = type(error)
                    assert actual == expected, f"the {role.name} of {ref} as {tenant} sees it: {actual} != {expected}"
                    if isinstance(expected, list):
                        replayed = self.own.holders_at(ref, role.name, self.clock(), viewer=viewer, tenant=home)
                        assert list(replayed) == expected, f"history of {ref} replays to {replayed}, not {expected}"

    def no_tenant_reads_another_tenants_private_holders(self) -> None:
        """LD4, LD7: assignments, history and listed rows show a tenant no other tenant's private slot or actor.

        No listed row is of a record the tenant takes no part in, and each row's
        assignments are those `assignments` gives the same viewer.
        """
        for ref, tracked in sorted(self.records.items()):
            policy = self.rulebook.policy(tracked.kind)
            for tenant in sorted(tracked.tenants):
                viewer = founder(tenant)
                for a in self.own.assignments(ref, viewer=viewer):
                    assert not policy.role(a.role).private or a.tenant == tenant, f"{tenant} reads private {a}"
                for event in self.own.history(ref, viewer=viewer):
                    assert event.private_to in (None, tenant), f"{tenant} reads private {event}"
                    assert event.actor is None or self.users[event.actor].tenant == tenant, f"{tenant} reads {event}"
                    if isinstance(event, Assigned | Unassigned) and policy.role(event.role).private:
                        assert event.tenant == tenant, f"{tenant} reads another tenant's private {event}"
        for kind in sorted({ref.kind for ref in self.records}):
            for tenant in TENANTS:
                for row in self.own.visible(founder(tenant), kind, limit=len(RECORD_IDS)).rows:
                    assert tenant in self.records[row.record.ref].tenants, f"{tenant} lists {row.record}"
                    assert row.assignments == self.own.assignments(row.record, viewer=founder(tenant)), (
                        f"{tenant} lists {row.record} with {row.assignments}, not as it reads its assignments"
                    )


def _stateful_settings() -> settings:
    # Each step reads every record's holders in every tenant; the profile's examples (derandomized on CI) of up to
    # 50 steps take a few seconds there, and the dev profile's three times as many stay under a quarter minute.
    return settings(max_examples=settings().max_examples, stateful_step_count=50)


def test_mandatory_roles_never_empty_and_refusals_change_nothing() -> None:
    """Every law of the module docstring holds after every step, in every world of the presets."""
    run_state_machine_as_test(AssignmentWorld, settings=_stateful_settings())


class SqlAssignmentWorld(AssignmentWorld):
    """The same world and laws, kept in SQLite through the SQL repository: a refusal there changes nothing either."""

    def __init__(self) -> None:
        self.made: list[SqlRepository] = []  # before the world's first repository is made
        super().__init__()

    def make_repository(self) -> Repository:
        repository = SqlRepository.from_url("sqlite://")
        self.made.append(repository)
        return repository

    def teardown(self) -> None:
        for repository in self.made:
            repository.close()


def test_the_laws_hold_on_the_sql_repository_too() -> None:
    """X8: the state machine's every law, with the state in SQLite (fewer runs: each step reads every holder).

    The memory runs draw the profile's every example; this one a quarter of them, as many steps each.
    """
    run_state_machine_as_test(
        SqlAssignmentWorld,
        settings=settings(max_examples=max(10, settings().max_examples // 4), stateful_step_count=50),
    )


@given(world=st.sampled_from(sorted(WORLDS)), data=st.data())
def test_holders_and_assignments_agree_for_every_viewer_tenant(world: str, data: st.DataObject) -> None:
    """TL5, TL10, LD4, LD7: on a record of any kind shared between two tenants, the reads tell one story.

    For each tenant taking part and each role: `holders` refuses with
    FeatureDisabledError exactly when the tenant of the role's slot (the home
    tenant's, or the viewer's for a private role) lacks the role's feature,
    which is when `assignments` leaves the role out; otherwise both name the
    same holders in the same order, and so does the record's row in `visible`.
    """
    rulebook = WORLDS[world]
    own = Ownership(rulebook, MemoryRepository(), clock=FakeClock())
    plans = [None, *(p.name for p in rulebook.plans)]
    for tenant in ("acme", "globex"):
        plan = data.draw(st.sampled_from(plans), label=f"plan of {tenant}")
        own.add_tenant(tenant, plan=plan, switches=data.draw(st.frozensets(st.sampled_from(SWITCHES)), label=tenant))
        own.add_user(tenant, "Founder", id=founder(tenant), admin=True)
        own.add_user(tenant, "Second", id=f"{tenant}-second")
        for kind in GroupKind:
            own.add_group(tenant, kind.value.title(), kind, id=f"{tenant}-{kind.value}")
    home = own.tenant("acme")
    kinds = [p.kind for p in rulebook.policies if p.requires is None or p.requires in rulebook.features(home)]
    policy = rulebook.policy(data.draw(st.sampled_from(kinds), label="kind"))
    holders: dict[str, list[Assignee]] = {}
    for role in policy.roles:
        if role.requires is None or role.requires in rulebook.features(home):
            options = [
                *([Assignee.user(founder("acme")), Assignee.user("acme-second")] if role.users else []),
                *(Assignee.group(f"acme-{kind.value}") for kind in sorted(role.groups, key=lambda k: k.value)),
                *([EVERYONE] if role.everyone else []),
            ]
            most = min(role.max or len(options), len(options))
            holders[role.name] = data.draw(
                st.lists(st.sampled_from(options), min_size=role.min, max_size=most, unique=True), label=role.name
            )
    record = own.create(policy.kind, actor=founder("acme"), id="R-1", holders=holders)
    own.share(record, "globex", actor=founder("acme"))
    own.accept(record, actor=founder("globex"))
    for tenant in ("acme", "globex"):
        switches = data.draw(st.none() | st.frozensets(st.sampled_from(SWITCHES)), label=f"later switches of {tenant}")
        own.configure_tenant(tenant, switches=switches)
    for tenant in ("acme", "globex"):
        viewer = founder(tenant)
        listed = own.assignments(record, viewer=viewer)
        for row in own.visible(viewer, policy.kind).rows:
            assert row.assignments == listed, f"{tenant} lists {row.assignments}, reads {listed}"
        for role in policy.roles:
            slot = tenant if role.private else record.tenant
            exists = role.requires is None or role.requires in rulebook.features(own.tenant(slot))
            expected: object = [a.assignee for a in listed if a.role == role.name] if exists else FeatureDisabledError
            try:
                held: object = list(own.holders(record, role.name, viewer=viewer))
            except FeatureDisabledError:
                held = FeatureDisabledError
            assert held == expected, (
                f"{tenant} reads the {role.name} of {record}: holders() gives {held}, but assignments() "
                f"gives {[a.assignee for a in listed if a.role == role.name]} and the role "
                f"{'exists' if exists else 'does not exist'} for {tenant}"
            )
