"""The status room (src/ownership/usecases/status.py): a contact's status and what each status allows (CT1)."""

import pytest
from attrs import evolve

from conftest import refused
from ownership import (
    Access,
    AccessDeniedError,
    Assignee,
    ConfirmationError,
    ForeignActorError,
    GroupKind,
    InactiveUserError,
    Ownership,
    Policy,
    RecordCreated,
    RecordRef,
    Repository,
    RestrictedStatusError,
    Role,
    Rulebook,
    StatusChanged,
    TransitionError,
    lifecycle,
    presets,
)
from ownership.access import holds, is_admin
from ownership.testing import FakeClock

ANNA, BOB = Assignee.user("anna"), Assignee.user("bob")
TAX = Assignee.group("tax")
C1 = RecordRef("contact", "C-1")
ALLOWED = [
    ("inbox", "prospect", False),
    ("inbox", "customer", True),
    ("inbox", "archive", False),
    ("prospect", "customer", True),
    ("prospect", "archive", False),
    ("customer", "archive", False),
    ("archive", "prospect", False),
    ("archive", "customer", True),
]
"""Seed 004's ways between statuses, and whether each must be confirmed."""
REFUSED = [
    ("customer", "prospect", "archive"),
    ("customer", "inbox", "archive"),
    ("prospect", "inbox", "customer, archive"),
    ("archive", "inbox", "prospect, customer"),
]
"""The ways there are not, and where the status can go instead."""


def populate(own: Ownership) -> Ownership:
    """Kanzlei Weber: admin Ada, Anna and Bob, inactive Carl, the competence "Tax advice" (Anna); partner Globex."""
    own.add_tenant("kanzlei")
    own.add_tenant("globex")
    own.add_user("kanzlei", "Ada", id="ada", admin=True)
    own.add_user("kanzlei", "Anna", id="anna")
    own.add_user("kanzlei", "Bob", id="bob")
    own.add_user("kanzlei", "Carl", id="carl", active=False)
    own.add_user("globex", "Paul", id="paul")
    tax = own.add_group("kanzlei", "Tax advice", GroupKind.COMPETENCE, id="tax")
    own.add_member(tax, "anna")
    return own


@pytest.fixture
def desk(repository: Repository, clock: FakeClock) -> Ownership:
    """Kanzlei Weber on seed 004's contact desk, where everyone of the tenant may edit every contact."""
    return populate(Ownership(presets.contact_desk(), repository, clock=clock))


def guarded_desk() -> Rulebook:
    """The contact desk, but only admins and a contact's assignees may change it; everyone still sees it."""
    desk = presets.contact_desk()
    assignee = desk.policy("contact").role("assignee")
    return Rulebook(
        policies=(
            Policy(
                "contact",
                (assignee,),
                lifecycle=lifecycle.contacts(),
                access=Access(edit=is_admin | holds("assignee")),
            ),
            Policy("contact_group", (evolve(assignee, name="responsible"),), collects="contact"),
        )
    )


@pytest.fixture
def guarded(repository: Repository, clock: FakeClock) -> Ownership:
    """Kanzlei Weber where only admins and a contact's assignees may change it."""
    return populate(Ownership(guarded_desk(), repository, clock=clock))


def contact_in(own: Ownership, status: str, *, holders: list[Assignee] | None = None) -> RecordRef:
    """Contact C-1, created by Anna straight into `status`, held by `holders` (Anna if None)."""
    own.create(
        "contact", actor="anna", id="C-1", name="Müller GmbH", status=status, holders={"assignee": holders or [ANNA]}
    )
    return C1


# --- where a contact starts ------------------------------------------------------------------------


def test_ct1_contact_created_by_hand_is_a_prospect(desk: Ownership) -> None:
    contact = desk.create("contact", actor="anna", id="C-1", name="Müller GmbH")

    assert contact.status == "prospect"
    assert desk.record(C1).status == "prospect"


def test_ct1_contact_added_by_an_import_lands_in_the_inbox(desk: Ownership) -> None:
    contact = desk.create("contact", actor=None, tenant="kanzlei", manual=False, id="C-1", name="Import AG")

    assert contact.status == "inbox"
    assert desk.record(C1).status == "inbox"


def test_ct1_contact_a_user_adds_by_a_mechanism_lands_in_the_inbox_too(desk: Ownership) -> None:
    contact = desk.create("contact", actor="anna", manual=False, id="C-1")

    assert contact.status == "inbox"
    assert desk.holders(contact, "assignee") == ()


