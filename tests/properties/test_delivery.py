"""The fault law of delivery (X7): whatever the notifier does, every notification arrives, once, never to its actor.

Over generated sequences of changes on records of every preset (assignments
of users, groups with members and everyone, handovers, activities by users of
both tenants of a forwarded lead or by the host, membership and activity
changes, dispatches in between), with a notifier that crashes or refuses keys
per a drawn schedule, a bounded number of `dispatch()` calls afterwards leaves:

- every notification the changes produced (what `record_activity` returned,
  and every outbox entry) acknowledged by the notifier, and none twice;
- no key handed again to a notifier that acknowledged it;
- no notification to the user whose action it tells of, and the actor named
  only to recipients of the actor's own tenant (LD7);
- a refused change without notifications;
- the outbox with nothing pending, and each entry's attempts counting the
  dispatches that left it pending.
"""

import math
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

from attrs import define, field
from hypothesis import given
from hypothesis import strategies as st

from conftest import make
from ownership import (
    EVERYONE,
    Assignee,
    Dispatched,
    GroupKind,
    Notification,
    Ownership,
    OwnershipError,
    Profile,
    RecordRef,
    presets,
)
from ownership.testing import FakeClock, RecordingNotifier

TENANT = {"anna": "acme", "bob": "acme", "cara": "acme", "dora": "acme", "paul": "globex", "petra": "globex"}
ACME = ("anna", "bob", "cara", "dora")
GLOBEX = ("paul", "petra")
MEMBERS = {
    "tax": ("anna", "cara"),
    "north": ("bob", "cara", "dora"),
    "south": ("anna", "dora"),
    "support": ("bob", "dora"),
}

RULEBOOK = (
    presets.account_managers().only("company", "deal", "ticket")
    | presets.lead_exchange()
    | presets.contact_desk()
    | presets.caretaker_groups().only("customer", "follow_up")
)

COMPANY, DEAL, TICKET = RecordRef("company", "C-1"), RecordRef("deal", "D-1"), RecordRef("ticket", "T-1")
LEAD, CONTACT = RecordRef("lead", "L-1"), RecordRef("contact", "P-1")
CUSTOMER, FOLLOW_UP = RecordRef("customer", "K-1"), RecordRef("follow_up", "F-1")

USERS = [Assignee.user(u) for u in ("bob", "cara", "dora", "anna")]  # the simplest draw is not the actor
# (record, role, what it may be given, who may act on it): acme's side of each record, globex's of the lead.
SLOTS: list[tuple[RecordRef, str, list[Assignee], tuple[str, ...]]] = [
    (COMPANY, "account_manager", USERS, ACME),
    (COMPANY, presets.SECOND_ACCOUNT_MANAGER, USERS, ACME),
    (DEAL, "responsible", USERS, ACME),
    (DEAL, "second_responsible", USERS, ACME),
    (TICKET, "responsible", USERS, ACME),
    (LEAD, "colleague", USERS, ACME),
    (LEAD, "colleague", [Assignee.user(u) for u in GLOBEX], GLOBEX),
    (CONTACT, "assignee", [*USERS, Assignee.group("tax"), EVERYONE], ACME),
    (CUSTOMER, "caretaker_group", [Assignee.group("north"), Assignee.group("south")], ACME),
    (CUSTOMER, "second_caretaker_group", [Assignee.group("north"), Assignee.group("south")], ACME),
    (CUSTOMER, "caretaker", USERS, ACME),
    (FOLLOW_UP, "team", [*USERS, Assignee.group("support")], ACME),
]
ACTIVITIES = {
    TICKET: (presets.INTERNAL_NOTE, presets.CUSTOMER_REPLIED, presets.TICKET_CLOSED, "call_logged"),
    CONTACT: (presets.CHAT_MESSAGE, "note_added"),
}
ANY_ACTIVITY = ("note_added", "task_created", "call_logged")
RECORDS = (COMPANY, DEAL, TICKET, LEAD, CONTACT, CUSTOMER, FOLLOW_UP)


