"""The holders room (src/ownership/usecases/holders.py): who may be assigned and who may act, refused readably."""

import pytest

from conftest import make, refusals_crm
from conftest import refused_readably as refused
from ownership import (
    EVERYONE,
    Assignee,
    AssigneeKindError,
    FeatureDisabledError,
    ForeignActorError,
    GroupKind,
    InactiveUserError,
    MandatoryRoleError,
    Ownership,
    OwnershipError,
    Policy,
    RecordRef,
    Role,
    Rulebook,
    TooManyHoldersError,
    UnknownGroupError,
    UnknownRecordError,
    UnknownRoleError,
    UnknownUserError,
    presets,
)
from ownership.testing import FakeClock

crm = refusals_crm
"""The fixture these tests ask for as `crm`: Acme with deal D-1 and company C-1 (tests/conftest.py)."""


ANNA, BOB, CARL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("carl")
DEAL = RecordRef("deal", "D-1")
COMPANY = RecordRef("company", "C-1")


# --- who may be assigned ----------------------------------------------------------------------


def test_ld2_inactive_assignee_is_refused(crm: Ownership) -> None:
    with refused(crm, InactiveUserError, r"Carl \(carl\) is inactive and cannot be assigned"):
        crm.assign(DEAL, "responsible", CARL, actor="anna")


def test_ld2_assignee_of_another_tenant_is_refused(crm: Ownership) -> None:
    with refused(crm, UnknownUserError, "There is no user 'gina'; add them with add_user first."):
        crm.assign(DEAL, "responsible", Assignee.user("gina"), actor="anna")


def test_group_of_another_tenant_is_refused(clock: FakeClock) -> None:
    own = make(presets.contact_desk(), clock)
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_user("acme", "Anna", id="anna")
    own.add_group("globex", "Globex tax", GroupKind.COMPETENCE, id="globex-tax")
    contact = own.create("contact", actor="anna", id="P-1")

    with refused(own, UnknownGroupError, "There is no group 'globex-tax'; add it with add_group first."):
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


def test_every_refusal_is_caught_as_ownership_error(crm: Ownership) -> None:
    with pytest.raises(OwnershipError):
        crm.unassign(DEAL, "responsible", ANNA, actor="anna")
    with pytest.raises(OwnershipError):
        crm.create("spaceship", actor="anna")
    with pytest.raises(LookupError):  # not-found errors are lookup errors too
        crm.assign(RecordRef("deal", "D-404"), "responsible", BOB, actor="anna")
