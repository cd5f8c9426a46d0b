"""The search room (src/ownership/usecases/search.py): find, statistics and saved segments (CT5, TL8, TL9)."""

from datetime import timedelta

import pytest
from attrs import evolve

from conftest import contacts_desk, ids
from ownership import (
    EVERYONE,
    AccessDeniedError,
    Assignee,
    ForeignActorError,
    GroupKind,
    InvalidValueError,
    Ownership,
    Profile,
    RecordRef,
    Repository,
    Segment,
    UnknownRoleError,
    UnknownSegmentError,
    UnknownUserError,
    held_by,
    in_group,
    labelled,
    named,
    presets,
    status_in,
    unassigned,
)
from ownership.testing import FakeClock

desk = contacts_desk
"""The fixture these tests ask for as `desk`: Kanzlei Weber's contacts (tests/conftest.py)."""


ANNA, BOB, PAUL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("paul")
TAX, AUDIT = Assignee.group("tax"), Assignee.group("audit")
NORTH, SOUTH = Assignee.group("north"), Assignee.group("south")
C1, C2, C3, C4 = (RecordRef("contact", f"C-{n}") for n in range(1, 5))
ALL_CONTACTS = ["C-1", "C-2", "C-3", "C-4", "C-5", "C-6", "C-7"]


@pytest.fixture
def caretakers(repository: Repository, clock: FakeClock) -> Ownership:
    """Acme on seed 003's caretaker groups: admin Ada, Anna (North), Bob (South).

    Customers K-1 "Nord GmbH" (North), K-2 "Süd GmbH" (South), K-3 "Niemand GmbH" (no group: admins only).
    """
    own = Ownership(presets.caretaker_groups(), repository, clock=clock)
    own.add_tenant("acme")
    own.add_user("acme", "Ada", id="ada", admin=True)
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.add_member(own.add_group("acme", "North", GroupKind.CARETAKER, id="north"), "anna")
    own.add_member(own.add_group("acme", "South", GroupKind.CARETAKER, id="south"), "bob")
    own.create("customer", actor="ada", id="K-1", name="Nord GmbH", holders={"caretaker_group": NORTH})
    own.create("customer", actor="ada", id="K-2", name="Süd GmbH", holders={"caretaker_group": SOUTH})
    own.create("customer", actor="ada", id="K-3", name="Niemand GmbH")
    return own


# --- CT5: by name ---------------------------------------------------------------------------------


def test_ct5_find_by_part_of_the_name(desk: Ownership) -> None:
    assert ids(desk.find("anna", "contact", named("gmbh"))) == ["C-1", "C-5"]


@pytest.mark.parametrize("text", ["müller", "MÜLLER", "Müller", "mÜLLER gmbh"])
def test_ct5_find_by_name_ignores_case_of_umlauts_too(desk: Ownership, text: str) -> None:
    assert ids(desk.find("anna", "contact", named(text))) == ["C-1"]


def test_ct5_find_by_name_folds_sharp_s_as_ss(desk: Ownership) -> None:
    assert ids(desk.find("anna", "contact", named("STRASSE"))) == ["C-3"]


def test_ct5_find_by_name_takes_the_text_literally(desk: Ownership) -> None:
    assert ids(desk.find("anna", "contact", named("%"))) == []
    assert ids(desk.find("anna", "contact", named("_"))) == []
    assert ids(desk.find("anna", "contact", named(" & "))) == ["C-2"]


def test_ct5_find_by_name_stays_in_the_viewers_tenant(desk: Ownership) -> None:
    assert ids(desk.find("paul", "contact", named("müller"))) == ["G-1"]


def test_ct5_renamed_contact_is_found_by_its_new_name(desk: Ownership) -> None:
    desk.update_record(C4, actor="anna", name="Schmidt & Partner")

    assert ids(desk.find("anna", "contact", named("partner"))) == ["C-4", "C-6"]
    assert ids(desk.find("anna", "contact", named("kg"))) == []


def test_ct5_find_by_label(desk: Ownership) -> None:
    desk.update_record(C2, actor="anna", labels={"fair", "vip"})

    assert ids(desk.find("anna", "contact", labelled("fair"))) == ["C-2", "C-4"]
    assert ids(desk.find("anna", "contact", labelled("vip"))) == ["C-2"]


