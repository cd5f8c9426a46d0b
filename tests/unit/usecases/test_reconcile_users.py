"""Keeping the directory in step with the host (src/ownership/usecases/people.py): `reconcile_users`, X8.

Acme (plan go) has Anna, Bob, inactive Carl, a competence "Sales" and deal D-1, Anna's; Globex has Gina
(`refusals_crm`). The tests below add what each needs: Acme's competences "Support" and "Tax", Globex's "Exports".
"""

from datetime import timedelta

import pytest

from conftest import refusals_crm
from conftest import refused_readably as refused
from ownership import (
    DirectoryDrift,
    DuplicateIdError,
    ForeignTenantError,
    Group,
    GroupKind,
    HostUser,
    InvalidValueError,
    Membership,
    Ownership,
    OwnershipError,
    Profile,
    UnknownGroupError,
    UnknownTenantError,
    User,
    UserDrift,
)
from ownership.testing import FakeClock

crm = refusals_crm

ANNA, BOB, CARL = HostUser("anna", "Anna"), HostUser("bob", "Bob"), HostUser("carl", "Carl", active=False)
EVERYONE_AS_THEY_ARE = [ANNA, BOB, CARL]
"""Rows that say of Acme's people just what `ownership` says already."""


@pytest.fixture
def people(crm: Ownership) -> Ownership:
    """Acme with the competences Support and Tax beside Sales; Anna in Sales for good; Globex's group Exports."""
    crm.add_group("acme", "Support", GroupKind.COMPETENCE, id="support")
    crm.add_group("acme", "Tax", GroupKind.COMPETENCE, id="tax")
    crm.add_group("globex", "Exports", GroupKind.COMPETENCE, id="exports")
    crm.add_member("sales", "anna")
    return crm


def lasting(own: Ownership, user: str) -> set[str]:
    """The groups `user` is linked to for good."""
    return {m.group for m in own.snapshot().memberships if m.user == user and m.until is None}


def links(own: Ownership, user: str) -> set[Membership]:
    """Every membership of `user`, lasting or a cover."""
    return {m for m in own.snapshot().memberships if m.user == user}


# --- adding and changing users ------------------------------------------------------------------------------


def test_x8_reconcile_users_adds_the_people_it_has_no_user_for_and_reports_them(people: Ownership) -> None:
    rows = [*EVERYONE_AS_THEY_ARE, HostUser("dora", "Dora", groups=["support", "tax"])]

    drift = people.reconcile_users(rows, tenant="acme")

    assert drift == DirectoryDrift("acme", added=("dora",))
    assert people.user("dora") == User("dora", "acme", "Dora", profile=Profile())
    assert [g.id for g in people.groups_of("dora")] == ["support", "tax"]


def test_x8_reconcile_users_gives_a_new_user_the_profile_of_the_row(people: Ownership) -> None:
    row = HostUser("dora", "Dora", admin=True, profile=Profile(restricted={"deal"}, push=True))

    people.reconcile_users([row], tenant="acme", partial=True)

    assert people.user("dora") == User("dora", "acme", "Dora", admin=True, profile=Profile({"deal"}, push=True))


def test_x8_reconcile_users_changes_name_activity_admin_and_profile_and_says_from_what_to_what(
    people: Ownership,
) -> None:
    rows = [
        HostUser("anna", "Anna Schmidt", admin=True),
        HostUser("bob", "Bob", active=False, profile=Profile(restricted={"company"})),
        HostUser("carl", "Carl"),  # he is back
    ]

    drift = people.reconcile_users(rows, tenant="acme")

    assert drift.changed == (
        UserDrift("anna", name=("Anna", "Anna Schmidt"), admin=(False, True)),
        UserDrift("bob", active=(True, False), profile=True),
        UserDrift("carl", active=(False, True)),
    )
    assert (drift.added, drift.deactivated, drift.applied) == ((), (), True)
    assert people.users("acme") == (
        User("anna", "acme", "Anna Schmidt", admin=True),
        User("bob", "acme", "Bob", active=False, profile=Profile(restricted={"company"})),
        User("carl", "acme", "Carl"),
    )


