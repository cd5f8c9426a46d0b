"""The notifications room (src/ownership/usecases/notifications.py): who hears of what, and the outbox (X7)."""

import logging
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any

import pytest

from conftest import make, refused
from ownership import (
    ASSIGNED,
    EVERYONE,
    Activity,
    Assignee,
    Channel,
    Dispatched,
    ForeignActorError,
    GroupKind,
    InactiveUserError,
    InvalidValueError,
    Notification,
    Ownership,
    Policy,
    Profile,
    Record,
    RecordRef,
    Role,
    Rulebook,
    UnknownActivityError,
    UnknownRecordError,
    UnknownUserError,
    presets,
)
from ownership.adapters.memory import MemoryRepository
from ownership.testing import FakeClock, RecordingNotifier

ANNA, BOB, CARA = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("cara")
NO_PAUSE = timedelta(0)  # a failed key is tried again at once: the backoff has tests of its own


def told(notifications: Sequence[Notification]) -> list[tuple[str, str, str | None, Channel]]:
    """Each notification as (recipient, activity, actor, channel), in the order written."""
    return [(n.recipient, n.activity, n.actor, n.channel) for n in notifications]


def outbox(own: Ownership) -> list[tuple[str, str, str | None, Channel]]:
    """The whole outbox, delivered or not, as `told` shows it."""
    return told([entry.notification for entry in own.outbox()])


# --- worlds ------------------------------------------------------------------------------------


@pytest.fixture
def crm(accounts: Ownership) -> Ownership:
    """Acme on plan boost (tickets) with Anna, Bob, Cara (push) and inactive Dan; Globex with Gina."""
    accounts.configure_tenant("acme", plan="boost")
    accounts.add_user("acme", "Anna", id="anna")
    accounts.add_user("acme", "Bob", id="bob")
    accounts.add_user("acme", "Cara", id="cara", profile=Profile(push=True))
    accounts.add_user("acme", "Dan", id="dan", active=False)
    accounts.add_tenant("globex")
    accounts.add_user("globex", "Gina", id="gina")
    return accounts


@pytest.fixture
def leads(clock: FakeClock) -> Ownership:
    """Principal acme (Anna, Bob) forwards leads to sales partner globex (Paul, Petra); initech (Ian) is a third."""
    own = make(presets.lead_exchange(), clock)
    for tenant in ("acme", "globex", "initech"):
        own.add_tenant(tenant)
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.add_user("globex", "Paul", id="paul")
    own.add_user("globex", "Petra", id="petra")
    own.add_user("initech", "Ian", id="ian")
    return own


@pytest.fixture
def forwarded(leads: Ownership) -> Record:
    """Lead L-1: Anna's at acme, forwarded to globex and accepted there by Paul, who became its colleague there."""
    lead = leads.create("lead", actor="anna", id="L-1")
    leads.share(lead, "globex", actor="anna")
    return leads.accept(lead, actor="paul")


@pytest.fixture
def desk(clock: FakeClock) -> Ownership:
    """Kanzlei Weber: Anna (push), Bob (in-app), Cara (push), and the competence "Tax advice" of Anna and Cara."""
    own = make(presets.contact_desk(), clock)
    own.add_tenant("kanzlei")
    own.add_user("kanzlei", "Anna", id="anna", profile=Profile(push=True))
    own.add_user("kanzlei", "Bob", id="bob")
    own.add_user("kanzlei", "Cara", id="cara", profile=Profile(push=True))
    own.add_group("kanzlei", "Tax advice", GroupKind.COMPETENCE, id="tax")
    own.add_member("tax", "anna")
    own.add_member("tax", "cara")
    return own


COMPANY, DEAL, TICKET = RecordRef("company", "C-1"), RecordRef("deal", "D-1"), RecordRef("ticket", "T-1")
LEAD, CONTACT = RecordRef("lead", "L-1"), RecordRef("contact", "P-100")


# --- TL3: managers hear of every action by someone else -----------------------------------------


def test_tl3_managers_hear_of_every_action_by_someone_else(crm: Ownership, clock: FakeClock) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})
    crm.create("deal", actor="anna", id="D-1")  # Anna is its responsible
    clock.advance(minutes=5)

    on_company = crm.record_activity(COMPANY, "call_logged", actor="anna")
    on_deal = crm.record_activity(DEAL, "offer_sent", actor="bob")

    assert on_company == (
        Notification(
            key=on_company[0].key,
            recipient="bob",
            record=COMPANY,
            activity="call_logged",
            actor="anna",
            at=clock.now,
            channel=Channel.IN_APP,
        ),
    )
    assert told(on_deal) == [("anna", "offer_sent", "bob", Channel.IN_APP)]
    assert on_deal[0].record == DEAL
    assert on_deal[0].at == clock.now