def world() -> Ownership:
    """Acme (boost, both second roles switched on; four users, four groups) and partner globex (Paul, Petra).

    Anna made one record of each kind at acme, with notified holders other than herself; her lead L-1 is
    forwarded to globex, accepted there by Paul, who made Petra its colleague there.
    """
    own = make(RULEBOOK, FakeClock())
    own.add_tenant("acme", plan="boost", switches={presets.SECOND_ACCOUNT_MANAGER, presets.SECOND_CARETAKER_GROUP})
    own.add_tenant("globex")
    for user in ACME + GLOBEX:
        own.add_user(TENANT[user], user.title(), id=user, profile=Profile(push=user in ("cara", "dora", "petra")))
    kinds = {"tax": GroupKind.COMPETENCE, "north": GroupKind.CARETAKER, "south": GroupKind.CARETAKER}
    for group, members in MEMBERS.items():
        own.add_group("acme", group.title(), kinds.get(group, GroupKind.TEAM), id=group)
        for member in members:
            own.add_member(group, member)
    bob, cara, dora = Assignee.user("bob"), Assignee.user("cara"), Assignee.user("dora")
    own.create("company", actor="anna", id="C-1", holders={"account_manager": bob})
    own.create("deal", actor="anna", id="D-1", holders={"second_responsible": cara})
    own.create("ticket", actor="anna", id="T-1", holders={"responsible": dora})
    own.create("contact", actor="anna", id="P-1", holders={"assignee": [Assignee.group("tax"), bob]})
    own.create("customer", actor="anna", id="K-1", holders={"caretaker_group": Assignee.group("north")})
    own.create("follow_up", actor="anna", id="F-1", holders={"team": Assignee.group("support")})
    own.create("lead", actor="anna", id="L-1", holders={"colleague": bob})
    own.share(LEAD, "globex", actor="anna")
    own.accept(LEAD, actor="paul")
    own.assign(LEAD, "colleague", Assignee.user("petra"), actor="paul")
    return own


# --- the changes ---------------------------------------------------------------------------------

changes_of_holders = st.tuples(
    st.sampled_from(["assign", "unassign"]), st.integers(0, len(SLOTS) - 1), st.integers(0, 10), st.integers(0, 10)
)
activities = st.sampled_from(RECORDS).flatmap(
    lambda ref: st.tuples(
        st.just("activity"),
        st.just(ref),
        st.sampled_from(ACTIVITIES.get(ref, ANY_ACTIVITY)),
        st.sampled_from((*ACME, *GLOBEX, None)),
    )
)
memberships = st.tuples(
    st.sampled_from(["leave", "join"]), st.sampled_from(sorted(MEMBERS)), st.sampled_from(ACME), st.just(None)
)
activations = st.tuples(st.sampled_from(["activate", "deactivate"]), st.sampled_from(ACME + GLOBEX))
dispatches = st.tuples(st.just("dispatch"), st.integers(1, 5))

changes = st.lists(
    st.one_of(changes_of_holders, activities, activities, activities, memberships, activations, dispatches),
    min_size=10,
    max_size=30,
)


# --- the notifiers -------------------------------------------------------------------------------


@define
class ScheduledNotifier:
    """A notifier that, call by call, delivers, crashes or refuses what its schedule says, then delivers.

    Schedule steps: ``None`` delivers the batch; ``-1`` raises; a number ``mask`` refuses the batch's
    notifications at the positions whose bit is set in it. Keys it is handed again after acknowledging
    them go to `again` (an assertion here would be taken for a crash, and retried).
    """

    schedule: list[int | None]
    keys: list[str] = field(factory=list)
    again: list[str] = field(factory=list)
    calls: int = 0

    def deliver(self, notifications: Sequence[Notification]) -> Collection[str]:
        handed = [n.key for n in notifications]
        self.again.extend(sorted(set(handed) & set(self.keys)))
        step = self.schedule[self.calls] if self.calls < len(self.schedule) else None
        self.calls += 1
        if step == -1:
            raise TimeoutError("the push gateway did not answer")
        refused = {key for i, key in enumerate(handed) if step is not None and step >> i & 1}
        self.keys.extend(key for key in handed if key not in refused)
        return refused


