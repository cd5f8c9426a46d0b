"""Account managers and responsible persons, as seeds 000 (DE) and 001 (FR) describe them: TL1-TL10."""

import pytest

from conftest import make
from ownership import (
    Assignee,
    AssigneeKindError,
    FeatureDisabledError,
    GroupKind,
    MandatoryRoleError,
    Ownership,
    Profile,
    UnknownRoleError,
    User,
    presets,
)
from ownership.testing import FakeClock


@pytest.fixture
def anna(accounts: Ownership) -> User:
    return accounts.add_user("acme", "Anna", id="anna")


@pytest.fixture
def bob(accounts: Ownership) -> User:
    return accounts.add_user("acme", "Bob", id="bob")


def restricted_to(*kinds: str) -> Profile:
    """A profile with restricted CRM / deal access (TL4)."""
    return Profile(restricted=frozenset(kinds))


def switch_on_second_manager(own: Ownership) -> None:
    own.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})


# --- TL1: companies have an optional account manager ---------------------------------


def test_tl1_company_can_be_created_without_account_manager(accounts: Ownership, anna: User) -> None:
    company = accounts.create("company", actor=anna, id="C-1")

    assert accounts.holders(company, "account_manager") == ()


def test_tl1_company_account_manager_can_be_set_and_removed_again(accounts: Ownership, anna: User, bob: User) -> None:
    company = accounts.create("company", actor=anna, id="C-1")

    assert accounts.assign(company, "account_manager", bob, actor=anna) == (Assignee.user("bob"),)
    assert accounts.unassign(company, "account_manager", bob, actor=anna) == ()
    assert accounts.holders(company, "account_manager") == ()


# --- TL2: deals have a mandatory responsible person ----------------------------------


def test_tl2_deal_created_by_hand_is_assigned_to_its_creator(accounts: Ownership, anna: User) -> None:
    deal = accounts.create("deal", actor=anna, id="D-1")

    assert accounts.holders(deal, "responsible") == (Assignee.user("anna"),)


def test_tl2_deal_created_with_named_responsible_goes_to_that_person_not_the_creator(
    accounts: Ownership, anna: User, bob: User
) -> None:
    deal = accounts.create("deal", actor=anna, id="D-1", holders={"responsible": bob})

    assert accounts.holders(deal, "responsible") == (Assignee.user("bob"),)


def test_tl2_deal_cannot_be_created_without_responsible(accounts: Ownership) -> None:
    with pytest.raises(MandatoryRoleError, match="needs 1 responsible"):
        accounts.create("deal", actor=None, tenant="acme", id="D-1")

    assert accounts.snapshot().records == ()


def test_tl2_deal_imported_without_actor_is_accepted_with_a_named_responsible(accounts: Ownership, anna: User) -> None:
    deal = accounts.create("deal", actor=None, tenant="acme", id="D-1", holders={"responsible": anna})

    assert accounts.holders(deal, "responsible") == (Assignee.user("anna"),)


def test_tl2_deal_cannot_be_left_without_responsible(accounts: Ownership, anna: User) -> None:
    deal = accounts.create("deal", actor=anna, id="D-1")

    with pytest.raises(MandatoryRoleError, match="must keep 1 responsible"):
        accounts.unassign(deal, "responsible", anna, actor=anna)

    assert accounts.holders(deal, "responsible") == (Assignee.user("anna"),)


def test_tl2_deal_can_be_handed_over_to_a_colleague(accounts: Ownership, anna: User, bob: User) -> None:
    deal = accounts.create("deal", actor=anna, id="D-1")

    holders = accounts.assign(deal, "responsible", bob, actor=anna)

    assert holders == (Assignee.user("bob"),)
    assert accounts.holders(deal, "responsible") == (Assignee.user("bob"),)


def test_tl2_deal_can_be_handed_over_with_replace(accounts: Ownership, anna: User, bob: User) -> None:
    deal = accounts.create("deal", actor=anna, id="D-1")

    assert accounts.replace(deal, "responsible", anna, bob, actor=anna) == (Assignee.user("bob"),)


# --- TL4/TL5: a second manager behind a switch -----------------------------------------


def test_tl5_second_account_manager_is_off_by_default_on_company(accounts: Ownership, anna: User, bob: User) -> None:
    company = accounts.create("company", actor=anna, id="C-1")

    with pytest.raises(FeatureDisabledError, match="second_account_manager"):
        accounts.assign(company, presets.SECOND_ACCOUNT_MANAGER, bob, actor=anna)


def test_tl5_second_responsible_is_off_by_default_on_deal(accounts: Ownership, anna: User, bob: User) -> None:
    with pytest.raises(FeatureDisabledError, match="second_account_manager"):
        accounts.create("deal", actor=anna, id="D-1", holders={"second_responsible": bob})

    deal = accounts.create("deal", actor=anna, id="D-1")
    with pytest.raises(FeatureDisabledError):
        accounts.assign(deal, "second_responsible", bob, actor=anna)


