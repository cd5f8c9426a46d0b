"""Followers (issue 19): hearing of a record's activities without holding it, for as long as one may view it.

A rulebook of its own, no preset: a deal's owners hear of its activities and may view it, an admin may view it,
and so may whom it is granted to; a call logged is for its owners, an internal memo for no one. A lead is the same,
but tells its inactive owners too (someone away whose mail is read for them).
Acme: Anna owns deal D-1 and lead L-1; Bob, Cleo, Dan. Globex: admin Gina and Gus, with whom D-1 is shared.
Initech: Ian, who takes part in nothing.
"""

from datetime import timedelta

import pytest

from conftest import refused_readably as refused
from ownership import (
    EVERYONE,
    Access,
    AccessDeniedError,
    Activity,
    Assignee,
    ForeignActorError,
    ForeignTenantError,
    InactiveUserError,
    Ownership,
    Policy,
    RecordRef,
    Role,
    Rulebook,
    UnknownUserError,
)
from ownership.access import granted, holds, is_admin
from ownership.ports import Repository
from ownership.testing import FakeClock

OWNERS = (Role("owner", max=None, grants_access=True, notified=True),)
ACTIVITIES = (Activity("note_added"), Activity("call_logged", roles={"owner"}), Activity("internal_memo", roles=()))
RULES = Rulebook(
    (
        Policy(
            "deal",
            OWNERS,
            access=Access(view=is_admin | holds("owner") | granted("view"), edit=holds("owner") | granted("edit")),
            activities=ACTIVITIES,
        ),
        Policy("lead", OWNERS, activities=ACTIVITIES, tell_inactive=True),
    )
)

D1, L1 = RecordRef("deal", "D-1"), RecordRef("lead", "L-1")
BOB = Assignee.user("bob")


@pytest.fixture
def crm(repository: Repository, clock: FakeClock) -> Ownership:
    own = Ownership(RULES, repository, clock=clock)
    for tenant in ("acme", "globex", "initech"):
        own.add_tenant(tenant)
    for name in ("Anna", "Bob", "Cleo", "Dan"):
        own.add_user("acme", name, id=name.lower())
    own.add_user("globex", "Gina", id="gina", admin=True)
    own.add_user("globex", "Gus", id="gus")
    own.add_user("initech", "Ian", id="ian")
    own.create("deal", id="D-1", actor="anna", holders={"owner": Assignee.user("anna")})
    own.create("lead", id="L-1", actor="anna", holders={"owner": Assignee.user("anna")})
    own.share(D1, "globex", actor="anna")
    own.accept(D1, actor="gina")
    return own


def told(own: Ownership, record: RecordRef, activity: str, actor: str | None) -> list[str]:
    """Whom recording `activity` tells, in every tenant, by the outbox: not only what the actor gets back."""
    before = {entry.notification.key for entry in own.outbox()}
    own.record_activity(record, activity, actor=actor)
    return sorted(e.notification.recipient for e in own.outbox() if e.notification.key not in before)


# --- following, and who hears ---------------------------------------------------------------------------------------


def test_follow_and_unfollow_say_whether_they_changed_anything_and_change_nothing_the_second_time(
    crm: Ownership,
) -> None:
    crm.grant(D1, BOB, actor="anna")
    assert crm.follow(D1, "bob") is True
    before = crm.snapshot()
    assert crm.follow(D1, "bob") is False
    assert crm.snapshot() == before
    assert [(f.user, f.tenant) for f in crm.followers(D1)] == [("bob", "acme")]
    assert crm.unfollow(D1, "bob") is True
    before = crm.snapshot()
    assert crm.unfollow(D1, "bob") is False
    assert crm.snapshot() == before
    assert crm.followers(D1) == ()


def test_a_follower_hears_of_the_record_s_activities_in_whichever_tenant_they_are(crm: Ownership) -> None:
    assert told(crm, D1, "note_added", "anna") == []
    crm.grant(D1, BOB, actor="anna")
    crm.follow(D1, "bob")
    crm.follow(D1, "gina")
    assert told(crm, D1, "note_added", "anna") == ["bob", "gina"]
    assert told(crm, D1, "call_logged", None) == ["anna", "bob", "gina"], "a role hears of it, and so do followers"
    returned = crm.record_activity(D1, "note_added", actor="anna")
    assert [n.recipient for n in returned] == ["bob"], "which of Globex's people heard is not Anna's to learn"


def test_a_follower_is_not_told_of_what_they_did_themselves(crm: Ownership) -> None:
    crm.grant(D1, BOB, actor="anna")
    crm.follow(D1, "bob")
    assert told(crm, D1, "note_added", "bob") == ["anna"]


def test_a_follower_who_holds_a_role_that_hears_is_told_once(crm: Ownership) -> None:
    crm.follow(D1, "anna")
    crm.assign(D1, "owner", BOB, actor="anna")
    crm.follow(D1, "bob")
    assert told(crm, D1, "note_added", None) == ["anna", "bob"]


