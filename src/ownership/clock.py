"""Clocks: `utcnow`, the default, and `FakeClock`, which stands still until it is moved; and `counted_ids` for tests."""

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone


def utcnow() -> datetime:
    """Return the current moment, in UTC; the default clock."""
    return datetime.now(timezone.utc)


class FakeClock:
    """A clock for `Ownership(clock=...)` that only moves when told to.

    Args:
        start: the first moment it shows; 2026-01-05 09:00 UTC if none.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        """Return the moment the clock shows."""
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock on by a `timedelta` given as keywords (``days=1``) and return the new moment."""
        self.now += timedelta(**delta)
        return self.now


def counted_ids(prefix: str = "id-") -> Callable[[], str]:
    """Return an id source for `Ownership(ids=...)` that counts: ``id-0000``, ``id-0001``, ...

    Unlike the default random ids, the same calls give the same ids, so a test
    (or a state hypothesis draws twice from the same choices) comes out the same.
    """
    counter = itertools.count()
    return lambda: f"{prefix}{next(counter):04d}"
