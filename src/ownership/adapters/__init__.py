"""The repositories `ownership` ships, each meeting `ownership.ports.Repository` and proven by the contract suite.

- `memory.MemoryRepository`: in plain dictionaries, with no dependency; the reference the others agree with.
- `sql.SqlRepository`: SQLAlchemy Core on SQLite or PostgreSQL (the ``sql`` and ``postgresql`` extras);
  imported only when a host imports it, so the core needs neither SQLAlchemy nor a driver.
"""
