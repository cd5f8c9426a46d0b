"""The bulk room (src/ownership/usecases/bulk.py): reassign, archive and delete, all or nothing (CT6, X3)."""

from collections.abc import Callable
from itertools import pairwise

import pytest
from attrs import evolve

from conftest import refused
from ownership import (
    ASSIGNED,
    Access,
    AccessDeniedError,
    Assigned,
    Assignee,
    AssigneeKindError,
    ConfirmationError,
    ForeignActorError,
    GroupKind,
    InactiveUserError,
    Lifecycle,
    Notification,
    Ownership,
    Policy,
    RecordCreated,
    RecordGroupError,
    RecordRef,
    Repository,
    RestrictedStatusError,
    Role,
    Rulebook,
    Segment,
    State,
    StatusChanged,
    Transition,
    TransitionError,
    Unassigned,
    UnknownRecordError,
    UnknownRoleError,
    UnknownUserError,
    held_by,
    in_group,
    lifecycle,
    named,
    presets,
    status_in,
)
from ownership.access import holds, is_admin
from ownership.testing import FakeClock, RecordingNotifier

ANNA, BOB, CLEO = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("cleo")
TAX = Assignee.group("tax")
C1, C2, C3, C4, C5, C6, C7 = (RecordRef("contact", f"C-{n}") for n in range(1, 8))
ANNAS = [C1, C2, C3, C4, C5]
"""The five contacts Anna alone holds."""


class UserCancelledError(Exception):
    """What a user's click on *Cancel* raises from a progress callback."""


def guarded_desk() -> Rulebook:
    """The contact desk, but only admins and a contact's (or group's) holders may change it; everyone sees it."""
    assignee = presets.contact_desk().policy("contact").role("assignee")
    return Rulebook(
        policies=(
            Policy(
                "contact",
                (assignee,),
                lifecycle=lifecycle.contacts(),
                access=Access(edit=is_admin | holds("assignee")),
            ),
            Policy(
                "contact_group",
                (evolve(assignee, name="responsible"),),
                collects="contact",
                access=Access(edit=is_admin | holds("responsible")),
            ),
        )
    )


def populate(own: Ownership) -> Ownership:
    """Kanzlei Weber: admin Ada, Anna, Bob, Cleo, inactive Carl; the competence "Tax advice" (Anna); partner Globex.

    Anna alone holds prospects C-1 to C-5 ("Kunde 1" ... "Kunde 5"); Bob holds customer C-6;
    Anna and Tax advice hold customer C-7. Globex's Paul holds G-1.
    """
    own.add_tenant("kanzlei")
    own.add_tenant("globex")
    own.add_user("kanzlei", "Ada", id="ada", admin=True)
    for name in ("Anna", "Bob", "Cleo"):
        own.add_user("kanzlei", name, id=name.lower())
    own.add_user("kanzlei", "Carl", id="carl", active=False)
    own.add_user("globex", "Paul", id="paul")
    own.add_member(own.add_group("kanzlei", "Tax advice", GroupKind.COMPETENCE, id="tax"), "anna")
    own.add_group("kanzlei", "North", GroupKind.CARETAKER, id="north")
    for n, ref in enumerate(ANNAS, 1):
        own.create("contact", actor="anna", id=ref.id, name=f"Kunde {n}", holders={"assignee": ANNA})
    own.create("contact", actor="bob", id="C-6", name="Bobs Kunde", status="customer", holders={"assignee": BOB})
    own.create(
        "contact", actor="anna", id="C-7", name="Steuerkunde", status="customer", holders={"assignee": [ANNA, TAX]}
    )
    own.create("contact", actor="paul", id="G-1", name="Globex Kunde", holders={"assignee": Assignee.user("paul")})
    return own


@pytest.fixture
def desk(repository: Repository, clock: FakeClock) -> Ownership:
    """Kanzlei Weber on seed 004's contact desk, where everyone of the tenant may change every contact."""
    return populate(Ownership(presets.contact_desk(), repository, clock=clock))


@pytest.fixture
def guarded(repository: Repository, clock: FakeClock) -> Ownership:
    """Kanzlei Weber where only admins and a contact's assignees may change it."""
    return populate(Ownership(guarded_desk(), repository, clock=clock))


def new_notifications(own: Ownership) -> list[Notification]:
    """Deliver what is pending to a fresh notifier and return what it was given."""
    notifier = RecordingNotifier()
    own.dispatch(notifier, limit=1_000)
    return notifier.sent


