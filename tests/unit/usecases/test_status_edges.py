"""The status room (src/ownership/usecases/status.py): next_number on the desk with shared leads beside it (CT4)."""

import pytest

from conftest import edges_desk
from ownership import Ownership, UnknownKindError

desk = edges_desk
"""The fixture these tests ask for as `desk`: the contact desk with shared leads beside it (tests/conftest.py)."""


def test_ct4_next_number_of_an_unknown_kind_names_the_kind(desk: Ownership) -> None:
    with pytest.raises(UnknownKindError, match="bogus"):
        desk.next_number("kanzlei", "bogus")
