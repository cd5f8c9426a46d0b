"""A real PostgreSQL server for the tests that need one.

The server is the one at ``OWNERSHIP_POSTGRES_URL``, else the one ``.ci/postgres`` starts
(``postgresql+psycopg://postgres@127.0.0.1:54329/postgres``). It is probed once per session. When it cannot be
reached (or SQLAlchemy and psycopg are not installed) the PostgreSQL tests are skipped, with the reason in ``-ra``'s
summary and in one line at the end of the run; under CI they fail instead, for CI must never skip them.

``tests/conftest.py`` registers the fixtures and the hook below by importing them. A test that needs the server is
marked ``@pytest.mark.postgresql`` (``-m "not postgresql"`` leaves them out) and asks for:

- ``postgres_url``: the server's URL, as given (its ``postgres`` database, by default);
- ``postgres_database_url``: the URL of an empty database created for this test session and dropped at its end.
  It is created once, so a test that wants an empty database per example (a hypothesis property makes a new
  repository for each) empties it itself: the adapter's tests own its schema.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Engine

URL_VARIABLE = "OWNERSHIP_POSTGRES_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:54329/postgres"
CONNECT_TIMEOUT_SECONDS = 2


def server_url() -> str:
    """The URL of the PostgreSQL server the tests use: ``OWNERSHIP_POSTGRES_URL``, else ``.ci/postgres``'s."""
    return os.environ.get(URL_VARIABLE) or DEFAULT_URL


def in_ci() -> bool:
    """Whether we run under CI: ``CI`` is set, and not to a false-ish value."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}


def shown(url: str) -> str:
    """The URL as it may be printed: its password, if any, hidden."""
    try:
        from sqlalchemy.engine import make_url  # noqa: PLC0415  # SQLAlchemy is optional here

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # without SQLAlchemy, or with a URL it cannot parse, print it as given
        return url


def engine(url: str) -> Engine:
    """An engine on ``url`` without a pool (a test's connections close with it), which gives up connecting soon.

    Dispose of it when done: ``engine.dispose()``.
    """
    from sqlalchemy import create_engine  # noqa: PLC0415  # SQLAlchemy is optional here
    from sqlalchemy.pool import NullPool  # noqa: PLC0415

    return create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})


class _Session:
    """What this test session learned of the server: probed at most once; ``reachable`` is None until asked."""

    url: str = ""
    reachable: bool | None = None
    reason: str = ""  # why the PostgreSQL tests cannot run: the skip's reason
    detail: str = ""  # the error behind it


def _probe(url: str) -> tuple[str, str] | None:
    """Why the server at ``url`` cannot serve the tests, and the error, or None when it answers ``SELECT 1``."""
    try:
        import psycopg  # noqa: F401, PLC0415  # the driver the URL names
        import sqlalchemy  # noqa: F401, PLC0415
    except ImportError as error:
        return "the PostgreSQL tests need SQLAlchemy and psycopg: pip install -e '.[testing,postgresql]'", str(error)
    try:
        from sqlalchemy import text  # noqa: PLC0415

        probe = engine(url)
        try:
            with probe.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            probe.dispose()
    except Exception as error:  # a refused connection, a bad URL, a missing role: all mean "not here"
        cause = getattr(error, "orig", None) or error  # SQLAlchemy wraps the driver's error
        lines = str(cause).strip().splitlines()
        detail = f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__
        return (
            f"PostgreSQL is not reachable at {shown(url)}: start one with .ci/postgres and set {URL_VARIABLE}",
            detail,
        )
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of a reachable PostgreSQL server; skips the test without one, and fails it under CI."""
    _probe_once()
    if not _Session.reachable:
        if in_ci():
            pytest.fail(
                f"CI must never skip the PostgreSQL tests, yet {_Session.reason} ({_Session.detail}). "
                f"In CI, .ci/run starts one with .ci/postgres and exports {URL_VARIABLE}.",
                pytrace=False,
            )
        pytest.skip(_Session.reason)
    return _Session.url


@contextmanager
def throwaway_database(server_url: str, prefix: str, *, options: str = "", or_skip: str | None = None) -> Iterator[str]:
    """Make a database ``<prefix>_<random>`` on the server, yield its URL, and drop it afterwards.

    `options` go to CREATE DATABASE. With `or_skip`, a server that refuses to make it skips the test,
    saying `or_skip` and why.
    """
    import sqlalchemy as sa  # noqa: PLC0415  # SQLAlchemy is optional here
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    name = f"{prefix}_{secrets.token_hex(6)}"
    server = engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            try:
                connection.execute(sa.text(f'CREATE DATABASE "{name}" {options}'))
            except sa.exc.DBAPIError as error:
                if or_skip is None:
                    raise
                pytest.skip(f"{or_skip}: {error.orig}")
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()


@pytest.fixture(scope="session")
def postgres_database_url(postgres_url: str) -> Iterator[str]:
    """The URL of an empty database, ``ownership_test_<random>``, made for this session and dropped after it."""
    with throwaway_database(postgres_url, "ownership_test") as url:
        yield url


def _probe_once() -> None:
    """Probe the server, unless this process did already."""
    if _Session.reachable is None:
        _Session.url = server_url()
        why = _probe(_Session.url)
        _Session.reachable = why is None
        _Session.reason, _Session.detail = why or ("", "")


def _asked_in_workers(terminalreporter: pytest.TerminalReporter) -> bool:
    """Whether a PostgreSQL test ran in another process (pytest-xdist's workers), whose probe this one never saw."""
    return any(
        "postgresql" in getattr(report, "keywords", {})
        for reports in terminalreporter.stats.values()
        for report in reports
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line at the end of the run: where the PostgreSQL tests ran, or why they were skipped."""
    if _Session.reachable is None:
        if not _asked_in_workers(terminalreporter):
            return  # no test asked for the server
        _probe_once()
    if _Session.reachable:
        terminalreporter.write_line(f"PostgreSQL tests ran against {shown(_Session.url)}")
    else:
        verdict = "FAILED" if in_ci() else "SKIPPED"
        terminalreporter.write_line(f"PostgreSQL tests {verdict}: {_Session.reason} ({_Session.detail})")