def statuses(own: Ownership, refs: list[RecordRef]) -> list[str | None]:
    return [own.record(ref).status for ref in refs]


def holders(own: Ownership, refs: list[RecordRef]) -> list[tuple[Assignee, ...]]:
    return [own.holders(ref, "assignee") for ref in refs]


Bulk = Callable[[Ownership, list[RecordRef] | Segment, Callable[[int, int], None] | None], int]
BULK_ACTIONS: dict[str, Bulk] = {
    "reassign": lambda own, selection, progress: own.reassign(
        selection, "assignee", BOB, actor="ada", progress=progress
    ),
    "archive": lambda own, selection, progress: own.archive(selection, actor="ada", progress=progress),
    "delete": lambda own, selection, progress: own.delete(selection, actor="ada", progress=progress),
    "add_to_group": lambda own, selection, progress: own.add_to_group(
        RecordRef("contact_group", "VIP"), selection, actor="ada", progress=progress
    ),
}
"""Each bulk action, done by admin Ada on a selection."""


def with_vip_group(own: Ownership) -> Ownership:
    own.create("contact_group", actor="ada", id="VIP", name="VIP", number="G-1", holders={"responsible": ANNA})
    return own


# --- CT6, X3: reassign ------------------------------------------------------------------------------


def test_ct6_reassign_makes_the_new_holder_the_only_holder(desk: Ownership) -> None:
    moved = desk.reassign([*ANNAS, C7], "assignee", BOB, actor="ada")

    assert moved == 6
    assert holders(desk, [*ANNAS, C7]) == [(BOB,)] * 6


def test_ct6_reassign_by_segment_moves_every_record_that_meets_it(desk: Ownership) -> None:
    moved = desk.reassign(Segment("contact", held_by("anna", through_groups=False)), "assignee", CLEO, actor="ada")

    assert moved == 6
    assert holders(desk, [*ANNAS, C6, C7]) == [(CLEO,)] * 5 + [(BOB,), (CLEO,)]


def test_ct6_reassign_replacing_one_holder_keeps_the_others(desk: Ownership) -> None:
    moved = desk.reassign(Segment("contact"), "assignee", BOB, actor="ada", replacing=ANNA)

    assert moved == 6
    assert desk.holders(C7, "assignee") == (TAX, BOB)


def test_ct6_reassign_replacing_passes_over_records_the_holder_does_not_hold(desk: Ownership) -> None:
    before = desk.history(C6)

    moved = desk.reassign([C1, C6], "assignee", CLEO, actor="ada", replacing=ANNA)

    assert moved == 1
    assert desk.holders(C6, "assignee") == (BOB,)
    assert desk.history(C6) == before


def test_ct6_reassign_replacing_with_someone_who_holds_it_already_just_ends_the_old_part(desk: Ownership) -> None:
    desk.assign(C1, "assignee", BOB, actor="ada")

    assert desk.reassign([C1], "assignee", BOB, actor="ada", replacing=ANNA) == 1
    assert desk.holders(C1, "assignee") == (BOB,)


def test_ct6_reassign_to_the_sole_holder_already_changes_nothing(desk: Ownership) -> None:
    before = desk.snapshot()

    assert desk.reassign([C6], "assignee", BOB, actor="ada") == 0
    assert desk.snapshot() == before


def test_ct6_reassign_of_an_empty_selection_does_nothing(desk: Ownership) -> None:
    before = desk.snapshot()

    assert desk.reassign(Segment("contact", named("nobody has this name")), "assignee", BOB, actor="ada") == 0
    assert desk.reassign([], "assignee", BOB, actor="ada") == 0
    assert desk.snapshot() == before


def test_ct6_a_record_picked_twice_counts_once(desk: Ownership) -> None:
    calls: list[tuple[int, int]] = []

    moved = desk.reassign([C1, C1, desk.record(C1)], "assignee", BOB, actor="ada", progress=lambda *c: calls.append(c))

    assert moved == 1
    assert calls == [(1, 1)]
    assert [type(e) for e in desk.history(C1)[-2:]] == [Unassigned, Assigned]


def test_ct6_reassign_to_a_competence(desk: Ownership) -> None:
    assert desk.reassign([C1, C2], "assignee", TAX, actor="ada") == 2
    assert holders(desk, [C1, C2]) == [(TAX,), (TAX,)]