def test_an_activity_no_role_hears_of_is_not_told_to_followers_either(crm: Ownership) -> None:
    crm.follow(D1, "gina")
    assert told(crm, D1, "internal_memo", "anna") == []
    assert told(crm, D1, "note_added", "anna") == ["gina"]


def test_a_follower_who_may_no_longer_view_the_record_is_not_told_until_they_may_again(
    crm: Ownership, clock: FakeClock
) -> None:
    crm.grant(D1, BOB, until=clock.now + timedelta(hours=1), actor="anna")
    crm.follow(D1, "bob")
    assert crm.can("bob", "view", D1)
    assert told(crm, D1, "note_added", "anna") == ["bob"]
    clock.advance(hours=1)
    assert told(crm, D1, "note_added", "anna") == [], "the grant has ended, and Bob with it"
    assert [f.user for f in crm.followers(D1)] == ["bob"], "still following"
    crm.grant(D1, BOB, actor="anna")
    assert told(crm, D1, "note_added", "anna") == ["bob"]
    crm.revoke(D1, BOB, actor="anna")
    assert told(crm, D1, "note_added", "anna") == []


def test_an_inactive_follower_is_not_told_even_where_inactive_holders_are(crm: Ownership) -> None:
    crm.follow(L1, "bob")
    crm.update_user("bob", active=False)
    assert told(crm, L1, "note_added", "anna") == []
    crm.update_user("bob", active=True)
    assert told(crm, L1, "note_added", "anna") == ["bob"]


# --- inactive holders -----------------------------------------------------------------------------------------------


def test_an_inactive_holder_is_told_only_where_the_kind_says_to_tell_the_inactive(crm: Ownership) -> None:
    for record in (D1, L1):
        crm.assign(record, "owner", Assignee.user("dan"), actor="anna")
    crm.update_user("dan", active=False)
    assert told(crm, D1, "note_added", None) == ["anna"]
    assert told(crm, L1, "note_added", None) == ["anna", "dan"]
    assert told(crm, L1, "note_added", "anna") == ["dan"]


# --- who may follow, and who may see who follows ---------------------------------------------------------------------


def test_following_is_refused_to_one_who_may_not_view_the_record_and_changes_nothing(crm: Ownership) -> None:
    with refused(crm, AccessDeniedError, "Cleo may not follow deal D-1"):
        crm.follow(D1, "cleo")
    with refused(crm, ForeignTenantError, "not shared with tenant 'initech'; it cannot be followed"):
        crm.follow(D1, "ian")
    with refused(crm, UnknownUserError, "no user 'nobody'"):
        crm.follow(D1, "nobody")
    crm.update_user("dan", active=False)
    with refused(crm, InactiveUserError, r"Dan \(dan\) is inactive"):
        crm.follow(L1, "dan")


def test_followers_lists_each_tenant_its_own_and_is_refused_to_one_who_may_not_view(crm: Ownership) -> None:
    crm.grant(D1, BOB, actor="anna")
    for user in ("anna", "bob", "gina"):
        crm.follow(D1, user)
    assert [f.user for f in crm.followers(D1)] == ["anna", "bob", "gina"], "the host sees every tenant's"
    assert [f.user for f in crm.followers(D1, viewer="gina")] == ["gina"]
    assert [f.user for f in crm.followers(D1, tenant="acme")] == ["anna", "bob"]
    with refused(crm, AccessDeniedError, "Cleo may not"):
        crm.followers(D1, viewer="cleo")
    with refused(crm, ForeignActorError, "not shared with tenant 'initech'"):
        crm.followers(D1, viewer="ian")


def test_followers_refuses_in_a_sentence_that_reads(crm: Ownership) -> None:
    with pytest.raises(AccessDeniedError) as caught:
        crm.followers(D1, viewer="cleo")
    # "Cleo may not list who follows it deal D-1" names the record twice over, once as "it".
    assert "follows it deal D-1" not in str(caught.value)


def test_telling_the_inactive_tells_those_who_hold_it_themselves_never_those_who_left_and_are_everyone(
    repository: Repository, clock: FakeClock
) -> None:
    roles = (Role("owner", max=None, notified=True), Role("reader", max=None, everyone=True, notified=True))
    own = Ownership(Rulebook((Policy("memo", roles, tell_inactive=True),)), repository, clock=clock)
    own.add_tenant("acme")
    for name in ("Anna", "Bob", "Dan", "Eve"):
        own.add_user("acme", name, id=name.lower())
    memo = own.create(
        "memo", id="M-1", tenant="acme", actor=None, holders={"owner": Assignee.user("dan"), "reader": EVERYONE}
    )
    for left in ("dan", "eve"):
        own.update_user(left, active=False)
    heard = {n.recipient for n in own.record_activity(memo, "noted", actor=None)}
    assert heard == {"anna", "bob", "dan"}, "Dan holds it himself; Eve only as one of everyone, who are the active"
