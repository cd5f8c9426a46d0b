"""The SQL repository keeps every promise of the repository contract (X8), on SQLite and on PostgreSQL.

Each database runs the whole contract: in memory, in a file (write-ahead log),
and on a PostgreSQL server. The contract asks for a new, empty repository per
test and per generated example; `sql_repositories` makes them cheaply.
"""

import pytest

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
