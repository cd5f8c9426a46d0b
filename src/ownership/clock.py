"""Clocks: `utcnow`, the default, and `FakeClock`, which stands still until it is moved."""

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
