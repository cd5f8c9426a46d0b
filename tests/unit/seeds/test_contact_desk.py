"""Contacts assigned to everyone, to employees or to a competence, as seed 004 describes: CT2."""

import pytest

from conftest import make
from ownership import EVERYONE, Assignee, AssigneeKindError, GroupKind, Ownership, presets
from ownership.testing import FakeClock

ANNA, BOB = Assignee.user("anna"), Assignee.user("bob")
TAX = Assignee.group("tax")


@pytest.fixture
def desk(clock: FakeClock) -> Ownership:
    """Kanzlei Weber: Anna and Bob, the competence "Tax advice", and the caretaker group "North"."""
    own = make(presets.contact_desk(), clock)
    own.add_tenant("kanzlei")
    own.add_user("kanzlei", "Anna", id="anna")
    own.add_user("kanzlei", "Bob", id="bob")
    own.add_group("kanzlei", "Tax advice", GroupKind.COMPETENCE, id="tax")
    own.add_group("kanzlei", "North", GroupKind.CARETAKER, id="north")
    own.add_group("kanzlei", "Support", GroupKind.TEAM, id="support")
    return own


def test_ct2_contact_can_be_assigned_to_all_employees(desk: Ownership) -> None:
    contact = desk.create("contact", actor="anna", id="P-100", holders={"assignee": EVERYONE})

    assert desk.holders(contact, "assignee") == (EVERYONE,)


def test_ct2_contact_can_be_assigned_to_individual_employees(desk: Ownership) -> None:
    contact = desk.create("contact", actor="anna", id="P-100")

    desk.assign(contact, "assignee", ANNA, actor="anna")
    holders = desk.assign(contact, "assignee", BOB, actor="anna")

    assert holders == (ANNA, BOB)


def test_ct2_contact_can_be_assigned_to_a_competence(desk: Ownership) -> None:
    contact = desk.create("contact", actor="anna", id="P-100")

    assert desk.assign(contact, "assignee", TAX, actor="anna") == (TAX,)


def test_ct2_contact_can_be_assigned_to_several_at_once(desk: Ownership) -> None:
    contact = desk.create("contact", actor="anna", id="P-100", holders={"assignee": [ANNA, BOB, TAX]})

    assert desk.holders(contact, "assignee") == (ANNA, BOB, TAX)


def test_ct2_contact_created_without_assignment_has_none(desk: Ownership) -> None:
    contact = desk.create("contact", actor="anna", id="P-100")

    assert desk.holders(contact, "assignee") == ()


def test_ct2_assignment_moves_from_everyone_to_a_competence(desk: Ownership) -> None:
    contact = desk.create("contact", actor="anna", id="P-100", holders={"assignee": EVERYONE})

    assert desk.replace(contact, "assignee", EVERYONE, TAX, actor="anna") == (TAX,)


@pytest.mark.parametrize(("group", "kind"), [("north", "caretaker"), ("support", "team")])
def test_ct2_contact_is_not_assigned_to_a_caretaker_group_or_team(desk: Ownership, group: str, kind: str) -> None:
    contact = desk.create("contact", actor="anna", id="P-100")

    with pytest.raises(AssigneeKindError, match=f"not a {kind} group"):
        desk.assign(contact, "assignee", Assignee.group(group), actor="anna")
    with pytest.raises(AssigneeKindError):
        desk.create("contact", actor="anna", id="P-101", holders={"assignee": Assignee.group(group)})

    assert desk.holders(contact, "assignee") == ()


def test_ct2_ct3_assigned_employees_are_notified(desk: Ownership) -> None:
    assignee = desk.rulebook.policy("contact").role("assignee")

    assert assignee.notified
    assert assignee.users
    assert assignee.everyone
    assert assignee.groups == frozenset({GroupKind.COMPETENCE})
