"""What a host relies on when the SQL repository meets a race, a refusal or a collation, on SQLite and PostgreSQL.

- The schema version: processes making the schema at once store one version row,
  and making it again changes nothing.
- Errors say what happened: a read-only file, a duplicate key and a full pool are
  `StorageError`s, never a `ConflictError`, and only a database out of reach says
  it could not be reached.
- An in-memory SQLite engine a host made itself keeps its data when handed to a
  repository, and repositories sharing it take turns from any thread; an engine the
  repository cannot run on is refused with `InvalidValueError` and a sentence.
- Ids come back in code-point order (Python's `sorted`), whatever the database's collation.
- A write the database refused spoils its unit: the rest of the unit is refused and
  nothing of it is kept, unless it was a unit inside a unit, which is rolled back alone.
- Filters: empty holder tests, ORs and ANDs mean what `matches` says; ANDs and ORs
  built from lists are the ones built from tuples; `where` takes a host's integer ids.

Threads meet at barriers and events with timeouts, never by sleeping.
"""

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, event, insert, select, text
from sqlalchemy import exc as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from ownership import (
    Assignee,
    ConflictError,
    InvalidValueError,
    Ownership,
    Profile,
    RecordRef,
    StorageError,
    presets,
)
from ownership.adapters.memory import MemoryRepository
from ownership.adapters.sql import (
    SCHEMA_VERSION,
    SqlRepository,
    create_schema,
    drop_schema,
    make_engine,
    metadata,
    schema_table,
    where,
)
from ownership.filters import EVERYTHING, And, Filter, HasAssignee, HomeIs, Not, Or, SharedWith, matches
from ownership.model import Assignment, Record, Tenant, User
from ownership.ports import Repository, Transaction
from ownership.testing import FakeClock
from postgres import throwaway_database
from sql_repositories import WAIT, UnitFailedError, at_once

pytest_plugins = ("sql_repositories",)

AT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
ANNA, BOB = Assignee.user("anna"), Assignee.user("bob")
D1 = RecordRef("deal", "D-1")


def stored_versions(engine: Engine) -> list[int]:
    """The schema versions stored in ``ownership_schema``."""
    with engine.connect() as connection:
        return list(connection.execute(select(schema_table.c.version)).scalars())


def holds(repository: Repository) -> tuple[list[str], list[Assignment], Record | None]:
    """What a repository holds of the tests' units: its tenants' ids, D-1's holders, and D-1."""
    with repository.transaction() as tx:
        return [t.id for t in tx.tenants()], list(tx.assignments(D1)), tx.record(D1)


# --- the schema version, made by many at once ---------------------------------------------------------


