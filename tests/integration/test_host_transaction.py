"""`ownership` inside the host's own transaction (`JoinedRepository`), on a SQLite file and on PostgreSQL.

- The host's rows and `ownership`'s commit together, or roll back together, by the host's word alone.
- A use case refused inside the host's transaction takes back only its own part; the host's goes on.
- A host's SQLite transaction that holds the database's one writer is joined, not waited for.
- A SQLAlchemy ``Session`` is joined through its connection.
- A repository whose transaction has ended refuses every unit with a sentence.
"""

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, create_engine, func, insert, select
from sqlalchemy.orm import Session

from ownership import Assignee, DuplicateIdError, Ownership, RecordRef, StorageError, presets
from ownership.adapters.sql import JoinedRepository, SqlRepository, make_engine
from ownership.testing import FakeClock
from sql_repositories import POSTGRESQL, Repositories

pytest_plugins = ("sql_repositories",)

HOST = MetaData()
deals = Table("crm_deals", HOST, Column("id", String(40), primary_key=True), Column("title", String(200)))


@pytest.fixture(params=["sqlite_file", POSTGRESQL])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A store with Acme, its admin Anna and Bob, beside the host's own ``crm_deals``, empty."""
    factory = "sqlite_file_repositories" if request.param == "sqlite_file" else "postgres_repositories"
    repositories: Repositories = request.getfixturevalue(factory)
    repository = repositories()
    own = _crm(repository)
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna", admin=True)
    own.add_user("acme", "Bob", id="bob")
    HOST.drop_all(repository.engine)
    HOST.create_all(repository.engine)
    yield repository.engine
    HOST.drop_all(repository.engine)


def _crm(repository: SqlRepository | JoinedRepository) -> Ownership:
    return Ownership(presets.account_managers(), repository, clock=FakeClock())


def _save(connection: Connection, id: str, *, holder: str = "bob") -> None:
    """The host's save of a new company: its own row, and `ownership`'s record, in the host's transaction."""
    connection.execute(insert(deals).values(id=id, title=f"Company {id}"))
    crm = _crm(JoinedRepository(connection))
    crm.create("company", id=id, actor="anna", holders={"account_manager": Assignee.user(holder)})


def _kept(engine: Engine) -> tuple[list[str], list[str]]:
    """What another connection reads once the host is done: its ids, and the companies `ownership` tracks."""
    with engine.connect() as connection:
        theirs = list(connection.execute(select(deals.c.id).order_by(deals.c.id)).scalars())
    ours = [r.id for r in _crm(SqlRepository(engine)).visible("anna", "company").records]
    return theirs, ours


def _holders(engine: Engine, id: str) -> tuple[Assignee, ...]:
    return _crm(SqlRepository(engine)).holders(RecordRef("company", id), "account_manager")


def test_x8_the_hosts_rows_and_ownerships_commit_together(engine: Engine) -> None:
    with engine.connect() as connection:
        _save(connection, "C-1")
        _save(connection, "C-2")
        connection.commit()

    assert _kept(engine) == (["C-1", "C-2"], ["C-1", "C-2"])
    assert _holders(engine, "C-1") == (Assignee.user("bob"),)


def test_x8_the_hosts_rows_and_ownerships_roll_back_together(engine: Engine) -> None:
    with engine.connect() as connection:
        _save(connection, "C-1")
        connection.rollback()

    assert _kept(engine) == ([], [])


def test_x8_a_use_case_refused_in_the_hosts_transaction_takes_back_only_its_own_part(engine: Engine) -> None:
    with engine.connect() as connection:
        _save(connection, "C-1")
        crm = _crm(JoinedRepository(connection))
        with pytest.raises(DuplicateIdError):
            crm.create("company", id="C-1", actor="anna", holders={"account_manager": Assignee.user("anna")})
        # The host's transaction goes on: it reads what it wrote, and writes more.
        assert crm.holders(RecordRef("company", "C-1"), "account_manager") == (Assignee.user("bob"),)
        _save(connection, "C-2", holder="anna")
        connection.commit()

    assert _kept(engine) == (["C-1", "C-2"], ["C-1", "C-2"])
    assert _holders(engine, "C-1") == (Assignee.user("bob"),)


def test_x8_a_repository_whose_transaction_has_ended_refuses_every_unit_with_a_sentence(engine: Engine) -> None:
    with engine.connect() as connection:
        joined = JoinedRepository(connection)
        connection.commit()
        with pytest.raises(StorageError, match="has ended"):
            _crm(joined).create("company", id="C-1", actor="anna")
        connection.rollback()

    assert _kept(engine) == ([], [])


def test_x8_a_sqlalchemy_session_is_joined_through_its_connection(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(insert(deals).values(id="C-1", title="Company C-1"))
        _crm(JoinedRepository(session.connection())).create("company", id="C-1", actor="anna")
        session.rollback()
        session.execute(insert(deals).values(id="C-2", title="Company C-2"))
        _crm(JoinedRepository(session.connection())).create("company", id="C-2", actor="anna")
        session.commit()

    assert _kept(engine) == (["C-2"], ["C-2"])


@pytest.mark.parametrize("wrote_first", [True, False], ids=["after the host wrote", "before"])
def test_x8_a_hosts_own_sqlite_engine_holding_the_writer_is_joined_not_waited_for(
    sqlite_file_repositories: Repositories, wrote_first: bool
) -> None:
    # The host's engine is its own (pysqlite's default handling, no busy timeout): `ownership` only joins it.
    url = sqlite_file_repositories().engine.url
    store = SqlRepository(make_engine(str(url)))
    own = _crm(store)
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna", admin=True)
    host: Callable[[], Engine] = lambda: create_engine(url, connect_args={"timeout": 0})  # noqa: E731
    hosts_engine = host()
    HOST.create_all(hosts_engine)
    with hosts_engine.connect() as connection:
        if wrote_first:
            connection.execute(insert(deals).values(id="C-1", title="Company C-1"))  # the host holds the writer
        _crm(JoinedRepository(connection)).create("company", id="C-1", actor="anna")
        connection.rollback()
    with hosts_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(deals)).scalar_one() == 0
    assert [r.id for r in own.visible("anna", "company").records] == [], "ownership's rows were rolled back too"

    with hosts_engine.connect() as connection:
        if wrote_first:
            connection.execute(insert(deals).values(id="C-1", title="Company C-1"))
        _crm(JoinedRepository(connection)).create("company", id="C-1", actor="anna")
        connection.commit()
    assert [r.id for r in own.visible("anna", "company").records] == ["C-1"]
    hosts_engine.dispose()
    store.close()