def test_tl3_a_manager_hears_nothing_of_their_own_action(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})
    crm.create("deal", actor="anna", id="D-1")
    before = crm.outbox()

    assert crm.record_activity(COMPANY, "call_logged", actor="bob") == ()
    assert crm.record_activity(DEAL, "offer_sent", actor="anna") == ()
    assert crm.outbox() == before


def test_tl3_the_host_acting_is_no_one_and_every_manager_hears_of_it(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": ANNA})

    assert told(crm.record_activity(COMPANY, "invoice_imported", actor=None)) == [
        ("anna", "invoice_imported", None, Channel.IN_APP)
    ]


def test_tl3_company_and_deal_take_any_activity_a_host_names(crm: Ownership) -> None:
    crm.create("company", actor="bob", id="C-1", holders={"account_manager": BOB})

    names = ["call_logged", "meeting_planned", "Angebot versendet", presets.CHAT_MESSAGE]
    for name in names:
        crm.record_activity(COMPANY, name, actor="anna")

    assert [activity for _, activity, _, _ in outbox(crm)] == names


def test_tl3_a_company_without_manager_tells_no_one(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1")

    assert crm.record_activity(COMPANY, "call_logged", actor="bob") == ()
    assert crm.outbox() == ()


def test_tl3_an_inactive_manager_hears_nothing(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})
    crm.update_user("bob", active=False)

    assert crm.record_activity(COMPANY, "call_logged", actor="anna") == ()


# --- TL5: both managers, once the second is switched on -----------------------------------------


def test_tl5_both_managers_hear_when_the_second_is_switched_on(crm: Ownership) -> None:
    crm.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    crm.create(
        "company", actor="anna", id="C-1", holders={"account_manager": BOB, presets.SECOND_ACCOUNT_MANAGER: CARA}
    )
    crm.create("deal", actor="anna", id="D-1", holders={"second_responsible": BOB})

    on_company = crm.record_activity(COMPANY, "call_logged", actor="anna")
    on_deal = crm.record_activity(DEAL, "offer_sent", actor="cara")

    assert told(on_company) == [
        ("bob", "call_logged", "anna", Channel.IN_APP),
        ("cara", "call_logged", "anna", Channel.PUSH),
    ]
    assert sorted(told(on_deal)) == [  # no order among recipients is promised
        ("anna", "offer_sent", "cara", Channel.IN_APP),
        ("bob", "offer_sent", "cara", Channel.IN_APP),
    ]


def test_tl5_second_manager_hears_nothing_once_the_switch_is_off(crm: Ownership) -> None:
    crm.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    crm.create(
        "company", actor="anna", id="C-1", holders={"account_manager": BOB, presets.SECOND_ACCOUNT_MANAGER: CARA}
    )
    crm.configure_tenant("acme", switches=())

    assert [n.recipient for n in crm.record_activity(COMPANY, "call_logged", actor="anna")] == ["bob"]


def test_tl5_a_user_holding_both_manager_roles_hears_once(crm: Ownership) -> None:
    crm.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    crm.create("deal", actor="anna", id="D-1", holders={"responsible": BOB, "second_responsible": BOB})

    assert told(crm.record_activity(DEAL, "offer_sent", actor="anna")) == [
        ("bob", "offer_sent", "anna", Channel.IN_APP)
    ]


# --- TL8: a ticket's responsible hears of a note, a reply and the closing -----------------------


def test_tl8_ticket_responsible_hears_of_note_reply_and_closing(crm: Ownership, clock: FakeClock) -> None:
    crm.create("ticket", actor="anna", id="T-1", holders={"responsible": CARA})

    note = crm.record_activity(TICKET, presets.INTERNAL_NOTE, actor="anna")
    reply = crm.record_activity(TICKET, presets.CUSTOMER_REPLIED, actor=None)
    closing = crm.record_activity(TICKET, presets.TICKET_CLOSED, actor="bob")

    assert told(note + reply + closing) == [
        ("cara", presets.INTERNAL_NOTE, "anna", Channel.PUSH),
        ("cara", presets.CUSTOMER_REPLIED, None, Channel.PUSH),
        ("cara", presets.TICKET_CLOSED, "bob", Channel.PUSH),
    ]


def test_tl8_ticket_responsible_hears_only_of_note_reply_and_closing(crm: Ownership) -> None:
    """The preset's ticket "hears of an internal note, a customer's reply and the closing, and of nothing else"."""
    ticket = crm.create("ticket", actor="anna", id="T-1")
    crm.assign(ticket, "responsible", CARA, actor="anna")
    for activity in (presets.INTERNAL_NOTE, presets.CUSTOMER_REPLIED, presets.TICKET_CLOSED):
        crm.record_activity(ticket, activity, actor="bob")

    assert outbox(crm) == [
        ("cara", presets.INTERNAL_NOTE, "bob", Channel.PUSH),
        ("cara", presets.CUSTOMER_REPLIED, "bob", Channel.PUSH),
        ("cara", presets.TICKET_CLOSED, "bob", Channel.PUSH),
    ]


def test_tl8_unknown_activity_on_a_ticket_is_refused(crm: Ownership) -> None:
    crm.create("ticket", actor="anna", id="T-1", holders={"responsible": CARA})

    with refused(crm, UnknownActivityError, "A ticket knows no activity 'call_logged'; it knows: internal_note, "):
        crm.record_activity(TICKET, "call_logged", actor="anna")
    with refused(crm, UnknownActivityError, "no activity 'chat_message'"):
        crm.record_activity(TICKET, presets.CHAT_MESSAGE, actor=None)


def test_tl8_a_ticket_without_responsible_tells_no_one(crm: Ownership) -> None:
    crm.create("ticket", actor="anna", id="T-1")

    assert crm.record_activity(TICKET, presets.CUSTOMER_REPLIED, actor=None) == ()


# --- a host's own activity kinds, as data ---------------------------------------------------------


def test_host_adds_its_own_activities_without_touching_the_library(clock: FakeClock) -> None:
    invoice = Policy(
        "invoice",
        (Role("accountant", notified=True), Role("owner", notified=True), Role("auditor")),
        activities=(Activity("invoice_paid"), Activity("invoice_overdue", roles={"owner"})),
    )
    own = make(Rulebook((invoice,)), clock)
    own.add_tenant("acme")
    for name in ("Anna", "Bob", "Cara", "Otto"):
        own.add_user("acme", name, id=name.lower())
    own.create("invoice", actor="otto", id="I-1", holders={"accountant": ANNA, "owner": BOB, "auditor": CARA})
    ref = RecordRef("invoice", "I-1")

    paid = own.record_activity(ref, "invoice_paid", actor="otto")
    overdue = own.record_activity(ref, "invoice_overdue", actor=None)

    assert told(paid) == [
        ("anna", "invoice_paid", "otto", Channel.IN_APP),
        ("bob", "invoice_paid", "otto", Channel.IN_APP),
    ]
    assert told(overdue) == [("bob", "invoice_overdue", None, Channel.IN_APP)]
    with refused(own, UnknownActivityError, "An? invoice knows no activity 'invoice_sent'"):
        own.record_activity(ref, "invoice_sent", actor="otto")


# --- LD8: the colleague hears of the assignment, and of others' activities -------------------------


def test_ld8_colleague_hears_of_being_assigned_and_of_others_notes(leads: Ownership, clock: FakeClock) -> None:
    lead = leads.create("lead", actor="anna", id="L-1")
    clock.advance(minutes=1)
    leads.assign(lead, "colleague", BOB, actor="anna")
    clock.advance(minutes=1)

    note = leads.record_activity(lead, "note_added", actor="anna")
    own_note = leads.record_activity(lead, "note_added", actor="bob")

    assigned = leads.outbox()[0].notification
    assert told([assigned]) == [("bob", ASSIGNED, "anna", Channel.IN_APP)]
    assert assigned.record == LEAD
    assert assigned.at == clock.now - timedelta(minutes=1)
    assert told(note) == [("bob", "note_added", "anna", Channel.IN_APP)]
    assert own_note == ()
    assert len(leads.outbox()) == 2


def test_ld6_ld8_auto_assignment_to_the_creator_or_acceptor_tells_no_one(leads: Ownership, forwarded: Record) -> None:
    assert leads.holders(forwarded, "colleague", viewer="anna") == (ANNA,)
    assert leads.holders(forwarded, "colleague", viewer="paul") == (Assignee.user("paul"),)
    assert leads.outbox() == ()


def test_ld8_colleague_hears_of_the_partners_new_task_on_a_forwarded_lead(leads: Ownership, forwarded: Record) -> None:
    leads.assign(forwarded, "colleague", BOB, actor="anna")

    task = leads.record_activity(forwarded, "task_created", actor="paul")

    assert told(task) == []  # Paul is given back only his own company's notices (LD7)
    assert outbox(leads)[-1:] == [("bob", "task_created", None, Channel.IN_APP)]


def test_ld8_an_unassigned_colleague_hears_no_more(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1", holders={"colleague": BOB})
    leads.unassign(lead, "colleague", BOB, actor="anna")

    assert leads.record_activity(lead, "note_added", actor="anna") == ()


def test_ld8_handing_a_lead_over_tells_the_new_colleague_only(leads: Ownership) -> None:
    lead = leads.create("lead", actor="bob", id="L-1")

    leads.replace(lead, "colleague", BOB, ANNA, actor="bob")

    assert outbox(leads) == [("anna", ASSIGNED, "bob", Channel.IN_APP)]


# --- LD7: each tenant's recipients stay private ---------------------------------------------------


def test_ld7_partner_actor_is_hidden_from_the_principals_colleague(leads: Ownership, forwarded: Record) -> None:
    leads.assign(forwarded, "colleague", Assignee.user("petra"), actor="paul")

    task = leads.record_activity(forwarded, "task_created", actor="paul")

    assert told(task) == [("petra", "task_created", "paul", Channel.IN_APP)]
    assert outbox(leads)[-2:] == [
        ("anna", "task_created", None, Channel.IN_APP),
        ("petra", "task_created", "paul", Channel.IN_APP),
    ]


def test_ld7_each_tenants_colleague_is_notified_through_its_own_slot(leads: Ownership, forwarded: Record) -> None:
    leads.assign(forwarded, "colleague", Assignee.user("petra"), actor="paul")
    leads.assign(forwarded, "colleague", BOB, actor="anna")

    by_host = leads.record_activity(forwarded, "note_added", actor=None)
    by_anna = leads.record_activity(forwarded, "note_added", actor="anna")

    assert outbox(leads)[:2] == [("petra", ASSIGNED, "paul", Channel.IN_APP), ("bob", ASSIGNED, "anna", Channel.IN_APP)]
    assert sorted(told(by_host)) == [
        ("bob", "note_added", None, Channel.IN_APP),
        ("petra", "note_added", None, Channel.IN_APP),
    ]
    assert told(by_anna) == [("bob", "note_added", "anna", Channel.IN_APP)]  # her own company's only (LD7)
    assert sorted(outbox(leads)[-2:]) == [
        ("bob", "note_added", "anna", Channel.IN_APP),
        ("petra", "note_added", None, Channel.IN_APP),
    ]


def test_ld7_no_notification_names_a_colleague_of_another_tenant(leads: Ownership, forwarded: Record) -> None:
    leads.assign(forwarded, "colleague", Assignee.user("petra"), actor="paul")
    leads.assign(forwarded, "colleague", BOB, actor="anna")
    for actor in ("anna", "bob", "paul", "petra", None):
        leads.record_activity(forwarded, "note_added", actor=actor)

    tenant = {"anna": "acme", "bob": "acme", "paul": "globex", "petra": "globex"}
    for entry in leads.outbox():
        n = entry.notification
        assert n.actor is None or tenant[n.actor] == tenant[n.recipient], n


def test_ld7_actor_of_a_tenant_that_has_not_accepted_is_refused(leads: Ownership) -> None:
    lead = leads.create("lead", actor="anna", id="L-1", holders={"colleague": BOB})
    leads.share(lead, "globex", actor="anna")

    with refused(leads, ForeignActorError, "lead L-1 is not shared with tenant 'globex'; Paul cannot act on it"):
        leads.record_activity(lead, "task_created", actor="paul")
    with refused(leads, ForeignActorError, "not shared with tenant 'initech'"):
        leads.record_activity(lead, "task_created", actor="ian")


# --- CT3: assigned employees receive a contact's chat messages ----------------------------------


def test_ct3_chat_message_goes_by_push_when_the_profile_allows(desk: Ownership) -> None:
    desk.create("contact", actor=None, tenant="kanzlei", id="P-100", holders={"assignee": [ANNA, BOB]})

    chat = desk.record_activity(CONTACT, presets.CHAT_MESSAGE, actor=None)

    assert told(chat) == [
        ("anna", presets.CHAT_MESSAGE, None, Channel.PUSH),
        ("bob", presets.CHAT_MESSAGE, None, Channel.IN_APP),
    ]


def test_ct3_the_channel_follows_the_profile_at_the_time(desk: Ownership) -> None:
    desk.create("contact", actor=None, tenant="kanzlei", id="P-100", holders={"assignee": BOB})
    first = desk.record_activity(CONTACT, presets.CHAT_MESSAGE, actor=None)
    desk.update_user("bob", profile=Profile(push=True))
    second = desk.record_activity(CONTACT, presets.CHAT_MESSAGE, actor=None)

    assert [n.channel for n in first + second] == [Channel.IN_APP, Channel.PUSH]
    assert desk.outbox()[0].notification.channel is Channel.IN_APP  # written once, never rewritten


def test_ct3_a_competence_tells_its_live_active_members_each_once(desk: Ownership, clock: FakeClock) -> None:
    desk.add_user("kanzlei", "Dora", id="dora", profile=Profile(push=True))
    desk.add_user("kanzlei", "Emil", id="emil")
    desk.add_member("tax", "dora", until=clock.now + timedelta(days=1))  # a deputy, until tomorrow
    desk.add_member("tax", "emil")
    desk.update_user("emil", active=False)
    desk.add_member("tax", "bob")
    desk.create("contact", actor=None, tenant="kanzlei", id="P-100", holders={"assignee": [BOB, Assignee.group("tax")]})
    clock.advance(days=2)

    chat = desk.record_activity(CONTACT, presets.CHAT_MESSAGE, actor="anna")

    assert told(chat) == [
        ("bob", presets.CHAT_MESSAGE, "anna", Channel.IN_APP),
        ("cara", presets.CHAT_MESSAGE, "anna", Channel.PUSH),
    ]


def test_ct2_ct3_everyone_tells_every_active_employee_of_the_tenant_once_by_their_channel(
    desk: Ownership, clock: FakeClock
) -> None:
    desk.add_user("kanzlei", "Dora", id="dora", profile=Profile(push=True))
    desk.add_user("kanzlei", "Emil", id="emil")
    desk.update_user("emil", active=False)
    desk.add_tenant("other")
    desk.add_user("other", "Otto", id="otto")
    desk.create(
        "contact",
        actor=None,
        tenant="kanzlei",
        id="P-100",
        holders={"assignee": [EVERYONE, BOB, Assignee.group("tax")]},
    )
    clock.advance(days=2)

    chat = desk.record_activity(CONTACT, presets.CHAT_MESSAGE, actor="anna")

    # Bob and Cara hold it also directly or by competence, and are told once; Emil is inactive, Otto of
    # another tenant, Anna the actor.
    assert told(chat) == [
        ("bob", presets.CHAT_MESSAGE, "anna", Channel.IN_APP),
        ("cara", presets.CHAT_MESSAGE, "anna", Channel.PUSH),
        ("dora", presets.CHAT_MESSAGE, "anna", Channel.PUSH),
    ]
    assert [n.recipient for n in desk.record_activity(CONTACT, presets.CHAT_MESSAGE, actor=None)] == [
        "anna",
        "bob",
        "cara",
        "dora",
    ]


def test_ct2_ct3_a_user_who_joins_the_tenant_later_hears_of_a_contact_of_everyone(desk: Ownership) -> None:
    desk.create("contact", actor=None, tenant="kanzlei", id="P-100", holders={"assignee": EVERYONE})
    desk.add_user("kanzlei", "Dora", id="dora")

    chat = desk.record_activity(CONTACT, presets.CHAT_MESSAGE, actor="bob")

    assert [n.recipient for n in chat] == ["anna", "cara", "dora"]


def test_ct3_ld8_assigning_a_competence_or_everyone_tells_who_they_stand_for_but_not_the_actor(
    desk: Ownership,
) -> None:
    contact = desk.create("contact", actor="bob", id="P-100")

    desk.assign(contact, "assignee", Assignee.group("tax"), actor="anna")
    desk.assign(contact, "assignee", EVERYONE, actor="anna")

    assert outbox(desk) == [
        ("cara", ASSIGNED, "anna", Channel.PUSH),  # by competence
        ("bob", ASSIGNED, "anna", Channel.IN_APP),  # as everyone
        ("cara", ASSIGNED, "anna", Channel.PUSH),
    ]


def test_ct2_ld8_one_change_tells_a_user_once_however_many_new_holders_stand_for_them(desk: Ownership) -> None:
    desk.create("contact", actor="anna", id="P-100", holders={"assignee": [BOB, Assignee.group("tax"), EVERYONE]})

    assert outbox(desk) == [
        ("bob", ASSIGNED, "anna", Channel.IN_APP),
        ("cara", ASSIGNED, "anna", Channel.PUSH),
    ]


def test_tl7_collaborators_hear_nothing_and_the_manager_hears_of_their_work(crm: Ownership) -> None:
    crm.configure_tenant("acme", plan="move")
    project = crm.create("project", actor="anna", id="P-1", holders={"collaborator": BOB})

    crm.assign(project, "collaborator", CARA, actor="anna")
    told_of_work = crm.record_activity(project, "milestone_reached", actor="bob")

    assert told(told_of_work) == [("anna", "milestone_reached", "bob", Channel.IN_APP)]
    assert outbox(crm) == told(told_of_work)


# --- X7: written with the change, delivered at least once, never twice --------------------------


def test_x7_notifications_are_written_with_the_change_and_delivered_by_dispatch(crm: Ownership) -> None:
    crm.create("company", actor="bob", id="C-1", holders={"account_manager": BOB})
    written = crm.record_activity(COMPANY, "call_logged", actor="cara")
    notifier = RecordingNotifier()

    assert [e.notification for e in crm.outbox(pending=True)] == list(written)
    assert notifier.sent == []

    report = crm.dispatch(notifier)

    assert report == Dispatched(delivered=tuple(n.key for n in written), failed=())
    assert notifier.sent == list(written)
    assert crm.outbox(pending=True) == ()
    assert [(e.delivered, e.attempts) for e in crm.outbox()] == [(True, 0)]


def test_x7_keys_come_from_the_event_and_the_recipient(crm: Ownership) -> None:
    crm.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    crm.create(
        "company", actor="anna", id="C-1", holders={"account_manager": BOB, presets.SECOND_ACCOUNT_MANAGER: CARA}
    )
    first = crm.record_activity(COMPANY, "call_logged", actor="anna")
    again = crm.record_activity(COMPANY, "call_logged", actor="anna")

    keys = [e.notification.key for e in crm.outbox()]
    assert len(keys) == 6  # Bob and Cara: told of being assigned, then of two calls
    assert len(set(keys)) == len(keys)
    assert [n.recipient for n in first] == [n.recipient for n in again] == ["bob", "cara"]
    assert {n.key for n in first}.isdisjoint(n.key for n in again)


def test_x7_a_key_the_notifier_acknowledged_is_never_delivered_again(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})
    crm.record_activity(COMPANY, "call_logged", actor="anna")
    notifier = RecordingNotifier()

    crm.dispatch(notifier)
    assert crm.dispatch(notifier) == Dispatched((), ())
    crm.record_activity(COMPANY, "meeting_planned", actor="anna")
    crm.dispatch(notifier)

    assert [n.activity for n in notifier.sent] == [ASSIGNED, "call_logged", "meeting_planned"]
    assert len(set(notifier.keys)) == 3


def test_x7_refused_and_crashed_deliveries_stay_pending_with_attempts(crm: Ownership) -> None:
    crm.create("company", actor="bob", id="C-1", holders={"account_manager": BOB})  # his own: no notice
    (call,) = crm.record_activity(COMPANY, "call_logged", actor=None)
    (meeting,) = crm.record_activity(COMPANY, "meeting_planned", actor=None)
    call_key, meeting_key = call.key, meeting.key
    picky = RecordingNotifier(refuse={meeting_key})
    crashing = RecordingNotifier(fail_every=1)

    assert crm.dispatch(picky, backoff=NO_PAUSE) == Dispatched(delivered=(call_key,), failed=(meeting_key,))
    assert crm.dispatch(crashing, backoff=NO_PAUSE) == Dispatched(delivered=(), failed=(meeting_key,))
    assert [(e.notification.key, e.attempts, e.delivered) for e in crm.outbox()] == [
        (call_key, 0, True),
        (meeting_key, 2, False),
    ]
    assert [e.notification.key for e in crm.outbox(pending=True)] == [meeting_key]

    fine = RecordingNotifier()
    assert crm.dispatch(fine, backoff=NO_PAUSE) == Dispatched(delivered=(meeting_key,), failed=())
    assert fine.keys == [meeting_key]  # the key Picky acknowledged is not handed out again
    assert picky.keys == [call_key]
    assert crashing.sent == []
    assert [(e.attempts, e.delivered) for e in crm.outbox()] == [(0, True), (2, True)]


def test_x7_a_refused_key_is_retried_next_time_to_the_same_notifier(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})
    notifier = RecordingNotifier(fail_every=2)

    first = crm.dispatch(notifier, backoff=NO_PAUSE)
    second = crm.dispatch(notifier, backoff=NO_PAUSE)  # every second call crashes
    third = crm.dispatch(notifier, backoff=NO_PAUSE)

    assert (len(first.delivered), second, third) == (1, Dispatched((), ()), Dispatched((), ()))
    crm.record_activity(COMPANY, "call_logged", actor="anna")
    assert crm.dispatch(notifier, backoff=NO_PAUSE).failed != ()  # the fourth call crashes
    assert len(crm.dispatch(notifier, backoff=NO_PAUSE).delivered) == 1
    assert [n.activity for n in notifier.sent] == [ASSIGNED, "call_logged"]


