"""The holders room (src/ownership/usecases/holders.py): assign, claim and release, under access and pools (CG10)."""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from conftest import access_crm, make, refused, seen
from ownership import (
    Access,
    AccessDeniedError,
    Assigned,
    Assignee,
    ClaimError,
    ForeignActorError,
    GroupKind,
    MandatoryRoleError,
    Ownership,
    Policy,
    Profile,
    Record,
    RecordRef,
    Role,
    Rulebook,
    Unassigned,
    presets,
)
from ownership.access import restricted
from ownership.testing import FakeClock

crm = access_crm
"""The fixture these tests ask for as `crm`: Acme's companies and deals (tests/conftest.py)."""


ANNA, BOB, DORA, RITA = (Assignee.user(name) for name in ("anna", "bob", "dora", "rita"))
SUPPORT = Assignee.group("support")
W1 = RecordRef("follow_up", "W-1")


# --- CG10: teams are pools ------------------------------------------------------------------------


def test_cg10_claim_moves_the_role_from_the_team_to_the_member_and_release_puts_it_back(pool: Ownership) -> None:
    assert pool.claim(W1, "team", actor="bob") == (BOB,)
    assert pool.holders(W1, "team") == (BOB,)

    assert pool.release(W1, "team", actor="bob") == (SUPPORT,)
    assert pool.holders(W1, "team") == (SUPPORT,)
    assert [
        (type(e).__name__, e.assignee, e.actor) for e in pool.history(W1) if isinstance(e, Assigned | Unassigned)
    ] == [
        ("Assigned", SUPPORT, "anna"),
        ("Unassigned", SUPPORT, "bob"),
        ("Assigned", BOB, "bob"),
        ("Unassigned", BOB, "bob"),
        ("Assigned", SUPPORT, "bob"),
    ]


def test_cg10_two_members_claiming_at_once_exactly_one_wins(pool: Ownership) -> None:
    for n in range(20):
        work = pool.create("follow_up", actor="anna", id=f"R-{n:02}", holders={"team": SUPPORT})

        outcomes = claim_at_once(pool, work, ("bob", "carl"))

        winners = [user for user, outcome in outcomes.items() if not isinstance(outcome, ClaimError)]
        assert len(winners) == 1, outcomes
        (winner,) = winners
        assert outcomes[winner] == (Assignee.user(winner),)
        (loser,) = set(outcomes) - {winner}
        assert isinstance(outcomes[loser], ClaimError)
        assert f"held by user {winner}" in str(outcomes[loser])
        assert pool.holders(work, "team") == (Assignee.user(winner),)
        assert [e.assignee for e in pool.history(work) if isinstance(e, Unassigned)] == [SUPPORT]