def test_x2_reassign_records_each_move_with_actor_and_time(desk: Ownership, clock: FakeClock) -> None:
    moment = clock.advance(days=1)

    desk.reassign([C1, C7], "assignee", BOB, actor="ada")

    assert desk.history(C1)[-2:] == (
        Unassigned(C1, "assignee", ANNA, "kanzlei", "ada", moment),
        Assigned(C1, "assignee", BOB, "kanzlei", "ada", moment),
    )
    assert desk.history(C7)[-3:] == (
        Unassigned(C7, "assignee", ANNA, "kanzlei", "ada", moment),
        Unassigned(C7, "assignee", TAX, "kanzlei", "ada", moment),
        Assigned(C7, "assignee", BOB, "kanzlei", "ada", moment),
    )


def test_ld8_reassign_tells_the_new_holder_of_each_record_and_nobody_else(desk: Ownership) -> None:
    new_notifications(desk)

    desk.reassign([C1, C2, C7], "assignee", BOB, actor="ada")

    sent = new_notifications(desk)
    assert sorted((n.recipient, str(n.record), n.activity, n.actor) for n in sent) == [
        ("bob", "contact C-1", ASSIGNED, "ada"),
        ("bob", "contact C-2", ASSIGNED, "ada"),
        ("bob", "contact C-7", ASSIGNED, "ada"),
    ]
    assert len({n.key for n in sent}) == 3


def test_ld8_reassign_to_a_competence_tells_its_members(desk: Ownership) -> None:
    new_notifications(desk)

    desk.reassign([C6], "assignee", TAX, actor="ada")

    assert [(n.recipient, str(n.record)) for n in new_notifications(desk)] == [("anna", "contact C-6")]


def test_ld8_actor_taking_records_over_is_not_told(desk: Ownership) -> None:
    new_notifications(desk)

    desk.reassign([C6], "assignee", CLEO, actor="cleo")

    assert new_notifications(desk) == []


def test_ct6_reassign_to_an_inactive_user_is_refused(desk: Ownership) -> None:
    with refused(desk, InactiveUserError, r"Carl \(carl\) is inactive"):
        desk.reassign(ANNAS, "assignee", Assignee.user("carl"), actor="ada")


def test_ct6_reassign_to_a_user_of_another_tenant_is_refused(desk: Ownership) -> None:
    with refused(desk, UnknownUserError, "There is no user 'paul'; add them with add_user first."):
        desk.reassign(ANNAS, "assignee", Assignee.user("paul"), actor="ada")


def test_ct2_reassign_to_a_caretaker_group_is_refused(desk: Ownership) -> None:
    with refused(desk, AssigneeKindError, "not a caretaker group"):
        desk.reassign(ANNAS, "assignee", Assignee.group("north"), actor="ada")


def test_ct6_reassign_of_an_unknown_role_is_refused(desk: Ownership) -> None:
    with refused(desk, UnknownRoleError, "account_manager"):
        desk.reassign(ANNAS, "account_manager", BOB, actor="ada")


def test_ct1_ct6_reassign_refuses_everything_when_the_third_of_five_is_archived(desk: Ownership) -> None:
    desk.set_status(C3, "archive", actor="ada")

    with refused(desk, RestrictedStatusError, "contact C-3 is in status 'archive' and cannot take new holders"):
        desk.reassign(ANNAS, "assignee", BOB, actor="ada")
    assert holders(desk, ANNAS) == [(ANNA,)] * 5


def test_ct1_ct6_reassign_by_segment_passes_over_a_record_in_the_inbox(desk: Ownership) -> None:
    # A segment selects what the actor can change: an inbox contact takes no new holders, so it is left alone.
    inbox = desk.create("contact", actor=None, tenant="kanzlei", manual=False, id="C-8", holders={"assignee": ANNA})

    moved = desk.reassign(Segment("contact", held_by("anna")), "assignee", BOB, actor="ada")

    assert moved == 6  # C-1 to C-5 and C-7, not C-8
    assert desk.holders(inbox, "assignee") == (ANNA,)
    assert holders(desk, ANNAS) == [(BOB,)] * 5


def test_ct1_ct6_reassign_of_an_inbox_record_picked_by_hand_refuses_everything(desk: Ownership) -> None:
    inbox = desk.create("contact", actor=None, tenant="kanzlei", manual=False, id="C-8", holders={"assignee": ANNA})

    with refused(desk, RestrictedStatusError, "contact C-8 is in status 'inbox'"):
        desk.reassign([*ANNAS, inbox], "assignee", BOB, actor="ada")