def test_x7_dispatch_delivers_oldest_first_in_batches_of_limit(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})
    for name in ("a", "b", "c", "d"):
        crm.record_activity(COMPANY, name, actor="anna")
    notifier = RecordingNotifier()

    sizes = [len(crm.dispatch(notifier, limit=2).delivered) for _ in range(4)]

    assert sizes == [2, 2, 1, 0]
    assert [n.activity for n in notifier.sent] == [ASSIGNED, "a", "b", "c", "d"]


def test_x7_dispatch_uses_the_notifier_given_to_ownership(clock: FakeClock) -> None:
    notifier = RecordingNotifier()
    own = Ownership(presets.lead_exchange(), MemoryRepository(), clock=clock, notifier=notifier)
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.create("lead", actor="anna", id="L-1", holders={"colleague": BOB})

    own.dispatch()

    assert told(notifier.sent) == [("bob", ASSIGNED, "anna", Channel.IN_APP)]


class SilentNotifier:
    """A notifier that answers None: it delivered the whole batch."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def deliver(self, notifications: Sequence[Notification]) -> None:
        self.batches.append([n.key for n in notifications])


def test_x7_a_notifier_answering_none_delivered_the_whole_batch(crm: Ownership) -> None:
    crm.create("company", actor="bob", id="C-1", holders={"account_manager": BOB})
    written = crm.record_activity(COMPANY, "call_logged", actor="anna") + crm.record_activity(
        COMPANY, "meeting_planned", actor="anna"
    )
    notifier = SilentNotifier()

    assert crm.dispatch(notifier) == Dispatched(delivered=tuple(n.key for n in written), failed=())
    assert crm.dispatch(notifier) == Dispatched((), ())
    assert notifier.batches == [[n.key for n in written]]


class ListNotifier(list[Notification]):
    """A notifier that is the list of what it was given: empty, and so falsy, until its first delivery."""

    def deliver(self, notifications: Sequence[Notification]) -> Collection[str]:
        self.extend(notifications)
        return ()


def test_x7_dispatch_uses_the_notifier_it_is_given_even_an_empty_one(clock: FakeClock) -> None:
    """`dispatch(notifier)` falls back to the one given to `Ownership` only "if None", says its contract."""
    default = RecordingNotifier()
    own = Ownership(presets.lead_exchange(), MemoryRepository(), clock=clock, notifier=default)
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.create("lead", actor="anna", id="L-1", holders={"colleague": BOB})
    given = ListNotifier()

    own.dispatch(given)

    assert told(given) == [("bob", ASSIGNED, "anna", Channel.IN_APP)]
    assert default.sent == []


class _BreakingTransaction:
    """A memory transaction that notes whether a notification was enqueued."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.enqueued = False

    def enqueue(self, notification: Notification) -> None:
        self._inner.enqueue(notification)
        self.enqueued = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class BreakingRepository:
    """The memory repository, failing at the end of a change that wrote a notification once `broken` is set."""

    def __init__(self) -> None:
        self.inner = MemoryRepository()
        self.broken = False

    @contextmanager
    def _unit(self) -> Iterator[Any]:
        with self.inner.transaction() as tx:
            if not self.broken:
                yield tx
                return
            breaking = _BreakingTransaction(tx)
            yield breaking
            if breaking.enqueued:
                raise OSError("disk full")

    def transaction(self) -> AbstractContextManager[Any]:
        return self._unit()