@contextlib.contextmanager
def meeting_at_the_version_row(engine: Engine, callers: int) -> Iterator[None]:
    """Hold each caller's first read or write of ``ownership_schema`` until all have come to it: the race at its worst.

    Every caller has then looked at the version row, or is about to write it,
    before any of them goes on.
    """
    met = threading.Barrier(callers, timeout=WAIT)
    waited = threading.local()

    def hold(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        touches = statement.lstrip().upper().startswith(("SELECT", "INSERT")) and schema_table.name in statement
        if touches and not getattr(waited, "done", False):
            waited.done = True
            met.wait()

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", hold)


def _race_to_create_the_schema(engine: Engine, *, meet: bool) -> None:
    """Make the tables as a host migration would (no version row), then call `create_schema` on 4 threads at once.

    With `meet`, each caller is held at the version row until all have come to it. On SQLite, `create_schema`
    takes the database's one writer before it reads anything, so callers take turns and can never meet there:
    they start together, and the first to begin goes first.
    """
    metadata.create_all(engine)
    assert stored_versions(engine) == []

    calls = {f"process {n}": (lambda: create_schema(engine)) for n in range(4)}
    if meet:
        with meeting_at_the_version_row(engine, 4):
            outcomes = at_once(calls)
    else:
        outcomes = at_once(calls)

    assert stored_versions(engine) == [SCHEMA_VERSION], "one version row, whoever stored it"
    own = Ownership(presets.account_managers(), SqlRepository(engine), clock=FakeClock())
    own.add_tenant("acme")
    create_schema(engine)  # again, after the race: harmless
    assert stored_versions(engine) == [SCHEMA_VERSION]
    assert [t.id for t in own.snapshot().tenants] == ["acme"]
    # Last, so the checks above hold whatever this finds: hosts starting together all call it, so none may fail.
    failed = {name: outcome for name, outcome in outcomes.items() if outcome is not None}
    assert failed == {}, "create_schema raced by four callers failed for some of them"


def test_create_schema_on_four_threads_at_once_over_a_migrated_sqlite_file_stores_one_version(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    try:
        _race_to_create_the_schema(engine, meet=False)
    finally:
        engine.dispose()


@pytest.mark.postgresql
def test_create_schema_on_four_threads_at_once_over_migrated_postgresql_tables_stores_one_version(
    postgres_database_url: str,
) -> None:
    engine = make_engine(postgres_database_url)
    try:
        drop_schema(engine)  # the session database's tables, made again below as a migration would
        _race_to_create_the_schema(engine, meet=True)
    finally:
        create_schema(engine)  # the session's other tests find the tables as they left them
        engine.dispose()


# --- errors labelled by what happened ---------------------------------------------------------------------


def test_a_write_to_a_read_only_sqlite_file_is_refused_as_a_storage_error_not_as_out_of_reach(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    made = SqlRepository.from_url(f"sqlite:///{path}")
    Ownership(presets.account_managers(), made, clock=FakeClock()).add_tenant("acme")
    made.engine.dispose()
    engine = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    own = Ownership(presets.account_managers(), SqlRepository(engine), clock=FakeClock())
    try:
        assert [t.id for t in own.snapshot().tenants] == ["acme"], "reading works"

        with pytest.raises(StorageError) as refused:
            own.add_tenant("globex")

        assert not isinstance(refused.value, ConflictError)
        assert "could not be reached" not in str(refused.value)
        assert str(refused.value).startswith("The database refused this change, and nothing of it was saved.")
        assert "readonly database" in str(refused.value)
        assert [t.id for t in own.snapshot().tenants] == ["acme"]
    finally:
        engine.dispose()


def test_the_same_assignment_added_twice_in_one_unit_is_a_storage_error_not_a_conflict_and_nothing_is_kept(
    repositories: Callable[[], SqlRepository],
) -> None:
    repository = repositories()
    owner = Assignment(D1, "owner", ANNA, "acme", AT)

    def unit_adding_it_twice() -> None:
        with repository.transaction() as tx:
            tx.put_tenant(Tenant("acme", "Acme"))
            tx.put_record(Record("deal", "D-1", "acme", AT))
            tx.add_assignment(owner)
            tx.add_assignment(owner)  # refused by the database when the unit ends

    with pytest.raises(StorageError, match="The database refused this change") as refused:
        unit_adding_it_twice()

    assert not isinstance(refused.value, ConflictError), "repeating the call would fail again: not a conflict"
    assert "could not be reached" not in str(refused.value)
    assert isinstance(refused.value.__cause__, sa.IntegrityError)
    assert holds(repository) == ([], [], None)


def test_a_pool_with_no_connection_to_give_is_a_storage_error_not_a_raw_sqlalchemy_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}", pool_size=1, max_overflow=0, pool_timeout=0.2)
    create_schema(engine)
    repository = SqlRepository(engine)
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    try:
        with engine.connect():  # the pool's one connection, held by someone else
            with pytest.raises(StorageError) as refused:
                own.add_tenant("acme")
            assert not isinstance(refused.value, ConflictError)
            assert isinstance(refused.value.__cause__, sa.TimeoutError)
            assert "QueuePool limit of size 1 overflow 0 reached" in str(refused.value), "it says what happened"
            with pytest.raises(StorageError), repository.transaction():
                pass
        assert own.add_tenant("acme") == own.tenant("acme"), "once the connection is back, units run"
    finally:
        engine.dispose()


@pytest.mark.postgresql
def test_a_postgresql_server_that_is_down_is_a_storage_error_saying_it_could_not_be_reached() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/x", connect_args={"connect_timeout": 2})
    repository = SqlRepository(engine)
    try:
        with (
            pytest.raises(StorageError, match="The database could not be reached") as refused,
            repository.transaction() as tx,
        ):
            tx.put_tenant(Tenant("acme", "Acme"))
        assert not isinstance(refused.value, ConflictError)
        assert isinstance(refused.value.__cause__, sa.OperationalError)
        with pytest.raises(StorageError, match="could not be reached"):
            SqlRepository.from_url("postgresql+psycopg://postgres@127.0.0.1:1/x", connect_args={"connect_timeout": 2})
    finally:
        engine.dispose()


# --- engines: in-memory SQLite made elsewhere, and databases the repository does not run on -----------


def _shared_memory_engine() -> Engine:
    return create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})


