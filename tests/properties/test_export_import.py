"""Export and import are identity: a snapshot sent through JSON and restored elsewhere is the same state (X8, X2, X7).

The states are drawn as a CRM's life: tenants on different plans and switches,
users (inactive, admins, restricted), groups of every kind with memberships
that expire, then a random sequence of public use cases, refusals included:
records of every preset's kinds created with holders, names, statuses,
numbers and labels; assignments and unassignments; shares and accepts;
contact statuses; record groups; number ranges, segments and round-robin
rules (tenant settings); activities that fill the outbox, and deliveries that
fail, are refused or succeed; deactivations and transfers; time passing.

The laws:

- the snapshot goes to JSON text (`serde.unstructure` and `json`) and back
  unchanged, and `restore` of it into an empty repository of each kind
  (memory, SQLite, PostgreSQL) gives a repository whose snapshot equals it, and
  on which every read (`visible`, `can`, `explain`, `holders`, `history`, the
  pending outbox, the number ranges) answers as on the source;
- a restored outbox delivers, batch by batch, what the source delivers, and
  never what the source had delivered before the export (X7);
- `restore` into a repository holding a tenant is refused and changes nothing;
- a snapshot missing a tenant, user, group or record it refers to is refused
  with `InvalidValueError`, and the target stays empty;
- a progress callback raising half-way leaves the target empty.
"""

import contextlib
import itertools
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from attrs import evolve
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from conftest import attempt, refused
from ownership import (
    EVERYONE,
    Assignee,
    AssigneeKind,
    DuplicateIdError,
    GroupKind,
    InvalidValueError,
    Membership,
    Ownership,
    OwnershipError,
    Profile,
    Record,
    RoundRobin,
    Segment,
    Snapshot,
    ToGroup,
    User,
    held_by,
    labelled,
    presets,
    serde,
    status_in,
)
from ownership.adapters.memory import MemoryRepository
from ownership.ports import Repository
from ownership.testing import FakeClock, RecordingNotifier, counted_ids
from sql_repositories import FACTORIES, POSTGRESQL

pytest_plugins = ("sql_repositories",)

RULES = (
    presets.account_managers().only("company", "deal", "project", "ticket")
    | presets.lead_exchange()
    | presets.caretaker_groups().only("customer", "follow_up")
    | presets.contact_desk()
)
"""Every preset's kinds in one rulebook: tickets of account managers, follow-ups in teams' pools."""

TENANTS = {
    "acme": ("boost", {presets.SECOND_ACCOUNT_MANAGER, presets.SECOND_CARETAKER_GROUP}),
    "globex": ("go", set()),
}
"""Two tenants: one on the biggest plan with both second roles switched on, one on the smallest."""

KINDS = ("deal", "lead", "contact", "customer", "follow_up", "project", "ticket", "company", "contact_group")
"""Every kind of `RULES`, those whose creation assigns someone first, so examples shrink towards holders."""
NAMES = ("Müller GmbH", "Ärztehaus Süd", "a_b %", "", "O'Brien & Co")
LABELS = ("north", "south", "vip")
STATUSES = ("inbox", "prospect", "customer", "archive")
ACTIONS = ("view", "edit", "assign")


class Crm:
    """A state drawn as a CRM's life, on an in-memory repository, with the fake clock it was made by."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.own = Ownership(RULES, MemoryRepository(), clock=self.clock, ids=counted_ids())

    def users(self, tenant: str | None = None) -> list[User]:
        snapshot = self.own.snapshot()
        return [u for u in snapshot.users if tenant is None or u.tenant == tenant]

    def records(self, kind: str | None = None) -> list[Record]:
        return [r for r in self.own.snapshot().records if kind is None or r.kind == kind]

    def admin(self, tenant: str) -> str:
        return f"{tenant}-admin"


def _candidates(crm: Crm, tenant: str) -> list[Assignee]:
    """What a role of `tenant` may be given, and some of what it may not: users and groups of both tenants."""
    snapshot = crm.own.snapshot()
    ours = [Assignee.user(u.id) for u in snapshot.users if u.tenant == tenant]
    groups = [Assignee.group(g.id) for g in snapshot.groups if g.tenant == tenant]
    theirs = [Assignee.user(u.id) for u in snapshot.users if u.tenant != tenant][:1]
    return [*ours, *groups, EVERYONE, *theirs]


def _actor(draw: st.DrawFn, crm: Crm, record: Record) -> str:
    """Mostly the admin of the record's home; sometimes anyone of a tenant taking part."""
    others = [u.id for u in crm.users() if u.tenant in record.tenants]
    return draw(st.sampled_from([crm.admin(record.tenant)] * 3 + others))


