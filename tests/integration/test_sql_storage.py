"""What a host relies on when `ownership` keeps its state in SQL (`ownership.adapters.sql`), on SQLite and PostgreSQL.

- The schema: made once and again without harm, checked before any unit runs,
  refused with `SchemaVersionError` and a sentence when missing or of another version.
- All or nothing: a call that fails mid-way leaves the database exactly as it was,
  and a unit inside a unit is a savepoint.
- A database that is down, or drops the connection mid-unit, is a `StorageError`
  with a sentence; nothing of the unit is kept, and the next unit works.
- Units side by side (threads on a SQLite file or PostgreSQL; processes on
  PostgreSQL) behave as if they ran one after another: of two that change one
  record's holders from the same reading, one commits and the other is refused
  with `ConflictError`; a team's pool is claimed exactly once.
- `where` puts "what this user may see" into a host's own ``select``, agreeing with `visible`.
- Moments read back timezone-aware and equal; a naive one is refused.

Threads and processes meet at barriers with timeouts, never by sleeping.
"""

import multiprocessing
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, inspect, select, text, update

from ownership import (
    Assignee,
    ClaimError,
    ConflictError,
    GroupKind,
    InvalidValueError,
    Ownership,
    OwnershipError,
    Profile,
    RecordRef,
    StorageError,
    presets,
)
from ownership.adapters.memory import MemoryRepository
from ownership.adapters.sql import (
    SCHEMA_VERSION,
    SchemaVersionError,
    SqlRepository,
    create_schema,
    drop_schema,
    make_engine,
    metadata,
    schema_table,
    where,
)
from ownership.events import Assigned, Event, RecordCreated, Unassigned
from ownership.model import Assignment, Membership, Record, Tenant, User
from ownership.notify import Notification
from ownership.testing import FakeClock
from sql_repositories import WAIT, PostgresRepositories, Repositories, UnitFailedError, at_once

pytest_plugins = ("sql_repositories",)

AT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
ANNA, BOB, CARA = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("cara")
D1 = RecordRef("deal", "D-1")
W1 = RecordRef("follow_up", "W-1")
SUPPORT = Assignee.group("support")


def replayed(history: Sequence[Event], role: str) -> list[Assignee]:
    """The holders of `role` that replaying the history's assignments gives."""
    held: list[Assignee] = []
    for event in history:
        if isinstance(event, Assigned) and event.role == role:
            held.append(event.assignee)
        elif isinstance(event, Unassigned) and event.role == role:
            held.remove(event.assignee)
    return held


# --- the schema ---------------------------------------------------------------------------------


def test_create_schema_can_run_again_and_keeps_what_the_tables_hold(repositories: Callable[[], SqlRepository]) -> None:
    repository = repositories()
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna")
    own.create("deal", actor="anna", id="D-1")
    before = own.snapshot()

    create_schema(repository.engine)
    create_schema(repository.engine)

    assert own.snapshot() == before
    with repository.engine.connect() as connection:
        assert connection.execute(select(schema_table.c.version)).scalars().all() == [SCHEMA_VERSION]


@pytest.mark.parametrize("in_memory", [True, False], ids=["sqlite_memory", "sqlite_file"])
def test_a_database_without_the_tables_refuses_every_unit_and_says_to_call_create_schema(
    tmp_path: Path, in_memory: bool
) -> None:
    engine = make_engine("sqlite://" if in_memory else f"sqlite:///{tmp_path / 'empty.db'}")
    own = Ownership(presets.account_managers(), SqlRepository(engine), clock=FakeClock())

    for call in (lambda: own.add_tenant("acme"), own.snapshot, lambda: own.visible("anna", "deal")):
        with pytest.raises(SchemaVersionError, match="has no ownership tables") as refused:
            call()
        assert r"call ownership.adapters.sql.create_schema(engine)" in str(refused.value)
        assert isinstance(refused.value, StorageError)
        assert isinstance(refused.value, OwnershipError)
    assert inspect(engine).get_table_names() == [], "a refused unit made no tables"

    create_schema(engine)
    # The same repository works now, from another thread too: a refused unit kept no turn of the database.
    outcome = at_once({"other thread": lambda: own.add_tenant("acme")})["other thread"]
    assert outcome == own.tenant("acme")
    engine.dispose()


