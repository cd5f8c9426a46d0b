"""The SQL repository: SQLAlchemy Core on SQLite (the embedded default) or PostgreSQL (at scale).

Install it with the ``sql`` extra (``postgresql`` adds the psycopg driver):

    from ownership.adapters.sql import SqlRepository

    repository = SqlRepository.from_url("sqlite:///crm.db")  # creates the tables if they are missing

The tables are prefixed ``ownership_`` and live on `metadata`, which a host
can hand to its own migrations; `create_schema` makes them for a host without
any. The stored schema version must be `SCHEMA_VERSION`, or every unit of work
is refused with `SchemaVersionError`.

A unit of work is one database transaction: state, history and outbox rows
commit together or not at all. Units behave as if they ran one after another
(on PostgreSQL reads read a snapshot and writers lock what they touch, in a
fixed order, see `SqlRepository`; SQLite writes one at a time); when the
database finds two units in each other's way, the later one is rolled back and
raised as `ConflictError`, which is safe to retry. So is a unit that gives a
record a number another record of its kind and tenant carries (CT4): two units
numbering at once both found it free, and the later, run again, finds it taken.
A database that is down or drops the connection is `StorageError`.

`where` compiles an access filter to a clause on a host's own id column, so a
host can put "what this user may see" into its own ``select``.
"""

import contextlib
import functools
import json
import logging
import operator
import sqlite3
import threading
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any, NamedTuple