def _found(draw: st.DrawFn, crm: Crm, kind: str | None = None) -> Record | None:
    records = crm.records(kind)
    return draw(st.sampled_from(records)) if records else None


@st.composite
def crms(draw: st.DrawFn, *, steps: int = 16) -> Crm:  # noqa: PLR0912 - a CRM's life reads best as one story
    """States reached by a random sequence of public use cases, refused ones included."""
    crm = Crm()
    own, clock = crm.own, crm.clock
    for tenant, (plan, switches) in TENANTS.items():
        own.add_tenant(tenant, plan=plan, switches=switches)
        own.add_user(tenant, f"{tenant} admin", id=crm.admin(tenant), admin=True)
        for n in range(draw(st.integers(1, 3))):
            restricted = draw(st.frozensets(st.sampled_from(("company", "deal", "project")), max_size=2))
            own.add_user(
                tenant,
                draw(st.sampled_from(NAMES)) or f"{tenant} {n}",
                id=f"{tenant}-u{n}",
                profile=Profile(restricted=restricted, push=draw(st.booleans())),
                personal_caretaker_group=draw(st.booleans()),
            )
        for n, kind in enumerate(draw(st.lists(st.sampled_from(GroupKind), max_size=3))):
            own.add_group(tenant, f"{tenant} {kind.value} {n}", kind, id=f"{tenant}-g{n}")
    snapshot = own.snapshot()
    for group in snapshot.groups:
        for user in (u for u in snapshot.users if u.tenant == group.tenant and draw(st.integers(0, 2)) == 0):
            until = draw(st.none() | st.integers(-48, 48).map(lambda h: clock.now + timedelta(hours=h)))
            attempt(lambda g=group, u=user, t=until: own.add_member(g, u, until=t))

    first = draw(st.integers(2, 4))  # records to begin with, so the steps after have something to work on
    for n in range(first + draw(st.integers(1, steps))):
        step = (
            "create"
            if n < first
            else draw(
                st.sampled_from(
                    ["create"] * 4
                    + ["assign"] * 3
                    + ["share"] * 3
                    + ["regroup"] * 2
                    + ["unassign", "status", "label", "number", "segment", "auto"]
                    + ["activity"] * 2
                    + ["dispatch", "deactivate", "transfer", "claim", "time"]
                )
            )
        )
        note(f"step {n}: {step}")
        if step == "create":
            kind = draw(st.sampled_from(KINDS))
            tenant = draw(st.sampled_from(list(TENANTS)))
            actor = draw(st.sampled_from([crm.admin(tenant), *(u.id for u in crm.users(tenant)), None]))
            roles = [role.name for role in RULES.policy(kind).roles]
            holders: dict[str, Any] = {}
            if roles and draw(st.booleans()):
                holders[draw(st.sampled_from(roles))] = draw(st.sampled_from(_candidates(crm, tenant)))
            record_id = f"{kind[:2]}-{n}"
            kwargs: dict[str, Any] = {
                "tenant": tenant,
                "id": record_id,
                "holders": holders or None,
                "manual": draw(st.booleans()),
                "name": draw(st.none() | st.sampled_from(NAMES)),
                "labels": draw(st.frozensets(st.sampled_from(LABELS))),
                "number": draw(st.none() | st.just(f"N-{n}")),
            }
            if kind == "contact":
                kwargs["status"] = draw(st.none() | st.sampled_from(STATUSES))
            try:
                own.create(kind, actor=actor, **kwargs)
            except OwnershipError:  # a holder or a status it refuses: make it plainly, if the kind allows
                attempt(lambda k=kind, t=tenant, i=record_id: own.create(k, actor=crm.admin(t), tenant=t, id=i))
        elif step in ("assign", "unassign", "claim") and (record := _found(draw, crm)) is not None:
            roles = [role.name for role in RULES.policy(record.kind).roles]
            if not roles:
                continue
            role = draw(st.sampled_from(roles))
            actor = _actor(draw, crm, record)
            if step == "assign":
                who = draw(st.sampled_from(_candidates(crm, crm.own.user(actor).tenant)))
                attempt(lambda r=record, o=role, w=who, a=actor: own.assign(r, o, w, actor=a))
            elif step == "unassign":
                with contextlib.suppress(OwnershipError):
                    held = own.holders(record, role, viewer=actor)
                    if held:
                        gone = draw(st.sampled_from(held))
                        attempt(lambda r=record, o=role, g=gone, a=actor: own.unassign(r, o, g, actor=a))
            else:
                attempt(lambda r=record, o=role, a=actor: own.claim(r, o, actor=a))
        elif step == "share" and (record := _found(draw, crm)) is not None:
            partner = next(t for t in TENANTS if t != record.tenant)
            attempt(lambda r=record, p=partner: own.share(r, p, actor=crm.admin(r.tenant)))
            if draw(st.integers(0, 3)):
                taker = draw(st.sampled_from([u.id for u in crm.users(partner)]))
                attempt(lambda r=record, t=taker: own.accept(r, actor=t))
        elif step == "status" and (record := _found(draw, crm, "contact")) is not None:
            target = draw(st.sampled_from(STATUSES))
            attempt(lambda r=record, t=target: own.set_status(r, t, actor=None, confirmed=True))
        elif step == "label" and (record := _found(draw, crm)) is not None:
            labels = draw(st.frozensets(st.sampled_from(LABELS)))
            name = draw(st.none() | st.sampled_from(NAMES))
            attempt(lambda r=record, n=name, s=labels: own.update_record(r, actor=None, name=n, labels=s))
        elif step == "number" and (record := _found(draw, crm)) is not None:
            next_ = draw(st.integers(0, 3))
            attempt(lambda r=record, x=next_: own.set_number_range(r.tenant, r.kind, prefix="K-", width=3, next=x))
            attempt(lambda r=record: own.set_number(r, actor=None))
        elif step == "segment":
            tenant = draw(st.sampled_from(list(TENANTS)))
            user = draw(st.sampled_from(crm.users(tenant)))
            criteria = draw(
                st.sampled_from([held_by(user), labelled("vip"), status_in("prospect") | labelled("north")])
            )
            kind = "contact" if criteria != held_by(user) else draw(st.sampled_from(KINDS))
            segment = Segment(kind, criteria, name=f"segment {n}")
            attempt(lambda s=segment, u=user: own.save_segment(s, actor=u))
        elif step == "auto":
            tenant = draw(st.sampled_from(list(TENANTS)))
            groups = [g for g in own.groups(tenant) if not g.personal_of] or own.groups(tenant)
            if groups:
                group = draw(st.sampled_from(groups))
                kind, rule = draw(
                    st.sampled_from(
                        [
                            ("contact", RoundRobin("assignee", group.id)),
                            ("deal", RoundRobin("responsible", group.id)),
                            ("customer", ToGroup("caretaker_group", group.id)),
                            ("follow_up", ToGroup("team", group.id)),
                        ]
                    )
                )
                attempt(lambda t=tenant, k=kind, r=rule: own.set_auto_assign(t, k, [r]))
                attempt(lambda k=kind, t=tenant, i=f"{kind[:2]}-{n}": own.create(k, actor=None, tenant=t, id=i))
        elif step == "regroup" and (contact := _found(draw, crm, "contact")) is not None:
            record_groups = [g for g in crm.records("contact_group") if g.tenant == contact.tenant]
            if not record_groups or draw(st.booleans()):
                attempt(lambda c=contact, i=f"cg-{n}": own.create("contact_group", actor=None, tenant=c.tenant, id=i))
                record_groups = [g for g in crm.records("contact_group") if g.tenant == contact.tenant]
            if not record_groups:
                continue
            record_group = draw(st.sampled_from(record_groups))
            others = [c for c in crm.records("contact") if c.tenant == record_group.tenant and c != contact]
            chosen = (
                [contact, *draw(st.lists(st.sampled_from(others), unique=True, max_size=2))] if others else [contact]
            )
            attempt(lambda g=record_group, c=chosen: own.add_to_group(g, c, actor=crm.admin(g.tenant)))
        elif step == "activity" and (record := _found(draw, crm)) is not None:
            _activity(draw, crm, record)
        elif step == "dispatch":
            _deliver(draw, own)
        elif step == "deactivate":
            user = draw(st.sampled_from(crm.users()))
            attempt(lambda u=user: own.update_user(u, active=False))
        elif step == "transfer":
            tenant = draw(st.sampled_from(list(TENANTS)))
            leaving, successor = draw(st.lists(st.sampled_from(crm.users(tenant)), min_size=2, max_size=2))
            attempt(lambda a=leaving, b=successor: own.transfer(a, b))
        elif step == "time":
            clock.advance(hours=draw(st.integers(1, 72)))
    # Last, what fills the outbox and delivers part of it: entries pending, delivered, and tried in vain.
    for record in draw(st.lists(st.sampled_from(crm.records()), max_size=3)) if crm.records() else []:
        _activity(draw, crm, record)
    _deliver(draw, own)
    clock.advance(hours=draw(st.integers(0, 72)))
    return crm