def test_x8_reconcile_users_reports_by_id_whatever_order_the_rows_come_in(people: Ownership) -> None:
    rows = [HostUser("eve", "Eve"), HostUser("bob", "Bobby"), HostUser("dora", "Dora"), HostUser("anna", "Ann")]

    drift = people.reconcile_users(rows, tenant="acme", partial=True)

    assert drift.added == ("dora", "eve")
    assert [d.id for d in drift.changed] == ["anna", "bob"]


def test_x8_a_row_without_a_profile_keeps_the_users_profile(people: Ownership) -> None:
    people.update_user("bob", profile=Profile(restricted={"deal"}, push=True))

    drift = people.reconcile_users(EVERYONE_AS_THEY_ARE, tenant="acme")

    assert drift.in_step
    assert people.user("bob").profile == Profile(restricted={"deal"}, push=True)


# --- groups -------------------------------------------------------------------------------------------------


def test_x8_reconcile_users_links_a_user_to_exactly_the_groups_of_the_row(people: Ownership) -> None:
    people.add_member("support", "anna")

    drift = people.reconcile_users([HostUser("anna", "Anna", groups=["support", "tax"])], tenant="acme", partial=True)

    assert drift.changed == (UserDrift("anna", joined=("tax",), left=("sales",)),)
    assert lasting(people, "anna") == {"support", "tax"}
    assert [u.id for u in people.members("sales")] == []


def test_x8_a_row_without_groups_leaves_the_users_links_as_they_are(people: Ownership) -> None:
    people.add_member("support", "bob")

    drift = people.reconcile_users([HostUser("anna", "Anna"), HostUser("bob", "Bob")], tenant="acme", partial=True)

    assert drift.in_step
    assert (lasting(people, "anna"), lasting(people, "bob")) == ({"sales"}, {"support"})


def test_x8_an_empty_set_of_groups_unlinks_the_user_from_every_group(people: Ownership) -> None:
    people.add_member("support", "anna")

    drift = people.reconcile_users([HostUser("anna", "Anna", groups=[])], tenant="acme", partial=True)

    assert drift.changed == (UserDrift("anna", left=("sales", "support")),)
    assert people.groups_of("anna") == ()


def test_x8_a_deputys_cover_is_left_as_it_is(people: Ownership, clock: FakeClock) -> None:
    until = clock.now + timedelta(days=7)
    people.add_member("tax", "bob", until=until)

    drift = people.reconcile_users([HostUser("bob", "Bob", groups=["sales"])], tenant="acme", partial=True)

    assert drift.changed == (UserDrift("bob", joined=("sales",)),)
    assert links(people, "bob") == {Membership("sales", "bob"), Membership("tax", "bob", until)}


def test_x8_a_cover_of_a_group_the_row_names_becomes_a_lasting_link(people: Ownership, clock: FakeClock) -> None:
    people.add_member("tax", "bob", until=clock.now + timedelta(days=7))

    drift = people.reconcile_users([HostUser("bob", "Bob", groups=["tax"])], tenant="acme", partial=True)

    assert drift.changed == (UserDrift("bob", joined=("tax",)),)
    assert links(people, "bob") == {Membership("tax", "bob")}
    clock.advance(days=8)
    assert [g.id for g in people.groups_of("bob")] == ["tax"], "it no longer ends"


def test_x8_the_link_to_a_users_own_personal_group_is_left_as_it_is(people: Ownership) -> None:
    people.add_user("acme", "Erik", id="erik", personal_caretaker_group=True)
    own_group = people.personal_group("erik")
    assert own_group is not None

    drift = people.reconcile_users([HostUser("erik", "Erik", groups=["sales"])], tenant="acme", partial=True)

    assert drift.changed == (UserDrift("erik", joined=("sales",)),)
    assert lasting(people, "erik") == {own_group.id, "sales"}