def test_ct1_host_can_import_a_contact_straight_into_a_status(desk: Ownership) -> None:
    contact = desk.create("contact", actor=None, tenant="kanzlei", manual=False, id="C-1", status="customer")

    assert contact.status == "customer"


def test_ct1_unknown_start_status_is_refused(desk: Ownership) -> None:
    with refused(desk, TransitionError, "A contact has no status 'lead'; its statuses are: inbox, prospect"):
        desk.create("contact", actor="anna", id="C-1", status="lead")


def test_ct1_the_contact_lifecycle_lists_seed_004s_statuses_in_order(desk: Ownership) -> None:
    contacts = desk.rulebook.policy("contact").lifecycle

    assert contacts is not None
    assert contacts.names == ("inbox", "prospect", "customer", "archive")
    assert (contacts.initial, contacts.imported, contacts.archived) == ("prospect", "inbox", "archive")


# --- the ways between statuses --------------------------------------------------------------------


@pytest.mark.parametrize(("source", "target", "confirm"), ALLOWED)
def test_ct1_every_allowed_transition_moves_the_contact(
    desk: Ownership, source: str, target: str, confirm: bool
) -> None:
    contact_in(desk, source)

    moved = desk.set_status(C1, target, actor="anna", confirmed=confirm)

    assert moved.status == target
    assert desk.record(C1).status == target


@pytest.mark.parametrize(("source", "target", "onward"), REFUSED)
def test_ct1_a_transition_the_lifecycle_lacks_is_refused_with_where_it_can_go(
    desk: Ownership, source: str, target: str, onward: str
) -> None:
    contact_in(desk, source)

    with refused(
        desk,
        TransitionError,
        f"contact C-1 cannot go from '{source}' to '{target}'; from '{source}' it can go to: {onward}.",
    ):
        desk.set_status(C1, target, actor="anna", confirmed=True)
    assert desk.record(C1).status == source


def test_ct1_unknown_status_is_refused_with_the_statuses_there_are(desk: Ownership) -> None:
    contact_in(desk, "prospect")

    with refused(desk, TransitionError, "A contact has no status 'lost'; its statuses are: inbox, prospect"):
        desk.set_status(C1, "lost", actor="anna")


@pytest.mark.parametrize("source", ["prospect", "inbox", "archive"])
def test_ct1_becoming_a_customer_must_be_confirmed(desk: Ownership, source: str) -> None:
    contact_in(desk, source)

    with refused(desk, ConfirmationError, f"from '{source}' to 'customer' must be confirmed.*confirmed=True"):
        desk.set_status(C1, "customer", actor="anna")
    assert desk.record(C1).status == source


def test_ct1_prospect_becomes_customer_once_the_user_confirms(desk: Ownership, clock: FakeClock) -> None:
    contact_in(desk, "prospect")
    moment = clock.advance(days=1)

    customer = desk.set_status(C1, "customer", actor="anna", confirmed=True)

    assert customer.status == "customer"
    assert desk.history(C1)[-1] == StatusChanged(C1, "prospect", "customer", "kanzlei", "anna", moment)


def test_ct1_confirming_a_change_that_needs_no_confirmation_is_harmless(desk: Ownership) -> None:
    contact_in(desk, "prospect")

    assert desk.set_status(C1, "archive", actor="anna", confirmed=True).status == "archive"


def test_ct1_asking_for_the_status_a_contact_has_changes_nothing(desk: Ownership) -> None:
    contact_in(desk, "customer")
    before = desk.snapshot()

    same = desk.set_status(C1, "customer", actor="anna")  # no confirmation asked: nothing moves

    assert same.status == "customer"
    assert desk.snapshot() == before


# --- archive and reactivate keep what the contact had ------------------------------------------------


def test_ct1_archiving_keeps_holders_and_history(desk: Ownership, clock: FakeClock) -> None:
    contact_in(desk, "customer", holders=[ANNA, TAX])
    holders, history = desk.holders(C1, "assignee"), desk.history(C1)
    moment = clock.advance(days=3)

    desk.set_status(C1, "archive", actor="anna")

    assert desk.holders(C1, "assignee") == holders == (ANNA, TAX)
    assert desk.history(C1) == (*history, StatusChanged(C1, "customer", "archive", "kanzlei", "anna", moment))