def _activity(draw: st.DrawFn, crm: Crm, record: Record) -> None:
    """Record an activity the record's kind knows, by someone taking part in it or by the host."""
    policy = RULES.policy(record.kind)
    names = [a.name for a in policy.activities] if policy.activities is not None else ["note_added"]
    activity = draw(st.sampled_from(names))
    actor = draw(st.none() | st.just(_actor(draw, crm, record)))
    attempt(lambda: crm.own.record_activity(record, activity, actor=actor))


def _deliver(draw: st.DrawFn, own: Ownership) -> None:
    """Dispatch a few batches to a notifier that may crash every call or two, and refuses some keys."""
    pending = own.outbox(pending=True)
    if not pending:
        return
    refuse = draw(st.frozensets(st.sampled_from([e.notification.key for e in pending])))
    notifier = RecordingNotifier(fail_every=draw(st.none() | st.sampled_from([1, 2])), refuse=refuse)
    for _ in range(draw(st.integers(1, 3))):
        own.dispatch(notifier, limit=draw(st.integers(1, 4)))


# --- reading a repository whole -----------------------------------------------------------------------------


def _answer(read: Callable[[], object]) -> object:
    """What a read returns, or the refusal it raises, as a value to compare."""
    try:
        return read()
    except OwnershipError as error:
        return (type(error).__name__, str(error))