def test_an_in_memory_sqlite_engine_made_by_the_host_keeps_its_tables_and_data_in_every_repository_given_it() -> None:
    engine = _shared_memory_engine()
    create_schema(engine)  # before any repository set the engine up
    first = Ownership(presets.account_managers(), SqlRepository(engine), clock=FakeClock())
    first.add_tenant("acme")
    first.add_user("acme", "Anna", id="anna")
    first.create("deal", actor="anna", id="D-1")

    second = Ownership(presets.account_managers(), SqlRepository(engine), clock=FakeClock())

    assert second.snapshot() == first.snapshot()
    assert [r.id for r in second.snapshot().records] == ["D-1"]
    assert stored_versions(engine) == [SCHEMA_VERSION]
    engine.dispose()


def test_two_repositories_on_one_in_memory_sqlite_engine_take_turns_from_two_threads() -> None:
    engine = _shared_memory_engine()
    create_schema(engine)
    first, second = SqlRepository(engine), SqlRepository(engine)
    inside, second_done = threading.Event(), threading.Event()
    order: list[str] = []

    def first_unit() -> bool:
        with first.transaction() as tx:
            tx.put_tenant(Tenant("acme", "Acme"))
            inside.set()
            # The second thread's unit waits for this one to end, so it cannot be done by now.
            finished_meanwhile = second_done.wait(timeout=0.2)
            order.append("first")
        return finished_meanwhile

    def second_unit() -> None:
        assert inside.wait(WAIT)
        with second.transaction() as tx:
            order.append("second")
            assert tx.tenant("acme") is not None, "the first unit committed before this one began"
            tx.put_tenant(Tenant("globex", "Globex"))
        second_done.set()

    outcomes = at_once({"first": first_unit, "second": second_unit})

    assert outcomes == {"first": False, "second": None}, outcomes
    assert order == ["first", "second"]
    # Then both at full speed, each thread on its own repository: their units interleave, one at a time.
    outcomes = at_once({name: (lambda r=r, name=name: _put_many(r, name)) for name, r in (("x", first), ("y", second))})
    assert outcomes == {"x": None, "y": None}, outcomes
    assert _tenants(first) == _tenants(second)
    assert len(_tenants(first)) == 2 + 2 * 20
    engine.dispose()


def _put_many(repository: SqlRepository, prefix: str) -> None:
    for n in range(20):
        with repository.transaction() as tx:
            assert tx.tenant(f"{prefix}{n}") is None
            tx.put_tenant(Tenant(f"{prefix}{n}", prefix))


def _tenants(repository: SqlRepository) -> list[Tenant]:
    with repository.transaction() as tx:
        return list(tx.tenants())


