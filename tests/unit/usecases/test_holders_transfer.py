"""The holders room (src/ownership/usecases/holders.py): transfer, offboarding in one unit of work (X3, LD8)."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from conftest import make
from ownership import (
    ASSIGNED,
    AccessDeniedError,
    Assigned,
    Assignee,
    ForeignTenantError,
    GroupKind,
    InactiveUserError,
    InvalidValueError,
    MandatoryRoleError,
    Notification,
    Ownership,
    OwnershipError,
    Policy,
    RecordRef,
    Role,
    Rulebook,
    Unassigned,
    UnknownUserError,
    presets,
)
from ownership.adapters.sql import SqlRepository
from ownership.testing import FakeClock, RecordingNotifier

ANNA, BOB, DORA = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("dora")
PAUL = Assignee.user("paul")
C1, C2 = RecordRef("company", "C-1"), RecordRef("company", "C-2")
D1, D2 = RecordRef("deal", "D-1"), RecordRef("deal", "D-2")
P1, T1, L1 = RecordRef("project", "P-1"), RecordRef("ticket", "T-1"), RecordRef("lead", "L-1")
ANNAS_HOLDINGS = 7
"""What Anna holds in `populate`: C-1, C-2, D-1 twice, L-1 in acme's slot, P-1 (with Bob) and T-1."""


def populate(own: Ownership) -> Ownership:
    """Fill an Ownership on `account_managers() | lead_exchange()` with the scene `crm` describes."""
    own.add_tenant("acme", plan="boost", switches={presets.SECOND_ACCOUNT_MANAGER})
    own.add_tenant("globex")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.add_user("acme", "Dora", id="dora")
    own.add_user("acme", "Carl", id="carl", active=False)
    own.add_user("acme", "Ada", id="ada", admin=True)
    own.add_user("acme", "Ivo", id="ivo", admin=True, active=False)
    own.add_user("globex", "Paul", id="paul")
    own.add_user("globex", "Petra", id="petra")
    own.add_user("globex", "Gus", id="gus", admin=True)
    own.create("company", actor="anna", id="C-1", holders={"account_manager": ANNA})
    own.create("company", actor="anna", id="C-2", holders={"account_manager": DORA, "second_account_manager": ANNA})
    own.create("deal", actor="anna", id="D-1", holders={"responsible": ANNA, "second_responsible": ANNA})
    own.create("deal", actor="bob", id="D-2")
    own.create("project", actor="anna", id="P-1", holders={"manager": [ANNA, BOB]})
    own.create("ticket", actor="anna", id="T-1", holders={"responsible": ANNA})
    own.create("lead", actor="anna", id="L-1")
    own.share(L1, "globex", actor="anna")
    own.accept(L1, actor="paul")
    return own


@pytest.fixture
def crm(clock: FakeClock) -> Ownership:
    """Acme (plan boost, second manager on) and its sales partner globex, on the account-manager and lead rules.

    Acme: Anna, who leaves; Bob, her successor; Dora; inactive Carl; admin Ada; inactive admin Ivo.
    Globex: Paul, Petra and admin Gus.
    Anna manages company C-1, is second manager of C-2 (Dora's), responsible and second responsible
    of deal D-1, manager of project P-1 with Bob, responsible of ticket T-1, and colleague of lead
    L-1 in acme's slot; L-1 is forwarded to globex, where Paul accepted it. Bob is responsible of D-2.
    """
    return populate(make(presets.account_managers() | presets.lead_exchange(), clock))


@contextmanager
def refused(own: Ownership, error: type[OwnershipError], match: str) -> Iterator[None]:
    """Expect `error`, an `OwnershipError` with a sentence matching `match`, and the repository exactly as it was."""
    before = own.snapshot()
    with pytest.raises(error, match=match) as caught:
        yield
    assert isinstance(caught.value, OwnershipError)
    message = str(caught.value)
    assert message.strip(), "an empty message"
    assert message.endswith("."), f"not a sentence: {message!r}"
    assert own.snapshot() == before


def holdings_of(own: Ownership, user: str) -> list[tuple[str, str, str, str]]:
    """Every (kind, id, role, slot) the user holds, in every tenant's slot."""
    return sorted(
        (a.record.kind, a.record.id, a.role, a.tenant)
        for a in own.snapshot().assignments
        if a.assignee == Assignee.user(user)
    )


def told(notifications: list[Notification]) -> list[tuple[str, str, str, str | None]]:
    """Each notification as (recipient, record, activity, actor), sorted."""
    return sorted((n.recipient, str(n.record), n.activity, n.actor) for n in notifications)


def new_notifications(own: Ownership) -> list[Notification]:
    """Deliver what is pending to a fresh notifier and return what it was given."""
    notifier = RecordingNotifier()
    own.dispatch(notifier)
    return notifier.sent


