"""The access algebra (src/ownership/access.py): predicates combine, decide, explain and compile alike (X1, X6)."""

import pytest

from conftest import FACTS
from ownership import EVERYONE, Assignee, Decision, Predicate, Profile, Reason, User, Viewer
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
    HasAssignee,
    HomeIs,
    Not,
    SharedWith,
    all_of,
    any_of,
    compiled,
    matches,
)

AVAILABLE = frozenset({"owner", "helper"})  # "hidden" is a role the viewers' tenants lack (TL10)
ADA = Viewer(User("ada", "acme", "Ada", admin=True), frozenset(), AVAILABLE)
RITA = Viewer(User("rita", "acme", "Rita", profile=Profile(restricted={"deal"})), frozenset(), AVAILABLE)
BOB = Viewer(User("bob", "acme", "Bob"), frozenset({"sales"}), AVAILABLE)
GINA = Viewer(User("gina", "globex", "Gina"), frozenset({"globex-sales"}), AVAILABLE)
PAT = Viewer(User("pat", "acme", "Pat", profile=Profile(restricted={"deal"})), frozenset({"sales"}), AVAILABLE)
VIEWERS = (ADA, RITA, BOB, GINA, PAT)
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
