"""Sessions for ownership's development: `nox` runs tests, lint, typecheck and docs."""

import glob
import os
import shutil
import sys

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "compat", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.10", "3.11", "3.12", "3.13"]
"""The Pythons pyproject.toml's classifiers claim; `compat` runs the unit tests on each of them this machine has."""


def _found(version: str) -> str | None:
    """The interpreter of `version` on PATH, or one pyenv installed but has not put on PATH, or None."""
    on_path = shutil.which(f"python{version}")
    if on_path and os.access(on_path, os.X_OK) and "shims" not in on_path:
        return on_path
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    installed = sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")))
    return installed[-1] if installed else None


CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
OTHERS = {version: found for version in PYTHON if version != CURRENT and (found := _found(version))}


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (unit, property, contract, examples) on the current Python.

    The PostgreSQL tests use the server at OWNERSHIP_POSTGRES_URL (`.ci/postgres` starts one); nox passes the
    environment, that variable and CI included, through to pytest. Without a server they skip, except under CI.
    The tests run in one process per core (pytest-xdist), a free one taking tests from a busy one's share; each
    process makes its own throwaway databases and files.
    """
    session.install("-e", ".[testing,postgresql,django]", "pytest>=8", "pytest-xdist>=3.5")
    session.run("pytest", "--numprocesses=auto", "--dist=worksteal", *session.posargs)


@nox.session
@nox.parametrize("python", list(OTHERS.values()), ids=list(OTHERS))
def compat(session: nox.Session) -> None:
    """Run the unit tests (every use case and rule, no server) on each other Python the classifiers claim.

    The whole suite runs once, in `tests`; here each claimed Python this machine has proves the package
    installs and behaves the same. A claimed Python the machine lacks is named, not silently passed over.
    """
    missing = [v for v in PYTHON if v != CURRENT and _found(v) is None]
    if missing:
        session.warn(f"No Python {', '.join(missing)} on this machine: the unit tests did not run there.")
    session.install("-e", ".[testing,sql]", "pytest>=8", "pytest-xdist>=3.5")
    session.run(
        "pytest",
        "tests/unit",
        "tests/api",
        "-q",
        "-p",
        "no:cacheprovider",
        "--numprocesses=auto",
        "--dist=worksteal",
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Check the package with mypy --strict; SQLAlchemy, and Django with its stubs, are installed for their types."""
    session.install("-e", ".[testing,postgresql,django]", "mypy", "django-stubs")
    session.run("mypy", "--strict", "src")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ with warnings as errors: a broken link or docstring fails it.

    The package is installed so that the API reference is read from the code that is tested; ruff formats the
    signatures the reference shows.
    """
    session.install(
        "-e",
        ".[testing,postgresql,django]",
        "mkdocs>=1.6,<2",
        "mkdocstrings[python]>=1.0,<2",
        "mkdocstrings-python>=2.0,<3",
        "ruff",
    )
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks: access (django-rules, installed here only), SQL, bulk, dispatch, fan-out, host, load, Django,
    team.

    All but access measure SQLite and PostgreSQL: the server at OWNERSHIP_POSTGRES_URL,
    else the one `.ci/postgres` starts (and leaves running). Arguments after ``--`` replace ``--large`` for the
    access, SQL and host benchmarks.
    """
    session.install("-e", ".[testing,postgresql,django]", "rules")
    arguments = session.posargs or ["--large"]
    session.run("python", "benchmarks/bench_access.py", *arguments)
    url = os.environ.get("OWNERSHIP_POSTGRES_URL") or str(session.run(".ci/postgres", external=True, silent=True))
    server = url.strip().splitlines()[-1]
    session.run("python", "benchmarks/bench_sql.py", "--postgresql", server, *arguments)
    session.run("python", "benchmarks/bench_bulk.py", "--postgresql", server)
    session.run("python", "benchmarks/bench_dispatch.py", "--postgresql", server)
    session.run("python", "benchmarks/bench_fanout.py", "--postgresql", server)
    session.run("python", "benchmarks/bench_host.py", "--postgresql", server, *arguments)
    session.run("python", "benchmarks/bench_load.py", "--postgresql", server)
    session.run("python", "benchmarks/bench_django.py", "--postgresql", server)
    session.run("python", "benchmarks/bench_team.py", "--postgresql", server)