@pytest.mark.parametrize("stored", [SCHEMA_VERSION + 1, 1])  # 1: older than the oldest version create_schema migrates
def test_a_database_of_another_schema_version_is_refused_naming_both_versions(tmp_path: Path, stored: int) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(update(schema_table).values(version=stored))
    own = Ownership(presets.account_managers(), SqlRepository(engine), clock=FakeClock())
    wanted = (
        f"The database holds ownership schema version {stored}, but this code reads and writes version "
        f"{SCHEMA_VERSION}; migrate the database"
    )

    with pytest.raises(SchemaVersionError, match=wanted):
        own.add_tenant("acme")
    with pytest.raises(SchemaVersionError, match=wanted):
        own.snapshot()
    with pytest.raises(SchemaVersionError, match=wanted):
        create_schema(engine)  # which does not write over another version's mark

    with engine.connect() as connection:
        assert connection.execute(select(schema_table.c.version)).scalars().all() == [stored]
        assert connection.execute(text("SELECT count(*) FROM ownership_tenants")).scalar() == 0
    engine.dispose()


def test_every_table_and_index_is_prefixed_ownership_and_create_schema_makes_every_index(
    repositories: Callable[[], SqlRepository],
) -> None:
    for table in metadata.tables.values():
        assert table.name.startswith("ownership_"), table.name
        for index in table.indexes:
            assert index.name is not None
            assert index.name.startswith("ownership_"), index.name
    repository = repositories()

    found = inspect(repository.engine)

    assert set(metadata.tables) <= set(found.get_table_names())
    for table in metadata.tables.values():
        assert {i.name for i in table.indexes} <= {i["name"] for i in found.get_indexes(table.name)}, table.name
    assert {i["name"] for i in found.get_indexes("ownership_assignments")} >= {
        "ownership_assignments_by_holder",
        "ownership_assignments_by_assignee",
    }