def test_ct5_a_single_label_given_as_a_string_is_not_split_into_letters(desk: Ownership) -> None:
    try:
        contact = desk.create("contact", actor="anna", id="C-8", labels="north")
    except InvalidValueError:
        return  # refusing it is as good as taking it whole
    assert contact.labels == frozenset({"north"})
    assert ids(desk.find("anna", "contact", labelled("north"))) == ["C-8"]


# --- CT5, TL9: by holder --------------------------------------------------------------------------


def test_ct5_find_what_an_employee_holds_directly_and_through_competences(desk: Ownership) -> None:
    # C-7 too: everyone holds it, and held_by counts what everyone of Anna's tenant holds, as holds() does.
    assert ids(desk.find("anna", "contact", held_by("anna"))) == ["C-1", "C-3", "C-5", "C-7"]


def test_ct5_find_what_an_employee_holds_directly_only(desk: Ownership) -> None:
    assert ids(desk.find("anna", "contact", held_by(ANNA, through_groups=False))) == ["C-1", "C-5"]


def test_ct5_find_what_a_competence_holds(desk: Ownership) -> None:
    tax = desk.group("tax")

    assert ids(desk.find("bob", "contact", held_by(tax))) == ["C-3"]
    assert ids(desk.find("bob", "contact", held_by(TAX, "assignee"))) == ["C-3"]


def test_ct5_find_takes_a_user_an_assignee_or_a_user_id(desk: Ownership) -> None:
    bob = desk.user("bob")

    found = [ids(desk.find("ada", "contact", held_by(who))) for who in (bob, BOB, "bob")]

    assert found == [["C-2", "C-5", "C-7"]] * 3  # C-7: everyone holds it


def test_ct5_find_by_holder_in_a_named_role(desk: Ownership) -> None:
    found = desk.find("ada", "contact", held_by("bob", "assignee"))

    assert ids(found) == ["C-2", "C-5", "C-7"]  # C-7: everyone holds it


def test_ct5_criteria_naming_an_unknown_role_are_refused(desk: Ownership) -> None:
    with pytest.raises(UnknownRoleError):
        desk.find("anna", "contact", held_by("anna", "account_manager"))
    with pytest.raises(UnknownRoleError):
        desk.find("anna", "contact", unassigned("account_manager"))


def test_ct5_find_what_nobody_holds(desk: Ownership) -> None:
    assert ids(desk.find("anna", "contact", unassigned("assignee"))) == ["C-4"]


def test_ct5_find_by_holder_follows_group_membership_now(desk: Ownership) -> None:
    desk.add_member("audit", "anna")
    desk.remove_member("tax", "anna")

    assert ids(desk.find("anna", "contact", held_by("anna"))) == ["C-1", "C-5", "C-6", "C-7"]  # C-7: everyone holds it


def test_x5_find_by_holder_drops_a_group_once_the_membership_expires(desk: Ownership, clock: FakeClock) -> None:
    desk.add_member("audit", "bob", until=clock.now + timedelta(days=1))
    assert ids(desk.find("bob", "contact", held_by("bob"))) == ["C-2", "C-5", "C-6", "C-7"]  # C-7: everyone holds it

    clock.advance(days=2)

    assert ids(desk.find("bob", "contact", held_by("bob"))) == ["C-2", "C-5", "C-7"]


# --- CT1, CT5: by status and by record group ----------------------------------------------------------


def test_ct5_find_by_status(desk: Ownership) -> None:
    assert ids(desk.find("anna", "contact", status_in("customer"))) == ["C-2", "C-3"]
    assert ids(desk.find("anna", "contact", status_in("inbox", "archive"))) == ["C-4", "C-5"]


def test_ct5_find_by_no_status_finds_nothing(desk: Ownership) -> None:
    assert ids(desk.find("anna", "contact", status_in())) == []


def test_ct5_ct6_find_the_members_of_a_record_group(desk: Ownership) -> None:
    vip = desk.create("contact_group", actor="anna", id="VIP", name="VIP")
    desk.add_to_group(vip, [C1, C2], actor="anna")

    assert ids(desk.find("bob", "contact", in_group(vip))) == ["C-1", "C-2"]
    assert ids(desk.find("bob", "contact", in_group("VIP"))) == ["C-1", "C-2"]
    assert ids(desk.find("bob", "contact", in_group(vip.ref) & held_by("bob"))) == ["C-2"]


