"""The example of each seed system tells its seed's key rules: the lines that prove them appear in its story."""

import contextlib
import functools
import io
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@functools.cache
def story(script: str) -> tuple[str, ...]:
    """Run an example once as a script and return the lines it printed, stripped of their indent."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    return tuple(line.strip() for line in out.getvalue().splitlines())


def tells(script: str, *lines: str) -> None:
    """Assert that each of `lines` begins a line of the story, in this order."""
    told = story(script)
    at = 0
    for line in lines:
        found = next((n for n in range(at, len(told)) if told[n].startswith(line)), None)
        assert found is not None, f"{script} does not tell {line!r} (after line {at}); it told:\n" + "\n".join(told)
        at = found + 1


# --- account_managers.py: seeds 000, 001 ------------------------------------------------

ACCOUNTS = "account_managers.py"


def test_tl1_company_starts_without_account_manager_and_takes_one() -> None:
    tells(ACCOUNTS, "C-1 created by Anna; account manager: nobody", "Anna names Bob: Bob")


def test_tl2_creator_becomes_responsible_and_a_deal_is_never_left_without_one() -> None:
    tells(
        ACCOUNTS,
        "D-1 created by Anna; responsible: Anna",
        "refused: an import without a responsible (MandatoryRoleError): A deal needs 1 responsible",
        "refused: Anna leaves D-1 with nobody (MandatoryRoleError): A deal must keep 1 responsible",
        "a day later Anna hands D-1 over; responsible: Bob",
    )


def test_tl3_account_manager_hears_of_actions_by_others_only() -> None:
    tells(
        ACCOUNTS,
        "Anna adds a note to C-1; told: Bob (note_added)",
        "Bob adds a note himself; told: nobody",
    )


def test_tl4_restricted_user_is_refused_with_reasons_and_lists_only_own_deals() -> None:
    tells(
        ACCOUNTS,
        "Carl may view C-1: False; Anna: True",
        "why not: is_admin: no (Carl is not an admin)",
        "why not: ~restricted('company'): no (Carl's access to company records is restricted)",
        "why not: holds('account_manager', 'second_account_manager'): no",
        "Carl lists deals: ['D-2']",
        "Bea (admin) lists deals: ['D-1', 'D-2']",
    )


def test_tl5_second_manager_is_refused_until_switched_on_then_sees_and_hears() -> None:
    tells(
        ACCOUNTS,
        "refused: a second manager on C-1 (FeatureDisabledError)",
        "C-1: account manager Bob, second Carl",
        "Carl, restricted, may view C-1 now: True",
        "Anna logs a call on C-1; told: Bob (call_logged), Carl (call_logged)",
        "D-2, second responsible: Anna",
    )


def test_tl6_custom_user_field_names_an_owner_restricts_nothing_and_is_not_notified() -> None:
    tells(
        ACCOUNTS,
        "contact P-1, owner: Bob",
        "Carl may view P-1: True",
        "Anna edits P-1; told: nobody (not notified)",
    )


def test_tl7_projects_need_a_plan_and_keep_a_manager() -> None:
    tells(
        ACCOUNTS,
        "refused: a project on plan go (FeatureDisabledError)",
        "PR-1 managers: Anna, Bob; collaborators: Carl",
        "refused: Bob, the last manager, leaves PR-1 (MandatoryRoleError)",
        "Carl, restricted, may view PR-1 as a collaborator: True",
        "Carl adds a file; told: Bob (file_added)",
    )


def test_tl8_ticket_assignee_is_optional_hears_three_things_and_restricts_nothing() -> None:
    tells(
        ACCOUNTS,
        "refused: a ticket on plan move (FeatureDisabledError)",
        "T-1 created by Anna; responsible: nobody",
        "internal_note on T-1; told: Bob (internal_note)",
        "customer_replied on T-1; told: Bob (customer_replied)",
        "ticket_closed on T-1; told: Bob (ticket_closed)",
        "refused: a note_added on a ticket (UnknownActivityError)",
        "Carl may view T-1 (tickets are never restricted): True",
        "tickets per assignee: {'Bob': 2, 'nobody': 1}",
    )


def test_tl9_segments_by_account_manager_and_responsible() -> None:
    tells(ACCOUNTS, "Bob's companies: ['C-1']", "Anna's deals: ['D-2']")


def test_tl10_features_follow_the_plan_and_keep_the_switch() -> None:
    tells(
        ACCOUNTS,
        "plan go: features ['second_account_manager']",
        "plan move: features ['projects', 'second_account_manager']",
        "plan boost: features ['projects', 'second_account_manager', 'tickets']",
    )


def test_x2_x7_history_replays_the_hand_over_and_the_outbox_keeps_bobs_news() -> None:
    tells(
        ACCOUNTS,
        "2026-01-05 RecordCreated by anna",
        "2026-01-06 Assigned user bob by anna",
        "responsible when D-1 was created: Anna",
        "X7: 12 notifications wait in the outbox",
        "assigned company C-1, assigned deal D-1, note_added company C-1",
    )


# --- lead_exchange.py: seed 002 -------------------------------------------------------

LEADS = "lead_exchange.py"


def test_ld6_ld1_lead_by_hand_goes_to_its_creator_and_an_import_to_nobody() -> None:
    tells(LEADS, "L-1, created by Nora; colleague: Nora", "L-2, imported; colleague: nobody")


def test_ld2_colleague_of_another_company_or_inactive_one_is_refused() -> None:
    tells(
        LEADS,
        "refused: Nora assigns Paul of Southpaw (UnknownUserError)",
        "refused: Nora assigns Nadia, who left (InactiveUserError)",
    )


def test_ld5_assignment_is_changed_removed_and_taken_again() -> None:
    tells(LEADS, "Nora hands L-1 to Nils: Nils", "Nils removes himself: nobody", "and takes it back: Nils")


def test_ld3_ld4_assignment_changes_no_visibility_and_lists_carry_the_colleague() -> None:
    tells(
        LEADS,
        "Nora may view L-1, which is Nils's: True",
        "L-1  Bakery Hansen  colleague: Nils",
        "L-2  Garage Berg    colleague: nobody",
    )


def test_ld6_ld7_accepting_partner_gets_the_lead_and_each_company_sees_its_own_colleague() -> None:
    tells(
        LEADS,
        "refused: Ian of Initech, not offered the lead, reads it (ForeignActorError)",
        "L-1 is shared with: ['southpaw']",
        "Northwind sees: Nils",
        "Southpaw sees: Paul",
        "refused: Paul assigns Nils of Northwind (UnknownUserError)",
        "Paul hands his part to Petra; Southpaw: Petra",
        "Northwind still: Nils",
    )


def test_ld7_neither_companys_history_or_list_names_the_others_colleagues() -> None:
    tells(
        LEADS,
        "Nora's history of L-1 names assignees ['user nils', 'user nora'] and actors ['nils', 'nora']",
        "Paul's history of L-1 names assignees ['user paul', 'user petra'] and actors ['paul']",
        "Southpaw's lead list, L-1: ['user petra']",
    )


def test_ld8_colleagues_hear_of_assignment_and_of_others_activities_without_the_partners_names() -> None:
    tells(
        LEADS,
        "told of an assignment: Nils (by nora), Petra (by paul)",
        "Nora adds a note; told: Nils (by nora), Petra (by someone)",
        "Paul creates a task; told: Nils (by someone), Petra (by paul)",
        "Petra adds a note; told: Nils (by someone)",
    )


# --- caretaker_groups.py: seed 003 ----------------------------------------------------

CARETAKERS = "caretaker_groups.py"


def test_cg3_each_salesman_got_a_personal_group_linked_to_him() -> None:
    tells(CARETAKERS, "Meier: group 'Meier', members ['Meier']", "Mueller: group 'Mueller', members ['Mueller']")


def test_cg2_cg1_customer_without_group_is_seen_by_admins_only_and_found() -> None:
    tells(
        CARETAKERS,
        "K-1: Anna (admin) may view: True; non-admins who may: []",
        "customers without a group: ['K-1']",
        "refused: Anna gives K-1 to Meier, a user (AssigneeKindError)",
    )


def test_cg4_group_without_members_hides_its_customers_until_someone_is_linked() -> None:
    tells(
        CARETAKERS,
        "K-1 goes to 'Region South'; non-admins who see it: []",
        "audit: No one is linked to group 'Region South'.",
        "audit: No non-admin of 'meier-gmbh' can see customer K-1",
        "Bob is linked to Region South; non-admins who see K-1: ['Bob']",
    )


def test_cg6_cg7_personal_group_serves_one_person_and_territory_group_several() -> None:
    tells(
        CARETAKERS,
        "K-7 in 'Meier'; non-admins who see it: ['Meier']",
        "K-2 in 'Region North'; non-admins who see it: ['Meier', 'Mueller']",
        "Anna adds a note to K-2; told: ['Meier', 'Mueller']",
        "Mueller lists customers: ['K-2']",
    )


def test_cg5_x5_deputy_sees_and_edits_until_the_cover_ends_by_itself() -> None:
    tells(
        CARETAKERS,
        "until 2026-01-19: Mueller may view K-7: True, and edit it: True",
        "why: in_caretaker_group('caretaker_group', 'second_caretaker_group'): yes",
        "on 2026-01-20 Mueller may view K-7: False",
        "audit: [\"Mueller's cover in group 'Meier' ended 2026-01-19 09:00",
    )


def test_cg8_second_group_is_refused_until_switched_on_then_on_every_customer() -> None:
    tells(
        CARETAKERS,
        "refused: a second group on K-7 (FeatureDisabledError)",
        "switched on; K-1's second group: nobody",
        "K-7's second group: 'Region North'; non-admins who see it: ['Meier', 'Mueller']",
    )


def test_cg9_informational_caretaker_grants_no_visibility() -> None:
    tells(CARETAKERS, "K-7's caretakers: Bob", "Bob may view K-7: False; it is still in 'Meier'")


def test_cg10_team_is_a_pool_one_member_takes_from_and_grants_no_customers() -> None:
    tells(
        CARETAKERS,
        "follow-up W-1 in the pool of 'Support'",
        "Bob takes it: Bob",
        "refused: Lena takes it too (ClaimError)",
        "Bob puts it back: 'Support'",
        "Lena, in the team but in no caretaker group, lists customers: []",
    )


# --- contact_desk.py: seed 004 --------------------------------------------------------

DESK = "contact_desk.py"


def test_ct1_status_by_origin_restricted_inbox_and_confirmed_customer() -> None:
    tells(
        DESK,
        "K-1 (by hand): prospect; K-2 (imported): inbox",
        "refused: K-2, in the inbox, gets an assignee (RestrictedStatusError)",
        "refused: K-1 becomes a customer unconfirmed (ConfirmationError)",
        "confirmed, K-1 is now: customer",
    )


def test_ct2_everyone_then_a_competence_and_an_employee_but_not_a_team() -> None:
    tells(
        DESK,
        "K-1: everyone",
        "K-1: 'Tax advice', Weber",
        "refused: K-1 goes to the team Support (AssigneeKindError)",
    )


def test_ct3_chat_message_reaches_assignees_by_push_or_in_app() -> None:
    tells(
        DESK,
        "Lena: chat_message on K-1 by push",
        "Max: chat_message on K-1 by in_app",
        "Weber: chat_message on K-1 by in_app",
        "Lena logs a call on K-1; told: ['Max', 'Weber']",
    )


def test_ct4_range_hands_out_the_next_free_number_and_a_duplicate_is_refused() -> None:
    tells(
        DESK,
        "K-1 gets KD-0002; the range skipped KD-0001",
        "refused: K-2 takes K-1's number (DuplicateNumberError)",
    )


def test_ct5_found_by_name_by_employee_through_a_competence_and_saved_as_dynamic_group() -> None:
    tells(
        DESK,
        "named 'hansen': ['K-1']",
        "Lena's customers (through the competence Tax advice): ['K-1']",
        "Max's contacts, saved: ['K-1']",
        "the dynamic group \"Max's contacts\" finds now: ['K-1', 'K-3', 'K-4']",
    )


def test_ct6_group_temporary_group_archive_reactivate_and_final_delete() -> None:
    tells(
        DESK,
        "VIP (G-1), responsible Lena",
        "its contacts: ['K-1', 'K-3', 'K-4', 'K-5']",
        "moved 2 contacts; progress [(1, 2), (2, 2)]",
        "archived: 2; K-5 is now archive",
        "refused: Lena adds a note to the archived K-5 (RestrictedStatusError)",
        "K-4 reactivated as customer; assignee kept: Max",
        "deleted: 1",
        "refused: reading K-5 after deletion (UnknownRecordError)",
    )


@pytest.mark.parametrize("script", [ACCOUNTS, LEADS, CARETAKERS, DESK])
def test_every_refusal_in_a_story_is_a_typed_error_with_a_sentence(script: str) -> None:
    refusals = [line for line in story(script) if line.startswith("refused:")]

    assert refusals
    for line in refusals:
        error, sentence = line.split("): ", 1)
        assert error.rsplit("(", 1)[1].endswith("Error")
        assert sentence.endswith(".")
