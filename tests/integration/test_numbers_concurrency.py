"""Customer numbers stay unique however many threads and processes draw them at once (CT4).

A tenant's number range hands out each number once: eight threads, each with
an `Ownership` of its own over one repository (or over one database through
an engine of its own), and four processes with engines of their own, all
calling `next_number` at the same moment, get distinct numbers that are
exactly the range's next ones, with no gaps (a call that fails reserves
nothing), and the range moves on by as many. Numbers given by hand
(`set_number(record, "K-...")`) while others draw from the range never leave
two records with one number: the later hand is refused with
`DuplicateNumberError`, and the range skips what records carry.

`Ownership` runs a unit that met another again (`ConflictError`, on
PostgreSQL's SERIALIZABLE units) up to five times. The tests of uniqueness
count a conflict that still reaches the caller and call again; one test on its
own requires that no call of eight threads drawing at once ever sees one, and
the test of processes that they stay rare.

Threads and processes meet at barriers with timeouts, never by sleeping.
"""

import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ownership import ConflictError, DuplicateNumberError, NumberRange, Ownership, RecordRef, presets
from ownership.adapters.memory import MemoryRepository
from ownership.adapters.sql import SqlRepository, make_engine
from ownership.ports import Repository
from sql_repositories import POSTGRESQL, WAIT, at_once

pytest_plugins = ("sql_repositories",)

THREADS = 8
PROCESSES = 4
CALLS = 25  # numbers each thread or process draws
RANGE = NumberRange("K-", 5, 42)


def _desk(repository: Repository) -> Ownership:
    """Acme, with its admin, and a number range for contacts: K-00042, K-00043, ..."""
    own = Ownership(presets.contact_desk(), repository)
    own.add_tenant("acme")
    own.add_user("acme", "Admin", id="admin", admin=True)
    own.set_number_range("acme", "contact", prefix=RANGE.prefix, width=RANGE.width, next=RANGE.next)
    return own


def _expected(total: int) -> list[str]:
    return [RANGE.format(RANGE.next + n) for n in range(total)]


def _draw(own: Ownership, calls: int) -> tuple[list[str], int]:
    """Draw `calls` numbers; a conflict that reaches the caller is counted, and the call made again."""
    numbers: list[str] = []
    conflicts = 0
    while len(numbers) < calls:
        try:
            numbers.append(own.next_number("acme", "contact"))
        except ConflictError:
            conflicts += 1
    return numbers, conflicts


class Storage:
    """One database (or memory) the tests share between threads: its repository, and others on it."""

    def __init__(self, repository: Repository, url: str | None) -> None:
        self.repository = repository
        self.url = url
        self._others: list[SqlRepository] = []

    def another(self) -> Repository:
        """A repository with an engine of its own on the same database; the same one in memory."""
        if self.url is None:
            return self.repository
        other = SqlRepository(make_engine(self.url))
        self._others.append(other)
        return other

    def close(self) -> None:
        for other in self._others:
            other.close()


@pytest.fixture(params=["memory", "sqlite_file", POSTGRESQL])
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    """One store threads share: memory, a SQLite file (write-ahead log), PostgreSQL."""
    if request.param == "memory":
        made = Storage(MemoryRepository(), None)
    else:
        factory = request.getfixturevalue(
            "sqlite_file_repositories" if request.param == "sqlite_file" else "postgres_repositories"
        )
        repository = factory()
        made = Storage(repository, repository.engine.url.render_as_string(hide_password=False))
    yield made
    made.close()


# --- threads ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("through", ["one repository", "engines of their own"])
def test_ct4_eight_threads_drawing_numbers_at_once_get_distinct_consecutive_ones(
    storage: Storage, through: str
) -> None:
    own = _desk(storage.repository)
    owns = [
        Ownership(presets.contact_desk(), storage.repository if through == "one repository" else storage.another())
        for _ in range(THREADS)
    ]

    outcomes = at_once({f"t{n}": (lambda o=o: _draw(o, CALLS)) for n, o in enumerate(owns)})

    assert not [o for o in outcomes.values() if isinstance(o, BaseException)], outcomes
    drawn = [number for numbers, _ in outcomes.values() for number in numbers]  # type: ignore[misc]
    assert len(drawn) == THREADS * CALLS
    assert len(set(drawn)) == len(drawn), [n for n, c in Counter(drawn).items() if c > 1]
    assert sorted(drawn) == _expected(THREADS * CALLS), "the range's next numbers, none skipped"
    for numbers, _ in outcomes.values():  # type: ignore[misc]
        assert numbers == sorted(numbers), "one thread's numbers grow"
    assert own.number_range("acme", "contact") == NumberRange(RANGE.prefix, RANGE.width, RANGE.next + len(drawn))


def test_ct4_no_call_of_eight_threads_drawing_numbers_at_once_fails_with_a_conflict(storage: Storage) -> None:
    """A number on request is answered, not refused: `Ownership`'s own retries absorb the threads meeting."""
    _desk(storage.repository)
    owns = [Ownership(presets.contact_desk(), storage.another()) for _ in range(THREADS)]

    outcomes = at_once({f"t{n}": (lambda o=o: _draw(o, CALLS)) for n, o in enumerate(owns)})

    assert not [o for o in outcomes.values() if isinstance(o, BaseException)], outcomes
    conflicts = sum(c for _, c in outcomes.values())  # type: ignore[misc]
    assert conflicts == 0, f"{conflicts} of {THREADS * CALLS} calls raised ConflictError after five retries"