def test_x7_a_change_that_fails_takes_its_notifications_with_it(clock: FakeClock) -> None:
    repository = BreakingRepository()
    own = Ownership(presets.account_managers(), repository, clock=clock)
    own.add_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    for name in ("Anna", "Bob", "Cara"):
        own.add_user("acme", name, id=name.lower())
    before = own.snapshot()
    repository.broken = True

    with pytest.raises(OSError, match="disk full"):  # Bob and Cara were told, then the unit failed to be written
        own.create(
            "company", actor="anna", id="C-1", holders={"account_manager": BOB, presets.SECOND_ACCOUNT_MANAGER: CARA}
        )

    repository.broken = False
    assert own.snapshot() == before
    assert own.outbox() == ()


# --- bad input: typed refusals, nothing written ----------------------------------------------------


def test_x7_dispatch_without_a_notifier_is_refused(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})

    with refused(crm, InvalidValueError, r"There is no notifier to deliver to; pass one to dispatch\(\)"):
        crm.dispatch()
    with refused(crm, InvalidValueError, r"dispatch\(\): limit takes a whole number from 1 to .*, not 0\."):
        crm.dispatch(RecordingNotifier(), limit=0)


def test_activity_by_an_actor_of_a_tenant_the_record_is_not_shared_with_is_refused(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})

    with refused(crm, ForeignActorError, "company C-1 is not shared with tenant 'globex'; Gina cannot act on it"):
        crm.record_activity(COMPANY, "call_logged", actor="gina")