def claim_at_once(own: Ownership, work: Record, users: tuple[str, ...]) -> dict[str, object]:
    """Let every user claim `work`'s team role at the same moment, each from a thread; return each outcome."""
    barrier = threading.Barrier(len(users))
    outcomes: dict[str, object] = {}

    def claim(user: str) -> None:
        barrier.wait()
        try:
            outcomes[user] = own.claim(work, "team", actor=user)
        except ClaimError as error:
            outcomes[user] = error

    threads = [threading.Thread(target=claim, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert set(outcomes) == set(users), "a claim neither succeeded nor was refused"
    return outcomes


def test_cg10_only_a_member_of_the_team_can_claim(pool: Ownership) -> None:
    with refused(pool, ClaimError, "Dora is not a member of team 'Support', which holds follow_up W-1"):
        pool.claim(W1, "team", actor="dora")


def test_cg10_x5_a_deputy_member_can_claim_until_the_cover_ends(pool: Ownership, clock: FakeClock) -> None:
    pool.add_member("support", "dora", until=clock.now + timedelta(days=1))
    clock.advance(days=1)

    with refused(pool, ClaimError, "Dora is not a member of team 'Support'"):
        pool.claim(W1, "team", actor="dora")

    pool.add_member("support", "dora", until=clock.now + timedelta(days=1))
    assert pool.claim(W1, "team", actor="dora") == (DORA,)


def test_cg10_work_already_taken_cannot_be_claimed(pool: Ownership) -> None:
    pool.claim(W1, "team", actor="bob")

    with refused(pool, ClaimError, r"The team of follow_up W-1 is in no team's pool \(held by user bob\)"):
        pool.claim(W1, "team", actor="carl")


def test_cg10_only_the_holder_can_release(pool: Ownership) -> None:
    pool.claim(W1, "team", actor="bob")

    with refused(pool, ClaimError, "Carl does not hold the team of follow_up W-1; there is nothing to release"):
        pool.release(W1, "team", actor="carl")


def test_cg10_work_no_team_ever_held_cannot_be_released(pool: Ownership) -> None:
    direct = pool.create("follow_up", actor="anna", id="W-2", holders={"team": BOB})

    with refused(pool, ClaimError, "No team ever held the team of follow_up W-2"):
        pool.release(direct, "team", actor="bob")


ANNA, BOB = Assignee.user("anna"), Assignee.user("bob")
C1, C2, C3 = (RecordRef("company", f"C-{n}") for n in (1, 2, 3))
D1, D2 = RecordRef("deal", "D-1"), RecordRef("deal", "D-2")


# --- writes are guarded by the actor's assign right ------------------------------------------


WRITES: dict[str, Callable[[Ownership], object]] = {
    "assign": lambda own: own.assign(D1, "responsible", BOB, actor="bob"),
    "unassign": lambda own: own.unassign(D1, "responsible", ANNA, actor="bob"),
    "replace": lambda own: own.replace(D1, "responsible", ANNA, BOB, actor="bob"),
    "assign-company": lambda own: own.assign(C2, "account_manager", BOB, actor="bob"),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_tl4_write_by_an_actor_who_may_not_assign_is_refused_and_changes_nothing(
    crm: Ownership, write: Callable[[Ownership], object]
) -> None:
    with refused(crm, AccessDeniedError, r"Bob may not change who holds (deal D-1|company C-2): the rule to assign"):
        write(crm)


def test_tl4_restricted_actor_may_hand_their_own_deal_over_and_then_no_longer_sees_it(crm: Ownership) -> None:
    assert crm.assign(D2, "responsible", ANNA, actor="bob") == (ANNA,)

    assert seen(crm, "bob", "deal") == []
    with refused(crm, AccessDeniedError, "may not change who holds deal D-2"):
        crm.assign(D2, "responsible", BOB, actor="bob")


# --- CG10: claiming from and releasing to a pool are changes of holders, guarded too ---------------


W1 = RecordRef("follow_up", "W-1")
SUPPORT = Assignee.group("support")


@pytest.fixture
def guarded_pool(clock: FakeClock) -> Ownership:
    """Follow-ups everyone sees, but only users without restricted follow-up access may change holders.

    Team Support (Bob, Rita; Rita's access is restricted) holds W-1.
    """
    policy = Policy(
        "follow_up", (Role("team", groups={GroupKind.TEAM}),), access=Access(assign=~restricted("follow_up"))
    )
    own = make(Rulebook((policy,)), clock)
    own.add_tenant("acme")
    own.add_user("acme", "Bob", id="bob")
    own.add_user("acme", "Rita", id="rita", profile=Profile(restricted={"follow_up"}))
    own.add_group("acme", "Support", GroupKind.TEAM, id="support")
    own.add_member("support", "bob")
    own.add_member("support", "rita")
    own.create("follow_up", actor="bob", id="W-1", holders={"team": SUPPORT})
    return own


def test_cg10_claim_is_guarded_by_the_assign_rule(guarded_pool: Ownership) -> None:
    assert seen(guarded_pool, "rita", "follow_up") == ["W-1"]
    assert seen(guarded_pool, "rita", "follow_up", "assign") == []

    with refused(guarded_pool, AccessDeniedError, "Rita may not change who holds follow_up W-1"):
        guarded_pool.claim(W1, "team", actor="rita")


def test_cg10_release_is_guarded_by_the_assign_rule(guarded_pool: Ownership) -> None:
    guarded_pool.claim(W1, "team", actor="bob")
    guarded_pool.update_user("bob", profile=Profile(restricted={"follow_up"}))

    with refused(guarded_pool, AccessDeniedError, "Bob may not change who holds follow_up W-1"):
        guarded_pool.release(W1, "team", actor="bob")


def test_ld7_a_partner_cannot_change_the_home_companys_holders(clock: FakeClock) -> None:
    own = make(presets.account_managers(), clock)
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.add_user("globex", "Otto", id="otto")
    deal = own.create("deal", actor="anna", id="D-1")
    own.share(deal, "globex", actor="anna")
    own.accept(deal, actor="otto")
    before = own.snapshot()

    with pytest.raises(
        ForeignActorError, match="Only tenant 'acme' changes the responsible of deal D-1; Otto of 'globex' cannot"
    ):
        own.assign(deal, "responsible", Assignee.user("bob"), actor="otto")

    assert own.snapshot() == before


def test_cg10_claim_and_release_keep_a_role_at_its_minimum(clock: FakeClock) -> None:
    pool = Role("team", min=2, max=None, groups={GroupKind.TEAM})
    own = make(Rulebook((Policy("follow_up", (pool,)),)), clock)
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna")
    own.add_group("acme", "Support", GroupKind.TEAM, id="support")
    own.add_member("support", "anna")
    support, anna = Assignee.group("support"), Assignee.user("anna")
    work = own.create("follow_up", actor="anna", id="W-1", holders={"team": [support, anna]})
    before = own.snapshot()

    with pytest.raises(MandatoryRoleError, match="must keep 2 team"):
        own.claim(work, "team", actor="anna")

    assert own.snapshot() == before
    clock.advance(minutes=1)
    assert own.holders(work, "team") == (support, anna)
