"""The filters (src/ownership/filters.py): constants fold away, and a compiled filter means what it says (X6)."""

import pytest

from conftest import FACTS
from ownership import Assignee
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
    without_implied_participation,
)

# --- X6: compiling is partial evaluation ------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("where", "trimmed"),
    [
        (SHAPES["fused-one"], OWNER_BOB),
        (SHAPES["fused-several"], Or((OWNER_BOB, HELPER_RITA))),
        (And((ACME, Not(HELPER_RITA), OWNER_BOB)), And((Not(HELPER_RITA), OWNER_BOB))),
        (SHAPES["two-slots"], SHAPES["two-slots"]),  # a match may hold in globex's slot alone
        (SHAPES["holding-or-shared"], SHAPES["holding-or-shared"]),
        (SHAPES["three-parts"], SHAPES["three-parts"]),
        (And((ACME, Not(OWNER_BOB))), And((ACME, Not(OWNER_BOB)))),  # not holding is no holding
        (
            And((Or((HomeIs("globex"), SharedWith("globex"))), OWNER_BOB)),
            And((Or((HomeIs("globex"), SharedWith("globex"))), OWNER_BOB)),
        ),
    ],
)
def test_x6_a_tenant_taking_part_is_left_out_where_a_holding_in_its_slot_says_so(
    where: Filter, trimmed: Filter
) -> None:
    assert without_implied_participation(where) == trimmed
    for facts in FACTS:
        # On every state the library keeps: a holding's tenant takes part in its record.
        if all(a.tenant in facts.record.tenants for a in facts.assignments):
            assert matches(trimmed, facts.record, facts.assignments) == matches(where, facts.record, facts.assignments)
