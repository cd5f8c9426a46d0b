"""The access algebra: predicates combine with & | ~, and each decides, explains and compiles alike (X1, X6).

Viewers and records are built by hand here, without a repository: the laws are the predicates' own. A policy
refuses, when it is built, a rule it could not apply (RulebookError).
"""

from datetime import datetime, timezone

import pytest

from ownership import (
    EVERYONE,
    Access,
    Assignee,
    Assignment,
    Decision,
    Facts,
    GroupKind,
    Policy,
    Predicate,
    Profile,
    Reason,
    Record,
    Role,
    RulebookError,
    User,
    Viewer,
    presets,
)
from ownership.access import (
    AllOf,
    AnyOf,
    Negation,
    always,
    holds,
    in_caretaker_group,
    is_admin,
    never,
    restricted,
    same_tenant,
    shared_with_viewer,
)
from ownership.filters import (
    EVERYTHING,
    NOTHING,
    And,
    Filter,
    HasAssignee,
    HomeIs,
    Not,
    Or,
    SharedWith,
    all_of,
    any_of,
    compiled,
    matches,
    negate,
)

AT = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
AVAILABLE = frozenset({"owner", "helper"})  # "hidden" is a role the viewers' tenants lack (TL10)

ADA = Viewer(User("ada", "acme", "Ada", admin=True), frozenset(), AVAILABLE)
RITA = Viewer(User("rita", "acme", "Rita", profile=Profile(restricted={"deal"})), frozenset(), AVAILABLE)
BOB = Viewer(User("bob", "acme", "Bob"), frozenset({"sales"}), AVAILABLE)
GINA = Viewer(User("gina", "globex", "Gina"), frozenset({"globex-sales"}), AVAILABLE)
PAT = Viewer(User("pat", "acme", "Pat", profile=Profile(restricted={"deal"})), frozenset({"sales"}), AVAILABLE)
VIEWERS = (ADA, RITA, BOB, GINA, PAT)

HOME = Record("deal", "D-1", "acme", AT)
SHARED = Record("deal", "D-2", "globex", AT, shared_with={"acme"})
FOREIGN = Record("deal", "D-3", "globex", AT)


def held(record: Record, role: str, assignee: Assignee, slot: str | None = None) -> Assignment:
    return Assignment(record.ref, role, assignee, slot or record.tenant, AT)


FACTS = (
    Facts.of(HOME, []),
    Facts.of(HOME, [held(HOME, "owner", Assignee.user("bob"))]),
    Facts.of(HOME, [held(HOME, "owner", Assignee.group("sales"))]),
    Facts.of(HOME, [held(HOME, "owner", EVERYONE)]),
    Facts.of(HOME, [held(HOME, "helper", Assignee.user("rita")), held(HOME, "owner", Assignee.user("ada"))]),
    Facts.of(HOME, [held(HOME, "hidden", Assignee.user("bob"))]),
    Facts.of(SHARED, [held(SHARED, "owner", Assignee.user("bob"), "acme")]),
    Facts.of(SHARED, [held(SHARED, "owner", Assignee.user("bob"))]),  # in globex's slot, not acme's
    Facts.of(SHARED, [held(SHARED, "owner", Assignee.group("globex-sales"))]),
    Facts.of(FOREIGN, [held(FOREIGN, "owner", EVERYONE)]),
)

PREDICATES: dict[str, Predicate] = {
    "always": always,
    "never": never,
    "is_admin": is_admin,
    "restricted": restricted("deal"),
    "holds": holds("owner"),
    "holds-two": holds("owner", "helper"),
    "holds-unavailable": holds("hidden"),
    "holds-nothing": holds(),
    "in_caretaker_group": in_caretaker_group("owner"),
    "same_tenant": same_tenant,
    "shared_with_viewer": shared_with_viewer,
    "default-rule": is_admin | ~restricted("deal") | holds("owner", "helper"),
    "not-holds": ~holds("owner"),
    "and-or": (is_admin | holds("owner")) & same_tenant,
    "not-and": ~(restricted("deal") & ~in_caretaker_group("owner", "helper")),
    "not-or": ~(same_tenant | shared_with_viewer),
}


# --- combining --------------------------------------------------------------------------------------


def test_predicates_combine_with_and_or_not_and_chains_stay_flat() -> None:
    rule = is_admin | ~restricted("company") | holds("account_manager")

    assert rule == AnyOf((is_admin, Negation(restricted("company")), holds("account_manager")))
    assert (is_admin & same_tenant & always) == AllOf((is_admin, same_tenant, always))
    assert str(rule) == "is_admin | ~restricted('company') | holds('account_manager')"
    assert str(in_caretaker_group("a", "b") & never) == "(in_caretaker_group('a', 'b') & never)"


