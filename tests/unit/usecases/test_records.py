"""The records room (src/ownership/usecases/records.py): create, share and accept, and what they refuse (LD2, LD7)."""

import pytest
from attrs import evolve

from conftest import edges_desk, make, refusals_crm
from conftest import refused_readably as refused
from ownership import (
    AccessDeniedError,
    Assignee,
    DuplicateIdError,
    FeatureDisabledError,
    InactiveUserError,
    MandatoryRoleError,
    Ownership,
    Profile,
    Repository,
    RestrictedStatusError,
    Rulebook,
    UnknownKindError,
    lifecycle,
    presets,
)
from ownership.testing import FakeClock

desk = edges_desk
"""The fixture these tests ask for as `desk`: the contact desk with shared leads beside it (tests/conftest.py)."""


crm = refusals_crm
"""The fixture these tests ask for as `crm`: Acme with deal D-1 and company C-1 (tests/conftest.py)."""


ANNA, BOB, CARL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("carl")


# --- who may be assigned ----------------------------------------------------------------------


def test_ld2_inactive_assignee_is_refused_at_creation(crm: Ownership) -> None:
    with refused(crm, InactiveUserError, "inactive"):
        crm.create("deal", actor="anna", id="D-2", holders={"responsible": CARL})


# --- mandatory roles ------------------------------------------------------------------------


def test_tl2_creating_a_deal_without_responsible_is_refused(crm: Ownership) -> None:
    with refused(crm, MandatoryRoleError, "A deal needs 1 responsible in tenant 'acme'"):
        crm.create("deal", actor=None, tenant="acme", id="D-2")


# --- features by plan and switches ----------------------------------------------------------


def test_tl10_kind_outside_the_plan_is_refused(crm: Ownership) -> None:
    with refused(crm, FeatureDisabledError, "Tenant 'acme' cannot create a project: it needs 'projects'"):
        crm.create("project", actor="anna", id="P-1")


# --- unknown and duplicate names --------------------------------------------------------------


def test_unknown_record_kind_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownKindError, "knows no record kind 'spaceship'"):
        crm.create("spaceship", actor="anna")


def test_duplicate_record_id_is_refused(crm: Ownership) -> None:
    with refused(crm, DuplicateIdError, "A deal with id 'D-1' is tracked already"):
        crm.create("deal", actor="bob", id="D-1")


ANNA = Assignee.user("anna")


def test_ct1_ld7_an_archived_record_offered_before_cannot_be_accepted(desk: Ownership) -> None:
    lead = desk.create("lead", actor="anna", id="L-1")
    desk.share(lead, "partner", actor="anna")
    desk.set_status(lead, "archive", actor="anna")
    before = desk.snapshot()

    with pytest.raises(RestrictedStatusError, match="cannot be accepted"):
        desk.accept(lead, actor="pat")
    assert desk.snapshot() == before


def test_ct1_a_person_creating_a_record_in_the_inbox_is_not_made_its_holder(repository: Repository) -> None:
    leads = presets.lead_exchange().policy("lead")
    own = Ownership(Rulebook((evolve(leads, lifecycle=lifecycle.contacts()),)), repository)
    own.add_tenant("kanzlei")
    own.add_user("kanzlei", "Anna", id="anna")

    lead = own.create("lead", actor="anna", id="L-1", status="inbox")

    assert own.holders(lead, "colleague") == ()  # the creator trigger gives no holder in a status refusing them
    assert own.holders(own.create("lead", actor="anna", id="L-2"), "colleague") == (ANNA,)


def test_tl4_a_user_who_may_not_edit_a_record_cannot_forward_it(clock: FakeClock) -> None:
    own = make(presets.account_managers(), clock)
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Rita", id="rita", profile=Profile(restricted={"deal"}))
    deal = own.create("deal", actor="anna", id="D-1")
    before = own.snapshot()

    with pytest.raises(AccessDeniedError, match="Rita may not share deal D-1"):
        own.share(deal, "globex", actor="rita")

    assert own.snapshot() == before