# --- CT5: combinations ------------------------------------------------------------------------------


def test_ct5_criteria_combine_with_and(desk: Ownership) -> None:
    found = desk.find("anna", "contact", named("gmbh") & ~status_in("archive"))

    assert ids(found) == ["C-1"]


def test_ct5_criteria_combine_with_or(desk: Ownership) -> None:
    found = desk.find("anna", "contact", held_by("bob") | unassigned("assignee"))

    assert ids(found) == ["C-2", "C-4", "C-5", "C-7"]  # C-7: everyone holds it, Bob among them


def test_ct5_criteria_combine_with_not(desk: Ownership) -> None:
    # Not C-7: everyone holds it, Anna among them.
    assert ids(desk.find("anna", "contact", ~held_by("anna"))) == ["C-2", "C-4", "C-6"]


def test_ct5_criteria_nest(desk: Ownership) -> None:
    active = status_in("prospect", "customer")
    criteria = active & (held_by("anna") | held_by(AUDIT)) & ~named("straße")

    assert ids(desk.find("anna", "contact", criteria)) == ["C-1", "C-6", "C-7"]  # C-7: everyone holds it, a prospect


def test_ct5_without_criteria_find_lists_every_contact_the_viewer_may_see(desk: Ownership) -> None:
    assert ids(desk.find("anna", "contact")) == ALL_CONTACTS


def test_ct5_find_with_a_segment_and_more_criteria_meets_both(desk: Ownership) -> None:
    annas = Segment("contact", held_by("anna"), "Anna's contacts")

    assert ids(desk.find("bob", annas, status_in("customer"))) == ["C-3"]


def test_ld4_found_rows_carry_their_holders(desk: Ownership) -> None:
    [row] = desk.find("anna", "contact", named("weber")).rows

    assert [a.assignee for a in row.assignments] == [ANNA, BOB]
    assert row.record.status == "archive"


# --- CT5, X6: only what the viewer may see ------------------------------------------------------------


def test_ct5_cg2_find_never_shows_a_record_the_viewer_may_not_see(caretakers: Ownership) -> None:
    assert ids(caretakers.find("anna", "customer", named("gmbh"))) == ["K-1"]
    assert ids(caretakers.find("bob", "customer", named("gmbh"))) == ["K-2"]
    assert ids(caretakers.find("ada", "customer", named("gmbh"))) == ["K-1", "K-2", "K-3"]


def test_ct5_cg2_criteria_that_name_a_hidden_record_still_do_not_show_it(caretakers: Ownership) -> None:
    assert ids(caretakers.find("anna", "customer", held_by(SOUTH))) == []
    assert ids(caretakers.find("anna", "customer", named("süd") | named("niemand"))) == []


def test_cg2_admin_finds_the_customers_without_a_caretaker_group(caretakers: Ownership) -> None:
    assert ids(caretakers.find("ada", "customer", unassigned("caretaker_group"))) == ["K-3"]
    assert ids(caretakers.find("anna", "customer", unassigned("caretaker_group"))) == []


def test_cg5_deputy_finds_the_colleagues_customers_once_linked(caretakers: Ownership) -> None:
    caretakers.add_member("south", "anna")

    assert ids(caretakers.find("anna", "customer", named("gmbh"))) == ["K-1", "K-2"]


def test_tl4_tl9_restricted_user_does_not_find_a_colleagues_companies(repository: Repository, clock: FakeClock) -> None:
    own = Ownership(presets.account_managers(), repository, clock=clock)
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna", profile=Profile(restricted={"company"}))
    own.add_user("acme", "Bob", id="bob")
    own.create("company", actor="anna", id="A-1", name="Alpha", holders={"account_manager": ANNA})
    own.create("company", actor="bob", id="B-1", name="Beta", holders={"account_manager": BOB})

    assert ids(own.find("anna", "company", held_by("bob"))) == []
    assert ids(own.find("anna", "company")) == ["A-1"]
    assert ids(own.find("bob", "company", held_by("bob"))) == ["B-1"]
    assert ids(own.find("bob", "company", held_by("anna", "account_manager"))) == ["A-1"]


