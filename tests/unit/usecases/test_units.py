"""The shared base (src/ownership/usecases/_unit.py): units of work, and retries on ConflictError."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from conftest import caretakers
from ownership import Assignee, ConflictError, InvalidValueError, Ownership, RecordRef, presets
from ownership.adapters.memory import MemoryRepository
from ownership.ports import Transaction
from ownership.testing import FakeClock


class ConflictingRepository:
    """The memory repository, whose next `conflicts` units are refused at their end as if another had won."""

    def __init__(self) -> None:
        self.inner = MemoryRepository()
        self.conflicts = 0
        self.units = 0

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.inner.transaction() as tx:
            self.units += 1
            yield tx  # type: ignore[misc]  # the memory transaction is one, structurally
            if self.conflicts:
                self.conflicts -= 1
                raise ConflictError("Another change to the same records was saved at the same moment.")


@pytest.fixture
def repository() -> ConflictingRepository:
    return ConflictingRepository()


def crm(repository: ConflictingRepository, *, retries: int = 3) -> Ownership:
    own = Ownership(presets.account_managers(), repository, clock=FakeClock(), retries=retries)
    own.add_tenant("acme", plan="go")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.create("deal", actor="anna", id="D-1")
    return own


def test_a_conflicting_use_case_runs_again_and_succeeds(repository: ConflictingRepository) -> None:
    own = crm(repository)
    deal = own.record("deal", "D-1")
    repository.conflicts, repository.units = 2, 0

    held = own.assign(deal, "responsible", Assignee.user("bob"), actor="anna")

    assert held == (Assignee.user("bob"),)
    assert repository.units == 3  # refused twice, kept the third time
    assert [type(e).__name__ for e in own.history(deal)] == [
        "RecordCreated",
        "Assigned",
        "Unassigned",
        "Assigned",
    ], "the refused runs left nothing behind"


def test_a_conflict_that_persists_reaches_the_caller_and_nothing_is_kept(repository: ConflictingRepository) -> None:
    own = crm(repository, retries=2)
    deal = own.record("deal", "D-1")
    before = own.snapshot()
    repository.conflicts = 3  # one run and two more, all refused

    with pytest.raises(ConflictError, match="at the same moment"):
        own.assign(deal, "responsible", Assignee.user("bob"), actor="anna")

    assert own.snapshot() == before


def test_no_retries_means_the_first_conflict_reaches_the_caller(repository: ConflictingRepository) -> None:
    own = crm(repository, retries=0)
    deal = own.record("deal", "D-1")
    repository.conflicts, repository.units = 1, 0

    with pytest.raises(ConflictError):
        own.assign(deal, "responsible", Assignee.user("bob"), actor="anna")

    assert repository.units == 1


def test_reads_are_not_run_again(repository: ConflictingRepository) -> None:
    own = crm(repository)
    repository.conflicts, repository.units = 1, 0

    with pytest.raises(ConflictError):
        own.holders(RecordRef("deal", "D-1"), "responsible")

    assert repository.units == 1, "a read changes nothing, so there is nothing to decide again"


def test_retries_below_zero_are_refused() -> None:
    with pytest.raises(InvalidValueError, match=r"Ownership\(\): retries takes a whole number from 0 to .*, not -1\."):
        Ownership(presets.account_managers(), MemoryRepository(), retries=-1)


K1 = RecordRef("customer", "K-1")


def test_cg2_a_membership_rolled_back_grants_nothing_afterwards(clock: FakeClock) -> None:
    repo = MemoryRepository()
    own = caretakers(repo, clock)
    assert not own.can("carl", "view", K1)

    def failing_unit() -> None:
        with repo.transaction():
            own.add_member("north", "carl")
            assert own.can("carl", "view", K1), "a unit reads its own writes"
            raise RuntimeError("the host's unit fails")

    with pytest.raises(RuntimeError):
        failing_unit()

    assert own.groups_of("carl") == ()
    assert not own.can("carl", "view", K1)
    assert own.visible("carl", "customer").records == ()


def test_cg2_a_membership_added_inside_a_unit_counts_at_once_in_it(clock: FakeClock) -> None:
    repo = MemoryRepository()
    own = caretakers(repo, clock)
    assert not own.can("carl", "view", K1)  # Carl's viewer is now resolved and reused

    with repo.transaction():
        own.add_member("north", "carl")
        assert own.can("carl", "view", K1)
        assert [r.id for r in own.visible("carl", "customer").records] == ["K-1"]


def test_a_failed_inner_unit_takes_back_its_own_writes_alone(clock: FakeClock) -> None:
    repo = MemoryRepository()
    own = caretakers(repo, clock)

    def failing_step() -> None:
        with repo.transaction():
            own.add_user("meier-gmbh", "Emil", id="emil")
            raise RuntimeError("the inner step fails")

    with repo.transaction():
        own.add_user("meier-gmbh", "Dora", id="dora")
        with pytest.raises(RuntimeError):
            failing_step()

    assert [u.id for u in own.users("meier-gmbh")] == ["ada", "carl", "dora"]


def test_each_retry_is_logged_and_so_is_the_conflict_that_reaches_the_caller(
    repository: ConflictingRepository, caplog: pytest.LogCaptureFixture
) -> None:
    own = crm(repository, retries=2)
    deal = own.record("deal", "D-1")
    caplog.set_level(logging.INFO, logger="ownership")

    repository.conflicts = 1
    own.assign(deal, "responsible", Assignee.user("bob"), actor="anna")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "assign met another unit of work; running it again (1 of 2)")
    ]

    caplog.clear()
    repository.conflicts = 3
    with pytest.raises(ConflictError):
        own.assign(deal, "responsible", Assignee.user("anna"), actor="bob")
    assert [r.levelname for r in caplog.records] == ["INFO", "INFO", "WARNING"]
    assert caplog.records[-1].getMessage().startswith("assign gave up after 3 runs: ")
