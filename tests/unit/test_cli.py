"""The ``ownership`` command: each command's output and exit code, and every failure as one line (CG2-CG4, X1, X3, X5).

Most tests call `ownership.cli.main` in this process, on SQLite files built
here through the public API; a few run the installed command in a process of
its own, so the entry point and the exit codes are proven across the process
boundary. Exit codes: 0 done, 1 found or refused, 2 failed with one line
``ownership: <sentence>`` on standard error.
"""

import importlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from ownership import Assigned, Assignee, Ownership, Profile, RecordRef, Rulebook, Snapshot, Unassigned, presets
from ownership.adapters.sql import SqlRepository
from ownership.cli import FAILED, FOUND, ProgressBar, main
from ownership.clock import utcnow
from ownership.testing import FakeClock

ANNA, BOB, CARL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("carl")


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as a person's console does."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without ``OWNERSHIP_DB`` and ``OWNERSHIP_RULEBOOK``, whatever the shell running pytest set."""
    monkeypatch.delenv("OWNERSHIP_DB", raising=False)
    monkeypatch.delenv("OWNERSHIP_RULEBOOK", raising=False)


def sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


@contextmanager
def library(path: Path, rulebook: Rulebook, clock: Callable[[], datetime] = utcnow) -> Iterator[Ownership]:
    """An `Ownership` on the SQLite file `path` (made if missing), closed when the block ends."""
    repository = SqlRepository.from_url(sqlite(path))
    try:
        yield Ownership(rulebook, repository, clock=clock)
    finally:
        repository.close()


def state(path: Path) -> Snapshot:
    """Everything the database at `path` holds."""
    with library(path, Rulebook()) as own:
        return own.snapshot()


@pytest.fixture
def accounts(tmp_path: Path) -> Path:
    """Account managers: acme on plan go, and globex with nothing to fix (Gus and his deal g-1).

    At acme: Anna (deal d-1, company c-1), inactive Bob (still responsible for deal d-2), Carl with restricted
    deal access, Bea the admin, and a team no one is linked to.
    """
    path = tmp_path / "accounts.db"
    with library(path, presets.account_managers()) as own:
        own.add_tenant("acme", plan="go")
        own.add_user("acme", "Anna", id="anna")
        own.add_user("acme", "Bob", id="bob")
        own.add_user("acme", "Carl", id="carl", profile=Profile(restricted={"deal"}))
        own.add_user("acme", "Bea", id="bea", admin=True)
        own.add_group("acme", "Empty", "team", id="empty")
        own.create("deal", actor="anna", id="d-1")
        own.create("deal", actor="bob", id="d-2")
        own.create("company", actor="anna", id="c-1", holders={"account_manager": ANNA})
        own.update_user("bob", active=False)
        own.add_tenant("globex", plan="go")
        own.add_user("globex", "Gus", id="gus")
        own.create("deal", actor="gus", id="g-1")
    return path


@pytest.fixture
def caretakers(tmp_path: Path) -> Path:
    """Caretaker groups at acme: customer k-1 in no group, Dora whose cover in North ended in 2020, admin Bea."""
    path = tmp_path / "caretakers.db"
    with library(path, presets.caretaker_groups(), FakeClock(datetime(2020, 1, 1, tzinfo=timezone.utc))) as own:
        own.add_tenant("acme")
        own.add_user("acme", "Anna", id="anna", personal_caretaker_group=True)
        own.add_user("acme", "Dora", id="dora")
        own.add_user("acme", "Bea", id="bea", admin=True)
        own.add_group("acme", "North", "caretaker", id="north")
        own.add_member("north", "dora", until=datetime(2020, 2, 1, tzinfo=timezone.utc))
        own.create("customer", actor="bea", id="k-1")
    return path


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    """Account managers at acme with nothing to fix: Anna, responsible for deal d-1."""
    path = tmp_path / "clean.db"
    with library(path, presets.account_managers()) as own:
        own.add_tenant("acme", plan="go")
        own.add_user("acme", "Anna", id="anna")
        own.create("deal", actor="anna", id="d-1")
    return path


@pytest.fixture
def leads(tmp_path: Path) -> Path:
    """Lead L-1 of acme (Anna its colleague) forwarded to globex and accepted there by Paul (Petra his colleague)."""
    path = tmp_path / "leads.db"
    with library(path, presets.lead_exchange()) as own:
        own.add_tenant("acme")
        own.add_tenant("globex")
        own.add_user("acme", "Anna", id="anna")
        own.add_user("globex", "Paul", id="paul")
        own.add_user("globex", "Petra", id="petra")
        lead = own.create("lead", actor="anna", id="L-1")
        own.share(lead, "globex", actor="anna")
        own.accept(lead, actor="paul")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line `argv` in this process; return the exit code, standard output and standard error."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str, *, sentence: bool = True) -> str:
    """`err` is exactly one line ``ownership: <sentence>.``, without a traceback; return the sentence.

    Without `sentence`, the line may end otherwise (the storage's errors end with what the database said).
    """
    lines = err.splitlines()
    assert len(lines) == 1, f"not one line: {err!r}"
    assert err.endswith("\n")
    assert lines[0].startswith("ownership: "), lines[0]
    assert not sentence or lines[0].endswith("."), f"not a sentence: {lines[0]!r}"
    assert "Traceback" not in err
    return lines[0].removeprefix("ownership: ")


def cells(out: str) -> list[list[str]]:
    """The body of a printed table: its rows after the header and the rule, each as a list of stripped cells."""
    lines = out.splitlines()
    header = lines[0]
    starts = [i for i, c in enumerate(header) if c != " " and (i == 0 or header[i - 1] == " ")]
    ends = [*starts[1:], None]
    return [[line[a:b].strip() for a, b in zip(starts, ends, strict=True)] for line in lines[2:]]


# --- audit --------------------------------------------------------------------------------------------------


def test_cg2_cg3_cg4_x5_audit_prints_each_finding_as_a_table_and_exits_1(
    caretakers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "audit", "--db", str(caretakers), "--rulebook", "caretaker_groups")

    assert code == FOUND == 1
    assert out.splitlines()[0].split() == ["tenant", "finding", "subject", "message"]
    assert set(out.splitlines()[1]) == {"-", " "}
    assert cells(out) == [
        [
            "acme",
            "expired_deputy",
            "north/dora",
            "Dora's cover in group 'North' ended 2020-02-01 00:00; remove the membership.",
        ],
        ["acme", "group_without_members", "north", "No one is linked to group 'North'."],
        ["acme", "no_caretaker_group", "dora", "Dora is in no caretaker group."],
        [
            "acme",
            "unseen_record",
            "customer k-1",
            "No non-admin of 'acme' can see customer k-1; assign it to someone.",
        ],
    ]
    assert err == ""


