"""The status room (src/ownership/usecases/status.py): record numbers and a tenant's number ranges (CT4)."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from conftest import refused as refused_by_conftest
from ownership import (
    AccessDeniedError,
    DuplicateIdError,
    DuplicateNumberError,
    ForeignActorError,
    InvalidValueError,
    NumberingError,
    NumberRange,
    Ownership,
    OwnershipError,
    RecordRef,
    Repository,
    UnknownKindError,
    presets,
)
from ownership.testing import FakeClock

C1, C2, C3 = RecordRef("contact", "C-1"), RecordRef("contact", "C-2"), RecordRef("contact", "C-3")


@pytest.fixture
def desk(repository: Repository, clock: FakeClock) -> Ownership:
    """Kanzlei Weber (admin Ada, Anna) and Globex (admin Gus, Paul) on the contact desk; nobody has a range yet.

    Kanzlei has contacts C-1, C-2 and C-3, without numbers.
    """
    own = Ownership(presets.contact_desk(), repository, clock=clock)
    own.add_tenant("kanzlei")
    own.add_tenant("globex")
    own.add_user("kanzlei", "Ada", id="ada", admin=True)
    own.add_user("kanzlei", "Anna", id="anna")
    own.add_user("globex", "Gus", id="gus", admin=True)
    own.add_user("globex", "Paul", id="paul")
    for ref in (C1, C2, C3):
        own.create("contact", actor="anna", id=ref.id)
    return own


@contextmanager
def refused(own: Ownership, error: type[OwnershipError], match: str) -> Iterator[None]:
    """Expect `error` with a sentence matching `match`, and the records and every range exactly as they were."""
    ranges = {(t, k): own.number_range(t, k) for t in ("kanzlei", "globex") for k in ("contact", "contact_group")}
    with refused_by_conftest(own, error, match):
        yield
    assert {(t, k): own.number_range(t, k) for t, k in ranges} == ranges


# --- configuring a range --------------------------------------------------------------------------


def test_ct4_tenant_has_no_range_until_one_is_configured(desk: Ownership) -> None:
    assert desk.number_range("kanzlei", "contact") is None


def test_ct4_admin_configures_a_range_and_reads_it_back(desk: Ownership) -> None:
    configured = desk.set_number_range("kanzlei", "contact", prefix="K-", width=4, next=100, actor="ada")

    assert configured == NumberRange("K-", 4, 100)
    assert desk.number_range("kanzlei", "contact") == configured


def test_ct4_host_configures_a_range_without_an_actor(desk: Ownership) -> None:
    desk.set_number_range("kanzlei", "contact", prefix="K-")

    assert desk.number_range("kanzlei", "contact") == NumberRange("K-", 1, 1)


def test_ct4_configuring_again_replaces_the_range(desk: Ownership) -> None:
    desk.set_number_range("kanzlei", "contact", prefix="K-", width=4, actor="ada")

    desk.set_number_range("kanzlei", "contact", prefix="KD", width=6, next=500, actor="ada")

    assert desk.next_number("kanzlei", "contact") == "KD000500"


def test_ct4_user_who_is_no_admin_cannot_configure_a_range(desk: Ownership) -> None:
    with refused(desk, AccessDeniedError, "Anna may not configure number ranges; only an admin of 'kanzlei' may."):
        desk.set_number_range("kanzlei", "contact", prefix="X-", actor="anna")


def test_ct4_admin_of_another_tenant_cannot_configure_a_range(desk: Ownership) -> None:
    with refused(desk, AccessDeniedError, "Gus may not configure number ranges; only an admin of 'kanzlei' may."):
        desk.set_number_range("kanzlei", "contact", prefix="X-", actor="gus")


@pytest.mark.parametrize(("width", "next"), [(0, 1), (1, -1)])
def test_ct4_bad_range_values_are_refused_and_the_old_range_stays(desk: Ownership, width: int, next: int) -> None:
    desk.set_number_range("kanzlei", "contact", prefix="K-", width=4, actor="ada")

    with refused(desk, NumberingError, "A number range's (width|next) is a whole number from"):
        desk.set_number_range("kanzlei", "contact", prefix="K-", width=width, next=next, actor="ada")
    assert desk.number_range("kanzlei", "contact") == NumberRange("K-", 4, 1)


def test_ct4_range_for_an_unknown_kind_is_refused(desk: Ownership) -> None:
    with pytest.raises(UnknownKindError):
        desk.set_number_range("kanzlei", "invoice", prefix="R-", actor="ada")


# --- handing out numbers --------------------------------------------------------------------------


def test_ct4_next_number_hands_out_the_range_one_after_another(desk: Ownership) -> None:
    desk.set_number_range("kanzlei", "contact", prefix="K-", width=4, actor="ada")

    numbers = [desk.next_number("kanzlei", "contact") for _ in range(3)]

    assert numbers == ["K-0001", "K-0002", "K-0003"]
    assert desk.number_range("kanzlei", "contact") == NumberRange("K-", 4, 4)


def test_ct4_range_starts_where_the_admin_said(desk: Ownership) -> None:
    desk.set_number_range("kanzlei", "contact", prefix="K-", width=5, next=42, actor="ada")

    assert desk.next_number("kanzlei", "contact") == "K-00042"


def test_ct4_numbers_outgrowing_the_width_keep_counting(desk: Ownership) -> None:
    desk.set_number_range("kanzlei", "contact", width=2, next=99, actor="ada")

    assert [desk.next_number("kanzlei", "contact") for _ in range(2)] == ["99", "100"]


def test_ct4_next_number_skips_numbers_given_by_hand(desk: Ownership) -> None:
    desk.set_number_range("kanzlei", "contact", prefix="K-", width=4, actor="ada")
    desk.create("contact", actor="anna", id="C-4", number="K-0002")
    desk.set_number(C1, "K-0003", actor="anna")

    numbers = [desk.next_number("kanzlei", "contact") for _ in range(2)]

    assert numbers == ["K-0001", "K-0004"]


def test_ct4_record_takes_the_next_number_of_its_range_when_none_is_given(desk: Ownership) -> None:
    desk.set_number_range("kanzlei", "contact", prefix="K-", width=4, actor="ada")

    first = desk.set_number(C1, actor="anna")
    second = desk.set_number(C2, None, actor="anna")

    assert (first.number, second.number) == ("K-0001", "K-0002")
    assert desk.record(C1).number == "K-0001"
    assert desk.next_number("kanzlei", "contact") == "K-0003"


def test_ct4_record_created_with_a_number_carries_it(desk: Ownership) -> None:
    contact = desk.create("contact", actor="anna", id="C-4", number="K-0815")

    assert contact.number == "K-0815"
    assert desk.record(contact.ref).number == "K-0815"


def test_ct4_record_can_be_renumbered_by_hand(desk: Ownership) -> None:
    desk.set_number(C1, "K-1", actor="anna")

    assert desk.set_number(C1, "K-2", actor="anna").number == "K-2"
    desk.create("contact", actor="anna", id="C-4", number="K-1")  # the old number is free again


def test_ct4_giving_a_record_the_number_it_carries_changes_nothing(desk: Ownership) -> None:
    desk.set_number(C1, "K-1", actor="anna")
    before = desk.snapshot()

    assert desk.set_number(C1, "K-1", actor="anna").number == "K-1"
    assert desk.snapshot() == before


def test_ct4_without_a_range_next_number_is_refused(desk: Ownership) -> None:
    with refused(desk, NumberingError, "Tenant 'kanzlei' has no number range for contact records"):
        desk.next_number("kanzlei", "contact")


def test_ct4_without_a_range_a_record_cannot_take_the_next_number(desk: Ownership) -> None:
    with refused(desk, NumberingError, "configure one with set_number_range."):
        desk.set_number(C1, actor="anna")
    assert desk.record(C1).number is None


def test_ct4_empty_number_is_refused(desk: Ownership) -> None:
    with refused(
        desk,
        InvalidValueError,
        r"set_number\(\): number takes an id \(1 to 100 printable characters\) or None, not ''\.",
    ):
        desk.set_number(C1, "", actor="anna")


@pytest.mark.parametrize("number", ["", 42])
def test_ct4_create_refuses_a_number_that_is_no_non_empty_string_as_set_number_does(
    desk: Ownership, number: object
) -> None:
    with refused(
        desk, InvalidValueError, r"create\(\): number takes an id \(1 to 100 printable characters\) or None, not "
    ):
        desk.create("contact", actor="anna", id="C-4", number=number)  # type: ignore[arg-type]  # what a host may pass


def test_ct4_user_of_another_tenant_cannot_number_a_record(desk: Ownership) -> None:
    with refused(desk, ForeignActorError, "Only tenant 'kanzlei' can number contact C-1; Paul cannot."):
        desk.set_number(C1, "K-1", actor="paul")


# --- numbers are unique ----------------------------------------------------------------------------


def test_ct4_number_given_twice_on_create_is_refused(desk: Ownership) -> None:
    desk.set_number(C1, "K-0001", actor="anna")

    with refused(
        desk,
        DuplicateNumberError,
        "contact C-1 carries number 'K-0001' already; each contact of tenant 'kanzlei' needs its own number.",
    ):
        desk.create("contact", actor="anna", id="C-4", number="K-0001")


def test_ct4_number_given_twice_by_set_number_is_refused_and_the_record_keeps_its_own(desk: Ownership) -> None:
    desk.set_number(C1, "K-0001", actor="anna")
    desk.set_number(C2, "K-0002", actor="anna")

    with refused(desk, DuplicateNumberError, "contact C-1 carries number 'K-0001' already"):
        desk.set_number(C2, "K-0001", actor="anna")
    assert desk.record(C2).number == "K-0002"


def test_ct4_a_duplicate_number_is_a_duplicate_id(desk: Ownership) -> None:
    desk.set_number(C1, "K-0001", actor="anna")

    with pytest.raises(DuplicateIdError):
        desk.set_number(C2, "K-0001", actor="anna")


def test_ct4_a_number_from_the_range_is_never_one_a_record_carries(desk: Ownership) -> None:
    desk.set_number_range("kanzlei", "contact", prefix="K-", width=4, actor="ada")
    desk.set_number(C1, "K-0001", actor="anna")
    desk.set_number(C2, "K-0002", actor="anna")

    assert desk.set_number(C3, actor="anna").number == "K-0003"


def test_ct4_numbers_are_per_tenant(desk: Ownership) -> None:
    desk.set_number(C1, "K-0001", actor="anna")

    partner = desk.create("contact", actor="paul", id="G-1", number="K-0001")

    assert partner.number == desk.record(C1).number == "K-0001"


def test_ct4_numbers_are_per_kind(desk: Ownership) -> None:
    desk.set_number(C1, "1", actor="anna")

    group = desk.create("contact_group", actor="anna", id="VIP", number="1")

    assert group.number == desk.record(C1).number == "1"


def test_ct4_ranges_are_per_tenant(desk: Ownership) -> None:
    desk.set_number_range("kanzlei", "contact", prefix="K-", width=3, actor="ada")
    desk.set_number_range("globex", "contact", prefix="G-", width=3, actor="gus")

    kanzlei = [desk.next_number("kanzlei", "contact") for _ in range(2)]
    globex = desk.next_number("globex", "contact")

    assert (kanzlei, globex) == (["K-001", "K-002"], "G-001")
    assert desk.number_range("globex", "contact") == NumberRange("G-", 3, 2)


def test_ct4_ranges_are_per_kind(desk: Ownership) -> None:
    desk.set_number_range("kanzlei", "contact", prefix="K-", actor="ada")
    desk.set_number_range("kanzlei", "contact_group", prefix="GR-", actor="ada")

    desk.next_number("kanzlei", "contact")

    assert desk.next_number("kanzlei", "contact_group") == "GR-1"
    assert desk.number_range("kanzlei", "contact_group") == NumberRange("GR-", 1, 2)
    assert desk.number_range("globex", "contact") is None


def test_ct4_numbers_other_tenants_carry_are_not_skipped(desk: Ownership) -> None:
    desk.create("contact", actor="paul", id="G-1", number="K-1")
    desk.set_number_range("kanzlei", "contact", prefix="K-", actor="ada")

    assert desk.next_number("kanzlei", "contact") == "K-1"
