"""The lifecycle (src/ownership/lifecycle.py): where a record starts, its moves, what a status refuses (CT1)."""

from datetime import datetime, timezone

import pytest
from attrs import evolve

from ownership import ConfirmationError, Record, RestrictedStatusError, TransitionError
from ownership.lifecycle import ASSIGN, SHARE, check_status, contacts, first_status, refused, required

CONTACTS = contacts()
PROSPECT = Record("contact", "C-1", "acme", datetime(2026, 1, 1, tzinfo=timezone.utc), status="prospect")


def test_ct1_a_record_starts_where_its_lifecycle_starts_it_by_hand_or_by_import() -> None:
    assert first_status("contact", CONTACTS, None, manual=True) == "prospect"
    assert first_status("contact", CONTACTS, None, manual=False) == "inbox"
    assert first_status("contact", CONTACTS, "customer", manual=True) == "customer"  # creating is no transition
    assert first_status("deal", None, None, manual=True) is None


def test_ct1_a_status_the_lifecycle_lacks_or_a_kind_without_statuses_is_refused() -> None:
    with pytest.raises(TransitionError, match=r"^A contact has no status 'lead'; its statuses are: inbox, prospect"):
        first_status("contact", CONTACTS, "lead", manual=True)
    with pytest.raises(TransitionError, match=r"^A deal has no statuses: its policy declares no lifecycle\.$"):
        first_status("deal", None, "open", manual=True)
    with pytest.raises(TransitionError, match="no statuses"):
        required("deal", None)


def test_ct1_a_move_needs_a_transition_and_a_confirmation_where_it_asks_for_one() -> None:
    CONTACTS.check_move(PROSPECT, "archive", confirmed=False)
    with pytest.raises(ConfirmationError, match="must be confirmed; ask the user, then call again with confirmed=True"):
        CONTACTS.check_move(PROSPECT, "customer", confirmed=False)
    CONTACTS.check_move(PROSPECT, "customer", confirmed=True)
    with pytest.raises(TransitionError, match="cannot go from 'prospect' to 'inbox'; from 'prospect' it can go to"):
        CONTACTS.check_move(PROSPECT, "inbox", confirmed=True)


def test_ct1_an_inbox_contact_refuses_new_holders_and_a_kind_without_statuses_refuses_nothing() -> None:
    inbox = evolve(PROSPECT, status="inbox")
    assert refused(CONTACTS, inbox, ASSIGN)
    assert not refused(CONTACTS, PROSPECT, ASSIGN)
    assert not refused(None, inbox, ASSIGN)
    with pytest.raises(RestrictedStatusError, match=r"^The contact C-1 is in status 'inbox' and cannot be shared;"):
        check_status(CONTACTS, inbox, SHARE, "be shared")
