"""A notifier that records what it was given, and can be told to fail."""

from collections.abc import Collection, Sequence

from ownership.notify import Notification


class RecordingNotifier:
    """A `Notifier` that keeps every notification it accepted in `sent`.

    Args:
        fail_every: fail every n-th call to `deliver` by raising, as a crashing
            transport would; never if None.
        refuse: keys it refuses to deliver (returns them as not delivered) on every call.
    """

    def __init__(self, *, fail_every: int | None = None, refuse: Collection[str] = ()) -> None:
        self.sent: list[Notification] = []
        self.calls = 0
        self._fail_every = fail_every
        self._refuse = set(refuse)

    def deliver(self, notifications: Sequence[Notification]) -> Collection[str]:
        """Record the batch, or raise `ConnectionError` on every n-th call; return the refused keys."""
        self.calls += 1
        if self._fail_every is not None and self.calls % self._fail_every == 0:
            raise ConnectionError(f"delivery {self.calls} failed, as this notifier was told to")
        refused = {n.key for n in notifications if n.key in self._refuse}
        self.sent.extend(n for n in notifications if n.key not in refused)
        return refused

    @property
    def keys(self) -> list[str]:
        """The keys of everything accepted, in order."""
        return [n.key for n in self.sent]