# --- CT5: paging -----------------------------------------------------------------------------------


def test_ct5_find_pages_by_id_with_a_cursor(desk: Ownership) -> None:
    first = desk.find("ada", "contact", limit=3)
    second = desk.find("ada", "contact", limit=3, after=first.cursor)
    third = desk.find("ada", "contact", limit=3, after=second.cursor)

    assert (ids(first), first.cursor) == (["C-1", "C-2", "C-3"], "C-3")
    assert (ids(second), second.cursor) == (["C-4", "C-5", "C-6"], "C-6")
    assert (ids(third), third.cursor) == (["C-7"], None)


def test_ct5_last_page_that_is_exactly_full_has_no_cursor(desk: Ownership) -> None:
    page = desk.find("ada", "contact", limit=7)

    assert ids(page) == ALL_CONTACTS
    assert page.cursor is None


def test_ct5_paging_keeps_the_criteria(desk: Ownership) -> None:
    first = desk.find("anna", "contact", held_by("anna"), limit=2)
    rest = desk.find("anna", "contact", held_by("anna"), limit=2, after=first.cursor)

    assert ids(first) + ids(rest) == ["C-1", "C-3", "C-5", "C-7"]  # C-7: everyone holds it
    assert rest.cursor is None


def test_ct5_page_of_no_rows_is_refused(desk: Ownership) -> None:
    with pytest.raises(InvalidValueError, match=r"find\(\): limit takes a whole number from 1 to .*, not 0\."):
        desk.find("ada", "contact", limit=0)


# --- CT5, TL9: saved segments ----------------------------------------------------------------------


def test_ct5_tl9_saved_segment_gets_an_id_and_the_actors_tenant(desk: Ownership) -> None:
    saved = desk.save_segment(Segment("contact", held_by("anna"), "Anna's contacts"), actor="bob")

    assert saved.id
    assert saved.tenant == "kanzlei"
    assert (saved.kind, saved.criteria, saved.name) == ("contact", held_by("anna"), "Anna's contacts")


def test_ct5_tl9_saved_segments_are_listed_and_read_back_equal(desk: Ownership) -> None:
    mine = desk.save_segment(Segment("contact", held_by("anna"), "Anna's contacts", id="annas"), actor="anna")
    theirs = desk.save_segment(Segment("contact_group", name="All groups", id="groups"), actor="bob")

    assert desk.segments("kanzlei") == (mine, theirs)
    assert desk.segments("kanzlei", kind="contact") == (mine,)
    assert desk.segment("kanzlei", "annas") == mine


def test_ct5_saved_criteria_come_back_as_they_were(desk: Ownership) -> None:
    criteria = (
        (named("Müller") & status_in("prospect", "customer"))
        | ~(held_by(TAX, "assignee", through_groups=False) | unassigned("assignee"))
        | (labelled("fair") & in_group("VIP") & held_by("anna"))
    )

    saved = desk.save_segment(Segment("contact", criteria, "everything at once"), actor="anna")

    assert desk.segment("kanzlei", saved.id or "").criteria == criteria


def test_ct5_a_saved_segment_finds_what_its_criteria_find(desk: Ownership) -> None:
    saved = desk.save_segment(Segment("contact", named("gmbh") & ~status_in("archive"), "Active GmbHs"), actor="anna")

    assert ids(desk.find("bob", desk.segment("kanzlei", saved.id or ""))) == ["C-1"]


def test_ct5_tl9_saved_segment_of_anna_follows_her_into_a_new_group(desk: Ownership) -> None:
    saved = desk.save_segment(Segment("contact", held_by("anna"), "Anna's contacts"), actor="ada")
    assert ids(desk.find("ada", saved)) == ["C-1", "C-3", "C-5", "C-7"]  # C-7: everyone holds it

    desk.add_member("audit", "anna")

    assert ids(desk.find("ada", desk.segment("kanzlei", saved.id or ""))) == ["C-1", "C-3", "C-5", "C-6", "C-7"]


