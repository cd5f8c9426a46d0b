"""The leak law (LD7; DESIGN: tenants never leak): nothing one tenant's user reads or is told names the other's people.

Over generated worlds of two tenants (users, some admins; competence groups with members; leads, each
kept at home or forwarded to and accepted by the other tenant, with a colleague and a team private to
each tenant; deals no one shares; holders changed and activities recorded by users of both tenants and
by the host), every read a tenant's user can make, as that user, is checked: holders, assignments,
history, holders_at, can and explain, visible, find and the counts, saved segments, the notices
`record_activity` gives back and the outbox entries addressed to the user. None of them, in its
``repr`` or ``str``, names a user or group of the other tenant, or a record of the other tenant's that
is not shared with the user's. And when the user names another tenant's user or group (an assignee, a
successor, a segment's holder), the refusal is the one, word for word, that an id no one has gets.
"""

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from conftest import make
from ownership import (
    Assignee,
    GroupKind,
    Ownership,
    OwnershipError,
    Policy,
    Record,
    Role,
    Rulebook,
    Segment,
    User,
    held_by,
)
from ownership.adapters.memory import MemoryRepository
from ownership.policy import AssignActor, Trigger
from ownership.ports import Repository
from ownership.testing import FakeClock

pytest_plugins = ("sql_repositories",)

TENANTS = ("acme", "globex")
RULEBOOK = Rulebook(
    policies=(
        Policy(
            "lead",
            (
                Role("colleague", notified=True, private=True),
                Role("team", users=False, groups={GroupKind.COMPETENCE}, notified=True, private=True),
            ),
            auto_assign=(AssignActor(Trigger.CREATED, "colleague"), AssignActor(Trigger.ACCEPTED, "colleague")),
        ),
        Policy("deal", (Role("responsible", groups={GroupKind.COMPETENCE}, max=1, notified=True),)),
    )
)
MISSING = "nobody-at-all"


def _world(own: Ownership, data: st.DataObject) -> dict[str, set[str]]:
    """Build a drawn world in `own`; return each tenant's own ids: its users, groups and records."""
    ids: dict[str, set[str]] = {t: set() for t in TENANTS}
    users: dict[str, list[User]] = {}
    groups: dict[str, list[str]] = {}
    for tenant in TENANTS:
        own.add_tenant(tenant)
        count = data.draw(st.integers(1, 3), label=f"{tenant} users")
        users[tenant] = [
            own.add_user(tenant, f"{tenant}-u{n}-name", id=f"{tenant}-u{n}", admin=n == 0) for n in range(count)
        ]
        groups[tenant] = []
        for n in range(data.draw(st.integers(0, 2), label=f"{tenant} groups")):
            group = own.add_group(tenant, f"{tenant}-g{n}-name", GroupKind.COMPETENCE, id=f"{tenant}-g{n}")
            groups[tenant].append(group.id)
            for user in data.draw(st.lists(st.sampled_from(users[tenant]), unique=True), label="members"):
                own.add_member(group.id, user)
        ids[tenant] |= {u.id for u in users[tenant]} | set(groups[tenant])
    records: list[Record] = []
    for n in range(data.draw(st.integers(1, 4), label="records")):
        home = data.draw(st.sampled_from(TENANTS), label="home")
        other = next(t for t in TENANTS if t != home)
        kind = data.draw(st.sampled_from(["lead", "deal"]), label="kind")
        creator = data.draw(st.sampled_from(users[home]), label="creator")
        holders = {"responsible": [creator]} if kind == "deal" else None
        record = own.create(kind, actor=creator, id=f"{home}-{kind}{n}", holders=holders)
        ids[home].add(record.id)
        if kind == "lead" and data.draw(st.booleans(), label="shared"):
            own.share(record, other, actor=creator)
            record = own.accept(record, actor=data.draw(st.sampled_from(users[other]), label="acceptor"))
        records.append(record)
    for _ in range(data.draw(st.integers(0, 6), label="changes")):
        record = data.draw(st.sampled_from(records), label="record")
        tenant = data.draw(st.sampled_from(sorted(record.tenants)), label="tenant")
        actor = data.draw(st.sampled_from(users[tenant]), label="actor")
        step = data.draw(st.sampled_from(["user", "group", "activity", "host activity"]), label="step")
        role = {"lead": "colleague", "deal": "responsible"}[record.kind]
        if step == "user":
            own.assign(record, role, data.draw(st.sampled_from(users[tenant]), label="assignee"), actor=actor)
        elif step == "group" and groups[tenant]:
            group = data.draw(st.sampled_from(groups[tenant]), label="group")
            own.assign(record, "team" if record.kind == "lead" else role, own.group(group), actor=actor)
        elif step == "activity":
            own.record_activity(record, "note_added", actor=actor)
        elif step == "host activity":
            own.record_activity(record, "note_added", actor=None)
    return ids


