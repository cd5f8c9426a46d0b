"""The bulk room (src/ownership/usecases/bulk.py): record groups, and contacts joining and leaving them (CT6)."""

from conftest import contacts_desk, ids, refused
from ownership import (
    EVERYONE,
    Assignee,
    Ownership,
    RecordCreated,
    RecordGroupError,
    RecordRef,
    Segment,
    in_group,
    status_in,
)
from ownership.testing import FakeClock

desk = contacts_desk
"""The fixture these tests ask for as `desk`: Kanzlei Weber's contacts (tests/conftest.py)."""


ANNA, BOB, PAUL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("paul")
TAX, AUDIT = Assignee.group("tax"), Assignee.group("audit")
C1, C2, C3, C4 = (RecordRef("contact", f"C-{n}") for n in range(1, 5))
C5, C6, C7 = (RecordRef("contact", f"C-{n}") for n in range(5, 8))


# --- CT6: record groups -----------------------------------------------------------------------------


def test_ct6_record_group_has_a_name_a_number_and_its_own_responsible(desk: Ownership, clock: FakeClock) -> None:
    group = desk.create(
        "contact_group", actor="anna", id="VIP", name="VIP customers", number="G-1", holders={"responsible": TAX}
    )

    assert (group.name, group.number) == ("VIP customers", "G-1")
    assert desk.holders(group, "responsible") == (TAX,)
    assert desk.history(group)[0] == RecordCreated(group.ref, "kanzlei", "anna", clock.now)


def test_ct6_record_group_responsible_can_be_everyone_or_employees(desk: Ownership) -> None:
    shared = desk.create("contact_group", actor="anna", id="ALL", holders={"responsible": EVERYONE})
    pair = desk.create("contact_group", actor="anna", id="PAIR", holders={"responsible": [ANNA, BOB]})

    assert desk.holders(shared, "responsible") == (EVERYONE,)
    assert desk.holders(pair, "responsible") == (ANNA, BOB)


def test_ct6_contacts_join_a_group(desk: Ownership) -> None:
    vip = desk.create("contact_group", actor="anna", id="VIP", name="VIP")

    joined = desk.add_to_group(vip, [C1, desk.record(C2)], actor="anna")

    assert joined == 2
    assert desk.record(C1).groups == desk.record(C2).groups == frozenset({"VIP"})
    assert desk.record(C3).groups == frozenset()


def test_ct6_contacts_in_the_group_already_are_passed_over(desk: Ownership) -> None:
    vip = desk.create("contact_group", actor="anna", id="VIP", name="VIP")
    desk.add_to_group(vip, [C1], actor="anna")

    assert desk.add_to_group(vip, [C1, C2], actor="anna") == 1
    assert ids(desk.find("anna", "contact", in_group(vip))) == ["C-1", "C-2"]


def test_ct6_contacts_join_a_group_by_segment(desk: Ownership) -> None:
    customers = desk.create("contact_group", actor="anna", id="CUST", name="Customers")

    joined = desk.add_to_group(customers, Segment("contact", status_in("customer")), actor="anna")

    assert joined == 2
    assert ids(desk.find("anna", "contact", in_group(customers))) == ["C-2", "C-3"]


def test_ct6_a_contact_can_be_in_several_groups(desk: Ownership) -> None:
    vip = desk.create("contact_group", actor="anna", id="VIP")
    fair = desk.create("contact_group", actor="anna", id="FAIR")

    desk.add_to_group(vip, [C1], actor="anna")
    desk.add_to_group(fair, [C1], actor="anna")

    assert desk.record(C1).groups == frozenset({"VIP", "FAIR"})


def test_ct6_contacts_leave_a_group(desk: Ownership) -> None:
    vip = desk.create("contact_group", actor="anna", id="VIP")
    desk.add_to_group(vip, [C1, C2], actor="anna")

    left = desk.remove_from_group(vip, [C1, C3], actor="anna")

    assert left == 1  # C-3 was never in it
    assert desk.record(C1).groups == frozenset()
    assert ids(desk.find("anna", "contact", in_group(vip))) == ["C-2"]


def test_ct6_joining_a_group_keeps_holders_status_and_history(desk: Ownership) -> None:
    vip = desk.create("contact_group", actor="anna", id="VIP")
    holders, history = desk.holders(C5, "assignee"), desk.history(C5)

    desk.add_to_group(vip, [C5], actor="anna")

    assert desk.holders(C5, "assignee") == holders
    assert desk.history(C5) == history
    assert desk.record(C5).status == "archive"


def test_ct6_a_contact_is_no_record_group(desk: Ownership) -> None:
    with refused(desk, RecordGroupError, "contact C-1 is no record group: a contact groups no records."):
        desk.add_to_group(C1, [C2], actor="anna")
    with refused(desk, RecordGroupError, "is no record group"):
        desk.remove_from_group(C1, [C2], actor="anna")


def test_ct6_a_record_group_takes_only_the_kind_it_collects(desk: Ownership) -> None:
    vip = desk.create("contact_group", actor="anna", id="VIP")
    other = desk.create("contact_group", actor="anna", id="OTHER")

    with refused(desk, RecordGroupError, "A contact_group groups contact records, not contact_group OTHER."):
        desk.add_to_group(vip, [C1, other, C2], actor="anna")
    assert desk.record(C1).groups == frozenset()
