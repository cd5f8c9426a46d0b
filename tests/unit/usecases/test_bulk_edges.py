"""The bulk room (src/ownership/usecases/bulk.py): what a selection may be, a page of find but nothing else (CT6)."""

import pytest

from conftest import edges_desk
from ownership import InvalidValueError, Ownership, named

desk = edges_desk
"""The fixture these tests ask for as `desk`: the contact desk with shared leads beside it (tests/conftest.py)."""


def test_ct6_a_page_of_find_is_a_selection(desk: Ownership) -> None:
    for n in range(3):
        desk.create("contact", actor="anna", id=f"K-{n}", name=f"Weber {n}")
    page = desk.find("ada", "contact", named("weber"), limit=2)

    assert desk.archive(page, actor="ada") == 2
    assert [desk.record("contact", f"K-{n}").status for n in range(3)] == ["archive", "archive", "prospect"]


@pytest.mark.parametrize("picked", [["K-1"], [("contact", "K-1")], [42]], ids=["id", "tuple", "number"])
def test_ct6_a_selection_of_what_is_no_record_is_refused_with_a_sentence(desk: Ownership, picked: list[object]) -> None:
    desk.create("contact", actor="anna", id="K-1")
    before = desk.snapshot()

    with pytest.raises(InvalidValueError, match=r"RecordRef\(kind, id\)\.$"):
        desk.archive(picked, actor="ada")  # type: ignore[arg-type]
    assert desk.snapshot() == before