def test_activity_by_an_inactive_actor_is_refused(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})

    with refused(crm, InactiveUserError, r"Dan \(dan\) is inactive and cannot act"):
        crm.record_activity(COMPANY, "call_logged", actor="dan")


def test_activity_on_an_unknown_record_or_by_an_unknown_actor_is_refused(crm: Ownership) -> None:
    crm.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})

    with refused(crm, UnknownRecordError, "No company with id 'C-404' is tracked"):
        crm.record_activity(RecordRef("company", "C-404"), "call_logged", actor="anna")
    with refused(crm, UnknownUserError, "There is no user 'ghost'"):
        crm.record_activity(COMPANY, "call_logged", actor="ghost")


def test_x7_keys_of_ids_with_slashes_cannot_collide_and_dispatch_delivers_both(crm: Ownership) -> None:
    # Joined plainly, company D told to 1/bob and company D/1 told to bob, both at place 1 of their history, would
    # both be keyed company/D/1/1/bob: the outbox would keep the first and drop the second as a repeat of it.
    crm.add_user("acme", "Bob of branch 1", id="1/bob")
    first = crm.create("company", actor="anna", id="D", holders={"account_manager": Assignee.user("1/bob")})
    second = crm.create("company", actor="anna", id="D/1", holders={"account_manager": BOB})
    notifier = RecordingNotifier()

    written = [entry.notification for entry in crm.outbox()]
    report = crm.dispatch(notifier)

    assert [(n.record, n.recipient, n.activity) for n in written] == [
        (first.ref, "1/bob", ASSIGNED),
        (second.ref, "bob", ASSIGNED),
    ]
    for ref in (first.ref, second.ref):  # each told of at place 1 of its history
        assert [type(e).__name__ for e in crm.history(ref)] == ["RecordCreated", "Assigned"]
    assert len({n.key for n in written}) == 2
    assert report == Dispatched(delivered=tuple(n.key for n in written), failed=())
    assert [(n.record.id, n.recipient) for n in notifier.sent] == [("D", "1/bob"), ("D/1", "bob")]
    assert crm.outbox(pending=True) == ()