def _pages(own: Ownership, viewer: str, kind: str, action: str) -> list[object]:
    """Every row `visible` lists, a few at a time, so the cursor is used too."""
    rows: list[object] = []
    after = None
    while True:
        page = own.visible(viewer, kind, action=action, limit=3, after=after)
        rows += page.rows
        if page.cursor is None:
            return rows
        after = page.cursor


def reads(own: Ownership, snapshot: Snapshot) -> dict[str, object]:
    """Every read of every record by every user: what may be listed and done, who holds what, the history."""
    users = [u.id for u in snapshot.users]
    viewers: list[str | None] = [None, *(f"{tenant}-admin" for tenant in TENANTS)]
    kinds = sorted({r.kind for r in snapshot.records})
    answers: dict[str, object] = {}
    for user, kind, action in itertools.product(users, kinds, ACTIONS):
        answers[f"visible {user} {kind} {action}"] = _answer(lambda u=user, k=kind, a=action: _pages(own, u, k, a))
    for record in snapshot.records:
        for user in users:
            answers[f"can {user} view {record}"] = _answer(lambda u=user, r=record: own.explain(u, "view", r))
            answers[f"can {user} edit {record}"] = _answer(lambda u=user, r=record: own.can(u, "edit", r))
        for viewer in viewers:
            answers[f"history {record} {viewer}"] = _answer(lambda r=record, v=viewer: own.history(r, viewer=v))
            for role in RULES.policy(record.kind).roles:
                answers[f"holders {record} {role.name} {viewer}"] = _answer(
                    lambda r=record, o=role.name, v=viewer: own.holders(r, o, viewer=v)
                )
    for setting in snapshot.settings:
        if setting.key.startswith("numbers/"):
            kind = setting.key.removeprefix("numbers/")
            answers[f"number range {setting.tenant} {kind}"] = _answer(
                lambda t=setting.tenant, k=kind: own.number_range(t, k)
            )
    answers["pending"] = own.outbox(pending=True)
    return answers


def exported(snapshot: Snapshot) -> str:
    """The snapshot as the text `ownership export` writes."""
    return json.dumps(serde.unstructure(snapshot), indent=2, ensure_ascii=False) + "\n"


def imported(text: str) -> Snapshot:
    """The snapshot `ownership import` reads from that text."""
    return serde.structure(json.loads(text), Snapshot)


