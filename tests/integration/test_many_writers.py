"""Many writers and readers on one store, as a host's web workers are: nothing meets another halfway (X3).

- Writers of different records never wait for each other's records, never conflict, never run again;
  creating in one tenant, they share its settings (auto-assignment rules) rather than take them in turns.
- Writers that read a setting to change it (a round robin's turn) take turns, and lose no change.
- Reads never fail, never run again, while writers change the very records they read.
- Offboarding (deactivate, then hand the holdings over) while others assign records to the leaver:
  every record ends with an active holder, and nothing escapes as a conflict.
- A serializable transaction of the host's, left open on the server, takes nothing from `ownership`.
- Opening a SQLite store while another process holds its writer neither waits nor fails.

Threads meet at barriers with timeouts, never by sleeping.
"""

import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ownership import Assignee, GroupKind, InactiveUserError, Ownership, RoundRobin, presets
from ownership.adapters.sql import SqlRepository, create_schema, make_engine
from ownership.testing import FakeClock
from sql_repositories import WAIT, at_once

pytest_plugins = ("sql_repositories",)

WRITERS = 4
RETRIED = "met another unit of work"


def _crm(repository: SqlRepository, people: int = WRITERS) -> Ownership:
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna", admin=True)
    for n in range(people):
        own.add_user("acme", f"User {n}", id=f"u{n}")
    return own


