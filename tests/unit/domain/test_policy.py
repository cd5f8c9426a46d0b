"""Policies and rulebooks (src/ownership/policy.py): each action's rule, a role's bounds and slot, what is refused."""

from datetime import datetime, timezone

import pytest

from ownership import (
    Access,
    AssignActor,
    Assignee,
    AutoAssign,
    Facts,
    FeatureDisabledError,
    GroupKind,
    MandatoryRoleError,
    Policy,
    Predicate,
    Reason,
    Record,
    Role,
    Rulebook,
    RulebookError,
    TooManyHoldersError,
    Trigger,
    UnknownKindError,
    Viewer,
    presets,
)
from ownership.access import always, holds, in_caretaker_group, is_admin, never, restricted
from ownership.filters import Filter

# --- rulebooks are checked when built ---------------------------------------------------------------


def test_policy_with_two_roles_of_one_name_is_refused() -> None:
    with pytest.raises(RulebookError, match="Policy 'deal' names role 'owner' twice"):
        Policy("deal", (Role("owner"), Role("owner", max=None)))


def test_auto_assign_to_a_missing_role_is_refused() -> None:
    with pytest.raises(RulebookError, match="auto-assigns role 'owner', which it does not have"):
        Policy("deal", (Role("responsible"),), auto_assign=(AutoAssign(Trigger.CREATED, "owner"),))


def test_auto_assign_to_a_role_without_users_is_refused() -> None:
    groups_only = Role("caretaker_group", users=False, groups={GroupKind.CARETAKER})

    with pytest.raises(RulebookError, match="which takes no users"):
        Policy("customer", (groups_only,), auto_assign=(AutoAssign(Trigger.CREATED, "caretaker_group"),))


def test_role_with_max_below_min_is_refused() -> None:
    with pytest.raises(RulebookError, match="Role 'owner' has max 1 below its min 2"):
        Role("owner", min=2, max=1)
    with pytest.raises(RulebookError, match="min -1"):
        Role("owner", min=-1)


def test_role_taking_no_assignee_is_refused() -> None:
    with pytest.raises(RulebookError, match="accepts no assignee"):
        Role("nobody", users=False)


def test_rulebook_with_two_policies_for_one_kind_is_refused() -> None:
    with pytest.raises(RulebookError, match="two entries for kind 'deal'"):
        Rulebook((Policy("deal"), Policy("deal", (Role("owner"),))))


def test_composing_rulebooks_that_define_a_kind_differently_is_refused() -> None:
    with pytest.raises(RulebookError, match="Both rulebooks define kind 'ticket', differently"):
        presets.account_managers() | presets.caretaker_groups()
    with pytest.raises(RulebookError, match="kind 'contact'"):
        presets.account_managers() | presets.contact_desk()


def test_composing_a_rulebook_with_itself_is_allowed() -> None:
    both = presets.account_managers() | presets.account_managers()

    assert both.kinds == presets.account_managers().kinds


def test_only_refuses_a_kind_the_rulebook_lacks() -> None:
    with pytest.raises(UnknownKindError, match="'customer'"):
        presets.account_managers().only("customer")


# --- policies: the rule of each action ------------------------------------------------------------


def test_edit_defaults_to_view_and_assign_to_edit() -> None:
    owner = (Role("owner", grants_access=True),)
    default = is_admin | ~restricted("deal") | holds("owner")

    viewing = Policy("deal", owner, access=Access(view=holds("owner")))
    editing = Policy("deal", owner, access=Access(edit=is_admin))
    assigning = Policy("deal", owner, access=Access(assign=never))

    assert [viewing.rule(a) for a in ("view", "edit", "assign")] == [holds("owner")] * 3
    assert [editing.rule(a) for a in ("view", "edit", "assign")] == [default, is_admin, is_admin]
    assert [assigning.rule(a) for a in ("view", "edit", "assign")] == [default, default, never]


