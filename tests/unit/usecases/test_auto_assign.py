"""The auto-assignment room (src/ownership/usecases/auto_assign.py): by turn, by load, by territory (X4)."""

from datetime import timedelta

import pytest

from conftest import refused
from ownership import (
    ASSIGNED,
    AccessDeniedError,
    Assigned,
    Assignee,
    AssigneeKindError,
    AutoAssignment,
    Criterion,
    FeatureDisabledError,
    GroupKind,
    InvalidValueError,
    LeastLoad,
    Ownership,
    Repository,
    RoundRobin,
    Rule,
    Territory,
    ToGroup,
    UnknownGroupError,
    UnknownKindError,
    UnknownRoleError,
    held_by,
    in_group,
    labelled,
    named,
    presets,
    unassigned,
)
from ownership.testing import FakeClock, RecordingNotifier

ANNA, BOB, CLEO = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("cleo")
DORA, EVA = Assignee.user("dora"), Assignee.user("eva")
NORTH, SOUTH = Assignee.group("north"), Assignee.group("south")
SALES = RoundRobin("assignee", "sales")


def populate(own: Ownership) -> Ownership:
    """Acme and its partner Globex, with no auto-assignment rules yet.

    Acme: admin Ada; Anna, Bob and Cleo in the competence "Sales" (joined in the order Cleo, Anna, Bob);
    Dora and Eva in the competence "North team"; the caretaker group "North", which no contact takes.
    Globex: Paul, and the competence "Globex sales".
    """
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_user("acme", "Ada", id="ada", admin=True)
    for name in ("Anna", "Bob", "Cleo", "Dora", "Eva"):
        own.add_user("acme", name, id=name.lower())
    own.add_user("globex", "Paul", id="paul")
    own.add_group("globex", "Globex sales", GroupKind.COMPETENCE, id="globex_sales")
    sales = own.add_group("acme", "Sales", GroupKind.COMPETENCE, id="sales")
    for user in ("cleo", "anna", "bob"):
        own.add_member(sales, user)
    team = own.add_group("acme", "North team", GroupKind.COMPETENCE, id="north_team")
    own.add_member(team, "dora")
    own.add_member(team, "eva")
    own.add_group("acme", "North", GroupKind.CARETAKER, id="north")
    return own


@pytest.fixture
def desk(repository: Repository, clock: FakeClock) -> Ownership:
    """Acme on seed 004's contact desk, with no rules yet."""
    return populate(Ownership(presets.contact_desk(), repository, clock=clock))


@pytest.fixture
def crm(repository: Repository, clock: FakeClock) -> Ownership:
    """Acme on the account-manager rules, where a deal's responsible is its creator by default (TL2, LD6)."""
    return populate(Ownership(presets.account_managers(), repository, clock=clock))


@pytest.fixture
def caretakers(repository: Repository, clock: FakeClock) -> Ownership:
    """Acme on seed 003's caretaker groups: Anna in "North", Bob in "South"; admin Ada."""
    own = Ownership(presets.caretaker_groups(), repository, clock=clock)
    own.add_tenant("acme")
    own.add_user("acme", "Ada", id="ada", admin=True)
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.add_member(own.add_group("acme", "North", GroupKind.CARETAKER, id="north"), "anna")
    own.add_member(own.add_group("acme", "South", GroupKind.CARETAKER, id="south"), "bob")
    return own


def new_contacts(own: Ownership, count: int, *, actor: str = "ada", **create: object) -> list[tuple[Assignee, ...]]:
    """Create `count` contacts by hand and return each one's assignees."""
    return [
        own.holders(own.create("contact", actor=actor, **create), "assignee")  # type: ignore[arg-type]
        for _ in range(count)
    ]


# --- round robin ---------------------------------------------------------------------------------


