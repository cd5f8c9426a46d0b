"""The SQL repository keeps every promise of the repository contract (X8), on SQLite and on PostgreSQL.

Each database runs the whole contract: in memory, in a file (write-ahead log),
and on a PostgreSQL server; and so does a repository joined to a host's own
transaction (`JoinedRepository`), on a file and on the server. The contract asks for a new, empty repository per
test and per generated example; `sql_repositories` makes them cheaply.
"""

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Connection

from ownership.adapters.sql import JoinedRepository, SqlRepository
from ownership.ports import Repository
from ownership.testing.contract import RepositoryContract
from sql_repositories import PostgresRepositories, Repositories

pytest_plugins = ("sql_repositories",)


class TestSqliteMemoryRepository(RepositoryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, sqlite_memory_repositories: Repositories) -> None:
        self.repositories = sqlite_memory_repositories

    def make_repository(self) -> Repository:
        return self.repositories()


class TestSqliteFileRepository(RepositoryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, sqlite_file_repositories: Repositories) -> None:
        self.repositories = sqlite_file_repositories

    def make_repository(self) -> Repository:
        return self.repositories()


@pytest.mark.postgresql
class TestPostgresRepository(RepositoryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, postgres_repositories: PostgresRepositories) -> None:
        self.repositories = postgres_repositories

    def make_repository(self) -> Repository:
        return self.repositories()


class JoinedRepositories:
    """New, empty repositories, each joined to a transaction of its own on a host's connection.

    Each call ends the transaction the previous one joined (rolled back, as a host's failed request is), so that
    its locks never hold up the next; the contract then reads and writes through savepoints in the new one.
    """

    def __init__(self, repositories: Callable[[], SqlRepository]) -> None:
        self._repositories = repositories
        self._connection: Connection | None = None

    def __call__(self) -> JoinedRepository:
        self.close()
        self._connection = self._repositories().engine.connect()
        return JoinedRepository(self._connection)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.rollback()
            self._connection.close()
            self._connection = None


class TestSqliteFileJoinedRepository(RepositoryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, sqlite_file_repositories: Repositories) -> Iterator[None]:
        self.repositories = JoinedRepositories(sqlite_file_repositories)
        yield
        self.repositories.close()

    def make_repository(self) -> Repository:
        return self.repositories()


@pytest.mark.postgresql
class TestPostgresJoinedRepository(RepositoryContract):
    @pytest.fixture(autouse=True)
    def _repositories(self, postgres_repositories: PostgresRepositories) -> Iterator[None]:
        self.repositories = JoinedRepositories(postgres_repositories)
        yield
        self.repositories.close()

    def make_repository(self) -> Repository:
        return self.repositories()
