"""The reads room (src/ownership/usecases/reads.py): history, holders_at and assignments, per tenant (X2, LD7)."""

from datetime import timedelta

import pytest

from conftest import make
from ownership import (
    Assigned,
    Assignee,
    ForeignActorError,
    InvalidValueError,
    MandatoryRoleError,
    Ownership,
    RecordCreated,
    RecordRef,
    RecordShared,
    ShareAccepted,
    Unassigned,
    UnknownRecordError,
    UnknownRoleError,
    presets,
)
from ownership.testing import FakeClock

ANNA, BOB, CARL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("carl")
DEAL = RecordRef("deal", "D-1")


@pytest.fixture
def crm(accounts: Ownership) -> Ownership:
    """Acme with Anna, Bob and Carl."""
    for name in ("Anna", "Bob", "Carl"):
        accounts.add_user("acme", name, id=name.lower())
    return accounts


def test_x2_history_starts_with_the_creation_and_the_first_holder(crm: Ownership, clock: FakeClock) -> None:
    created_at = clock.now

    crm.create("deal", actor="anna", id="D-1")

    assert crm.history(DEAL) == (
        RecordCreated(DEAL, "acme", "anna", created_at),
        Assigned(DEAL, "responsible", ANNA, "acme", "anna", created_at),
    )


def test_x2_history_lists_every_change_of_holders_with_actor_and_time(crm: Ownership, clock: FakeClock) -> None:
    monday = clock.now
    crm.create("deal", actor="anna", id="D-1")
    tuesday = clock.advance(days=1)
    crm.assign(DEAL, "responsible", BOB, actor="anna")
    wednesday = clock.advance(days=1)
    crm.replace(DEAL, "responsible", BOB, CARL, actor="bob")

    assert crm.history(DEAL) == (
        RecordCreated(DEAL, "acme", "anna", monday),
        Assigned(DEAL, "responsible", ANNA, "acme", "anna", monday),
        Unassigned(DEAL, "responsible", ANNA, "acme", "anna", tuesday),
        Assigned(DEAL, "responsible", BOB, "acme", "anna", tuesday),
        Unassigned(DEAL, "responsible", BOB, "acme", "bob", wednesday),
        Assigned(DEAL, "responsible", CARL, "acme", "bob", wednesday),
    )


def test_x2_history_names_no_actor_when_the_host_acted(crm: Ownership, clock: FakeClock) -> None:
    crm.create("deal", actor=None, tenant="acme", id="D-1", holders={"responsible": BOB})

    assert [(type(e).__name__, e.actor) for e in crm.history(DEAL)] == [("RecordCreated", None), ("Assigned", None)]


def test_x2_refused_change_leaves_no_trace_in_history(crm: Ownership, clock: FakeClock) -> None:
    crm.create("deal", actor="anna", id="D-1")
    before = crm.history(DEAL)
    clock.advance(hours=1)

    with pytest.raises(MandatoryRoleError):
        crm.unassign(DEAL, "responsible", ANNA, actor="anna")

    assert crm.history(DEAL) == before


def test_x2_assigning_the_current_holder_again_writes_no_event(crm: Ownership, clock: FakeClock) -> None:
    crm.create("deal", actor="anna", id="D-1")
    before = crm.history(DEAL)
    clock.advance(hours=1)

    crm.assign(DEAL, "responsible", ANNA, actor="bob")

    assert crm.history(DEAL) == before


def test_x2_holders_at_answers_who_was_responsible_on_a_given_date(crm: Ownership, clock: FakeClock) -> None:
    monday = clock.now
    crm.create("deal", actor="anna", id="D-1")
    wednesday = clock.advance(days=2)
    crm.assign(DEAL, "responsible", BOB, actor="anna")
    friday = clock.advance(days=2)
    crm.assign(DEAL, "responsible", CARL, actor="bob")

    assert crm.holders_at(DEAL, "responsible", monday - timedelta(seconds=1)) == ()  # before creation: nobody
    assert crm.holders_at(DEAL, "responsible", monday) == (ANNA,)
    assert crm.holders_at(DEAL, "responsible", monday + timedelta(days=1)) == (ANNA,)
    assert crm.holders_at(DEAL, "responsible", wednesday) == (BOB,)
    assert crm.holders_at(DEAL, "responsible", wednesday + timedelta(hours=47)) == (BOB,)
    assert crm.holders_at(DEAL, "responsible", friday) == (CARL,)
    assert crm.holders_at(DEAL, "responsible", friday + timedelta(days=365)) == crm.holders(DEAL, "responsible")