def test_an_in_memory_sqlite_engine_of_more_than_one_connection_is_refused_with_how_to_make_it() -> None:
    engine = create_engine("sqlite://")  # SQLAlchemy's default pool: a connection, and so a database, per thread

    with pytest.raises(InvalidValueError, match="An in-memory SQLite database lives in one connection") as refused:
        SqlRepository(engine)

    assert "make_engine(url)" in str(refused.value)
    assert "poolclass=StaticPool" in str(refused.value)
    engine.dispose()


def test_an_engine_of_a_database_the_repository_does_not_run_on_is_refused_with_a_sentence() -> None:
    from sqlalchemy import create_mock_engine  # noqa: PLC0415  # an engine of any dialect, without its driver

    mysql = create_mock_engine(make_url("mysql://crm@localhost/crm"), executor=lambda *_: None)

    with pytest.raises(InvalidValueError, match="runs on SQLite and PostgreSQL, not mysql") as refused:
        SqlRepository(mysql)  # type: ignore[arg-type]  # a mock engine answers to the dialect, as an engine does

    assert "ownership.testing.contract" in str(refused.value)


# --- ids in code-point order, whatever the database's collation -----------------------------------------

IDS = ["B", "Z9", "a", "a-c", "ab", "z10", "é"]  # as Python sorts them; a locale would put "a" before "B"


@pytest.fixture
def icu_database_url(postgres_url: str) -> Iterator[str]:
    """The URL of a new database whose collation is ICU's en-US, dropped after the test."""
    icu = "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' TEMPLATE template0"
    skip = "the PostgreSQL server cannot make a database with an ICU collation"
    with throwaway_database(postgres_url, "ownership_icu", options=icu, or_skip=skip) as url:
        yield url


def _read_in_order(repository: Repository) -> dict[str, list[str]]:
    """Every listing that promises an order by id, written in reverse order first so only sorting can give it."""
    with repository.transaction() as tx:
        for id in reversed(IDS):
            tx.put_tenant(Tenant(id, id))
            tx.put_user(User(id, "a", id))
            tx.put_record(Record("deal", id, "a", AT))
    listed: dict[str, list[str]] = {}
    with repository.transaction() as tx:
        listed["tenants"] = [t.id for t in tx.tenants()]
        listed["users"] = [u.id for u in tx.users("a")]
        listed["records"] = [r.id for r in tx.records("a")]
        for name, found in (("everything", EVERYTHING), ("home", HomeIs("a"))):
            pages, after = [], None
            while page := tx.select("deal", found, limit=2, after=after):
                pages.append([r.id for r in page])
                after = page[-1].id
            listed[f"select {name}, pages of 2"] = [id for page in pages for id in page]
            listed[f"select {name}, one page"] = [r.id for r in tx.select("deal", found, limit=100)]
    return listed


@pytest.mark.postgresql
def test_ids_come_back_in_code_point_order_on_postgresql_with_an_icu_collation(icu_database_url: str) -> None:
    repository = SqlRepository.from_url(icu_database_url)
    try:
        with repository.engine.connect() as connection:
            assert connection.execute(text("SELECT 'a' < 'B'")).scalar(), "the database's own order is not Python's"

        listed = _read_in_order(repository)
    finally:
        repository.engine.dispose()

    assert sorted(IDS) == IDS
    assert listed == dict.fromkeys(listed, IDS)
    assert listed == _read_in_order(MemoryRepository())


# --- a refused write spoils its unit ------------------------------------------------------------------------


def _write_then_fail(tx: Transaction) -> None:
    """Put tenant a and D-1, add Anna as D-1's owner twice, and read, which sends the writes: the second is refused."""
    owner = Assignment(D1, "owner", ANNA, "acme", AT)
    tx.put_tenant(Tenant("a", "A"))
    tx.put_record(Record("deal", "D-1", "acme", AT))
    tx.add_assignment(owner)
    tx.add_assignment(owner)
    tx.tenants()