def test_x8_a_link_to_someone_elses_personal_group_is_the_hosts_to_keep_or_end(people: Ownership) -> None:
    people.add_user("acme", "Erik", id="erik", personal_caretaker_group=True)
    eriks = people.personal_group("erik")
    assert eriks is not None
    people.add_member(eriks, "anna")

    drift = people.reconcile_users([HostUser("anna", "Anna", groups=["sales"])], tenant="acme", partial=True)

    assert drift.changed == (UserDrift("anna", left=(eriks.id,)),)
    assert [u.id for u in people.members(eriks)] == ["erik"]


def test_x8_an_inactive_user_may_be_linked_to_groups_as_the_host_says(people: Ownership) -> None:
    drift = people.reconcile_users([HostUser("carl", "Carl", active=False, groups=["sales"])], tenant="acme")

    assert drift.changed == (UserDrift("carl", joined=("sales",)),)
    assert lasting(people, "carl") == {"sales"}
    assert not people.user("carl").active


# --- whole and partial --------------------------------------------------------------------------------------


def test_x8_a_whole_reconcile_deactivates_the_active_users_no_row_names_and_keeps_their_links(
    people: Ownership,
) -> None:
    drift = people.reconcile_users([BOB], tenant="acme")

    assert drift == DirectoryDrift("acme", deactivated=("anna",)), "Carl had left already"
    assert people.user("anna") == User("anna", "acme", "Anna", active=False), "deactivated, never deleted"
    assert lasting(people, "anna") == {"sales"}
    assert people.user("carl") == User("carl", "acme", "Carl", active=False)


def test_x8_a_partial_reconcile_leaves_the_users_no_row_names(people: Ownership) -> None:
    drift = people.reconcile_users([HostUser("dora", "Dora")], tenant="acme", partial=True)

    assert drift == DirectoryDrift("acme", added=("dora",))
    assert [(u.id, u.active) for u in people.users("acme")] == [
        ("anna", True),
        ("bob", True),
        ("carl", False),
        ("dora", True),
    ]


def test_x8_reconcile_users_passes_other_tenants_users_by(people: Ownership) -> None:
    before = [(u, people.groups_of(u)) for u in people.users("globex")]

    drift = people.reconcile_users([], tenant="acme")

    assert drift.deactivated == ("anna", "bob")
    assert [(u, people.groups_of(u)) for u in people.users("globex")] == before
    assert people.user("gina").active


def test_x8_reconcile_users_records_no_event_and_tells_no_one(people: Ownership) -> None:
    before = people.snapshot()
    rows = [HostUser("anna", "Anna S.", groups=["tax"]), HostUser("dora", "Dora", groups=["sales"])]

    people.reconcile_users(rows, tenant="acme")

    after = people.snapshot()
    assert (after.events, after.outbox) == (before.events, before.outbox)


# --- run again, and dry runs --------------------------------------------------------------------------------


def test_x8_reconcile_users_run_again_on_the_same_rows_finds_nothing_to_change(
    people: Ownership, clock: FakeClock
) -> None:
    people.add_member("support", "bob", until=clock.now + timedelta(days=3))
    rows = [HostUser("anna", "Anna", admin=True, groups=["tax"]), HostUser("dora", "Dora", groups=["support"])]
    people.reconcile_users(rows, tenant="acme")
    before = people.snapshot()

    again = people.reconcile_users(rows, tenant="acme")

    assert again.in_step
    assert again == DirectoryDrift("acme")
    assert people.snapshot() == before


def test_x8_a_dry_run_reports_what_the_run_would_do_and_changes_nothing(people: Ownership) -> None:
    rows = [HostUser("anna", "Anna", groups=["tax"]), HostUser("dora", "Dora")]
    before = people.snapshot()

    preview = people.reconcile_users(rows, tenant="acme", dry_run=True)

    assert people.snapshot() == before
    assert preview == DirectoryDrift(
        "acme",
        added=("dora",),
        deactivated=("bob",),
        changed=(UserDrift("anna", joined=("tax",), left=("sales",)),),
        applied=False,
    )
    assert not preview.in_step
    assert people.reconcile_users(rows, tenant="acme") == DirectoryDrift(
        preview.tenant, preview.added, preview.deactivated, preview.changed, applied=True
    )