def test_ct5_tl9_saved_segment_of_anna_follows_a_new_assignment(desk: Ownership) -> None:
    saved = desk.save_segment(Segment("contact", held_by("anna"), "Anna's contacts"), actor="ada")

    desk.assign(C2, "assignee", ANNA, actor="ada")

    assert ids(desk.find("ada", saved)) == ["C-1", "C-2", "C-3", "C-5", "C-7"]  # C-7: everyone holds it


def test_ct5_saving_a_segment_with_the_id_of_a_saved_one_replaces_it(desk: Ownership) -> None:
    saved = desk.save_segment(Segment("contact", held_by("anna"), "Anna's contacts"), actor="anna")

    changed = desk.save_segment(evolve(saved, name="Bob's contacts", criteria=held_by("bob")), actor="anna")

    assert changed.id == saved.id
    assert desk.segments("kanzlei") == (changed,)
    assert ids(desk.find("anna", desk.segment("kanzlei", saved.id or ""))) == [
        "C-2",
        "C-5",
        "C-7",
    ]  # C-7: everyone holds it


def test_ct5_deleting_a_segment_leaves_its_records_alone(desk: Ownership) -> None:
    saved = desk.save_segment(Segment("contact", held_by("anna"), "Anna's contacts"), actor="anna")
    before = desk.snapshot()

    desk.delete_segment("kanzlei", saved.id or "", actor="anna")

    after = desk.snapshot()
    assert desk.segments("kanzlei") == ()
    assert (after.records, after.assignments, after.events) == (before.records, before.assignments, before.events)
    with pytest.raises(UnknownSegmentError, match="Tenant 'kanzlei' has no segment"):
        desk.segment("kanzlei", saved.id or "")


def test_ct5_only_the_user_who_saved_a_segment_or_an_admin_overwrites_or_deletes_it(desk: Ownership) -> None:
    saved = desk.save_segment(Segment("contact", held_by("anna"), "Anna's contacts"), actor="anna")
    assert saved.creator == "anna"

    before = desk.snapshot()
    with pytest.raises(AccessDeniedError, match="only the user who saved it or an admin of tenant 'kanzlei' may"):
        desk.delete_segment("kanzlei", saved.id or "", actor="bob")
    with pytest.raises(AccessDeniedError, match="Bob may not overwrite segment"):
        desk.save_segment(evolve(saved, name="Bob's now"), actor="bob")
    assert desk.snapshot() == before

    renamed = desk.save_segment(evolve(saved, name="Ada's view"), actor="ada")  # an admin may
    assert (renamed.name, renamed.creator) == ("Ada's view", "anna")
    desk.delete_segment("kanzlei", saved.id or "", actor="ada")
    assert desk.segments("kanzlei") == ()


def test_ct5_a_segment_naming_another_tenants_user_reads_as_naming_no_one(desk: Ownership) -> None:
    desk.add_tenant("other")
    desk.add_user("other", "Otto", id="otto")
    before = desk.snapshot()

    with pytest.raises(UnknownUserError):
        desk.save_segment(Segment("contact", held_by("otto")), actor="anna")
    assert desk.snapshot() == before


def test_ct5_deleting_an_unknown_segment_is_refused(desk: Ownership) -> None:
    with pytest.raises(UnknownSegmentError, match="there is nothing to delete"):
        desk.delete_segment("kanzlei", "nope", actor="anna")


def test_ct5_segment_naming_an_unknown_role_is_not_saved(desk: Ownership) -> None:
    with pytest.raises(UnknownRoleError):
        desk.save_segment(Segment("contact", held_by("anna", "account_manager")), actor="anna")

    assert desk.segments("kanzlei") == ()


def test_ct5_another_tenant_neither_lists_nor_reads_a_tenants_segments(desk: Ownership) -> None:
    saved = desk.save_segment(Segment("contact", held_by("anna"), "Anna's contacts"), actor="anna")

    assert desk.segments("globex") == ()
    with pytest.raises(UnknownSegmentError):
        desk.segment("globex", saved.id or "")


def test_ct5_another_tenant_cannot_delete_or_overwrite_a_tenants_segment(desk: Ownership) -> None:
    saved = desk.save_segment(Segment("contact", held_by("anna"), "Anna's contacts"), actor="anna")

    with pytest.raises(ForeignActorError):
        desk.delete_segment("kanzlei", saved.id or "", actor="paul")
    with pytest.raises(ForeignActorError):
        desk.save_segment(evolve(saved, name="Mine now"), actor="paul")

    assert desk.segments("kanzlei") == (saved,)