def test_x3_cg4_audit_finds_a_mandatory_role_held_by_an_inactive_user_and_an_empty_group(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", str(accounts), "--rulebook", "account_managers", "audit")

    assert code == FOUND
    assert cells(out) == [
        ["acme", "group_without_members", "empty", "No one is linked to group 'Empty'."],
        [
            "acme",
            "inactive_holder",
            "deal d-2",
            "The responsible of deal d-2 is Bob, who is inactive; hand it to someone active.",
        ],
    ]


def test_audit_of_a_clean_database_says_there_is_nothing_to_fix_and_exits_0(
    clean: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "audit", "--db", str(clean), "--rulebook", "account_managers") == (
        0,
        "Nothing to fix in 1 tenant.\n",
        "",
    )


def test_audit_json_is_a_list_of_objects_with_tenant_finding_subject_and_message(
    caretakers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--json", "audit", "--db", str(caretakers), "--rulebook", "caretaker_groups")

    found = json.loads(out)
    assert code == FOUND
    assert [set(f) for f in found] == [{"tenant", "finding", "subject", "message"}] * 4
    assert [(f["finding"], f["subject"]) for f in found] == [
        ("expired_deputy", "north/dora"),
        ("group_without_members", "north"),
        ("no_caretaker_group", "dora"),
        ("unseen_record", "customer k-1"),
    ]


def test_audit_json_of_a_clean_database_is_an_empty_list(clean: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "--json", "--db", str(clean), "--rulebook", "account_managers")

    assert (code, json.loads(out)) == (0, [])


def test_audit_of_named_tenants_looks_at_those_alone(accounts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options = ("--db", str(accounts), "--rulebook", "account_managers", "--json")

    everyone = run(capsys, "audit", *options)
    acme = run(capsys, "audit", "acme", *options)
    globex = run(capsys, "audit", "globex", *options)
    both = run(capsys, "audit", "globex", "acme", *options)

    assert everyone[0] == acme[0] == both[0] == FOUND
    assert {f["tenant"] for f in json.loads(everyone[1])} == {"acme"}
    assert json.loads(acme[1]) == json.loads(everyone[1]) == json.loads(both[1])
    assert globex[:2] == (0, "[]\n")
    assert run(capsys, "audit", "globex", "--db", str(accounts), "--rulebook", "account_managers") == (
        0,
        "Nothing to fix in 1 tenant.\n",
        "",
    )


def test_audit_of_an_unknown_tenant_fails_in_one_line(accounts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "nowhere", "--db", str(accounts), "--rulebook", "account_managers")

    assert (code, out) == (FAILED, "")
    assert "'nowhere'" in assert_one_line(err)


# --- transfer (X3) ------------------------------------------------------------------------------------------


def test_x3_transfer_moves_every_holding_to_the_successor(accounts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "transfer",
        "--from",
        "anna",
        "--to",
        "carl",
        "--actor",
        "bea",
        "--db",
        str(accounts),
        "--rulebook",
        "account_managers",
    )

    assert (code, out, err) == (0, "Anna gave up 2 holdings to Carl.\n", "")
    with library(accounts, presets.account_managers()) as own:
        assert own.holders(own.record("deal", "d-1"), "responsible") == (CARL,)
        assert own.holders(own.record("company", "c-1"), "account_manager") == (CARL,)
        assert own.holders(own.record("deal", "d-2"), "responsible") == (BOB,)
        moves = [e for e in own.history(own.record("deal", "d-1")) if isinstance(e, Assigned | Unassigned)][-2:]
        assert [(type(e), e.assignee, e.actor) for e in moves] == [(Unassigned, ANNA, "bea"), (Assigned, CARL, "bea")]


def test_x3_transfer_of_an_inactive_users_holdings_by_the_script_clears_the_audit(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ("--db", str(accounts), "--rulebook", "account_managers")

    code, out, _ = run(capsys, "--json", "transfer", "--from", "bob", "--to", "anna", *options)

    assert code == 0
    assert json.loads(out) == {"from": "bob", "to": "anna", "moved": 1}
    assert run(capsys, "audit", *options)[1].count("inactive_holder") == 0


def test_x3_transfer_by_a_non_admin_is_refused_in_one_line_and_changes_nothing(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state(accounts)

    code, out, err = run(
        capsys,
        "transfer",
        "--from",
        "anna",
        "--to",
        "carl",
        "--actor",
        "carl",
        "--db",
        str(accounts),
        "--rulebook",
        "account_managers",
    )

    assert (code, out) == (FAILED, "")
    assert assert_one_line(err) == "Carl may not hand over Anna's holdings; only an admin of 'acme' may."
    assert state(accounts) == before


def test_x3_transfer_to_an_unknown_user_fails_in_one_line_and_changes_nothing(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state(accounts)

    code, _, err = run(
        capsys, "transfer", "--from", "anna", "--to", "zoe", "--db", str(accounts), "--rulebook", "account_managers"
    )

    assert code == FAILED
    assert "'zoe'" in assert_one_line(err)
    assert state(accounts) == before


# --- holders ------------------------------------------------------------------------------------------------


def test_holders_lists_the_roles_the_tenant_has_and_skips_those_it_has_not_switched_on(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ("--db", str(accounts), "--rulebook", "account_managers")

    code, out, err = run(capsys, "holders", "deal:d-1", *options)

    assert (code, err) == (0, "")
    assert cells(out) == [["responsible", "user", "anna", "Anna"]]  # second_responsible needs a switch (TL5)
    assert run(capsys, "holders", "deal:d-1", "--json", *options)[1] == (
        json.dumps([{"role": "responsible", "kind": "user", "id": "anna", "name": "Anna"}], indent=2) + "\n"
    )


def test_tl5_holders_lists_the_second_role_once_the_tenant_switches_it_on(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with library(accounts, presets.account_managers()) as own:
        own.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
        own.assign(own.record("deal", "d-1"), "second_responsible", CARL, actor="anna")

    code, out, _ = run(capsys, "holders", "deal:d-1", "--db", str(accounts), "--rulebook", "account_managers")

    assert code == 0
    assert cells(out) == [["responsible", "user", "anna", "Anna"], ["second_responsible", "user", "carl", "Carl"]]


def test_holders_of_a_role_without_holders_prints_nothing(accounts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with library(accounts, presets.account_managers()) as own:
        own.create("company", actor="anna", id="c-2")

    assert run(capsys, "holders", "company:c-2", "--db", str(accounts), "--rulebook", "account_managers") == (0, "", "")


def test_holders_of_one_role_the_tenant_has_not_switched_on_fails_in_one_line(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "holders",
        "deal:d-1",
        "--role",
        "second_responsible",
        "--db",
        str(accounts),
        "--rulebook",
        "account_managers",
    )

    assert (code, out) == (FAILED, "")
    assert "second_responsible" in assert_one_line(err)


def test_ld7_holders_with_a_viewer_shows_the_viewers_tenants_private_colleague(
    leads: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ("--db", str(leads), "--rulebook", "lead_exchange")

    unsaid = run(capsys, "holders", "lead:L-1", *options)
    home = run(capsys, "holders", "lead:L-1", "--tenant", "acme", *options)
    partner = run(capsys, "holders", "lead:L-1", "--viewer", "petra", *options)
    principal = run(capsys, "holders", "lead:L-1", "--viewer", "anna", *options)

    assert unsaid[:2] == (FAILED, "")
    assert "differ between the tenants" in assert_one_line(unsaid[2])

    assert cells(home[1]) == cells(principal[1]) == [["colleague", "user", "anna", "Anna"]]
    assert cells(partner[1]) == [["colleague", "user", "paul", "Paul"]]
    assert "Paul" not in home[1]
    assert "Anna" not in partner[1]


# --- explain (X1) -------------------------------------------------------------------------------------------


def test_x1_explain_of_an_allowed_action_exits_0_and_prints_the_rule_and_the_reasons(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "explain", "anna", "deal:d-1", "--db", str(accounts), "--rulebook", "account_managers")

    assert code == 0
    assert out.splitlines() == [
        "anna may view deal d-1",
        "  rule: is_admin | ~restricted('deal') | holds('responsible', 'second_responsible')",
        "  active: yes (Anna is active)",
        "  tenant takes part: yes (deal d-1 is held in or shared with 'acme')",
        "  is_admin: no (Anna is not an admin)",
        "  ~restricted('deal'): yes (Anna's access to deal records is not restricted)",
        "  holds('responsible', 'second_responsible'): yes (Anna holds it (directly))",
    ]


def test_x1_tl4_explain_of_a_refused_action_exits_1_and_says_why(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "explain", "carl", "deal:d-1", "--db", str(accounts), "--rulebook", "account_managers")

    assert (code, err) == (FOUND, "")
    assert out.splitlines()[0] == "carl may not view deal d-1"
    assert "  ~restricted('deal'): no (Carl's access to deal records is restricted)" in out.splitlines()


def test_x1_explain_json_gives_allowed_rule_and_reasons(accounts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options = ("--db", str(accounts), "--rulebook", "account_managers", "--json")

    refused = run(capsys, "explain", "carl", "deal:d-1", "--action", "edit", *options)
    allowed = run(capsys, "explain", "bea", "deal:d-1", "--action", "edit", *options)

    assert (refused[0], allowed[0]) == (FOUND, 0)
    no, yes = json.loads(refused[1]), json.loads(allowed[1])
    assert set(no) == set(yes) == {"allowed", "rule", "reasons"}
    assert (no["allowed"], yes["allowed"]) == (False, True)
    assert {"leaf": "is_admin", "matched": True, "because": "Bea is an admin"} in yes["reasons"]
    assert all(set(r) == {"leaf", "matched", "because"} for r in no["reasons"])


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["explain", "zoe", "deal:d-1"], "'zoe'"),
        (["explain", "anna", "deal:d-9"], "'d-9'"),
        (["explain", "anna", "deal:d-1", "--action", "fly"], "'fly'"),
        (["holders", "lead:d-1"], "lead"),
        (["holders", "deal:d-1", "--viewer", "zoe"], "'zoe'"),
    ],
    ids=["unknown user", "unknown record", "unknown action", "unknown kind", "unknown viewer"],
)
def test_explain_and_holders_of_something_unknown_fail_in_one_line(
    accounts: Path, capsys: pytest.CaptureFixture[str], argv: list[str], names: str
) -> None:
    code, out, err = run(capsys, *argv, "--db", str(accounts), "--rulebook", "account_managers")

    assert (code, out) == (FAILED, "")
    assert names in assert_one_line(err)


# --- who-can ------------------------------------------------------------------------------------------------


def test_who_can_lists_each_user_the_rule_lets_with_the_leaves_that_let_them(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "who-can", "deal:d-1", "--db", str(accounts), "--rulebook", "account_managers")

    assert (code, err) == (0, "")
    assert cells(out) == [
        [
            "anna",
            "acme",
            "Anna",
            "~restricted('deal'): Anna's access to deal records is not restricted; "
            "holds('responsible', 'second_responsible'): Anna holds it (directly)",
        ],
        [
            "bea",
            "acme",
            "Bea",
            "is_admin: Bea is an admin; ~restricted('deal'): Bea's access to deal records is not restricted",
        ],
    ]


@pytest.mark.parametrize("action", ["view", "edit", "assign"])
def test_who_can_json_lists_exactly_the_users_explain_allows(
    accounts: Path, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    """Check and list agree on the command line too: who-can names the users explain says yes to, and no one else."""
    options = ("--db", str(accounts), "--rulebook", "account_managers", "--action", action)

    code, out, _ = run(capsys, "--json", "who-can", "deal:d-1", *options)
    listed = json.loads(out)
    allowed = {
        user for user in ("anna", "bob", "carl", "bea") if run(capsys, "explain", user, "deal:d-1", *options)[0] == 0
    }

    assert code == 0
    assert [entry["user"]["id"] for entry in listed] == sorted(allowed) == ["anna", "bea"]
    assert all(reason["matched"] for entry in listed for reason in entry["reasons"])
    assert {"leaf": "is_admin", "matched": True, "because": "Bea is an admin"} in listed[1]["reasons"]


def test_who_can_by_a_viewer_or_for_a_tenant_lists_that_tenants_people_alone_to_one_who_may_view_it(
    accounts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ("--db", str(accounts), "--rulebook", "account_managers")

    for_globex = run(capsys, "who-can", "deal:g-1", "--tenant", "globex", *options)
    by_gus = run(capsys, "who-can", "deal:g-1", "--viewer", "gus", *options)
    code, out, err = run(capsys, "who-can", "deal:d-1", "--viewer", "carl", *options)
    foreign = run(capsys, "who-can", "deal:d-1", "--viewer", "gus", *options)

    assert (for_globex[0], by_gus[0]) == (0, 0)
    assert (
        [row[:3] for row in cells(for_globex[1])] == [row[:3] for row in cells(by_gus[1])] == [["gus", "globex", "Gus"]]
    )
    assert (code, out) == (FAILED, "")
    assert assert_one_line(err) == "Carl may not view deal d-1, so may not ask who may view it."
    assert foreign[:2] == (FAILED, "")
    assert "'globex'" in assert_one_line(foreign[2])


def test_who_can_says_so_when_no_one_may(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A customer in no caretaker group, and no admin: the rule lets no one, and that is an answer, not a failure."""
    path = tmp_path / "caretakers.db"
    with library(path, presets.caretaker_groups()) as own:
        own.add_tenant("acme")
        own.add_user("acme", "Dora", id="dora")
        own.create("customer", actor=None, tenant="acme", id="k-1")
    options = ("--db", str(path), "--rulebook", "caretaker_groups")

    said = run(capsys, "who-can", "customer:k-1", *options)
    printed = run(capsys, "--json", "who-can", "customer:k-1", *options)

    assert said == (0, "No one may view customer k-1.\n", "")
    assert (printed[0], json.loads(printed[1])) == (0, [])


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["who-can", "deal:d-9"], "'d-9'"),
        (["who-can", "deal:d-1", "--action", "fly"], "'fly'"),
        (["who-can", "deal:d-1", "--viewer", "zoe"], "'zoe'"),
        (["who-can", "deal:d-1", "--tenant", "nowhere"], "'nowhere'"),
        (["who-can", "d-1"], "KIND:ID"),
    ],
    ids=["unknown record", "unknown action", "unknown viewer", "unknown tenant", "no kind"],
)
def test_who_can_of_something_unknown_fails_in_one_line(
    accounts: Path, capsys: pytest.CaptureFixture[str], argv: list[str], names: str
) -> None:
    code, out, err = run(capsys, *argv, "--db", str(accounts), "--rulebook", "account_managers")

    assert (code, out) == (FAILED, "")
    assert names in assert_one_line(err)


# --- grant, revoke, grants ----------------------------------------------------------------------------------


GRANTING_RULES = '''\
"""A host's rulebook whose deals are seen by their owner, an admin, and those they are granted to."""

from ownership import Access, Policy, Role, Rulebook
from ownership.access import granted, holds, is_admin

RULES = Rulebook(
    (
        Policy(
            "deal",
            (Role("owner", min=1, grants_access=True),),
            access=Access(
                view=is_admin | holds("owner") | granted("view"), edit=is_admin | holds("owner") | granted("edit")
            ),
        ),
    )
)
'''


@pytest.fixture
def granting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, tuple[str, ...]]:
    """Deal d-1 of acme, owned by Anna; Bob and Carl (in team sales) see it only if granted; Gus is of globex.

    Returns the database and the options that name it and the host's rulebook, loaded from the working directory.
    """
    (tmp_path / "granting_rules_for_cli.py").write_text(GRANTING_RULES, encoding="utf-8")
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(sys.modules, "granting_rules_for_cli", raising=False)
    rules = importlib.import_module("granting_rules_for_cli").RULES
    path = tmp_path / "granting.db"
    with library(path, rules) as own:
        own.add_tenant("acme")
        for name in ("anna", "bob", "carl"):
            own.add_user("acme", name.title(), id=name)
        own.add_group("acme", "Sales", "team", id="sales")
        own.add_member("sales", "carl")
        own.create("deal", actor="anna", id="d-1", holders={"owner": ANNA})
        own.add_tenant("globex")
        own.add_user("globex", "Gus", id="gus")
    return path, ("--db", str(path), "--rulebook", "granting_rules_for_cli:RULES")


def test_grant_shares_a_record_that_who_can_explain_and_grants_then_see(
    granting: tuple[Path, tuple[str, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, options = granting

    shared = run(capsys, "grant", "deal:d-1", "--to", "user:bob", "--actor", "anna", *options)
    to_team = run(
        capsys, "grant", "deal:d-1", "--to", "group:sales", "--level", "edit", "--until", "2999-01-01T00:00Z", *options
    )
    code, out, _ = run(capsys, "grants", "deal:d-1", *options)

    assert shared == (0, "deal d-1 is shared with user bob to view.\n", "")
    assert to_team == (0, "deal d-1 is shared with group sales to edit until 2999-01-01 00:00 UTC.\n", "")
    assert code == 0
    assert cells(out) == [
        ["group", "sales", "acme", "edit", "2999-01-01 00:00 UTC"],
        ["user", "bob", "acme", "view", "never"],
    ]
    assert run(capsys, "explain", "bob", "deal:d-1", *options)[0] == 0
    assert run(capsys, "explain", "bob", "deal:d-1", "--action", "edit", *options)[0] == FOUND
    assert [row[0] for row in cells(run(capsys, "who-can", "deal:d-1", "--action", "edit", *options)[1])] == [
        "anna",
        "carl",
    ]


def test_grant_and_grants_json_give_each_grant_whole(
    granting: tuple[Path, tuple[str, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, options = granting

    code, out, _ = run(
        capsys, "--json", "grant", "deal:d-1", "--to", "user:bob", "--until", "2999-01-01T01:00+01:00", *options
    )
    listed = json.loads(run(capsys, "--json", "grants", "deal:d-1", "--viewer", "bob", *options)[1])

    assert code == 0
    grant = json.loads(out)
    assert listed == [grant]
    assert {key: grant[key] for key in ("record", "assignee", "level", "tenant", "actor")} == {
        "record": {"kind": "deal", "id": "d-1"},
        "assignee": {"kind": "user", "id": "bob"},
        "level": "view",
        "tenant": "acme",
        "actor": None,
    }
    assert datetime.fromisoformat(grant["until"]) == datetime(2999, 1, 1, tzinfo=timezone.utc)


def test_revoke_takes_the_grant_back_and_a_second_revoke_is_refused_changing_nothing(
    granting: tuple[Path, tuple[str, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, options = granting
    run(capsys, "grant", "deal:d-1", "--to", "user:bob", *options)

    revoked = run(capsys, "revoke", "deal:d-1", "--to", "user:bob", "--actor", "anna", *options)
    listed = run(capsys, "grants", "deal:d-1", *options)
    before = state(path)
    again = run(capsys, "revoke", "deal:d-1", "--to", "user:bob", *options)

    assert revoked == (0, "deal d-1 is no longer shared with user bob.\n", "")
    assert listed == (0, "deal d-1 is granted to no one.\n", "")
    assert run(capsys, "explain", "bob", "deal:d-1", *options)[0] == FOUND
    assert again[:2] == (FAILED, "")
    assert assert_one_line(again[2]) == "deal d-1 is not granted to user bob; there is nothing to revoke."
    assert state(path) == before


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--to", "bob"], "Name whom as user:ID or group:ID, e.g. user:anna; 'bob' is not."),
        (["--to", "everyone:x"], "Name whom as user:ID or group:ID"),
        (["--to", "user:bob", "--actor", "carl"], "Carl may not"),
        (["--to", "user:gus"], "not shared with tenant 'globex'"),
        (["--to", "user:bob", "--until", "2001-01-01T00:00Z"], "until takes a moment to come"),
    ],
    ids=["no kind", "everyone", "an actor who may not assign it", "another tenant's user", "an end gone by"],
)
def test_a_grant_refused_says_why_in_one_line_and_changes_nothing(
    granting: tuple[Path, tuple[str, ...]], capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    path, options = granting
    before = state(path)

    code, out, err = run(capsys, "grant", "deal:d-1", *argv, *options)

    assert (code, out) == (FAILED, "")
    assert says in assert_one_line(err)
    assert state(path) == before


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["--until", "2999-01-01"],
            "give a moment with its offset from UTC, e.g. 2030-01-01T00:00+00:00, not '2999-01-01'",
        ),
        (["--until", "9999-12-31T23:59:59-01:00"], "not '9999-12-31T23:59:59-01:00'"),
        (["--until", "0001-01-01T00:00+00:01"], "not '0001-01-01T00:00+00:01'"),
        (["--until", "soon"], "not 'soon'"),
        (["--level", "own"], "invalid choice: 'own'"),
    ],
    ids=["no offset", "after 9999 in UTC", "before year 1 in UTC", "no moment", "no level"],
)
def test_a_grant_given_a_bad_option_is_a_usage_error_in_one_line(
    granting: tuple[Path, tuple[str, ...]], capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    _, options = granting

    with pytest.raises(SystemExit) as stopped:
        main(["grant", "deal:d-1", "--to", "user:bob", *argv, *options])

    assert stopped.value.code == FAILED
    assert says in assert_one_line(capsys.readouterr().err, sentence=False)


def test_a_grant_under_rules_that_read_no_grant_is_refused_naming_what_to_add(
    clean: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state(clean)

    code, _, err = run(
        capsys, "grant", "deal:d-1", "--to", "user:anna", "--db", str(clean), "--rulebook", "account_managers"
    )

    assert code == FAILED
    assert "add granted('view') to it." in assert_one_line(err)
    assert state(clean) == before


# --- export and import --------------------------------------------------------------------------------------


def test_x8_export_then_import_into_a_new_file_gives_the_same_export_byte_for_byte(
    accounts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported, copy = tmp_path / "acme.json", tmp_path / "copy.db"

    code, printed, _ = run(capsys, "export", "--db", str(accounts))
    assert run(capsys, "export", "-o", str(exported), "--db", str(accounts)) == (0, "", "")
    imported = run(capsys, "import", str(exported), "--db", str(copy))
    again = run(capsys, "--db", str(copy), "export")

    assert code == 0
    assert exported.read_text(encoding="utf-8") == printed
    assert imported == (0, "Imported 2 tenants, 5 users, 4 records.\n", "")  # no bar: stderr is no terminal
    assert again == (0, printed, "")
    assert state(copy) == state(accounts)
    assert json.loads(printed)["tenants"][0]["id"] == "acme"


def test_x8_import_reads_standard_input_given_as_a_dash(
    accounts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    printed = run(capsys, "export", "--db", str(accounts))[1]
    monkeypatch.setattr(sys, "stdin", io.StringIO(printed))

    code, out, _ = run(capsys, "--json", "import", "-", "--db", str(tmp_path / "copy.db"))

    assert (code, json.loads(out)) == (0, {"tenants": 2, "users": 5, "records": 4})
    assert state(tmp_path / "copy.db") == state(accounts)


def test_import_into_a_database_holding_a_tenant_is_refused_in_one_line_and_changes_nothing(
    accounts: Path, clean: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = tmp_path / "acme.json"
    run(capsys, "export", "-o", str(exported), "--db", str(accounts))
    before = state(clean)

    code, out, err = run(capsys, "import", str(exported), "--db", str(clean))

    assert (code, out) == (FAILED, "")
    assert assert_one_line(err) == "The repository already holds tenant 'acme'; restore into an empty one."
    assert state(clean) == before


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("tenants: [acme]\n", "is not JSON"),
        ("", "is not JSON"),
        ('{"tenants": []}', "is not an export of ownership"),
        ("[1, 2, 3]", "is not an export of ownership"),
        ("null", "is not an export of ownership"),
        (
            '{"tenants": [{"id": "acme"}], "users": [], "groups": [], "memberships": [], "records": [],'
            ' "assignments": [], "events": []}',
            "is not an export of ownership",
        ),
    ],
    ids=["yaml", "empty", "missing fields", "a list", "null", "a tenant without a name"],
)
def test_import_of_something_that_is_not_an_export_fails_in_one_line_and_makes_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str
) -> None:
    given, target = tmp_path / "given.json", tmp_path / "copy.db"
    given.write_text(text, encoding="utf-8")

    code, out, err = run(capsys, "import", str(given), "--db", str(target))

    assert (code, out) == (FAILED, "")
    assert says in assert_one_line(err)
    assert not target.exists()


def test_import_of_a_missing_file_fails_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "import", str(tmp_path / "gone.json"), "--db", str(tmp_path / "copy.db"))

    assert code == FAILED
    assert assert_one_line(err).startswith(f"Cannot read {str(tmp_path / 'gone.json')!r}")
    assert not (tmp_path / "copy.db").exists()


def test_import_of_an_export_missing_what_it_refers_to_fails_in_one_line_and_imports_nothing(
    accounts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(run(capsys, "export", "--db", str(accounts))[1])
    data["users"] = [u for u in data["users"] if u["id"] != "anna"]  # Anna still holds d-1 and c-1
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data), encoding="utf-8")

    code, _, err = run(capsys, "import", str(edited), "--db", str(tmp_path / "copy.db"))

    assert code == FAILED
    assert assert_one_line(err).startswith("The snapshot does not hold the ")
    assert state(tmp_path / "copy.db").tenants == ()


def _edited(data: dict[str, Any], part: str, index: int, **fields: object) -> dict[str, Any]:
    """The export `data` with entry `index` of `part` given other `fields`."""
    entries = [dict(entry) for entry in data[part]]
    entries[index].update(fields)
    return {**data, part: entries}


def _lead_group(data: dict[str, Any]) -> dict[str, Any]:
    """The export with a team 'sales' of acme, and Paul of globex in it."""
    sales = {"id": "sales", "tenant": "acme", "name": "Sales", "kind": "team", "personal_of": None}
    paul = {"group": "sales", "user": "paul", "until": None}
    return {**data, "groups": [*data["groups"], sales], "memberships": [*data["memberships"], paul]}


@pytest.mark.parametrize(
    ("edit", "sentence"),
    [
        (
            lambda d: _edited(d, "users", 0, admin="false"),
            "users[0].admin must be true or false, not 'false'.",
        ),
        (
            lambda d: _edited(d, "users", 1, active="no"),
            "users[1].active must be true or false, not 'no'.",
        ),
        (
            lambda d: _edited(d, "users", 0, profile={"restricted": "deal", "push": False}),
            "users[0].profile.restricted must be a list, not 'deal'.",
        ),
        (
            lambda d: _edited(d, "records", 0, created_at="2026-01-01T09:00:00"),
            "records[0].created_at must name its time zone, like '2026-01-31T09:30:00+00:00', "
            "not '2026-01-01T09:00:00'.",
        ),
        (
            _lead_group,
            "The snapshot puts user 'paul' of tenant 'globex' in group 'sales' of another tenant; "
            "export the whole state again.",
        ),
    ],
    ids=["admin", "active", "restricted", "naive moment", "cross-tenant membership"],
)
def test_import_of_an_edited_export_is_refused_naming_the_entry_and_changes_nothing(
    leads: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, sentence: str
) -> None:
    data = json.loads(run(capsys, "export", "--db", str(leads))[1])
    edited, target = tmp_path / "edited.json", tmp_path / "empty.db"
    edited.write_text(json.dumps(edit(data)), encoding="utf-8")
    before = state(target)

    code, out, err = run(capsys, "import", str(edited), "--db", str(target))

    assert (code, out) == (FAILED, "")
    said = assert_one_line(err)
    assert said.endswith(sentence), said
    assert state(target) == before


def test_import_into_a_database_that_cannot_be_made_fails_in_one_line(
    accounts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = tmp_path / "acme.json"
    run(capsys, "export", "-o", str(exported), "--db", str(accounts))

    code, out, err = run(capsys, "import", str(exported), "--db", str(tmp_path / "no" / "such" / "copy.db"))

    assert (code, out) == (FAILED, "")
    assert assert_one_line(err, sentence=False).startswith("The database could not be reached")


def test_export_to_a_file_that_cannot_be_written_fails_in_one_line(
    accounts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "export", "-o", str(tmp_path / "no" / "such" / "dir.json"), "--db", str(accounts))

    assert code == FAILED
    assert assert_one_line(err).startswith("Cannot write ")


# --- reconcile-users ----------------------------------------------------------------------------------------


def test_x8_reconcile_users_json_says_how_each_user_changed_and_needs_no_rulebook(
    accounts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = tmp_path / "people.json"
    people.write_text(json.dumps([{"id": "carl", "name": "Carl", "groups": ["empty"], "profile": {}}]))

    code, out, _ = run(
        capsys, "--json", "reconcile-users", str(people), "--tenant", "acme", "--partial", "--db", str(accounts)
    )

    assert code == FOUND
    [changed] = json.loads(out)["changed"]
    assert (changed["id"], changed["profile"], changed["joined"]) == ("carl", True, ["empty"])
    with library(accounts, Rulebook()) as own:
        assert [g.id for g in own.groups_of("carl")] == ["empty"]
        assert own.user("anna").active, "--partial touches no one the rows leave out"


@pytest.mark.parametrize(
    ("people", "said"),
    [
        ('[{"id": "anna"}]', "is not a list of people like"),
        ("[{", "is not JSON"),
        ('[{"id": "anna", "name": "Anna", "groups": ["nowhere"]}]', "'nowhere'"),
        ('[{"id": "gus", "name": "Gus"}]', "tenant 'globex'"),
        ('[{"id": "anna", "name": "A"}, {"id": "anna", "name": "B"}]', "more than once"),
    ],
)
def test_x8_reconcile_users_of_rows_that_break_a_rule_fails_in_one_line_and_changes_nothing(
    accounts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], people: str, said: str
) -> None:
    before = state(accounts)
    (tmp_path / "people.json").write_text(people)

    code, _, err = run(
        capsys, "reconcile-users", str(tmp_path / "people.json"), "--tenant", "acme", "--db", str(accounts)
    )

    assert code == FAILED
    assert said in assert_one_line(err, sentence=False)
    assert state(accounts) == before


# --- dispatch -----------------------------------------------------------------------------------------------

HOST_NOTIFIER = '''\
"""A host's notifiers: each appends the keys it delivers, a line each, to delivered.txt beside this file."""

import signal
import time
from pathlib import Path

HERE = Path(__file__).parent


def _write(name, keys):
    with (HERE / name).open("a", encoding="utf-8") as file:
        file.writelines(f"{key}\\n" for key in keys)


class FileNotifier:
    def __init__(self, pause=0.0):
        self.pause = pause

    def deliver(self, notifications):
        _write("batches.txt", [len(notifications)])
        time.sleep(self.pause)
        _write("delivered.txt", [n.key for n in notifications])


class PickyNotifier:
    """Refuses the notifications about deal d-2."""

    def deliver(self, notifications):
        _write("delivered.txt", [n.key for n in notifications if n.record.id != "d-2"])
        return [n.key for n in notifications if n.record.id == "d-2"]


class SignallingNotifier:
    """Delivers its batch, and on the way sends the signal named in signal.txt to its own process."""

    def deliver(self, notifications):
        signal.raise_signal(getattr(signal, (HERE / "signal.txt").read_text(encoding="utf-8")))
        _write("delivered.txt", [n.key for n in notifications])


NOTIFIER = FileNotifier()


def file_notifier():
    return FileNotifier()


def slow_notifier():
    return FileNotifier(pause=2.0)
'''

PENDING = tuple(f"deal/d-{n}/2/anna" for n in range(1, 6))
"""The keys of the notifications `outbox` leaves pending, oldest first."""


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    """Account managers at acme: Anna responsible for deals d-1 to d-5, each with a note the host added (X7).

    The outbox holds one pending notification a deal, for Anna: the keys of `PENDING`.
    """
    path = tmp_path / "outbox.db"
    with library(path, presets.account_managers()) as own:
        own.add_tenant("acme", plan="go")
        own.add_user("acme", "Anna", id="anna")
        for n in range(1, 6):
            own.create("deal", actor="anna", id=f"d-{n}")
            own.record_activity(RecordRef("deal", f"d-{n}"), "note_added", actor=None)
    return path


@pytest.fixture
def host_notifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The module ``host_notifier_for_cli`` (`HOST_NOTIFIER`) in `tmp_path`, importable; yield its delivered.txt."""
    (tmp_path / "host_notifier_for_cli.py").write_text(HOST_NOTIFIER, encoding="utf-8")
    monkeypatch.syspath_prepend(tmp_path)
    sys.modules.pop("host_notifier_for_cli", None)  # each test's module writes beside itself, in its own tmp_path
    yield tmp_path / "delivered.txt"
    sys.modules.pop("host_notifier_for_cli", None)


def delivered(file: Path) -> list[str]:
    """The keys the host's notifier wrote to `file`, in the order it delivered them."""
    return file.read_text(encoding="utf-8").splitlines() if file.exists() else []


def pending(path: Path) -> list[str]:
    """The keys of the outbox at `path` still pending."""
    return [entry.notification.key for entry in state(path).outbox if not entry.delivered]


@pytest.mark.parametrize(
    "name", ["NOTIFIER", "FileNotifier", "file_notifier"], ids=["a Notifier", "a class", "a function returning one"]
)
def test_x7_dispatch_delivers_every_pending_notification_once_and_exits_0(
    outbox: Path, host_notifier: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    options = ("--db", str(outbox), "--rulebook", "account_managers", "--notifier", f"host_notifier_for_cli:{name}")

    first = run(capsys, "dispatch", *options, "--limit", "2")
    again = run(capsys, "dispatch", *options)

    assert first == (0, "Delivered 5 notifications; 0 left pending.\n", "")
    assert again == (0, "Delivered 0 notifications; 0 left pending.\n", "")
    assert delivered(host_notifier) == list(PENDING)
    assert (host_notifier.parent / "batches.txt").read_text(encoding="utf-8").split() == ["2", "2", "1"]
    assert pending(outbox) == []


def test_x7_dispatch_json_counts_what_was_delivered_and_what_is_left(
    outbox: Path, host_notifier: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "dispatch",
        "--json",
        "--db",
        str(outbox),
        "--rulebook",
        "account_managers",
        "--notifier",
        "host_notifier_for_cli:NOTIFIER",
    )

    assert (code, err) == (0, "")
    assert json.loads(out) == {"delivered": 5, "pending": 0, "refused": []}


def test_x7_dispatch_stops_when_the_notifier_refuses_a_key_again_and_exits_1(
    outbox: Path, host_notifier: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = (
        "--db",
        str(outbox),
        "--rulebook",
        "account_managers",
        "--notifier",
        "host_notifier_for_cli:PickyNotifier",
    )

    code, out, _ = run(capsys, "dispatch", *options)
    as_json = run(capsys, "dispatch", "--json", *options)

    assert (code, out) == (FOUND, "Delivered 4 notifications; 1 left pending, 1 of them refused by the notifier.\n")
    assert as_json[0] == FOUND  # still pending: waiting out its backoff, or refused again if that had passed
    assert json.loads(as_json[1])["delivered"] == 0
    assert json.loads(as_json[1])["pending"] == 1
    assert json.loads(as_json[1])["refused"] in ([], ["deal/d-2/2/anna"])
    assert delivered(host_notifier) == [key for key in PENDING if "/d-2/" not in key]
    [left] = [entry for entry in state(outbox).outbox if not entry.delivered]
    assert left.notification.key == "deal/d-2/2/anna"
    assert 1 <= left.attempts <= 4  # each run hands a refused key over at most twice: it does not go round for ever


@pytest.mark.parametrize(
    ("notifier", "says"),
    [
        ("sys:exit", "Cannot load the notifier 'sys:exit' (SystemExit"),
        ("os:sep", "--notifier os:sep is a str, not a Notifier (with a deliver method) or a function returning one."),
        ("builtins:object", "--notifier builtins:object is an object, not a Notifier"),
        ("no_such_module_here:notifier", "Cannot load the notifier 'no_such_module_here:notifier' (ModuleNotFound"),
        ("ownership.notify:no_such_name", "Cannot load the notifier 'ownership.notify:no_such_name' (AttributeError"),
        ("ownership.notify:Notifier", "Cannot load the notifier 'ownership.notify:Notifier' (TypeError"),
        (
            "ownership.notify",
            "Give --notifier as package.module:name of the host's Notifier; 'ownership.notify' is not.",
        ),
    ],
    ids=["a function that exits", "a string", "an object", "no module", "no name", "the protocol", "no name given"],
)
def test_a_notifier_that_is_not_one_is_refused_in_one_line_and_nothing_is_delivered(
    outbox: Path, capsys: pytest.CaptureFixture[str], notifier: str, says: str
) -> None:
    code, out, err = run(
        capsys, "dispatch", "--db", str(outbox), "--rulebook", "account_managers", "--notifier", notifier
    )

    assert (code, out) == (FAILED, "")
    assert says in assert_one_line(err)
    assert pending(outbox) == list(PENDING)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--limit", "0"], "argument --limit: give a whole number of at least 1, not '0'"),
        (["--limit", "two"], "argument --limit: give a whole number of at least 1, not 'two'"),
        (["--watch", "--interval", "0"], "argument --interval: give a number of seconds above 0, not '0'"),
        (["--watch", "--interval", "-1"], "argument --interval: give a number of seconds above 0, not '-1'"),
        (["--watch", "--interval", "nan"], "argument --interval: give a number of seconds above 0, not 'nan'"),
        (["--watch", "--interval", "inf"], "argument --interval: give a number of seconds above 0, not 'inf'"),
    ],
)
def test_dispatch_refuses_a_limit_or_an_interval_that_is_none_in_one_line(
    outbox: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dispatch", "--db", str(outbox), "--rulebook", "account_managers", "--notifier", "os:sep", *argv])

    assert exited.value.code == FAILED
    assert assert_one_line(capsys.readouterr().err) == f"{says}; see ownership dispatch --help."


def test_dispatch_refuses_an_interval_without_watch_and_needs_a_database_and_a_rulebook(
    outbox: Path, host_notifier: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notifier = ("--notifier", "host_notifier_for_cli:NOTIFIER")

    interval = run(
        capsys, "dispatch", *notifier, "--interval", "5", "--db", str(outbox), "--rulebook", "account_managers"
    )
    no_database = run(capsys, "dispatch", *notifier, "--rulebook", "account_managers")
    no_rulebook = run(capsys, "dispatch", *notifier, "--db", str(outbox))

    assert [result[:2] for result in (interval, no_database, no_rulebook)] == [(FAILED, "")] * 3
    assert "give it with --watch" in assert_one_line(interval[2])
    assert "--db" in assert_one_line(no_database[2])
    assert "--rulebook" in assert_one_line(no_rulebook[2])
    assert pending(outbox) == list(PENDING)


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_x7_dispatch_watch_finishes_the_batch_in_hand_on_a_signal_and_puts_the_handlers_back(
    outbox: Path, host_notifier: Path, capsys: pytest.CaptureFixture[str], stop: str
) -> None:
    (host_notifier.parent / "signal.txt").write_text(stop, encoding="utf-8")
    caught: list[int] = []

    def guard(number: int, _frame: object) -> None:
        caught.append(number)  # the command's handler should have had it; this one only keeps pytest alive

    before = {number: signal.signal(number, guard) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        code, out, err = run(
            capsys,
            "dispatch",
            "--watch",
            "--limit",
            "2",
            "--db",
            str(outbox),
            "--rulebook",
            "account_managers",
            "--notifier",
            "host_notifier_for_cli:SignallingNotifier",
        )
        after = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)

    assert (code, out, err) == (0, "Delivered 2 notifications; 3 left pending.\n", "")
    assert caught == []
    assert after == {signal.SIGTERM: guard, signal.SIGINT: guard}
    assert delivered(host_notifier) == list(PENDING[:2])
    assert pending(outbox) == list(PENDING[2:])


def test_dispatch_watch_outside_the_main_thread_is_refused_in_one_line(
    outbox: Path, host_notifier: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    codes: list[int] = []
    argv = ["dispatch", "--watch", "--db", str(outbox), "--rulebook", "account_managers"]
    worker = threading.Thread(
        target=lambda: codes.append(main([*argv, "--notifier", "host_notifier_for_cli:NOTIFIER"]))
    )

    worker.start()
    worker.join(timeout=60)

    out, err = capsys.readouterr()
    assert (codes, out) == ([FAILED], "")
    assert "only the main thread can catch" in assert_one_line(err)
    assert pending(outbox) == list(PENDING)


def wait_for(done: Callable[[], bool], what: str, *, seconds: float = 30) -> None:
    """Wait until `done()` holds, failing the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.02)


def watching(path: Path, notifier: str, environment: dict[str, str], *options: str) -> "subprocess.Popen[str]":
    """Start ``python -m ownership dispatch --watch`` on the SQLite file `path`, in the folder of the host's module."""
    argv = [
        sys.executable,
        "-m",
        "ownership",
        "dispatch",
        "--watch",
        "--db",
        str(path),
        "--rulebook",
        "account_managers",
    ]
    return subprocess.Popen(
        [*argv, "--notifier", notifier, *options],
        cwd=path.parent,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM ends a Windows process outright; no handler runs")
def test_x7_dispatch_watch_delivers_every_pending_key_once_then_stops_at_once_on_sigterm(
    outbox: Path, host_notifier: Path, environment: dict[str, str]
) -> None:
    # An hour between looks: only a stop that wakes the wait at once ends the process within the test's timeout.
    worker = watching(outbox, "host_notifier_for_cli:NOTIFIER", environment, "--limit", "2", "--interval", "3600")
    try:
        wait_for(lambda: len(delivered(host_notifier)) >= len(PENDING), "the pending keys to be delivered")
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        worker.kill()

    assert (worker.returncode, out, err) == (0, "Delivered 5 notifications; 0 left pending.\n", "")
    assert delivered(host_notifier) == list(PENDING)
    assert pending(outbox) == []


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM ends a Windows process outright; no handler runs")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_x7_dispatch_watch_stopped_during_a_batch_delivers_and_settles_that_batch_and_exits_0(
    outbox: Path, host_notifier: Path, environment: dict[str, str], stop: signal.Signals
) -> None:
    worker = watching(outbox, "host_notifier_for_cli:slow_notifier", environment, "--limit", "2")
    try:
        wait_for((host_notifier.parent / "batches.txt").exists, "the first batch to reach the notifier")
        worker.send_signal(stop)  # the notifier takes 2 s over the batch: the signal comes while it is in hand
        out, err = worker.communicate(timeout=30)
    finally:
        worker.kill()

    assert (worker.returncode, out, err) == (0, "Delivered 2 notifications; 3 left pending.\n", "")
    assert delivered(host_notifier) == list(PENDING[:2])
    assert pending(outbox) == list(PENDING[2:])


# --- the database and the rulebook --------------------------------------------------------------------------


def test_a_command_without_a_database_fails_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "--rulebook", "account_managers")

    assert (code, out) == (FAILED, "")
    assert "--db" in assert_one_line(err)


def test_a_missing_sqlite_file_fails_a_read_command_in_one_line_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.db"

    for argv in (["audit"], ["export"], ["holders", "deal:d-1"], ["explain", "anna", "deal:d-1"]):
        code, out, err = run(capsys, "--db", str(missing), "--rulebook", "account_managers", *argv)
        assert (code, out) == (FAILED, ""), argv
        assert (
            assert_one_line(err)
            == f"There is no database file {str(missing)!r}; give an existing SQLite file or a URL."
        )
    assert not missing.exists()


def test_a_missing_sqlite_file_named_by_url_fails_a_read_command_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.db"

    code, _, err = run(capsys, "--db", sqlite(missing), "--rulebook", "account_managers", "audit")

    assert code == FAILED
    assert_one_line(err)
    assert not missing.exists()


@pytest.mark.parametrize(
    ("rulebook", "says"),
    [
        ("salesforce", "There is no preset 'salesforce'"),
        ("os:sep", "os:sep is a str, not a Rulebook"),
        ("ownership.presets:PROJECTS", "is a str, not a Rulebook"),
        ("ownership.presets:user_field", "Cannot load the rulebook 'ownership.presets:user_field' (TypeError"),
        ("no_such_module_here:rules", "Cannot load the rulebook 'no_such_module_here:rules'"),
        ("ownership.presets:no_such_name", "Cannot load the rulebook"),
        ("sys:exit", "Cannot load the rulebook 'sys:exit' (SystemExit"),
        ("builtins:dict", "builtins:dict is a dict, not a Rulebook"),
    ],
    ids=[
        "unknown preset",
        "a string",
        "a constant",
        "a function needing arguments",
        "no module",
        "no name",
        "a function that exits",
        "a class",
    ],
)
def test_a_rulebook_that_is_not_one_fails_in_one_line(
    clean: Path, capsys: pytest.CaptureFixture[str], rulebook: str, says: str
) -> None:
    code, out, err = run(capsys, "audit", "--db", str(clean), "--rulebook", rulebook)

    assert (code, out) == (FAILED, "")
    assert says in assert_one_line(err)


def test_a_command_that_applies_rules_without_a_rulebook_fails_in_one_line(
    clean: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "audit", "--db", str(clean))

    assert code == FAILED
    assert "--rulebook" in assert_one_line(err)


def test_a_bad_database_url_fails_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "--db", "nosuchdialect://crm", "--rulebook", "account_managers")

    assert (code, out) == (FAILED, "")
    assert "The database URL cannot be used here" in assert_one_line(err)


@pytest.mark.parametrize("record", ["deal", "deal:", ":d-1", ""])
def test_a_record_not_named_kind_colon_id_fails_in_one_line(
    clean: Path, capsys: pytest.CaptureFixture[str], record: str
) -> None:
    code, out, err = run(capsys, "holders", record, "--db", str(clean), "--rulebook", "account_managers")

    assert (code, out) == (FAILED, "")
    assert assert_one_line(err) == f"Name the record as KIND:ID, e.g. deal:d-17; {record!r} is not."


def test_a_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["transfer", "--from", "anna"])

    assert exited.value.code == FAILED
    assert assert_one_line(capsys.readouterr().err) == (
        "the following arguments are required: --to; see ownership transfer --help."
    )


HOST_RULES = '''\
"""A host's own rulebook: the account managers, with an observer on deals."""

from ownership import presets

RULES = presets.account_managers().with_role("deal", presets.user_field("observer"))


def rules():
    return RULES
'''


@pytest.mark.parametrize("name", ["RULES", "rules"], ids=["a Rulebook", "a function returning one"])
def test_a_hosts_own_rulebook_is_loaded_by_module_and_name(
    clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (tmp_path / "host_rules_for_cli.py").write_text(HOST_RULES, encoding="utf-8")
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.delitem(sys.modules, "host_rules_for_cli", raising=False)
    asking = ("holders", "deal:d-1", "--role", "observer", "--db", str(clean))

    by_option = run(capsys, *asking, "--rulebook", f"host_rules_for_cli:{name}")
    monkeypatch.setenv("OWNERSHIP_RULEBOOK", f"host_rules_for_cli:{name}")
    by_environment = run(capsys, *asking)
    preset = run(capsys, *asking, "--rulebook", "account_managers")

    assert by_option == by_environment == (0, "", "")  # the host's observer role exists, and nobody holds it
    assert preset[0] == FAILED
    assert "has no role 'observer'" in assert_one_line(preset[2])


# --- options ------------------------------------------------------------------------------------------------


def test_options_work_before_or_after_the_command_or_from_the_environment(
    accounts: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db, rules = ("--db", str(accounts)), ("--rulebook", "account_managers")

    before = run(capsys, *db, *rules, "--json", "holders", "deal:d-1")
    after = run(capsys, "holders", "deal:d-1", "--json", *rules, *db)
    mixed = run(capsys, "--json", *db, "holders", *rules, "deal:d-1")
    monkeypatch.setenv("OWNERSHIP_DB", str(accounts))
    monkeypatch.setenv("OWNERSHIP_RULEBOOK", "account_managers")
    environment = run(capsys, "--json", "holders", "deal:d-1")

    assert before == after == mixed == environment
    assert json.loads(before[1])[0]["id"] == "anna"


def test_an_option_after_the_command_replaces_the_one_before_it(
    accounts: Path, clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OWNERSHIP_DB", str(tmp_path / "missing.db"))
    options = ("--rulebook", "lead_exchange", "audit", "--rulebook", "account_managers")

    assert run(capsys, "--db", str(clean), *options, "--db", str(accounts))[0] == FOUND
    assert run(capsys, "--db", str(accounts), *options, "--db", str(clean))[0] == 0
    assert run(capsys, *options, "--db", str(clean))[0] == 0  # the option beats the environment


# --- the progress bar ---------------------------------------------------------------------------------------


def test_progress_bar_on_a_terminal_draws_label_bar_and_count_and_ends_the_line() -> None:
    terminal = Terminal()
    bar = ProgressBar("importing", terminal)

    bar(0, 4)
    bar(1, 4)
    bar(4, 4)

    drawn = terminal.getvalue()
    assert drawn == (f"\rimporting [{'.' * 30}] 0/4\rimporting [{'#' * 7}{'.' * 23}] 1/4\rimporting [{'#' * 30}] 4/4\n")


def test_progress_bar_draws_nothing_on_a_stream_that_is_no_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar("importing", stream)

    for done in range(4):
        bar(done, 3)

    assert stream.getvalue() == ""


def test_progress_bar_draws_nothing_for_no_work() -> None:
    terminal = Terminal()

    ProgressBar("importing", terminal)(0, 0)

    assert terminal.getvalue() == ""


def test_import_and_audit_draw_their_bar_on_standard_error_only_on_a_terminal(
    accounts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = tmp_path / "acme.json"
    run(capsys, "export", "-o", str(exported), "--db", str(accounts))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    imported = main(["import", str(exported), "--db", str(tmp_path / "copy.db")])
    audited = main(["audit", "--db", str(tmp_path / "copy.db"), "--rulebook", "account_managers"])

    drawn = terminal.getvalue()
    assert (imported, audited) == (0, FOUND)
    assert drawn.startswith(f"\rimporting [{'#' * 7}{'.' * 23}] 1/4\r")
    assert f"\rimporting [{'#' * 30}] 4/4\n\rauditing [{'#' * 15}{'.' * 15}] 1/2\r" in drawn
    assert drawn.endswith(f"\rauditing [{'#' * 30}] 2/2\n")
    assert "Imported 2 tenants" in capsys.readouterr().out


# --- the installed command ----------------------------------------------------------------------------------


@pytest.fixture
def environment() -> dict[str, str]:
    """The environment of a child process: this one's, without ``OWNERSHIP_*``, with this Python's scripts first."""
    kept = {key: value for key, value in os.environ.items() if not key.startswith("OWNERSHIP_")}
    kept["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{kept.get('PATH', '')}"
    return kept


def test_the_installed_command_exits_1_on_findings_and_2_with_one_line_on_failure(
    accounts: Path, tmp_path: Path, environment: dict[str, str]
) -> None:
    command = shutil.which("ownership", path=environment["PATH"])
    assert command is not None, "the ownership console script is not installed"

    found = subprocess.run(
        [command, "audit", "--db", str(accounts)],
        env={**environment, "OWNERSHIP_RULEBOOK": "account_managers"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    failed = subprocess.run(
        [command, "audit", "--db", str(tmp_path / "missing.db"), "--rulebook", "account_managers"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (found.returncode, found.stderr) == (FOUND, "")
    assert "inactive_holder" in found.stdout
    assert (failed.returncode, failed.stdout) == (FAILED, "")
    assert_one_line(failed.stderr)
    assert not (tmp_path / "missing.db").exists()


def test_export_of_one_database_is_the_same_text_in_every_process(tmp_path: Path, environment: dict[str, str]) -> None:
    path = tmp_path / "labelled.db"
    with library(path, presets.account_managers()) as own:
        own.add_tenant("acme", plan="go")
        own.add_user("acme", "Anna", id="anna")
        own.create("deal", actor="anna", id="d-1", labels=["north", "south", "east", "west", "vip"])
    texts = {
        subprocess.run(
            [sys.executable, "-m", "ownership", "export", "--db", str(path)],
            env={**environment, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }

    assert len(texts) == 1


def test_python_dash_m_ownership_runs_the_same_command(clean: Path, environment: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ownership", "--json", "explain", "anna", "deal:d-1", "--db", str(clean)],
        env={**environment, "OWNERSHIP_RULEBOOK": "account_managers"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["allowed"] is True


def test_the_installed_command_finds_a_hosts_rulebook_in_the_working_directory(
    clean: Path, tmp_path: Path, environment: dict[str, str]
) -> None:
    command = shutil.which("ownership", path=environment["PATH"])
    assert command is not None, "the ownership console script is not installed"
    (tmp_path / "host_rules_in_cwd.py").write_text(HOST_RULES, encoding="utf-8")
    environment.pop("PYTHONPATH", None)

    ran = subprocess.run(
        [
            command,
            "--db",
            str(clean),
            "--rulebook",
            "host_rules_in_cwd:RULES",
            "holders",
            "deal:d-1",
            "--role",
            "observer",
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")


def test_a_refused_import_into_a_new_file_leaves_no_database_behind(
    accounts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "half.json"
    code, _, _ = run(capsys, "export", "--db", str(accounts), "-o", str(export))
    data = json.loads(export.read_text(encoding="utf-8"))
    data["tenants"] = data["tenants"][1:]  # the users of the tenant left out now point nowhere
    export.write_text(json.dumps(data), encoding="utf-8")
    target = tmp_path / "new.db"

    refused_code, out, err = run(capsys, "import", str(export), "--db", str(target))

    assert (code, refused_code, out) == (0, FAILED, "")
    assert "The snapshot does not hold the tenant" in assert_one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("new.db")) == []
