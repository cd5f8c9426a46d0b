"""The model (src/ownership/model.py): what the use cases take, turned into values or refused before any read."""

from datetime import datetime, timezone

import pytest

from ownership import EVERYONE, Assignee, Group, GroupKind, InvalidValueError, Membership, Profile, Tenant, User
from ownership.model import (
    ID_LENGTH,
    TEXT_LENGTH,
    AssigneeKind,
    as_assignee,
    as_assignees,
    as_group_kind,
    is_id,
    is_text,
    shown,
)

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


@pytest.mark.parametrize("good", ["a", "anna", "K-0001", "Müller & Söhne", "x" * ID_LENGTH, "🙂"])
def test_an_id_is_one_to_a_hundred_printable_characters(good: str) -> None:
    assert is_id(good)
    assert User(good, good, good).id == good


@pytest.mark.parametrize(
    "bad", ["", "x" * (ID_LENGTH + 1), "a\x00b", "tab\there", "line\n", "\ud800", 5, None, b"anna", ["anna"]]
)
def test_an_id_with_a_nul_a_control_character_a_lone_surrogate_or_too_long_is_refused_alike(bad: object) -> None:
    assert not is_id(bad)
    with pytest.raises(InvalidValueError, match=r"^User\.id takes an id \(1 to 100 printable characters\), not "):
        User(bad, "acme", "Anna")  # type: ignore[arg-type]


def test_a_name_is_text_of_at_most_a_thousand_characters_without_nul_or_lone_surrogate() -> None:
    for good in ("", "Anna\tMüller", "x" * TEXT_LENGTH):
        assert is_text(good)
    for bad in ("x" * (TEXT_LENGTH + 1), "a\x00", "\udc80", 5, None):
        assert not is_text(bad)
    with pytest.raises(InvalidValueError, match=r"^User\.name takes a text .*, not 'x\\x00y'\.$"):
        User("anna", "acme", "x\x00y")


def test_a_flag_is_a_bool_never_a_word_or_a_number() -> None:
    for bad in ("false", "no", 0, 1, None):
        with pytest.raises(InvalidValueError, match=r"^User\.admin takes True or False, not "):
            User("anna", "acme", "Anna", admin=bad)  # type: ignore[arg-type]


def test_tl4_a_set_of_names_given_as_a_bare_string_is_refused_rather_than_split_into_letters() -> None:
    assert Profile(restricted=["deal"]).restricted == frozenset({"deal"})
    with pytest.raises(
        InvalidValueError, match=r"Profile\.restricted takes a collection of names; write restricted=\{'deal'\}"
    ):
        Profile(restricted="deal")
    with pytest.raises(InvalidValueError, match=r"Tenant\.switches holds ids .*; 5 is none\."):
        Tenant("acme", "Acme", switches=["tickets", 5])  # type: ignore[list-item]


def test_x5_a_moment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(InvalidValueError, match=r"^Membership\.until takes None or a datetime with a time zone"):
        Membership("sales", "anna", datetime(2030, 1, 1))
    assert Membership("sales", "anna", datetime(2030, 1, 1, tzinfo=timezone.utc)).until is not None


def test_an_assignee_names_a_user_or_group_by_an_id_and_everyone_by_none() -> None:
    with pytest.raises(InvalidValueError, match=r"^Assignee\.id of a user takes an id"):
        Assignee.user("")
    with pytest.raises(InvalidValueError, match=r"^Assignee\.id of everyone is empty"):
        Assignee(AssigneeKind.EVERYONE, "anna")


def test_a_long_value_is_shown_cut_short_in_a_sentence() -> None:
    assert shown("x" * 5) == "'xxxxx'"
    assert shown("x" * 500).endswith("...(502 characters)")


def test_cg4_a_group_kind_is_given_as_itself_or_its_value() -> None:
    assert as_group_kind("team") is GroupKind.TEAM
    assert as_group_kind(GroupKind.CARETAKER) is GroupKind.CARETAKER
    with pytest.raises(InvalidValueError, match="There is no group kind 'squad'; the kinds are: caretaker, competence"):
        as_group_kind("squad")