def assert_anna_handed_everything_to_bob(own: Ownership) -> None:
    assert holdings_of(own, "anna") == []
    assert own.holders(C1, "account_manager") == (BOB,)
    assert own.holders(C2, "account_manager") == (DORA,)
    assert own.holders(C2, "second_account_manager") == (BOB,)
    assert own.holders(D1, "responsible") == (BOB,)
    assert own.holders(D1, "second_responsible") == (BOB,)
    assert own.holders(D2, "responsible") == (BOB,)
    assert own.holders(P1, "manager") == (BOB,)
    assert own.holders(T1, "responsible") == (BOB,)
    assert own.holders(L1, "colleague", viewer="bob") == (BOB,)
    assert own.holders(L1, "colleague", viewer="paul") == (PAUL,)


# --- X3: everything moves, in one go ----------------------------------------------------------


def test_x3_transfer_moves_every_holding_across_kinds_and_returns_the_count(crm: Ownership) -> None:
    moved = crm.transfer("anna", "bob", actor="ada")

    assert moved == ANNAS_HOLDINGS
    assert_anna_handed_everything_to_bob(crm)


def test_x3_transfer_leaves_other_users_holdings_alone(crm: Ownership) -> None:
    dora, paul = holdings_of(crm, "dora"), holdings_of(crm, "paul")

    crm.transfer("anna", "bob", actor="ada")

    assert holdings_of(crm, "dora") == dora == [("company", "C-2", "account_manager", "acme")]
    assert holdings_of(crm, "paul") == paul == [("lead", "L-1", "colleague", "globex")]


def test_x3_ld7_transfer_moves_a_private_role_in_the_partners_own_slot(crm: Ownership) -> None:
    moved = crm.transfer("paul", "petra", actor="gus")

    assert moved == 1
    assert crm.holders(L1, "colleague", viewer="petra") == (Assignee.user("petra"),)
    assert crm.holders(L1, "colleague", viewer="anna") == (ANNA,)


def test_x3_ld2_inactive_leaver_can_be_offboarded_and_audit_finds_no_inactive_holder(crm: Ownership) -> None:
    crm.update_user("anna", active=False)
    assert {(f.kind, f.subject) for f in crm.audit("acme") if f.kind == "inactive_holder"} == {
        ("inactive_holder", "deal D-1"),
        ("inactive_holder", "project P-1"),
    }

    moved = crm.transfer("anna", "bob", actor="ada")

    assert moved == ANNAS_HOLDINGS
    assert_anna_handed_everything_to_bob(crm)
    assert [f for f in crm.audit("acme") if f.kind == "inactive_holder"] == []


def test_x3_host_can_transfer_without_an_actor(crm: Ownership) -> None:
    assert crm.transfer("anna", "bob") == ANNAS_HOLDINGS

    assert_anna_handed_everything_to_bob(crm)


def test_x3_group_holdings_are_not_moved_only_the_users_own(clock: FakeClock) -> None:
    own = make(presets.caretaker_groups(), clock)
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    inbox = own.add_group("acme", "Inbox", GroupKind.TEAM, id="inbox")
    own.add_member(inbox, "anna")
    own.create("follow_up", actor="anna", id="F-1", holders={"team": inbox})
    own.create("follow_up", actor="anna", id="F-2", holders={"team": ANNA})

    moved = own.transfer("anna", "bob")

    assert moved == 1
    assert own.holders(RecordRef("follow_up", "F-1"), "team") == (Assignee.group("inbox"),)
    assert own.holders(RecordRef("follow_up", "F-2"), "team") == (BOB,)
    assert [u.id for u in own.members(inbox)] == ["anna"]


def test_x3_transfer_with_nothing_to_move_returns_zero_and_changes_nothing(crm: Ownership) -> None:
    crm.add_user("acme", "Nia", id="nia")
    before = crm.snapshot()

    assert crm.transfer("nia", "bob", actor="ada") == 0
    assert crm.snapshot() == before


# --- TL2, TL7: mandatory roles stay filled --------------------------------------------------------


def test_x3_tl2_deal_responsible_goes_straight_to_the_successor(crm: Ownership, clock: FakeClock) -> None:
    before = clock.now
    moment = clock.advance(days=1)

    crm.transfer("anna", "bob", actor="ada")

    assert crm.holders_at(D1, "responsible", before) == (ANNA,)
    assert crm.holders_at(D1, "responsible", moment) == (BOB,)
    changes = [e for e in crm.history(D1) if isinstance(e, Assigned | Unassigned) and e.role == "responsible"]
    assert [(type(e), e.assignee) for e in changes[-2:]] == [(Unassigned, ANNA), (Assigned, BOB)]
    assert {e.at for e in changes[-2:]} == {moment}


