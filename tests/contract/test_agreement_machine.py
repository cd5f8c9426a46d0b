"""The state machine of `ownership.testing.machine` (X8): a repository agrees with the in-memory one on every read.

It runs against the in-memory repository itself, the SQL repository on SQLite
and on PostgreSQL, and a subclass with its own rulebook; and it fails on
repositories broken by hand, one promise at a time, which proves it can fail.
Each run is kept short (the file stays well under a minute on CI): the
sequences are derandomized there, and the dev profile draws new ones.
"""

import unittest
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from ownership import Assignment, Event, RecordRef, presets
from ownership.adapters.memory import MemoryRepository
from ownership.ports import Repository, Transaction
from ownership.testing.machine import DEFAULT_RULEBOOK, RepositoryAgreement, agreement
from sql_repositories import PostgresRepositories, Repositories

pytest_plugins = ("sql_repositories",)


def _settings(examples: int, steps: int, *, failing: bool = False) -> settings:
    # Each step reads every record for every user on both sides; a few dozen sequences find what they can here.
    # The runs that must fail need no saved examples, nor the shortest failing sequence, and draw the same
    # sequences every time (in the dev profile too): that the machine can fail is never left to chance.
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=failing or settings.default.derandomize,
        phases=[Phase.generate] if failing else list(Phase),
        suppress_health_check=[HealthCheck.too_slow],
    )


def test_x8_the_in_memory_repository_agrees_with_itself() -> None:
    """No false alarm: two in-memory repositories never disagree, whatever the steps."""
    run_state_machine_as_test(agreement(MemoryRepository), settings=_settings(30, 30))


def test_x8_the_sql_repository_agrees_on_sqlite(sqlite_memory_repositories: Repositories) -> None:
    run_state_machine_as_test(agreement(sqlite_memory_repositories), settings=_settings(10, 25))


@pytest.mark.postgresql
def test_x8_the_sql_repository_agrees_on_postgresql(postgres_repositories: PostgresRepositories) -> None:
    run_state_machine_as_test(agreement(postgres_repositories), settings=_settings(6, 20))


class CaretakerAgreement(RepositoryAgreement):
    """The one hook a host defines, and a rulebook of its own: caretaker groups and teams' pools of work."""

    rulebook = presets.caretaker_groups()

    def make_repository(self) -> Repository:
        return MemoryRepository()


def test_x8_a_subclass_runs_with_its_own_rulebook_and_as_a_test_case() -> None:
    assert CaretakerAgreement.rulebook != DEFAULT_RULEBOOK
    assert issubclass(CaretakerAgreement.TestCase, unittest.TestCase)  # what a host names Test... to run it
    run_state_machine_as_test(CaretakerAgreement, settings=_settings(15, 25))


def test_x8_without_the_hook_the_machine_says_what_to_define() -> None:
    with pytest.raises(NotImplementedError, match="make_repository"):
        RepositoryAgreement()


# --- repositories broken by hand: each breaks one promise of the port, and the machine must notice ------------


class _Wrapped:
    """A transaction that answers as the in-memory one does, except where a subclass says otherwise."""

    def __init__(self, inner: Transaction) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _ForgetsRemovals(_Wrapped):
    """Taking a holder off a role is silently dropped."""

    def remove_assignment(self, assignment: Assignment) -> None:
        pass


class _ReversesHistory(_Wrapped):
    """A record's history comes back newest first."""

    def events(self, ref: RecordRef) -> Sequence[Event]:
        return tuple(reversed(self._inner.events(ref)))


class _LosesTheLastPage(_Wrapped):
    """A selection returns one record fewer than it should whenever it finds two or more."""

    def select(self, kind: str, filter: Any, *, limit: int, after: str | None = None) -> Sequence[Any]:
        found = self._inner.select(kind, filter, limit=limit, after=after)
        return found[:-1] if len(found) >= 2 else found


class BrokenRepository:
    """The in-memory repository behind a transaction that breaks one promise."""

    def __init__(self, breaking: Callable[[Transaction], Transaction]) -> None:
        self._inner = MemoryRepository()
        self._breaking = breaking

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._inner.transaction() as tx:
            yield self._breaking(tx)


BROKEN = {
    "forgets removals": _ForgetsRemovals,
    "reverses history": _ReversesHistory,
    "loses a selected record": _LosesTheLastPage,
}


@pytest.mark.parametrize("breaking", BROKEN.values(), ids=BROKEN.keys())
def test_x8_a_repository_that_breaks_a_promise_fails_the_machine(
    breaking: Callable[[Transaction], Transaction],
) -> None:
    with pytest.raises(AssertionError, match="disagrees") as failed:
        run_state_machine_as_test(
            agreement(lambda: BrokenRepository(breaking)), settings=_settings(50, 20, failing=True)
        )
    assert "the in-memory repository:" in str(failed.value)
    assert "yours:" in str(failed.value)