def test_x2_holders_at_follows_a_role_with_several_holders(crm: Ownership, clock: FakeClock) -> None:
    crm.configure_tenant("acme", plan="move")
    start = clock.now
    project = crm.create("project", actor="anna", id="P-1", holders={"collaborator": [BOB, CARL]})
    later = clock.advance(days=3)
    crm.unassign(project, "collaborator", BOB, actor="anna")

    assert crm.holders_at(project, "collaborator", start) == (BOB, CARL)
    assert crm.holders_at(project, "collaborator", later) == (CARL,)
    assert crm.holders_at(project, "manager", later) == (ANNA,)  # other roles are replayed on their own


def test_x2_holders_at_refuses_unknown_records_and_roles(crm: Ownership, clock: FakeClock) -> None:
    crm.create("deal", actor="anna", id="D-1")

    with pytest.raises(UnknownRecordError):
        crm.holders_at(RecordRef("deal", "D-404"), "responsible", clock.now)
    with pytest.raises(UnknownRoleError):
        crm.holders_at(DEAL, "captain", clock.now)


# --- LD7: the history of a forwarded lead is private to each company --------------------------------


@pytest.fixture
def leads(clock: FakeClock) -> Ownership:
    """Principal acme (Anna, Bob) forwards leads to partner globex (Paul, Petra); initech (Ian) takes no part."""
    own = make(presets.lead_exchange(), clock)
    for tenant, names in (("acme", ("Anna", "Bob")), ("globex", ("Paul", "Petra")), ("initech", ("Ian",))):
        own.add_tenant(tenant)
        for name in names:
            own.add_user(tenant, name, id=name.lower())
    return own


def test_x2_ld7_history_of_a_forwarded_lead_shows_each_company_its_own_changes(
    leads: Ownership, clock: FakeClock
) -> None:
    created = clock.now
    lead = leads.create("lead", actor="anna", id="L-1")
    shared = clock.advance(hours=1)
    leads.share(lead, "globex", actor="anna")
    accepted = clock.advance(hours=1)
    leads.accept(lead, actor="paul")
    ref = lead.ref

    acme_sees = leads.history(lead, viewer="anna")
    assert [(type(e), e.at) for e in acme_sees] == [
        (RecordCreated, created),
        (Assigned, created),
        (RecordShared, shared),
        (ShareAccepted, accepted),
    ]
    assert [e for e in acme_sees if isinstance(e, Assigned | Unassigned)] == [
        Assigned(ref, "colleague", ANNA, "acme", "anna", created, private_to="acme"),
    ]
    assert [e for e in leads.history(lead, viewer="paul") if isinstance(e, Assigned | Unassigned)] == [
        Assigned(ref, "colleague", Assignee.user("paul"), "globex", "paul", accepted, private_to="globex"),
    ]


def test_x2_ld7_holders_at_answers_only_for_the_viewers_company(leads: Ownership, clock: FakeClock) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")
    leads.share(lead, "globex", actor="anna")
    accepted = clock.advance(hours=1)
    leads.accept(lead, actor="paul")
    handed_over = clock.advance(days=1)
    leads.assign(lead, "colleague", Assignee.user("petra"), actor="paul")
    leads.assign(lead, "colleague", BOB, actor="anna")

    assert leads.holders_at(lead, "colleague", accepted, viewer="paul") == (Assignee.user("paul"),)
    assert leads.holders_at(lead, "colleague", handed_over, viewer="paul") == (Assignee.user("petra"),)
    assert leads.holders_at(lead, "colleague", accepted, viewer="anna") == (ANNA,)
    assert leads.holders_at(lead, "colleague", handed_over, viewer="anna") == (BOB,)
    assert leads.holders_at(lead, "colleague", handed_over, tenant="acme") == (BOB,)
    with pytest.raises(InvalidValueError, match=r"differ between the tenants .*; pass viewer= or tenant="):
        leads.holders_at(lead, "colleague", handed_over)  # no viewer, no tenant: whose answer?


def test_x2_ld7_company_without_part_in_the_lead_reads_no_history(leads: Ownership, clock: FakeClock) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")

    with pytest.raises(ForeignActorError):
        leads.history(lead, viewer="ian")
    with pytest.raises(ForeignActorError):
        leads.holders_at(lead, "colleague", clock.now, viewer="ian")


def test_ld7_assignments_hide_the_other_companys_actor_as_history_does(clock: FakeClock) -> None:
    own = make(presets.account_managers(), clock)
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("globex", "Gina", id="gina")
    deal = own.create("deal", actor="anna", id="D-1")
    own.share(deal, "globex", actor="anna")
    own.accept(deal, actor="gina")

    [seen_by_gina] = own.assignments(deal, viewer="gina")
    [seen_by_anna] = own.assignments(deal, viewer="anna")

    assert seen_by_gina.actor is None
    assert seen_by_anna.actor == "anna"