def restored(crm: Crm, repository: Repository) -> Ownership:
    """An `Ownership` on `repository`, on the rules and the clock of `crm`, not yet filled."""
    return Ownership(RULES, repository, clock=crm.clock, ids=counted_ids())


@pytest.fixture(params=["memory", "sqlite_memory", POSTGRESQL])
def empty_repositories(request: pytest.FixtureRequest) -> Callable[[], Repository]:
    """New, empty repositories of every kind a snapshot is restored into: memory, SQLite, PostgreSQL."""
    if request.param == "memory":
        return MemoryRepository
    return request.getfixturevalue(FACTORIES[request.param])  # type: ignore[no-any-return]


FACTORY_FIXTURE = [HealthCheck.function_scoped_fixture]
"""`empty_repositories` is made once per test, but it is a factory: each example asks it for a new repository."""


# --- the laws -----------------------------------------------------------------------------------------------


@settings(max_examples=30, suppress_health_check=FACTORY_FIXTURE)
@given(crm=crms())
def test_x8_a_snapshot_through_json_restored_into_an_empty_repository_is_the_same_state(
    empty_repositories: Callable[[], Repository], crm: Crm
) -> None:
    snapshot = crm.own.snapshot()
    text = exported(snapshot)
    back = imported(text)
    assert back == snapshot

    copy = restored(crm, empty_repositories())
    copy.restore(back)

    assert copy.snapshot() == snapshot
    assert reads(copy, snapshot) == reads(crm.own, snapshot)


@settings(max_examples=15, suppress_health_check=FACTORY_FIXTURE)
@given(crm=crms(), again=st.integers(1, 3))
def test_x7_a_restored_outbox_delivers_what_the_source_would_deliver_and_nothing_twice(
    empty_repositories: Callable[[], Repository], crm: Crm, again: int
) -> None:
    snapshot = crm.own.snapshot()
    copy = restored(crm, empty_repositories())
    copy.restore(imported(exported(snapshot)))
    here, there = RecordingNotifier(), RecordingNotifier()

    for _ in range(again):
        assert copy.dispatch(there, limit=2) == crm.own.dispatch(here, limit=2)

    assert there.sent == here.sent
    assert copy.outbox() == crm.own.outbox()
    delivered = {entry.notification.key for entry in snapshot.outbox if entry.delivered}
    assert not delivered & set(there.keys)
    assert len(there.keys) == len(set(there.keys))


@settings(max_examples=15, suppress_health_check=FACTORY_FIXTURE)
@given(crm=crms(steps=6), other=crms(steps=4))
def test_x8_restore_into_a_repository_holding_a_tenant_is_refused_and_changes_nothing(
    empty_repositories: Callable[[], Repository], crm: Crm, other: Crm
) -> None:
    target = restored(other, empty_repositories())
    target.restore(other.own.snapshot())

    with refused(target, DuplicateIdError, "already holds tenant 'acme' and 1 more; restore into an empty one"):
        target.restore(crm.own.snapshot())


def _referenced(snapshot: Snapshot) -> list[tuple[str, str]]:
    """Each tenant, user, group and record the rest of `snapshot` refers to, as (what, id)."""
    found: set[tuple[str, str]] = set()
    for user in snapshot.users:
        found.add(("tenant", user.tenant))
    for group in snapshot.groups:
        found.add(("tenant", group.tenant))
    for record in snapshot.records:
        found |= {("tenant", t) for t in record.tenants | record.offered_to}
    for setting in snapshot.settings:
        found.add(("tenant", setting.tenant))
    for membership in snapshot.memberships:
        found |= {("group", membership.group), ("user", membership.user)}
    for assignment in snapshot.assignments:
        found.add(("record", str(assignment.record)))
        if assignment.assignee.kind is not AssigneeKind.EVERYONE:
            found.add((assignment.assignee.kind.value, assignment.assignee.id or ""))
    for event in snapshot.events:
        found.add(("record", str(event.record)))
    return sorted(found)


def _without(snapshot: Snapshot, what: str, id: str) -> Snapshot:
    """`snapshot` without one tenant, user, group or record, and with everything else it holds."""
    if what == "tenant":
        return evolve(snapshot, tenants=tuple(t for t in snapshot.tenants if t.id != id))
    if what == "user":
        return evolve(snapshot, users=tuple(u for u in snapshot.users if u.id != id))
    if what == "group":
        return evolve(snapshot, groups=tuple(g for g in snapshot.groups if g.id != id))
    return evolve(snapshot, records=tuple(r for r in snapshot.records if str(r.ref) != id))