def test_after_a_write_the_database_refused_the_rest_of_the_unit_is_refused_and_nothing_is_kept(
    repositories: Callable[[], SqlRepository],
) -> None:
    repository = repositories()

    def unit_going_on_after_the_refusal() -> None:
        with repository.transaction() as tx:
            with pytest.raises(sa.DBAPIError):
                _write_then_fail(tx)
            with pytest.raises(StorageError, match="An earlier write of this unit of work was refused") as refused:
                tx.put_tenant(Tenant("d", "D"))
            assert not isinstance(refused.value, ConflictError)
            with pytest.raises(StorageError, match="can only be rolled back"):
                tx.tenants()
            raise UnitFailedError

    with pytest.raises(UnitFailedError):
        unit_going_on_after_the_refusal()
    assert holds(repository) == ([], [], None)


def test_a_unit_that_swallows_a_refused_write_and_ends_normally_is_refused_as_it_ends_and_keeps_nothing(
    repositories: Callable[[], SqlRepository],
) -> None:
    repository = repositories()

    def unit_swallowing_every_error() -> None:
        with repository.transaction() as tx:
            with contextlib.suppress(Exception):  # a careless host's unit
                _write_then_fail(tx)
            with contextlib.suppress(Exception):
                tx.put_tenant(Tenant("d", "D"))

    with pytest.raises(StorageError, match="leave its with-block by raising, and nothing of it is kept") as refused:
        unit_swallowing_every_error()

    assert not isinstance(refused.value, ConflictError)
    assert holds(repository) == ([], [], None), "not even tenant a, written before the refused write"
    with repository.transaction() as tx:  # the next unit works
        tx.put_tenant(Tenant("e", "E"))
    assert holds(repository) == (["e"], [], None)


@pytest.mark.parametrize("inner_unit", ["raises", "swallows"])
def test_a_unit_inside_a_unit_whose_write_is_refused_is_rolled_back_alone_and_the_outer_unit_commits_its_own(
    repositories: Callable[[], SqlRepository], inner_unit: str
) -> None:
    repository = repositories()

    def failing_inner_unit() -> None:
        with repository.transaction() as inner:
            inner.put_tenant(Tenant("b", "B"))
            if inner_unit == "raises":
                _write_then_fail(inner)
            else:
                with pytest.raises(sa.DBAPIError):
                    _write_then_fail(inner)  # caught, then the inner unit ends as if all were well

    with repository.transaction() as outer:
        outer.put_tenant(Tenant("acme", "Acme"))
        with pytest.raises(StorageError) as refused:
            failing_inner_unit()
        assert not isinstance(refused.value, ConflictError)
        assert outer.tenant("b") is None
        outer.put_tenant(Tenant("c", "C"))

    assert holds(repository) == (["acme", "c"], [], None)


# --- filters ----------------------------------------------------------------------------------------------

NORTH = Assignee.group("north")
EMPTY_FILTERS: list[Filter] = [
    Or(()),
    And(()),
    Not(Or(())),
    Not(And(())),
    HasAssignee(frozenset(), frozenset({ANNA}), "acme"),
    HasAssignee(frozenset({"owner"}), frozenset(), "acme"),
    Or((HomeIs("globex"), HasAssignee(frozenset({"owner"}), frozenset(), "acme"))),
    Or((HasAssignee(frozenset({"owner"}), frozenset(), "acme"), HasAssignee(frozenset({"owner"}), {BOB}, "acme"))),
    And((HomeIs("acme"), Or(()))),
    Not(HasAssignee(frozenset({"owner"}), frozenset(), "acme")),
]


def _world(repository: Repository) -> list[tuple[Record, list[Assignment]]]:
    """D-1 (acme; Anna owner), D-2 (acme, shared with globex; Bob owner), D-3 (globex; group North helper)."""
    world = [
        (Record("deal", "D-1", "acme", AT), [Assignment(D1, "owner", ANNA, "acme", AT)]),
        (
            Record("deal", "D-2", "acme", AT, shared_with={"globex"}),
            [Assignment(RecordRef("deal", "D-2"), "owner", BOB, "acme", AT)],
        ),
        (Record("deal", "D-3", "globex", AT), [Assignment(RecordRef("deal", "D-3"), "helper", NORTH, "globex", AT)]),
    ]
    with repository.transaction() as tx:
        for record, held in world:
            tx.put_record(record)
            for assignment in held:
                tx.add_assignment(assignment)
    return world


