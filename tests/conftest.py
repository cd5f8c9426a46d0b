"""Shared fixtures and the hypothesis profiles.

Profiles: ``ci`` is derandomized, so CI never goes red by chance: the same
examples run every time, and a failure there is a real, repeatable one. ``dev``
draws fresh, more numerous examples on each run, to find what ``ci`` does not.
``CI=true`` picks ``ci``; ``HYPOTHESIS_PROFILE`` picks any.
"""

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from hypothesis import HealthCheck, settings

from ownership import Ownership, OwnershipError, Rulebook, presets
from ownership.adapters.memory import MemoryRepository
from ownership.adapters.sql import SqlRepository
from ownership.ports import Repository, Transaction
from ownership.testing import FakeClock
from postgres import (  # noqa: F401  # registers the PostgreSQL fixtures, and the line naming where they ran
    postgres_database_url,
    postgres_url,
    pytest_terminal_summary,
)

settings.register_profile(
    "ci", derandomize=True, max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(params=["memory", "sqlite"])
def repository(request: pytest.FixtureRequest) -> Iterator[Repository]:
    """An empty repository: in memory, and SQLite through the SQL adapter."""
    if request.param == "memory":
        yield MemoryRepository()
        return
    sql = SqlRepository.from_url("sqlite://")
    yield sql
    sql.engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(rulebook: Rulebook, clock: FakeClock | None = None) -> Ownership:
    """An Ownership on a fresh in-memory repository, with a fake clock."""
    return Ownership(rulebook, MemoryRepository(), clock=clock or FakeClock())


@pytest.fixture
def accounts(clock: FakeClock) -> Ownership:
    """The account-managers preset with tenant acme on plan go."""
    own = Ownership(presets.account_managers(), MemoryRepository(), clock=clock)
    own.add_tenant("acme", plan="go")
    return own


@contextmanager
def refused(own: Ownership, error: type[Exception], match: str) -> Iterator[None]:
    """Expect `error` with a message matching `match`, and the repository exactly as it was.

    An `OwnershipError` must read as a sentence; `error` may also be a host's own, raised from a callback.
    The snapshot compared takes in everything: records, holders, history, the outbox and the tenants' settings.
    """
    before = own.snapshot()
    with pytest.raises(error, match=match) as caught:
        yield
    if isinstance(caught.value, OwnershipError):
        message = str(caught.value)
        assert message.endswith("."), f"not a sentence: {message!r}"
    assert own.snapshot() == before


class UnversionedRepository:
    """The memory repository without its generation: `can` then decides by the predicate, not the compiled filter."""

    def __init__(self) -> None:
        self._inner = MemoryRepository()

    def transaction(self) -> AbstractContextManager[Transaction]:
        return self._inner.transaction()  # type: ignore[return-value]  # its transaction is one, structurally


def attempt(step: Callable[[], object]) -> None:
    """Run one generated step of a drawn CRM's life: a refusal is part of that life, anything else is a bug."""
    with contextlib.suppress(OwnershipError):
        step()
