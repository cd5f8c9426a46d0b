"""Notifications (src/ownership/notify.py): a notification's key, channel and actor, without a repository (X7, CT3)."""

from datetime import datetime, timezone

from ownership import Channel, Profile, RecordRef, User
from ownership.notify import key, notification_for

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
DEAL = RecordRef("deal", "D/1")


def test_x7_a_key_quotes_each_part_so_no_two_sets_of_parts_give_one_key() -> None:
    assert key("deal", "D/1", "3", "anna") == "deal/D%2F1/3/anna"
    assert key("a/b", "c") != key("a", "b/c")


def test_x7_the_key_names_the_record_the_event_and_the_recipient() -> None:
    anna = User("anna", "acme", "Anna")
    told = notification_for(anna, DEAL, "note_added", actor=None, at=AT, position=3)
    assert told.key == "deal/D%2F1/3/anna"
    assert (told.recipient, told.record, told.activity, told.at) == ("anna", DEAL, "note_added", AT)
    assert notification_for(anna, DEAL, "note_added", actor=None, at=AT, position=3) == told


def test_ct3_the_channel_follows_the_recipients_profile() -> None:
    pushed = User("bob", "acme", "Bob", profile=Profile(push=True))
    assert notification_for(pushed, DEAL, "x", actor=None, at=AT, position=1).channel is Channel.PUSH
    assert notification_for(User("cyd", "acme", "Cyd"), DEAL, "x", actor=None, at=AT, position=1).channel is (
        Channel.IN_APP
    )


def test_ld7_an_actor_of_another_tenant_reads_none() -> None:
    anna, bob, gus = User("anna", "acme", "Anna"), User("bob", "acme", "Bob"), User("gus", "globex", "Gus")
    assert notification_for(anna, DEAL, "x", actor=bob, at=AT, position=1).actor == "bob"
    assert notification_for(anna, DEAL, "x", actor=gus, at=AT, position=1).actor is None
