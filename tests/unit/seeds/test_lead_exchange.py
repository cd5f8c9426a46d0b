"""Colleagues on leads shared between a principal and its sales partners, as seed 002 describes: LD1-LD7."""

import pytest

from conftest import make
from ownership import (
    Assigned,
    Assignee,
    ForeignActorError,
    ForeignTenantError,
    InactiveUserError,
    InvalidValueError,
    NotHeldError,
    Ownership,
    Record,
    ShareError,
    Unassigned,
    UnknownUserError,
    presets,
)
from ownership.testing import FakeClock

ANNA, BOB, PAUL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("paul")


@pytest.fixture
def leads(clock: FakeClock) -> Ownership:
    """Principal acme (Anna, Bob, inactive Carl) forwards leads to sales partner globex (Paul, Petra)."""
    own = make(presets.lead_exchange(), clock)
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_tenant("initech")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.add_user("acme", "Carl", id="carl", active=False)
    own.add_user("globex", "Paul", id="paul")
    own.add_user("globex", "Petra", id="petra")
    own.add_user("initech", "Ian", id="ian")
    return own


@pytest.fixture
def forwarded(leads: Ownership) -> Record:
    """Lead L-1, created by Anna at acme, forwarded to globex and accepted there by Paul."""
    lead = leads.create("lead", actor="anna", id="L-1")
    leads.share(lead, "globex", actor="anna")
    return leads.accept(lead, actor="paul")


def names(events: tuple[object, ...]) -> set[str]:
    """Every user id an event list names, as actor or as assignee."""
    found = {getattr(e, "actor", None) for e in events}
    found |= {e.assignee.id for e in events if isinstance(e, Assigned | Unassigned)}
    return found - {None}


# --- LD1: one colleague, or nobody -----------------------------------------------------


