"""The in-memory repository keeps every promise of the repository contract (X8)."""

from ownership.adapters.memory import MemoryRepository
from ownership.ports import Repository
from ownership.testing.contract import RepositoryContract


class TestMemoryRepository(RepositoryContract):
    def make_repository(self) -> Repository:
        return MemoryRepository()