def _retries(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ownership" and RETRIED in r.getMessage()]


def test_x3_writers_of_different_records_never_conflict_and_never_run_again(
    side_by_side: Callable[[], SqlRepository], caplog: pytest.LogCaptureFixture
) -> None:
    own = _crm(side_by_side())
    caplog.set_level(logging.INFO, logger="ownership")

    def write(n: int) -> int:
        for r in range(10):
            deal = own.create(
                "company", actor="anna", id=f"C-{n}-{r}", holders={"account_manager": Assignee.user("u0")}
            )
            own.assign(deal, "account_manager", Assignee.user(f"u{n}"), actor="anna")
        return 10

    outcomes = at_once({f"writer {n}": (lambda n=n: write(n)) for n in range(WRITERS)})

    assert all(outcome == 10 for outcome in outcomes.values()), outcomes
    assert _retries(caplog) == []
    for n in range(WRITERS):
        assert [own.holders(own.record("company", f"C-{n}-{r}"), "account_manager") for r in range(10)] == [
            (Assignee.user(f"u{n}"),)
        ] * 10


@pytest.mark.postgresql
def test_x3_units_reading_one_setting_share_it_rather_than_wait_for_each_other(
    postgres_repositories: Callable[[], SqlRepository],
) -> None:
    repository = postgres_repositories()
    with repository.transaction() as tx:
        tx.put_setting("acme", "auto_assign.company", {"rules": []})
    first_read, second_done = threading.Event(), threading.Event()

    def first() -> bool:
        with repository.transaction() as tx:
            assert tx.setting("acme", "auto_assign.company") == {"rules": []}
            first_read.set()
            return second_done.wait(WAIT)  # the unit stays open until the second has read and ended

    def second() -> object:
        assert first_read.wait(WAIT)
        with repository.transaction() as tx:
            read = tx.setting("acme", "auto_assign.company")
        second_done.set()
        return read

    outcomes = at_once({"first": first, "second": second})

    assert outcomes == {"first": True, "second": {"rules": []}}, "the second read while the first unit was open"


def test_x3_units_reading_a_setting_to_change_it_take_turns_and_lose_no_change(
    side_by_side: Callable[[], SqlRepository], caplog: pytest.LogCaptureFixture
) -> None:
    repository = side_by_side()
    with repository.transaction() as tx:
        tx.put_setting("acme", "counter", 0)

    def count(times: int) -> int:
        for _ in range(times):
            with repository.writing() as tx:  # as the use cases write: on SQLite, taking the writer first
                tx.put_setting("acme", "counter", tx.setting("acme", "counter", changing=True) + 1)
        return times

    outcomes = at_once({f"writer {n}": (lambda: count(10)) for n in range(WRITERS)})

    assert outcomes == {f"writer {n}": 10 for n in range(WRITERS)}
    with repository.reading() as tx:
        assert tx.setting("acme", "counter") == 10 * WRITERS


def test_x3_creates_taking_turns_of_one_round_robin_at_once_share_the_records_out_evenly_and_never_run_again(
    side_by_side: Callable[[], SqlRepository], caplog: pytest.LogCaptureFixture
) -> None:
    own = _crm(side_by_side())
    own.add_group("acme", "Sales", GroupKind.COMPETENCE, id="sales")
    for n in range(WRITERS):
        own.add_member("sales", f"u{n}")
    own.set_auto_assign("acme", "company", [RoundRobin("account_manager", "sales")], actor="anna")
    caplog.set_level(logging.INFO, logger="ownership")

    def create(n: int) -> int:
        for r in range(5):
            own.create("company", actor="anna", id=f"C-{n}-{r}")
        return 5

    outcomes = at_once({f"writer {n}": (lambda n=n: create(n)) for n in range(WRITERS)})

    assert outcomes == {f"writer {n}": 5 for n in range(WRITERS)}
    assert _retries(caplog) == []
    given = Counter(
        holder.id
        for n in range(WRITERS)
        for r in range(5)
        for holder in own.holders(own.record("company", f"C-{n}-{r}"), "account_manager")
    )
    assert given == {f"u{n}": 5 for n in range(WRITERS)}, "each turn went to the next member, none twice"


def test_x3_reads_never_fail_while_writers_hand_the_same_records_over(
    side_by_side: Callable[[], SqlRepository], caplog: pytest.LogCaptureFixture
) -> None:
    own = _crm(side_by_side())
    deals = [own.create("company", actor="anna", id=f"C-{r}") for r in range(3)]
    caplog.set_level(logging.INFO, logger="ownership")
    done = threading.Event()
    rounds = 15

    def hand_over(n: int) -> str:
        try:
            for r in range(rounds):
                for deal in deals:
                    own.assign(deal, "account_manager", Assignee.user(f"u{(n + r) % WRITERS}"), actor="anna")
            return "handed over"
        finally:
            done.set()

    def read(n: int) -> int:
        reads = 0
        while not done.is_set() or reads < 20:
            deal = deals[reads % len(deals)]
            own.can(f"u{n}", "view", deal)
            own.explain(f"u{n}", "edit", deal)
            own.visible(f"u{n}", "company", limit=10)
            own.visible_ids("anna", "company", limit=10)
            own.filter(f"u{n}", "view", "company")
            own.history(deal)
            reads += 1
        return reads

    outcomes = at_once(
        {"writer 0": lambda: hand_over(0), "writer 1": lambda: hand_over(1)}
        | {f"reader {n}": (lambda n=n: read(n)) for n in range(2)}
    )

    assert [o for o in outcomes.values() if isinstance(o, BaseException)] == [], outcomes
    # Reads are never run again; writers of one record take turns, and on SQLite none meets another either.
    retried = _retries(caplog)
    assert not [message for message in retried if not message.startswith("assign ")], retried
    for deal in deals:
        [holder] = own.holders(deal, "account_manager")
        assert holder.id in {f"u{n}" for n in range(WRITERS)}


def test_x3_offboarding_while_others_assign_to_the_leaver_leaves_every_record_with_an_active_holder(
    side_by_side: Callable[[], SqlRepository],
) -> None:
    own = _crm(side_by_side())
    deals = [own.create("company", actor="anna", id=f"C-{r}") for r in range(20)]
    offboarded = threading.Event()

    def offboard() -> int:
        own.update_user("u0", active=False)
        moved = own.transfer("u0", "u1")
        offboarded.set()
        return moved

    def assign_to_leaver(part: int) -> tuple[int, int]:
        given = refused = 0
        for deal in deals[part::2]:
            try:
                own.assign(deal, "account_manager", Assignee.user("u0"), actor="anna")
                given += 1
            except InactiveUserError:
                refused += 1
        return given, refused

    outcomes = at_once(
        {"offboard": offboard, "assign a": lambda: assign_to_leaver(0), "assign b": lambda: assign_to_leaver(1)}
    )

    assert [o for o in outcomes.values() if isinstance(o, BaseException)] == [], outcomes
    assert offboarded.wait(WAIT)
    for deal in deals:
        for holder in own.holders(deal, "account_manager"):
            assert own.user(holder.id).active, (deal, holder)


@pytest.mark.postgresql
def test_x3_a_serializable_transaction_left_open_on_the_server_takes_nothing_from_ownership(
    postgres_repositories: Callable[[], SqlRepository],
) -> None:
    repository = postgres_repositories()
    own = _crm(repository)
    deals = [own.create("company", actor="anna", id=f"C-{r}") for r in range(20)]
    url = make_url(str(repository.engine.url)).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as elsewhere:
        elsewhere.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        for table in ("ownership_records", "ownership_assignments", "ownership_events", "ownership_users"):
            elsewhere.execute(f"SELECT count(*) FROM {table}").fetchall()
        # The host's serializable transaction stays open, holding its predicate locks, while ownership works.
        for r in range(40):
            deal = own.create("company", actor="anna", id=f"N-{r}")
            own.assign(deal, "account_manager", Assignee.user(f"u{r % WRITERS}"), actor="anna")
            assert own.can("anna", "view", deals[r % len(deals)])
            assert own.visible("anna", "company", limit=5).rows
        elsewhere.rollback()


def test_x3_opening_a_sqlite_store_while_another_process_holds_its_writer_neither_waits_nor_fails(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.db"
    create_schema(make_engine(f"sqlite:///{path}"))
    _crm(SqlRepository.from_url(f"sqlite:///{path}")).create("company", actor="anna", id="C-1")
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    writer.execute("BEGIN IMMEDIATE")  # another process is writing, and holds the one writer
    try:
        opened = SqlRepository.from_url(f"sqlite:///{path}")
        own = Ownership(presets.account_managers(), opened, clock=FakeClock())
        assert own.can("anna", "view", own.record("company", "C-1"))
        assert [r.id for r in own.visible("anna", "company").records] == ["C-1"]
        opened.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