def test_ct1_ct6_reassign_may_leave_archived_records_out_by_segment(desk: Ownership) -> None:
    desk.set_status(C3, "archive", actor="ada")

    moved = desk.reassign(Segment("contact", held_by("anna") & ~status_in("archive")), "assignee", BOB, actor="ada")

    assert moved == 5
    assert holders(desk, ANNAS) == [(BOB,), (BOB,), (ANNA,), (BOB,), (BOB,)]


# --- CT6: temporary groups and segments respect what the actor may do -----------------------------------


def test_ct6_temporary_group_with_a_record_the_actor_may_not_assign_refuses_everything(guarded: Ownership) -> None:
    with refused(
        guarded,
        AccessDeniedError,
        "Bob may not assign contact C-1, so cannot include it; leave it out of the selection.",
    ):
        guarded.reassign([C6, C1], "assignee", CLEO, actor="bob")


@pytest.mark.parametrize("action", ["archive", "delete", "add_to_group"])
def test_ct6_temporary_group_with_a_record_the_actor_may_not_edit_refuses_everything(
    guarded: Ownership, action: str
) -> None:
    guarded.create("contact_group", actor="bob", id="BOBS", holders={"responsible": BOB})
    run: Callable[[], int] = {
        "archive": lambda: guarded.archive([C6, C1], actor="bob"),
        "delete": lambda: guarded.delete([C6, C1], actor="bob"),
        "add_to_group": lambda: guarded.add_to_group(RecordRef("contact_group", "BOBS"), [C6, C1], actor="bob"),
    }[action]

    with refused(guarded, AccessDeniedError, "Bob may not edit contact C-1, so cannot include it"):
        run()


def test_ct6_segment_selects_only_what_the_actor_may_assign(guarded: Ownership) -> None:
    moved = guarded.reassign(Segment("contact"), "assignee", CLEO, actor="bob")

    assert moved == 1
    assert guarded.holders(C6, "assignee") == (CLEO,)
    assert holders(guarded, ANNAS) == [(ANNA,)] * 5


def test_ct6_segment_archives_only_what_the_actor_may_edit(guarded: Ownership) -> None:
    assert guarded.archive(Segment("contact"), actor="bob") == 1
    assert statuses(guarded, [C1, C6]) == ["prospect", "archive"]


def test_ct6_another_tenants_record_in_a_temporary_group_refuses_everything(desk: Ownership) -> None:
    with refused(desk, AccessDeniedError, "Ada may not edit contact G-1, so cannot include it"):
        desk.archive([C1, RecordRef("contact", "G-1")], actor="ada")


def test_ct6_unknown_record_in_a_temporary_group_refuses_everything(desk: Ownership) -> None:
    with refused(desk, UnknownRecordError, "C-99"):
        desk.delete([C1, RecordRef("contact", "C-99")], actor="ada")


# --- CT1, CT6: archive --------------------------------------------------------------------------------


def test_ct6_archive_moves_the_selected_contacts_to_the_archive(desk: Ownership) -> None:
    assert desk.archive([C1, C2, C6], actor="ada") == 3
    assert statuses(desk, [C1, C2, C3, C6]) == ["archive", "archive", "prospect", "archive"]


def test_ct6_archive_by_segment(desk: Ownership) -> None:
    assert desk.archive(Segment("contact", status_in("customer")), actor="ada") == 2
    assert statuses(desk, [C6, C7]) == ["archive", "archive"]


def test_ct1_ct6_archive_keeps_holders_and_history(desk: Ownership, clock: FakeClock) -> None:
    history = desk.history(C7)
    moment = clock.advance(days=1)

    desk.archive([C7], actor="ada")

    assert desk.holders(C7, "assignee") == (ANNA, TAX)
    assert desk.history(C7) == (*history, StatusChanged(C7, "customer", "archive", "kanzlei", "ada", moment))


def test_ct6_archive_passes_over_contacts_archived_already(desk: Ownership) -> None:
    desk.set_status(C3, "archive", actor="ada")
    history = desk.history(C3)

    assert desk.archive(ANNAS, actor="ada") == 4
    assert desk.history(C3) == history


def test_ct6_archive_takes_inbox_contacts_too(desk: Ownership) -> None:
    desk.create("contact", actor=None, tenant="kanzlei", manual=False, id="C-8")

    assert desk.archive([RecordRef("contact", "C-8")], actor="ada") == 1
    assert desk.record(RecordRef("contact", "C-8")).status == "archive"


