"""The example Django CRM (``examples/django_crm``) shows each person exactly what `can` allows (X1, X6).

Run as a developer runs it, with its own settings, in a process of its own: ``migrate``, then its
``check_lists`` command, which seeds people, departments and deals through the CRM's own services and walks
every person's list, page by page, and deals' pages through the CRM's views, on SQLite and on PostgreSQL.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from postgres import throwaway_database

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "django_crm"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "django.md"
PROVEN = "12 people, 60 deals: every list and every page is what can() allows"


def _manage(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CRM_DATABASE_URL": url}
    command = [sys.executable, "manage.py", *arguments]
    return subprocess.run(command, check=False, cwd=EXAMPLE, env=environment, capture_output=True, text=True)


def _check(url: str) -> None:
    migrated = _manage(url, "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    checked = _manage(url, "check_lists")
    assert checked.returncode == 0, checked.stderr
    assert PROVEN in checked.stdout
    again = _manage(url, "check_lists")
    assert again.returncode != 0, "a database it seeded already is refused"
    assert "run it on an empty database" in again.stderr


def test_x6_the_example_crm_shows_each_person_what_can_allows_on_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'crm.db'}")


@pytest.mark.postgresql
def test_x6_the_example_crm_shows_each_person_what_can_allows_on_postgresql(postgres_url: str) -> None:
    with throwaway_database(postgres_url, "ownership_example") as url:
        _check(url)


def test_the_django_guide_shows_the_example_s_own_code() -> None:
    """Every Python snippet of docs/django.md is found, as written, in a file of the example: the tested code."""
    files = "\n".join(p.read_text(encoding="utf-8") for p in EXAMPLE.rglob("*.py"))
    snippets = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert snippets, "the guide shows the example's code"
    for snippet in snippets:
        assert snippet.strip() in files, snippet
