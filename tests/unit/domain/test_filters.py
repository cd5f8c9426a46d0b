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
