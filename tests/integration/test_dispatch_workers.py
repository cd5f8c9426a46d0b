"""Delivery with many dispatchers at once (X7): no key handed to two notifiers, none lost, no poison message.

Four dispatchers drain an outbox of 300 notifications on memory, a SQLite file
and PostgreSQL, as threads sharing one `Ownership` or as processes each opening
its own repository on the same file or database. Their notifier records every
key it acknowledged and fails some calls, and refuses some keys, at random:

- while no dispatcher dies, every key is delivered exactly once;
- when one dies in the middle of a batch (a process killed with SIGKILL after
  claiming, a thread stopped by an exception `dispatch` does not catch), its
  lease ends and its batch goes to the others: every key at least once, and only
  the dead one's batch twice;
- a key the notifier always raises on is a dead letter after `max_attempts`,
  and the other 299 are delivered, exactly once.
"""

import multiprocessing
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from ownership import Channel, Notification, Ownership, RecordRef, presets
from ownership.adapters.memory import MemoryRepository
from ownership.adapters.sql import SCHEMA_VERSION, SqlRepository, create_schema, make_engine, schema_table
from ownership.ports import Repository
from postgres import throwaway_database
from sql_repositories import WAIT, sqlite_file

NOTIFICATIONS = 300
DISPATCHERS = 4
BATCH = 10
LEASE = timedelta(seconds=30)  # far longer than any batch takes: no lease ends while its dispatcher lives
SHORT_LEASE = timedelta(seconds=1)  # the dead dispatcher's batch comes back soon
BACKOFF = timedelta(milliseconds=5)
RAISING = 0.1  # the share of calls the notifier raises on
REFUSING = 0.03  # the share of keys it refuses
POISON = "deal/D-0/0/user-0150"
_AT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


class _DiedError(BaseException):
    """A dispatcher thread stopping dead in the middle of a batch: `dispatch` catches no BaseException."""


def _keys() -> list[str]:
    return [f"deal/D-0/0/user-{n:04d}" for n in range(NOTIFICATIONS)]


def _fill(repository: Repository) -> None:
    with repository.transaction() as tx:
        for key in _keys():
            recipient = key.rsplit("/", 1)[1]
            tx.enqueue(Notification(key, recipient, RecordRef("deal", "D-0"), "note_added", None, _AT, Channel.PUSH))


