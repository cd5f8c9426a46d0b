"""The auto-assignment room (src/ownership/usecases/auto_assign.py): a territory may read labels (X4)."""

from conftest import edges_desk
from ownership import Assignee, Ownership, Territory, ToGroup, labelled

desk = edges_desk
"""The fixture these tests ask for as `desk`: the contact desk with shared leads beside it (tests/conftest.py)."""


def test_x4_a_territory_reading_labels_is_kept(desk: Ownership) -> None:
    rules = desk.set_auto_assign("kanzlei", "contact", [Territory(labelled("north"), ToGroup("assignee", "tax"))])

    assert desk.auto_assign_rules("kanzlei", "contact") == rules
    north = desk.create("contact", actor="ada", id="K-9", labels={"north"})
    assert desk.holders(north, "assignee") == (Assignee.group("tax"),)
