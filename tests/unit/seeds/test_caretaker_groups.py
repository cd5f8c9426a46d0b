"""Caretaker groups ("Betreuergruppen") deciding who sees a customer, as seed 003 describes: CG1-CG10."""

from datetime import datetime, timedelta

import pytest

from conftest import make
from ownership import (
    Assignee,
    AssigneeKindError,
    DuplicateIdError,
    FeatureDisabledError,
    Group,
    GroupKind,
    Ownership,
    presets,
)
from ownership.testing import FakeClock


@pytest.fixture
def crm(clock: FakeClock) -> Ownership:
    """Meier GmbH: admin Anna, salesmen Meier and Mueller with personal caretaker groups, and Bob without one."""
    own = make(presets.caretaker_groups(), clock)
    own.add_tenant("meier-gmbh")
    own.add_user("meier-gmbh", "Anna", id="anna", admin=True)
    own.add_user("meier-gmbh", "Meier", id="meier", personal_caretaker_group=True)
    own.add_user("meier-gmbh", "Mueller", id="mueller", personal_caretaker_group=True)
    own.add_user("meier-gmbh", "Bob", id="bob")
    return own


def personal(own: Ownership, user: str) -> Group:
    group = own.personal_group(user)
    assert group is not None, f"{user} has no personal caretaker group"
    return group


def member_ids(own: Ownership, group: Group, at: datetime | None = None) -> list[str]:
    return [u.id for u in own.members(group, at=at)]


# --- CG1: the caretaker group takes caretaker groups only ------------------------------------


def test_cg1_customer_is_distributed_by_caretaker_group(crm: Ownership) -> None:
    north = crm.add_group("meier-gmbh", "Region North", GroupKind.CARETAKER, id="north")

    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": north})

    assert crm.holders(customer, "caretaker_group") == (Assignee.group("north"),)


def test_cg1_caretaker_group_does_not_take_a_user(crm: Ownership) -> None:
    customer = crm.create("customer", actor="anna", id="K-1")

    with pytest.raises(AssigneeKindError, match="takes caretaker groups, not a user"):
        crm.assign(customer, "caretaker_group", Assignee.user("meier"), actor="anna")


@pytest.mark.parametrize("kind", [GroupKind.TEAM, GroupKind.COMPETENCE])
def test_cg1_caretaker_group_does_not_take_a_team_or_competence(crm: Ownership, kind: GroupKind) -> None:
    other = crm.add_group("meier-gmbh", "Support", kind, id="support")
    customer = crm.create("customer", actor="anna", id="K-1")

    with pytest.raises(AssigneeKindError, match=f"not a {kind.value} group"):
        crm.assign(customer, "caretaker_group", other, actor="anna")
    with pytest.raises(AssigneeKindError):
        crm.create("customer", actor="anna", id="K-2", holders={"caretaker_group": other})

    assert crm.holders(customer, "caretaker_group") == ()


def test_cg1_a_customer_holds_one_caretaker_group_and_assigning_replaces_it(crm: Ownership) -> None:
    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": personal(crm, "meier")})

    holders = crm.assign(customer, "caretaker_group", personal(crm, "mueller"), actor="anna")

    assert holders == (Assignee.group(personal(crm, "mueller").id),)


# --- CG2: no caretaker group, no visibility for non-admins ---------------------------------


def test_cg2_customer_without_caretaker_group_is_seen_by_admins_only(crm: Ownership) -> None:
    customer = crm.create("customer", actor="anna", id="K-1")

    assert crm.can("anna", "view", customer)
    assert not crm.can("meier", "view", customer)
    assert crm.visible("meier", "customer").records == ()


# --- CG3: a personal caretaker group made with the user --------------------------------------


def test_cg3_adding_a_user_can_create_a_caretaker_group_named_after_them_and_linked_to_them(crm: Ownership) -> None:
    lena = crm.add_user("meier-gmbh", "Lena", id="lena", personal_caretaker_group=True)

    group = personal(crm, "lena")
    assert group.name == "Lena"
    assert group.kind is GroupKind.CARETAKER
    assert group.personal_of == lena.id
    assert group.tenant == "meier-gmbh"
    assert crm.members(group) == (lena,)
    assert crm.groups_of(lena) == (group,)


def test_cg3_user_added_without_the_option_gets_no_group(crm: Ownership) -> None:
    crm.add_user("meier-gmbh", "Lena", id="lena")

    assert crm.personal_group("lena") is None
    assert crm.groups_of("lena") == ()


def test_cg3_refused_user_creates_no_personal_group_either(crm: Ownership) -> None:
    groups_before = crm.groups("meier-gmbh")

    with pytest.raises(DuplicateIdError):
        crm.add_user("meier-gmbh", "Meier the second", id="meier", personal_caretaker_group=True)

    assert crm.groups("meier-gmbh") == groups_before