notifiers = st.one_of(
    st.builds(lambda n: RecordingNotifier(fail_every=n), st.integers(2, 4)),
    st.builds(ScheduledNotifier, st.lists(st.one_of(st.none(), st.just(-1), st.integers(0, 31)), max_size=12)),
)


# --- the law -------------------------------------------------------------------------------------


def apply(
    own: Ownership, change: tuple[Any, ...], notifier: Any, reports: list[Dispatched]
) -> tuple[str | None, tuple[Notification, ...]]:
    """Make one change, or raise its refusal; return who acted and what `record_activity` returned."""
    what = change[0]
    if what in ("assign", "unassign"):
        ref, role, candidates, actors = SLOTS[change[1]]
        assignee, actor = candidates[change[2] % len(candidates)], actors[change[3] % len(actors)]
        getattr(own, what)(ref, role, assignee, actor=actor)
        return actor, ()
    if what == "activity":
        _, ref, activity, actor = change
        return actor, own.record_activity(ref, activity, actor=actor)
    if what in ("join", "leave"):
        _, group, user, _ = change
        if what == "join":
            own.add_member(group, user)
        else:
            own.remove_member(group, user)
        return None, ()
    if what in ("deactivate", "activate"):
        own.update_user(change[1], active=what == "activate")
        return None, ()
    reports.append(own.dispatch(notifier, limit=change[1]))
    return None, ()


@given(changes=changes, notifier=notifiers, limit=st.integers(1, 8))
def test_x7_every_notification_is_delivered_once_and_never_to_its_actor(
    changes: list[tuple[Any, ...]], notifier: Any, limit: int
) -> None:
    own = world()
    returned: list[Notification] = []
    reports: list[Dispatched] = []
    # Anna built the world; Paul gave Petra globex's part of the lead.
    actor_of = {e.notification.key: "paul" if e.notification.recipient in GLOBEX else "anna" for e in own.outbox()}

    for change in changes:
        before = {e.notification.key for e in own.outbox()}
        try:
            actor, written = apply(own, change, notifier, reports)
        except OwnershipError:
            assert {e.notification.key for e in own.outbox()} == before, f"{change} was refused but wrote"
            continue
        new = [e.notification for e in own.outbox() if e.notification.key not in before]
        if change[0] == "activity":  # LD7: an actor is given back only its own tenant's notices; the host all
            assert list(written) == [n for n in new if actor is None or TENANT[n.recipient] == TENANT[actor]]
        returned.extend(written)
        for n in new:
            actor_of[n.key] = actor

    outbox = {e.notification.key: e.notification for e in own.outbox()}
    budget = 5 * (math.ceil(len(outbox) / limit) + len(getattr(notifier, "schedule", ()))) + 10
    for _ in range(budget):
        if not own.outbox(pending=True):
            break
        reports.append(own.dispatch(notifier, limit=limit))

    assert own.outbox(pending=True) == ()
    assert all(e.delivered for e in own.outbox())
    produced = set(outbox) | {n.key for n in returned}
    assert all(outbox[n.key] == n for n in returned)
    assert Counter(notifier.keys) == Counter(produced), "each notification delivered exactly once"
    for key, n in outbox.items():
        actor = actor_of[key]
        assert n.recipient != actor, f"{n} tells its actor of their own action"
        if actor is not None:
            assert n.actor == (actor if TENANT[actor] == TENANT[n.recipient] else None), n
    assert getattr(notifier, "again", []) == [], "a key the notifier acknowledged was handed to it again"
    failures = Counter(key for report in reports for key in report.failed)
    assert {e.notification.key: e.attempts for e in own.outbox()} == {key: failures[key] for key in outbox}
    assert Counter(key for report in reports for key in report.delivered) == Counter(produced)