def test_tl5_switched_on_company_has_two_account_managers(accounts: Ownership, anna: User, bob: User) -> None:
    switch_on_second_manager(accounts)
    company = accounts.create("company", actor=anna, id="C-1", holders={"account_manager": anna})

    accounts.assign(company, presets.SECOND_ACCOUNT_MANAGER, bob, actor=anna)

    assert accounts.holders(company, "account_manager") == (Assignee.user("anna"),)
    assert accounts.holders(company, presets.SECOND_ACCOUNT_MANAGER) == (Assignee.user("bob"),)


def test_tl5_switched_on_deal_has_responsible_and_second_responsible(
    accounts: Ownership, anna: User, bob: User
) -> None:
    switch_on_second_manager(accounts)

    deal = accounts.create("deal", actor=anna, id="D-1", holders={"second_responsible": bob})

    assert accounts.holders(deal, "responsible") == (Assignee.user("anna"),)
    assert accounts.holders(deal, "second_responsible") == (Assignee.user("bob"),)


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("company", "account_manager"),
        ("company", presets.SECOND_ACCOUNT_MANAGER),
        ("deal", "responsible"),
        ("deal", "second_responsible"),
    ],
)
def test_tl3_tl5_both_managers_are_notified_and_grant_access(kind: str, name: str) -> None:
    role = presets.account_managers().policy(kind).role(name)

    assert role.notified
    assert role.grants_access


def test_tl5_under_restricted_access_both_managers_see_the_company(accounts: Ownership, anna: User) -> None:
    switch_on_second_manager(accounts)
    bob = accounts.add_user("acme", "Bob", id="bob", profile=restricted_to("company"))
    carl = accounts.add_user("acme", "Carl", id="carl", profile=restricted_to("company"))
    dora = accounts.add_user("acme", "Dora", id="dora", profile=restricted_to("company"))
    company = accounts.create("company", actor=anna, id="C-1", holders={"account_manager": carl})
    accounts.assign(company, presets.SECOND_ACCOUNT_MANAGER, bob, actor=anna)

    assert accounts.can(carl, "view", company)
    assert accounts.can(bob, "view", company)
    assert not accounts.can(dora, "view", company)
    assert accounts.can(anna, "view", company)  # unrestricted users see all (TL4)


def test_tl4_restricted_deal_access_shows_only_own_deals(accounts: Ownership, anna: User) -> None:
    bob = accounts.add_user("acme", "Bob", id="bob", profile=restricted_to("deal"))
    annas = accounts.create("deal", actor=anna, id="D-1")
    bobs = accounts.create("deal", actor=bob, id="D-2")

    assert not accounts.can(bob, "view", annas)
    assert accounts.can(bob, "view", bobs)
    assert accounts.visible(bob, "deal").records == (bobs,)


# --- TL6: contacts and invoices have no built-in manager; a user field adds one --------


@pytest.mark.parametrize("kind", ["contact", "invoice"])
def test_tl6_contact_and_invoice_have_no_built_in_manager(accounts: Ownership, anna: User, kind: str) -> None:
    record = accounts.create(kind, actor=anna, id="X-1")

    assert accounts.rulebook.policy(kind).roles == ()
    assert accounts.assignments(record) == ()
    with pytest.raises(UnknownRoleError, match="no role 'account_manager'"):
        accounts.holders(record, "account_manager")


def with_owner_field(clock: FakeClock, kind: str, *, many: bool = False) -> Ownership:
    """The account-managers preset, with a custom user field "owner" on `kind` (TL6), and tenant acme."""
    own = make(presets.account_managers().with_role(kind, presets.user_field("owner", many=many)), clock)
    own.add_tenant("acme", plan="go")
    return own


def test_tl6_custom_user_field_names_a_responsible_user(clock: FakeClock) -> None:
    own = with_owner_field(clock, "contact")
    anna = own.add_user("acme", "Anna", id="anna")
    bob = own.add_user("acme", "Bob", id="bob")
    contact = own.create("contact", actor=anna, id="P-1")

    assert own.holders(contact, "owner") == ()  # a custom field is not auto-filled
    assert own.assign(contact, "owner", bob, actor=anna) == (Assignee.user("bob"),)
    assert own.assign(contact, "owner", anna, actor=anna) == (Assignee.user("anna"),)  # one user: replaced