def test_a_rule_names_every_role_it_reads() -> None:
    assert (is_admin | holds("owner")).roles() == {"owner"}
    assert (holds("owner") & ~in_caretaker_group("group", "second_group")).roles() == {"owner", "group", "second_group"}
    assert (same_tenant | shared_with_viewer | always | never | restricted("deal")).roles() == frozenset()


READ_BACK = {
    "always": always,
    "never": never,
    "is_admin": is_admin,
    "restricted": restricted,
    "holds": holds,
    "in_caretaker_group": in_caretaker_group,
    "same_tenant": same_tenant,
    "shared_with_viewer": shared_with_viewer,
}


@pytest.mark.parametrize("name", ["and-or", "not-and", "not-or", "default-rule", "not-holds"])
def test_x1_a_rule_reads_as_the_rule_it_is(name: str) -> None:
    # Decision.rule and every AccessDeniedError show `str(rule)`: read back, it must be the rule that was applied.
    rule = PREDICATES[name]
    reread = eval(str(rule), dict(READ_BACK))

    for viewer in VIEWERS:
        for facts in FACTS:
            assert reread.decide(viewer, facts) == rule.decide(viewer, facts), (
                f"{str(rule)!r} reads as another rule: it decides otherwise for {viewer.user.name} on {facts.record}"
            )


# --- decide, explain and compile agree ------------------------------------------------------------


@pytest.mark.parametrize("predicate", PREDICATES.values(), ids=PREDICATES.keys())
def test_x6_decide_explain_and_the_compiled_filter_agree(predicate: Predicate) -> None:
    for viewer in VIEWERS:
        where = predicate.compile(viewer)
        gated = all_of(any_of(HomeIs(viewer.tenant), SharedWith(viewer.tenant)), where)
        for facts in FACTS:
            record, assignments = facts.record, facts.assignments
            decided = predicate.decide(viewer, facts)
            case = f"{predicate} for {viewer.user.name} on {record} held {[str(a.assignee) for a in assignments]}"
            assert predicate.explain(viewer, facts)[0] == decided, case
            assert matches(where, record, assignments) == decided, case
            assert compiled(where)(record, assignments) == decided, case
            taking_part = viewer.tenant in record.tenants
            assert matches(gated, record, assignments) == (decided and taking_part), case
            assert compiled(gated)(record, assignments) == (decided and taking_part), case


def test_holds_counts_only_the_viewers_own_tenants_slot_and_available_roles() -> None:
    assert holds("owner").decide(BOB, FACTS[6])  # acme's slot of a shared record
    assert not holds("owner").decide(BOB, FACTS[7])  # globex's slot of it
    assert holds("owner").decide(GINA, FACTS[8])  # through globex's own group
    assert not holds("hidden").decide(BOB, FACTS[5])  # a role bob's tenant lacks grants nothing


def test_in_caretaker_group_counts_groups_only() -> None:
    assert in_caretaker_group("owner").decide(BOB, FACTS[2])
    assert not in_caretaker_group("owner").decide(BOB, FACTS[1])  # held by bob himself
    assert not in_caretaker_group("owner").decide(BOB, FACTS[3])  # held by everyone
    assert holds("owner").decide(BOB, FACTS[1])
    assert holds("owner").decide(BOB, FACTS[3])


# --- X6: compiling is partial evaluation ------------------------------------------------------------


def test_x6_viewer_facts_compile_into_constants() -> None:
    assert is_admin.compile(ADA) == EVERYTHING
    assert is_admin.compile(BOB) == NOTHING
    assert restricted("deal").compile(RITA) == EVERYTHING
    assert restricted("deal").compile(BOB) == NOTHING
    assert always.compile(BOB) == EVERYTHING
    assert never.compile(ADA) == NOTHING


def test_x6_admin_and_unrestricted_viewer_get_no_role_test() -> None:
    rule = PREDICATES["default-rule"]

    assert rule.compile(ADA) == EVERYTHING
    assert rule.compile(BOB) == EVERYTHING
    assert rule.compile(RITA) == HasAssignee({"owner", "helper"}, {Assignee.user("rita"), EVERYONE}, "acme")


def test_x6_holds_compiles_into_the_sets_of_assignees_that_stand_for_the_viewer() -> None:
    bob, sales = Assignee.user("bob"), Assignee.group("sales")

    assert holds("owner", "helper").compile(BOB) == HasAssignee({"owner", "helper"}, {bob, sales, EVERYONE}, "acme")
    assert holds("owner", "hidden").compile(BOB) == HasAssignee({"owner"}, {bob, sales, EVERYONE}, "acme")
    assert holds("hidden").compile(BOB) == NOTHING
    assert in_caretaker_group("owner").compile(BOB) == HasAssignee({"owner"}, {sales}, "acme")
    assert in_caretaker_group("owner").compile(RITA) == NOTHING  # in no group at all