@pytest.mark.parametrize(("target", "confirm"), [("prospect", False), ("customer", True)])
def test_ct1_reactivating_an_archived_contact_keeps_holders_and_history(
    desk: Ownership, clock: FakeClock, target: str, confirm: bool
) -> None:
    contact_in(desk, "customer", holders=[ANNA, TAX])
    desk.set_status(C1, "archive", actor="anna")
    holders, history = desk.holders(C1, "assignee"), desk.history(C1)
    moment = clock.advance(days=30)

    desk.set_status(C1, target, actor="bob", confirmed=confirm)

    assert desk.record(C1).status == target
    assert desk.holders(C1, "assignee") == holders == (ANNA, TAX)
    assert desk.history(C1) == (*history, StatusChanged(C1, "archive", target, "kanzlei", "bob", moment))
    assert desk.record(C1).name == "Müller GmbH"


def test_ct1_a_reactivated_contact_takes_new_holders_again(desk: Ownership) -> None:
    contact_in(desk, "archive")

    desk.set_status(C1, "prospect", actor="anna")

    assert desk.assign(C1, "assignee", BOB, actor="anna") == (ANNA, BOB)


def test_ct1_a_contact_moved_out_of_the_inbox_takes_holders(desk: Ownership) -> None:
    desk.create("contact", actor=None, tenant="kanzlei", manual=False, id="C-1")

    desk.set_status(C1, "prospect", actor="anna")

    assert desk.assign(C1, "assignee", BOB, actor="anna") == (BOB,)


# --- what inbox and archive refuse ------------------------------------------------------------------


@pytest.mark.parametrize("status", ["inbox", "archive"])
def test_ct1_inbox_and_archive_refuse_a_new_holder(desk: Ownership, status: str) -> None:
    contact_in(desk, status)

    with refused(desk, RestrictedStatusError, f"contact C-1 is in status '{status}' and cannot take new holders"):
        desk.assign(C1, "assignee", BOB, actor="anna")
    assert desk.holders(C1, "assignee") == (ANNA,)


@pytest.mark.parametrize("status", ["inbox", "archive"])
def test_ct1_inbox_and_archive_refuse_replacing_a_holder(desk: Ownership, status: str) -> None:
    contact_in(desk, status)

    with refused(desk, RestrictedStatusError, f"is in status '{status}' and cannot take new holders"):
        desk.replace(C1, "assignee", ANNA, BOB, actor="anna")
    assert desk.holders(C1, "assignee") == (ANNA,)


@pytest.mark.parametrize("status", ["inbox", "archive"])
def test_ct1_ct3_inbox_and_archive_refuse_activities_so_no_one_is_notified(desk: Ownership, status: str) -> None:
    contact_in(desk, status)

    with refused(desk, RestrictedStatusError, f"is in status '{status}' and cannot have activities recorded"):
        desk.record_activity(C1, presets.CHAT_MESSAGE, actor=None)
    assert desk.outbox(pending=True) == ()


@pytest.mark.parametrize("status", ["inbox", "archive"])
def test_ct1_inbox_and_archive_refuse_being_shared(desk: Ownership, status: str) -> None:
    contact_in(desk, status)

    with refused(desk, RestrictedStatusError, f"is in status '{status}' and cannot be shared"):
        desk.share(C1, "globex", actor="anna")


@pytest.mark.parametrize("status", ["inbox", "archive"])
def test_ct1_inbox_and_archive_still_let_a_holder_be_taken_off(desk: Ownership, status: str) -> None:
    contact_in(desk, status, holders=[ANNA, BOB])

    assert desk.unassign(C1, "assignee", BOB, actor="anna") == (ANNA,)
    assert desk.holders(C1, "assignee") == (ANNA,)


@pytest.mark.parametrize("status", ["prospect", "customer"])
def test_ct1_ct3_active_contacts_take_holders_and_notify_them(desk: Ownership, status: str) -> None:
    contact_in(desk, status)

    assert desk.assign(C1, "assignee", BOB, actor="anna") == (ANNA, BOB)
    told = desk.record_activity(C1, presets.CHAT_MESSAGE, actor=None)
    assert sorted(n.recipient for n in told) == ["anna", "bob"]


def test_x3_offboarding_moves_an_archived_contacts_holder_regardless_of_status(desk: Ownership) -> None:
    contact_in(desk, "archive")

    assert desk.transfer("anna", "bob", actor="ada") == 1

    assert desk.holders(C1, "assignee") == (BOB,)
    assert desk.record(C1).status == "archive"


