"""Sessions for ownership's development: `nox` runs tests, lint and typecheck."""

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.10", "3.11", "3.12", "3.13"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (unit, property, contract, examples) on the current Python."""
    session.install("-e", ".[testing]", "pytest>=8")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Check the package with mypy --strict."""
    session.install("-e", ".[testing]", "mypy")
    session.run("mypy", "--strict", "src")


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks; django-rules is installed here only, as the access benchmark's baseline."""
    session.install("-e", ".[testing]", "rules")
    session.run("python", "benchmarks/bench_access.py", *(session.posargs or ["--large"]))