def test_ld1_lead_can_be_assigned_to_nobody(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1", manual=False)

    assert leads.holders(lead, "colleague") == ()


def test_ld1_assigning_another_colleague_replaces_the_one_assigned(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")

    holders = leads.assign(lead, "colleague", Assignee.user("bob"), actor="anna")

    assert holders == (BOB,)
    assert leads.holders(lead, "colleague") == (BOB,)


# --- LD2: only active colleagues of the same company -------------------------------------


def test_ld2_inactive_colleague_cannot_be_assigned(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")

    with pytest.raises(InactiveUserError, match=r"Carl \(carl\) is inactive"):
        leads.assign(lead, "colleague", Assignee.user("carl"), actor="anna")

    assert leads.holders(lead, "colleague") == (ANNA,)


def test_ld2_ld7_colleague_of_another_company_cannot_be_assigned_and_is_unknown_to_the_actor(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")

    # Anna learns no more of Paul than of an id no one has (LD7).
    with pytest.raises(UnknownUserError, match=r"^There is no user 'paul'; add them with add_user first\.$"):
        leads.assign(lead, "colleague", PAUL, actor="anna")
    with pytest.raises(UnknownUserError, match=r"^There is no user 'nobody'; add them with add_user first\.$"):
        leads.assign(lead, "colleague", Assignee.user("nobody"), actor="anna")
    # The host, who acts for no tenant, is told what is wrong.
    with pytest.raises(ForeignTenantError, match="Paul belongs to tenant 'globex'"):
        leads.create("lead", actor=None, tenant="acme", holders={"colleague": PAUL})

    assert leads.holders(lead, "colleague") == (ANNA,)


def test_ld2_no_assignment_across_companies_even_on_a_forwarded_lead(leads: Ownership, forwarded: Record) -> None:
    with pytest.raises(UnknownUserError):
        leads.assign(forwarded, "colleague", PAUL, actor="anna")
    with pytest.raises(UnknownUserError):
        leads.assign(forwarded, "colleague", BOB, actor="paul")

    assert leads.holders(forwarded, "colleague", viewer="anna") == (ANNA,)
    assert leads.holders(forwarded, "colleague", viewer="paul") == (PAUL,)


def test_ld2_inactive_colleague_cannot_be_named_when_creating(leads: Ownership) -> None:
    with pytest.raises(InactiveUserError):
        leads.create("lead", actor="anna", id="L-1", holders={"colleague": Assignee.user("carl")})

    assert leads.snapshot().records == ()


# --- LD5: remove or change at any time -------------------------------------------------


def test_ld5_assignment_can_be_removed(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")

    assert leads.unassign(lead, "colleague", ANNA, actor="anna") == ()
    assert leads.holders(lead, "colleague") == ()


def test_ld5_assignment_can_be_changed_again_and_again_by_any_colleague(leads: Ownership, clock: FakeClock) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")

    clock.advance(days=1)
    leads.assign(lead, "colleague", BOB, actor="anna")
    clock.advance(days=1)
    leads.replace(lead, "colleague", BOB, ANNA, actor="bob")
    clock.advance(days=1)
    leads.unassign(lead, "colleague", ANNA, actor="bob")
    leads.assign(lead, "colleague", BOB, actor="bob")

    assert leads.holders(lead, "colleague") == (BOB,)


def test_ld5_removing_a_colleague_who_is_not_assigned_is_refused(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")

    with pytest.raises(NotHeldError, match="does not hold the colleague"):
        leads.unassign(lead, "colleague", BOB, actor="anna")


# --- LD6: auto-assignment on manual creation and on accepting an offer ---------------------


def test_ld6_lead_created_by_hand_is_assigned_to_its_creator(leads: Ownership) -> None:
    lead = leads.create("lead", actor="bob", id="L-1")

    assert leads.holders(lead, "colleague") == (BOB,)


def test_ld6_lead_created_by_a_mechanism_is_assigned_to_nobody(leads: Ownership) -> None:
    imported = leads.create("lead", actor="anna", id="L-1", manual=False)
    by_host = leads.create("lead", actor=None, tenant="acme", id="L-2")

    assert leads.holders(imported, "colleague") == ()
    assert leads.holders(by_host, "colleague") == ()


def test_ld6_accepted_offer_is_assigned_to_the_acceptor_in_their_own_company(
    leads: Ownership, forwarded: Record
) -> None:
    assert leads.holders(forwarded, "colleague", viewer="paul") == (PAUL,)
    assert leads.holders(forwarded, "colleague", viewer="anna") == (ANNA,)
    [mine] = leads.assignments(forwarded, viewer="paul")
    assert (mine.tenant, mine.assignee, mine.actor) == ("globex", PAUL, "paul")


def test_ld6_auto_assignment_on_creation_can_be_undone_right_away(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")

    assert leads.unassign(lead, "colleague", ANNA, actor="anna") == ()


def test_ld6_auto_assignment_on_acceptance_can_be_undone_or_changed_right_away(
    leads: Ownership, forwarded: Record
) -> None:
    assert leads.assign(forwarded, "colleague", Assignee.user("petra"), actor="paul") == (Assignee.user("petra"),)
    assert leads.unassign(forwarded, "colleague", Assignee.user("petra"), actor="paul") == ()

    assert leads.holders(forwarded, "colleague", viewer="anna") == (ANNA,)  # the principal's slot is untouched


# --- LD7: sharing, and assignments private to each company ---------------------------------


def test_ld7_each_company_sees_only_its_own_colleague(leads: Ownership, forwarded: Record) -> None:
    leads.assign(forwarded, "colleague", BOB, actor="anna")

    assert leads.holders(forwarded, "colleague", viewer="anna") == (BOB,)
    assert leads.holders(forwarded, "colleague", viewer="paul") == (PAUL,)
    assert leads.holders(forwarded, "colleague", tenant="acme") == (BOB,)  # the host names whose view to take
    assert [(a.tenant, a.assignee) for a in leads.assignments(forwarded, viewer="anna")] == [("acme", BOB)]
    assert [(a.tenant, a.assignee) for a in leads.assignments(forwarded, viewer="paul")] == [("globex", PAUL)]


def test_ld7_history_shows_each_company_only_its_own_assignments(leads: Ownership, forwarded: Record) -> None:
    leads.assign(forwarded, "colleague", BOB, actor="anna")

    acme_sees = leads.history(forwarded, viewer="anna")
    globex_sees = leads.history(forwarded, viewer="paul")

    assert {e.assignee for e in acme_sees if isinstance(e, Assigned | Unassigned)} == {ANNA, BOB}
    assert {e.assignee for e in globex_sees if isinstance(e, Assigned | Unassigned)} == {PAUL}


def test_ld7_principals_history_does_not_reveal_the_partners_colleague(leads: Ownership, forwarded: Record) -> None:
    # By LD6 whoever accepts the offer becomes the partner's colleague on the lead; an event
    # naming the acceptor tells the principal who is assigned at the partner.
    acme_sees = leads.history(forwarded, viewer="anna")

    assert names(acme_sees) <= {"anna", "bob", "carl"}


def test_ld7_partners_history_does_not_reveal_the_principals_colleague(leads: Ownership, forwarded: Record) -> None:
    # By LD6 the creator of a manual lead becomes the principal's colleague on it; an event
    # naming the creator tells the partner who is assigned at the principal.
    globex_sees = leads.history(forwarded, viewer="paul")

    assert names(globex_sees) <= {"paul", "petra"}


def test_ld7_lead_lists_carry_each_companys_own_colleague(leads: Ownership, forwarded: Record) -> None:
    [acme_row] = leads.visible("anna", "lead").rows
    [globex_row] = leads.visible("paul", "lead").rows

    assert [a.assignee for a in acme_row.assignments] == [ANNA]
    assert [a.assignee for a in globex_row.assignments] == [PAUL]


def test_ld7_company_the_lead_is_not_shared_with_cannot_read_or_change_it(leads: Ownership, forwarded: Record) -> None:
    with pytest.raises(ForeignActorError, match="not shared with tenant 'initech'"):
        leads.holders(forwarded, "colleague", viewer="ian")
    with pytest.raises(ForeignActorError):
        leads.assignments(forwarded, viewer="ian")
    with pytest.raises(ForeignActorError):
        leads.history(forwarded, viewer="ian")
    with pytest.raises(ForeignActorError):
        leads.assign(forwarded, "colleague", Assignee.user("ian"), actor="ian")


def test_ld7_offered_but_not_yet_accepted_lead_stays_closed_to_the_partner(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")
    leads.share(lead, "globex", actor="anna")

    with pytest.raises(ForeignActorError):
        leads.holders(lead, "colleague", viewer="paul")
    with pytest.raises(ForeignActorError):
        leads.assign(lead, "colleague", PAUL, actor="paul")


def test_ld7_lead_cannot_be_shared_with_its_home_company(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")

    with pytest.raises(ShareError, match="already offered to or shared with tenant 'acme'"):
        leads.share(lead, "acme", actor="anna")


def test_ld7_lead_cannot_be_shared_twice_with_the_same_partner(leads: Ownership, forwarded: Record) -> None:
    lead = leads.create("lead", actor="anna", id="L-2")
    leads.share(lead, "globex", actor="anna")

    with pytest.raises(ShareError, match="'globex'"):
        leads.share(lead, "globex", actor="bob")  # offered, not yet accepted
    with pytest.raises(ShareError, match="'globex'"):
        leads.share(forwarded, "globex", actor="anna")  # accepted already


def test_ld7_lead_not_offered_cannot_be_accepted(leads: Ownership, forwarded: Record) -> None:
    lead = leads.create("lead", actor="anna", id="L-2")

    with pytest.raises(ShareError, match="not offered to tenant 'globex'"):
        leads.accept(lead, actor="paul")
    with pytest.raises(ShareError):
        leads.accept(forwarded, actor="petra")  # accepted once already
    with pytest.raises(ShareError):
        leads.accept(lead, actor="bob")  # the home company has nothing to accept


def test_ld7_only_the_home_company_can_share_a_lead(leads: Ownership, forwarded: Record) -> None:
    with pytest.raises(ForeignActorError, match="Only tenant 'acme' can share"):
        leads.share(forwarded, "initech", actor="paul")

    assert leads.record(forwarded.ref).offered_to == frozenset()


def test_ld7_sharing_and_accepting_record_the_partner(leads: Ownership, forwarded: Record) -> None:
    assert forwarded.shared_with == frozenset({"globex"})
    assert forwarded.offered_to == frozenset()
    assert forwarded.tenants == frozenset({"acme", "globex"})


def test_ld7_an_activity_returns_to_its_actor_only_the_notices_of_their_own_company(
    leads: Ownership, forwarded: Record
) -> None:
    told_by_bob = leads.record_activity(forwarded, "note_added", actor="bob")
    told_by_host = leads.record_activity(forwarded, "note_added", actor=None)

    assert [n.recipient for n in told_by_bob] == ["anna"]  # Paul is told too, but Bob does not learn it
    assert {n.recipient for n in told_by_host} == {"anna", "paul"}
    assert {e.notification.recipient for e in leads.outbox() if e.notification.activity == "note_added"} == {
        "anna",
        "paul",
    }


def test_ld7_a_notices_key_counts_only_what_its_recipients_company_may_read(
    leads: Ownership, forwarded: Record
) -> None:
    leads.record_activity(forwarded, "note_added", actor=None)
    before = {n.recipient: n.key for n in (e.notification for e in leads.outbox()) if n.activity == "note_added"}
    for _ in range(3):  # acme's private changes: its colleague handed back and forth
        leads.assign(forwarded, "colleague", BOB, actor="anna")
        leads.assign(forwarded, "colleague", ANNA, actor="bob")
    told = leads.record_activity(forwarded, "note_added", actor=None)
    keys = {n.recipient: n.key for n in told}

    paul_then, paul_now = before["paul"].split("/")[2], keys["paul"].split("/")[2]
    anna_then, anna_now = before["anna"].split("/")[2], keys["anna"].split("/")[2]
    assert int(paul_now) == int(paul_then) + 1  # only the note itself is new to globex
    assert int(anna_now) > int(anna_then) + 1  # acme reads its own changes
    assert len({e.notification.key for e in leads.outbox()}) == len(leads.outbox())


def test_ld7_reads_without_viewer_name_a_tenant_where_a_shared_records_tenants_see_it_apart(
    leads: Ownership, forwarded: Record
) -> None:
    refusal = r"pass viewer= or tenant= to say whose view to take"
    with pytest.raises(InvalidValueError, match=refusal):
        leads.holders(forwarded, "colleague")
    with pytest.raises(InvalidValueError, match=refusal):
        leads.assignments(forwarded)
    with pytest.raises(InvalidValueError, match=refusal):
        leads.history(forwarded)

    assert leads.holders(forwarded, "colleague", tenant="acme") == (ANNA,)
    assert leads.holders(forwarded, "colleague", tenant="globex") == (PAUL,)
    assert leads.assignments(forwarded, tenant="globex") == leads.assignments(forwarded, viewer="petra")
    assert leads.history(forwarded, tenant="acme") == leads.history(forwarded, viewer="bob")
    with pytest.raises(ForeignActorError, match="not shared with tenant 'initech'"):
        leads.holders(forwarded, "colleague", tenant="initech")
    # A lead kept at home reads the same for everyone: no tenant needs naming.
    home = leads.create("lead", actor="bob", id="L-2")
    assert leads.holders(home, "colleague") == (BOB,)
