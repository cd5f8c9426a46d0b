"""Laws of composing rulebooks (TL6, TL10): ``|`` is an idempotent union, ``only`` undoes it, ``with_role`` replaces.

The laws are stated over the presets (made disjoint with ``only`` where two
define the same kind) and over generated rulebooks from `ownership.testing`.
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ownership import Plan, Policy, Rulebook, RulebookError, Tenant, presets
from ownership.model import is_id
from ownership.testing import plans, policies, roles, rulebooks, tenants

PRESETS = {
    "account_managers": presets.account_managers(),
    "lead_exchange": presets.lead_exchange(),
    "caretaker_groups": presets.caretaker_groups(),
    "contact_desk": presets.contact_desk(),
}
# The presets cut so no two share a kind: account managers and the contact desk both define
# "contact", account managers and caretaker groups both define "ticket".
DISJOINT = {
    "account_managers": presets.account_managers().only("company", "deal", "invoice", "project"),
    "lead_exchange": presets.lead_exchange(),
    "caretaker_groups": presets.caretaker_groups(),
    "contact_desk": presets.contact_desk(),
}
PAIRS = [(a, b) for a in DISJOINT for b in DISJOINT if a != b]


def every_rulebook() -> st.SearchStrategy[Rulebook]:
    """A preset, whole or cut, or a generated rulebook."""
    return st.sampled_from([*PRESETS.values(), *DISJOINT.values()]) | rulebooks()


def without(b: Rulebook, a: Rulebook) -> Rulebook:
    """`b` cut so it composes with `a`: only kinds `a` lacks, plans `a` agrees with, no clashing default."""
    kept_plans = tuple(p for p in b.plans if a.plan(p.name) in (None, p))
    default = b.default_plan
    if default is None or all(p.name != default for p in kept_plans) or a.default_plan not in (None, default):
        default = None
    return Rulebook(tuple(p for p in b.policies if p.kind not in a.kinds), kept_plans, default)


def composable_pairs() -> st.SearchStrategy[tuple[Rulebook, Rulebook]]:
    """Two rulebooks with disjoint kinds that compose: pairs of presets, or generated ones cut to fit."""
    from_presets = st.sampled_from(PAIRS).map(lambda names: (DISJOINT[names[0]], DISJOINT[names[1]]))
    generated = st.tuples(rulebooks(), rulebooks()).map(lambda ab: (ab[0], without(ab[1], ab[0])))
    return from_presets | generated


@given(every_rulebook())
def test_composing_a_rulebook_with_itself_changes_nothing(a: Rulebook) -> None:
    """``a | a == a``."""
    assert a | a == a


@given(composable_pairs())
def test_composition_has_the_kinds_and_plans_of_both(pair: tuple[Rulebook, Rulebook]) -> None:
    """``a | b`` governs every kind of either with that one's policy, and has the plans of both."""
    a, b = pair
    both = a | b
    assert set(both.kinds) == set(a.kinds) | set(b.kinds)
    assert len(both.kinds) == len(a.kinds) + len(b.kinds)
    for kind in a.kinds:
        assert both.policy(kind) == a.policy(kind)
    for kind in b.kinds:
        assert both.policy(kind) == b.policy(kind)
    assert {p.name: p for p in both.plans} == {p.name: p for p in (*b.plans, *a.plans)}
    assert both.default_plan == (a.default_plan or b.default_plan)


@given(composable_pairs())
def test_only_the_kinds_of_one_side_gives_back_its_policies(pair: tuple[Rulebook, Rulebook]) -> None:
    """``(a | b).only(*a.kinds)`` has exactly a's policies, in a's order; and likewise for b."""
    a, b = pair
    assert (a | b).only(*a.kinds).policies == a.policies
    assert (a | b).only(*b.kinds).policies == b.policies


@given(st.permutations(list(DISJOINT.values())))
def test_composing_the_presets_in_any_order_governs_the_same_kinds_alike(books: list[Rulebook]) -> None:
    """However the cut presets are composed, each kind gets the same policy: composition commutes on kinds."""
    first, *rest = books
    composed = first
    for book in rest:
        composed = composed | book
    reference = DISJOINT["account_managers"] | DISJOINT["lead_exchange"]
    reference = reference | DISJOINT["caretaker_groups"] | DISJOINT["contact_desk"]
    assert {p.kind: p for p in composed.policies} == {p.kind: p for p in reference.policies}
    assert set(composed.plans) == set(reference.plans)