def test_x6_tenant_predicates_compile_into_tenant_tests() -> None:
    assert same_tenant.compile(GINA) == HomeIs("globex")
    assert shared_with_viewer.compile(BOB) == SharedWith("acme")
    assert (~same_tenant).compile(BOB) == Not(HomeIs("acme"))
    assert ((is_admin | holds("owner")) & same_tenant).compile(ADA) == HomeIs("acme")


def test_filters_fold_constants_away() -> None:
    home, shared = HomeIs("acme"), SharedWith("acme")

    assert all_of() == EVERYTHING
    assert all_of(EVERYTHING, home) == home
    assert all_of(home, NOTHING, shared) == NOTHING
    assert all_of(And((home, shared)), Not(home)) == And((home, shared, Not(home)))
    assert any_of() == NOTHING
    assert any_of(NOTHING, home) == home
    assert any_of(home, EVERYTHING) == EVERYTHING
    assert any_of(Or((home, shared)), NOTHING, Not(home)) == Or((home, shared, Not(home)))
    assert negate(EVERYTHING) == NOTHING
    assert negate(NOTHING) == EVERYTHING
    assert negate(negate(home)) == home


OWNER_BOB = HasAssignee({"owner"}, {Assignee.user("bob")}, "acme")
HELPER_RITA = HasAssignee({"helper"}, {Assignee.user("rita")}, "acme")
IN_GLOBEX = HasAssignee({"owner"}, {Assignee.user("bob"), Assignee.group("globex-sales")}, "globex")
ACME = Or((HomeIs("acme"), SharedWith("acme")))
SHAPES: dict[str, Filter] = {
    "fused-one": And((ACME, OWNER_BOB)),
    "fused-several": And((ACME, Or((OWNER_BOB, HELPER_RITA)))),
    "two-slots": And((ACME, Or((OWNER_BOB, IN_GLOBEX)))),
    "holding-or-shared": And((ACME, Or((OWNER_BOB, SharedWith("acme"))))),
    "or-of-slots": Or((OWNER_BOB, IN_GLOBEX, HomeIs("globex"))),
    "three-parts": And((ACME, Not(HELPER_RITA), Or((OWNER_BOB, IN_GLOBEX)))),
    "negated-holding": Not(Or((OWNER_BOB, HELPER_RITA))),
}


@pytest.mark.parametrize("where", SHAPES.values(), ids=SHAPES.keys())
def test_x6_a_compiled_filter_answers_as_the_reference_meaning(where: Filter) -> None:
    test = compiled(where)
    for facts in FACTS:
        assert test(facts.record, facts.assignments) == matches(where, facts.record, facts.assignments), facts


# --- X1: explaining ---------------------------------------------------------------------------------


def test_x1_explain_gives_every_leaf_in_order_with_why() -> None:
    allowed, reasons = PREDICATES["default-rule"].explain(PAT, FACTS[2])

    assert allowed
    assert reasons == (
        Reason("is_admin", False, "Pat is not an admin"),
        Reason("~restricted('deal')", False, "Pat's access to deal records is restricted"),
        Reason("holds('owner', 'helper')", True, "Pat holds it (group sales)"),
    )


def test_x1_explain_under_a_negation_reports_the_negated_leaf_and_its_negated_match() -> None:
    allowed, reasons = (~holds("owner")).explain(BOB, FACTS[1])

    assert not allowed
    assert reasons == (Reason("~holds('owner')", False, "Bob holds it (directly)"),)


def test_x1_decision_splits_its_leaves_into_matched_and_failed() -> None:
    yes, no = Reason("is_admin", True, "Ada is an admin"), Reason("same_tenant", False, "the record's home is 'x'")
    decision = Decision(True, "is_admin | same_tenant", (yes, no))

    assert decision
    assert decision.matched == (yes,)
    assert decision.failed == (no,)
    assert str(decision) == (
        "allowed by is_admin | same_tenant: is_admin: yes (Ada is an admin); same_tenant: no (the record's home is 'x')"
    )


# --- policies: the rule of each action ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "rule"),
    [
        ("company", "is_admin | ~restricted('company') | holds('account_manager', 'second_account_manager')"),
        ("deal", "is_admin | ~restricted('deal') | holds('responsible', 'second_responsible')"),
        ("project", "is_admin | ~restricted('project') | holds('manager', 'collaborator')"),
        ("contact", "always"),
        ("invoice", "always"),
        ("ticket", "always"),
    ],
)
def test_tl4_tl6_tl7_tl8_default_rule_lets_admins_unrestricted_users_and_holders_of_granting_roles(
    kind: str, rule: str
) -> None:
    policy = presets.account_managers().policy(kind)

    for action in ("view", "edit", "assign"):
        assert str(policy.rule(action)) == rule


def test_ld3_cg10_kinds_whose_roles_grant_nothing_are_seen_by_everyone_of_the_tenant() -> None:
    assert presets.lead_exchange().policy("lead").rule("view") is always
    assert presets.caretaker_groups().policy("follow_up").rule("view") is always
    assert presets.contact_desk().policy("contact").rule("view") is always


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