def test_x3_tl2_tl7_every_mandatory_role_keeps_its_holders(crm: Ownership) -> None:
    crm.transfer("anna", "bob", actor="ada")

    for deal in (D1, D2):
        assert len(crm.holders(deal, "responsible")) == 1
    assert len(crm.holders(P1, "manager")) >= 1


# --- successor holding the role already -----------------------------------------------------------


def test_x3_successor_holding_the_role_already_gets_no_duplicate_but_it_counts(
    crm: Ownership, clock: FakeClock
) -> None:
    moment = clock.advance(hours=1)

    moved = crm.transfer("anna", "bob", actor="ada")

    assert moved == ANNAS_HOLDINGS  # P-1 counts, though Bob held it already
    assert crm.holders(P1, "manager") == (BOB,)
    assert crm.history(P1)[-1] == Unassigned(P1, "manager", ANNA, "acme", "ada", moment)
    assert not any(isinstance(e, Assigned) and e.at == moment for e in crm.history(P1))


def two_reviewers(clock: FakeClock) -> Ownership:
    """Acme with Anna, Bob, Cara and Dora on a rulebook whose cases keep two reviewers or more.

    K-1 is reviewed by Anna and Cara, K-2 by Anna and Bob: K-1 comes first, and could move to Bob.
    """
    own = make(Rulebook(policies=(Policy("case", (Role("reviewer", min=2, max=None, notified=True),)),)), clock)
    own.add_tenant("acme")
    for name in ("Anna", "Bob", "Cara", "Dora"):
        own.add_user("acme", name, id=name.lower())
    own.create("case", actor="anna", id="K-1", holders={"reviewer": [ANNA, Assignee.user("cara")]})
    own.create("case", actor="anna", id="K-2", holders={"reviewer": [ANNA, BOB]})
    return own


def test_x3_tl7_successor_holding_a_role_that_keeps_two_is_refused_and_nothing_moves(clock: FakeClock) -> None:
    own = two_reviewers(clock)

    with refused(own, MandatoryRoleError, "must keep 2 reviewer"):  # K-1 does not move either
        own.transfer("anna", "bob")


def test_x3_tl7_role_that_keeps_two_moves_to_a_successor_who_holds_it_nowhere(clock: FakeClock) -> None:
    own = two_reviewers(clock)

    assert own.transfer("anna", "dora") == 2

    assert own.holders(RecordRef("case", "K-1"), "reviewer") == (Assignee.user("cara"), DORA)
    assert own.holders(RecordRef("case", "K-2"), "reviewer") == (BOB, DORA)


# --- X2: history ---------------------------------------------------------------------------------


def test_x2_each_move_is_an_unassignment_then_an_assignment_by_the_actor(crm: Ownership, clock: FakeClock) -> None:
    moment = clock.advance(days=2)

    crm.transfer("anna", "bob", actor="ada")

    assert crm.history(C1)[-2:] == (
        Unassigned(C1, "account_manager", ANNA, "acme", "ada", moment),
        Assigned(C1, "account_manager", BOB, "acme", "ada", moment),
    )
    assert crm.history(T1)[-2:] == (
        Unassigned(T1, "responsible", ANNA, "acme", "ada", moment),
        Assigned(T1, "responsible", BOB, "acme", "ada", moment),
    )


def test_x2_host_transfer_records_no_actor(crm: Ownership, clock: FakeClock) -> None:
    moment = clock.advance(days=2)

    crm.transfer("anna", "bob")

    assert crm.history(C1)[-2:] == (
        Unassigned(C1, "account_manager", ANNA, "acme", None, moment),
        Assigned(C1, "account_manager", BOB, "acme", None, moment),
    )


def test_x2_ld7_moves_of_a_private_role_stay_private_to_their_tenant(crm: Ownership, clock: FakeClock) -> None:
    moment = clock.advance(days=2)

    crm.transfer("anna", "bob", actor="ada")

    assert crm.history(L1, viewer="bob")[-2:] == (
        Unassigned(L1, "colleague", ANNA, "acme", "ada", moment, private_to="acme"),
        Assigned(L1, "colleague", BOB, "acme", "ada", moment, private_to="acme"),
    )
    assert not [e for e in crm.history(L1, viewer="paul") if e.at == moment]


# --- LD8: who hears of it -------------------------------------------------------------------------


def test_ld8_successor_hears_of_every_notified_role_and_nobody_else_is_told(crm: Ownership) -> None:
    new_notifications(crm)  # what setting the scene told people

    crm.transfer("anna", "bob", actor="ada")

    # Not P-1: Bob held it already. Not T-1: a ticket's responsible hears only of its listed activities (TL8).
    # D-1 once: one change tells a user once of a record, though he takes two of its roles.
    assert told(new_notifications(crm)) == [
        ("bob", "company C-1", ASSIGNED, "ada"),
        ("bob", "company C-2", ASSIGNED, "ada"),
        ("bob", "deal D-1", ASSIGNED, "ada"),
        ("bob", "lead L-1", ASSIGNED, "ada"),
    ]