@given(rulebook=every_rulebook(), data=st.data())
def test_with_role_replaces_the_role_of_the_same_name(rulebook: Rulebook, data: st.DataObject) -> None:
    """``with_role(kind, role)`` puts `role` in place of the role of its name (or adds it), and nothing else.

    It is refused with RulebookError exactly when the new role would make the
    policy inconsistent: an auto-assign trigger gives it to a user but it takes
    no users, or the kind's own view rule lets its holders see but it grants no access.
    """
    assume(rulebook.kinds)
    kind = data.draw(st.sampled_from(rulebook.kinds), label="kind")
    before = rulebook.policy(kind)
    names = [r.name for r in before.roles]
    name = data.draw(
        st.sampled_from(names) | st.text(min_size=1, max_size=8).filter(is_id)
        if names
        else st.text(min_size=1).filter(is_id)
    )
    role = data.draw(roles(name=name), label="role")
    triggered = any(t.role == name for t in before.auto_assign)
    seen_through = before.access.view is not None and name in before.access.view.roles()
    inconsistent = (triggered and not role.users) or (seen_through and not role.grants_access)
    try:
        changed = rulebook.with_role(kind, role)
    except RulebookError:
        assert inconsistent, f"with_role refused {role}, which fits {before}"
        return
    assert not inconsistent, f"with_role accepted {role}, which breaks {before}"
    after = changed.policy(kind)
    assert after.role(name) == role
    assert [r for r in after.roles if r.name != name] == [r for r in before.roles if r.name != name]
    assert len(after.roles) == len(before.roles) + (name not in names)
    assert (after.auto_assign, after.requires, after.access) == (before.auto_assign, before.requires, before.access)
    assert {k: changed.policy(k) for k in changed.kinds if k != kind} == {
        k: rulebook.policy(k) for k in rulebook.kinds if k != kind
    }
    assert (changed.plans, changed.default_plan) == (rulebook.plans, rulebook.default_plan)


@given(rulebook=every_rulebook(), tenant=tenants(), data=st.data())
def test_a_tenants_features_are_its_plans_features_and_its_switches(
    rulebook: Rulebook, tenant: Tenant, data: st.DataObject
) -> None:
    """TL10: ``features(tenant)`` is the union of its plan's features (none for no or an unknown plan) and switches."""
    plan = data.draw(st.none() | st.sampled_from([p.name for p in rulebook.plans]) if rulebook.plans else st.none())
    tenant = Tenant(tenant.id, tenant.name, plan if data.draw(st.booleans()) else tenant.plan, tenant.switches)
    found = rulebook.plan(tenant.plan) if tenant.plan is not None else None
    assert rulebook.features(tenant) == tenant.switches | (found.features if found is not None else frozenset())


@given(kinded=policies(), data=st.data())
def test_a_rulebook_with_a_duplicate_kind_is_refused(kinded: Policy, data: st.DataObject) -> None:
    """Two policies of one kind make no rulebook, even if they are equal; nor do two plans of one name."""
    twin = data.draw(st.just(kinded) | policies(kind=kinded.kind), label="twin")
    others = data.draw(st.lists(policies(), max_size=2, unique_by=lambda p: p.kind), label="others")
    others = [p for p in others if p.kind != kinded.kind]
    order = data.draw(st.permutations([kinded, twin, *others]), label="order")
    with pytest.raises(RulebookError, match="kind"):
        Rulebook(tuple(order))


@given(plan=plans(), data=st.data())
def test_a_rulebook_with_a_duplicate_plan_is_refused(plan: Plan, data: st.DataObject) -> None:
    twin = data.draw(st.just(plan) | plans().map(lambda p: Plan(plan.name, p.features)), label="twin")
    with pytest.raises(RulebookError, match="plan"):
        Rulebook((), (plan, twin))


@given(a=every_rulebook(), data=st.data())
def test_composing_two_different_policies_of_one_kind_is_refused(a: Rulebook, data: st.DataObject) -> None:
    """``a | b`` where b governs one of a's kinds differently raises RulebookError, and names the kind."""
    assume(a.kinds)
    kind = data.draw(st.sampled_from(a.kinds), label="kind")
    other = data.draw(policies(kind=kind), label="other")
    assume(other != a.policy(kind))
    with pytest.raises(RulebookError, match="kind"):
        _ = a | Rulebook((other,))
    with pytest.raises(RulebookError, match="kind"):
        _ = Rulebook((other,)) | a