# --- refusals -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "tenant", "error", "match"),
    [
        ([HostUser("anna", "Anna"), HostUser("anna", "Anna S.")], "acme", InvalidValueError, "more than once: 'anna'"),
        ([HostUser("gina", "Gina")], "acme", DuplicateIdError, "at home in tenant 'globex'"),
        ([HostUser("bob", "Bob", groups=["nope"])], "acme", UnknownGroupError, "no group 'nope'"),
        ([HostUser("bob", "Bob", groups=["exports"])], "acme", ForeignTenantError, "belongs to tenant 'globex'"),
        ([HostUser("bob", "Bob")], "initech", UnknownTenantError, "no tenant 'initech'"),
    ],
    ids=["one-id-twice", "another-tenants-user", "unknown-group", "another-tenants-group", "unknown-tenant"],
)
def test_x8_reconcile_users_refuses_a_table_that_breaks_a_rule_whole_and_changes_nothing(
    people: Ownership, rows: list[HostUser], tenant: str, error: type[OwnershipError], match: str
) -> None:
    good = [HostUser("dora", "Dora", groups=["tax"]), HostUser("carl", "Carl", admin=True, groups=["sales"])]
    with refused(people, error, match):
        people.reconcile_users([*good, *rows], tenant=tenant)  # the good rows come first: refused with the rest
    with refused(people, error, match):
        people.reconcile_users([*good, *rows], tenant=tenant, dry_run=True)


# --- groups the host keeps, beside those ownership keeps -------------------------------------------------------


def _departments(group: Group) -> bool:
    """The host keeps who is in Support and Tax; Sales is a competence an admin links people to in `ownership`."""
    return group.id in {"support", "tax"}


def test_x8_links_to_groups_the_host_does_not_keep_are_left_as_they_are(people: Ownership) -> None:
    staff = people.reconcile_users(
        [HostUser("anna", "Anna", groups={"tax"})], tenant="acme", partial=True, host_groups=_departments
    )

    assert [(d.joined, d.left) for d in staff.changed] == [(("tax",), ())]
    assert lasting(people, "anna") == {"sales", "tax"}, "Sales is ownership's to keep"
    people.reconcile_users(
        [HostUser("anna", "Anna", groups=set())], tenant="acme", partial=True, host_groups=_departments
    )
    assert lasting(people, "anna") == {"sales"}


def test_x8_a_row_naming_a_group_the_host_does_not_keep_is_refused_and_changes_nothing(people: Ownership) -> None:
    row = HostUser("anna", "Anna", groups={"tax", "sales"})
    with refused(people, InvalidValueError, "names group 'Sales' \\(sales\\), whose members host_groups leaves"):
        people.reconcile_users([row], tenant="acme", partial=True, host_groups=_departments)


# --- traits, and whom a user reports to -----------------------------------------------------------------------


def test_x8_reconcile_users_sets_the_traits_a_row_names_and_leaves_them_when_it_names_none(people: Ownership) -> None:
    people.update_user("bob", traits={"trainee"})
    staff = people.reconcile_users(
        [HostUser("anna", "Anna", traits={"chief"}), HostUser("bob", "Bob")], tenant="acme", partial=True
    )

    assert [(d.id, d.traits) for d in staff.changed] == [("anna", True)]
    assert (people.user("anna").traits, people.user("bob").traits) == ({"chief"}, {"trainee"})


def test_x8_whom_a_user_reports_to_is_not_the_rows_to_change(people: Ownership) -> None:
    people.report_to("bob", "anna")

    assert people.reconcile_users([HostUser("bob", "Bob")], tenant="acme", partial=True).in_step
    assert people.user("bob").manager == "anna"
