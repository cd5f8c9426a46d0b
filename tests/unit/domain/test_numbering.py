"""Number ranges (src/ownership/numbering.py): how a range formats its numbers (CT4)."""

import pytest

from ownership import NumberingError, NumberRange

# --- how a range formats its numbers ----------------------------------------------------------------


def test_ct4_range_puts_its_prefix_before_the_number_padded_to_its_width() -> None:
    assert NumberRange("K-", 5, 42).format(42) == "K-00042"


def test_ct4_range_without_prefix_and_width_one_gives_the_bare_number() -> None:
    assert NumberRange().format(7) == "7"


def test_ct4_a_number_wider_than_the_range_keeps_all_its_digits() -> None:
    assert NumberRange("K-", 2, 1).format(12345) == "K-12345"


@pytest.mark.parametrize(("width", "next"), [(0, 1), (-3, 1), (1, -1)])
def test_ct4_range_with_a_width_below_one_or_a_negative_counter_is_refused(width: int, next: int) -> None:
    with pytest.raises(NumberingError, match="is a whole number from"):
        NumberRange("K-", width, next)