# --- CG4: other groups must be linked explicitly --------------------------------------------


def test_cg4_new_group_has_no_members_and_its_customers_are_seen_by_no_non_admin(crm: Ownership) -> None:
    south = crm.add_group("meier-gmbh", "Region South", GroupKind.CARETAKER, id="south")
    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": south})

    assert crm.members(south) == ()
    assert [u.id for u in crm.users("meier-gmbh") if crm.can(u, "view", customer)] == ["anna"]


def test_cg4_linking_a_user_to_the_group_lets_them_see_its_customers(crm: Ownership) -> None:
    south = crm.add_group("meier-gmbh", "Region South", GroupKind.CARETAKER, id="south")
    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": south})

    crm.add_member(south, "bob")

    assert crm.can("bob", "view", customer)
    assert crm.visible("bob", "customer").records == (customer,)


# --- CG5 / X5: deputies, for good or until a moment ------------------------------------------


def test_cg5_deputy_linked_to_a_colleagues_group_sees_and_edits_their_customers(crm: Ownership) -> None:
    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": personal(crm, "meier")})
    assert not crm.can("mueller", "view", customer)

    crm.add_member(personal(crm, "meier"), "mueller")

    assert crm.can("mueller", "view", customer)
    assert crm.can("mueller", "edit", customer)


def test_x5_deputy_membership_counts_until_its_end_and_stops_by_itself(crm: Ownership, clock: FakeClock) -> None:
    meiers = personal(crm, "meier")
    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": meiers})
    holiday_ends = clock.now + timedelta(days=14)
    crm.add_member(meiers, "mueller", until=holiday_ends)

    clock.advance(days=13, hours=23, minutes=59)
    assert member_ids(crm, meiers) == ["meier", "mueller"]
    assert meiers in crm.groups_of("mueller")
    assert crm.can("mueller", "view", customer)

    clock.advance(minutes=1)  # the very moment the cover ends
    assert member_ids(crm, meiers) == ["meier"]
    assert meiers not in crm.groups_of("mueller")
    assert not crm.can("mueller", "view", customer)
    assert crm.visible("mueller", "customer").records == ()


def test_x5_members_and_groups_of_answer_for_a_given_moment(crm: Ownership, clock: FakeClock) -> None:
    meiers = personal(crm, "meier")
    start = clock.now
    crm.add_member(meiers, "mueller", until=start + timedelta(days=14))

    assert member_ids(crm, meiers, at=start + timedelta(days=1)) == ["meier", "mueller"]
    assert member_ids(crm, meiers, at=start + timedelta(days=14)) == ["meier"]
    assert crm.groups_of("mueller", at=start + timedelta(days=20)) == (personal(crm, "mueller"),)


def test_x5_owners_own_membership_is_not_affected_by_the_deputy(crm: Ownership, clock: FakeClock) -> None:
    meiers = personal(crm, "meier")
    crm.add_member(meiers, "mueller", until=clock.now + timedelta(days=1))

    clock.advance(days=365)

    assert member_ids(crm, meiers) == ["meier"]


def test_cg5_removed_deputy_loses_sight_at_once(crm: Ownership) -> None:
    meiers = personal(crm, "meier")
    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": meiers})
    crm.add_member(meiers, "mueller")

    crm.remove_member(meiers, "mueller")

    assert not crm.can("mueller", "view", customer)


# --- CG6: a personal group makes a special customer one person's ------------------------------


def test_cg6_vip_in_a_personal_group_belongs_to_exactly_one_person(crm: Ownership) -> None:
    vip = crm.create("customer", actor="anna", id="VIP-1", holders={"caretaker_group": personal(crm, "meier")})

    seeing = [u.id for u in crm.users("meier-gmbh") if not u.admin and crm.can(u, "view", vip)]

    assert seeing == ["meier"]


# --- CG7: territory groups with several members ----------------------------------------------


def test_cg7_territory_group_with_several_members_serves_a_region_together(crm: Ownership) -> None:
    north = crm.add_group("meier-gmbh", "Region North", GroupKind.CARETAKER, id="north")
    crm.add_member(north, "meier")
    crm.add_member(north, "mueller")
    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": north})

    assert member_ids(crm, north) == ["meier", "mueller"]
    assert crm.can("meier", "view", customer)
    assert crm.can("mueller", "view", customer)
    assert not crm.can("bob", "view", customer)


# --- CG8: a second caretaker group behind a tenant setting -------------------------------------


