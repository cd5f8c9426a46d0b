"""Every refusal is a typed `OwnershipError` with a readable sentence, and a refused call changes nothing."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from conftest import make
from ownership import (
    EVERYONE,
    Assignee,
    AssigneeKindError,
    AutoAssign,
    DuplicateIdError,
    FeatureDisabledError,
    ForeignActorError,
    ForeignTenantError,
    GroupKind,
    InactiveUserError,
    InvalidValueError,
    MandatoryRoleError,
    Ownership,
    OwnershipError,
    Policy,
    RecordRef,
    Role,
    Rulebook,
    RulebookError,
    TooManyHoldersError,
    Trigger,
    UnknownKindError,
    UnknownPlanError,
    UnknownRecordError,
    UnknownRoleError,
    UnknownUserError,
    presets,
)
from ownership.testing import FakeClock

ANNA, BOB, CARL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("carl")


@contextmanager
def refused(own: Ownership, error: type[OwnershipError], match: str) -> Iterator[None]:
    """Expect `error`, with a sentence matching `match`, and the repository exactly as it was."""
    assert issubclass(error, OwnershipError)
    before = own.snapshot()
    with pytest.raises(error, match=match) as caught:
        yield
    message = str(caught.value)
    assert message.endswith("."), f"not a sentence: {message!r}"
    assert len(message.split()) >= 5, f"too terse to act on: {message!r}"
    assert own.snapshot() == before


@pytest.fixture
def crm(accounts: Ownership) -> Ownership:
    """Acme on plan go with Anna, Bob, inactive Carl, a competence "Sales", deal D-1 (Anna's) and company C-1.

    Globex is a second tenant with Gina.
    """
    accounts.add_user("acme", "Anna", id="anna")
    accounts.add_user("acme", "Bob", id="bob")
    accounts.add_user("acme", "Carl", id="carl", active=False)
    accounts.add_group("acme", "Sales", GroupKind.COMPETENCE, id="sales")
    accounts.add_tenant("globex")
    accounts.add_user("globex", "Gina", id="gina")
    accounts.create("deal", actor="anna", id="D-1")
    accounts.create("company", actor="anna", id="C-1")
    return accounts


DEAL = RecordRef("deal", "D-1")
COMPANY = RecordRef("company", "C-1")


# --- who may be assigned ----------------------------------------------------------------------


def test_ld2_inactive_assignee_is_refused(crm: Ownership) -> None:
    with refused(crm, InactiveUserError, r"Carl \(carl\) is inactive and cannot be assigned"):
        crm.assign(DEAL, "responsible", CARL, actor="anna")


def test_ld2_inactive_assignee_is_refused_at_creation(crm: Ownership) -> None:
    with refused(crm, InactiveUserError, "inactive"):
        crm.create("deal", actor="anna", id="D-2", holders={"responsible": CARL})


def test_ld2_assignee_of_another_tenant_is_refused(crm: Ownership) -> None:
    with refused(crm, ForeignTenantError, "Gina belongs to tenant 'globex'.*must be of tenant 'acme'"):
        crm.assign(DEAL, "responsible", Assignee.user("gina"), actor="anna")


def test_group_of_another_tenant_is_refused(clock: FakeClock) -> None:
    own = make(presets.contact_desk(), clock)
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_user("acme", "Anna", id="anna")
    own.add_group("globex", "Globex tax", GroupKind.COMPETENCE, id="globex-tax")
    contact = own.create("contact", actor="anna", id="P-1")

    with refused(own, ForeignTenantError, "Group 'Globex tax' belongs to tenant 'globex'"):
        own.assign(contact, "assignee", Assignee.group("globex-tax"), actor="anna")


def test_group_where_the_role_takes_users_only_is_refused(crm: Ownership) -> None:
    with refused(crm, AssigneeKindError, "responsible of a deal takes users, not a competence group"):
        crm.assign(DEAL, "responsible", Assignee.group("sales"), actor="anna")


def test_everyone_where_the_role_takes_users_only_is_refused(crm: Ownership) -> None:
    with refused(crm, AssigneeKindError, "takes users, not everyone"):
        crm.assign(COMPANY, "account_manager", EVERYONE, actor="anna")


def test_more_holders_than_the_maximum_are_refused(clock: FakeClock) -> None:
    pair = Rulebook((Policy("deal", (Role("owner", max=2),)),))
    own = make(pair, clock)
    own.add_tenant("acme")
    for name in ("Anna", "Bob", "Carl"):
        own.add_user("acme", name, id=name.lower())
    deal = own.create("deal", actor="anna", id="D-1", holders={"owner": [ANNA, BOB]})

    with refused(own, TooManyHoldersError, "owner of deal D-1 holds at most 2"):
        own.assign(deal, "owner", CARL, actor="anna")
    with refused(own, TooManyHoldersError, "holds at most 2"):
        own.create("deal", actor="anna", id="D-2", holders={"owner": [ANNA, BOB, CARL]})
    with refused(own, TooManyHoldersError, "names the same assignee twice"):
        own.create("deal", actor="anna", id="D-3", holders={"owner": [ANNA, ANNA]})

    assert own.holders(deal, "owner") == (ANNA, BOB)


# --- mandatory roles ------------------------------------------------------------------------


def test_tl2_removing_the_last_responsible_of_a_deal_is_refused(crm: Ownership) -> None:
    with refused(crm, MandatoryRoleError, "A deal must keep 1 responsible; assign another first, or use replace"):
        crm.unassign(DEAL, "responsible", ANNA, actor="anna")


def test_tl2_creating_a_deal_without_responsible_is_refused(crm: Ownership) -> None:
    with refused(crm, MandatoryRoleError, "A deal needs 1 responsible in tenant 'acme'"):
        crm.create("deal", actor=None, tenant="acme", id="D-2")


def test_tl7_removing_the_last_manager_of_a_project_is_refused(crm: Ownership) -> None:
    crm.configure_tenant("acme", plan="move")
    project = crm.create("project", actor="anna", id="P-1", holders={"collaborator": BOB})

    with refused(crm, MandatoryRoleError, "A project must keep 1 manager"):
        crm.unassign(project, "manager", ANNA, actor="anna")


def test_replace_cannot_take_a_role_below_its_minimum(clock: FakeClock) -> None:
    # `Role.min` is what the role "must keep"; handing one holder's part to a co-holder drops one.
    pair = Rulebook((Policy("deal", (Role("owner", min=2, max=None),)),))
    own = make(pair, clock)
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    deal = own.create("deal", actor="anna", id="D-1", holders={"owner": [ANNA, BOB]})

    with refused(own, MandatoryRoleError, "must keep 2 owner"):
        own.replace(deal, "owner", ANNA, BOB, actor="anna")

    assert own.holders(deal, "owner") == (ANNA, BOB)


# --- features by plan and switches ----------------------------------------------------------


def test_tl5_second_manager_without_the_switch_is_refused(crm: Ownership) -> None:
    with refused(crm, FeatureDisabledError, "needs 'second_account_manager'.*has not switched on"):
        crm.assign(COMPANY, presets.SECOND_ACCOUNT_MANAGER, BOB, actor="anna")


def test_tl10_kind_outside_the_plan_is_refused(crm: Ownership) -> None:
    with refused(crm, FeatureDisabledError, "Tenant 'acme' cannot create a project: it needs 'projects'"):
        crm.create("project", actor="anna", id="P-1")


def test_cg8_second_caretaker_group_without_the_setting_is_refused(clock: FakeClock) -> None:
    own = make(presets.caretaker_groups(), clock)
    own.add_tenant("meier-gmbh")
    own.add_user("meier-gmbh", "Meier", id="meier", personal_caretaker_group=True)
    group = own.personal_group("meier")
    assert group is not None
    customer = own.create("customer", actor="meier", id="K-1", holders={"caretaker_group": group})

    with refused(own, FeatureDisabledError, "second_caretaker_group of a customer needs"):
        own.assign(customer, "second_caretaker_group", group, actor="meier")


# --- unknown and duplicate names --------------------------------------------------------------


def test_unknown_record_kind_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownKindError, "knows no record kind 'spaceship'"):
        crm.create("spaceship", actor="anna")


def test_unknown_role_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownRoleError, "A deal has no role 'captain'; its roles are: responsible"):
        crm.assign(DEAL, "captain", BOB, actor="anna")
    with refused(crm, UnknownRoleError, "no role 'captain'"):
        crm.create("deal", actor="anna", id="D-2", holders={"captain": BOB})


def test_unknown_user_is_refused_as_assignee_and_as_actor(crm: Ownership) -> None:
    with refused(crm, UnknownUserError, "There is no user 'ghost'"):
        crm.assign(DEAL, "responsible", Assignee.user("ghost"), actor="anna")
    with refused(crm, UnknownUserError, "There is no user 'ghost'"):
        crm.create("deal", actor="ghost", id="D-2")


def test_unknown_record_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownRecordError, "No deal with id 'D-404' is tracked"):
        crm.assign(RecordRef("deal", "D-404"), "responsible", BOB, actor="anna")


def test_duplicate_record_id_is_refused(crm: Ownership) -> None:
    with refused(crm, DuplicateIdError, "A deal with id 'D-1' is tracked already"):
        crm.create("deal", actor="bob", id="D-1")


def test_duplicate_user_id_is_refused(crm: Ownership) -> None:
    with refused(crm, DuplicateIdError, "A user with id 'anna' exists already"):
        crm.add_user("acme", "Another Anna", id="anna")
    with refused(crm, DuplicateIdError, "A user with id 'anna' exists already"):
        crm.add_user("globex", "Anna of Globex", id="anna")  # user ids are unique across tenants


def test_duplicate_tenant_and_group_ids_are_refused(crm: Ownership) -> None:
    with refused(crm, DuplicateIdError, "A tenant with id 'acme' exists already"):
        crm.add_tenant("acme")
    with refused(crm, DuplicateIdError, "A group with id 'sales' exists already"):
        crm.add_group("acme", "Sales again", GroupKind.TEAM, id="sales")


def test_unknown_plan_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownPlanError, "The rulebook has no plan 'platinum'; its plans are: go, move, boost"):
        crm.add_tenant("initech", plan="platinum")
    with refused(crm, UnknownPlanError, "no plan 'platinum'"):
        crm.configure_tenant("acme", plan="platinum")


# --- who may act --------------------------------------------------------------------------------


def test_actor_of_another_tenant_is_refused(crm: Ownership) -> None:
    with refused(crm, ForeignActorError, "deal D-1 is not shared with tenant 'globex'; Gina cannot change"):
        crm.assign(DEAL, "responsible", BOB, actor="gina")
    with refused(crm, ForeignActorError, "Gina belongs to tenant 'globex' and cannot create records in 'acme'"):
        crm.create("deal", actor="gina", tenant="acme", id="D-2")


def test_inactive_actor_is_refused(crm: Ownership) -> None:
    with refused(crm, InactiveUserError, r"Carl \(carl\) is inactive and cannot act"):
        crm.assign(DEAL, "responsible", BOB, actor="carl")
    with refused(crm, InactiveUserError, "cannot act"):
        crm.create("deal", actor="carl", id="D-2")


def test_empty_id_is_refused(crm: Ownership) -> None:
    with refused(crm, InvalidValueError, "id must be a non-empty string"):
        crm.add_user("acme", "Nobody", id="")
    with refused(crm, InvalidValueError, "non-empty"):
        crm.create("deal", actor="anna", id="")
    with refused(crm, InvalidValueError, "non-empty"):
        crm.add_tenant("")
    with refused(crm, InvalidValueError, "non-empty"):
        crm.add_group("acme", "Nameless", GroupKind.TEAM, id="")
    with pytest.raises(InvalidValueError, match="non-empty id"):
        Assignee.user("")


def test_every_refusal_is_caught_as_ownership_error(crm: Ownership) -> None:
    with pytest.raises(OwnershipError):
        crm.unassign(DEAL, "responsible", ANNA, actor="anna")
    with pytest.raises(OwnershipError):
        crm.create("spaceship", actor="anna")
    with pytest.raises(LookupError):  # not-found errors are lookup errors too
        crm.assign(RecordRef("deal", "D-404"), "responsible", BOB, actor="anna")


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


def test_only_refuses_a_kind_the_rulebook_lacks() -> None:
    with pytest.raises(UnknownKindError, match="'customer'"):
        presets.account_managers().only("customer")