def test_ct5_same_segment_id_in_two_tenants_is_two_segments(desk: Ownership) -> None:
    ours = desk.save_segment(Segment("contact", held_by("anna"), "Anna's contacts", id="mine"), actor="anna")

    theirs = desk.save_segment(Segment("contact", held_by("paul"), "Paul's contacts", id="mine"), actor="paul")

    assert desk.segment("kanzlei", "mine") == ours
    assert desk.segment("globex", "mine") == theirs
    assert ids(desk.find("paul", theirs)) == ["G-1"]


# --- TL8: statistics --------------------------------------------------------------------------------


def test_tl8_counts_by_holder_count_each_holder_and_none_for_unassigned(desk: Ownership) -> None:
    counts = desk.counts_by_holder("ada", "contact", "assignee")

    assert counts == {ANNA: 2, BOB: 2, TAX: 1, AUDIT: 1, EVERYONE: 1, None: 1}


def test_tl8_counts_by_holder_within_criteria(desk: Ownership) -> None:
    counts = desk.counts_by_holder("ada", "contact", "assignee", status_in("customer", "archive"))

    assert counts == {ANNA: 1, BOB: 2, TAX: 1}


def test_tl8_counts_by_holder_stay_in_the_viewers_tenant(desk: Ownership) -> None:
    assert desk.counts_by_holder("paul", "contact", "assignee") == {PAUL: 1}


def test_tl8_counts_by_holder_follow_a_reassignment(desk: Ownership) -> None:
    desk.unassign(C1, "assignee", ANNA, actor="ada")

    counts = desk.counts_by_holder("ada", "contact", "assignee")

    assert (counts[ANNA], counts[None]) == (1, 2)


def test_tl8_counts_by_holder_of_an_unknown_role_are_refused(desk: Ownership) -> None:
    with pytest.raises(UnknownRoleError):
        desk.counts_by_holder("ada", "contact", "account_manager")


def test_tl8_ticket_statistics_per_assignee(repository: Repository, clock: FakeClock) -> None:
    own = Ownership(presets.account_managers(), repository, clock=clock)
    own.add_tenant("acme", plan="boost")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.create("ticket", actor="anna", id="T-1", holders={"responsible": ANNA})
    own.create("ticket", actor="anna", id="T-2", holders={"responsible": ANNA})
    own.create("ticket", actor="bob", id="T-3", holders={"responsible": BOB})
    own.create("ticket", actor="bob", id="T-4")

    assert own.counts_by_holder("bob", "ticket", "responsible") == {ANNA: 2, BOB: 1, None: 1}


def test_ct1_counts_by_status_in_lifecycle_order(desk: Ownership) -> None:
    counts = desk.counts_by_status("ada", "contact")

    assert counts == {"inbox": 1, "prospect": 3, "customer": 2, "archive": 1}
    assert list(counts) == ["inbox", "prospect", "customer", "archive"]


def test_ct1_counts_by_status_within_criteria(desk: Ownership) -> None:
    counts = desk.counts_by_status("ada", "contact", held_by("anna"))

    assert counts == {"prospect": 2, "customer": 1, "archive": 1}  # prospects C-1 and C-7, which everyone holds


def test_ct1_counts_by_status_follow_a_status_change(desk: Ownership) -> None:
    desk.set_status(C4, "prospect", actor="anna")

    assert desk.counts_by_status("ada", "contact") == {"prospect": 4, "customer": 2, "archive": 1}


def test_tl8_cg2_counts_only_what_the_viewer_may_see(caretakers: Ownership) -> None:
    assert caretakers.counts_by_holder("anna", "customer", "caretaker_group") == {NORTH: 1}
    assert caretakers.counts_by_holder("ada", "customer", "caretaker_group") == {NORTH: 1, SOUTH: 1, None: 1}


def test_tl8_counts_by_status_of_a_kind_without_statuses_are_under_none(caretakers: Ownership) -> None:
    assert caretakers.counts_by_status("ada", "customer") == {None: 3}
    assert caretakers.counts_by_status("bob", "customer") == {None: 1}