# --- kinds without a lifecycle --------------------------------------------------------------------


def test_ct1_a_kind_without_lifecycle_has_no_status(desk: Ownership) -> None:
    group = desk.create("contact_group", actor="anna", id="G-1", name="VIP")

    assert group.status is None


def test_ct1_a_kind_without_lifecycle_refuses_a_status_change(desk: Ownership) -> None:
    group = desk.create("contact_group", actor="anna", id="G-1", name="VIP")

    with refused(desk, TransitionError, "A contact_group has no statuses: its policy declares no lifecycle."):
        desk.set_status(group, "archive", actor="anna")


def test_ct1_a_kind_without_lifecycle_refuses_a_start_status(desk: Ownership) -> None:
    with refused(desk, TransitionError, "A contact_group has no statuses"):
        desk.create("contact_group", actor="anna", id="G-1", status="prospect")


# --- history and who may change a status ------------------------------------------------------------


def test_ct1_x2_each_status_change_is_in_the_history_with_actor_and_time(desk: Ownership, clock: FakeClock) -> None:
    created = clock.now
    desk.create("contact", actor=None, tenant="kanzlei", manual=False, id="C-1")
    first = clock.advance(hours=1)
    desk.set_status(C1, "prospect", actor="anna")
    second = clock.advance(hours=1)
    desk.set_status(C1, "customer", actor="bob", confirmed=True)

    assert desk.history(C1) == (
        RecordCreated(C1, "kanzlei", None, created),
        StatusChanged(C1, "inbox", "prospect", "kanzlei", "anna", first),
        StatusChanged(C1, "prospect", "customer", "kanzlei", "bob", second),
    )


def test_ct1_x2_host_status_change_records_no_actor(desk: Ownership, clock: FakeClock) -> None:
    contact_in(desk, "prospect")
    moment = clock.advance(minutes=5)

    desk.set_status(C1, "archive", actor=None)

    assert desk.history(C1)[-1] == StatusChanged(C1, "prospect", "archive", "kanzlei", None, moment)


def test_ct1_a_status_change_leaves_the_holders_alone(desk: Ownership) -> None:
    contact_in(desk, "prospect", holders=[ANNA, BOB])

    desk.set_status(C1, "customer", actor="anna", confirmed=True)

    assert desk.holders(C1, "assignee") == (ANNA, BOB)


def test_ct1_user_who_may_not_edit_the_contact_cannot_change_its_status(guarded: Ownership) -> None:
    contact_in(guarded, "prospect")

    with refused(guarded, AccessDeniedError, "Bob may not change the status of contact C-1"):
        guarded.set_status(C1, "archive", actor="bob")
    assert guarded.record(C1).status == "prospect"


@pytest.mark.parametrize("actor", ["anna", "ada"])
def test_ct1_holder_and_admin_may_change_the_status(guarded: Ownership, actor: str) -> None:
    contact_in(guarded, "prospect")

    assert guarded.set_status(C1, "archive", actor=actor).status == "archive"


def test_ct1_user_of_another_tenant_cannot_change_the_status(desk: Ownership) -> None:
    contact_in(desk, "prospect")

    with refused(desk, ForeignActorError, "Only tenant 'kanzlei' can change the status of contact C-1; Paul cannot."):
        desk.set_status(C1, "archive", actor="paul")


def test_ct1_inactive_user_cannot_change_the_status(desk: Ownership) -> None:
    contact_in(desk, "prospect")

    with refused(desk, InactiveUserError, r"Carl \(carl\) is inactive"):
        desk.set_status(C1, "archive", actor="carl")


def test_ct1_a_record_tracked_before_its_kind_had_a_lifecycle_can_enter_one(
    repository: Repository, clock: FakeClock
) -> None:
    before = Ownership(Rulebook((Policy("contact", (Role("assignee"),)),)), repository, clock=clock)
    before.add_tenant("kanzlei")
    before.add_user("kanzlei", "Ada", id="ada", admin=True)
    old = before.create("contact", actor="ada", id="K-1")
    own = Ownership(presets.contact_desk(), repository, clock=clock)  # the kind gains its lifecycle
    assert own.record(old).status is None

    with pytest.raises(ConfirmationError, match="must be confirmed"):
        own.set_status(old, "customer", actor="ada")  # every way into customer is confirmed
    assert own.set_status(old, "prospect", actor="ada").status == "prospect"
    assert own.archive([old], actor="ada") == 1