def test_tl6_custom_user_field_grants_no_access_and_is_not_notified(clock: FakeClock) -> None:
    own = with_owner_field(clock, "contact")
    anna = own.add_user("acme", "Anna", id="anna")
    bob = own.add_user("acme", "Bob", id="bob", profile=restricted_to("contact"))
    contact = own.create("contact", actor=anna, id="P-1", holders={"owner": anna})

    owner = own.rulebook.policy("contact").role("owner")
    assert not owner.grants_access
    assert not owner.notified
    assert own.can(bob, "view", contact)  # the field never restricts access, even for a restricted profile
    assert own.visible(bob, "contact").records == (contact,)


def test_tl6_custom_user_field_on_invoice_takes_several_users_but_no_group(clock: FakeClock) -> None:
    own = with_owner_field(clock, "invoice", many=True)
    anna = own.add_user("acme", "Anna", id="anna")
    bob = own.add_user("acme", "Bob", id="bob")
    sales = own.add_group("acme", "Sales", GroupKind.COMPETENCE, id="sales")
    invoice = own.create("invoice", actor=anna, id="R-1", holders={"owner": [anna, bob]})

    assert own.holders(invoice, "owner") == (Assignee.user("anna"), Assignee.user("bob"))
    with pytest.raises(AssigneeKindError, match="takes users, not a competence group"):
        own.assign(invoice, "owner", sales, actor=anna)


# --- TL7: projects -------------------------------------------------------------------


def test_tl7_project_is_not_available_on_plan_go(accounts: Ownership, anna: User) -> None:
    with pytest.raises(FeatureDisabledError, match="'projects'"):
        accounts.create("project", actor=anna, id="P-1")


@pytest.mark.parametrize(("plan", "switches"), [("move", ()), ("boost", ()), ("go", (presets.PROJECTS,))])
def test_tl7_project_is_available_on_move_boost_or_with_the_projects_booster(
    accounts: Ownership, anna: User, plan: str, switches: tuple[str, ...]
) -> None:
    accounts.configure_tenant("acme", plan=plan, switches=switches)

    project = accounts.create("project", actor=anna, id="P-1")

    assert accounts.holders(project, "manager") == (Assignee.user("anna"),)


def test_tl7_project_cannot_be_created_or_left_without_manager(accounts: Ownership, anna: User) -> None:
    accounts.configure_tenant("acme", plan="move")

    with pytest.raises(MandatoryRoleError, match="needs 1 manager"):
        accounts.create("project", actor=None, tenant="acme", id="P-1")
    project = accounts.create("project", actor=anna, id="P-2")
    with pytest.raises(MandatoryRoleError, match="must keep 1 manager"):
        accounts.unassign(project, "manager", anna, actor=anna)

    assert accounts.holders(project, "manager") == (Assignee.user("anna"),)


def test_tl7_project_can_have_several_managers(accounts: Ownership, anna: User, bob: User) -> None:
    accounts.configure_tenant("acme", plan="move")
    carl = accounts.add_user("acme", "Carl", id="carl")

    project = accounts.create("project", actor=anna, id="P-1", holders={"manager": [anna, bob]})
    holders = accounts.assign(project, "manager", carl, actor=anna)  # adds, does not replace

    assert holders == (Assignee.user("anna"), Assignee.user("bob"), Assignee.user("carl"))
    assert accounts.unassign(project, "manager", anna, actor=bob) == (Assignee.user("bob"), Assignee.user("carl"))


def test_tl7_project_takes_any_number_of_collaborators(accounts: Ownership, anna: User) -> None:
    accounts.configure_tenant("acme", plan="move")
    project = accounts.create("project", actor=anna, id="P-1")
    team = [accounts.add_user("acme", name, id=name.lower()) for name in ("Bob", "Carl", "Dora", "Emil", "Fay", "Gus")]

    for colleague in team:
        accounts.assign(project, "collaborator", colleague, actor=anna)

    assert accounts.holders(project, "collaborator") == tuple(Assignee.user(u.id) for u in team)
    assert accounts.holders(project, "manager") == (Assignee.user("anna"),)


def test_tl7_managers_are_notified_and_restricted_access_lets_managers_and_collaborators_see(
    accounts: Ownership, anna: User
) -> None:
    accounts.configure_tenant("acme", plan="move")
    bob = accounts.add_user("acme", "Bob", id="bob", profile=restricted_to("project"))
    carl = accounts.add_user("acme", "Carl", id="carl", profile=restricted_to("project"))
    project = accounts.create("project", actor=anna, id="P-1", holders={"manager": anna, "collaborator": bob})

    assert accounts.rulebook.policy("project").role("manager").notified
    assert accounts.can(bob, "view", project)
    assert not accounts.can(carl, "view", project)


# --- TL8: tickets --------------------------------------------------------------------


