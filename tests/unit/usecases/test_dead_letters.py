"""Leases, backoff and dead letters of `dispatch` (X7): one bad key never holds up the others."""

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from ownership import (
    Assignee,
    ConflictError,
    Dispatched,
    InvalidValueError,
    Notification,
    Ownership,
    RecordRef,
    presets,
)
from ownership.adapters.memory import MemoryRepository
from ownership.testing import FakeClock, RecordingNotifier
from ownership.usecases.audit import Finding
from ownership.usecases.notifications import pause

DEAL = RecordRef("deal", "D-1")
SECOND = timedelta(seconds=1)


@pytest.fixture
def own(clock: FakeClock) -> Ownership:
    """Acme: Anna made deal D-1 with Bob responsible, then noted three things on it: four notices to Bob."""
    own = Ownership(presets.account_managers(), MemoryRepository(), clock=clock)
    own.add_tenant("acme", plan="go")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.create("deal", actor="anna", id="D-1", holders={"responsible": Assignee.user("bob")})
    for _ in range(3):
        own.record_activity(DEAL, "note_added", actor="anna")
    return own


def keys(own: Ownership) -> list[str]:
    return [entry.notification.key for entry in own.outbox()]


class Poisoned(RecordingNotifier):
    """Raises on every batch holding the key `bad`, as a transport choking on one message would."""

    def __init__(self, bad: str) -> None:
        super().__init__()
        self.bad = bad
        self.batches: list[list[str]] = []

    def deliver(self, notifications: Sequence[Notification]) -> Collection[str]:
        self.batches.append([n.key for n in notifications])
        if any(n.key == self.bad for n in notifications):
            raise ConnectionError("the push service choked on it")
        return super().deliver(notifications)


def test_x7_a_batch_the_notifier_raises_on_is_split_so_the_others_arrive_in_the_same_call(own: Ownership) -> None:
    first, bad, third, fourth = keys(own)
    notifier = Poisoned(bad)

    report = own.dispatch(notifier)

    assert report == Dispatched(delivered=(first, third, fourth), failed=(bad,))
    assert notifier.batches == [[first, bad, third, fourth], [first, bad], [first], [bad], [third, fourth]]
    assert [(e.notification.key, e.attempts) for e in own.outbox(pending=True)] == [(bad, 1)]


def test_x7_a_failed_key_waits_its_backoff_which_doubles_up_to_an_hour(own: Ownership, clock: FakeClock) -> None:
    bad = keys(own)[1]
    notifier = Poisoned(bad)
    assert own.dispatch(notifier).failed == (bad,)

    assert own.dispatch(notifier) == Dispatched((), ()), "not before a second has passed"
    clock.advance(seconds=1)
    assert own.dispatch(notifier).failed == (bad,)
    clock.advance(seconds=1)
    assert own.dispatch(notifier) == Dispatched((), ()), "two seconds after the second failure"
    clock.advance(seconds=1)
    assert own.dispatch(notifier).failed == (bad,)
    assert own.outbox(pending=True)[0].next_attempt_at == clock.now + 4 * SECOND
    assert [pause(SECOND, n) for n in (1, 2, 3, 12, 13, 10**9)] == [
        SECOND,
        2 * SECOND,
        4 * SECOND,
        2048 * SECOND,
        timedelta(hours=1),
        timedelta(hours=1),
    ]
    assert pause(timedelta(0), 5) == timedelta(0)


def test_x7_after_max_attempts_a_key_is_a_dead_letter_that_outbox_and_audit_show_and_retry_dead_gives_back(
    own: Ownership,
) -> None:
    bad = keys(own)[2]
    notifier = Poisoned(bad)
    assert own.dispatch(notifier, max_attempts=2, backoff=timedelta(0)).dead == ()

    report = own.dispatch(notifier, max_attempts=2, backoff=timedelta(0))

    assert report == Dispatched(delivered=(), failed=(bad,), dead=(bad,))
    assert [(e.notification.key, e.attempts, e.dead) for e in own.outbox(dead=True)] == [(bad, 2, True)]
    assert own.outbox(pending=True) == ()
    assert own.dispatch(RecordingNotifier()) == Dispatched((), ()), "a dead letter is passed over"
    [finding] = [f for f in own.audit("acme") if f.kind == "dead_letter"]
    assert finding == Finding(
        "dead_letter",
        bad,
        "The notification telling Bob of note_added on deal D-1 failed 2 times and is no longer delivered; fix what "
        "the notifier logged and call retry_dead().",
    )

    assert own.retry_dead(["unknown", keys(own)[0]]) == (), "only dead letters are given back"
    assert own.retry_dead() == (bad,)

    fine = RecordingNotifier()
    assert own.dispatch(fine) == Dispatched(delivered=(bad,), failed=())
    assert own.outbox(dead=True) == ()
    assert [f for f in own.audit("acme") if f.kind == "dead_letter"] == []


