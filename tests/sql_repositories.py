"""New, empty SQL repositories for the tests, made cheaply, and the fixtures that hand them out.

Factories, each returning a new `SqlRepository` that holds nothing:

- `sqlite_memory()`: an in-memory SQLite database (one connection, units take turns).
- `sqlite_file(directory)`: a SQLite file of its own in `directory` (write-ahead log, units side by side).
- `PostgresRepositories(url)`: one PostgreSQL database, its tables made once; each call empties them
  (``TRUNCATE ... RESTART IDENTITY``), so a repository costs one statement, not a schema.

A test module brings the fixtures in with ``pytest_plugins = ("sql_repositories",)``:

- `sqlite_memory_repositories`, `sqlite_file_repositories`: a `Repositories` for one test; every
  engine it made is disposed of when the test ends.
- `postgres_repositories`: one `PostgresRepositories` for the session, on the throwaway database of
  ``postgres_database_url`` (which skips the test, or fails it in CI, when there is no server).

Only one PostgreSQL repository is in use at a time: a new one empties the tables under the last.

Test modules import this one before pytest loads it as a plugin, too late to
rewrite its asserts (it has none): PYTEST_DONT_REWRITE.
"""

import threading
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ownership.adapters.sql import SqlRepository, create_schema, make_engine, metadata, schema_table


def sqlite_memory() -> SqlRepository:
    """Return a repository in a new in-memory SQLite database, with its tables."""
    return SqlRepository.from_url("sqlite://")


def sqlite_file(directory: Path) -> SqlRepository:
    """Return a repository in a new SQLite file of its own in `directory`, with its tables."""
    return SqlRepository.from_url(f"sqlite:///{directory / f'ownership-{uuid.uuid4().hex}.db'}")


class Repositories:
    """Makes new, empty repositories with a factory, and disposes of their engines on `close`.

    Disposing closes the pooled database connections, which Python would
    otherwise close (and warn about) whenever it collects them.
    """

    def __init__(self, make: Callable[[], SqlRepository]) -> None:
        self._make = make
        self._engines: list[Engine] = []

    def __call__(self) -> SqlRepository:
        repository = self._make()
        self._engines.append(repository.engine)
        return repository

    def close(self) -> None:
        for engine in self._engines:
            engine.dispose()
        self._engines.clear()


# The tables that hold state; the schema version stays, or no repository would open a unit.
_STATE_TABLES = [table for table in metadata.sorted_tables if table is not schema_table]
_TRUNCATE = f"TRUNCATE {', '.join(table.name for table in _STATE_TABLES)} RESTART IDENTITY"


class PostgresRepositories:
    """New, empty repositories in one PostgreSQL database: the tables are made once, then emptied on each call."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        create_schema(self.engine)

    def __call__(self) -> SqlRepository:
        with self.engine.begin() as connection:
            # A unit a test left open would hold its locks; fail at once rather than wait for it.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
            connection.exec_driver_sql(_TRUNCATE)
        return SqlRepository(self.engine)

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def sqlite_memory_repositories() -> Iterator[Repositories]:
    """New, empty in-memory SQLite repositories, disposed of after the test."""
    repositories = Repositories(sqlite_memory)
    yield repositories
    repositories.close()


@pytest.fixture
def sqlite_file_repositories(tmp_path: Path) -> Iterator[Repositories]:
    """New, empty SQLite file repositories in the test's own directory, disposed of after the test."""
    repositories = Repositories(partial(sqlite_file, tmp_path))
    yield repositories
    repositories.close()


@pytest.fixture(scope="session")
def postgres_repositories(postgres_database_url: str) -> Iterator[PostgresRepositories]:
    """New, empty PostgreSQL repositories on the session's throwaway database."""
    repositories = PostgresRepositories(postgres_database_url)
    yield repositories
    repositories.close()


# --- what the SQL storage tests share ------------------------------------------------------------------

WAIT = 30
"""Seconds a barrier or a join waits before a test fails, rather than hang."""

FACTORIES = {
    "sqlite_memory": "sqlite_memory_repositories",
    "sqlite_file": "sqlite_file_repositories",
    "postgresql": "postgres_repositories",
}
"""The fixtures above that make new, empty repositories, by database."""

POSTGRESQL = pytest.param("postgresql", marks=pytest.mark.postgresql)


@pytest.fixture(params=["sqlite_memory", "sqlite_file", POSTGRESQL])
def repositories(request: pytest.FixtureRequest) -> Callable[[], SqlRepository]:
    """New, empty repositories of each database the SQL repository runs on."""
    return request.getfixturevalue(FACTORIES[request.param])  # type: ignore[no-any-return]


@pytest.fixture(params=["sqlite_file", POSTGRESQL])
def side_by_side(request: pytest.FixtureRequest) -> Callable[[], SqlRepository]:
    """New, empty repositories of each database running units side by side (SQLite in memory takes turns)."""
    return request.getfixturevalue(FACTORIES[request.param])  # type: ignore[no-any-return]


class UnitFailedError(Exception):
    """Raised inside a unit of work to see it rolled back."""


def at_once(calls: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Run each call on its own thread, all released together; return what each returned, or the error it raised."""
    start = threading.Barrier(len(calls), timeout=WAIT)
    outcomes: dict[str, object] = {}

    def run(name: str, call: Callable[[], object]) -> None:
        start.wait()
        try:
            outcomes[name] = call()
        except Exception as error:  # every outcome is the test's to judge
            outcomes[name] = error

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT)
    if set(outcomes) != set(calls):
        raise AssertionError("a call neither returned nor raised in time")
    return outcomes
