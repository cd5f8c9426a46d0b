"""Every example script, and every Python snippet of the README and of every docs page, runs as written."""

import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{script.name} printed nothing"


def test_quickstart_tells_the_tl2_story(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(ROOT / "examples" / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "responsible after creation: ['anna']" in out
    assert "responsible after hand-over: ['bob']" in out
    assert "refused: A deal must keep 1 responsible" in out


def test_readme_python_snippets_run_in_order() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    snippets = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert snippets, "the README has no Python snippet to prove"
    namespace: dict[str, object] = {}
    for snippet in snippets:
        exec(compile(snippet, "README.md", "exec"), namespace)


# A page whose snippets are excerpts of a project that runs elsewhere, each proven to be that project's code.
RUN_ELSEWHERE = {
    "django.md": "excerpts of examples/django_crm, which tests/with_django/test_example.py runs and matches",
}
DOC_PAGES = [
    p
    for p in sorted((ROOT / "docs").rglob("*.md"))
    if "```python" in p.read_text(encoding="utf-8") and p.name not in RUN_ELSEWHERE
]


@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_docs_python_snippets_run_in_order(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a page may keep a SQLite file in the working directory, as a reader's would
    snippets = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    namespace: dict[str, object] = {}
    for snippet in snippets:
        exec(compile(snippet, str(page), "exec"), namespace)


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks[:2] == ["pip install . && ownership demo\n", "pip install nox && nox\n"]