def test_a_host_migration_makes_the_tables_from_metadata_beside_its_own_and_create_schema_marks_the_version(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    host = MetaData()
    crm_deals = Table("crm_deals", host, Column("id", String, primary_key=True), Column("title", String))
    host.create_all(engine)  # the host's own migration ...
    metadata.create_all(engine)  # ... makes ownership's tables too
    with engine.begin() as connection:
        connection.execute(insert(crm_deals).values(id="D-1", title="Big one"))

    create_schema(engine)  # makes nothing twice; stores the version

    own = Ownership(presets.account_managers(), SqlRepository(engine), clock=FakeClock())
    own.add_tenant("acme")
    assert [t.id for t in own.snapshot().tenants] == ["acme"]
    with engine.connect() as connection:
        assert connection.execute(select(crm_deals.c.title)).scalars().all() == ["Big one"]
    engine.dispose()


def test_tables_a_host_migration_made_without_the_version_mark_are_refused_with_how_to_mark_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    metadata.create_all(engine)  # as the missing-tables refusal suggests: "create them from ... metadata"
    own = Ownership(presets.account_managers(), SqlRepository(engine), clock=FakeClock())

    try:
        with pytest.raises(SchemaVersionError, match=r"create_schema\(engine\)"):
            own.add_tenant("acme")
    finally:
        engine.dispose()


# --- all or nothing -------------------------------------------------------------------------------


class _BreakingTransaction:
    """A SQL transaction that notes whether a notification was enqueued."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.enqueued = False

    def enqueue(self, notification: Notification) -> None:
        self._inner.enqueue(notification)
        self.enqueued = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class BreakingRepository:
    """A SQL repository failing at the end of a change that wrote a notification once `broken` is set.

    Before failing, it reads the unit's writes back from the database, so they
    have gone there and the rollback has real writes to take back.
    """

    def __init__(self, inner: SqlRepository) -> None:
        self.inner = inner
        self.broken = False
        self.seen: list[str] = []

    @contextmanager
    def _unit(self) -> Iterator[Any]:
        with self.inner.transaction() as tx:
            if not self.broken:
                yield tx
                return
            breaking = _BreakingTransaction(tx)
            yield breaking
            if breaking.enqueued:
                self.seen += [e.notification.key for e in tx.outbox()]
                self.seen += [f"{a.role} {a.assignee}" for a in tx.assignments(RecordRef("company", "C-1"))]
                raise OSError("disk full")

    def transaction(self) -> AbstractContextManager[Any]:
        return self._unit()


def test_x7_a_call_that_fails_mid_way_leaves_the_database_exactly_as_it_was(
    repositories: Callable[[], SqlRepository],
) -> None:
    repository = BreakingRepository(repositories())
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    own.add_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    for name in ("Anna", "Bob", "Cara"):
        own.add_user("acme", name, id=name.lower())
    before = own.snapshot()
    repository.broken = True

    with pytest.raises(OSError, match="disk full"):  # Bob and Cara were told, then the unit failed to be written
        own.create(
            "company", actor="anna", id="C-1", holders={"account_manager": BOB, presets.SECOND_ACCOUNT_MANAGER: CARA}
        )

    assert repository.seen == [
        "company/C-1/1/bob",
        "company/C-1/2/cara",
        "account_manager user bob",
        "second_account_manager user cara",
    ], "the unit's writes reached the database before it failed"
    repository.broken = False
    assert own.snapshot() == before
    assert own.outbox() == ()


def _offboarded(repository: MemoryRepository | SqlRepository) -> Ownership:
    """Three hundred companies of Anna's, each with Cara as its second manager, handed to Bob in one transfer."""
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    own.add_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    for name in ("Anna", "Bob", "Cara"):
        own.add_user("acme", name, id=name.lower())
    holders = {"account_manager": ANNA, presets.SECOND_ACCOUNT_MANAGER: CARA}
    for n in range(300):
        own.create("company", actor="anna", id=f"C-{n:03d}", holders=holders, name=f"Company {n}")
    assert own.transfer("anna", "bob") == 300
    return own


def test_x7_many_rows_of_one_write_read_back_on_sql_as_in_memory(repositories: Callable[[], SqlRepository]) -> None:
    # On SQLite the many rows of a write go to the driver as values bound as SQLAlchemy binds them (moments,
    # history as JSON, flags), on PostgreSQL through SQLAlchemy: either way the same state as in memory.
    repository = repositories()
    assert _offboarded(repository).snapshot() == _offboarded(MemoryRepository()).snapshot()
    if repository.engine.dialect.name == "sqlite":  # moments are UTC text without an offset, compared in order
        with repository.engine.connect() as c:
            stored = c.execute(text("SELECT since FROM ownership_assignments")).scalars().all()
        assert {len(moment) for moment in stored} == {len("2026-01-05 09:00:00")}, stored[:3]


# --- a database that is down, or drops the connection ------------------------------------------


@pytest.mark.postgresql
def test_a_postgresql_server_that_cannot_be_reached_is_a_storage_error_with_a_sentence() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/x", connect_args={"connect_timeout": 2})
    own = Ownership(presets.account_managers(), SqlRepository(engine), clock=FakeClock())

    for call in (lambda: own.add_tenant("acme"), own.snapshot):
        with pytest.raises(StorageError, match="The database could not be reached") as refused:
            call()
        assert isinstance(refused.value, OwnershipError)
        assert "check that it is up and repeat the call" in str(refused.value)
    with pytest.raises(StorageError, match="could not be reached"):
        create_schema(engine)
    engine.dispose()


def test_a_sqlite_file_in_a_directory_that_does_not_exist_is_a_storage_error_with_a_sentence(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no such directory' / 'crm.db'}"
    engine = make_engine(url)
    own = Ownership(presets.account_managers(), SqlRepository(engine), clock=FakeClock())

    with pytest.raises(StorageError, match="The database could not be reached") as refused:
        own.add_tenant("acme")
    assert isinstance(refused.value, OwnershipError)
    with pytest.raises(StorageError, match="could not be reached"):
        SqlRepository.from_url(url)
    assert not (tmp_path / "no such directory").exists()
    engine.dispose()


def _terminate(repositories: PostgresRepositories, tx: Any) -> None:
    """End the server process behind the unit's connection, from another connection, and wait until it is gone."""
    pid = tx._c.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with repositories.engine.connect() as other:
        assert other.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar()


@pytest.mark.postgresql
@pytest.mark.parametrize("then", ["reads on", "commits"])
def test_a_connection_dropped_mid_unit_is_a_storage_error_and_the_unit_keeps_nothing(
    postgres_repositories: PostgresRepositories, then: str
) -> None:
    repository = postgres_repositories()

    def cut_off_unit() -> None:
        with repository.transaction() as tx:
            tx.put_tenant(Tenant("acme", "Acme"))
            assert [t.id for t in tx.tenants()] == ["acme"]  # the write is in the database's transaction
            _terminate(postgres_repositories, tx)
            tx.put_user(User("anna", "acme", "Anna"))
            if then == "reads on":
                tx.users("acme")

    with pytest.raises(StorageError, match=r"dropped the connection|failed while committing") as refused:
        cut_off_unit()
    assert isinstance(refused.value, OwnershipError)

    with repository.transaction() as tx:  # the pool recovers: the next unit gets a live connection
        assert list(tx.tenants()) == []
        assert tx.user("anna") is None
        tx.put_tenant(Tenant("globex", "Globex"))
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    assert [t.id for t in own.snapshot().tenants] == ["globex"]


@pytest.mark.postgresql
def test_a_look_whose_pooled_connection_the_server_dropped_is_a_storage_error_and_the_next_look_works(
    postgres_repositories: PostgresRepositories,
) -> None:
    postgres_repositories()  # empty
    repository = SqlRepository(make_engine(postgres_repositories.url))  # a pool of its own
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna", admin=True)
    generation = repository.generation_now()
    with repository.engine.connect() as one, repository.engine.connect() as two:  # the pool now keeps two
        pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar() for c in (one, two)]
    with postgres_repositories.engine.connect() as other:
        for pid in pids:
            assert other.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar()

    with pytest.raises(StorageError, match="dropped the connection") as refused:
        repository.generation_now()
    assert isinstance(refused.value, OwnershipError)
    # Neither dropped connection is handed out again: one refusal for the server's drop, not one a connection.
    assert repository.generation_now() == generation
    assert own.visible_ids("anna", "deal").ids == ()
    repository.close()


@pytest.mark.postgresql
def test_a_refused_look_leaves_no_connection_that_commits_each_statement_in_the_pool(
    postgres_repositories: PostgresRepositories,
) -> None:
    postgres_repositories()  # empty
    repository = SqlRepository(make_engine(postgres_repositories.url, pool_size=1, max_overflow=0))
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    own.add_tenant("acme")
    repository.generation_now()
    with repository.engine.begin() as connection:
        connection.execute(text("ALTER TABLE ownership_schema RENAME TO ownership_schema_away"))
    with pytest.raises(StorageError):
        repository.generation_now()  # refused: the look ran with each statement committed on its own
    with repository.engine.begin() as connection:
        connection.execute(text("ALTER TABLE ownership_schema_away RENAME TO ownership_schema"))

    def failing_unit() -> None:
        with repository.transaction() as tx:  # on the pool's one connection
            tx.put_tenant(Tenant("globex", "Globex"))
            raise UnitFailedError

    with pytest.raises(UnitFailedError):
        failing_unit()
    assert [t.id for t in own.snapshot().tenants] == ["acme"]  # the unit's write was rolled back with it
    repository.close()


def test_a_look_while_every_pooled_connection_is_in_use_is_a_storage_error_with_a_sentence(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}", pool_size=1, max_overflow=0, pool_timeout=0.1)
    repository = SqlRepository(engine)
    create_schema(engine)
    repository.generation_now()
    with engine.connect() as held:
        held.exec_driver_sql("SELECT 1")
        with pytest.raises(StorageError, match="No database connection came free") as refused:
            repository.generation_now()
    assert isinstance(refused.value, OwnershipError)
    repository.close()


def test_a_look_at_a_database_whose_tables_went_away_is_a_storage_error_with_a_sentence(tmp_path: Path) -> None:
    repository = SqlRepository.from_url(f"sqlite:///{tmp_path / 'crm.db'}")
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna", admin=True)
    assert own.visible_ids("anna", "deal").ids == ()  # the viewer is kept, and the schema checked
    drop_schema(repository.engine)

    for look in (repository.generation_now, lambda: own.visible_ids("anna", "deal")):
        with pytest.raises(StorageError, match="no such table") as refused:
            look()
        assert isinstance(refused.value, OwnershipError)
    repository.close()


# --- units side by side -------------------------------------------------------------------------------


def test_x3_two_units_changing_a_records_holders_at_once_take_turns_or_the_later_conflicts(
    side_by_side: Callable[[], SqlRepository],
) -> None:
    """Never do both commit from one reading: on PostgreSQL the later waits for the record and reads what the
    earlier wrote; on SQLite, which lets both read, the later is refused as a conflict to repeat."""
    repository = side_by_side()
    deal = Record("deal", "D-1", "acme", AT)
    first = Assignment(D1, "owner", ANNA, "acme", AT, "anna")
    with repository.transaction() as tx:
        tx.put_record(deal)
        tx.add_assignment(first)
        tx.append_events([RecordCreated(D1, "acme", "anna", AT), Assigned(D1, "owner", ANNA, "acme", "anna", AT)])
    both_begun = threading.Barrier(2, timeout=WAIT)

    def hand_over(to: str) -> str:
        later = AT + timedelta(minutes=1)
        with repository.transaction() as tx:
            both_begun.wait()
            [held] = tx.assignments(D1)
            tx.remove_assignment(held)
            tx.add_assignment(Assignment(D1, "owner", Assignee.user(to), "acme", later, to))
            tx.append_events(
                [
                    Unassigned(D1, "owner", held.assignee, "acme", to, later),
                    Assigned(D1, "owner", Assignee.user(to), "acme", to, later),
                ]
            )
        return "committed"

    outcomes = at_once({"bob": lambda: hand_over("bob"), "cara": lambda: hand_over("cara")})

    committed = [user for user, outcome in outcomes.items() if outcome == "committed"]
    refused = [outcomes[user] for user in set(outcomes) - set(committed)]
    assert committed, outcomes
    assert all(isinstance(error, ConflictError) and "repeat the call" in str(error) for error in refused), outcomes
    with repository.transaction() as tx:
        history = [(type(e).__name__, e.assignee.id) for e in tx.events(D1) if isinstance(e, Assigned | Unassigned)]
        owner = [a.assignee.id for a in tx.assignments(D1)]
    # The history replays: each handover takes the role from whoever held it then, and ends with the owner.
    holder = "anna"
    assert history[0] == ("Assigned", "anna")
    for (took, whom), (gave, to) in zip(history[1::2], history[2::2], strict=True):
        assert (took, whom, gave) == ("Unassigned", holder, "Assigned")
        holder = to
    assert owner == [holder]
    assert len(history) == 1 + 2 * len(committed)


def _handover_crm(repository: SqlRepository, people: int) -> Ownership:
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna", admin=True)
    for n in range(people):
        own.add_user("acme", f"User {n}", id=f"u{n}")
    own.create("deal", actor="anna", id="D-1")
    return own


def test_tl2_eight_people_handing_a_deal_over_at_once_leave_one_responsible_and_a_history_that_replays(
    side_by_side: Callable[[], SqlRepository],
) -> None:
    own = _handover_crm(side_by_side(), 8)

    outcomes = at_once(
        {f"u{n}": (lambda n=n: own.assign(D1, "responsible", Assignee.user(f"u{n}"), actor="anna")) for n in range(8)}
    )

    won = {user for user, outcome in outcomes.items() if outcome == (Assignee.user(user),)}
    assert won, outcomes
    assert all(isinstance(outcomes[user], ConflictError) for user in set(outcomes) - won), outcomes
    [holder] = own.holders(D1, "responsible")
    assert holder.id in won
    history = own.history(D1)
    assert replayed(history, "responsible") == [holder]
    handed = [e.assignee.id for e in history if isinstance(e, Assigned)]
    assert handed[0] == "anna"
    assert sorted(handed[1:]) == sorted(won), "every call that returned is in the history once; no refused one is"
    keys = [entry.notification.key for entry in own.outbox()]
    assert len(keys) == len(set(keys))
    assert sorted(keys) == sorted(
        f"deal/D-1/{position}/{e.assignee.id}"
        for position, e in enumerate(history)
        if isinstance(e, Assigned) and e.assignee != ANNA
    ), "one notification per handover, keyed by the handover's own place in the history"


def _pool_crm(repository: SqlRepository, members: int) -> Ownership:
    """Meier GmbH (caretaker preset): admin Anna; team Support of m0, m1, ...; follow-up W-1 in Support's pool."""
    own = Ownership(presets.caretaker_groups(), repository, clock=FakeClock())
    own.add_tenant("meier-gmbh")
    own.add_user("meier-gmbh", "Anna", id="anna", admin=True)
    own.add_group("meier-gmbh", "Support", GroupKind.TEAM, id="support")
    for n in range(members):
        own.add_user("meier-gmbh", f"Member {n}", id=f"m{n}")
        own.add_member("support", f"m{n}")
    own.create("follow_up", actor="anna", id="W-1", holders={"team": SUPPORT})
    return own


def test_cg10_eight_members_claiming_from_a_pool_at_once_exactly_one_wins(
    side_by_side: Callable[[], SqlRepository],
) -> None:
    own = _pool_crm(side_by_side(), 8)

    outcomes = at_once({f"m{n}": (lambda n=n: own.claim(W1, "team", actor=f"m{n}")) for n in range(8)})

    [winner] = [user for user, outcome in outcomes.items() if not isinstance(outcome, OwnershipError)]
    assert outcomes[winner] == (Assignee.user(winner),)
    assert all(isinstance(outcomes[user], ClaimError | ConflictError) for user in set(outcomes) - {winner}), outcomes
    assert own.holders(W1, "team") == (Assignee.user(winner),)
    assert [e.assignee for e in own.history(W1) if isinstance(e, Unassigned)] == [SUPPORT]


def _claim_in_a_process(url: str, start: Any, results: Any, user: str) -> None:
    """Claim W-1 as `user` through an engine and `Ownership` of this process's own; put the outcome on `results`."""
    try:
        engine = make_engine(url)
        own = Ownership(presets.caretaker_groups(), SqlRepository(engine))
        start.wait(WAIT)
        try:
            own.claim(W1, "team", actor=user)
            outcome = "won"
        except (ClaimError, ConflictError) as error:
            outcome = type(error).__name__
        engine.dispose()
    except BaseException as error:  # the parent judges every outcome
        outcome = f"failed: {error!r}"
    results.put((user, outcome))


@pytest.mark.postgresql
def test_cg10_four_processes_claiming_from_a_pool_at_once_exactly_one_wins(
    postgres_repositories: PostgresRepositories,
) -> None:
    own = _pool_crm(postgres_repositories(), 4)
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(4), spawn.Queue()
    users = [f"m{n}" for n in range(4)]
    processes = [
        spawn.Process(target=_claim_in_a_process, args=(postgres_repositories.url, start, results, user))
        for user in users
    ]
    for process in processes:
        process.start()
    try:
        outcomes = dict(results.get(timeout=WAIT * 2) for _ in users)
    finally:
        for process in processes:
            process.join(timeout=WAIT)
            if process.is_alive():
                process.kill()

    [winner] = [user for user, outcome in outcomes.items() if outcome == "won"]
    assert {outcomes[user] for user in set(users) - {winner}} <= {"ClaimError", "ConflictError"}, outcomes
    assert own.holders(W1, "team") == (Assignee.user(winner),)
    assert [e.assignee for e in own.history(W1) if isinstance(e, Unassigned)] == [SUPPORT]


# --- a unit inside a unit ---------------------------------------------------------------------------


def test_a_unit_inside_a_unit_that_fails_is_rolled_back_alone_and_the_outer_unit_commits(
    repositories: Callable[[], SqlRepository],
) -> None:
    repository = repositories()
    deal = Record("deal", "D-1", "acme", AT)
    created = RecordCreated(D1, "acme", "anna", AT)
    by_anna, by_bob = (Assigned(D1, "owner", a, "acme", a.id, AT) for a in (ANNA, BOB))

    def failing_inner_unit() -> None:
        with repository.transaction() as inner:
            inner.put_tenant(Tenant("globex", "Globex"))
            inner.add_assignment(Assignment(D1, "owner", ANNA, "acme", AT))
            assert list(inner.append_events([by_anna])) == [1]
            assert inner.tenant("globex") is not None, "the inner unit reads its own writes"
            raise UnitFailedError

    with repository.transaction() as outer:
        outer.put_tenant(Tenant("acme", "Acme"))
        outer.put_record(deal)
        assert list(outer.append_events([created])) == [0]
        with pytest.raises(UnitFailedError):
            failing_inner_unit()
        assert outer.tenant("globex") is None
        assert list(outer.assignments(D1)) == []
        assert list(outer.append_events([by_bob])) == [1], "the place the inner unit took back is given again"
        with repository.transaction() as kept:
            kept.put_tenant(Tenant("initech", "Initech"))

    with repository.transaction() as tx:
        assert [t.id for t in tx.tenants()] == ["acme", "initech"]
        assert list(tx.assignments(D1)) == []
        assert list(tx.events(D1)) == [created, by_bob]


def test_a_unit_inside_a_unit_whose_writes_the_database_refuses_is_rolled_back_alone(
    repositories: Callable[[], SqlRepository],
) -> None:
    repository = repositories()
    owner = Assignment(D1, "owner", ANNA, "acme", AT)
    with repository.transaction() as tx:
        tx.put_record(Record("deal", "D-1", "acme", AT))
        tx.add_assignment(owner)

    def refused_inner_unit() -> None:
        with repository.transaction() as inner:
            inner.put_tenant(Tenant("globex", "Globex"))
            inner.add_assignment(owner)  # a second time: the database refuses it when the inner unit ends

    with repository.transaction() as outer:
        outer.put_tenant(Tenant("acme", "Acme"))
        with pytest.raises(OwnershipError):
            refused_inner_unit()
        outer.put_tenant(Tenant("initech", "Initech"))

    with repository.transaction() as tx:
        assert [t.id for t in tx.tenants()] == ["acme", "initech"]


# --- where(): access in a host's own select -------------------------------------------------------------


def test_x6_where_in_a_hosts_own_select_lists_exactly_what_visible_lists(
    repositories: Callable[[], SqlRepository],
) -> None:
    repository = repositories()
    host = MetaData()
    crm_deals = Table("crm_deals", host, Column("id", String, primary_key=True), Column("title", String))
    crm_customers = Table("crm_customers", host, Column("id", String, primary_key=True), Column("name", String))
    host.create_all(repository.engine)
    try:
        own = Ownership(
            presets.account_managers() | presets.caretaker_groups().only("customer"), repository, clock=FakeClock()
        )
        own.add_tenant("acme")
        own.add_tenant("globex")
        own.add_user("acme", "Anna", id="anna", admin=True)
        own.add_user("acme", "Bob", id="bob")
        own.add_user("acme", "Carl", id="carl", profile=Profile(restricted={"deal"}))  # TL4
        own.add_user("acme", "Dora", id="dora")
        own.add_user("globex", "Gina", id="gina")
        north = own.add_group("acme", "North", GroupKind.CARETAKER, id="north")
        south = own.add_group("acme", "South", GroupKind.CARETAKER, id="south")
        own.add_member(north, "dora")
        own.create("deal", actor="bob", id="D-1")
        own.create("deal", actor="anna", id="D-2")
        own.create("deal", actor="anna", id="D-3")
        own.assign(RecordRef("deal", "D-3"), "responsible", Assignee.user("carl"), actor="anna")
        own.create("deal", actor="gina", id="G-1")
        own.create("customer", actor="anna", id="K-1", holders={"caretaker_group": north})
        own.create("customer", actor="anna", id="K-2", holders={"caretaker_group": south})
        with repository.engine.begin() as connection:
            # The host's rows: the tracked ones, and some ownership never heard of.
            connection.execute(
                insert(crm_deals), [{"id": i, "title": f"Deal {i}"} for i in ("D-1", "D-2", "D-3", "D-9", "G-1")]
            )
            connection.execute(
                insert(crm_customers), [{"id": i, "name": f"Customer {i}"} for i in ("K-1", "K-2", "K-9")]
            )

        def listed(user: str, kind: str, table: Table) -> list[str]:
            allowed = where(own.filter(user, "view", kind), kind=kind, id=table.c.id)
            with repository.engine.connect() as connection:
                return list(connection.execute(select(table.c.id).where(allowed).order_by(table.c.id)).scalars())

        expected = {
            ("anna", "deal"): ["D-1", "D-2", "D-3"],  # an admin: every deal of the tenant, none of globex's
            ("carl", "deal"): ["D-3"],  # restricted: only what he is responsible for
            ("gina", "deal"): ["G-1"],
            ("anna", "customer"): ["K-1", "K-2"],
            ("dora", "customer"): ["K-1"],  # in caretaker group North
            ("bob", "customer"): [],  # in no caretaker group
        }
        for (user, kind), ids in expected.items():
            table = crm_deals if kind == "deal" else crm_customers
            assert [r.id for r in own.visible(user, kind).records] == ids, (user, kind)
            assert listed(user, kind, table) == ids, (user, kind)
    finally:
        host.drop_all(repository.engine)


# --- moments ----------------------------------------------------------------------------------------------


def test_moments_read_back_timezone_aware_and_equal(repositories: Callable[[], SqlRepository]) -> None:
    repository = repositories()
    created = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    until = datetime(2026, 4, 1, tzinfo=timezone(timedelta(hours=-5)))
    since = AT  # on a whole second
    deal = Record("deal", "D-1", "acme", created)
    held = Assignment(D1, "owner", ANNA, "acme", since, "anna")
    history = [RecordCreated(D1, "acme", "anna", created), Assigned(D1, "owner", ANNA, "acme", "anna", since)]
    with repository.transaction() as tx:
        tx.put_record(deal)
        tx.put_membership(Membership("north", "anna", until))
        tx.add_assignment(held)
        tx.append_events(history)

    with repository.transaction() as tx:
        record = tx.record(D1)
        [membership] = tx.memberships_of_user("anna")
        [assignment] = tx.assignments(D1)
        events = list(tx.events(D1))
    assert (record, membership, assignment, events) == (deal, Membership("north", "anna", until), held, history)
    moments = [record.created_at, membership.until, assignment.since, *(e.at for e in events)]
    assert all(m is not None and m.utcoffset() is not None for m in moments), moments
    assert record.created_at.microsecond == 123456


def test_a_naive_moment_is_refused_as_an_invalid_value_and_the_unit_leaves_nothing(
    repositories: Callable[[], SqlRepository],
) -> None:
    repository = repositories()
    own = Ownership(presets.account_managers(), repository, clock=lambda: datetime(2026, 1, 5, 9))  # no time zone
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna")
    before = own.snapshot()

    with pytest.raises(
        InvalidValueError,
        match=r"Record\.created_at takes a datetime with a time zone, not datetime\.datetime\(2026, 1, 5, 9, 0\)\.",
    ):
        own.create("deal", actor="anna", id="D-1")
    assert own.snapshot() == before

    def unit_with_a_naive_cover() -> None:
        with repository.transaction() as tx:
            tx.put_tenant(Tenant("globex", "Globex"))
            tx.put_membership(Membership("north", "anna", datetime(2026, 2, 1)))

    with pytest.raises(InvalidValueError, match=r"Membership\.until takes None or a datetime with a time zone"):
        unit_with_a_naive_cover()
    assert own.snapshot() == before
    with repository.transaction() as tx:
        assert list(tx.memberships_of_user("anna")) == []


def test_units_that_write_take_turns_on_sqlite_rather_than_conflict(sqlite_file_repositories: Repositories) -> None:
    repository = sqlite_file_repositories()
    holding, released = threading.Event(), threading.Event()
    seen: list[object] = []

    def first() -> None:
        with repository.writing() as tx:
            tx.put_tenant(Tenant("acme", "Acme"))
            tx.tenants()  # the write reaches the database: the writer is taken
            holding.set()
            released.wait(WAIT)

    def second() -> None:
        holding.wait(WAIT)
        try:
            with repository.writing() as tx:
                seen.append([t.id for t in tx.tenants()])
                tx.put_tenant(Tenant("globex", "Globex"))
        except Exception as error:  # the test judges it
            seen.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    threads[1].join(timeout=0.3)
    assert threads[1].is_alive(), "the second writer waits for the first, rather than failing"
    released.set()
    for thread in threads:
        thread.join(timeout=WAIT)
    assert seen == [["acme"]], "it went on once the first committed, and read its write"
    with repository.transaction() as tx:
        assert [t.id for t in tx.tenants()] == ["acme", "globex"]


def test_a_unit_that_writes_many_rows_leaves_the_planner_fresh_statistics_of_them(
    side_by_side: Callable[[], SqlRepository],
) -> None:
    """The first query after a large restore is planned on what is there, not on the empty tables of before."""
    world = Ownership(presets.account_managers(), MemoryRepository(), clock=FakeClock())
    world.add_tenant("acme")
    world.add_user("acme", "Anna", id="anna", admin=True)
    many = tuple(Record("company", f"C{n:06d}", "acme", AT) for n in range(10_000))
    held = tuple(Assignment(r.ref, "account_manager", ANNA, "acme", AT, None) for r in many)
    repository = side_by_side()
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    own.restore(attrs.evolve(world.snapshot(), records=many, assignments=held))

    with repository.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("SELECT tbl, stat FROM sqlite_stat1").all()
            counted = {
                tbl: int(stat.split()[0]) for tbl, stat in rows if tbl in {"ownership_records", "ownership_assignments"}
            }
        else:
            rows = connection.exec_driver_sql(
                "SELECT relname, reltuples FROM pg_class "
                "WHERE relname IN ('ownership_records', 'ownership_assignments')"
            ).all()
            counted = {name: int(tuples) for name, tuples in rows}
    assert counted == {"ownership_records": 10_000, "ownership_assignments": 10_000}