def test_ct1_archived_contacts_can_be_made_active_again_one_by_one(desk: Ownership) -> None:
    desk.archive(ANNAS, actor="ada")

    desk.set_status(C2, "prospect", actor="anna")

    assert statuses(desk, ANNAS) == ["archive", "prospect", "archive", "archive", "archive"]
    assert desk.holders(C2, "assignee") == (ANNA,)


def test_ct6_archive_of_a_kind_without_lifecycle_is_refused(desk: Ownership) -> None:
    with_vip_group(desk)

    with refused(desk, TransitionError, "A contact_group has no statuses"):
        desk.archive([RecordRef("contact_group", "VIP")], actor="ada")


def test_ct6_archive_whose_way_must_be_confirmed_asks_for_it(repository: Repository, clock: FakeClock) -> None:
    closing = Lifecycle(
        states=(State("open"), State("closed")),
        initial="open",
        transitions=(Transition("open", "closed", confirm=True),),
        archived="closed",
    )
    own = Ownership(Rulebook(policies=(Policy("case", (Role("owner"),), lifecycle=closing),)), repository, clock=clock)
    own.add_tenant("acme")
    own.add_user("acme", "Ada", id="ada", admin=True)
    cases = [own.create("case", actor="ada", id=f"K-{n}").ref for n in (1, 2)]

    with refused(own, ConfirmationError, "must be confirmed"):
        own.archive(cases, actor="ada")
    assert own.archive(cases, actor="ada", confirmed=True) == 2
    assert statuses(own, cases) == ["closed", "closed"]


# --- CT6: delete, for good ----------------------------------------------------------------------------


def test_ct6_delete_removes_the_record_its_holders_and_its_history(desk: Ownership) -> None:
    assert desk.delete([C1, C7], actor="ada") == 2

    with pytest.raises(UnknownRecordError):
        desk.record(C1)
    snapshot = desk.snapshot()
    assert not [r for r in snapshot.records if r.ref in (C1, C7)]
    assert not [a for a in snapshot.assignments if a.record in (C1, C7)]
    assert not [e for e in snapshot.events if e.record in (C1, C7)]


def test_ct6_deletion_is_final_a_new_contact_with_the_same_id_starts_afresh(desk: Ownership, clock: FakeClock) -> None:
    desk.delete([C1], actor="ada")
    moment = clock.advance(days=1)

    desk.create("contact", actor="bob", id="C-1", name="Neu")

    assert desk.history(C1) == (RecordCreated(C1, "kanzlei", "bob", moment),)
    assert desk.holders(C1, "assignee") == ()


def test_ct6_deleted_contacts_no_longer_count_or_show(desk: Ownership) -> None:
    desk.delete(Segment("contact", held_by("anna", through_groups=False)), actor="ada")

    assert [row.record.id for row in desk.find("ada", "contact").rows] == ["C-6"]
    assert desk.counts_by_holder("ada", "contact", "assignee") == {BOB: 1}
    assert desk.transfer("anna", "bob", actor="ada") == 0


def test_ct6_deleted_contacts_number_can_be_given_again(desk: Ownership) -> None:
    desk.set_number(C1, "K-1", actor="ada")

    desk.delete([C1], actor="ada")

    assert desk.set_number(C2, "K-1", actor="ada").number == "K-1"


def test_ct6_x7_contact_created_again_after_deletion_still_notifies_its_holder(desk: Ownership) -> None:
    old = desk.create("contact", actor="ada", id="C-8", holders={"assignee": BOB})
    desk.record_activity(old, presets.CHAT_MESSAGE, actor=None)
    new_notifications(desk)  # Bob heard of the old C-8
    desk.delete([old], actor="ada")

    new = desk.create("contact", actor="ada", id="C-8", holders={"assignee": BOB})
    desk.record_activity(new, presets.CHAT_MESSAGE, actor=None)

    assert [(n.recipient, str(n.record), n.activity) for n in new_notifications(desk)] == [
        ("bob", "contact C-8", ASSIGNED),
        ("bob", "contact C-8", presets.CHAT_MESSAGE),
    ]


def test_ct6_deleting_a_record_group_takes_its_members_out_of_it(desk: Ownership) -> None:
    vip = with_vip_group(desk).record("contact_group", "VIP")
    desk.add_to_group(vip, [C1, C2], actor="ada")

    assert desk.delete([vip], actor="ada") == 1

    assert desk.record(C1).groups == desk.record(C2).groups == frozenset()
    assert desk.holders(C1, "assignee") == (ANNA,)
    desk.create("contact_group", actor="ada", id="VIP")  # a new group of the same id starts empty
    assert [row.record.id for row in desk.find("ada", "contact", in_group("VIP")).rows] == []


