"""Django for the tests of `ownership.contrib.django`: settings, and the host's databases on SQLite and PostgreSQL.

A test module brings the fixtures in with ``pytest_plugins = ("django_host",)``, importing the host's models
from here (where Django is set up first); it imports this module before pytest loads it as a plugin, too late
to rewrite its asserts (it has none): PYTEST_DONT_REWRITE.

Django is configured once for the test process, before the host's models (`crm_host`) are imported: the
``default`` database is a SQLite file of the process's own; ``postgresql`` is a throwaway database on the tests'
server, made when a test first asks for it (`host_databases`), and dropped at the session's end.
"""

import itertools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import django
import pytest
from django.conf import settings
from sqlalchemy import Engine, delete
from sqlalchemy.engine import make_url

from ownership.adapters.sql import SqlRepository, make_engine, metadata, schema_table
from postgres import throwaway_database

_DIRECTORY = Path(tempfile.mkdtemp(prefix="ownership-django-"))
settings.configure(
    DATABASES={
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_DIRECTORY / "crm.db")},
        # Where the server is, and the database's name, are filled in by `host_databases` before its first use.
        "postgresql": {"ENGINE": "django.db.backends.postgresql", "NAME": "", "TEST": {"NAME": ""}},
    },
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "ownership.contrib.django", "crm_host"],
    USE_TZ=True,
    AUTHENTICATION_BACKENDS=["ownership.contrib.django.OwnershipBackend"],
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

from crm_host.models import Card, Deal, Department, Item, StaffUser, Ticket  # noqa: E402, F401
from django.contrib.auth.models import AnonymousUser, Group, User  # noqa: E402, F401  # for the tests, once Django is set up
from django.core.management import call_command  # noqa: E402  # only once Django is set up
from django.db import connections  # noqa: E402
from django.test import RequestFactory  # noqa: E402, F401

HOST_MODELS = (Item, Deal, Ticket, Department, Card)
_STATE = [table for table in reversed(metadata.sorted_tables) if table is not schema_table]


def numbers() -> Callable[[], str]:
    """Record ids a host keying by integers gives: ``1``, ``2``, ...; the same calls give the same ids."""
    counter = itertools.count(1)
    return lambda: str(next(counter))


class HostDatabase:
    """One database holding the host's tables (through Django) and `ownership`'s (through an engine on it)."""

    def __init__(self, alias: str, url: str) -> None:
        self.alias = alias
        self.engine: Engine = make_engine(url)
        # As a host makes its tables: Django's own, the host's and ownership's app's, by their migrations.
        call_command("migrate", database=alias, run_syncdb=True, verbosity=0)

    def empty(self) -> None:
        """Empty `ownership`'s tables and the host's, its users and groups too."""
        with self.engine.begin() as connection:
            for table in _STATE:
                connection.execute(delete(table))
        for model in HOST_MODELS:
            model.objects.using(self.alias).all().delete()
        User.objects.using(self.alias).all().delete()
        Group.objects.using(self.alias).all().delete()

    def repositories(self) -> Callable[[], SqlRepository]:
        """What makes the repository of a new world: empty tables, kept by a `SqlRepository` on the same database."""

        def make() -> SqlRepository:
            self.empty()
            return SqlRepository(self.engine)

        return make

    def close(self) -> None:
        connections[self.alias].close()
        self.engine.dispose()


def _sqlite() -> Iterator[HostDatabase]:
    database = HostDatabase("default", f"sqlite:///{settings.DATABASES['default']['NAME']}")
    yield database
    database.close()


def _postgresql(server: str) -> Iterator[HostDatabase]:
    with throwaway_database(server, "ownership_django") as url:
        parts = make_url(url)
        settings.DATABASES["postgresql"].update(
            NAME=parts.database,
            USER=parts.username or "",
            PASSWORD=parts.password or "",
            HOST=parts.host or "",
            PORT=str(parts.port or ""),
        )
        database = HostDatabase("postgresql", url)
        yield database
        database.close()


@pytest.fixture(scope="session")
def sqlite_host() -> Iterator[HostDatabase]:
    """The host's SQLite database, with the host's tables and `ownership`'s."""
    yield from _sqlite()


@pytest.fixture(scope="session")
def postgresql_host(postgres_url: str) -> Iterator[HostDatabase]:
    """The host's PostgreSQL database (a throwaway one on the tests' server), with both sets of tables."""
    yield from _postgresql(postgres_url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def host(request: pytest.FixtureRequest) -> HostDatabase:
    """The host's database, on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_host")  # type: ignore[no-any-return]