@pytest.mark.parametrize("plan", ["go", "move"])
def test_tl8_ticket_is_not_available_without_boost_or_booster(accounts: Ownership, anna: User, plan: str) -> None:
    accounts.configure_tenant("acme", plan=plan)

    with pytest.raises(FeatureDisabledError, match="'tickets'"):
        accounts.create("ticket", actor=anna, id="T-1")


@pytest.mark.parametrize(("plan", "switches"), [("boost", ()), ("go", (presets.TICKETS,))])
def test_tl8_ticket_is_available_on_boost_or_with_the_shared_inbox_booster(
    accounts: Ownership, anna: User, plan: str, switches: tuple[str, ...]
) -> None:
    accounts.configure_tenant("acme", plan=plan, switches=switches)

    ticket = accounts.create("ticket", actor=anna, id="T-1")

    assert accounts.holders(ticket, "responsible") == ()  # the assignee is optional


def test_tl8_ticket_responsible_is_optional_and_can_be_removed(accounts: Ownership, anna: User, bob: User) -> None:
    accounts.configure_tenant("acme", plan="boost")
    ticket = accounts.create("ticket", actor=anna, id="T-1", holders={"responsible": bob})

    assert accounts.unassign(ticket, "responsible", bob, actor=anna) == ()


def test_tl8_ticket_responsible_is_notified_but_grants_no_access(accounts: Ownership, anna: User) -> None:
    accounts.configure_tenant("acme", plan="boost")
    bob = accounts.add_user("acme", "Bob", id="bob", profile=restricted_to("ticket"))
    ticket = accounts.create("ticket", actor=anna, id="T-1", holders={"responsible": anna})

    responsible = accounts.rulebook.policy("ticket").role("responsible")
    assert responsible.notified is True
    assert responsible.grants_access is False
    assert accounts.can(bob, "view", ticket)  # access to tickets cannot be restricted


# --- TL10: kinds and roles by plan and switches -----------------------------------------


@pytest.mark.parametrize(
    ("plan", "switches", "available"),
    [
        ("go", (), {"company", "deal", "contact", "invoice"}),
        ("move", (), {"company", "deal", "contact", "invoice", "project"}),
        ("boost", (), {"company", "deal", "contact", "invoice", "project", "ticket"}),
        ("go", (presets.TICKETS,), {"company", "deal", "contact", "invoice", "ticket"}),
    ],
)
def test_tl10_record_kinds_depend_on_plan_and_switches(
    accounts: Ownership, anna: User, plan: str, switches: tuple[str, ...], available: set[str]
) -> None:
    accounts.configure_tenant("acme", plan=plan, switches=switches)

    creatable = set()
    for kind in accounts.rulebook.kinds:
        try:
            accounts.create(kind, actor=anna, id=f"{kind}-1")
        except FeatureDisabledError:
            continue
        creatable.add(kind)

    assert creatable == available


def test_tl10_new_tenant_gets_the_default_plan(accounts: Ownership) -> None:
    assert accounts.add_tenant("globex").plan == "go"


def test_tl10_switching_a_feature_off_hides_the_role_and_keeps_its_holders(
    accounts: Ownership, anna: User, bob: User
) -> None:
    switch_on_second_manager(accounts)
    company = accounts.create("company", actor=anna, id="C-1", holders={"account_manager": anna})
    accounts.assign(company, presets.SECOND_ACCOUNT_MANAGER, bob, actor=anna)

    accounts.configure_tenant("acme", switches=())

    with pytest.raises(FeatureDisabledError):
        accounts.holders(company, presets.SECOND_ACCOUNT_MANAGER)
    assert [a.role for a in accounts.assignments(company)] == ["account_manager"]

    switch_on_second_manager(accounts)

    assert accounts.holders(company, presets.SECOND_ACCOUNT_MANAGER) == (Assignee.user("bob"),)


def test_tl10_hidden_second_manager_no_longer_grants_access(accounts: Ownership, anna: User) -> None:
    switch_on_second_manager(accounts)
    bob = accounts.add_user("acme", "Bob", id="bob", profile=restricted_to("company"))
    company = accounts.create("company", actor=anna, id="C-1", holders={presets.SECOND_ACCOUNT_MANAGER: bob})
    assert accounts.can(bob, "view", company)

    accounts.configure_tenant("acme", switches=())

    assert not accounts.can(bob, "view", company)


def test_tl10_downgrading_the_plan_keeps_the_tenants_switches(accounts: Ownership) -> None:
    accounts.configure_tenant("acme", plan="boost", switches={presets.SECOND_ACCOUNT_MANAGER})

    tenant = accounts.configure_tenant("acme", plan="go")

    assert tenant.plan == "go"
    assert tenant.switches == frozenset({presets.SECOND_ACCOUNT_MANAGER})
    assert accounts.rulebook.features(tenant) == frozenset({presets.SECOND_ACCOUNT_MANAGER})