def test_cg8_second_caretaker_group_is_off_by_default(crm: Ownership) -> None:
    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": personal(crm, "meier")})

    with pytest.raises(FeatureDisabledError, match="second_caretaker_group"):
        crm.assign(customer, "second_caretaker_group", personal(crm, "mueller"), actor="anna")
    with pytest.raises(FeatureDisabledError):
        crm.holders(customer, "second_caretaker_group")
    with pytest.raises(FeatureDisabledError):
        crm.create("customer", actor="anna", id="K-2", holders={"second_caretaker_group": personal(crm, "mueller")})


def test_cg8_once_switched_on_the_second_group_exists_on_every_customer(crm: Ownership) -> None:
    old = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": personal(crm, "meier")})

    crm.configure_tenant("meier-gmbh", switches={presets.SECOND_CARETAKER_GROUP})
    new = crm.create("customer", actor="anna", id="K-2")

    assert crm.holders(old, "second_caretaker_group") == ()
    assert crm.holders(new, "second_caretaker_group") == ()
    assert crm.assign(old, "second_caretaker_group", personal(crm, "mueller"), actor="anna") == (
        Assignee.group(personal(crm, "mueller").id),
    )


def test_cg8_second_caretaker_group_lets_its_members_see_the_customer(crm: Ownership) -> None:
    crm.configure_tenant("meier-gmbh", switches={presets.SECOND_CARETAKER_GROUP})
    customer = crm.create(
        "customer",
        actor="anna",
        id="K-1",
        holders={"caretaker_group": personal(crm, "meier"), "second_caretaker_group": personal(crm, "mueller")},
    )

    assert crm.can("meier", "view", customer)
    assert crm.can("mueller", "view", customer)


def test_cg8_second_caretaker_group_takes_caretaker_groups_only(crm: Ownership) -> None:
    crm.configure_tenant("meier-gmbh", switches={presets.SECOND_CARETAKER_GROUP})
    customer = crm.create("customer", actor="anna", id="K-1")

    with pytest.raises(AssigneeKindError):
        crm.assign(customer, "second_caretaker_group", Assignee.user("meier"), actor="anna")


# --- CG9: informational caretakers are users and grant nothing ---------------------------------


def test_cg9_caretakers_are_several_users_and_grant_no_access(crm: Ownership) -> None:
    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": personal(crm, "meier")})

    crm.assign(customer, "caretaker", Assignee.user("meier"), actor="anna")
    holders = crm.assign(customer, "caretaker", Assignee.user("mueller"), actor="anna")

    assert holders == (Assignee.user("meier"), Assignee.user("mueller"))
    assert crm.rulebook.policy("customer").role("caretaker").grants_access is False
    assert not crm.can("mueller", "view", customer)  # named caretaker, but the customer still is Meier's
    assert crm.holders(customer, "caretaker_group") == (Assignee.group(personal(crm, "meier").id),)


def test_cg9_caretakers_do_not_take_groups(crm: Ownership) -> None:
    customer = crm.create("customer", actor="anna", id="K-1")

    with pytest.raises(AssigneeKindError, match="takes users, not a caretaker group"):
        crm.assign(customer, "caretaker", personal(crm, "meier"), actor="anna")


# --- CG10: teams are pools, not caretaker groups -------------------------------------------


@pytest.mark.parametrize("kind", ["follow_up", "ticket"])
def test_cg10_work_goes_to_a_team_as_a_pool_and_a_member_takes_it(crm: Ownership, kind: str) -> None:
    support = crm.add_group("meier-gmbh", "Support", GroupKind.TEAM, id="support")
    crm.add_member(support, "bob")
    work = crm.create(kind, actor="anna", id="W-1", holders={"team": support})
    assert crm.holders(work, "team") == (Assignee.group("support"),)

    taken = crm.assign(work, "team", Assignee.user("bob"), actor="bob")

    assert taken == (Assignee.user("bob"),)


@pytest.mark.parametrize("kind", ["follow_up", "ticket"])
def test_cg10_team_role_does_not_take_a_caretaker_group(crm: Ownership, kind: str) -> None:
    work = crm.create(kind, actor="anna", id="W-1")

    with pytest.raises(AssigneeKindError, match="not a caretaker group"):
        crm.assign(work, "team", personal(crm, "meier"), actor="anna")
    with pytest.raises(AssigneeKindError):
        crm.create(kind, actor="anna", id="W-2", holders={"team": personal(crm, "meier")})


def test_cg10_team_membership_grants_no_caretaker_visibility(crm: Ownership) -> None:
    support = crm.add_group("meier-gmbh", "Support", GroupKind.TEAM, id="support")
    crm.add_member(support, "bob")
    customer = crm.create("customer", actor="anna", id="K-1", holders={"caretaker_group": personal(crm, "meier")})
    follow_up = crm.create("follow_up", actor="anna", id="W-1", holders={"team": support})

    assert not crm.can("bob", "view", customer)
    assert crm.can("mueller", "view", follow_up)  # follow-ups are seen by everyone of the tenant
