"""`ownership`'s state in the Django host's own database, written in the host's own transaction.

    from ownership.contrib.django import DjangoRepository

    own = Ownership(rulebook, DjangoRepository())  # the "default" database, or DjangoRepository(using="crm")

    with transaction.atomic():
        deal = Deal.objects.create(title="Fleet renewal")
        own.create("deal", id=str(deal.pk), actor=request.user.username)
    # the deal and its holders are committed together, or neither is

Each unit of work is a ``transaction.atomic`` block on the database's
connection: inside a host's own block it is a savepoint there, so the host's
rows and `ownership`'s commit or roll back together, a refused use case takes
back only its own part, and ``transaction.on_commit`` hooks run once the whole
is kept; outside one, the unit is a transaction of its own. `ownership`'s
statements are SQLAlchemy Core's, sent on Django's connection itself.

The database holds `ownership`'s tables (``ownership.adapters.sql.create_schema``,
or the ``ownership`` app's migration). On SQLite, give Django's database
``"OPTIONS": {"transaction_mode": "IMMEDIATE"}`` (Django 5.1 and later) when
several processes write: a transaction then takes the database's one writer
when it begins, rather than fail when it first writes while another writes.
On PostgreSQL, keep Django's isolation level, READ COMMITTED: a unit takes the
locks of what it changes before it reads it, and a stricter level would read
from a snapshot older than the lock. Django's own connection pool (``"pool"``
in ``OPTIONS``) is not one this has been proven with.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connections, transaction
from django.db import Error as DjangoError
from sqlalchemy import create_engine
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ownership.adapters import sql
from ownership.errors import InvalidValueError, StorageError

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from sqlalchemy import Connection

    from ownership.ports import Transaction

__all__ = ["DjangoRepository", "create_tables", "drop_tables"]


def _as_django_left_it(connection: Any) -> None:
    """Leave a connection of Django's as Django set it up."""


class _AsDjangoSetItUp:
    """A dialect on Django's connection, which Django set up as it wants: nothing is added to it here.

    SQLAlchemy's own SQLite dialect would register its ``regexp`` and ``floor``
    on each connection, over Django's; its PostgreSQL ones, a notice handler more.
    """

    def on_connect(self) -> Callable[[Any], None]:
        """Set nothing up on the connection."""
        return _as_django_left_it


class _SqliteOnDjango(_AsDjangoSetItUp, SQLiteDialect_pysqlite):
    """SQLite (sqlite3) on Django's connection."""

    supports_statement_cache = True  # SQLAlchemy reads it off each dialect class itself


class _PsycopgOnDjango(_AsDjangoSetItUp, PGDialect_psycopg):
    """PostgreSQL (psycopg) on Django's connection."""

    supports_statement_cache = True  # SQLAlchemy reads it off each dialect class itself


class _Psycopg2OnDjango(_AsDjangoSetItUp, PGDialect_psycopg2):
    """PostgreSQL (psycopg2) on Django's connection."""

    supports_statement_cache = True  # SQLAlchemy reads it off each dialect class itself


for _name, _dialect in (
    ("sqlite.ownership_django", _SqliteOnDjango),
    ("postgresql.ownership_psycopg", _PsycopgOnDjango),
    ("postgresql.ownership_psycopg2", _Psycopg2OnDjango),
):
    registry.register(_name, __name__, _dialect.__name__)

# The dialect that speaks to each of Django's drivers.
_URLS = {
    "sqlite3": "sqlite+ownership_django://",
    "psycopg": "postgresql+ownership_psycopg://",
    "psycopg2": "postgresql+ownership_psycopg2://",
}


class DjangoRepository:
    """A `Repository` on a Django database's connection, each unit of work a ``transaction.atomic`` block on it.

    Offers no generation to cache by, as a repository joined to a host's
    transaction does not: what a viewer is allowed is worked out again in each
    call, from the host's transaction's own view of the tables.

    Args:
        using: the alias of the Django database that holds `ownership`'s tables.

    Raises:
        InvalidValueError: the database is not SQLite or PostgreSQL.
    """

    def __init__(self, using: str = "default") -> None:
        vendor = connections[using].vendor
        if vendor not in sql.DIALECTS:
            raise InvalidValueError(
                f"DjangoRepository runs on SQLite and PostgreSQL, not on Django's {vendor} backend; implement "
                "ownership.ports.Repository for it, and prove it with ownership.testing.contract."
            )
        self.using = using
        self._postgresql = vendor == "postgresql"
        self._local = threading.local()  # the unit each thread has open: Django's connection is one a thread
        self._turns = None  # units of one thread nest, as Django's atomic blocks do; no turns between threads

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work: a ``transaction.atomic`` block; see `ownership.ports.Repository`."""
        return _DjangoUnit(self)

    def close(self) -> None:
        """Nothing to close: the connections are Django's."""


class _Borrowed(NullPool):
    """A pool whose one connection a thread is Django's: handed out as it is, and never closed or rolled back here."""

    def _do_return_conn(self, record: Any) -> None:
        """Keep Django's connection open: Django closes it, when its own time comes."""