def test_ct6_deleting_a_member_leaves_the_group_and_the_others(desk: Ownership) -> None:
    vip = with_vip_group(desk).record("contact_group", "VIP")
    desk.add_to_group(vip, [C1, C2], actor="ada")

    desk.delete([C1], actor="ada")

    assert [row.record.id for row in desk.find("ada", "contact", in_group(vip)).rows] == ["C-2"]
    assert desk.holders(vip, "responsible") == (ANNA,)


# --- CT6: add to a group, in bulk ----------------------------------------------------------------------


def test_ct6_selected_contacts_go_into_a_new_group_with_name_number_and_responsible(desk: Ownership) -> None:
    group = desk.create(
        "contact_group", actor="anna", id="Q3", name="Campaign Q3", number="G-7", holders={"responsible": TAX}
    )

    assert desk.add_to_group(group, Segment("contact", held_by("anna")), actor="anna") == 6

    found = desk.find("bob", "contact", in_group(group))
    assert [row.record.id for row in found.rows] == ["C-1", "C-2", "C-3", "C-4", "C-5", "C-7"]


# --- X3: progress ----------------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(BULK_ACTIONS))
def test_x3_progress_ends_at_the_total(desk: Ownership, action: str) -> None:
    with_vip_group(desk)
    calls: list[tuple[int, int]] = []

    done = BULK_ACTIONS[action](desk, ANNAS, lambda n, total: calls.append((n, total)))

    assert done == 5
    assert calls
    assert calls[-1] == (5, 5)
    assert all(a[0] < b[0] for a, b in pairwise(calls))
    assert {total for _, total in calls} == {5}


@pytest.mark.parametrize("action", list(BULK_ACTIONS))
def test_x3_progress_of_a_large_selection_is_reported_as_the_work_goes_on(desk: Ownership, action: str) -> None:
    with_vip_group(desk)
    many = [desk.create("contact", actor="ada", id=f"M-{n:04d}").ref for n in range(1001)]
    calls: list[tuple[int, int]] = []

    done = BULK_ACTIONS[action](desk, many, lambda n, total: calls.append((n, total)))

    assert done == 1001
    assert len(calls) >= 2
    assert calls[-1] == (1001, 1001)
    assert all(a[0] < b[0] for a, b in pairwise(calls))
    assert {total for _, total in calls} == {1001}


# --- X3: all or none ---------------------------------------------------------------------------------


def cancel(_done: int, _total: int) -> None:
    raise UserCancelledError


@pytest.mark.parametrize("action", list(BULK_ACTIONS))
def test_x3_raising_from_progress_undoes_everything(desk: Ownership, action: str) -> None:
    with_vip_group(desk)

    with refused(desk, UserCancelledError, "^$"):
        BULK_ACTIONS[action](desk, ANNAS, cancel)


@pytest.mark.parametrize("action", list(BULK_ACTIONS))
def test_x3_raising_from_progress_half_way_undoes_what_was_done_already(desk: Ownership, action: str) -> None:
    with_vip_group(desk)
    many = [desk.create("contact", actor="ada", id=f"M-{n:04d}").ref for n in range(1001)]

    with refused(desk, UserCancelledError, "^$"):
        BULK_ACTIONS[action](desk, many, cancel)


@pytest.mark.parametrize("action", list(BULK_ACTIONS))
def test_x3_bulk_action_failing_at_the_third_of_five_leaves_everything_as_it_was(desk: Ownership, action: str) -> None:
    with_vip_group(desk)
    desk.set_status(C3, "archive", actor="ada")  # reassign refuses it
    partners = RecordRef("contact", "G-1")
    desk.share(partners, "kanzlei", actor="paul")
    desk.accept(partners, actor="ada")  # Kanzlei takes part in Globex's contact, but it is not theirs to delete
    third, error, match = {
        "reassign": (C3, RestrictedStatusError, "contact C-3 is in status 'archive' and cannot take new holders"),
        "archive": (RecordRef("contact_group", "VIP"), TransitionError, "A contact_group has no statuses"),
        "delete": (partners, ForeignActorError, "Only tenant 'globex' can delete contact G-1; Ada cannot."),
        "add_to_group": (RecordRef("contact_group", "VIP"), RecordGroupError, "not contact_group VIP"),
    }[action]

    with refused(desk, error, match):
        BULK_ACTIONS[action](desk, [C1, C2, third, C4, C5], None)
