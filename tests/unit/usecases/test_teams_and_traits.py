"""Teams, facts about the viewer, and who may see a record (issue 19): one rule answers from either side.

A rulebook of its own, no preset: a deal has an owner; a manager may view what anyone in their team owns and
edit what their direct reports own; an auditor (a trait) may view every deal; the night desk (a group) too.
Acme: Vera heads sales; Max reports to her, and Lea and Ole to him; Ida has no manager. Globex: Gus.
"""

from datetime import timedelta

import attrs
import pytest

from conftest import refused_readably as refused
from ownership import (
    Access,
    AccessDeniedError,
    Assignee,
    ForeignActorError,
    ForeignTenantError,
    GroupKind,
    InvalidValueError,
    Ownership,
    Policy,
    RecordRef,
    Role,
    Rulebook,
    RulebookError,
    UnknownUserError,
)
from ownership.access import held_within_team, holds, viewer_has, viewer_in
from ownership.adapters.memory import MemoryRepository
from ownership.testing import FakeClock

RULES = Rulebook(
    (
        Policy(
            "deal",
            (Role("owner", grants_access=True), Role("desk", users=False, groups={GroupKind.TEAM})),
            access=Access(
                view=holds("owner") | held_within_team("owner") | viewer_has("auditor") | viewer_in("night"),
                edit=holds("owner") | held_within_team("owner", depth=1),
            ),
        ),
    )
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sales(clock: FakeClock) -> Ownership:
    own = Ownership(RULES, MemoryRepository(), clock=clock)
    own.add_tenant("acme")
    own.add_user("acme", "Vera", id="vera")
    own.add_user("acme", "Max", id="max", manager="vera")
    own.add_user("acme", "Lea", id="lea", manager="max")
    own.add_user("acme", "Ole", id="ole", manager="max", traits={"trainee"})
    own.add_user("acme", "Ida", id="ida")
    own.add_group("acme", "Night desk", GroupKind.TEAM, id="night")
    own.add_tenant("globex")
    own.add_user("globex", "Gus", id="gus")
    for deal, owner in (("D-lea", "lea"), ("D-ole", "ole"), ("D-max", "max"), ("D-ida", "ida")):
        own.create("deal", id=deal, actor=owner, holders={"owner": Assignee.user(owner)})
    return own


def _visible(own: Ownership, user: str, action: str = "view") -> list[str]:
    return [r.id for r in own.visible(user, "deal", action=action).records]


def test_a_manager_sees_what_anyone_below_them_holds_and_edits_what_their_direct_reports_hold(sales: Ownership) -> None:
    assert _visible(sales, "vera") == ["D-lea", "D-max", "D-ole"]
    assert _visible(sales, "vera", "edit") == ["D-max"], "to depth 1: Max only"
    assert _visible(sales, "max") == ["D-lea", "D-max", "D-ole"]
    assert _visible(sales, "max", "edit") == ["D-lea", "D-max", "D-ole"]
    assert _visible(sales, "lea") == ["D-lea"], "no one reports to Lea"
    for user in ("vera", "max", "lea", "ida"):
        for deal in ("D-lea", "D-ole", "D-max", "D-ida"):
            ref = RecordRef("deal", deal)
            assert sales.can(user, "view", ref) == (deal in _visible(sales, user)), (user, deal)


def test_the_team_follows_who_reports_to_whom_as_it_changes(sales: Ownership) -> None:
    assert sales.can("vera", "view", RecordRef("deal", "D-lea"))
    sales.report_to("lea", "ida")
    assert not sales.can("vera", "view", RecordRef("deal", "D-lea")), "Lea left Vera's team"
    assert sales.can("ida", "edit", RecordRef("deal", "D-lea"))
    sales.report_to("max", None)
    assert _visible(sales, "vera") == []
    assert sales.user("max").manager is None


def test_only_what_the_team_holds_themselves_counts_not_their_groups(sales: Ownership) -> None:
    sales.add_member("night", "lea")
    sales.create(
        "deal", id="D-desk", actor="ida", holders={"owner": Assignee.user("ida"), "desk": Assignee.group("night")}
    )
    assert "D-desk" not in _visible(sales, "vera")


def test_explain_names_who_in_the_team_holds_it(sales: Ownership) -> None:
    allowed = sales.explain("vera", "view", RecordRef("deal", "D-lea"))
    assert "held_within_team('owner'): yes (lea, in the team of Vera, holds it)" in str(allowed)
    refused_edit = sales.explain("vera", "edit", RecordRef("deal", "D-lea"))
    assert not refused_edit.allowed
    assert "held_within_team('owner', depth=1): no (no one who reports to Vera holds owner)" in str(refused_edit)


def test_a_trait_and_a_group_of_the_viewer_open_what_the_rule_says(sales: Ownership, clock: FakeClock) -> None:
    assert _visible(sales, "ida") == ["D-ida"]
    sales.update_user("ida", traits={"auditor"})
    assert _visible(sales, "ida") == ["D-ida", "D-lea", "D-max", "D-ole"]
    assert "viewer_has('auditor'): yes (Ida is auditor)" in str(
        sales.explain("ida", "view", RecordRef("deal", "D-lea"))
    )
    assert "viewer_has('auditor'): no (Lea is not auditor)" in str(
        sales.explain("lea", "view", RecordRef("deal", "D-ida"))
    )
    sales.add_member("night", "lea", until=clock.now + timedelta(hours=8))
    assert sales.can("lea", "view", RecordRef("deal", "D-ida")), "on the night desk tonight"
    assert "viewer_in('night'): yes (Lea is in group 'night')" in str(
        sales.explain("lea", "view", RecordRef("deal", "D-ida"))
    )
    clock.advance(hours=9)
    assert not sales.can("lea", "view", RecordRef("deal", "D-ida")), "the cover has ended"


def test_reporting_to_someone_below_oneself_is_refused_and_changes_nothing(sales: Ownership) -> None:
    with refused(sales, InvalidValueError, "who reports to them already"):
        sales.report_to("vera", "lea")
    with refused(sales, InvalidValueError, "who reports to them already"):
        sales.report_to("max", "max")


def test_a_manager_of_another_tenant_or_no_one_is_refused_and_changes_nothing(sales: Ownership) -> None:
    with refused(sales, ForeignTenantError, "cannot report to them"):
        sales.report_to("ida", "gus")
    with refused(sales, UnknownUserError, "'nobody'"):
        sales.report_to("ida", "nobody")
    with refused(sales, ForeignTenantError, "cannot report to them"):
        sales.add_user("acme", "Eve", id="eve", manager="gus")


def test_a_depth_below_one_is_a_rulebook_error() -> None:
    with pytest.raises(RulebookError, match="depth of at least 1"):
        held_within_team("owner", depth=0)


def test_managers_and_traits_are_kept_in_a_snapshot_and_restored(sales: Ownership) -> None:
    snapshot = sales.snapshot()
    copy = Ownership(RULES, MemoryRepository())
    copy.restore(snapshot)
    assert [(u.id, u.manager, u.traits) for u in copy.users("acme")] == [
        (u.id, u.manager, u.traits) for u in sales.users("acme")
    ]
    assert _visible(copy, "vera") == _visible(sales, "vera")


# --- who may see this record, and why ----------------------------------------------------------------------


def test_who_can_lists_each_user_the_rule_lets_with_the_leaves_that_let_them(sales: Ownership) -> None:
    lea_s = RecordRef("deal", "D-lea")
    who = {p.user.id: [str(r) for r in p.reasons] for p in sales.who_can("view", lea_s)}
    assert who == {
        "lea": ["holds('owner'): yes (Lea holds it (directly))"],
        "max": ["held_within_team('owner'): yes (lea, in the team of Max, holds it)"],
        "vera": ["held_within_team('owner'): yes (lea, in the team of Vera, holds it)"],
    }
    assert [p.user.id for p in sales.who_can("edit", lea_s)] == ["lea", "max"]


def test_who_can_follows_the_directory_as_it_changes(sales: Ownership) -> None:
    sales.update_user("max", active=False)
    sales.update_user("ida", traits={"auditor"})
    assert [p.user.id for p in sales.who_can("view", RecordRef("deal", "D-lea"))] == ["ida", "lea", "vera"]


def test_who_can_tells_a_tenant_nothing_of_another_s_people(sales: Ownership) -> None:
    sales.update_user("gus", traits={"auditor"})
    sales.share(RecordRef("deal", "D-lea"), "globex", actor="lea")
    sales.accept(RecordRef("deal", "D-lea"), actor="gus")
    everyone = [(p.user.tenant, p.user.id) for p in sales.who_can("view", RecordRef("deal", "D-lea"))]
    assert ("globex", "gus") in everyone, "the host sees every tenant taking part"
    assert [p.user.id for p in sales.who_can("view", RecordRef("deal", "D-lea"), viewer="gus")] == ["gus"]
    assert [p.user.id for p in sales.who_can("view", RecordRef("deal", "D-lea"), tenant="globex")] == ["gus"]


def test_who_can_is_refused_to_a_viewer_who_may_not_view_the_record(sales: Ownership) -> None:
    with refused(sales, AccessDeniedError, "may not view deal D-lea, so may not ask who may view it"):
        sales.who_can("view", RecordRef("deal", "D-lea"), viewer="ida")
    with refused(sales, ForeignActorError, "not shared with tenant 'globex'"):
        sales.who_can("view", RecordRef("deal", "D-lea"), viewer="gus")


def test_a_snapshot_whose_users_report_in_a_loop_or_across_tenants_is_refused_and_restores_nothing(
    sales: Ownership,
) -> None:
    snapshot = sales.snapshot()
    people = {u.id: u for u in snapshot.users}
    bad = {
        "report to themselves through others": {"vera": attrs.evolve(people["vera"], manager="lea")},
        "report to user 'gus' of another": {"ida": attrs.evolve(people["ida"], manager="gus")},
        "does not hold the user 'nobody'": {"ida": attrs.evolve(people["ida"], manager="nobody")},
    }
    for said, changed in bad.items():
        edited = attrs.evolve(snapshot, users=tuple(changed.get(u.id, u) for u in snapshot.users))
        empty = Ownership(RULES, MemoryRepository())
        with refused(empty, InvalidValueError, said):
            empty.restore(edited)


def test_report_to_ends_even_over_a_chain_that_loops_elsewhere() -> None:
    repository = MemoryRepository()
    own = Ownership(RULES, repository)
    own.add_tenant("acme")
    for name in ("a", "b", "c"):
        own.add_user("acme", name.title(), id=name)
    with repository.transaction() as tx:  # what a store changed behind ownership's back may hold
        tx.put_user(attrs.evolve(own.user("a"), manager="b"))
        tx.put_user(attrs.evolve(own.user("b"), manager="a"))
    assert own.report_to("c", "a").manager == "a"