def test_policy_refuses_an_unknown_action() -> None:
    with pytest.raises(RulebookError, match="There is no action 'delete'; the actions are: view, edit, assign"):
        Policy("deal").rule("delete")


# --- policies refuse, when built, a rule they could not apply ---------------------------------------


@pytest.mark.parametrize("action", ["view", "edit", "assign"])
def test_rule_naming_a_role_the_policy_lacks_is_refused_when_the_policy_is_built(action: str) -> None:
    with pytest.raises(
        RulebookError, match=f"The {action} rule of 'deal' .* reads role 'owner', which the policy lacks"
    ):
        Policy("deal", (Role("responsible", grants_access=True),), access=Access(**{action: is_admin | holds("owner")}))


@pytest.mark.parametrize(
    "rule", [holds("watcher"), ~in_caretaker_group("watcher"), is_admin | holds("owner", "watcher")]
)
def test_view_rule_reading_a_role_that_grants_no_access_is_refused(rule: Predicate) -> None:
    roles = (Role("owner", grants_access=True), Role("watcher", groups={GroupKind.CARETAKER}))

    with pytest.raises(RulebookError, match="lets the holders of 'watcher' see records, but that role does not grant"):
        Policy("deal", roles, access=Access(view=rule))


def test_edit_rule_may_read_a_role_that_grants_no_access() -> None:
    policy = Policy("deal", (Role("watcher"),), access=Access(edit=is_admin | holds("watcher")))

    assert policy.rule("view") is always
    assert policy.rule("assign") == is_admin | holds("watcher")


class Unfilterable(Predicate):
    """A rule a storage cannot run: it has no filter."""

    def decide(self, viewer: Viewer, facts: Facts) -> bool:
        return True

    def compile(self, viewer: Viewer) -> Filter:
        raise NotImplementedError("no query can say this")

    def explain(self, viewer: Viewer, facts: Facts) -> tuple[bool, tuple[Reason, ...]]:
        return True, (Reason("unfilterable", True, "it says so"),)

    def __str__(self) -> str:
        return "unfilterable"


class Unfiltered(Unfilterable):
    """A rule that compiles into something that is no filter."""

    def compile(self, viewer: Viewer) -> Filter:
        return "everything"  # type: ignore[return-value]  # the point: it is no filter

    def __str__(self) -> str:
        return "unfiltered"


def test_rule_that_cannot_compile_is_refused_when_the_policy_is_built() -> None:
    with pytest.raises(
        RulebookError, match=r"The view rule of 'deal' \(unfilterable\) cannot compile into a filter: no query can say"
    ):
        Policy("deal", access=Access(view=Unfilterable()))
    with pytest.raises(RulebookError, match=r"The edit rule of 'deal' \(.*unfilterable.*\) cannot compile"):
        Policy("deal", access=Access(edit=is_admin | Unfilterable()))
    with pytest.raises(RulebookError, match=r"\(unfiltered\) compiled into 'everything', which is no filter"):
        Policy("deal", access=Access(assign=Unfiltered()))


# --- a role's minimum, maximum and slot, decided without a repository (TL2, TL7, LD1, LD5, LD7) ---------------

DEAL = Record("deal", "D-1", "acme", datetime(2026, 1, 1, tzinfo=timezone.utc), shared_with={"globex"})
ANNA, BOB = Assignee.user("anna"), Assignee.user("bob")


def test_tl2_a_mandatory_role_refuses_to_fall_below_its_minimum() -> None:
    responsible = Role("responsible", min=1)
    responsible.check_at_least(DEAL, 1, "unused.")
    with pytest.raises(MandatoryRoleError, match=r"^A deal must keep 1 responsible; assign another first\.$"):
        responsible.check_at_least(DEAL, 0, "assign another first.")