def test_x3_tl10_a_switched_off_role_moves_unseen_and_unheard_of(crm: Ownership) -> None:
    new_notifications(crm)
    crm.configure_tenant("acme", switches=set())  # the second manager and second responsible are hidden now

    crm.transfer("anna", "bob", actor="ada")

    # The hidden holdings move too, so they come back with Bob when the switch does; Bob hears only of what he can see.
    assert told(new_notifications(crm)) == [
        ("bob", "company C-1", ASSIGNED, "ada"),
        ("bob", "deal D-1", ASSIGNED, "ada"),
        ("bob", "lead L-1", ASSIGNED, "ada"),
    ]
    crm.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    assert crm.holders(C2, "second_account_manager") == (BOB,)


def test_ld8_host_transfer_tells_the_successor_with_no_actor(crm: Ownership) -> None:
    new_notifications(crm)

    crm.transfer("anna", "bob")

    assert {(n.recipient, n.actor) for n in new_notifications(crm)} == {("bob", None)}


def test_ld8_notifications_of_one_transfer_have_distinct_keys(crm: Ownership) -> None:
    new_notifications(crm)

    crm.transfer("anna", "bob", actor="ada")

    keys = [n.key for n in new_notifications(crm)]
    assert len(keys) == len(set(keys)) == 4


def test_ld8_actor_taking_over_holdings_themselves_is_not_told(crm: Ownership) -> None:
    new_notifications(crm)

    assert crm.transfer("anna", "ada", actor="ada") == ANNAS_HOLDINGS

    assert new_notifications(crm) == []
    assert crm.holders(D1, "responsible") == (Assignee.user("ada"),)


# --- refusals: typed, readable, and nothing changes -----------------------------------------------


def test_x3_unknown_leaving_user_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownUserError, "no user 'nobody'"):
        crm.transfer("nobody", "bob", actor="ada")


def test_x3_unknown_successor_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownUserError, "no user 'nobody'"):
        crm.transfer("anna", "nobody", actor="ada")


def test_x3_unknown_actor_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownUserError, "no user 'nobody'"):
        crm.transfer("anna", "bob", actor="nobody")


def test_x3_transfer_to_oneself_is_refused(crm: Ownership) -> None:
    with refused(crm, InvalidValueError, "Anna cannot hand their holdings to themselves"):
        crm.transfer("anna", "anna", actor="ada")


def test_x3_ld2_successor_of_another_tenant_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownUserError, "There is no user 'paul'; add them with add_user first."):
        crm.transfer("anna", "paul", actor="ada")
    with refused(crm, ForeignTenantError, "Paul belongs to tenant 'globex'"):
        crm.transfer("anna", "paul", actor=None)


def test_x3_ld2_inactive_successor_is_refused(crm: Ownership) -> None:
    with refused(crm, InactiveUserError, r"Carl \(carl\) is inactive"):
        crm.transfer("anna", "carl", actor="ada")


def test_x3_actor_who_is_not_an_admin_is_refused(crm: Ownership) -> None:
    with refused(crm, AccessDeniedError, "only an admin of 'acme' may"):
        crm.transfer("anna", "bob", actor="bob")


def test_x3_admin_of_another_tenant_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownUserError, "There is no user 'anna'; add them with add_user first."):
        crm.transfer("anna", "bob", actor="gus")


def test_x3_inactive_admin_is_refused(crm: Ownership) -> None:
    with refused(crm, InactiveUserError, r"Ivo \(ivo\) is inactive"):
        crm.transfer("anna", "bob", actor="ivo")


# --- X3 on the SQL repository ---------------------------------------------------------------------


def test_x3_transfer_on_the_sql_repository(clock: FakeClock) -> None:
    repository = SqlRepository.from_url("sqlite://")
    try:
        own = populate(Ownership(presets.account_managers() | presets.lead_exchange(), repository, clock=clock))
        new_notifications(own)
        moment = clock.advance(days=1)

        assert own.transfer("anna", "bob", actor="ada") == ANNAS_HOLDINGS

        assert_anna_handed_everything_to_bob(own)
        assert own.history(C1)[-2:] == (
            Unassigned(C1, "account_manager", ANNA, "acme", "ada", moment),
            Assigned(C1, "account_manager", BOB, "acme", "ada", moment),
        )
        sent = new_notifications(own)
        assert len({n.key for n in sent}) == len(sent) == 4  # Bob once for D-1, though he takes two of its roles
        assert {(n.recipient, n.activity, n.actor) for n in sent} == {("bob", ASSIGNED, "ada")}
    finally:
        repository.engine.dispose()
