"""Issue 14: every bad input of the catalogue is refused with a typed error, alike on every store, changing nothing.

Each case runs on the small world in memory, in a SQLite file and in PostgreSQL (the command's cases on the two
databases, for it works on one; the cases that only build a value, once). On each store it must raise the case's
error, whose sentence contains the case's text and reads as a sentence, and leave the world and the empty
repository beside it exactly as they were (their snapshots compared). Across the stores the error's type and
sentence must be the same. The world is built once per store for the module; a case that changed it (a bad
input accepted) has it put back before the next.

List the cases that fail: ``CI=true PYTHONPATH=src pytest -q -p no:cacheprovider tests/boundary -rf``.
"""

from __future__ import annotations

import inspect
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from catalogue import CASES, METHODS, WITHOUT_ARGUMENTS, Case, CommandRefusedError
from small_world import World

import ownership
from ownership import Ownership
from ownership.adapters.memory import MemoryRepository
from ownership.adapters.sql import SqlRepository, create_schema, make_engine, metadata, schema_table
from postgres import throwaway_database
from sql_repositories import PostgresRepositories

pytestmark = pytest.mark.postgresql

NOT_BUILT_BY_HOSTS = frozenset(
    {
        "Decision",
        "DirectoryDrift",
        "Dispatched",
        "Drift",
        "Facts",
        "Finding",
        "IdPage",
        "Page",
        "Permitted",
        "Reason",
        "RecordDrift",
        "Row",
        "UserDrift",
        "Viewer",
    }
)
"""The public value classes only the library makes: the answers it gives, never handed back to it."""


@pytest.fixture(scope="module")
def worlds(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, World]]:
    """The small world in memory, in a SQLite file and in PostgreSQL, each with an empty repository beside it."""
    files = tmp_path_factory.mktemp("boundary")
    sqlite_world, sqlite_blank = SqliteFile(files / "world.db"), SqliteFile(files / "blank.db")
    with (
        throwaway_database(postgres_url, "ownership_boundary") as world_url,
        throwaway_database(postgres_url, "ownership_boundary_blank") as blank_url,
    ):
        world_db, blank_db = PostgresRepositories(world_url), PostgresRepositories(blank_url)
        try:
            yield {
                "memory": World("memory", lambda: (MemoryRepository(), None), lambda: (MemoryRepository(), None)),
                "sqlite": World(
                    "sqlite",
                    lambda: (sqlite_world(), sqlite_world.url),
                    lambda: (sqlite_blank(), sqlite_blank.url),
                    files,
                ),
                "postgresql": World(
                    "postgresql", lambda: (world_db(), world_url), lambda: (blank_db(), blank_url), files
                ),
            }
        finally:
            for made in (world_db, blank_db, sqlite_world, sqlite_blank):
                made.close()


_STATE_TABLES = [table for table in metadata.sorted_tables if table is not schema_table]