def test_x7_another_tenants_audit_does_not_see_a_dead_letter_to_acme(own: Ownership) -> None:
    own.add_tenant("globex")
    bad = keys(own)[0]
    own.dispatch(Poisoned(bad), max_attempts=1)

    assert [e.notification.key for e in own.outbox(dead=True)] == [bad]
    assert [f for f in own.audit("globex") if f.kind == "dead_letter"] == []


def test_x7_while_a_dispatcher_holds_its_batch_another_finds_nothing_and_after_the_lease_it_does(
    own: Ownership, clock: FakeClock
) -> None:
    seen: list[Dispatched] = []

    class Slow(RecordingNotifier):
        """While it delivers, a second dispatcher runs; then the first dies before settling."""

        def deliver(self, notifications: Sequence[Notification]) -> Collection[str]:
            seen.append(own.dispatch(RecordingNotifier()))
            raise SystemExit  # the first dispatcher dies: no settling

    with pytest.raises(SystemExit):
        own.dispatch(Slow(), lease=timedelta(seconds=30))
    assert seen == [Dispatched((), ())], "the batch is claimed while its lease is live"
    clock.advance(seconds=29)
    assert own.dispatch(RecordingNotifier()) == Dispatched((), ())
    clock.advance(seconds=1)
    assert own.dispatch(RecordingNotifier()).delivered == tuple(keys(own)), "the lease ended: delivered again"


@pytest.mark.parametrize(
    ("arguments", "wanted"),
    [
        ({"limit": 0}, "limit takes a whole number from 1"),
        ({"max_attempts": 0}, "max_attempts takes a whole number from 1"),
        ({"lease": timedelta(0)}, "lease is a positive timedelta"),
        ({"backoff": -SECOND}, "backoff is a timedelta of zero or more"),
    ],
)
def test_x7_dispatch_refuses_settings_that_make_no_sense_and_claims_nothing(
    own: Ownership, arguments: dict[str, object], wanted: str
) -> None:
    with pytest.raises(InvalidValueError, match=wanted):
        own.dispatch(RecordingNotifier(), **arguments)  # type: ignore[arg-type]
    assert len(own.dispatch(RecordingNotifier()).delivered) == 4


class _ConflictingSettles:
    """A memory repository whose first `conflicts` settles meet another unit of work, as a busy database's may."""

    def __init__(self, conflicts: int) -> None:
        self.inner = MemoryRepository()
        self.conflicts = conflicts

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.inner.transaction() as tx:
            yield _Settling(tx, self)


class _Settling:
    def __init__(self, tx: Any, repository: _ConflictingSettles) -> None:
        self._tx = tx
        self._repository = repository

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def settle(self, *arguments: Any, **keywords: Any) -> None:
        self._tx.settle(*arguments, **keywords)
        if self._repository.conflicts > 0:
            self._repository.conflicts -= 1
            raise ConflictError("Another change was saved at the same moment; repeat the call.")


def test_x7_settling_is_run_again_until_it_is_saved_so_a_delivery_never_ends_in_a_conflict(clock: FakeClock) -> None:
    repository = _ConflictingSettles(conflicts=8)  # more than Ownership's five retries of a use case
    own = Ownership(presets.account_managers(), repository, clock=clock)  # type: ignore[arg-type]
    own.add_tenant("acme", plan="go")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.create("deal", actor="anna", id="D-1", holders={"responsible": Assignee.user("bob")})
    notifier = RecordingNotifier()

    report = own.dispatch(notifier)

    assert report.delivered == tuple(notifier.keys) != ()
    assert repository.conflicts == 0
    assert own.outbox(pending=True) == ()
    assert own.dispatch(notifier) == Dispatched((), ()), "settled once it was saved: never handed out again"