class Raising:
    """A notifier whose delivery fails outright."""

    def deliver(self, notifications: Sequence[Notification]) -> Collection[str] | None:
        raise ConnectionError("the push service is down")


class RefusingFirst:
    """A notifier that refuses the first notification of each batch."""

    def deliver(self, notifications: Sequence[Notification]) -> Collection[str] | None:
        return [notifications[0].key]


def test_x7_a_failed_delivery_is_logged_never_printed(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    own = Ownership(presets.account_managers(), MemoryRepository(), clock=FakeClock())
    own.add_tenant("acme", plan="go")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.create("deal", actor="anna", id="D-1", holders={"responsible": Assignee.user("bob")})
    own.record_activity(RecordRef("deal", "D-1"), "note_added", actor="anna")
    pending = len(own.outbox(pending=True))
    assert pending >= 2

    with caplog.at_level(logging.INFO, logger="ownership"):
        assert own.dispatch(Raising(), backoff=NO_PAUSE).delivered == ()
    [split, *alone] = caplog.records
    assert (split.levelname, split.getMessage()) == (
        "WARNING",
        f"The notifier raised on a batch of {pending} notifications; handing it over in halves to find the ones it "
        "raises on",
    )
    assert [raised.levelname for raised in alone] == ["ERROR"] * pending, "each key it raised on alone is told"
    for raised in (split, *alone):
        assert raised.exc_info is not None
        assert isinstance(raised.exc_info[1], ConnectionError)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ownership"):
        report = own.dispatch(RefusingFirst())
    assert len(report.failed) == 1
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"The notifier refused 1 of {pending} notifications; they stay pending")
    ]
    assert capsys.readouterr() == ("", "")