import attrs
from sqlalchemy import (
    JSON,
    BigInteger,
    BindParameter,
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    CompoundSelect,
    DateTime,
    Dialect,
    Engine,
    Executable,
    Index,
    Integer,
    MetaData,
    Row,
    Select,
    String,
    Table,
    TableClause,
    Text,
    TextClause,
    TypeDecorator,
    UniqueConstraint,
    and_,
    bindparam,
    cast,
    create_engine,
    delete,
    event,
    false,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    union,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, NestedTransaction
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import StaticPool
from sqlalchemy.schema import CreateColumn
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.util import HasMemoized

from ownership.errors import ConflictError, InvalidValueError, SchemaVersionError, StorageError
from ownership.events import Event
from ownership.filters import (
    And,
    Everything,
    Filter,
    HasAssignee,
    Held,
    HomeIs,
    IdIn,
    InGroup,
    Labelled,
    NameHas,
    Not,
    Nothing,
    Or,
    SharedWith,
    StatusIn,
    without_implied_participation,
)
from ownership.model import (
    Assignee,
    AssigneeKind,
    Assignment,
    Follower,
    Grant,
    Group,
    GroupKind,
    Membership,
    Profile,
    Record,
    RecordRef,
    Tenant,
    User,
)
from ownership.notify import Notification, OutboxEntry
from ownership.ports import Transaction
from ownership.serde import structure, unstructure

logger = logging.getLogger("ownership")

SCHEMA_VERSION = 6
"""The version of the tables this code reads and writes; stored in ``ownership_schema``."""


class _Moment(TypeDecorator[datetime]):
    """A timezone-aware moment, stored as UTC; read back aware on every database.

    SQLite has no type for moments: there it is ISO 8601 text, which reads
    back much faster than SQLAlchemy's own SQLite datetime.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(String() if dialect.name == "sqlite" else DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | str | None:
        if value is None:
            return None
        _check_aware(value)
        moment = value.astimezone(timezone.utc)
        return moment.replace(tzinfo=None).isoformat(sep=" ") if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | str | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=timezone.utc)


def _check_aware(moment: datetime | None) -> None:
    """Refuse a naive moment before it is queued, where the caller still sees the refusal as it is."""
    if moment is not None and moment.tzinfo is None:
        raise InvalidValueError(f"A moment to store must be timezone-aware, not {moment!r}; use datetime.now(UTC).")


class _Names(TypeDecorator[frozenset[str]]):
    """A set of names (tenants, switches, kinds), stored as a sorted JSON list."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Collection[str] | None, dialect: Dialect) -> str | None:  # noqa: ARG002
        return None if value is None else json.dumps(sorted(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> frozenset[str] | None:  # noqa: ARG002
        if value is None:
            return None
        return _NO_NAMES if value == "[]" else frozenset(json.loads(value))


_NO_NAMES: frozenset[str] = frozenset()


_SEQ = BigInteger().with_variant(Integer, "sqlite")  # SQLite numbers rows itself only for an INTEGER key
# Ids sort by code point everywhere, as in Python: PostgreSQL would otherwise sort them by the database's locale.
_ID = String().with_variant(String(collation="C"), "postgresql")

metadata = MetaData()
"""Every table of `ownership`, for `create_schema` or a host's own migrations."""

schema_table = Table(
    "ownership_schema",
    metadata,
    # One row at most: the key is always 1, so two processes making the schema at once cannot store two versions.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    # Since version 4: the directory's generation, moved on by every unit that writes a tenant, user, group or
    # membership; its row is what writing units lock, shared by writers of records, alone by writers of the directory.
    Column("generation", _SEQ, nullable=False, server_default=text("0")),
    CheckConstraint("id = 1", name="ownership_schema_one_row"),
)
tenants = Table(
    "ownership_tenants",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("name", String, nullable=False),
    Column("plan", String),
    Column("switches", _Names, nullable=False),
)
users = Table(
    "ownership_users",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("tenant", _ID, nullable=False),
    Column("name", String, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("admin", Boolean, nullable=False),
    Column("restricted", _Names, nullable=False),
    Column("push", Boolean, nullable=False),
    Column("manager", _ID),
    Column("traits", _Names, nullable=False, server_default="[]"),
    Index("ownership_users_by_tenant", "tenant", "id"),
)
groups = Table(
    "ownership_groups",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("tenant", _ID, nullable=False),
    Column("name", String, nullable=False),
    Column("kind", _ID, nullable=False),
    Column("personal_of", _ID),
    Index("ownership_groups_by_tenant", "tenant", "id"),
)
memberships = Table(
    "ownership_memberships",
    metadata,
    Column("group_id", _ID, primary_key=True),
    Column("user_id", _ID, primary_key=True),
    Column("until", _Moment),
    Index("ownership_memberships_by_user", "user_id", "group_id"),
)
_NUMBER = "ownership_records_number"  # the constraint that keeps numbers unique, by the name errors give it
records = Table(
    "ownership_records",
    metadata,
    Column("kind", _ID, primary_key=True),
    Column("id", _ID, primary_key=True),
    Column("tenant", _ID, nullable=False),
    Column("created_at", _Moment, nullable=False),
    Column("shared_with", _Names, nullable=False),
    Column("offered_to", _Names, nullable=False),
    Column("name", String),
    # The name casefolded in Python, where `NameHas` looks: no database folds case as `str.casefold` does.
    Column("name_key", String),
    Column("status", _ID),
    Column("number", _ID),
    # Defaults, so a host's bulk insert that predates them still makes valid rows.
    Column("labels", _Names, nullable=False, default=_NO_NAMES),
    Column("groups", _Names, nullable=False, default=_NO_NAMES),
    # Unique among a tenant's records of a kind (CT4); records without a number are not compared (NULLs differ).
    UniqueConstraint("tenant", "kind", "number", name=_NUMBER),
    Index("ownership_records_by_home", "kind", "tenant", "id"),
    # Since version 4: the record's home beside its key, so an access filter that finds records by their holders
    # checks the viewer's tenant takes part from the index alone, never reading the rows.
    Index("ownership_records_by_key_and_home", "kind", "id", "tenant"),
    Index("ownership_records_by_tenant", "tenant", "kind", "id"),
    Index("ownership_records_by_status", "kind", "status"),
)


class _Link(NamedTuple):
    """A side table of one set of names records carry (shares, labels, groups): a row a name, for the filters.

    Its key leads with the record, so `put_record` rewrites a record's names
    through it; its index leads with the name, so a filter finds a name's
    records through it.
    """

    table: Table
    column: str
    names: Callable[[Record], frozenset[str]]

    @classmethod
    def made(cls, name: str, column: str, names: Callable[[Record], frozenset[str]]) -> "_Link":
        """Define the table `name`, whose `column` holds the names `names` reads off each record."""
        table = Table(
            name,
            metadata,
            Column("kind", _ID, primary_key=True),
            Column("record_id", _ID, primary_key=True),
            Column(column, _ID, primary_key=True),
            Index(f"{name}_by_{column}", "kind", column, "record_id"),
        )
        return cls(table, column, names)


_SHARES = _Link.made("ownership_shares", "tenant", operator.attrgetter("shared_with"))
_LABELS = _Link.made("ownership_labels", "label", operator.attrgetter("labels"))
_GROUPS = _Link.made("ownership_group_links", "group_id", operator.attrgetter("groups"))
_LINKS = (_SHARES, _LABELS, _GROUPS)
shares, labels, group_links = (link.table for link in _LINKS)
assignments = Table(
    "ownership_assignments",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("kind", _ID, nullable=False),
    Column("record_id", _ID, nullable=False),
    Column("role", _ID, nullable=False),
    Column("tenant", _ID, nullable=False),
    Column("assignee_kind", _ID, nullable=False),
    Column("assignee_id", _ID, nullable=False),
    Column("since", _Moment, nullable=False),
    Column("actor", _ID),
    UniqueConstraint(
        "kind", "record_id", "role", "tenant", "assignee_kind", "assignee_id", name="ownership_assignments_slot"
    ),
    # Who holds what: the index the access filters run through.
    Index("ownership_assignments_by_holder", "kind", "role", "tenant", "assignee_kind", "assignee_id", "record_id"),
    Index("ownership_assignments_by_assignee", "assignee_kind", "assignee_id"),
)
events = Table(
    "ownership_events",
    metadata,
    Column("kind", _ID, primary_key=True),
    Column("record_id", _ID, primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("body", JSON, nullable=False),
)
outbox = Table(
    "ownership_outbox",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("key", _ID, nullable=False, unique=True),
    # The record it is about, so deleting the record forgets it.
    Column("kind", _ID, nullable=False),
    Column("record_id", _ID, nullable=False),
    Column("body", JSON, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("delivered", Boolean, nullable=False),
    # Since version 3: dead letters, backoff, and the lease of the dispatcher that claimed it.
    Column("dead", Boolean, nullable=False, server_default=false()),
    Column("next_attempt_at", _Moment, nullable=True),
    Column("claim_token", _ID, nullable=True),
    Column("claimed_until", _Moment, nullable=True),
    Index("ownership_outbox_pending", "delivered", "seq"),
    Index("ownership_outbox_by_record", "kind", "record_id"),
)
settings = Table(
    "ownership_settings",
    metadata,
    Column("tenant", _ID, primary_key=True),
    Column("key", _ID, primary_key=True),
    Column("value", Text, nullable=False),  # JSON text, written and read by `json` in Python, as every database
)
grants = Table(
    "ownership_grants",
    metadata,
    # Since version 6: one record shared with one user or group, at a level, for good or until a moment.
    Column("kind", _ID, primary_key=True),
    Column("record_id", _ID, primary_key=True),
    Column("assignee_kind", _ID, primary_key=True),
    Column("assignee_id", _ID, primary_key=True),
    Column("tenant", _ID, nullable=False),
    Column("level", _ID, nullable=False),
    Column("since", _Moment, nullable=False),
    Column("until", _Moment),
    Column("actor", _ID),
    # What is granted to a viewer and their groups: read when the viewer is resolved.
    Index("ownership_grants_by_assignee", "assignee_kind", "assignee_id", "kind", "record_id"),
    Index("ownership_grants_by_tenant", "tenant"),
)
followers = Table(
    "ownership_followers",
    metadata,
    # Since version 6: a user who hears of a record's activities without holding it.
    Column("kind", _ID, primary_key=True),
    Column("record_id", _ID, primary_key=True),
    Column("user_id", _ID, primary_key=True),
    Column("tenant", _ID, nullable=False),
    Column("since", _Moment, nullable=False),
    Index("ownership_followers_by_tenant", "tenant"),
)

_TABLES = (
    tenants,
    users,
    groups,
    memberships,
    records,
    shares,
    labels,
    group_links,
    assignments,
    events,
    outbox,
    settings,
    grants,
    followers,
)


# --- engines and the schema ------------------------------------------------------------


def make_engine(url: str, **options: Any) -> Engine:
    """Return an engine for `url`, set up as `SqlRepository` needs it.

    SQLite gets real transactions (``BEGIN`` when a unit starts, so its reads
    are consistent and savepoints work), a write-ahead log for a file, so
    readers never wait for a writer, and a busy timeout. An in-memory SQLite
    database is one connection, shared by every thread. PostgreSQL is left as
    SQLAlchemy makes it. `options` go to `sqlalchemy.create_engine`.

    Raises:
        InvalidValueError: `url` is not a database URL SQLAlchemy can use here (a typo, or a driver not installed).
    """
    try:
        if url.startswith("sqlite") and _in_memory(url):
            options.setdefault("poolclass", StaticPool)
            options.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError) as error:
        raise InvalidValueError(
            f"The database URL cannot be used here ({error}); write it as "
            "sqlite:///path/to/file.db or postgresql+psycopg://user@host/database, with the driver installed."
        ) from error
    if engine.dialect.name == "sqlite":
        _prepare_sqlite(engine)
    return engine


def _in_memory(url: str) -> bool:
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - only SQLite URLs are parsed here

    database = make_url(url).database
    return database in (None, "", ":memory:")


_SQLITE_BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for the one before it; a bulk action can take seconds


def _prepare_sqlite(engine: Engine) -> None:
    """Make pysqlite begin transactions when SQLAlchemy does, not at the first write; idempotent.

    An in-memory database must be one connection shared by every thread
    (`StaticPool`), or each thread would see a database of its own.
    """
    if _in_memory(str(engine.url)) and not isinstance(engine.pool, StaticPool):
        raise InvalidValueError(
            "An in-memory SQLite database lives in one connection; make its engine with "
            "ownership.adapters.sql.make_engine(url), or pass poolclass=StaticPool and "
            'connect_args={"check_same_thread": False} to create_engine.'
        )
    if event.contains(engine, "connect", _sqlite_connect):
        return
    if isinstance(engine.pool, StaticPool):
        # Its one connection, made now if need be, may hold the database already: set it up in place, once.
        with engine.connect() as connection:
            _sqlite_connect(connection.connection.dbapi_connection, None)
    else:
        engine.dispose()  # connections made before the listeners would keep pysqlite's own handling
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)


# An in-memory SQLite database is one connection: units on it take turns, whichever repository opens them.
_TURNS: "weakref.WeakKeyDictionary[Any, threading.RLock]" = weakref.WeakKeyDictionary()
_TURNS_LOCK = threading.Lock()


def _turns_of(engine: Engine) -> "threading.RLock | None":
    if not isinstance(engine.pool, StaticPool):
        return None
    with _TURNS_LOCK:
        return _TURNS.setdefault(engine.pool, threading.RLock())


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite must not issue BEGIN on its own: `_sqlite_begin` does
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
    if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not memory
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A unit's writes wait for the database's one writer only when they come; making the schema waits at once,
    # so that processes starting together take turns instead of finding their reads outdated.
    options = connection.get_execution_options()
    if options.get(_ONE_STATEMENT, False):
        return  # one statement alone is one snapshot already: no transaction around it
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_IMMEDIATE, False) else "BEGIN")


_IMMEDIATE = "ownership_begin_immediate"
_ONE_STATEMENT = "ownership_one_statement"


def create_schema(engine: Engine) -> None:
    """Create the tables and indexes of `ownership` where they are missing, and store the schema version.

    A database that has them all at this version is only read, so opening a
    store never waits for the processes writing to it. A database of an older
    schema version (2 to 5) is migrated in place: version 3 gave the outbox its
    columns for dead letters, backoff and leases, version 4 the directory's
    generation, version 5 users their managers and traits, version 6 the
    tables of grants and followers.

    Raises:
        SchemaVersionError: the database holds the tables of another schema version.
        StorageError: the database could not be reached.
    """
    if engine.dialect.name == "sqlite":
        _prepare_sqlite(engine)
    try:
        if _schema_ready(engine):
            return
        with engine.execution_options(**{_IMMEDIATE: True}).begin() as connection:
            create_schema_on(connection)
    except DBAPIError as error:
        raise _translated(error, committing=False) from error


def create_schema_on(connection: Connection) -> None:
    """Create the tables and indexes of `ownership` in the transaction open on `connection`, as `create_schema` does.

    For a host's own migration, which runs in a transaction of its own: the
    tables are created, or an older schema version migrated, when it commits.

    Raises:
        SchemaVersionError: the database holds the tables of another schema version.
    """
    metadata.create_all(connection, checkfirst=True)
    mark = _native_insert(connection.dialect.name, schema_table).values(id=1, version=SCHEMA_VERSION)
    connection.execute(mark.on_conflict_do_nothing(index_elements=[schema_table.c.id]))
    stored = connection.execute(select(schema_table.c.version)).scalars().all()
    if len(stored) == 1 and stored[0] in _MIGRATIONS:
        _migrate(connection, stored[0])
        stored = [SCHEMA_VERSION]
    _check_version(stored)


def _schema_ready(engine: Engine) -> bool:
    """Whether every table is there, at this schema version, with its generation row: read, never written."""
    with engine.connect() as connection:
        there = set(inspect(connection).get_table_names())
        if not {table.name for table in metadata.sorted_tables} <= there:
            return False
        ready = connection.execute(select(schema_table.c.version)).scalars().all() == [SCHEMA_VERSION]
        connection.rollback()
        return ready


def _migrate(connection: Connection, version: int) -> None:
    """Bring the tables from schema `version` to `SCHEMA_VERSION`, one version at a time, and store it."""
    while version < SCHEMA_VERSION:
        _MIGRATIONS[version](connection)
        version += 1
    connection.execute(update(schema_table).values(version=SCHEMA_VERSION))


def _add_leases(connection: Connection) -> None:
    """Migrate version 2 to 3: add the outbox's columns for dead letters, backoff and leases."""
    there = {column["name"] for column in inspect(connection).get_columns(outbox.name)}
    for name in ("dead", "next_attempt_at", "claim_token", "claimed_until"):
        if name in there:
            continue  # a host's migration added it already
        column = CreateColumn(outbox.c[name]).compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE {outbox.name} ADD COLUMN {column}")


def _add_generation(connection: Connection) -> None:
    """Migrate version 3 to 4: the schema's row gains the directory's generation, the records an index."""
    for index in records.indexes:
        index.create(connection, checkfirst=True)
    there = {column["name"] for column in inspect(connection).get_columns(schema_table.name)}
    if "generation" not in there:  # a host's migration may have added it already
        column = CreateColumn(schema_table.c.generation).compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE {schema_table.name} ADD COLUMN {column}")


def _add_managers_and_traits(connection: Connection) -> None:
    """Migrate version 4 to 5: a user gains whom they report to, and the traits a rule reads."""
    there = {column["name"] for column in inspect(connection).get_columns(users.name)}
    for name in ("manager", "traits"):
        if name not in there:  # a host's migration may have added it already
            column = CreateColumn(users.c[name]).compile(dialect=connection.dialect)
            connection.exec_driver_sql(f"ALTER TABLE {users.name} ADD COLUMN {column}")


def _add_grants_and_followers(connection: Connection) -> None:
    """Migrate version 5 to 6: records shared with users and groups, and the users who follow records."""
    for table in (grants, followers):
        table.create(connection, checkfirst=True)  # `create_all` made them already, unless a host's migration did


# Each older schema version the code migrates from, with the step that takes it one version on.
_MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    2: _add_leases,
    3: _add_generation,
    4: _add_managers_and_traits,
    5: _add_grants_and_followers,
}


def drop_schema(engine: Engine) -> None:
    """Drop every table of `ownership`, with all it holds (for tests and for tearing a tenant store down)."""
    try:
        metadata.drop_all(engine, checkfirst=True)
    except DBAPIError as error:
        raise _translated(error, committing=False) from error


def _check_version(stored: Sequence[int]) -> None:
    if not stored:
        raise SchemaVersionError(
            "The ownership tables carry no schema version; call ownership.adapters.sql.create_schema(engine), "
            f"which makes what is missing and stores version {SCHEMA_VERSION}, or insert that version into "
            "ownership_schema in your migration."
        )
    if list(stored) != [SCHEMA_VERSION]:
        found = ", ".join(map(str, stored)) or "none"
        raise SchemaVersionError(
            f"The database holds ownership schema version {found}, but this code reads and writes version "
            f"{SCHEMA_VERSION}; migrate the database (ownership.adapters.sql.metadata describes the tables), "
            "or install the version of ownership that made it."
        )


# --- the repository ------------------------------------------------------------------------


class SqlRepository:
    """A `Repository` in a SQL database, through SQLAlchemy Core; safe to share between threads and processes.

    Args:
        engine: the database; build it with `make_engine` (SQLite needs its
            setup, which is added here to an engine made elsewhere).

    A unit of work opened inside another on the same thread is a savepoint
    within it. The schema version is checked when the first unit opens.

    How units keep out of each other's way on PostgreSQL (SQLite writes one
    unit at a time, and readers never wait for it):

    - A unit that only reads (`reading`) reads one snapshot, REPEATABLE READ
      and READ ONLY: it never waits and is never refused as a conflict.
    - A unit that writes runs READ COMMITTED and takes the locks it needs
      before it reads what it decides on: the directory's generation row, shared
      (``FOR KEY SHARE``), when it begins; then each record it reads or writes,
      alone, by a transaction-level advisory lock. Units of different records
      never wait for each other, and two units of one record take turns. A
      tenant setting it reads is locked the same way, but shared, so that units
      reading one setting (the rules `create` follows) run side by side; a unit
      that reads a setting to change it (a round robin's turn) takes it alone.
    - A unit that writes the directory (a tenant, user, group or membership),
      or reads many records to change them (`writing_alone`, or a unit whose
      reads call for it), takes the generation row alone (``FOR UPDATE``): it
      waits for the writers at work and keeps new ones out until it ends.

    A unit that waits for a lock waits as long as it takes; two units that wait
    for each other are told apart by the database, and the later is refused
    with `ConflictError`, which `Ownership` runs again.
    """

    def __init__(self, engine: Engine) -> None:
        _check_dialect(engine.dialect)
        if engine.dialect.name == "sqlite":
            _prepare_sqlite(engine)
        self.engine = engine
        self._statements = _statements_of(engine.dialect.name)
        self._turns = _turns_of(engine)
        self._local = threading.local()
        self._checked = False

    @classmethod
    def from_url(cls, url: str, *, create: bool = True, **options: Any) -> "SqlRepository":
        """Return a repository on the database at `url`, creating the tables first unless `create` is False.

        `options` go to `make_engine`.
        """
        engine = make_engine(url, **options)
        if create:
            create_schema(engine)
        return cls(engine)

    def close(self) -> None:
        """Close the engine's pooled connections; an in-memory database goes with them, a file or a server stays."""
        self.engine.dispose()

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work; see `ownership.ports.Repository.transaction`.

        It may read and write: on PostgreSQL it takes its locks as it goes, as a writing unit does.
        """
        return _SqlUnit(self, _WRITE)

    def reading(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work that only reads, from one snapshot; see `ownership.ports.ReadsApart`."""
        return _SqlUnit(self, _READ)

    def writing(self, turn: str | None = None) -> AbstractContextManager[Transaction]:
        """Open a unit of work that will write; see `ownership.ports.WritesFirst`.

        On SQLite it takes the database's one writer when it begins, waiting for
        it up to the busy timeout, so units that write take turns. On
        PostgreSQL, units naming the same `turn` take turns through an advisory
        lock taken before the transaction begins, so they never conflict over
        what the turn guards (a number range); otherwise it is `transaction`.
        """
        sqlite = self.engine.dialect.name == "sqlite"
        return _SqlUnit(self, _WRITE, immediate=sqlite, turn=None if sqlite else turn)

    def writing_alone(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work that writes while no other unit writes; see `ownership.ports.WritesAlone`."""
        return _SqlUnit(self, _ALONE, immediate=self.engine.dialect.name == "sqlite")

    def claiming(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work that claims or settles the outbox; see `ownership.ports.Claiming`.

        On SQLite it is `writing`: claims take turns at the one writer. On
        PostgreSQL it runs READ COMMITTED and takes no lock of the directory's,
        where ``FOR UPDATE SKIP LOCKED`` lets dispatchers claim side by side.
        """
        return _SqlUnit(self, _CLAIM, immediate=self.engine.dialect.name == "sqlite")

    def generation_now(self) -> int:
        """The directory's generation as last committed, in one statement outside any unit; see `Generations`."""
        return int(self._plain_rows(self._statements.generation, {})[0][0])

    def look(self, ref: RecordRef) -> "SqlLook":
        """The generation, and the record at `ref` with its assignments, in one statement; see `Generations`."""
        rows = self._at_one_moment(self._statements.look, {"kind": ref.kind, "id": ref.id})
        first = rows[0]
        if first.id is None:
            return SqlLook(first.generation, None, ())
        held = tuple(
            Assignment(
                ref, row.role, _assignee(row.assignee_kind, row.assignee_id), row.held_tenant, row.since, row.actor
            )
            for row in rows
            if row.seq is not None
        )
        return SqlLook(first.generation, _record(first), held)

    def look_ids(self, kind: str, filter: Filter, *, limit: int, after: str | None = None) -> tuple[int, Sequence[str]]:
        """The generation, and the ids `select` would list, in one statement; see `Generations`."""
        query = _looking_at_ids(kind, filter, paged=after is not None)
        rows = self._plain_rows(query, {"limit": limit} if after is None else {"limit": limit, "after": after})
        return int(rows[0][0]), [id for _, id in rows if id is not None]

    def _plain_rows(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """The rows of `statement`, of plain values read with the schema's row, run alone by the driver itself.

        SQLAlchemy compiles the statement once (`_for_the_driver`); each call then costs a pooled connection and
        one round trip, without a `Connection`'s work or a transaction's statements: the looks `filter` and
        `visible_ids` take on every request.
        """
        if not self._checked:
            return self._at_one_moment(statement, params)  # the first look checks the schema, through SQLAlchemy
        dialect = self.engine.dialect
        sql, names, bound = _for_the_driver(statement, dialect)
        values = {**bound, **params}
        arguments = [values[name] for name in names] if names is not None else values
        autocommit = dialect.name == "postgresql"  # one statement is one snapshot: no BEGIN, no COMMIT
        failure = dialect.loaded_dbapi.Error
        try:
            pooled = self.engine.raw_connection()
        except SQLAlchemyError as error:
            raise _translated(error, committing=False) from error
        except failure as error:
            raise _translated(DBAPIError.instance(None, None, error, failure), committing=False) from error
        clean = lost = False
        try:
            if autocommit:
                pooled.driver_connection.autocommit = True  # type: ignore[union-attr]  # psycopg's connection
            cursor = pooled.cursor()
            cursor.execute(sql, arguments)
            rows: Sequence[Sequence[Any]] = cursor.fetchall()
            cursor.close()
            if autocommit:
                pooled.driver_connection.autocommit = False  # type: ignore[union-attr]
            clean = True
        except failure as error:
            lost = dialect.is_disconnect(error, pooled.dbapi_connection, None)
            if lost:
                self.engine.dispose()  # the others the server dropped are not handed out either
            wrapped = DBAPIError.instance(sql, arguments, error, failure, connection_invalidated=lost)
            raise _translated(wrapped, committing=False) from error
        finally:
            # A connection lost, or left in autocommit, is not handed out again; SQLite's in-memory database is
            # its one connection, kept after a refused statement.
            if lost or (autocommit and not clean):
                pooled.invalidate()
            pooled.close()
        if not rows:
            _check_version([])
        return rows

    def _at_one_moment(self, query: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
        """The rows of `query`, which reads the schema's row first, run alone: one snapshot, one round trip."""
        try:
            with self.engine.connect() as connection:
                # One statement is one snapshot: no BEGIN, no COMMIT, one round trip.
                if connection.dialect.name == "postgresql":
                    connection.execution_options(isolation_level="AUTOCOMMIT")
                else:
                    connection.execution_options(**{_ONE_STATEMENT: True})
                self._check_schema(connection)
                rows: Sequence[Any] = connection.execute(query, params).all()
                if connection.in_transaction():
                    connection.rollback()
        except SQLAlchemyError as error:
            raise _translated(error, committing=False) from error
        if not rows:
            _check_version([])
        return rows

    def _check_schema(self, connection: Connection) -> None:
        if self._checked:
            return
        _check_tables(connection)
        self._checked = True


class JoinedRepository:
    """A `Repository` whose units of work run inside the transaction a host has open on its own connection.

    The host's rows and `ownership`'s then commit or roll back together, by
    the host's ``commit()`` or ``rollback()``; `ownership` never ends the
    transaction. Each unit is a savepoint in it, so a use case that is refused
    takes back only its own part, and the host's transaction goes on.

        with engine.begin() as connection:  # the host's transaction
            connection.execute(insert(deals).values(id="D-1", title="Fleet renewal"))
            crm = Ownership(rulebook, JoinedRepository(connection))
            crm.create("deal", id="D-1", actor="anna")
        # both rows are committed here, or neither is

    With a SQLAlchemy ``Session``, join ``session.connection()``. A repository
    joins one transaction: once the host has ended it, every unit is refused
    with `StorageError`, and the next transaction takes a new one.

    What the units lock (see `SqlRepository`) is held until the host's
    transaction ends: records they wrote, and, after a change of the directory
    (users, groups, memberships), every other writer's way in. On SQLite the
    host's transaction takes the database's one writer when it is joined,
    unless it holds it already. Nothing read in the host's transaction is kept
    beyond it: a joined repository offers no generation to cache by.

    Raises:
        InvalidValueError: the connection is to a database the repository does not run on.
        SchemaVersionError: the database has no `ownership` tables, or another version of them.
    """

    def __init__(self, connection: Connection) -> None:
        _check_dialect(connection.dialect)
        postgresql = connection.dialect.name == "postgresql"
        try:
            if not postgresql:
                _take_sqlite_writer(connection)
            _check_tables(connection)
            tx = _SqlTransaction(connection, _statements_of(connection.dialect.name), _WRITE if postgresql else _SERIAL)
            tx._begin(_WRITE)
        except SQLAlchemyError as error:
            raise _translated(error, committing=False) from error
        self._connection = connection
        self._joined = connection.get_transaction()
        self._local = _Joined(tx)
        self._turns = None

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work: a savepoint in the host's transaction; see `ownership.ports.Repository`."""
        if self._connection.closed or self._connection.get_transaction() is not self._joined:
            raise StorageError(
                "The host's transaction this repository joined has ended, so nothing more can be read or written "
                "in it; join the next transaction with a new JoinedRepository."
            )
        return _SqlUnit(self, _WRITE)

    def close(self) -> None:
        """Nothing to close: the connection, and its transaction, are the host's."""


@attrs.define
class _Joined:
    """What a joined repository's units find open on their thread, whichever thread that is: the host's transaction."""

    tx: "_SqlTransaction"


def _check_dialect(dialect: Dialect) -> None:
    """Refuse a database the SQL repository does not run on, saying what to do instead."""
    if dialect.name not in DIALECTS:
        raise InvalidValueError(
            f"The SQL repository runs on SQLite and PostgreSQL, not {dialect.name}; "
            "implement ownership.ports.Repository for it, and prove it with ownership.testing.contract."
        )


def _take_sqlite_writer(connection: Connection) -> None:
    """Begin the host's transaction on SQLite as one that writes, unless the driver is in one already.

    SQLite's driver begins a transaction of its own only before a write, and a
    savepoint outside one would commit on release; taking the writer now also
    keeps the host's later writes from waiting for it.
    """
    if not connection.in_transaction():
        connection.begin()
    driver = connection.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _check_tables(connection: Connection) -> None:
    """Refuse a database without `ownership`'s tables, or with another version of them."""
    if not inspect(connection).has_table(schema_table.name):
        raise SchemaVersionError(
            "The database has no ownership tables; call ownership.adapters.sql.create_schema(engine), "
            "or create them from ownership.adapters.sql.metadata in your migrations."
        )
    _check_version(connection.execute(select(schema_table.c.version)).scalars().all())


@attrs.frozen
class SqlLook:
    """What `SqlRepository.look` read at one moment: the directory's generation, a record and its assignments."""

    generation: int
    record: Record | None
    assignments: Sequence[Assignment]


# The kinds of unit: one that only reads; one that writes, locking as it goes; one that writes alone; a claim.
_READ, _WRITE, _ALONE, _CLAIM = "read", "write", "alone", "claim"
_SERIAL = "serial"  # every unit on SQLite, which writes one unit at a time and needs no lock of its own

_TAKE_TURN = text("SELECT pg_advisory_lock(hashtextextended(:turn, 0))")
_TURN_WAIT = "30s"  # as long as SQLite's busy timeout


def _end_turn(connection: Connection) -> None:
    """Give up the turn a unit took, if it took it; a connection that cannot is dropped, and its lock with it."""
    try:
        if connection.in_transaction():
            connection.rollback()
        connection.exec_driver_sql("SELECT pg_advisory_unlock_all()")
        connection.commit()
    except SQLAlchemyError:
        _quietly(connection.invalidate)


class _SqlUnit:
    """The context manager of one unit of work: a transaction, or a savepoint inside the thread's open one."""

    __slots__ = ("_immediate", "_mode", "_repo", "_saved", "_savepoint", "_turn")

    def __init__(
        self, repo: "SqlRepository | JoinedRepository", mode: str, *, immediate: bool = False, turn: str | None = None
    ) -> None:
        self._repo = repo
        self._mode = mode
        self._immediate = immediate
        self._turn = turn
        self._savepoint: NestedTransaction | None = None
        self._saved: dict[RecordRef, int] = {}

    def __enter__(self) -> "_SqlTransaction":
        local = self._repo._local
        current: _SqlTransaction | None = getattr(local, "tx", None)
        if current is not None:
            try:
                current._flush()
                if self._mode == _ALONE:
                    current._go_alone()
                self._savepoint = current._c.begin_nested()
            except DBAPIError as error:
                raise _translated(error, committing=False) from error
            self._saved = dict(current._positions)
            return current
        repo = self._repo
        assert isinstance(repo, SqlRepository), "a joined repository's units are savepoints in the host's transaction"
        if repo._turns is not None:
            repo._turns.acquire()
        try:
            connection = repo.engine.connect()
            try:
                tx = self._begin(repo, connection)
            except BaseException:
                if self._turn is not None:
                    _end_turn(connection)
                connection.close()
                raise
        except SQLAlchemyError as error:
            self._release()
            raise _translated(error, committing=False) from error
        except BaseException:
            self._release()
            raise
        local.tx = tx
        return tx

    def _begin(self, repo: SqlRepository, connection: Connection) -> "_SqlTransaction":
        """Begin the unit's transaction on `connection`, at its isolation level, with what it takes first."""
        postgresql = connection.dialect.name == "postgresql"
        if self._immediate:
            connection.execution_options(**{_IMMEDIATE: True})
        if postgresql and self._mode == _READ:
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        elif postgresql:
            connection.execution_options(isolation_level="READ COMMITTED")
        if self._turn is not None:
            # A session lock, taken and held outside the transaction, so its snapshot comes after the wait;
            # waited for as long as any lock is (`_TURN_WAIT`), then refused as a conflict.
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{_TURN_WAIT}'")
            connection.execute(_TAKE_TURN, {"turn": self._turn})
            connection.commit()
        connection.begin()
        repo._check_schema(connection)
        tx = _SqlTransaction(connection, repo._statements, self._mode if postgresql else _SERIAL)
        tx._begin(self._mode)
        return tx

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        tx: _SqlTransaction = self._repo._local.tx
        if self._savepoint is not None:
            self._leave_savepoint(self._savepoint, tx, error)
            return
        committing = False
        try:
            if error is None:
                tx._flush()
                committing = True
                tx._c.commit()
                _refresh_statistics(tx._c, tx._written)
            else:
                _quietly(tx._c.rollback)
        except SQLAlchemyError as failure:
            _quietly(tx._c.rollback)
            raise _translated(failure, committing=committing) from failure
        except BaseException:
            _quietly(tx._c.rollback)
            raise
        finally:
            if self._turn is not None:
                _end_turn(tx._c)
            _quietly(tx._c.close)
            self._repo._local.tx = None
            self._release()
        if isinstance(error, SQLAlchemyError):
            raise _translated(error, committing=False) from error

    def _leave_savepoint(
        self, savepoint: NestedTransaction, tx: "_SqlTransaction", error: BaseException | None
    ) -> None:
        if error is None:
            try:
                tx._flush()
                savepoint.commit()
            except BaseException as failure:
                self._roll_back_savepoint(savepoint, tx)
                if isinstance(failure, SQLAlchemyError):
                    raise _translated(failure, committing=False) from failure
                raise
            return
        self._roll_back_savepoint(savepoint, tx)
        if isinstance(error, SQLAlchemyError):
            raise _translated(error, committing=False) from error

    def _roll_back_savepoint(self, savepoint: NestedTransaction, tx: "_SqlTransaction") -> None:
        """Take back what the inner unit wrote, in the database and in the transaction's own memory."""
        tx._pending.clear()
        tx._positions = self._saved
        tx._forget_read()
        try:
            savepoint.rollback()
        except SQLAlchemyError as failure:
            raise _translated(failure, committing=False) from failure
        tx._failed = False  # what failed was the inner unit's, and it is gone

    def _release(self) -> None:
        if self._repo._turns is not None:
            self._repo._turns.release()


_ANALYZE_AFTER = 10_000  # rows a unit writes to a table, after which the planner is given fresh statistics of it


def _refresh_statistics(connection: Connection, written: Mapping[str, int]) -> None:
    """After a unit that wrote many rows (a restore, a bulk action), ANALYZE the tables it filled.

    The planner would otherwise plan the next queries on those tables from
    statistics of before, until autovacuum comes round: the first bulk action
    after a large load ran many times slower. The change is committed already,
    so a failure here is only logged.
    """
    tables = sorted(name for name, rows in written.items() if rows >= _ANALYZE_AFTER)
    if not tables:
        return
    try:
        for name in tables:
            connection.exec_driver_sql(f"ANALYZE {name}")
        connection.commit()
    except SQLAlchemyError as error:
        _quietly(connection.rollback)
        logger.warning("The statistics of %s were not refreshed after a large change: %s", ", ".join(tables), error)


def _quietly(action: Callable[[], object]) -> None:
    """Run a clean-up that may fail because the connection is gone; the error that led here is the one to tell."""
    with contextlib.suppress(SQLAlchemyError):
        action()


# SQLSTATEs PostgreSQL answers when two transactions are in each other's way: serialization, deadlock, lock.
_PG_CONFLICTS = {"40001", "40P01", "55P03"}
# SQLite's primary result codes for a database another connection is writing: busy, locked.
_SQLITE_BUSY = {5, 6}
# SQLite's primary result codes for a database file it cannot use: I/O, corrupt, full, can't open, not a database.
_SQLITE_UNUSABLE = {10, 11, 13, 14, 26}


def _translated(error: SQLAlchemyError, *, committing: bool) -> ConflictError | StorageError:
    """Say what a database error means for the caller, as a typed error of `ownership`."""
    original = error.orig if isinstance(error, DBAPIError) else error
    said = f"(The database said: {_first_line(original)})"
    if isinstance(error, PoolTimeoutError):
        return StorageError(
            "No database connection came free in time, for every one of the engine's pool is in use, and nothing "
            f"of this change was saved; repeat the call, or give the engine a larger pool. {said}"
        )
    if getattr(original, "sqlstate", None) in _PG_CONFLICTS or _sqlite_busy(original):
        return ConflictError(
            "Another change to the same records was saved at the same moment, so nothing of this one was; "
            f"repeat the call to apply it to what is there now. {said}"
        )
    if _number_taken(original):
        return ConflictError(
            "Another record of the same kind and tenant was given the same number at the same moment, so nothing "
            f"of this change was saved; repeat the call to number it anew. {said}"
        )
    if committing:
        return StorageError(
            "The database failed while committing, so it holds either all of this change or none of it; "
            f"read it back to see which before repeating it. {said}"
        )
    if _unreachable(error):
        return StorageError(
            "The database could not be reached, or dropped the connection, and nothing of this change was "
            f"saved; check that it is up and repeat the call. {said}"
        )
    return StorageError(f"The database refused this change, and nothing of it was saved. {said}")


# What each database says when a row would break the one-number-per-tenant-and-kind constraint (CT4).
_PG_UNIQUE_VIOLATION = "23505"
_SQLITE_NUMBER = "UNIQUE constraint failed: ownership_records.tenant, ownership_records.kind, ownership_records.number"


def _number_taken(error: BaseException | None) -> bool:
    """Whether the database refused a record for a number its tenant's records of the kind have already.

    Two units numbering at once both found the number free; the later is refused
    as a conflict, and run again it finds the number taken.
    """
    if getattr(error, "sqlstate", None) == _PG_UNIQUE_VIOLATION:
        return getattr(getattr(error, "diag", None), "constraint_name", None) == _NUMBER
    return isinstance(error, sqlite3.IntegrityError) and str(error).startswith(_SQLITE_NUMBER)


def _sqlite_busy(error: BaseException | None) -> bool:
    """Whether SQLite said another connection is writing (on Python 3.10, sqlite3 tells it only in words)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_BUSY
    return isinstance(error, sqlite3.OperationalError) and "is locked" in str(error)


def _unreachable(error: SQLAlchemyError) -> bool:
    """Whether the database could not be reached or used at all, as opposed to refusing one statement."""
    if not isinstance(error, DBAPIError):
        return True  # SQLAlchemy's own: a pool with no connection to give, a closed connection, ...
    if error.connection_invalidated:
        return True
    code = getattr(error.orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_UNUSABLE
    if isinstance(error.orig, sqlite3.Error):
        return "unable to open" in str(error.orig)
    sqlstate = getattr(error.orig, "sqlstate", None)
    # No SQLSTATE: the client lost or never had a connection. Classes 08 (connection) and 57 (shutdown, ...).
    return sqlstate is None or sqlstate[:2] in {"08", "57"}


def _first_line(error: BaseException | None) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- statements ---------------------------------------------------------------------------------


DIALECTS = ("sqlite", "postgresql")
"""The databases the SQL repository runs on, and is tested on."""


def _native_insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say what to do when the row's key is taken."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _upsert(dialect: str, table: Table, keys: Sequence[str]) -> Executable:
    """The statement that inserts a row or replaces the one with the same key, run with the row's values.

    A counted column (the outbox's ``seq``) keeps its value: the row keeps its place.
    """
    statement = _native_insert(dialect, table)
    rest = {c.name: statement.excluded[c.name] for c in table.c if c.name not in keys and c.autoincrement is not True}
    return statement.on_conflict_do_update(index_elements=[table.c[k] for k in keys], set_=rest)


def _insert_new(dialect: str, table: Table, key: str) -> Executable:
    """The statement that inserts a row unless one with the same `key` is there."""
    return _native_insert(dialect, table).on_conflict_do_nothing(index_elements=[table.c[key]])


@functools.cache
def _statements_of(dialect: str) -> "_Statements":
    return _Statements(dialect)


class _Statements:
    """The statements of every call, built once per dialect and run with parameters."""

    def __init__(self, dialect: str) -> None:
        self._generation_statements(dialect)
        self.put_tenant = _upsert(dialect, tenants, ["id"])
        self.put_user = _upsert(dialect, users, ["id"])
        self.put_group = _upsert(dialect, groups, ["id"])
        self.put_membership = _upsert(dialect, memberships, ["group_id", "user_id"])
        self.put_record = _upsert(dialect, records, ["kind", "id"])
        self.enqueue = _insert_new(dialect, outbox, "key")
        self.put_outbox_entry = _upsert(dialect, outbox, ["key"])
        self._directory_statements()
        self.record = select(records).where(records.c.kind == bindparam("kind"), records.c.id == bindparam("id"))
        # The record with the last position of its history, for a unit that will write it: one read, not two.
        last = (
            select(func.max(events.c.position))
            .where(events.c.kind == records.c.kind, events.c.record_id == records.c.id)
            .scalar_subquery()
        )
        self.record_to_write = select(records, last.label("last_position")).where(
            records.c.kind == bindparam("kind"), records.c.id == bindparam("id")
        )
        self.records = (
            select(records).where(records.c.tenant == bindparam("tenant")).order_by(records.c.kind, records.c.id)
        )
        self.numbered = select(records).where(
            records.c.tenant == bindparam("tenant"),
            records.c.kind == bindparam("kind"),
            records.c.number == bindparam("number"),
        )
        # Each side table's statement that forgets a record's names, and the one that adds one name.
        self.links = [(link, _forget(link.table, "record_id"), insert(link.table)) for link in _LINKS]
        # What deleting a record deletes: its names, its holders, its history, itself.
        self.delete_record = [
            *(forget for _link, forget, _add in self.links),
            _forget(assignments, "record_id"),
            _forget(events, "record_id"),
            _forget(outbox, "record_id"),
            _forget(grants, "record_id"),
            _forget(followers, "record_id"),
            _forget(records, "id"),
        ]
        self._grant_statements(dialect)
        self.assignments = (
            select(assignments)
            .where(assignments.c.kind == bindparam("kind"), assignments.c.record_id == bindparam("id"))
            .order_by(assignments.c.seq)
        )
        self.assignments_of = (
            select(assignments)
            .where(
                assignments.c.kind == bindparam("kind"), assignments.c.record_id.in_(bindparam("ids", expanding=True))
            )
            .order_by(assignments.c.record_id, assignments.c.seq)
        )
        self.holdings = (
            select(assignments)
            .where(assignments.c.assignee_kind == bindparam("who"), assignments.c.assignee_id == bindparam("whom"))
            .order_by(assignments.c.kind, assignments.c.record_id, assignments.c.seq)
        )
        self.add_assignment = insert(assignments)
        self.remove_assignment = delete(assignments).where(
            assignments.c.kind == bindparam("kind"),
            assignments.c.record_id == bindparam("record_id"),
            assignments.c.role == bindparam("role"),
            assignments.c.tenant == bindparam("tenant"),
            assignments.c.assignee_kind == bindparam("assignee_kind"),
            assignments.c.assignee_id == bindparam("assignee_id"),
        )
        # A holding handed from one assignee to another in its slot: the row changes hands, as a person writes it.
        self.move_assignment = (
            update(assignments)
            .where(
                assignments.c.kind == bindparam("m_kind"),
                assignments.c.record_id == bindparam("m_record"),
                assignments.c.role == bindparam("m_role"),
                assignments.c.tenant == bindparam("m_tenant"),
                assignments.c.assignee_kind == bindparam("old_kind"),
                assignments.c.assignee_id == bindparam("old_id"),
            )
            .values(
                # The newest holding, as an added one would be: holders read oldest first.
                seq=(
                    func.nextval(func.pg_get_serial_sequence(assignments.name, "seq"))
                    if dialect == "postgresql"
                    else select(func.max(assignments.c.seq) + literal_column("1")).scalar_subquery()
                ),
                assignee_kind=bindparam("new_kind"),
                assignee_id=bindparam("new_id"),
                since=bindparam("new_since", type_=_Moment),
                actor=bindparam("new_actor"),
            )
        )
        self.events = (
            select(events.c.body)
            .where(events.c.kind == bindparam("kind"), events.c.record_id == bindparam("id"))
            .order_by(events.c.position)
        )
        self.next_positions = (
            select(events.c.record_id, func.max(events.c.position))
            .where(events.c.kind == bindparam("kind"), events.c.record_id.in_(bindparam("ids", expanding=True)))
            .group_by(events.c.record_id)
        )
        self.append_event = insert(events)
        self.outbox = select(outbox).order_by(outbox.c.seq)
        self.pending = (
            select(outbox).where(outbox.c.delivered == false(), outbox.c.dead == false()).order_by(outbox.c.seq)
        )
        self.pending_first = self.pending.limit(bindparam("limit"))
        self.outbox_first = self.outbox.limit(bindparam("limit"))
        self.dead = select(outbox).where(outbox.c.dead == true()).order_by(outbox.c.seq)
        self.dead_first = self.dead.limit(bindparam("limit"))
        now = bindparam("now", type_=_Moment)
        # Oldest first; on PostgreSQL rows another dispatcher is claiming are skipped, not waited for.
        self.claimable = (
            select(outbox)
            .where(
                outbox.c.delivered == false(),
                outbox.c.dead == false(),
                or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now),
            )
            .order_by(outbox.c.seq)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
        )
        self.claim = (
            update(outbox)
            .where(outbox.c.key.in_(bindparam("keys", expanding=True)))
            .values(claim_token=bindparam("token"), claimed_until=bindparam("until", type_=_Moment))
        )
        self.delivered, self.failed = _settling(claimed=False)
        self.delivered_claimed, self.failed_claimed = _settling(claimed=True)
        self.put_setting = _upsert(dialect, settings, ["tenant", "key"])
        self.delete_setting = delete(settings).where(
            settings.c.tenant == bindparam("tenant"), settings.c.key == bindparam("key")
        )
        self.setting = select(settings.c.value).where(
            settings.c.tenant == bindparam("tenant"), settings.c.key == bindparam("key")
        )
        # Keys from the prefix on, in the key's order, while they begin with it: compared as text, where LIKE would
        # ignore the case of ASCII letters on SQLite and read `_` and `%` as wildcards.
        prefix = bindparam("prefix", type_=_ID)
        self.settings = (
            select(settings.c.key, settings.c.value)
            .where(
                settings.c.tenant == bindparam("tenant"),
                settings.c.key >= prefix,
                func.substr(settings.c.key, 1, bindparam("length", type_=Integer)) == prefix,
            )
            .order_by(settings.c.key)
        )
        self._load_statements()

    def _grant_statements(self, dialect: str) -> None:
        """The statements of grants and followers."""
        g, f = grants.c, followers.c
        self.put_grant = _upsert(dialect, grants, ["kind", "record_id", "assignee_kind", "assignee_id"])
        self.grants = (
            select(grants)
            .where(g.kind == bindparam("kind"), g.record_id == bindparam("id"))
            .order_by(g.assignee_kind, g.assignee_id)
        )
        self.grants_to = (
            select(grants)
            .where(
                g.assignee_kind == bindparam("who"),
                g.assignee_id.in_(bindparam("whom", expanding=True)),
                g.kind == bindparam("kind"),
            )
            .order_by(g.record_id, g.assignee_kind, g.assignee_id)
        )
        self.grants_in = (
            select(grants)
            .where(g.tenant == bindparam("tenant"))
            .order_by(g.kind, g.record_id, g.assignee_kind, g.assignee_id)
        )
        self.delete_grant = delete(grants).where(
            g.kind == bindparam("kind"),
            g.record_id == bindparam("id"),
            g.assignee_kind == bindparam("who"),
            g.assignee_id == bindparam("whom"),
        )
        self.put_follower = _upsert(dialect, followers, ["kind", "record_id", "user_id"])
        self.followers = (
            select(followers).where(f.kind == bindparam("kind"), f.record_id == bindparam("id")).order_by(f.user_id)
        )
        self.followers_in = (
            select(followers).where(f.tenant == bindparam("tenant")).order_by(f.kind, f.record_id, f.user_id)
        )
        self.delete_follower = delete(followers).where(
            f.kind == bindparam("kind"), f.record_id == bindparam("id"), f.user_id == bindparam("user")
        )

    def _load_statements(self) -> None:
        """The statements of a load: records known to be new, added in bulk, and where many ids are at home.

        `copied` names the plain INSERTs whose many rows PostgreSQL takes by COPY, by the statement's id.
        """
        self.add_record = insert(records)
        self.homes = select(records.c.id, records.c.tenant).where(
            records.c.kind == bindparam("kind"), records.c.id.in_(bindparam("ids", expanding=True))
        )
        self.copied: dict[int, TableClause] = {
            id(statement): statement.table
            for statement in (self.add_record, self.add_assignment, self.append_event, *(a for _, _, a in self.links))
        }

    def _directory_statements(self) -> None:
        """The reads of tenants, users, groups and memberships, and the delete of a membership."""
        self.tenant = select(tenants).where(tenants.c.id == bindparam("id"))
        self.tenants = select(tenants).order_by(tenants.c.id)
        self.user = select(users).where(users.c.id == bindparam("id"))
        self.users = select(users).where(users.c.tenant == bindparam("tenant")).order_by(users.c.id)
        self.managers = select(users.c.id, users.c.manager).where(
            users.c.tenant == bindparam("tenant"), users.c.manager.is_not(None)
        )
        self.group = select(groups).where(groups.c.id == bindparam("id"))
        self.groups = select(groups).where(groups.c.tenant == bindparam("tenant")).order_by(groups.c.id)
        self.memberships_of_group = (
            select(memberships).where(memberships.c.group_id == bindparam("group")).order_by(memberships.c.user_id)
        )
        self.memberships_of_user = (
            select(memberships).where(memberships.c.user_id == bindparam("user")).order_by(memberships.c.group_id)
        )
        self.delete_membership = delete(memberships).where(
            memberships.c.group_id == bindparam("group"), memberships.c.user_id == bindparam("user")
        )

    def _generation_statements(self, dialect: str) -> None:
        """The statements of the directory's generation, of the locks of writing units, and of `look`."""
        value = schema_table.c.generation
        the_row = schema_table.c.id == 1
        self.generation = select(value.label("generation")).where(the_row)
        # Writers of records share the row; writers of the directory take it alone (see `SqlRepository`).
        self.share_generation = select(value).where(the_row).with_for_update(key_share=True, read=True)
        self.take_generation = select(value).where(the_row).with_for_update()
        self.move_generation = update(schema_table).where(the_row).values({value: value + 1})

        def locking(taking: str) -> TextClause | None:
            sorted_keys = "SELECT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k"
            if dialect != "postgresql":
                return None
            return text(f"SELECT {taking}(hashtextextended(k, 0)) FROM ({sorted_keys}) AS sorted")

        self.lock = locking("pg_advisory_xact_lock")
        self.share = locking("pg_advisory_xact_lock_shared")  # units that take it share it; one taking `lock` waits
        held = assignments.alias("held")
        self.look = (
            select(
                value.label("generation"),
                *records.c,
                held.c.seq,
                held.c.role,
                held.c.tenant.label("held_tenant"),
                held.c.assignee_kind,
                held.c.assignee_id,
                held.c.since,
                held.c.actor,
            )
            .select_from(
                schema_table.outerjoin(
                    records, and_(records.c.kind == bindparam("kind"), records.c.id == bindparam("id"))
                ).outerjoin(held, and_(held.c.kind == records.c.kind, held.c.record_id == records.c.id))
            )
            .where(the_row)
            .order_by(held.c.seq)
        )


def _settling(*, claimed: bool) -> tuple[Executable, Executable]:
    """The statements that mark a key delivered and count a failed attempt; `claimed`: only under the unit's token.

    Settling under a token ends the claim, so settling again with it changes nothing.
    """
    mine = outbox.c.claim_token == bindparam("token")
    keys = outbox.c.key.in_(bindparam("keys", expanding=True))
    key = outbox.c.key == bindparam("k")
    released: dict[str, Any] = {"claim_token": None, "claimed_until": None} if claimed else {}
    # Delivered keys in one statement a batch of them; failed ones one a key, as each has its own backoff.
    delivered = update(outbox).where(and_(keys, mine) if claimed else keys).values(delivered=True, **released)
    failed = (
        update(outbox)
        .where(and_(key, mine) if claimed else key)
        .values(
            attempts=outbox.c.attempts + 1,
            next_attempt_at=bindparam("later", type_=_Moment),
            dead=bindparam("dead", type_=Boolean),
            **released,
        )
    )
    return delivered, failed


def _forget(table: Table, id: str) -> Executable:
    """The statement that deletes a record's rows from `table`, whose column `id` holds the record's id."""
    return delete(table).where(table.c.kind == bindparam("kind"), table.c[id] == bindparam("id"))


_BATCH = 500  # ids in one IN list


def _batches(keys: Sequence[str]) -> Iterator[list[str]]:
    """`keys` in lists short enough for one IN list each."""
    for start in range(0, len(keys), _BATCH):
        yield list(keys[start : start + _BATCH])


_EVENT: type[Event] = Event  # type: ignore[assignment]  # a union, which cattrs structures by its tag


def _failed_before() -> StorageError:
    return StorageError(
        "An earlier write of this unit of work was refused by the database, so the unit can only be rolled "
        "back; leave its with-block by raising, and nothing of it is kept."
    )


class _SqlTransaction:
    """A `Transaction` on one database connection; valid only inside its ``with`` block.

    Writes wait in a queue and go to the database in batches, one statement
    for a run of rows of one kind, before the next read, a savepoint, or the
    commit: a read always sees every write before it.

    What the unit reads by id (tenants, users, groups, a user's memberships,
    records and their holders) is kept for the rest of the unit and kept
    up to date by its own writes: nothing else can change it meanwhile, for
    the unit reads one snapshot or holds the locks that guard it. On
    PostgreSQL, a writing unit takes those locks as it goes (see
    `SqlRepository`).
    """

    def __init__(self, connection: Connection, statements: _Statements, mode: str) -> None:
        self._c = connection
        self._s = statements
        self._mode = mode  # _READ, _WRITE, _ALONE or _CLAIM on PostgreSQL; _SERIAL on SQLite, which needs no lock
        self._pending: list[tuple[Executable, list[dict[str, Any]]]] = []
        # Whether a queued write failed: then what the unit wrote is not what it meant to, and it must not commit.
        self._failed = False
        # The next position in the history of each record this unit appended events to.
        self._positions: dict[RecordRef, int] = {}
        self._generation: int | None = None  # the directory's generation this unit reads at, once read
        self._wrote_directory = False  # whether this unit wrote the directory: then it moved the generation on
        self._locked: set[str] = set()  # the advisory locks this unit holds alone (records, settings it changes)
        self._shared: set[str] = set()  # those it shares with other units (settings it reads)
        self._written: dict[str, int] = {}  # rows written, by table
        self._forget_read()

    def _forget_read(self) -> None:
        """Drop what the unit keeps of its reads (a savepoint rolled back the writes that kept it up to date)."""
        self._tenants: dict[str, Tenant | None] = {}
        self._users: dict[str, User | None] = {}
        self._groups: dict[str, Group | None] = {}
        self._memberships: dict[str, list[Membership]] = {}
        self._records: dict[RecordRef, Record | None] = {}
        self._held: dict[RecordRef, list[Assignment]] = {}
        if self._wrote_directory:
            self._wrote_directory = False  # a later write of the directory moves the generation on again
            self._generation = None

    def _begin(self, mode: str) -> None:
        """Take what a unit of `mode` takes when it begins: on PostgreSQL, the directory's generation row."""
        if self._mode == _WRITE:
            self._generation = self._c.execute(self._s.share_generation).scalar_one()
        elif self._mode == _ALONE:
            self._generation = self._c.execute(self._s.take_generation).scalar_one()
        elif mode == _ALONE:
            self._mode = _ALONE  # SQLite: its one writer is taken already; only what the unit may keep changes

    # --- locks (PostgreSQL's writing units) ---

    def _go_alone(self) -> None:
        """Take the generation row alone, waiting for every other writing unit to end (see `SqlRepository`)."""
        if self._mode == _WRITE:
            self._flush()
            self._generation = self._c.execute(self._s.take_generation).scalar_one()
            self._mode = _ALONE

    def _lock(self, keys: Iterable[str], *, shared: bool = False) -> None:
        """Take the advisory locks of `keys` this unit does not hold yet, in their sorted order.

        A `shared` lock only keeps the units that take it alone waiting; several units share it at once.
        """
        if self._mode != _WRITE:
            return  # a unit alone, or on SQLite, has every record to itself; one that only reads locks nothing
        held = self._locked | self._shared if shared else self._locked
        wanted = sorted(set(keys) - held)
        if not wanted:
            return
        if len(self._locked) + len(self._shared) + len(wanted) > _MOST_LOCKS:
            self._go_alone()  # many records: one lock of everything, not a lock each
            return
        if self._failed:
            raise _failed_before()
        statement = self._s.share if shared else self._s.lock
        assert statement is not None, "only PostgreSQL's units lock"
        self._c.execute(statement, {"keys": wanted})
        (self._shared if shared else self._locked).update(wanted)

    def _lock_records(self, refs: Iterable[RecordRef]) -> None:
        self._lock(f"ownership:record:{ref.kind}/{ref.id}" for ref in refs)

    def _changing_directory(self) -> None:
        """Before a write of the directory: be alone, and move the generation on once in this unit."""
        self._go_alone()
        self._moving_generation()

    def _moving_generation(self) -> None:
        """Move the directory's generation on once in this unit, without waiting for the units that write records.

        For what a kept viewer holds but no record's writer decides on alone (grants): the row is updated
        as its key stays, which the writers' share of it lets be; units that move it wait for each other.
        """
        if not self._wrote_directory:
            self._write(self._s.move_generation, {})
            self._wrote_directory = True

    def generation(self) -> int | None:
        """The directory's generation this unit reads at, or None once it has written the directory."""
        if self._wrote_directory or self._mode == _CLAIM:
            return None
        if self._generation is None:
            self._generation = self._read(self._s.generation)[0][0]
        return self._generation

    # Writes are queued; runs of one statement become one executemany.
    def _write(self, statement: Executable, row: dict[str, Any]) -> None:
        if self._failed:
            raise _failed_before()
        if self._pending and self._pending[-1][0] is statement:
            self._pending[-1][1].append(row)
        else:
            self._pending.append((statement, [row]))

    def _write_all(self, statement: Executable, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._write(statement, rows[0])
            self._pending[-1][1].extend(rows[1:])

    def _flush(self) -> None:
        """Send the queued writes; if one fails, the unit can only be rolled back, whoever catches the error."""
        if self._failed:
            raise _failed_before()
        pending, self._pending = self._pending, []
        try:
            for statement, rows in pending:
                copied = self._s.copied.get(id(statement)) if len(rows) >= _COPY_FROM else None
                plain = _plain(statement, tuple(rows[0]), self._c.dialect)
                if copied is not None and self._c.dialect.name == "postgresql":
                    _copy(self._c, copied, rows)
                elif plain is not None:
                    self._c.exec_driver_sql(plain.sql, [plain.values(row) for row in rows])
                else:
                    self._c.execute(statement, rows)
                table = getattr(statement, "table", None)
                if isinstance(table, Table):
                    self._written[table.name] = self._written.get(table.name, 0) + len(rows)
        except BaseException:
            self._failed = True
            raise

    def _read(self, statement: Executable, **params: Any) -> Sequence[Any]:
        if self._pending or self._failed:
            self._flush()
        return self._c.execute(statement, params).all()

    def tenant(self, id: str) -> Tenant | None:
        if id not in self._tenants:
            self._tenants[id] = next(map(_tenant, self._read(self._s.tenant, id=id)), None)
        return self._tenants[id]

    def tenants(self) -> Sequence[Tenant]:
        return [_tenant(row) for row in self._read(self._s.tenants)]

    def put_tenant(self, tenant: Tenant) -> None:
        self._changing_directory()
        self._tenants[tenant.id] = tenant
        self._write(
            self._s.put_tenant,
            {"id": tenant.id, "name": tenant.name, "plan": tenant.plan, "switches": tenant.switches},
        )

    def user(self, id: str) -> User | None:
        if id not in self._users:
            self._users[id] = next(map(_user, self._read(self._s.user, id=id)), None)
        return self._users[id]

    def users(self, tenant: str) -> Sequence[User]:
        return [_user(row) for row in self._read(self._s.users, tenant=tenant)]

    def put_user(self, user: User) -> None:
        self._changing_directory()
        self._users[user.id] = user
        self._write(
            self._s.put_user,
            {
                "id": user.id,
                "tenant": user.tenant,
                "name": user.name,
                "active": user.active,
                "admin": user.admin,
                "restricted": user.profile.restricted,
                "push": user.profile.push,
                "manager": user.manager,
                "traits": user.traits,
            },
        )

    def group(self, id: str) -> Group | None:
        if id not in self._groups:
            self._groups[id] = next(map(_group, self._read(self._s.group, id=id)), None)
        return self._groups[id]

    def groups(self, tenant: str) -> Sequence[Group]:
        return [_group(row) for row in self._read(self._s.groups, tenant=tenant)]

    def put_group(self, group: Group) -> None:
        self._changing_directory()
        self._groups[group.id] = group
        self._write(
            self._s.put_group,
            {
                "id": group.id,
                "tenant": group.tenant,
                "name": group.name,
                "kind": group.kind.value,
                "personal_of": group.personal_of,
            },
        )

    def memberships_of_group(self, group: str) -> Sequence[Membership]:
        return [_membership(row) for row in self._read(self._s.memberships_of_group, group=group)]

    def memberships_of_user(self, user: str) -> Sequence[Membership]:
        if user not in self._memberships:
            self._memberships[user] = [_membership(row) for row in self._read(self._s.memberships_of_user, user=user)]
        return list(self._memberships[user])

    def put_membership(self, membership: Membership) -> None:
        _check_aware(membership.until)
        self._changing_directory()
        self._memberships.pop(membership.user, None)
        self._write(
            self._s.put_membership,
            {"group_id": membership.group, "user_id": membership.user, "until": membership.until},
        )

    def delete_membership(self, group: str, user: str) -> None:
        self._changing_directory()
        self._memberships.pop(user, None)
        self._write(self._s.delete_membership, {"group": group, "user": user})

    def record(self, ref: RecordRef) -> Record | None:
        if ref not in self._records:
            if self._mode == _READ:
                self._records[ref] = next(map(_record, self._read(self._s.record, kind=ref.kind, id=ref.id)), None)
                return self._records[ref]
            self._lock_records((ref,))
            rows = self._read(self._s.record_to_write, kind=ref.kind, id=ref.id)
            self._records[ref] = _record(rows[0]) if rows else None
            if ref not in self._positions:
                # A record not tracked has no history: deleting a record deletes its history with it.
                last = rows[0].last_position if rows else None
                self._positions[ref] = 0 if last is None else last + 1
        return self._records[ref]

    def records(self, tenant: str) -> Sequence[Record]:
        self._go_alone()
        return [_record(row) for row in self._read(self._s.records, tenant=tenant)]

    def put_record(self, record: Record) -> None:
        _check_aware(record.created_at)
        self._lock_records((record.ref,))
        new = record.ref in self._records and self._records[record.ref] is None
        self._records[record.ref] = record
        self._write(self._s.put_record, _record_row(record))
        key = {"kind": record.kind, "id": record.id}
        for link, forget, add in self._s.links:
            if not new:  # a record this unit read as not tracked has no names to forget
                self._write(forget, key)
            for name in sorted(link.names(record)):
                self._write(add, {"kind": record.kind, "record_id": record.id, link.column: name})

    def managers(self, tenant: str) -> Mapping[str, str]:
        """Who reports to whom in `tenant`, in one read of two columns; see `ownership.ports.KnowsManagers`."""
        return dict(self._read(self._s.managers, tenant=tenant))

    def homes(self, kind: str, ids: Sequence[str]) -> Mapping[str, str]:
        """The home tenant of each of `ids` tracked as a `kind`, 1,000 ids a read; see `ownership.ports.FindsHomes`."""
        found: dict[str, str] = {}
        for start in range(0, len(ids), _IDS_A_READ):
            part = list(ids[start : start + _IDS_A_READ])
            found.update((id, tenant) for id, tenant in self._read(self._s.homes, kind=kind, ids=part))
        return found

    def add_records(self, records: Sequence[Record]) -> None:
        """Track records none of which is tracked yet, one INSERT a table; see `ownership.ports.AddsRecords`.

        A record tracked after all breaks the table's key, and the unit fails with `StorageError`.
        """
        if not records:
            return
        self._lock_records(record.ref for record in records)
        rows = []
        links: list[list[dict[str, Any]]] = [[] for _ in self._s.links]
        for record in records:
            _check_aware(record.created_at)
            self._records[record.ref] = record
            self._positions[record.ref] = 0
            rows.append(_record_row(record))
            for found, (link, _, _) in zip(links, self._s.links, strict=True):
                found.extend(
                    {"kind": record.kind, "record_id": record.id, link.column: n} for n in sorted(link.names(record))
                )
        self._write_all(self._s.add_record, rows)
        for found, (_, _, add) in zip(links, self._s.links, strict=True):
            self._write_all(add, found)

    def grants(self, ref: RecordRef) -> Sequence[Grant]:
        return [_grant(row) for row in self._read(self._s.grants, kind=ref.kind, id=ref.id)]

    def grants_to(self, kind: str, assignees: Collection[Assignee]) -> Sequence[Grant]:
        by_kind: dict[AssigneeKind, list[str]] = {}
        for assignee in assignees:
            by_kind.setdefault(assignee.kind, []).append(assignee.id)
        found = [
            _grant(row)
            for who, ids in sorted(by_kind.items(), key=lambda item: item[0].value)
            for batch in _batches(sorted(ids))
            for row in self._read(self._s.grants_to, who=who.value, whom=batch, kind=kind)
        ]
        return sorted(found, key=lambda grant: (grant.record.id, grant.assignee))

    def grants_in(self, tenant: str) -> Sequence[Grant]:
        return [_grant(row) for row in self._read(self._s.grants_in, tenant=tenant)]

    def put_grant(self, grant: Grant) -> None:
        _check_aware(grant.since)
        _check_aware(grant.until)
        self._moving_generation()  # a viewer's grants are resolved with them, and kept as long as it is
        row = {
            "kind": grant.record.kind,
            "record_id": grant.record.id,
            "assignee_kind": grant.assignee.kind.value,
            "assignee_id": grant.assignee.id,
            "tenant": grant.tenant,
            "level": grant.level,
            "since": grant.since,
            "until": grant.until,
            "actor": grant.actor,
        }
        self._write(self._s.put_grant, row)

    def delete_grant(self, ref: RecordRef, assignee: Assignee) -> None:
        self._moving_generation()
        self._write(
            self._s.delete_grant, {"kind": ref.kind, "id": ref.id, "who": assignee.kind.value, "whom": assignee.id}
        )

    def followers(self, ref: RecordRef) -> Sequence[Follower]:
        return [_follower(row) for row in self._read(self._s.followers, kind=ref.kind, id=ref.id)]

    def followers_in(self, tenant: str) -> Sequence[Follower]:
        return [_follower(row) for row in self._read(self._s.followers_in, tenant=tenant)]

    def put_follower(self, follower: Follower) -> None:
        _check_aware(follower.since)
        self._lock_records((follower.record,))
        row = {
            "kind": follower.record.kind,
            "record_id": follower.record.id,
            "user_id": follower.user,
            "tenant": follower.tenant,
            "since": follower.since,
        }
        self._write(self._s.put_follower, row)

    def delete_follower(self, ref: RecordRef, user: str) -> None:
        self._lock_records((ref,))
        self._write(self._s.delete_follower, {"kind": ref.kind, "id": ref.id, "user": user})

    def delete_record(self, ref: RecordRef) -> None:
        self._lock_records((ref,))
        if self._read(self._s.grants, kind=ref.kind, id=ref.id):
            self._moving_generation()  # its grants go: the viewers resolved with them are no longer right
        self._records[ref] = None
        self._held[ref] = []
        for statement in self._s.delete_record:
            self._write(statement, {"kind": ref.kind, "id": ref.id})
        self._positions[ref] = 0  # its history is gone: one begun anew starts at 0

    def numbered(self, tenant: str, kind: str, number: str) -> Record | None:
        # Locked, so a unit that finds a number free holds it free until it ends (CT4).
        self._lock((f"ownership:number:{tenant}/{kind}/{number}",))
        return next(map(_record, self._read(self._s.numbered, tenant=tenant, kind=kind, number=number)), None)

    def assignments(self, ref: RecordRef) -> Sequence[Assignment]:
        if ref not in self._held:
            self._lock_records((ref,))
            self._held[ref] = [
                _assignment(row, ref) for row in self._read(self._s.assignments, kind=ref.kind, id=ref.id)
            ]
        return list(self._held[ref])

    def assignments_of(self, refs: Sequence[RecordRef]) -> Mapping[RecordRef, Sequence[Assignment]]:
        self._lock_records(refs)
        found: dict[RecordRef, list[Assignment]] = {}
        for kind, given in _by_kind(refs):
            for row in self._read(self._s.assignments_of, kind=kind, ids=list(given)):
                ref = given[row.record_id]
                found.setdefault(ref, []).append(_assignment(row, ref))
        return found

    def holdings(self, assignee: Assignee) -> Sequence[Assignment]:
        self._go_alone()
        rows = self._read(self._s.holdings, who=assignee.kind.value, whom=assignee.id)
        return [_assignment(row) for row in rows]

    def add_assignment(self, assignment: Assignment) -> None:
        _check_aware(assignment.since)
        self._lock_records((assignment.record,))
        if assignment.record in self._held:
            self._held[assignment.record].append(assignment)
        self._write(
            self._s.add_assignment,
            {
                "kind": assignment.record.kind,
                "record_id": assignment.record.id,
                "role": assignment.role,
                "tenant": assignment.tenant,
                "assignee_kind": assignment.assignee.kind.value,
                "assignee_id": assignment.assignee.id,
                "since": assignment.since,
                "actor": assignment.actor,
            },
        )

    def remove_assignment(self, assignment: Assignment) -> None:
        self._lock_records((assignment.record,))
        held = self._held.get(assignment.record)
        if held is not None:
            self._held[assignment.record] = [a for a in held if _slot(a) != _slot(assignment)]
        self._write(
            self._s.remove_assignment,
            {
                "kind": assignment.record.kind,
                "record_id": assignment.record.id,
                "role": assignment.role,
                "tenant": assignment.tenant,
                "assignee_kind": assignment.assignee.kind.value,
                "assignee_id": assignment.assignee.id,
            },
        )

    def move_assignment(self, old: Assignment, new: Assignment) -> None:
        """Hand `old`'s place in a slot of one holder to `new`, as removing one and adding the other would."""
        _check_aware(new.since)
        self._lock_records((old.record,))
        held = self._held.get(old.record)
        if held is not None:
            self._held[old.record] = [*(a for a in held if _slot(a) != _slot(old)), new]
        self._write(
            self._s.move_assignment,
            {
                "m_kind": old.record.kind,
                "m_record": old.record.id,
                "m_role": old.role,
                "m_tenant": old.tenant,
                "old_kind": old.assignee.kind.value,
                "old_id": old.assignee.id,
                "new_kind": new.assignee.kind.value,
                "new_id": new.assignee.id,
                "new_since": new.since,
                "new_actor": new.actor,
            },
        )

    def select(self, kind: str, filter: Filter, *, limit: int, after: str | None = None) -> Sequence[Record]:
        self._go_alone()
        if after is None:
            rows = self._read(_selection(kind, filter, paged=False), limit=limit)
        else:
            rows = self._read(_selection(kind, filter, paged=True), limit=limit, after=after)
        return [_record(row) for row in rows]

    def count(self, kind: str, filter: Filter) -> int:
        self._go_alone()
        return int(self._read(_counting(kind, filter))[0][0])

    def count_by_holder(self, kind: str, filter: Filter, roles: Collection[str], tenant: str) -> Mapping[Assignee, int]:
        if not roles:
            return {}
        self._go_alone()
        rows = self._read(_counting_by_holder(kind, filter, tuple(sorted(roles)), tenant))
        return {_assignee(who, whom): count for who, whom, count in rows}

    def count_by_status(self, kind: str, filter: Filter) -> Mapping[str | None, int]:
        self._go_alone()
        return dict(self._read(_counting_by_status(kind, filter)))

    def setting(self, tenant: str, key: str, *, changing: bool = False) -> Any:
        # Units that read a setting share its lock; one that reads it to change it, or changes it, takes it alone.
        self._lock((_setting_lock(tenant, key),), shared=not changing)
        found = self._read(self._s.setting, tenant=tenant, key=key)
        return json.loads(found[0][0]) if found else None

    def settings(self, tenant: str, prefix: str) -> Mapping[str, Any]:
        self._go_alone()  # a unit that decides on many settings (a new segment's name among the saved ones) is alone
        rows = self._read(self._s.settings, tenant=tenant, prefix=prefix, length=len(prefix))
        return {key: json.loads(value) for key, value in rows}

    def put_setting(self, tenant: str, key: str, value: Any) -> None:
        self._lock((_setting_lock(tenant, key),))
        # Dumped now, so a value JSON cannot hold is refused where the caller put it, not at the next read.
        self._write(self._s.put_setting, {"tenant": tenant, "key": key, "value": json.dumps(value)})

    def delete_setting(self, tenant: str, key: str) -> None:
        self._lock((_setting_lock(tenant, key),))
        self._write(self._s.delete_setting, {"tenant": tenant, "key": key})

    def append_events(self, events: Sequence[Event]) -> Sequence[int]:
        self._lock_records(e.record for e in events)
        unknown = [e.record for e in events if e.record not in self._positions]
        for kind, ids in _by_kind(unknown):
            last = dict(self._read(self._s.next_positions, kind=kind, ids=list(ids)))
            for id, ref in ids.items():
                self._positions[ref] = last[id] + 1 if id in last else 0
        positions = []
        for happened in events:
            position = self._positions[happened.record]
            self._positions[happened.record] = position + 1
            positions.append(position)
            self._write(
                self._s.append_event,
                {
                    "kind": happened.record.kind,
                    "record_id": happened.record.id,
                    "position": position,
                    "body": unstructure(happened),
                },
            )
        return positions

    def events(self, ref: RecordRef) -> Sequence[Event]:
        self._lock_records((ref,))
        return [structure(row[0], _EVENT) for row in self._read(self._s.events, kind=ref.kind, id=ref.id)]

    def enqueue(self, notification: Notification) -> None:
        self._lock_records((notification.record,))
        self._write(self._s.enqueue, _outbox_row(OutboxEntry(notification)))

    def put_outbox_entry(self, entry: OutboxEntry) -> None:
        self._go_alone()
        self._write(self._s.put_outbox_entry, _outbox_row(entry))

    def outbox(self, *, pending: bool = False, limit: int | None = None, dead: bool = False) -> Sequence[OutboxEntry]:
        if pending:
            every, first = self._s.pending, self._s.pending_first
        elif dead:
            every, first = self._s.dead, self._s.dead_first
        else:
            every, first = self._s.outbox, self._s.outbox_first
        rows = self._read(every) if limit is None else self._read(first, limit=limit)
        return [_entry(row) for row in rows]

    def claim(self, *, limit: int, now: datetime, until: datetime, token: str) -> Sequence[OutboxEntry]:
        _check_aware(now)
        _check_aware(until)
        rows = self._read(self._s.claimable, now=now, limit=limit)
        for some in _batches([row.key for row in rows]):
            self._write(self._s.claim, {"keys": some, "token": token, "until": until})
        return [_entry(row) for row in rows]

    def settle(
        self,
        delivered: Collection[str],
        failed: Collection[str],
        *,
        token: str | None = None,
        retry_at: Mapping[str, datetime] | None = None,
        dead: Collection[str] = (),
    ) -> None:
        later = retry_at or {}
        for moment in later.values():
            _check_aware(moment)
        claimed = {"token": token} if token is not None else {}
        marking = self._s.delivered if token is None else self._s.delivered_claimed
        counting = self._s.failed if token is None else self._s.failed_claimed
        for some in _batches(list(delivered)):
            self._write(marking, {"keys": some, **claimed})
        for key in failed:
            self._write(counting, {"k": key, "later": later.get(key), "dead": key in dead, **claimed})


_IDS_A_READ = 1_000  # ids one read of `homes` asks for
_COPY_FROM = 1_000  # rows of one plain INSERT from which PostgreSQL is sent them by COPY


def _copy(connection: Connection, table: TableClause, rows: Sequence[Mapping[str, Any]]) -> None:
    """Send `rows` of `table` to PostgreSQL by COPY, each value as SQLAlchemy would bind it.

    One COPY costs a fraction of the INSERTs of a bulk write: a first load's records, holders and history.
    Errors are the driver's, raised as SQLAlchemy raises them, so that they are told apart as any other.
    """
    dialect = connection.dialect
    names = tuple(rows[0])
    bound = _Bound(names, (_binder(table.c[name].type, dialect) for name in names))
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    driver = connection.connection.driver_connection
    failure = dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(bound.values(row))
    except failure as error:
        lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
        raise DBAPIError.instance(f"COPY {table.name}", None, error, failure, connection_invalidated=lost) from error


def _binder(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How SQLAlchemy binds a value of `type_` for `dialect`'s driver (None: as it is)."""
    return type_.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


class _Bound:
    """The values of rows in the order a statement takes them, each bound as SQLAlchemy would bind it.

    `sql` is the statement's text, where the rows are sent with it.
    """

    def __init__(self, names: Sequence[str], binders: Iterable[Callable[[Any], Any] | None], sql: str = "") -> None:
        self.names = tuple(names)
        self.sql = sql
        self._get = operator.itemgetter(*self.names)
        self._binders = [(at, bind) for at, bind in enumerate(binders) if bind is not None]

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        got = self._get(row)
        if len(self.names) == 1:
            got = (got,)
        if not self._binders:
            return got  # type: ignore[no-any-return]
        values = list(got)
        for at, bind in self._binders:
            values[at] = bind(values[at])
        return tuple(values)


@functools.lru_cache(maxsize=256)
def _plain(statement: Executable, names: tuple[str, ...], dialect: Dialect) -> _Bound | None:
    """`statement`'s SQLite text and binders for rows of `names`, or None where SQLAlchemy must run it.

    SQLAlchemy builds each row's parameters anew on every execute, for an
    offboarding's or a load's many rows most of the write; the driver's own
    ``executemany`` of the rows' values, bound as SQLAlchemy binds them, does
    the same work once. Only a statement every one of whose parameters is one
    of the row's names, once (no expanding list, no default filled in, no
    RETURNING), on SQLite's own driver.
    """
    sqlite_driver = (dialect.name, dialect.driver, dialect.paramstyle) == ("sqlite", "pysqlite", "qmark")
    if not sqlite_driver or not isinstance(statement, ClauseElement):
        return None
    compiled = statement.compile(dialect=dialect, column_keys=list(names))
    if not isinstance(compiled, SQLCompiler):
        return None
    order = tuple(compiled.positiontup or ())
    binds = compiled.binds
    if (
        compiled.effective_returning
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or sorted(order) != sorted(names)
        or any(binds[name].expanding or binds[name].callable is not None for name in order)
    ):
        return None
    return _Bound(order, (_binder(binds[name].type, dialect) for name in order), compiled.string)


def _record_row(record: Record) -> dict[str, Any]:
    """The row of `ownership_records` that keeps `record`."""
    return {
        "kind": record.kind,
        "id": record.id,
        "tenant": record.tenant,
        "created_at": record.created_at,
        "shared_with": record.shared_with,
        "offered_to": record.offered_to,
        "name": record.name,
        "name_key": None if record.name is None else record.name.casefold(),
        "status": record.status,
        "number": record.number,
        "labels": record.labels,
        "groups": record.groups,
    }


_MOST_LOCKS = 256  # records a writing unit locks one by one; one that touches more takes the generation row alone


def _setting_lock(tenant: str, key: str) -> str:
    return f"ownership:setting:{tenant}/{key}"


def _slot(assignment: Assignment) -> tuple[str, str, Assignee]:
    return assignment.role, assignment.tenant, assignment.assignee


def _outbox_row(entry: OutboxEntry) -> dict[str, Any]:
    notification = entry.notification
    return {
        "key": notification.key,
        "kind": notification.record.kind,
        "record_id": notification.record.id,
        "body": unstructure(notification),
        "attempts": entry.attempts,
        "delivered": entry.delivered,
        "dead": entry.dead,
        "next_attempt_at": entry.next_attempt_at,
        "claim_token": None,
        "claimed_until": None,
    }


def _by_kind(refs: Iterable[RecordRef]) -> Iterator[tuple[str, dict[str, RecordRef]]]:
    """Group record refs by kind, by id, in batches small enough for one IN list each, without repeats."""
    ids: dict[str, dict[str, RecordRef]] = {}
    for ref in refs:
        ids.setdefault(ref.kind, {})[ref.id] = ref
    for kind, of_kind in ids.items():
        listed = list(of_kind.items())
        for start in range(0, len(listed), _BATCH):
            yield kind, dict(listed[start : start + _BATCH])


# --- rows to values ---------------------------------------------------------------------------


def _tenant(row: Row[Any]) -> Tenant:
    return Tenant(row.id, row.name, row.plan, row.switches)


def _user(row: Row[Any]) -> User:
    return User(
        row.id,
        row.tenant,
        row.name,
        row.active,
        row.admin,
        Profile(row.restricted, row.push),
        manager=row.manager,
        traits=row.traits,
    )


def _group(row: Row[Any]) -> Group:
    return Group(row.id, row.tenant, row.name, GroupKind(row.kind), row.personal_of)


def _membership(row: Row[Any]) -> Membership:
    return Membership(row.group_id, row.user_id, row.until)


def _grant(row: Row[Any]) -> Grant:
    assignee = _assignee(row.assignee_kind, row.assignee_id)
    return Grant(RecordRef(row.kind, row.record_id), assignee, row.level, row.tenant, row.since, row.until, row.actor)


def _follower(row: Row[Any]) -> Follower:
    return Follower(RecordRef(row.kind, row.record_id), row.user_id, row.tenant, row.since)


def _record(row: Row[Any]) -> Record:
    return Record(
        row.kind,
        row.id,
        row.tenant,
        row.created_at,
        row.shared_with,
        row.offered_to,
        name=row.name,
        status=row.status,
        number=row.number,
        labels=row.labels,
        groups=row.groups,
    )


def _assignment(row: Row[Any], ref: RecordRef | None = None) -> Assignment:
    return Assignment(
        RecordRef(row.kind, row.record_id) if ref is None else ref,
        row.role,
        _assignee(row.assignee_kind, row.assignee_id),
        row.tenant,
        row.since,
        row.actor,
    )


@functools.lru_cache(maxsize=65_536)
def _assignee(kind: str, id: str) -> Assignee:
    """The assignee of a row; a page names the same few again and again, so each is built once."""
    return Assignee(AssigneeKind(kind), id)


def _entry(row: Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        structure(row.body, Notification),
        row.attempts,
        row.delivered,
        dead=row.dead,
        next_attempt_at=row.next_attempt_at,
    )


# --- filters as SQL -------------------------------------------------------------------------------


def clause(filter: Filter, kind: str) -> ColumnElement[bool]:
    """Return `filter` as a condition on the rows of ``ownership_records`` of `kind`.

    An OR of holder tests becomes one look-up in the holders' index, as a
    person would fold it by hand (``holder = ? OR group IN (?, ?)``), and so
    do ORs of home tenants, of shares, of labels, of record groups and of statuses.
    A test that the viewer's tenant takes part is left out where the holdings
    the filter asks for imply it (`without_implied_participation`). Every
    condition is true or false, never NULL, so a NOT of it means what `matches` says.
    """
    if isinstance(filter, Everything):
        return true()
    if isinstance(filter, Nothing):
        return false()
    filter = without_implied_participation(filter)
    if isinstance(filter, And):
        return and_(true(), *(clause(part, kind) for part in filter.parts))
    if isinstance(filter, Not):
        return not_(clause(filter.part, kind))
    if isinstance(filter, Or):
        return _any(filter.parts, kind)
    return _any((filter,), kind)  # a test of one fact is an OR of one


_FOLDED = (HomeIs, SharedWith, HasAssignee, Held, StatusIn, Labelled, InGroup, NameHas, IdIn)


def _any(parts: Sequence[Filter], kind: str) -> ColumnElement[bool]:
    """An OR, with its holder tests, shares, homes, labels, groups and statuses each folded into one condition."""
    homes = [p.tenant for p in parts if isinstance(p, HomeIs)]
    shared = [p.tenant for p in parts if isinstance(p, SharedWith)]
    held = [p for p in parts if isinstance(p, HasAssignee | Held)]
    statuses = [p.statuses for p in parts if isinstance(p, StatusIn)]
    labelled = [p.label for p in parts if isinstance(p, Labelled)]
    grouped = [p.group for p in parts if isinstance(p, InGroup)]
    ids = sorted(frozenset().union(*(p.ids for p in parts if isinstance(p, IdIn))))
    folded = [
        *([records.c.tenant.in_(_values(homes))] if homes else []),
        *([_linked(_SHARES, kind, shared)] if shared else []),
        *([_holding(kind, held)] if held else []),
        *([_status_in(frozenset().union(*statuses))] if statuses else []),
        *([_linked(_LABELS, kind, labelled)] if labelled else []),
        *([_linked(_GROUPS, kind, grouped)] if grouped else []),
        *([_id_in(ids)] if ids else []),
        *(_name_has(p.text) for p in parts if isinstance(p, NameHas)),
    ]
    rest = [clause(p, kind) for p in parts if not isinstance(p, _FOLDED)]
    return or_(false(), *folded, *rest)  # an OR of nothing is false, as SQLAlchemy's empty or_() is not


def _linked(link: _Link, kind: str, names: Iterable[str]) -> ColumnElement[bool]:
    """The records of `kind` that carry one of `names` in a side table: one look-up in its index."""
    t = link.table.c
    found = select(t.record_id).where(t.kind == kind, t[link.column].in_(_values(sorted(set(names)))))
    return records.c.id.in_(found)


def _status_in(statuses: Collection[str]) -> ColumnElement[bool]:
    if not statuses:
        return false()
    # A record without a status is in none: false, not NULL, so that NOT of it holds.
    return and_(records.c.status.is_not(None), records.c.status.in_(_values(sorted(statuses))))


def _name_has(text: str) -> ColumnElement[bool]:
    # Both sides casefolded, so SQLite's LIKE, blind to the case of ASCII letters only, finds what `matches` finds.
    return func.coalesce(records.c.name_key, "").contains(text.casefold(), autoescape=True)


def _values(items: Iterable[str]) -> list[ColumnElement[str]]:
    """Values for an IN list, each its own bound parameter.

    The statement is then compiled once and reused, where SQLAlchemy would
    expand one list parameter into SQL text again at every run.
    """
    return [literal(item, _ID) for item in items]


_FEW_IDS = 1_000
"""The most record ids an ``IN`` list binds one by one; more are bound as one list (`_IdsIn`)."""


def _id_in(ids: Sequence[str]) -> ColumnElement[bool]:
    """The records whose id is one of `ids` (the records granted to a viewer): an IN list, or one value of many."""
    return records.c.id.in_(_values(ids)) if len(ids) <= _FEW_IDS else _IdsIn(records.c.id, ids)


class _IdsIn(ColumnElement[bool]):
    """Whether `column` is one of many `ids`, bound as one JSON list the database reads as rows.

    An IN list of one parameter each would stop at the database's ceiling on
    parameters (32,766 on SQLite, 65,535 on PostgreSQL); one value of any
    length does not, and its statement is the same for any number of ids.
    """

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy's list
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[str], ids: Sequence[str]) -> None:
        self.column = column
        self.ids = literal(json.dumps(list(ids)), String())


@compiles(_IdsIn, "postgresql")
def _ids_in_postgresql(element: _IdsIn, compiler: SQLCompiler, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"({column} IN (SELECT jsonb_array_elements_text(CAST({ids} AS JSONB))))"


@compiles(_IdsIn)
def _ids_in(element: _IdsIn, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite: json_each, built into SQLite since 3.38 and into Python's own builds before.
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"({column} IN (SELECT value FROM json_each({ids})))"


def _holding(kind: str, tests: Sequence[HasAssignee | Held]) -> ColumnElement[bool]:
    """The records of `kind` where any of `tests` holds."""
    found = _holders_lookups(kind, tests)
    return false() if found is None else records.c.id.in_(found)


def _holders_lookups(
    kind: str,
    tests: Sequence[HasAssignee | Held],
    *,
    after: ColumnElement[Any] | None = None,
    distinct: bool = False,
) -> Select[Any] | CompoundSelect[Any] | None:
    """The ids of the records of `kind` where any of `tests` holds: a UNION ALL of look-ups in the holders' index.

    Each look-up is one role of one slot and one kind of assignee, so it fills
    the index's columns from the left (kind, role, tenant, assignee kind, ids):
    a range of the index each, as a person would write it by hand, where one
    OR of them all is more than SQLite's planner will split. Tests of one role,
    slot and kind of assignee are one look-up, of all their ids. A value the
    look-ups share (the kind, a role, a tenant, a group) is one parameter, given
    once. With `after`, only ids above it; with `distinct`, a UNION: each id once.
    """
    a = assignments.c
    value = functools.cache(lambda text: literal(text, _ID))
    above = () if after is None else (a.record_id > after,)
    anyone: set[tuple[str, str]] = set()
    wanted: dict[tuple[str, str, AssigneeKind], set[str]] = {}
    for test in tests:
        for role in test.roles:
            if isinstance(test, HasAssignee):
                for assignee in test.assignees:
                    wanted.setdefault((role, test.tenant, assignee.kind), set()).add(assignee.id)
            else:
                anyone.add((role, test.tenant))
    lookups = []

    def slot(role: str, tenant: str) -> tuple[ColumnElement[bool], ...]:
        return (a.kind == value(kind), a.role == value(role), a.tenant == value(tenant), *above)

    lookups += [select(a.record_id).where(*slot(role, tenant)) for role, tenant in sorted(anyone)]
    for (role, tenant, who), ids in sorted(wanted.items(), key=lambda item: (*item[0][:2], item[0][2].value)):
        if (role, tenant) in anyone:
            continue  # any holder of the role in the slot is looked up already
        held = (a.assignee_kind == value(who.value), a.assignee_id.in_([value(id) for id in sorted(ids)]))
        lookups.append(select(a.record_id).where(*slot(role, tenant), *held))
    if not lookups:
        return None
    if len(lookups) == 1:
        return lookups[0].distinct() if distinct else lookups[0]
    return union(*lookups) if distinct else union_all(*lookups)


@functools.lru_cache(maxsize=1_024)
def _selection(kind: str, filter: Filter, *, paged: bool) -> Executable:
    """The page query of `select`, built once for each kind and filter; a viewer's filter repeats from page to page."""
    held = _held_page(kind, filter, paged=paged)
    if held is not None:
        return select(records).where(records.c.kind == kind, records.c.id.in_(held)).order_by(records.c.id)
    query = select(records).where(records.c.kind == kind, clause(filter, kind))
    if paged:
        query = query.where(records.c.id > bindparam("after"))
    return query.order_by(records.c.id).limit(bindparam("limit"))


def _held_page(kind: str, filter: Filter, *, paged: bool) -> Select[Any] | CompoundSelect[Any] | None:
    """A page of the ids of a filter of holder tests alone, read from the holders' index; None for any other filter.

    A holding is kept only on a tracked record of its kind, so the ids of a
    page are the first distinct ones the look-ups find, above `after`: the
    records' table need not be read. The page is the look-ups' own UNION,
    ordered and cut: a database may then walk a look-up of many holders (a
    manager's team of a thousand) in the order of record ids and stop at the
    page's end, and merge it with the others, rather than read all it holds.
    """
    held = _parts_if_holdings(without_implied_participation(filter))
    if held is None:
        return None
    lookups = _holders_lookups(kind, held, after=bindparam("after") if paged else None, distinct=True)
    if lookups is None:
        return select(records.c.id).where(false())
    return lookups.order_by(literal_column("record_id")).limit(bindparam("limit"))


@functools.lru_cache(maxsize=1_024)
def _for_the_driver(statement: Executable, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
    """`statement` compiled for `dialect`'s driver: its text, its parameters' names in order if positional, its values.

    For statements of plain values only: no value is converted on its way in or out.
    """
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]  # a select or an update: compilable
    names = tuple(compiled.positiontup or ()) if dialect.positional else None
    return compiled.string, names, dict(compiled.params)


@functools.lru_cache(maxsize=1_024)
def _looking_at_ids(kind: str, filter: Filter, *, paged: bool) -> Executable:
    """The statement of `look_ids`: the generation, beside the ids of `select`'s page (none: one row, id NULL)."""
    held = _held_page(kind, filter, paged=paged)
    if held is None:
        page = select(records.c.id).where(records.c.kind == kind, clause(filter, kind))
        if paged:
            page = page.where(records.c.id > bindparam("after"))
        held = page.order_by(records.c.id).limit(bindparam("limit"))
    found = held.subquery("page")
    (id,) = found.c  # a record's id, whichever table the page was read from
    return (
        select(schema_table.c.generation, id)
        .select_from(schema_table.outerjoin(found, true()))
        .where(schema_table.c.id == 1)
        .order_by(id)
    )


@functools.lru_cache(maxsize=1_024)
def _counting(kind: str, filter: Filter) -> Executable:
    """The query of `count`: one row, the number of matching records."""
    return select(func.count()).select_from(records).where(records.c.kind == kind, clause(filter, kind))


@functools.lru_cache(maxsize=1_024)
def _counting_by_status(kind: str, filter: Filter) -> Executable:
    """The query of `count_by_status`: a row a status (NULL for none) with how many matching records are in it."""
    matching = records.c.kind == kind, clause(filter, kind)
    return select(records.c.status, func.count()).where(*matching).group_by(records.c.status)


@functools.lru_cache(maxsize=1_024)
def _counting_by_holder(kind: str, filter: Filter, roles: tuple[str, ...], tenant: str) -> Executable:
    """The query of `count_by_holder`: a row an assignee, with how many matching records they hold one of `roles` of.

    The holders are read under another name, so the filter's own look-ups in
    ``ownership_assignments`` stay look-ups of their own, not this row's.
    """
    held = assignments.alias("held")
    of_record = and_(held.c.kind == records.c.kind, held.c.record_id == records.c.id)
    return (
        select(held.c.assignee_kind, held.c.assignee_id, func.count(held.c.record_id.distinct()))
        .select_from(records.join(held, of_record))
        .where(
            records.c.kind == kind,
            held.c.kind == kind,
            held.c.role.in_(_values(roles)),
            held.c.tenant == literal(tenant, _ID),
            clause(filter, kind),
        )
        .group_by(held.c.assignee_kind, held.c.assignee_id)
    )


def where(filter: Filter, *, kind: str, id: ColumnElement[Any]) -> ColumnElement[bool]:
    """Return `filter` as a condition on a host's own column of record ids, for the host's own ``select``.

    Built once for each filter, kind and column, and reused: a viewer's filter repeats from request to request.
    The host's statements of one shape (viewers of one rule with as many groups) share one compiled form in
    SQLAlchemy's cache, each run with its own values.

    The condition holds for the ids of the records of `kind` that `ownership`
    tracks and the filter matches, as `visible` would list them:

        allowed = own.filter(user, "view", "deal")
        query = select(deals).where(where(allowed, kind="deal", id=deals.c.id))

    It takes the shape each database can run fastest. A filter that finds its
    records through the index of holders, labels or record groups (a user's own
    records) is ``id IN (SELECT ...)``: the database looks those few up and
    finds the host's rows by their key. A broad one (an admin's: the tenant's
    records, or everything, or a NOT) is ``EXISTS (SELECT ... WHERE id = <the
    host's id>)``: the database walks the host's rows in the host's own order
    and checks each by the records' key, so a page stops at its ``LIMIT``
    instead of reading every id the filter matches first.

    Args:
        filter: a filter, as `Ownership.filter` returns it.
        kind: the record kind the host's table holds.
        id: the host's column that holds the record id. An integer column is compared with the ids that are
            integers as Python writes them (``"7"``, never ``"007"``), found by the host's own key; a column of
            any other type than text is compared as text, since the library keeps ids as strings.
    """
    return _where(filter, kind, id)


class _Allowed(ColumnElement[bool]):
    """A condition `where` built, whose cache key SQLAlchemy reads from what was worked out once.

    A host builds its ``select`` anew on every request, and SQLAlchemy finds the
    compiled statement by a key it makes by walking the whole statement: for the
    look-ups of a viewer's filter, a walk longer than the host's own select.
    The condition's shape (the key of its parts, their values left out) and its
    bound values are worked out once, when `where` builds it; a request's walk
    then reads those, and statements of one shape (viewers of the same rule and
    group count) share their compiled form, each run with its own values. A copy
    (a host that adapts its select) works them out again for what it holds.
    """

    inherit_cache = True
    _is_implicitly_boolean = True
    type = Boolean()
    # What SQLAlchemy's visitors walk (the condition and the host's column), and what its cache key reads instead:
    # the shape and values worked out once, and the host's column, walked with the rest of the host's statement
    # (which of two look-alike aliases of the host's table it is, the condition's own key cannot tell).
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy's lists
        ("condition", InternalTraversal.dp_clauseelement),
        ("host", InternalTraversal.dp_clauseelement),
    ]
    _cache_key_traversal = [  # noqa: RUF012
        ("_shape", InternalTraversal.dp_plain_obj),
        ("_values", InternalTraversal.dp_clauseelement_tuple),
        ("host", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, condition: ColumnElement[bool], host: ColumnElement[Any]) -> None:
        self.condition = condition
        self.host = host

    @HasMemoized.memoized_attribute
    def _key(self) -> Any:
        """The condition's cache key, or None when a part of it (the host's column's type) cannot be cached."""
        return self.condition._generate_cache_key()

    @property
    def _shape(self) -> Any:
        return self._key.key

    @property
    def _values(self) -> tuple[BindParameter[Any], ...]:
        return tuple(self._key.bindparams)

    @property
    def _from_objects(self) -> Any:
        return self.condition._from_objects

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        # In parentheses where the condition itself would be: inside a NOT, or an AND beside an OR.
        grouped = self.condition.self_group(against=against)
        return self if grouped is self.condition else _Allowed(grouped, self.host)

    def _negate(self) -> ColumnElement[Any]:
        return _Allowed(not_(self.condition), self.host)

    def _copy_internals(self, **kw: Any) -> None:
        super()._copy_internals(**kw)
        self._reset_memoizations()


@compiles(_Allowed)
def _compile_allowed(element: _Allowed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.condition, **kw)


@functools.lru_cache(maxsize=1_024)
def _where(filter: Filter, kind: str, id: ColumnElement[Any]) -> ColumnElement[bool]:
    condition = _condition(filter, kind, id)
    allowed = _Allowed(condition, id)
    return condition if allowed._key is None else allowed  # what SQLAlchemy cannot cache, it runs uncached


def _condition(filter: Filter, kind: str, id: ColumnElement[Any]) -> ColumnElement[bool]:
    host = id
    if not isinstance(id.type, String):
        id = cast(id, String)
    filter = without_implied_participation(filter)
    held = _parts_if_holdings(filter)
    if held is not None:
        # Holdings alone: the host's rows are found from the holders' index, as a person would fold it.
        lookups = _holders_lookups(kind, held)
        # None: holder tests of no role or no one, which hold for no row; the host's column keeps its table named.
        return _host_in(host, lookups if lookups is not None else select(records.c.id).where(false()))
    matching = select(records.c.id).where(records.c.kind == kind, clause(filter, kind))
    if _drives(filter):
        return _host_in(host, matching)
    # The records under a name of their own, so the check correlates with the host's row alone, even in a host's
    # select that reads ``ownership_records`` itself; and the host's column named outside it too, so the host's
    # table is in the host's FROM however the select is written (``select(func.count()).where(...)``).
    found = matching.subquery()
    return and_(host.is_not(None), select(found.c.id).where(found.c.id == id).exists())


def _host_in(host: ColumnElement[Any], found: Select[Any] | CompoundSelect[Any]) -> ColumnElement[bool]:
    """The host's rows whose key is among the record ids `found` lists, found by the host's own key.

    A text key is compared as it is. An integer key is compared with the ids
    that are integers as Python writes them (``str(7)``, never ``007``), turned
    into the host's type, so the database looks each up in the host's key
    instead of turning every host key into text; any other key is turned into text.
    """
    if isinstance(host.type, String):
        return host.in_(found)
    if not isinstance(host.type, Integer):
        return cast(host, String).in_(found)
    ids = found.subquery()
    (record_id,) = ids.c
    # As BIGINT, whatever the key's size: a key of four bytes is compared with it by its own index all the same.
    return host.in_(select(cast(record_id, BigInteger())).where(_IntegerText(record_id)))


_BIGGEST = str(2**63 - 1)
_SMALLEST = str(-(2**63))


class _IntegerText(ColumnElement[bool]):
    """Whether a text column holds an integer as Python's ``str`` writes it, one a BIGINT holds."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012 - SQLAlchemy's list

    def __init__(self, column: ColumnElement[str]) -> None:
        self.column = column


@compiles(_IntegerText, "postgresql")
def _integer_text_postgresql(element: _IntegerText, compiler: SQLCompiler, **kw: Any) -> str:
    c = compiler.process(element.column, **kw)
    # Up to 18 digits, any; 19, up to the biggest (or smallest) BIGINT, compared as text of one length.
    return (
        f"({c} ~ '^(0|-?[1-9][0-9]{{0,17}})$' OR ({c} ~ '^[1-9][0-9]{{18}}$' AND {c} <= '{_BIGGEST}') "
        f"OR ({c} ~ '^-[1-9][0-9]{{18}}$' AND {c} <= '{_SMALLEST}'))"
    )


@compiles(_IntegerText)
def _integer_text(element: _IntegerText, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite: GLOB, which needs no function of the connection's (REGEXP is one a connection may lack).
    c = compiler.process(element.column, **kw)
    digits = f"{c} GLOB '[1-9]*' AND {c} NOT GLOB '*[^0-9]*'"
    positive = f"{digits} AND (length({c}) <= 18 OR (length({c}) = 19 AND {c} <= '{_BIGGEST}'))"
    minus = f"substr({c}, 2)"
    negative = (
        f"{c} GLOB '-[1-9]*' AND {minus} NOT GLOB '*[^0-9]*' "
        f"AND (length({c}) <= 19 OR (length({c}) = 20 AND {c} <= '{_SMALLEST}'))"
    )
    return f"({c} = '0' OR ({positive}) OR ({negative}))"


def _parts_if_holdings(filter: Filter) -> list[HasAssignee | Held] | None:
    """The holder tests `filter` is an OR of (or is), or None when it tests anything else."""
    parts = filter.parts if isinstance(filter, Or) else (filter,)
    held = [part for part in parts if isinstance(part, HasAssignee | Held)]
    return held if len(held) == len(parts) else None


def _drives(filter: Filter) -> bool:
    """Whether every record `filter` matches is found through an index of few rows: holders, labels, record groups.

    Such a filter is best run from those rows; any other (everything, a home, a
    share, a status, a name, a NOT) may match most records of its kind, and is
    best checked row by row.
    """
    if isinstance(filter, HasAssignee | Labelled | InGroup | IdIn | Nothing):
        return True
    if isinstance(filter, And):
        return any(_drives(part) for part in filter.parts)
    if isinstance(filter, Or):
        return all(_drives(part) for part in filter.parts)
    return False