class _OnDjango:
    """SQLAlchemy's connections on one Django database's connections: one engine, and a connection a thread."""

    def __init__(self, using: str) -> None:
        self.using = using
        self._local = threading.local()
        wrapper = connections[using]
        wrapper.ensure_connection()
        driver = type(wrapper.connection).__module__.split(".")[0]  # sqlite3, psycopg or psycopg2
        # SQLAlchemy sets its dialect up on the first connection it makes, and rolls that connection back after:
        # on a fresh connection of its own, never on one a host's transaction is open on.
        fresh: list[Any] = []

        def creator() -> Any:
            if fresh:
                return self._local.raw
            fresh.append(wrapper.get_new_connection(wrapper.get_connection_params()))
            return fresh[0]

        self.engine = create_engine(_URLS[driver], creator=creator, poolclass=_Borrowed, pool_reset_on_return=None)
        self.engine.connect().close()
        fresh[0].close()

    def connection(self, *, checked: bool) -> Connection:
        """SQLAlchemy's connection on the thread's Django connection, made anew once Django connects anew.

        A new one is `checked`: the database must hold `ownership`'s tables, at this schema version.
        """
        wrapper = connections[self.using]
        wrapper.ensure_connection()
        raw = wrapper.connection
        held: tuple[Any, Connection] | None = getattr(self._local, "held", None)
        if held is not None and held[0] is raw:
            return held[1]
        self._local.raw = raw
        connection = self.engine.connect()
        if checked:
            sql._check_tables(connection)
        self._local.held = (raw, connection)
        return connection


_ON_DJANGO: dict[str, _OnDjango] = {}
_MAKING = threading.Lock()


def _on_django(using: str, *, checked: bool = True) -> Connection:
    """SQLAlchemy's connection on the thread's connection to the Django database `using`."""
    on = _ON_DJANGO.get(using)
    if on is None:  # the first unit on the database: made once, whichever thread asks first
        with _MAKING:
            on = _ON_DJANGO.get(using) or _ON_DJANGO.setdefault(using, _OnDjango(using))
    return on.connection(checked=checked)


class _DjangoUnit:
    """One unit of work: a ``transaction.atomic`` block, and the `Transaction` that reads and writes in it."""

    __slots__ = ("_atomic", "_inner", "_repo")

    def __init__(self, repo: DjangoRepository) -> None:
        self._repo = repo
        self._atomic: Any = None
        self._inner: sql._SqlUnit | None = None

    def __enter__(self) -> sql._SqlTransaction:
        repo = self._repo
        if getattr(repo._local, "tx", None) is not None:
            # A unit inside one of ours: a savepoint in it, as the SQL repository makes one.
            self._inner = sql._SqlUnit(repo, sql._WRITE)  # type: ignore[arg-type]  # what it reads, ours has
            return self._inner.__enter__()
        self._atomic = transaction.atomic(using=repo.using)
        try:
            self._atomic.__enter__()
        except DjangoError as error:
            raise _unreachable(error) from error
        try:
            connection = _on_django(repo.using)
            dialect = connection.dialect.name
            mode = sql._WRITE if repo._postgresql else sql._SERIAL
            tx = sql._SqlTransaction(connection, sql._statements_of(dialect), mode)
            tx._begin(sql._WRITE)
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            if isinstance(error, SQLAlchemyError):
                raise sql._translated(error, committing=False) from error
            if isinstance(error, DjangoError):
                raise _unreachable(error) from error
            raise
        repo._local.tx = tx
        return tx

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        if self._inner is not None:
            self._inner.__exit__(kind, error, trace)
            return
        tx: sql._SqlTransaction = self._repo._local.tx
        self._repo._local.tx = None
        if error is None:
            try:
                tx._flush()
            except BaseException as failure:
                self._atomic.__exit__(type(failure), failure, failure.__traceback__)
                if isinstance(failure, SQLAlchemyError):
                    raise sql._translated(failure, committing=False) from failure
                raise
        try:
            self._atomic.__exit__(kind, error, trace)  # Django commits, or releases its savepoint, or rolls back
        except DatabaseError as failure:
            raise StorageError(
                f"The database refused to keep the unit of work: {sql._first_line(failure)}; nothing of it was kept, "
                "unless the failure came while committing, when the database holds all of it or none of it."
            ) from failure
        if isinstance(error, SQLAlchemyError):
            raise sql._translated(error, committing=False) from error


def create_tables(apps: Any, schema_editor: Any) -> None:  # noqa: ARG001 - the signature RunPython calls
    """Make `ownership`'s tables in the database a migration runs on, in its transaction (the app's migration)."""
    sql.create_schema_on(_on_django(schema_editor.connection.alias, checked=False))


def drop_tables(apps: Any, schema_editor: Any) -> None:  # noqa: ARG001
    """Drop `ownership`'s tables, with all they hold (the app's migration, reversed)."""
    sql.metadata.drop_all(_on_django(schema_editor.connection.alias, checked=False))


def _unreachable(error: BaseException) -> StorageError:
    """The error a unit that could not begin raises: the database's own, as a sentence."""
    return StorageError(
        f"The database could not begin a unit of work: {sql._first_line(error)}; nothing was read or written. "
        "Check that Django's database is reachable, and try again."
    )
