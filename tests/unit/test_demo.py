"""The demo tells each seed's scenario, and every refusal it shows is a real one."""

import subprocess
import sys

from ownership import demo
from ownership.cli import main


def test_demo_tells_one_story_per_seed_system() -> None:
    lines: list[str] = []
    demo.play(lines.append)
    headings = [line for line in lines if line and not line.startswith(" ")]
    assert [h.split(" (")[0] for h in headings] == [
        "Account managers and responsible persons",
        "Colleagues on leads shared between companies",
        "Caretaker groups",
        "Contacts assigned to employees, competences or everyone",
    ]
    refused = [line.split(": refused (")[1].split(")")[0] for line in lines if ": refused (" in line]
    assert refused == [
        "MandatoryRoleError",
        "InactiveUserError",
        "FeatureDisabledError",
        "FeatureDisabledError",
        "UnknownUserError",
        "AssigneeKindError",
        "FeatureDisabledError",
    ]
    assert "  Northwind sees as colleague: Nora; Southpaw sees: Paul (LD7)." in lines
    assert "  Paul adds a task at Southpaw; told: Nils (by someone at the partner) (LD8, LD7)." in lines
    assert "  An incoming chat message reaches Lena by push, Weber by in_app (CT3)." in lines


def test_cli_demo_exits_zero_and_prints(capsys) -> None:
    assert main(["demo"]) == 0
    assert "Caretaker groups" in capsys.readouterr().out


def test_cli_stops_quietly_when_its_reader_goes_away() -> None:
    shell = f"{sys.executable} -m ownership demo | head -1"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("Account managers")
    assert "Traceback" not in done.stderr
