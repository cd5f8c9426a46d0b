"""Number ranges: how a tenant's records of one kind get their numbers (CT4).

A range is a prefix, a width to pad the counter to, and the next value;
``NumberRange("K-", 5, 42)`` hands out ``K-00042``, then ``K-00043``. Numbers
are unique among a tenant's records of one kind; `Ownership.next_number`
skips numbers someone gave by hand, and a number given twice is refused.
"""

from collections.abc import Callable

from attrs import Attribute, field, frozen

from ownership.errors import NumberingError
from ownership.model import BIGGEST, shown


def _between(low: int, high: int) -> Callable[[object, "Attribute[int]", int], None]:
    def check(_instance: object, attribute: "Attribute[int]", value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise NumberingError(
                f"A number range's {attribute.name} is a whole number from {low} to {high}, not {shown(value)}."
            )

    return check


PREFIX_LENGTH = 80
"""The most characters a number's prefix has, so that a number stays an id."""


def a_prefix(_instance: object, _attribute: "Attribute[str]", value: object) -> None:
    """Refuse a prefix that would not leave a number a valid id."""
    if not isinstance(value, str) or len(value) > PREFIX_LENGTH or not (value.isprintable()):
        raise NumberingError(
            f"A number range's prefix takes at most {PREFIX_LENGTH} printable characters, not {shown(value)}."
        )


@frozen
class NumberRange:
    """A tenant's numbering of one record kind (CT4).

    Attributes:
        prefix: put before every number (``"K-"``).
        width: the digits a number is padded to with zeros; a larger number keeps all its digits.
        next: the counter's next value.
    """

    prefix: str = field(default="", validator=a_prefix)
    width: int = field(default=1, validator=_between(1, 20))
    next: int = field(default=1, validator=_between(0, BIGGEST))

    def format(self, value: int) -> str:
        """Return the number the counter value `value` stands for."""
        return f"{self.prefix}{value:0{self.width}d}"