@settings(max_examples=30, suppress_health_check=FACTORY_FIXTURE)
@given(crm=crms(steps=10), data=st.data())
def test_x8_a_snapshot_missing_what_it_refers_to_is_refused_and_the_target_stays_empty(
    empty_repositories: Callable[[], Repository], crm: Crm, data: st.DataObject
) -> None:
    snapshot = crm.own.snapshot()
    what, id = data.draw(st.sampled_from(_referenced(snapshot)), label="left out")
    target = restored(crm, empty_repositories())

    with refused(target, InvalidValueError, "^The snapshot does not hold the "):
        target.restore(_without(snapshot, what, id))

    assert target.snapshot() == Snapshot((), (), (), (), (), (), ())
    target.restore(snapshot)  # nothing was left behind to be in the way
    assert target.snapshot() == snapshot


class CancelPressedError(Exception):
    """Raised by a progress callback, as a host's cancel button would."""


@settings(max_examples=15, suppress_health_check=FACTORY_FIXTURE)
@given(crm=crms())
def test_x8_a_progress_callback_raising_half_way_leaves_the_target_empty(
    empty_repositories: Callable[[], Repository], crm: Crm
) -> None:
    snapshot = crm.own.snapshot()
    assume(snapshot.records)  # with none, there is no progress to report
    target = restored(crm, empty_repositories())
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if 2 * done >= total:
            raise CancelPressedError

    with refused(target, CancelPressedError, "^$"):
        target.restore(snapshot, progress=progress)

    total = len(snapshot.records)
    assert seen[-1] == ((total + 1) // 2, total)
    assert [done for done, _ in seen] == list(range(1, len(seen) + 1))
    assert target.snapshot() == Snapshot((), (), (), (), (), (), ())


def test_x8_restore_reports_progress_once_per_record_and_ends_at_the_total(
    empty_repositories: Callable[[], Repository],
) -> None:
    crm = Crm()
    crm.own.add_tenant("acme", plan="go")
    crm.own.add_user("acme", "Anna", id="anna")
    for n in range(5):
        crm.own.create("deal", actor="anna", id=f"d-{n}")
    seen: list[tuple[int, int]] = []

    restored(crm, empty_repositories()).restore(crm.own.snapshot(), progress=lambda d, t: seen.append((d, t)))

    assert seen == [(n, 5) for n in range(1, 6)]


@pytest.fixture
def populated() -> Snapshot:
    """Acme's Anna in group North and holding deal d-1, whose responsible has a history."""
    own = Ownership(RULES, MemoryRepository(), clock=FakeClock())
    own.add_tenant("acme", plan="go")
    own.add_user("acme", "Anna", id="anna")
    own.add_group("acme", "North", GroupKind.TEAM, id="north")
    own.add_member("north", "anna")
    own.create("deal", actor="anna", id="d-1")
    own.create("follow_up", actor="anna", id="f-1", holders={"team": Assignee.group("north")})
    return own.snapshot()


@pytest.mark.parametrize(
    ("what", "id", "says"),
    [
        ("tenant", "acme", "tenant 'acme' of user 'anna'"),
        ("user", "anna", "user 'anna' of a membership"),
        ("group", "north", "group 'north' of a membership"),
        ("record", "deal d-1", "deal d-1, which its history or holders name"),
    ],
)
def test_x8_a_snapshot_missing_a_tenant_user_group_or_record_is_refused_naming_it(
    repository: Repository, populated: Snapshot, what: str, id: str, says: str
) -> None:
    target = Ownership(RULES, repository)

    with refused(target, InvalidValueError, f"^The snapshot does not hold the {says}; export the whole state again"):
        target.restore(_without(populated, what, id))

    assert target.snapshot().tenants == ()


def test_x8_a_snapshot_whose_membership_alone_names_a_missing_user_is_refused(
    repository: Repository, populated: Snapshot
) -> None:
    edited = evolve(populated, memberships=(*populated.memberships, Membership("north", "ghost")))

    with pytest.raises(InvalidValueError, match="user 'ghost' of a membership"):
        Ownership(RULES, repository).restore(edited)

    assert Ownership(RULES, repository).snapshot().users == ()


def test_x8_restore_into_a_repository_holding_any_other_tenant_is_refused_and_changes_nothing(
    repository: Repository, populated: Snapshot
) -> None:
    target = Ownership(RULES, repository)
    target.add_tenant("initech")

    with refused(target, DuplicateIdError, "^The repository already holds tenant 'initech'; restore into an empty one"):
        target.restore(populated)


def test_x8_a_snapshot_missing_a_user_its_history_names_is_refused(repository: Repository) -> None:
    own = Ownership(RULES, MemoryRepository(), clock=FakeClock())
    own.add_tenant("acme", plan="go")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.create("deal", actor="bob", id="d-1")
    own.transfer("bob", "anna")  # Bob now holds nothing; the history says he made d-1 and held it
    target = Ownership(RULES, repository)

    with pytest.raises(InvalidValueError, match=r"user '?bob'?"):
        target.restore(_without(own.snapshot(), "user", "bob"))


def _twice(snapshot: Snapshot, field: str) -> Snapshot:
    values = getattr(snapshot, field)
    return evolve(snapshot, **{field: (*values, values[0])})


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda s: _twice(s, "tenants"), "holds tenant 'acme' twice"),
        (lambda s: evolve(s, users=(*s.users, evolve(s.users[0], name="Anna Again"))), "holds user 'anna' twice"),
        (lambda s: _twice(s, "groups"), "holds group 'north' twice"),
        (lambda s: _twice(s, "records"), "holds record 'deal d-1' twice"),
        (lambda s: _twice(s, "memberships"), "holds membership ('north', 'anna') twice"),
        (lambda s: _twice(s, "assignments"), "holds holding ('deal d-1', 'responsible', 'user anna', 'acme') twice"),
    ],
    ids=["tenant", "user", "group", "record", "membership", "holding"],
)
def test_x8_a_snapshot_holding_anything_twice_is_refused_and_the_target_stays_empty(
    repository: Repository, populated: Snapshot, edit: Callable[[Snapshot], Snapshot], says: str
) -> None:
    target = Ownership(RULES, repository)

    with refused(target, InvalidValueError, f"^The snapshot {re.escape(says)}; export the whole state again"):
        target.restore(edit(populated))

    assert target.snapshot().tenants == ()