def _reads(own: Ownership, user: User, at: datetime) -> Iterator[tuple[str, object]]:
    """Every read `user` can make of what their tenant takes part in, each with what it is, as a leak test sees it."""
    for kind, roles in (("lead", ("colleague", "team")), ("deal", ("responsible",))):
        page = own.visible(user, kind)
        yield f"visible {kind}", page
        yield f"find {kind}", own.find(user, kind)
        yield f"find {kind} held by {user.id}", own.find(user, kind, held_by(user))
        yield f"counts by status {kind}", own.counts_by_status(user, kind)
        for role in roles:
            yield f"counts by holder {kind} {role}", own.counts_by_holder(user, kind, role)
        for row in page.rows:
            record = row.record
            yield f"assignments {record}", own.assignments(record, viewer=user)
            yield f"history {record}", own.history(record, viewer=user)
            yield f"explain {record}", own.explain(user, "view", record)
            yield f"can {record}", own.can(user, "edit", record)
            for role in roles:
                yield f"holders {record} {role}", own.holders(record, role, viewer=user)
                yield f"holders_at {record} {role}", own.holders_at(record, role, at, viewer=user)
            yield f"notices of an activity on {record}", own.record_activity(record, "note_added", actor=user)
    saved = own.save_segment(Segment("lead", held_by(user), name=f"held by {user.id}"), actor=user)
    yield "saved segment", saved
    yield "segments", own.segments(user.tenant)
    yield "notices to the user", [e for e in own.outbox() if e.notification.recipient == user.id]


def _refusal(call: Callable[[str], object], named: str) -> tuple[type[Exception], str]:
    """The refusal `call` gets with the id `named`, its sentence with that id written as <id>."""
    try:
        call(named)
    except OwnershipError as error:
        return type(error), str(error).replace(named, "<id>")
    raise AssertionError(f"naming {named!r} was not refused")


def _naming_another_tenants_ids(own: Ownership, user: User, theirs: set[str]) -> Iterator[tuple[str, object]]:
    """What `user` is told on naming each of the other tenant's users and groups: as for an id no one has."""
    ours = [r.record for r in own.visible(user, "deal").rows if r.record.tenant == user.tenant]
    for other in sorted(theirs):
        tries: dict[str, Callable[[str], object]] = {}
        if "-g" in other:
            tries["save a segment held by group"] = lambda who: own.save_segment(
                Segment("deal", held_by(Assignee.group(who))), actor=user
            )
        elif "-u" in other:
            tries["save a segment held by"] = lambda who: own.save_segment(Segment("deal", held_by(who)), actor=user)
            tries["transfer to"] = lambda who: own.transfer(user, who, actor=user)
            if ours:
                tries["assign"] = lambda who: own.assign(ours[0], "responsible", who, actor=user)
        for what, call in tries.items():
            told = _refusal(call, other)
            assert told == _refusal(call, MISSING), (what, other)
            yield f"{what} {other}", told


def _check(repository: Callable[[], Repository], data: st.DataObject) -> None:
    clock = FakeClock()
    own = make(RULEBOOK, clock) if repository is MemoryRepository else Ownership(RULEBOOK, repository(), clock=clock)
    ids = _world(own, data)
    clock.advance(minutes=1)
    for tenant in TENANTS:
        theirs = set().union(*(ids[t] for t in TENANTS if t != tenant))
        shared = {r.record.id for r in own.visible(f"{tenant}-u0", "lead").rows}
        hidden = theirs - shared
        for user in own.users(tenant):
            for what, answer in [*_reads(own, user, clock()), *_naming_another_tenants_ids(own, user, theirs)]:
                said = f"{answer!r} {answer}"
                leaked = sorted(i for i in hidden if i in said)
                note(f"{user.id}: {what}: {said}")
                assert not leaked, f"{user.id} reads {leaked} of another tenant in {what}: {said}"


@settings(max_examples=25)
@given(data=st.data())
def test_ld7_no_read_or_refusal_names_another_tenants_people_or_private_records_on_memory(data: st.DataObject) -> None:
    _check(MemoryRepository, data)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite_memory_repositories", id="sqlite"),
        pytest.param("postgres_repositories", id="postgresql", marks=pytest.mark.postgresql),
    ],
)
@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_ld7_no_read_or_refusal_names_another_tenants_people_or_private_records_on_sql(
    backend: str, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    _check(request.getfixturevalue(backend), data)
