"""The test suite's PostgreSQL server is there, and is PostgreSQL: the adapter's contract tests run against it."""

import pytest

from postgres import engine

pytestmark = pytest.mark.postgresql


def test_the_server_answers_and_is_postgresql(postgres_database_url: str) -> None:
    from sqlalchemy import text  # noqa: PLC0415  # not at the top: without SQLAlchemy, the fixture skips or fails
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    server = engine(postgres_database_url)
    try:
        with server.connect() as connection:
            version = connection.execute(text("SELECT version()")).scalar_one()
            database = connection.execute(text("SELECT current_database()")).scalar_one()
    finally:
        server.dispose()
    assert version.startswith("PostgreSQL ")
    assert database == make_url(postgres_database_url).database
    assert database.startswith("ownership_test_")  # the session's own, dropped at its end