def test_x8_a_snapshot_numbering_two_records_alike_is_refused(repository: Repository, populated: Snapshot) -> None:
    deal = next(r for r in populated.records if r.kind == "deal")
    edited = evolve(
        populated,
        records=(
            *(evolve(r, number="7") if r == deal else r for r in populated.records),
            evolve(deal, id="d-2", number="7"),
        ),
    )

    with pytest.raises(InvalidValueError, match=re.escape("holds number ('acme', 'deal', '7') twice")):
        Ownership(RULES, repository).restore(edited)

    assert Ownership(RULES, repository).snapshot().records == ()


def test_x8_a_snapshot_linking_one_tenants_user_to_another_tenants_record_or_group_is_refused(
    repository: Repository, populated: Snapshot
) -> None:
    """No read may cross a tenant, so no restore may write a link across one."""
    zed = User("zed", "globex", "Zed")
    deal = next(r for r in populated.records if r.kind == "deal")
    with_globex = evolve(
        populated,
        tenants=(*populated.tenants, evolve(populated.tenants[0], id="globex")),
        users=(*populated.users, zed),
    )
    held_across = evolve(
        with_globex,
        assignments=tuple(
            evolve(a, assignee=Assignee.user("zed")) if a.record == deal.ref else a for a in with_globex.assignments
        ),
    )
    member_across = evolve(with_globex, memberships=(*with_globex.memberships, Membership("north", "zed")))
    slot_across = evolve(
        with_globex,
        assignments=tuple(evolve(a, tenant="globex") if a.record == deal.ref else a for a in with_globex.assignments),
    )

    for edited, says in [
        (held_across, "makes user zed, of tenant 'globex', a holder of deal d-1 for 'acme'"),
        (member_across, "puts user 'zed' of tenant 'globex' in group 'north' of another tenant"),
        (slot_across, "gives tenant 'globex' holders of deal d-1, which it does not take part in"),
    ]:
        with pytest.raises(InvalidValueError, match=re.escape(says)):
            Ownership(RULES, repository).restore(edited)

    assert Ownership(RULES, repository).snapshot().tenants == ()