@pytest.mark.parametrize("found", EMPTY_FILTERS, ids=str)
def test_empty_holder_tests_ors_and_ands_select_what_matches_says(
    repositories: Callable[[], SqlRepository], found: Filter
) -> None:
    repository = repositories()
    world = _world(repository)
    expected = [r.id for r, held in world if matches(found, r, held)]

    with repository.transaction() as tx:
        assert [r.id for r in tx.select("deal", found, limit=10)] == expected
    memory = MemoryRepository()
    _world(memory)
    with memory.transaction() as tx:
        assert [r.id for r in tx.select("deal", found, limit=10)] == expected


def test_ands_and_ors_built_from_lists_are_the_ones_built_from_tuples_and_select_alike_on_sqlite(
    sqlite_memory_repositories: Callable[[], SqlRepository],
) -> None:
    held = HasAssignee({"owner"}, {ANNA, BOB}, "acme")
    from_lists = And([HomeIs("acme"), Or([SharedWith("globex"), held]), Not(Or([]))])
    from_tuples = And((HomeIs("acme"), Or((SharedWith("globex"), held)), Not(Or(()))))

    assert from_lists == from_tuples
    assert hash(from_lists) == hash(from_tuples)
    assert isinstance(from_lists.parts, tuple)
    assert len({from_lists, from_tuples, Or([held]), Or((held,))}) == 2
    repository = sqlite_memory_repositories()
    _world(repository)
    with repository.transaction() as tx:
        by_lists = [r.id for r in tx.select("deal", from_lists, limit=10)]
        by_tuples = [r.id for r in tx.select("deal", from_tuples, limit=10)]
        assert [r.id for r in tx.select("deal", Or([HomeIs("globex"), SharedWith("globex")]), limit=10)] == [
            "D-2",
            "D-3",
        ]
    assert by_lists == by_tuples == ["D-1", "D-2"]


# --- where() on a host's integer ids -----------------------------------------------------------------------


def test_where_on_a_hosts_integer_id_column_lists_exactly_what_visible_lists(
    repositories: Callable[[], SqlRepository],
) -> None:
    repository = repositories()
    host = MetaData()
    crm_deals = Table("crm_deals", host, Column("id", Integer, primary_key=True), Column("title", String))
    host.create_all(repository.engine)
    try:
        own = Ownership(presets.account_managers(), repository, clock=FakeClock())
        own.add_tenant("acme")
        own.add_tenant("globex")
        own.add_user("acme", "Anna", id="anna", admin=True)
        own.add_user("acme", "Carl", id="carl", profile=Profile(restricted={"deal"}))
        own.add_user("globex", "Gina", id="gina")
        for id in ("1", "2", "3"):
            own.create("deal", actor="anna", id=id)
        own.assign(RecordRef("deal", "2"), "responsible", Assignee.user("carl"), actor="anna")
        own.create("deal", actor="gina", id="4")
        with repository.engine.begin() as connection:
            connection.execute(insert(crm_deals), [{"id": n, "title": f"Deal {n}"} for n in (1, 2, 3, 4, 5)])

        def titles(user: str) -> list[str]:
            allowed = where(own.filter(user, "view", "deal"), kind="deal", id=crm_deals.c.id)
            with repository.engine.connect() as connection:
                query = select(crm_deals.c.title).where(allowed).order_by(crm_deals.c.id)
                return list(connection.execute(query).scalars())

        for user, ids in {"anna": ["1", "2", "3"], "carl": ["2"], "gina": ["4"]}.items():
            assert [r.id for r in own.visible(user, "deal").records] == ids, user
            assert titles(user) == [f"Deal {id}" for id in ids], user
    finally:
        host.drop_all(repository.engine)