class FlakyNotifier:
    """Records what it acknowledges through `record`; raises on some calls and refuses some keys at random.

    Args:
        record: called with the keys of each batch it acknowledged.
        seed: its random choices, so a run can be repeated.
        poison: a key it always raises on; then it fails nothing else, so that no other key is dead by chance.
        die: called on the first batch, after half of it was recorded as acknowledged: a dispatcher dying mid-batch.
    """

    def __init__(
        self,
        record: Callable[[Sequence[str]], None],
        seed: int,
        *,
        poison: str | None = None,
        die: Callable[[], None] | None = None,
    ) -> None:
        self._record = record
        self._random = random.Random(seed)
        self._poison = poison
        self._die = die

    def deliver(self, notifications: Sequence[Notification]) -> set[str]:
        """Acknowledge the batch but for the keys it refuses, or raise; or die, the first time it is told to."""
        keys = [n.key for n in notifications]
        if self._die is not None:
            self._record(keys[: len(keys) // 2])
            self._die()
        flaky = self._poison is None
        if self._poison in keys or (flaky and self._random.random() < RAISING):
            raise ConnectionError("the push service did not answer")
        refused = {key for key in keys if flaky and self._random.random() < REFUSING}
        self._record([key for key in keys if key not in refused])
        return refused


def _drain(own: Ownership, notifier: FlakyNotifier, lease: timedelta, max_attempts: int) -> None:
    """Dispatch until nothing is pending, waiting a little whenever nothing was due (claimed by others, backing off)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        report = own.dispatch(notifier, limit=BATCH, lease=lease, backoff=BACKOFF, max_attempts=max_attempts)
        if not report.delivered and not report.failed:
            if not own.outbox(pending=True):
                return
            time.sleep(0.02)
    raise AssertionError(f"the outbox was not drained in {WAIT} seconds")


# --- the dispatchers: threads, or processes ----------------------------------------------------------------


def _in_threads(own: Ownership, *, poison: str | None, dying: bool, lease: timedelta, max_attempts: int) -> list[str]:
    """Run the dispatchers as threads sharing `own`; return every key acknowledged, as often as it was."""
    acknowledged: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def record(keys: Sequence[str]) -> None:
        with lock:
            acknowledged.extend(keys)

    claimed = threading.Event()

    def die() -> None:
        claimed.set()
        raise _DiedError

    start = threading.Barrier(DISPATCHERS, timeout=WAIT)

    def work(number: int) -> None:
        notifier = FlakyNotifier(record, number, poison=poison, die=die if dying and number == 0 else None)
        start.wait()
        if dying and number != 0:
            claimed.wait(WAIT)  # the dying one claims a batch first, so it surely dies holding one
        try:
            _drain(own, notifier, lease, max_attempts)
        except _DiedError:
            return
        except BaseException as error:  # the test judges every outcome
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(DISPATCHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert not errors, errors
    return acknowledged


def _work_in_a_process(  # noqa: PLR0917  # what a spawned process is given, as plain values
    url: str,
    start: Any,
    claimed: Any,
    record_to: str,
    number: int,
    poison: str | None,
    die: bool,
    lease: float,
    max_attempts: int,
) -> None:
    """One dispatcher process: its own engine and `Ownership`; what it acknowledges is appended to `record_to`."""
    own = Ownership(presets.account_managers(), SqlRepository(make_engine(url)))

    def record(keys: Sequence[str]) -> None:
        with open(record_to, "a", encoding="utf-8") as file:
            file.writelines(f"{key}\n" for key in keys)

    def kill() -> None:
        claimed.set()
        os.kill(os.getpid(), signal.SIGKILL)

    notifier = FlakyNotifier(record, number, poison=poison, die=kill if die else None)
    start.wait(WAIT)
    if claimed is not None and not die:
        claimed.wait(WAIT)  # the dying one claims a batch first, so it surely dies holding one
    _drain(own, notifier, timedelta(seconds=lease), max_attempts)


def _in_processes(
    url: str, directory: Path, *, poison: str | None, dying: bool, lease: timedelta, max_attempts: int
) -> list[str]:
    """Run the dispatchers as processes each with its own repository on `url`; return every key acknowledged."""
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(DISPATCHERS)
    claimed = spawn.Event() if dying else None
    files = [directory / f"acknowledged-{n}.txt" for n in range(DISPATCHERS)]
    processes = [
        spawn.Process(
            target=_work_in_a_process,
            args=(url, start, claimed, str(files[n]), n, poison, dying and n == 0, lease.total_seconds(), max_attempts),
        )
        for n in range(DISPATCHERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(WAIT * 2)
        if process.is_alive():
            process.kill()
    codes = [process.exitcode for process in processes]
    assert codes == ([-signal.SIGKILL] if dying else [0]) + [0] * (DISPATCHERS - 1), codes
    return [line for file in files if file.exists() for line in file.read_text(encoding="utf-8").splitlines()]


# --- where they run ----------------------------------------------------------------------------------------

Run = Callable[..., tuple[list[str], Ownership]]


@pytest.fixture(
    params=[
        "memory-threads",
        "sqlite_file-threads",
        "sqlite_file-processes",
        pytest.param("postgresql-threads", marks=pytest.mark.postgresql),
        pytest.param("postgresql-processes", marks=pytest.mark.postgresql),
    ]
)
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Run]:
    """Fill a new outbox on the parameter's store, and run the dispatchers on it as the parameter says."""
    store, how = request.param.split("-")
    if store == "postgresql":
        with throwaway_database(request.getfixturevalue("postgres_url"), "ownership_dispatch") as url:
            repository = SqlRepository.from_url(url)
            yield _runner(repository, url, how, tmp_path)
            repository.close()
        return
    if store == "memory":
        yield _runner(MemoryRepository(), "", how, tmp_path)
        return
    repository = sqlite_file(tmp_path)
    yield _runner(repository, repository.engine.url.render_as_string(hide_password=False), how, tmp_path)
    repository.close()


def _runner(repository: Repository, url: str, how: str, directory: Path) -> Run:
    _fill(repository)
    own = Ownership(presets.account_managers(), repository)

    def run(
        *, poison: str | None = None, dying: bool = False, lease: timedelta = LEASE, max_attempts: int = 10
    ) -> tuple[list[str], Ownership]:
        if how == "threads":
            return _in_threads(own, poison=poison, dying=dying, lease=lease, max_attempts=max_attempts), own
        return _in_processes(url, directory, poison=poison, dying=dying, lease=lease, max_attempts=max_attempts), own

    return run


# --- the tests ---------------------------------------------------------------------------------------------


def test_x7_four_dispatchers_and_a_flaky_notifier_deliver_every_key_exactly_once(run: Run) -> None:
    acknowledged, own = run()

    assert Counter(acknowledged) == Counter(_keys()), "each key acknowledged once"
    assert own.outbox(pending=True) == ()
    assert all(entry.delivered for entry in own.outbox())
    assert own.outbox(dead=True) == ()


def test_x7_a_dispatcher_dying_mid_batch_loses_its_lease_and_its_batch_is_delivered_again(run: Run) -> None:
    acknowledged, own = run(dying=True, lease=SHORT_LEASE)

    counts = Counter(acknowledged)
    assert set(counts) == set(_keys()), "every key at least once"
    twice = sorted(key for key, count in counts.items() if count > 1)
    assert all(count <= 2 for count in counts.values()), counts.most_common(3)
    assert len(twice) <= BATCH // 2, f"only half the dead dispatcher's batch came twice, not {twice}"
    assert own.outbox(pending=True) == ()


def test_x7_a_poison_key_is_dead_lettered_and_the_other_299_are_delivered_once(run: Run) -> None:
    acknowledged, own = run(poison=POISON, max_attempts=3)

    others = [key for key in _keys() if key != POISON]
    assert Counter(acknowledged) == Counter(others)
    [dead] = own.outbox(dead=True)
    assert (dead.notification.key, dead.attempts, dead.delivered) == (POISON, 3, False)
    assert own.outbox(pending=True) == ()


@pytest.mark.parametrize("old", [2, 3, 4, 5])
def test_x7_create_schema_migrates_an_older_sqlite_file_and_its_outbox_keeps_what_it_held(
    tmp_path: Path, old: int
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    create_schema(engine)
    repository = SqlRepository(engine)
    _fill(repository)
    with repository.transaction() as tx:
        tx.settle(_keys()[:2], _keys()[2:3])
    before = Ownership(presets.account_managers(), repository)
    before.add_tenant("acme")
    before.add_user("acme", "Anna", id="anna")
    # What version 5 was: no grants and followers; version 4 also had users without manager and traits; version 3
    # also had no generation in the schema's row; version 2 also had the outbox without the columns of 3.
    with engine.begin() as connection:
        connection.execute(update(schema_table).values(version=old))
        connection.exec_driver_sql("DROP TABLE ownership_grants")
        connection.exec_driver_sql("DROP TABLE ownership_followers")
        if old <= 4:
            connection.exec_driver_sql("ALTER TABLE ownership_users DROP COLUMN manager")
            connection.exec_driver_sql("ALTER TABLE ownership_users DROP COLUMN traits")
        if old <= 3:
            connection.exec_driver_sql("ALTER TABLE ownership_schema DROP COLUMN generation")
        for column in ("dead", "next_attempt_at", "claim_token", "claimed_until") if old == 2 else ():
            connection.exec_driver_sql(f"ALTER TABLE ownership_outbox DROP COLUMN {column}")

    create_schema(engine)

    with engine.connect() as connection:
        assert connection.execute(select(schema_table.c.version)).scalars().all() == [SCHEMA_VERSION] == [6]
        kept = [2] if old >= 4 else [0]  # version 4 kept the generation two directory changes moved; older made it
        assert connection.execute(select(schema_table.c.generation)).scalars().all() == kept
    own = Ownership(presets.account_managers(), SqlRepository(engine))
    assert {(u.manager, u.traits) for u in own.users("acme")} == {(None, frozenset())}, "users report to no one yet"
    entries = own.outbox()
    assert [(e.attempts, e.delivered, e.dead, e.next_attempt_at) for e in entries[:4]] == [
        (0, True, False, None),
        (0, True, False, None),
        (1, False, False, None),
        (0, False, False, None),
    ]
    assert len(own.dispatch(FlakyNotifier(lambda keys: None, 0, poison="none"), limit=500).delivered) == 298
    engine.dispose()
