"""The directory room (src/ownership/usecases/directory.py): tenants, users, groups and covers, and what they refuse."""

from datetime import datetime

import pytest

from conftest import caretakers, refusals_crm
from conftest import refused_readably as refused
from ownership import Assignee, DuplicateIdError, GroupKind, InvalidValueError, Ownership, UnknownPlanError
from ownership.adapters.memory import MemoryRepository
from ownership.testing import FakeClock

crm = refusals_crm
"""The fixture these tests ask for as `crm`: Acme with deal D-1 and company C-1 (tests/conftest.py)."""


# --- unknown and duplicate names --------------------------------------------------------------


def test_duplicate_user_id_is_refused(crm: Ownership) -> None:
    with refused(crm, DuplicateIdError, "A user with id 'anna' exists already"):
        crm.add_user("acme", "Another Anna", id="anna")
    with refused(crm, DuplicateIdError, "A user with id 'anna' exists already"):
        crm.add_user("globex", "Anna of Globex", id="anna")  # user ids are unique across tenants


def test_duplicate_tenant_and_group_ids_are_refused(crm: Ownership) -> None:
    with refused(crm, DuplicateIdError, "A tenant with id 'acme' exists already"):
        crm.add_tenant("acme")
    with refused(crm, DuplicateIdError, "A group with id 'sales' exists already"):
        crm.add_group("acme", "Sales again", GroupKind.TEAM, id="sales")


def test_unknown_plan_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownPlanError, "The rulebook has no plan 'platinum'; its plans are: go, move, boost"):
        crm.add_tenant("initech", plan="platinum")
    with refused(crm, UnknownPlanError, "no plan 'platinum'"):
        crm.configure_tenant("acme", plan="platinum")


# --- who may act --------------------------------------------------------------------------------


def test_empty_id_is_refused(crm: Ownership) -> None:
    with refused(
        crm, InvalidValueError, r"add_user\(\): id takes an id \(1 to 100 printable characters\) or None, not ''\."
    ):
        crm.add_user("acme", "Nobody", id="")
    with refused(crm, InvalidValueError, r"create\(\): id takes an id .* or None, not ''\."):
        crm.create("deal", actor="anna", id="")
    with refused(crm, InvalidValueError, r"add_tenant\(\): id takes an id .*, not ''\."):
        crm.add_tenant("")
    with refused(crm, InvalidValueError, r"add_group\(\): id takes an id .* or None, not ''\."):
        crm.add_group("acme", "Nameless", GroupKind.TEAM, id="")
    with pytest.raises(InvalidValueError, match=r"Assignee\.id of a user takes an id"):
        Assignee.user("")


def test_x5_a_cover_without_a_time_zone_is_refused(clock: FakeClock) -> None:
    own = caretakers(MemoryRepository(), clock)
    before = own.snapshot()

    with pytest.raises(
        InvalidValueError,
        match=r"add_member\(\): until takes .*; it has no time zone; give an aware datetime \(UTC\)\.",
    ):
        own.add_member("north", "carl", until=datetime(2030, 1, 1))

    assert own.snapshot() == before
    assert own.audit("meier-gmbh")  # reads still work


def test_an_unknown_group_kind_is_refused_with_the_kinds_named(clock: FakeClock) -> None:
    own = caretakers(MemoryRepository(), clock)

    with pytest.raises(InvalidValueError, match="no group kind 'cartaker'; the kinds are: caretaker, competence, team"):
        own.add_group("meier-gmbh", "South", "cartaker")