def _hand_and_range(own: Ownership, records: list[str], wanted: list[str | None]) -> list[tuple[str, object]]:
    """Number `records` in turn: by hand where `wanted` names a number, else the range's next; note each outcome."""
    outcomes: list[tuple[str, object]] = []
    for record, number in zip(records, wanted, strict=True):
        while True:
            try:
                outcomes.append((record, own.set_number(RecordRef("contact", record), number, actor="admin").number))
                break
            except DuplicateNumberError as error:
                outcomes.append((record, error))
                break
            except ConflictError:
                outcomes.append((record, "conflict"))
    return outcomes


def test_ct4_numbers_given_by_hand_while_others_draw_from_the_range_never_go_to_two_records(
    storage: Storage,
) -> None:
    own = _desk(storage.repository)
    per_thread = 12
    for n in range(THREADS * per_thread):
        own.create("contact", actor="admin", id=f"c{n:03d}", name=f"Kontakt {n}")
    # Half the threads give numbers by hand: the range's next ones, which the other half are drawing right now.
    hands: dict[str, tuple[list[str], list[str | None]]] = {}
    for t in range(THREADS):
        records = [f"c{t * per_thread + k:03d}" for k in range(per_thread)]
        by_hand = t % 2 == 0
        hands[f"t{t}"] = (
            records,
            [RANGE.format(RANGE.next + 2 * k + t // 2) if by_hand else None for k in range(per_thread)],
        )
    also_drawing = [Ownership(presets.contact_desk(), storage.another()) for _ in range(2)]

    calls: dict[str, Callable[[], object]] = {
        name: (
            lambda records=records, wanted=wanted: _hand_and_range(
                Ownership(presets.contact_desk(), storage.another()), records, wanted
            )
        )
        for name, (records, wanted) in hands.items()
    }
    calls |= {f"draw{n}": (lambda o=o: _draw(o, per_thread)) for n, o in enumerate(also_drawing)}
    outcomes = at_once(calls)

    assert not [o for o in outcomes.values() if isinstance(o, BaseException)], outcomes
    records = [r for r in own.snapshot().records if r.kind == "contact"]
    carried = [r.number for r in records if r.number is not None]
    assert len(set(carried)) == len(carried), [n for n, c in Counter(carried).items() if c > 1]

    from_range: list[str] = []
    refused = 0
    for name, (records_of, wanted) in hands.items():
        done = outcomes[name]
        assert isinstance(done, list)
        final = {record: o for record, o in done if o != "conflict"}
        assert set(final) == set(records_of)
        for record, number in zip(records_of, wanted, strict=True):
            got = final[record]
            if number is None:
                assert isinstance(got, str), f"a number from the range is never refused as taken: {got!r}"
                from_range.append(got)
            elif isinstance(got, DuplicateNumberError):
                refused += 1
                assert own.record("contact", record).number is None
                assert number in carried, "refused only because another record carries it"
            else:
                assert got == number
            assert own.record("contact", record).number == (got if isinstance(got, str) else None)
    by_hand = [n for _, wanted in hands.values() for n in wanted if n is not None]
    assert refused >= len(by_hand) - len(set(by_hand)), "of two hands giving one number, one is refused"
    for name in (n for n in outcomes if n.startswith("draw")):
        numbers, _ = outcomes[name]  # type: ignore[misc]
        from_range += numbers
    assert len(set(from_range)) == len(from_range), "the range hands each number out once"
    assert all(n.startswith(RANGE.prefix) for n in from_range)
    last = own.number_range("acme", "contact")
    assert last is not None
    assert max(int(n.removeprefix(RANGE.prefix)) for n in from_range) < last.next


# --- processes ----------------------------------------------------------------------------------------------


def _draw_in_a_process(url: str, start: Any, results: Any, name: str, calls: int) -> None:
    """Draw `calls` numbers through an engine and `Ownership` of this process's own; put them on `results`."""
    try:
        engine = make_engine(url)
        own = Ownership(presets.contact_desk(), SqlRepository(engine))
        start.wait(WAIT)
        numbers, conflicts = _draw(own, calls)
        engine.dispose()
        results.put((name, numbers, conflicts, None))
    except BaseException as error:  # the parent judges every outcome
        results.put((name, [], 0, repr(error)))


@pytest.mark.parametrize("database", ["sqlite_file", POSTGRESQL])
def test_ct4_four_processes_drawing_numbers_at_once_get_distinct_consecutive_ones(
    database: str, request: pytest.FixtureRequest
) -> None:
    factory = request.getfixturevalue(
        "sqlite_file_repositories" if database == "sqlite_file" else "postgres_repositories"
    )
    repository = factory()
    own = _desk(repository)
    url = repository.engine.url.render_as_string(hide_password=False)
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(PROCESSES), spawn.Queue()
    names = [f"p{n}" for n in range(PROCESSES)]
    processes = [spawn.Process(target=_draw_in_a_process, args=(url, start, results, name, CALLS)) for name in names]
    for process in processes:
        process.start()
    try:
        outcomes = {
            name: (numbers, conflicts, error)
            for name, numbers, conflicts, error in (results.get(timeout=WAIT * 2) for _ in names)
        }
    finally:
        for process in processes:
            process.join(timeout=WAIT)
            if process.is_alive():
                process.kill()

    assert not [e for _, _, e in outcomes.values() if e is not None], outcomes
    drawn = [number for numbers, _, _ in outcomes.values() for number in numbers]
    assert len(set(drawn)) == len(drawn) == PROCESSES * CALLS, [n for n, c in Counter(drawn).items() if c > 1]
    assert sorted(drawn) == _expected(PROCESSES * CALLS), "the range's next numbers, none skipped"
    assert own.number_range("acme", "contact") == NumberRange(RANGE.prefix, RANGE.width, RANGE.next + len(drawn))
    conflicts = sum(c for _, c, _ in outcomes.values())
    assert conflicts <= len(drawn) // 20, f"{conflicts} of {len(drawn)} calls raised ConflictError after five retries"
