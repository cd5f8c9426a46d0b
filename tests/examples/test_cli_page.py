"""docs/cli.md's sessions, replayed in a shell, print what the page says; the README's command lines run."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
_MARK = "@@@ownership-docs@@@"


def _sessions(text: str) -> list[tuple[str, list[str]]]:
    """Each ``$ command`` of the page's console blocks, with the lines it must print."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
    return steps


def _make_the_pages_database() -> None:
    """Run the page's Python, which makes crm.db in the working directory."""
    namespace: dict[str, object] = {}
    for snippet in re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.DOTALL):
        exec(compile(snippet, str(PAGE), "exec"), namespace)


def _environment() -> dict[str, str]:
    """This process's environment without ``OWNERSHIP_*``, with this Python's scripts first on the PATH."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OWNERSHIP_")}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    return environment


def test_the_cli_page_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = PAGE.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _make_the_pages_database()
    steps = _sessions(text)
    assert len(steps) >= 10, "the page's sessions were not found"
    # One shell for the page, so `export` carries on; each command's exit status survives the marker for `echo $?`.
    script = "".join(f"{command} 2>&1; __status=$?; echo {_MARK}; (exit $__status)\n" for command, _ in steps)
    environment = _environment()
    environment["COLUMNS"] = "200"
    ran = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    printed = ran.stdout.split(f"{_MARK}\n")
    assert ran.stderr == ""
    for (command, expected), got in zip(steps, printed, strict=False):
        assert got.splitlines() == expected, f"$ {command}"
    assert len(printed) == len(steps) + 1


def test_the_readmes_command_lines_run_on_the_cli_pages_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _make_the_pages_database()
    readme = (PAGE.parents[1] / "README.md").read_text(encoding="utf-8")
    lines = [
        line.split("  #")[0].strip()
        for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL)
        for line in block.splitlines()
        if line.startswith("ownership ")
    ]
    assert len(lines) >= 4, "the README shows the command"
    environment = _environment()
    for line in lines:
        ran = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60, check=False
        )
        # 1 is an answer (a finding, a refusal explained), not a failure; 2 would be the line not working.
        assert (ran.returncode in (0, 1), ran.stderr) == (True, ""), line