class SqliteFile:
    """One SQLite file, its tables made once; each call empties them and returns a repository on it.

    Emptying costs one unit where a new file costs a schema; the command opens the same file by its URL.
    """

    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path}"
        self.engine = make_engine(self.url)
        create_schema(self.engine)

    def __call__(self) -> SqlRepository:
        with self.engine.begin() as connection:
            for table in reversed(_STATE_TABLES):
                connection.execute(table.delete())
        return SqlRepository(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def test_the_catalogue_holds_at_least_300_bad_inputs_each_with_its_own_id() -> None:
    ids = [case.id for case in CASES]
    assert len(CASES) >= 300
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_every_public_method_of_ownership_has_a_case() -> None:
    public = {name for name, _ in inspect.getmembers(Ownership, inspect.isfunction) if not name.startswith("_")}
    thrown_at = {case.target for case in CASES}
    assert public - WITHOUT_ARGUMENTS - thrown_at == set()
    # The methods without arguments really take none; the table names only real methods.
    for name in WITHOUT_ARGUMENTS:
        assert list(inspect.signature(getattr(Ownership, name)).parameters) == ["self"]
    assert set(METHODS) <= public
    # Every argument of every method is thrown at (a case's id is method-argument-what).
    ids = {case.id for case in CASES}
    for name in public - WITHOUT_ARGUMENTS - {"restore"}:
        for argument in set(inspect.signature(getattr(Ownership, name)).parameters) - {"self"}:
            assert any(i.startswith(f"{name}-{argument}-") for i in ids), f"no case gives {name}() a bad {argument}"


def test_every_value_a_host_builds_and_every_criterion_has_a_case() -> None:
    thrown_at = {case.target for case in CASES}
    values = {
        name
        for name in ownership.__all__
        if isinstance(getattr(ownership, name), type)
        and hasattr(getattr(ownership, name), "__attrs_attrs__")
        and name not in NOT_BUILT_BY_HOSTS
    }
    criteria = {"held_by", "in_group", "labelled", "named", "status_in", "unassigned"}
    assert (values | criteria | {"Ownership"}) - thrown_at == set()


TIME_LIMIT = 3.0
"""Seconds a case may take on one store; a refusal takes milliseconds, and one accepted may run for ever."""


class TookTooLongError(Exception):
    """A case ran past `TIME_LIMIT` on a store and was stopped."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Stop the code inside with `TookTooLongError` after `seconds` (the main thread's timer, as pytest runs)."""

    def stop(_signal: int, _frame: object) -> None:
        raise TookTooLongError(f"stopped after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _judged(case: Case, raised: BaseException) -> list[str]:
    """What is wrong with how `case` was refused: the error's type, its sentence, the command's one line."""
    message = str(raised)
    if isinstance(raised, TookTooLongError):
        return []
    if not isinstance(raised, case.error):
        return [f"raised {type(raised).__name__}: {message[:300]!r}"]
    problems = []
    if isinstance(raised, CommandRefusedError) and (
        "Traceback" in raised.stderr or len(raised.stderr.strip().splitlines()) != 1
    ):
        problems.append(f"the command's refusal is not one line: {raised.stderr[:300]!r}")
    if case.contains not in message:
        problems.append(f"the sentence does not name {case.contains!r}: {message[:300]!r}")
    if not message.rstrip().endswith("."):
        problems.append(f"not a sentence: {message[:300]!r}")
    return problems


def _outcome(case: Case, world: World) -> tuple[BaseException | None, list[str]]:
    """Run `case` on `world`: what it raised, and what is wrong with that (empty when refused as it must be)."""
    problems: list[str] = []
    try:
        with time_limit(TIME_LIMIT):
            case.call(world)
    except TookTooLongError as error:
        raised: BaseException | None = error
        problems.append(f"took longer than {TIME_LIMIT} s, and was stopped")
    except Exception as error:  # every outcome is the case's to judge
        raised = error
    else:
        raised = None
        problems.append("accepted: nothing was raised")
    if raised is not None:
        problems += _judged(case, raised)
    if case.stores:
        # A method's case cannot reach the empty repository (another database): only restore's and the command's
        # are checked against it.
        touched_blank = case.kind in {"restore", "command"} and world.blank.snapshot() != world.empty
        touched_world = world.own.snapshot() != world.original
        if touched_world or touched_blank:
            problems.append("the state changed")
            world.reset(world=touched_world, blank=touched_blank)
    return raised, problems


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_bad_input_is_refused_with_a_typed_error_alike_on_every_store_and_changes_nothing(
    case: Case, worlds: dict[str, World]
) -> None:
    if not case.stores:
        stores = ["memory"]  # it builds a value and touches no store
    elif case.kind == "command":
        stores = ["sqlite", "postgresql"]  # the command works on a database
    else:
        stores = list(worlds)
    problems: list[str] = []
    answers: dict[str, tuple[str, str]] = {}
    for store in stores:
        raised, wrong = _outcome(case, worlds[store])
        problems += [f"{store}: {line}" for line in wrong]
        if raised is not None:
            answers[store] = (type(raised).__name__, str(raised))
    if len(set(answers.values())) > 1:
        problems.append(f"the stores disagree: {answers}")
    if problems:
        pytest.fail(f"{case.id} ({case.kind}, {case.target}): " + "; ".join(problems), pytrace=False)


def test_the_world_files_are_where_the_command_finds_them(worlds: dict[str, World]) -> None:
    # Guards the command's cases: they name the world's database and the empty one by URL.
    assert worlds["sqlite"].url
    assert worlds["postgresql"].blank_url
    assert Path(str(worlds["sqlite"].files)).is_dir()
