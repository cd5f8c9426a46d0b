"""Units of work keep every answer right, and the guards around slots, shares and cover hold (X6, LD7, X5, CG10)."""

from datetime import datetime, timedelta

import pytest

from conftest import make
from ownership import (
    AccessDeniedError,
    Assignee,
    AutoAssign,
    ForeignActorError,
    GroupKind,
    InvalidValueError,
    MandatoryRoleError,
    Ownership,
    Policy,
    Profile,
    RecordRef,
    Role,
    Rulebook,
    Trigger,
    presets,
)
from ownership.adapters.memory import MemoryRepository
from ownership.testing import FakeClock

K1 = RecordRef("customer", "K-1")


def caretakers(repo: MemoryRepository, clock: FakeClock) -> Ownership:
    """Meier GmbH: admin Ada, Carl with no group yet; K-1 belongs to caretaker group North, which has no members."""
    own = Ownership(presets.caretaker_groups(), repo, clock=clock)
    own.add_tenant("meier-gmbh")
    own.add_user("meier-gmbh", "Ada", id="ada", admin=True)
    own.add_user("meier-gmbh", "Carl", id="carl")
    own.add_group("meier-gmbh", "North", GroupKind.CARETAKER, id="north")
    own.create("customer", actor="ada", id="K-1", holders={"caretaker_group": Assignee.group("north")})
    return own


def test_cg2_a_membership_rolled_back_grants_nothing_afterwards(clock: FakeClock) -> None:
    repo = MemoryRepository()
    own = caretakers(repo, clock)
    assert not own.can("carl", "view", K1)

    def failing_unit() -> None:
        with repo.transaction():
            own.add_member("north", "carl")
            assert own.can("carl", "view", K1), "a unit reads its own writes"
            raise RuntimeError("the host's unit fails")

    with pytest.raises(RuntimeError):
        failing_unit()

    assert own.groups_of("carl") == ()
    assert not own.can("carl", "view", K1)
    assert own.visible("carl", "customer").records == ()


def test_cg2_a_membership_added_inside_a_unit_counts_at_once_in_it(clock: FakeClock) -> None:
    repo = MemoryRepository()
    own = caretakers(repo, clock)
    assert not own.can("carl", "view", K1)  # Carl's viewer is now resolved and reused

    with repo.transaction():
        own.add_member("north", "carl")
        assert own.can("carl", "view", K1)
        assert [r.id for r in own.visible("carl", "customer").records] == ["K-1"]


def test_a_failed_inner_unit_takes_back_its_own_writes_alone(clock: FakeClock) -> None:
    repo = MemoryRepository()
    own = caretakers(repo, clock)

    def failing_step() -> None:
        with repo.transaction():
            own.add_user("meier-gmbh", "Emil", id="emil")
            raise RuntimeError("the inner step fails")

    with repo.transaction():
        own.add_user("meier-gmbh", "Dora", id="dora")
        with pytest.raises(RuntimeError):
            failing_step()

    assert [u.id for u in own.users("meier-gmbh")] == ["ada", "carl", "dora"]


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


def private_mandatory_leads() -> Rulebook:
    colleague = Role("colleague", min=1, private=True)
    auto = (AutoAssign(Trigger.CREATED, "colleague"), AutoAssign(Trigger.ACCEPTED, "colleague"))
    return Rulebook((Policy("lead", (colleague,), auto_assign=auto),))


def test_ld7_audit_speaks_of_its_own_tenants_holders_only(clock: FakeClock) -> None:
    own = make(private_mandatory_leads(), clock)
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("globex", "Quentin", id="quentin")
    lead = own.create("lead", actor="anna", id="L-1")
    own.share(lead, "globex", actor="anna")
    own.accept(lead, actor="quentin")
    own.update_user("quentin", active=False)

    assert [f.message for f in own.audit("acme")] == []


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


def test_x5_a_cover_without_a_time_zone_is_refused(clock: FakeClock) -> None:
    own = caretakers(MemoryRepository(), clock)
    before = own.snapshot()

    with pytest.raises(InvalidValueError, match="has no time zone"):
        own.add_member("north", "carl", until=datetime(2030, 1, 1))

    assert own.snapshot() == before
    assert own.audit("meier-gmbh")  # reads still work


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


def test_an_unknown_group_kind_is_refused_with_the_kinds_named(clock: FakeClock) -> None:
    own = caretakers(MemoryRepository(), clock)

    with pytest.raises(InvalidValueError, match="no group kind 'cartaker'; the kinds are: caretaker, competence, team"):
        own.add_group("meier-gmbh", "South", "cartaker")


def test_x5_an_expiring_cover_is_reread_when_it_ends(clock: FakeClock) -> None:
    own = caretakers(MemoryRepository(), clock)
    own.add_member("north", "carl", until=clock.now + timedelta(hours=1))
    assert own.can("carl", "view", K1)

    clock.advance(hours=1)

    assert not own.can("carl", "view", K1)