def test_ld5_a_role_refuses_more_holders_than_its_maximum_and_none_is_unlimited() -> None:
    colleagues = Role("colleague", max=2)
    colleagues.check_at_most(DEAL, 2, "unused.")
    with pytest.raises(TooManyHoldersError, match=r"^The colleague of deal D-1 holds at most 2; use replace\.$"):
        colleagues.check_at_most(DEAL, 3, "use replace.")
    Role("watcher", max=None).check_at_most(DEAL, 1_000, "unused.")


def test_x3_a_handover_to_a_holder_already_there_is_refused_only_when_the_role_falls_short() -> None:
    pair = Role("manager", min=2, max=None)
    pair.check_handover(DEAL, [ANNA, Assignee.user("cyd")], leaving=ANNA, coming=BOB)  # bob is new: still two
    with pytest.raises(MandatoryRoleError, match="user bob holds it already, so handing user anna's part to them"):
        pair.check_handover(DEAL, [ANNA, BOB], leaving=ANNA, coming=BOB)
    Role("manager", min=1, max=None).check_handover(DEAL, [ANNA, BOB], leaving=ANNA, coming=BOB)


def test_ld7_a_private_role_is_read_in_each_tenants_own_slot_any_other_in_the_homes() -> None:
    assert Role("colleague", private=True).slot(DEAL, "globex") == "globex"
    assert Role("responsible").slot(DEAL, "globex") == "acme"


def test_tl5_a_role_that_needs_a_feature_exists_only_for_tenants_that_have_it() -> None:
    manager = Role("manager", requires="second_manager")
    policy = Policy("deal", roles=(manager,))
    assert manager.available(frozenset({"second_manager"}))
    assert not manager.available(frozenset())
    assert Role("responsible").available(frozenset())
    with pytest.raises(FeatureDisabledError, match="needs 'second_manager', which tenant 'acme' has not switched on"):
        policy.check_available(manager, "acme", frozenset())


def test_ld6_the_actor_is_given_only_the_triggered_roles_the_tenant_has() -> None:
    policy = Policy(
        "lead",
        roles=(Role("colleague"), Role("scout", requires="scouting")),
        auto_assign=(AssignActor(Trigger.CREATED, "colleague"), AssignActor(Trigger.CREATED, "scout")),
    )
    assert [r.name for r in policy.triggered(Trigger.CREATED, frozenset())] == ["colleague"]
    assert [r.name for r in policy.triggered(Trigger.CREATED, frozenset({"scouting"}))] == ["colleague", "scout"]
    assert policy.triggered(Trigger.ACCEPTED, frozenset({"scouting"})) == []


def test_tl2_a_new_slot_needs_every_mandatory_role_and_no_assignee_twice() -> None:
    responsible, colleague = Role("responsible", min=1), Role("colleague", max=None, private=True)
    policy = Policy("deal", roles=(responsible, colleague))
    policy.check_new_slot(DEAL, [(responsible, ANNA)], frozenset(), "acme")
    with pytest.raises(MandatoryRoleError, match=r"^A deal needs 1 responsible in tenant 'acme'; name one in holders="):
        policy.check_new_slot(DEAL, [], frozenset(), "acme")
    with pytest.raises(TooManyHoldersError, match="names the same assignee twice"):
        policy.check_new_slot(DEAL, [(responsible, ANNA), (colleague, BOB), (colleague, BOB)], frozenset(), "acme")
    with pytest.raises(TooManyHoldersError, match=r"^The responsible of a deal holds at most 1\.$"):
        policy.check_new_slot(DEAL, [(responsible, ANNA), (responsible, BOB)], frozenset(), "acme")
    policy.check_new_slot(DEAL, [(colleague, BOB)], frozenset(), "globex", private_only=True)  # LD6: accepting


def test_assign_actor_kept_its_first_name_as_an_alias() -> None:
    assert AutoAssign is AssignActor
    assert AutoAssign(Trigger.CREATED, "responsible") == AssignActor(Trigger.CREATED, "responsible")
