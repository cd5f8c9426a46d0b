"""The presets (src/ownership/presets.py): the seeds' rules, activities and how rulebooks compose."""

import pytest

from conftest import make
from ownership import Activity, Assignee, UnknownActivityError, UnknownKindError, presets
from ownership.access import always
from ownership.testing import FakeClock

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


# --- TL8: a ticket's responsible hears of a note, a reply and the closing -----------------------


def test_tl8_the_ticket_policy_lists_its_activities_and_others_take_any() -> None:
    rulebook = presets.account_managers()
    ticket = rulebook.policy("ticket")

    assert [a.name for a in ticket.activities or ()] == [
        presets.INTERNAL_NOTE,
        presets.CUSTOMER_REPLIED,
        presets.TICKET_CLOSED,
    ]
    assert [r.name for r in ticket.hears(ticket.activity(presets.INTERNAL_NOTE))] == ["responsible"]
    assert rulebook.policy("company").activities is None
    assert rulebook.policy("company").activity("anything at all") == Activity("anything at all")
    with pytest.raises(UnknownActivityError, match="knows no activity 'call_logged'"):
        ticket.activity("call_logged")


ANNA, BOB, CARL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("carl")


# --- rulebooks are checked when built ---------------------------------------------------------------


def test_presets_compose_deals_from_account_managers_with_customers_from_caretaker_groups(clock: FakeClock) -> None:
    rulebook = presets.account_managers().only("deal") | presets.caretaker_groups().only("customer")
    own = make(rulebook, clock)
    own.add_tenant("acme")
    anna = own.add_user("acme", "Anna", id="anna", personal_caretaker_group=True)
    group = own.personal_group(anna)
    assert group is not None

    deal = own.create("deal", actor=anna, id="D-1")
    customer = own.create("customer", actor=anna, id="K-1", holders={"caretaker_group": group})

    assert rulebook.kinds == ("deal", "customer")
    assert own.tenant("acme").plan == "go"  # the account managers' plans came along
    assert own.holders(deal, "responsible") == (ANNA,)
    assert own.holders(customer, "caretaker_group") == (Assignee.group(group.id),)
    with pytest.raises(UnknownKindError):
        own.create("company", actor=anna)