def test_x4_round_robin_serves_the_groups_members_in_id_order(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")

    assert new_contacts(desk, 4) == [(ANNA,), (BOB,), (CLEO,), (ANNA,)]


def test_x4_round_robin_skips_inactive_users(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")
    desk.update_user("bob", active=False)

    assert new_contacts(desk, 3) == [(ANNA,), (CLEO,), (ANNA,)]


def test_x4_x5_round_robin_skips_expired_memberships(desk: Ownership, clock: FakeClock) -> None:
    desk.add_member("sales", "bob", until=clock.now + timedelta(hours=1))
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")
    assert new_contacts(desk, 2) == [(ANNA,), (BOB,)]

    clock.advance(hours=2)

    assert new_contacts(desk, 3) == [(CLEO,), (ANNA,), (CLEO,)]


def test_x4_round_robin_turn_survives_a_restart(repository: Repository, desk: Ownership, clock: FakeClock) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")
    assert new_contacts(desk, 2) == [(ANNA,), (BOB,)]

    restarted = Ownership(presets.contact_desk(), repository, clock=clock)

    assert restarted.auto_assign_rules("acme", "contact") == AutoAssignment("contact", (SALES,))
    assert new_contacts(restarted, 2) == [(CLEO,), (ANNA,)]


def test_x4_round_robin_counts_never_differ_by_more_than_one(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")

    new_contacts(desk, 10)

    counts = desk.counts_by_holder("ada", "contact", "assignee")
    assert counts == {ANNA: 4, BOB: 3, CLEO: 3}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_x4_round_robin_goes_on_after_the_last_served_member_leaves(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")
    new_contacts(desk, 2)  # Anna, Bob

    desk.remove_member("sales", "bob")

    assert new_contacts(desk, 2) == [(CLEO,), (ANNA,)]


def test_x4_changing_the_rules_keeps_the_turn(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")
    new_contacts(desk, 1)  # Anna

    desk.set_auto_assign("acme", "contact", [Territory(labelled("north"), ToGroup("assignee", "north_team")), SALES])

    assert new_contacts(desk, 1) == [(BOB,)]


def test_x4_round_robin_turns_are_kept_per_kind(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")
    desk.set_auto_assign("acme", "contact_group", [RoundRobin("responsible", "sales")], actor="ada")
    new_contacts(desk, 2)  # Anna, Bob

    group = desk.create("contact_group", actor="ada", name="VIP")

    assert desk.holders(group, "responsible") == (ANNA,)


def test_x4_group_without_an_active_member_picks_nobody(desk: Ownership) -> None:
    empty = desk.add_group("acme", "Nobody", GroupKind.COMPETENCE, id="nobody")
    desk.set_auto_assign("acme", "contact", [RoundRobin("assignee", empty.id)], actor="ada")

    assert new_contacts(desk, 1) == [()]


# --- least load --------------------------------------------------------------------------------


def test_x4_least_load_gives_the_record_to_the_member_holding_fewest(desk: Ownership) -> None:
    desk.create("contact", actor="ada", holders={"assignee": [ANNA, BOB]})
    desk.create("contact", actor="ada", holders={"assignee": ANNA})
    desk.set_auto_assign("acme", "contact", [LeastLoad("assignee", "sales")], actor="ada")

    assert new_contacts(desk, 4) == [(CLEO,), (BOB,), (CLEO,), (ANNA,)]


def test_x4_least_load_breaks_ties_by_id(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [LeastLoad("assignee", "sales")], actor="ada")

    assert new_contacts(desk, 3) == [(ANNA,), (BOB,), (CLEO,)]


def test_x4_least_load_counts_only_the_kind_and_the_tenant(desk: Ownership) -> None:
    desk.create("contact_group", actor="ada", holders={"responsible": ANNA})
    desk.create("contact", actor="ada", holders={"assignee": BOB})
    desk.set_auto_assign("acme", "contact", [LeastLoad("assignee", "sales")], actor="ada")

    assert new_contacts(desk, 1) == [(ANNA,)]


def test_x4_least_load_skips_inactive_users(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [LeastLoad("assignee", "sales")], actor="ada")
    desk.update_user("anna", active=False)

    assert new_contacts(desk, 2) == [(BOB,), (CLEO,)]


# --- territories ---------------------------------------------------------------------------------


def test_x4_cg7_territory_gives_the_customer_to_its_caretaker_group(caretakers: Ownership) -> None:
    caretakers.set_auto_assign(
        "acme",
        "customer",
        [
            Territory(labelled("north"), ToGroup("caretaker_group", "north")),
            Territory(labelled("south"), ToGroup("caretaker_group", "south")),
        ],
        actor="ada",
    )

    north = caretakers.create("customer", actor="ada", id="K-1", labels={"north"})
    south = caretakers.create("customer", actor="ada", id="K-2", labels={"south"})
    elsewhere = caretakers.create("customer", actor="ada", id="K-3", labels={"west"})

    assert caretakers.holders(north, "caretaker_group") == (NORTH,)
    assert caretakers.holders(south, "caretaker_group") == (SOUTH,)
    assert caretakers.holders(elsewhere, "caretaker_group") == ()
    assert caretakers.can("anna", "view", north)
    assert not caretakers.can("anna", "view", south)
    assert not caretakers.can("anna", "view", elsewhere)  # CG2: admins only, until someone hands it out


def test_x4_territory_takes_turns_within_its_own_team_and_others_fall_through(desk: Ownership) -> None:
    desk.set_auto_assign(
        "acme", "contact", [Territory(labelled("north"), RoundRobin("assignee", "north_team")), SALES], actor="ada"
    )

    northern = new_contacts(desk, 3, labels={"north"})
    others = new_contacts(desk, 2, labels={"south"})

    assert northern == [(DORA,), (EVA,), (DORA,)]
    assert others == [(ANNA,), (BOB,)]


def test_x4_territory_by_name(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [Territory(named("gmbh"), ToGroup("assignee", "north_team"))], actor="ada")

    gmbh = desk.create("contact", actor="ada", name="Müller GmbH")
    ag = desk.create("contact", actor="ada", name="Weber AG")

    assert desk.holders(gmbh, "assignee") == (Assignee.group("north_team"),)
    assert desk.holders(ag, "assignee") == ()


def test_x4_first_rule_that_applies_wins(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [ToGroup("assignee", "north_team"), SALES], actor="ada")

    assert new_contacts(desk, 2) == [(Assignee.group("north_team"),)] * 2
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")
    assert new_contacts(desk, 1) == [(ANNA,)]  # the round robin never took a turn


# --- what rules give way to, and what they beat ---------------------------------------------------------


def test_x4_explicit_holders_win_over_the_rules_and_take_no_turn(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")

    assert new_contacts(desk, 1, holders={"assignee": DORA}) == [(DORA,)]
    assert new_contacts(desk, 1) == [(ANNA,)]


def test_x4_tl2_rules_beat_the_creator_trigger(crm: Ownership) -> None:
    crm.set_auto_assign("acme", "deal", [RoundRobin("responsible", "sales")], actor="ada")

    deals = [crm.create("deal", actor="dora") for _ in range(2)]

    assert [crm.holders(d, "responsible") for d in deals] == [(ANNA,), (BOB,)]


def test_x4_tl2_creator_fills_what_a_rule_could_not(crm: Ownership) -> None:
    empty = crm.add_group("acme", "Nobody", GroupKind.COMPETENCE, id="nobody")
    crm.set_auto_assign("acme", "deal", [RoundRobin("responsible", empty.id)], actor="ada")

    deal = crm.create("deal", actor="dora")

    assert crm.holders(deal, "responsible") == (DORA,)


def test_x4_refused_creation_takes_no_turn(crm: Ownership) -> None:
    crm.set_auto_assign("acme", "deal", [RoundRobin("responsible", "sales")], actor="ada")

    with refused(crm, FeatureDisabledError, "second_account_manager"):
        crm.create("deal", actor="dora", holders={"second_responsible": DORA})  # the switch is off

    assert crm.holders(crm.create("deal", actor="dora"), "responsible") == (ANNA,)


def test_x4_ct1_imported_contacts_in_the_inbox_are_not_auto_assigned(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")

    imported = desk.create("contact", actor=None, tenant="acme", manual=False, name="Import AG")

    assert imported.status == "inbox"
    assert desk.holders(imported, "assignee") == ()
    assert new_contacts(desk, 1) == [(ANNA,)]  # the import took no turn


def test_x4_ct1_contact_created_straight_into_the_archive_is_not_auto_assigned(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")

    assert new_contacts(desk, 1, status="archive") == [()]


def test_x4_rules_are_per_tenant(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")

    assert new_contacts(desk, 1, actor="paul") == [()]
    assert desk.auto_assign_rules("globex", "contact") == AutoAssignment("contact")


def test_x4_ld8_the_picked_employee_hears_of_the_new_record(desk: Ownership, clock: FakeClock) -> None:
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")
    desk.dispatch(RecordingNotifier())

    contact = desk.create("contact", actor="ada", id="C-1")

    notifier = RecordingNotifier()
    desk.dispatch(notifier)
    assert [(n.recipient, n.activity, n.actor) for n in notifier.sent] == [("anna", ASSIGNED, "ada")]
    assert desk.history(contact)[-1] == Assigned(contact.ref, "assignee", ANNA, "acme", "ada", clock.now)


# --- configuring the rules --------------------------------------------------------------------------


def test_x4_rules_read_back_as_set_in_order(desk: Ownership) -> None:
    rules: list[Rule] = [Territory(labelled("north") & named("gmbh"), LeastLoad("assignee", "north_team")), SALES]

    set_ = desk.set_auto_assign("acme", "contact", rules, actor="ada")

    assert set_ == AutoAssignment("contact", tuple(rules))
    assert desk.auto_assign_rules("acme", "contact") == set_


def test_x4_no_rules_until_set_and_an_empty_list_switches_them_off(desk: Ownership) -> None:
    assert desk.auto_assign_rules("acme", "contact") == AutoAssignment("contact")
    desk.set_auto_assign("acme", "contact", [SALES], actor="ada")

    desk.set_auto_assign("acme", "contact", [], actor="ada")

    assert desk.auto_assign_rules("acme", "contact").rules == ()
    assert new_contacts(desk, 1) == [()]


def test_x4_host_sets_rules_without_an_actor(desk: Ownership) -> None:
    desk.set_auto_assign("acme", "contact", [SALES])

    assert desk.auto_assign_rules("acme", "contact").rules == (SALES,)


def test_x4_rule_for_an_unknown_role_is_refused(desk: Ownership) -> None:
    with refused(desk, UnknownRoleError, "responsible"):
        desk.set_auto_assign("acme", "contact", [RoundRobin("responsible", "sales")], actor="ada")


@pytest.mark.parametrize(
    "criteria",
    [held_by("anna"), unassigned("assignee"), in_group("G-1"), labelled("north") & ~held_by("anna")],
    ids=["held_by", "unassigned", "in_group", "nested"],
)
def test_x4_territory_reading_what_a_new_record_has_not_yet_is_refused(desk: Ownership, criteria: Criterion) -> None:
    # A territory is chosen before the record has holders or groups: such a territory could never match, or always.
    with refused(desk, InvalidValueError, "territory"):
        desk.set_auto_assign("acme", "contact", [Territory(criteria, SALES)], actor="ada")


def test_x4_rule_for_an_unknown_kind_is_refused(desk: Ownership) -> None:
    with refused(desk, UnknownKindError, "invoice"):
        desk.set_auto_assign("acme", "invoice", [SALES], actor="ada")


def test_x4_rule_drawing_from_an_unknown_group_is_refused(desk: Ownership) -> None:
    with refused(desk, UnknownGroupError, "nowhere"):
        desk.set_auto_assign("acme", "contact", [RoundRobin("assignee", "nowhere")], actor="ada")


def test_x4_rule_drawing_from_another_tenants_group_is_refused(desk: Ownership) -> None:
    # To Acme's admin, Globex's group is unknown (LD7), as an id no one has is.
    with refused(desk, UnknownGroupError, "There is no group 'globex_sales'; add it with add_group first."):
        desk.set_auto_assign("acme", "contact", [RoundRobin("assignee", "globex_sales")], actor="ada")


def test_x4_giving_a_user_only_role_to_a_group_is_refused(crm: Ownership) -> None:
    with refused(crm, AssigneeKindError, "The responsible of a deal takes"):
        crm.set_auto_assign("acme", "deal", [ToGroup("responsible", "sales")], actor="ada")


def test_x4_ct2_giving_a_contact_to_a_caretaker_group_is_refused(desk: Ownership) -> None:
    with refused(desk, AssigneeKindError, "not the caretaker group 'North'"):
        desk.set_auto_assign("acme", "contact", [ToGroup("assignee", "north")], actor="ada")


def test_x4_taking_turns_at_a_group_only_role_is_refused(caretakers: Ownership) -> None:
    with refused(caretakers, AssigneeKindError, "not users"):
        caretakers.set_auto_assign("acme", "customer", [RoundRobin("caretaker_group", "north")], actor="ada")


@pytest.mark.parametrize("actor", ["anna", "paul"])
def test_x4_only_an_admin_of_the_tenant_sets_rules(desk: Ownership, actor: str) -> None:
    with refused(desk, AccessDeniedError, "may not set auto-assignment rules; only an admin of 'acme' may."):
        desk.set_auto_assign("acme", "contact", [SALES], actor=actor)
