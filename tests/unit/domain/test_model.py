"""The model (src/ownership/model.py): what the use cases take, turned into values or refused before any read."""

import pytest

from ownership import EVERYONE, Assignee, Group, GroupKind, InvalidValueError, User
from ownership.model import as_assignee, as_assignees, as_group_kind, as_labels, check_number

ANNA = User("anna", "acme", "Anna")
TEAM = Group("sales", "acme", "Sales", GroupKind.TEAM)


def test_a_user_or_a_group_stands_for_its_assignee() -> None:
    assert as_assignee(ANNA) == Assignee.user("anna")
    assert as_assignee(TEAM) == Assignee.group("sales")
    assert as_assignee(EVERYONE) is EVERYONE
    with pytest.raises(InvalidValueError, match=r"^An assignee is an Assignee, a User or a Group, not str\.$"):
        as_assignee("anna")  # type: ignore[arg-type]


def test_initial_holders_are_one_assignee_or_several() -> None:
    assert as_assignees(ANNA) == [ANNA]
    assert as_assignees([ANNA, TEAM]) == [ANNA, TEAM]


def test_x4_one_label_given_bare_is_refused_rather_than_split_into_letters() -> None:
    assert as_labels(["north", "web"]) == frozenset({"north", "web"})
    with pytest.raises(InvalidValueError, match=r"write labels=\{'north'\} for one"):
        as_labels("north")
    with pytest.raises(InvalidValueError, match="A label is a non-empty string, not ''"):
        as_labels(["north", ""])


def test_cg4_a_group_kind_is_given_as_itself_or_its_value() -> None:
    assert as_group_kind("team") is GroupKind.TEAM
    assert as_group_kind(GroupKind.CARETAKER) is GroupKind.CARETAKER
    with pytest.raises(InvalidValueError, match="There is no group kind 'squad'; the kinds are: caretaker, competence"):
        as_group_kind("squad")


def test_ct4_a_number_is_a_non_empty_string_or_none() -> None:
    check_number(None)
    check_number("K-0001")
    for bad in ("", 7):
        with pytest.raises(InvalidValueError, match="A record number is a non-empty string"):
            check_number(bad)
