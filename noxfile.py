"""Sessions for ownership's development: `nox` runs tests, lint, typecheck and docs."""

import os

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.10", "3.11", "3.12", "3.13"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (unit, property, contract, examples) on the current Python.

    The PostgreSQL tests use the server at OWNERSHIP_POSTGRES_URL (`.ci/postgres` starts one); nox passes the
    environment, that variable and CI included, through to pytest. Without a server they skip, except under CI.
    """
    session.install("-e", ".[testing,postgresql]", "pytest>=8")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Check the package with mypy --strict; SQLAlchemy is installed so that mypy sees its types."""
    session.install("-e", ".[testing,postgresql]", "mypy")
    session.run("mypy", "--strict", "src")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ with warnings as errors: a broken link or docstring fails it.

    The package is installed so that the API reference is read from the code that is tested; ruff formats the
    signatures the reference shows.
    """
    session.install(
        "-e",
        ".[testing,postgresql]",
        "mkdocs>=1.6,<2",
        "mkdocstrings[python]>=1.0,<2",
        "mkdocstrings-python>=2.0,<3",
        "ruff",
    )
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks: access (django-rules, installed here only, is its baseline), SQL and bulk work.

    The SQL and bulk benchmarks measure SQLite and PostgreSQL: the server at OWNERSHIP_POSTGRES_URL, else the one
    `.ci/postgres` starts (and leaves running). Arguments after ``--`` replace ``--large`` for the first two.
    """
    session.install("-e", ".[testing,postgresql]", "rules")
    arguments = session.posargs or ["--large"]
    session.run("python", "benchmarks/bench_access.py", *arguments)
    url = os.environ.get("OWNERSHIP_POSTGRES_URL") or str(session.run(".ci/postgres", external=True, silent=True))
    server = url.strip().splitlines()[-1]
    session.run("python", "benchmarks/bench_sql.py", "--postgresql", server, *arguments)
    session.run("python", "benchmarks/bench_bulk.py", "--postgresql", server)
