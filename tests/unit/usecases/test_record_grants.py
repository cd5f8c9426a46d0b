"""Grants (issue 19): one record shared with a user or group at a level, until a moment, by the rule's `granted`.

A rulebook of its own, no preset: a deal's owner may view, edit and assign it, an admin may view and assign it, and
`granted` lets whom it is granted to view (and edit, at level edit); a ticket's rule reads no grant at all.
Acme: Anna owns deals D-1 and D-2; Bob, Cleo, inactive Dan; the night desk (a team) has no members yet.
Globex: admin Gina and Gus, with whom D-1 is shared. Initech: Ian, who takes part in nothing.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

import attrs
import pytest
from sqlalchemy import select

from conftest import refused_readably as refused
from conftest import seen
from ownership import (
    EVERYONE,
    Access,
    AccessDeniedError,
    AccessGranted,
    AccessRevoked,
    Assignee,
    Event,
    ForeignActorError,
    ForeignTenantError,
    GroupKind,
    InactiveUserError,
    InvalidValueError,
    Ownership,
    Policy,
    RecordRef,
    Role,
    Rulebook,
    RulebookError,
    UnknownGrantError,
    UnknownUserError,
    UnsupportedError,
)
from ownership.access import granted, holds, is_admin
from ownership.adapters.memory import MemoryRepository
from ownership.adapters.sql import SqlRepository, records, where
from ownership.ports import Repository, Transaction
from ownership.testing import FakeClock

RULES = Rulebook(
    (
        Policy(
            "deal",
            (Role("owner", grants_access=True, notified=True),),
            access=Access(
                view=is_admin | holds("owner") | granted("view"),
                edit=holds("owner") | granted("edit"),
                assign=is_admin | holds("owner"),
            ),
        ),
        Policy("ticket", (Role("owner", grants_access=True),), access=Access(view=holds("owner"))),
    )
)

D1, D2, T1 = RecordRef("deal", "D-1"), RecordRef("deal", "D-2"), RecordRef("ticket", "T-1")
BOB, CLEO, DAN, GUS = (Assignee.user(u) for u in ("bob", "cleo", "dan", "gus"))
NIGHT = Assignee.group("night")


@pytest.fixture
def crm(repository: Repository, clock: FakeClock) -> Ownership:
    own = Ownership(RULES, repository, clock=clock)
    for tenant in ("acme", "globex", "initech"):
        own.add_tenant(tenant)
    for name in ("Anna", "Bob", "Cleo"):
        own.add_user("acme", name, id=name.lower())
    own.add_user("acme", "Dan", id="dan", active=False)
    own.add_group("acme", "Night desk", GroupKind.TEAM, id="night")
    own.add_user("globex", "Gina", id="gina", admin=True)
    own.add_user("globex", "Gus", id="gus")
    own.add_user("initech", "Ian", id="ian")
    for deal in ("D-1", "D-2"):
        own.create("deal", id=deal, actor="anna", holders={"owner": Assignee.user("anna")})
    own.create("ticket", id="T-1", actor="anna", holders={"owner": Assignee.user("anna")})
    own.share(D1, "globex", actor="anna")
    own.accept(D1, actor="gina")
    return own


def listed(own: Ownership, repository: Repository, user: str, action: str = "view") -> list[str]:
    """The deals `user` may `action`: `can`, `explain`, `checker` and `visible` agreeing, and on SQL `where` too."""
    ids = seen(own, user, "deal", action)
    if isinstance(repository, SqlRepository):
        condition = where(own.filter(user, action, "deal"), kind="deal", id=records.c.id)
        with repository.engine.connect() as connection:
            found = connection.execute(select(records.c.id).where(records.c.kind == "deal", condition)).scalars()
            assert sorted(found) == sorted(ids), f"the host's own query lists other deals for {user}"
    return ids


def sharing(events: tuple[Event, ...]) -> list[tuple[str, str, str | None]]:
    """The grants and revocations of a history, as (what, to whom, by whom)."""
    return [
        (type(e).__name__, str(e.assignee), e.actor) for e in events if isinstance(e, AccessGranted | AccessRevoked)
    ]


# --- what a grant lets, and for how long ---------------------------------------------------------------------------


def test_a_grant_to_view_lets_the_user_view_and_list_the_record_but_not_edit_it(
    crm: Ownership, repository: Repository
) -> None:
    assert listed(crm, repository, "bob") == []
    crm.grant(D1, BOB, actor="anna")
    assert listed(crm, repository, "bob") == ["D-1"]
    assert listed(crm, repository, "bob", "edit") == []
    assert listed(crm, repository, "cleo") == [], "granted to Bob alone"


def test_a_grant_to_edit_lets_the_user_view_and_edit_the_record(crm: Ownership, repository: Repository) -> None:
    crm.grant(D2, BOB, "edit", actor="anna")
    assert listed(crm, repository, "bob") == ["D-2"]
    assert listed(crm, repository, "bob", "edit") == ["D-2"]


def test_a_grant_stops_by_itself_when_its_end_passes_even_for_a_viewer_asked_about_before(
    crm: Ownership, repository: Repository, clock: FakeClock
) -> None:
    crm.grant(D1, BOB, until=clock.now + timedelta(hours=2), actor="anna")
    assert crm.can("bob", "view", D1)
    assert listed(crm, repository, "bob") == ["D-1"]
    assert [p.user.id for p in crm.who_can("view", D1, tenant="acme")] == ["anna", "bob"]
    clock.advance(hours=2)
    assert not crm.can("bob", "view", D1), "the same viewer, asked again once the grant has ended"
    assert listed(crm, repository, "bob") == []
    assert "granted('view'): no (no grant lets Bob view it)" in str(crm.explain("bob", "view", D1))
    assert [p.user.id for p in crm.who_can("view", D1, tenant="acme")] == ["anna"]


def test_explain_says_who_granted_it_and_until_when(crm: Ownership, clock: FakeClock) -> None:
    crm.grant(D1, BOB, until=clock.now + timedelta(days=2), actor="anna")
    crm.grant(D2, BOB, "edit", actor=None)
    assert "granted('view'): yes (Bob may view it: granted to them by anna until 2026-01-07 09:00 UTC)" in str(
        crm.explain("bob", "view", D1)
    )
    assert "granted('edit'): yes (Bob may edit it: granted to them)" in str(crm.explain("bob", "edit", D2))


def test_a_grant_to_a_group_reaches_its_live_members_and_no_longer_one_whose_cover_ended(
    crm: Ownership, repository: Repository, clock: FakeClock
) -> None:
    crm.add_member("night", "bob")
    crm.add_member("night", "cleo", until=clock.now + timedelta(hours=8))
    crm.grant(D2, NIGHT, actor="anna")
    assert listed(crm, repository, "bob") == listed(crm, repository, "cleo") == ["D-2"]
    assert "Cleo may view it: granted to group 'night' by anna" in str(crm.explain("cleo", "view", D2))
    clock.advance(hours=8)
    assert listed(crm, repository, "cleo") == [], "her cover on the night desk has ended"
    assert listed(crm, repository, "bob") == ["D-2"]


# --- revoking, and what is refused ---------------------------------------------------------------------------------


def test_revoke_takes_the_grant_back_and_revoking_one_there_is_not_is_refused(
    crm: Ownership, repository: Repository
) -> None:
    given = crm.grant(D1, BOB, "edit", actor="anna")
    assert crm.revoke(D1, BOB, actor="anna") == given
    assert listed(crm, repository, "bob") == []
    assert crm.grants(D1) == ()
    with refused(crm, UnknownGrantError, "deal D-1 is not granted to user bob"):
        crm.revoke(D1, BOB, actor="anna")


def test_an_ended_grant_may_still_be_revoked(crm: Ownership, clock: FakeClock) -> None:
    crm.grant(D1, BOB, until=clock.now + timedelta(hours=1), actor="anna")
    clock.advance(days=1)
    assert crm.revoke(D1, BOB, actor=None).assignee == BOB
    assert [f.kind for f in crm.audit("acme") if "grant" in f.kind] == []


def test_a_grant_of_a_wrong_level_or_end_or_to_everyone_is_refused_and_changes_nothing(
    crm: Ownership, clock: FakeClock
) -> None:
    with refused(crm, InvalidValueError, "level takes 'view' or 'edit', not 'admin'"):
        crm.grant(D1, BOB, "admin", actor="anna")
    with refused(crm, InvalidValueError, "until takes a moment to come"):
        crm.grant(D1, BOB, until=clock.now, actor="anna")
    with refused(crm, InvalidValueError, "no time zone"):
        crm.grant(D1, BOB, until=datetime(2027, 1, 1), actor="anna")  # no time zone, on purpose
    with refused(crm, InvalidValueError, "not to everyone"):
        crm.grant(D1, EVERYONE, actor="anna")
    with refused(crm, RulebookError, "reads no grant to view"):
        crm.grant(T1, BOB, actor="anna")


def test_a_grant_to_or_by_someone_without_the_right_to_it_is_refused_and_changes_nothing(crm: Ownership) -> None:
    with refused(crm, ForeignTenantError, "not shared with tenant 'initech'"):
        crm.grant(D1, Assignee.user("ian"), actor=None)
    with refused(crm, UnknownUserError, "no user 'bob'"):  # Globex learns nothing of Acme's people
        crm.grant(D1, BOB, actor="gina")
    with refused(crm, AccessDeniedError, "Cleo may not share deal D-1"):
        crm.grant(D1, BOB, actor="cleo")
    with refused(crm, InactiveUserError, r"Dan \(dan\) is inactive"):
        crm.grant(D1, BOB, actor="dan")
    crm.grant(D1, BOB, "edit", actor="anna")
    assert not crm.can("bob", "assign", D1), "a grant never lets Bob change who holds it"
    with refused(crm, AccessDeniedError, "Bob may not share deal D-1"):
        crm.grant(D1, CLEO, actor="bob")
    with refused(crm, AccessDeniedError, "Bob may not take back a share of deal D-1"):
        crm.revoke(D1, BOB, actor="bob")


def test_granting_the_same_again_changes_nothing_and_another_level_or_end_replaces_it(
    crm: Ownership, clock: FakeClock
) -> None:
    first = crm.grant(D1, BOB, actor="anna")
    before = crm.snapshot()
    clock.advance(minutes=5)
    assert crm.grant(D1, BOB, actor="anna") == first
    assert crm.snapshot() == before, "no second grant, no event"
    crm.grant(D1, BOB, "edit", actor="anna")
    end = clock.now + timedelta(days=1)
    crm.grant(D1, BOB, "edit", until=end, actor="anna")
    assert [(g.assignee, g.level, g.until) for g in crm.grants(D1)] == [(BOB, "edit", end)]
    assert [what for what, _, _ in sharing(crm.history(D1, viewer="anna"))] == ["AccessGranted"] * 3


# --- who learns of a grant -----------------------------------------------------------------------------------------


def test_the_history_tells_the_grantees_tenant_alone_who_granted_and_revoked(crm: Ownership) -> None:
    crm.grant(D1, BOB, actor="anna")
    crm.grant(D1, GUS, actor="gina")
    crm.revoke(D1, BOB, actor="anna")
    assert sharing(crm.history(D1, viewer="anna")) == [
        ("AccessGranted", "user bob", "anna"),
        ("AccessRevoked", "user bob", "anna"),
    ]
    assert sharing(crm.history(D1, tenant="globex")) == [("AccessGranted", "user gus", "gina")]


def test_grants_lists_those_that_count_now_each_tenant_its_own(crm: Ownership, clock: FakeClock) -> None:
    crm.grant(D1, BOB, until=clock.now + timedelta(hours=1), actor="anna")
    crm.grant(D1, CLEO, actor="anna")
    crm.grant(D1, GUS, actor="gina")
    assert [g.assignee for g in crm.grants(D1)] == [BOB, CLEO, GUS], "the host sees every tenant's"
    assert [g.assignee for g in crm.grants(D1, viewer="gus")] == [GUS]
    assert [g.assignee for g in crm.grants(D1, tenant="acme")] == [BOB, CLEO]
    clock.advance(hours=1)
    assert [g.assignee for g in crm.grants(D1, viewer="cleo")] == [CLEO]
    with refused(crm, AccessDeniedError, "Bob may not"):
        crm.grants(D1, viewer="bob")
    with refused(crm, ForeignActorError, "not shared with tenant 'initech'"):
        crm.grants(D1, viewer="ian")


def test_grants_refuses_in_a_sentence_that_reads(crm: Ownership) -> None:
    with pytest.raises(AccessDeniedError) as caught:
        crm.grants(D1, viewer="bob")
    # Bob is refused the list of people D-1 is granted to; D-1 is not what anything is granted to.
    assert "granted to deal D-1" not in str(caught.value)


def test_audit_names_each_grant_of_the_tenant_the_ended_ones_and_those_to_users_who_left(
    crm: Ownership, clock: FakeClock
) -> None:
    crm.grant(D1, BOB, until=clock.now + timedelta(hours=1), actor="anna")
    crm.grant(D2, CLEO, "edit", actor="anna")
    crm.grant(D2, DAN, actor="anna")
    crm.grant(D1, GUS, actor="gina")
    clock.advance(hours=1)
    assert [(f.kind, f.subject, f.message) for f in crm.audit("acme") if "grant" in f.kind] == [
        ("expired_grant", "deal D-1/user bob", "The grant of deal D-1 to Bob ended 2026-01-05 10:00 UTC; revoke it."),
        ("grant", "deal D-2/user cleo", "Cleo may edit deal D-2, by a grant; revoke it when no longer needed."),
        ("inactive_grantee", "deal D-2/user dan", "deal D-2 is granted to Dan, who is inactive; revoke the grant."),
    ]
    assert [(f.kind, f.subject) for f in crm.audit("globex") if "grant" in f.kind] == [("grant", "deal D-1/user gus")]


# --- grants and followers as records come and go, and between repositories ----------------------------------------


def test_a_snapshot_keeps_grants_and_followers_when_restored_in_another_repository(
    crm: Ownership, repository: Repository, clock: FakeClock
) -> None:
    crm.grant(D1, BOB, until=clock.now + timedelta(hours=1), actor="anna")
    crm.grant(D1, GUS, "edit", actor="gina")
    crm.follow(D1, "bob")
    snapshot = crm.snapshot()
    assert (len(snapshot.grants), len(snapshot.followers)) == (2, 1)
    other = MemoryRepository() if isinstance(repository, SqlRepository) else SqlRepository.from_url("sqlite://")
    try:
        copy = Ownership(RULES, other, clock=clock)
        copy.restore(snapshot)
        assert copy.snapshot() == snapshot
        assert copy.followers(D1) == crm.followers(D1)
        assert listed(copy, other, "bob") == ["D-1"]
        clock.advance(hours=1)
        assert listed(copy, other, "bob") == [], "restored with its end"
        assert copy.can("gus", "edit", D1)
    finally:
        if isinstance(other, SqlRepository):
            other.close()


def test_deleting_a_record_deletes_its_grants_and_followers_and_one_made_again_starts_afresh(
    crm: Ownership, repository: Repository
) -> None:
    crm.grant(D2, CLEO, actor="anna")
    crm.follow(D2, "cleo")
    assert crm.can("cleo", "view", D2)
    assert crm.delete([D2], actor="anna") == 1
    after = crm.snapshot()
    assert (after.grants, after.followers) == ((), ())
    crm.create("deal", id="D-2", actor="anna", holders={"owner": Assignee.user("anna")})
    assert (crm.grants(D2), crm.followers(D2)) == ((), ())
    assert not crm.can("cleo", "view", D2), "the grant went with the deal it was of"
    assert listed(crm, repository, "cleo") == []


_UNIT = frozenset(name for name in dir(Transaction) if not name.startswith("_"))


class _BareUnit:
    """A unit of work that offers the `Transaction` protocol's methods alone: no optional port."""

    def __init__(self, inner: Transaction) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        if name not in _UNIT:
            raise AttributeError(name)
        return getattr(self._inner, name)


class BareRepository:
    """A host's repository that keeps neither grants nor followers: the memory one seen through `_BareUnit`."""

    def __init__(self) -> None:
        self._inner = MemoryRepository()

    @contextmanager
    def _units(self) -> Iterator[Transaction]:
        with self._inner.transaction() as tx:
            yield _BareUnit(tx)  # type: ignore[misc]  # a Transaction, structurally

    def transaction(self) -> AbstractContextManager[Transaction]:
        return self._units()


def test_a_repository_that_keeps_no_grants_refuses_to_share_and_answers_as_if_none_were_made(
    crm: Ownership, clock: FakeClock
) -> None:
    bare = Ownership(RULES, BareRepository(), clock=clock)
    bare.add_tenant("acme")
    for name in ("Anna", "Bob"):
        bare.add_user("acme", name, id=name.lower())
    bare.create("deal", id="D-1", actor="anna", holders={"owner": Assignee.user("anna")})
    for refusal, keeps in (
        (lambda: bare.grant(D1, BOB, actor="anna"), "grants"),
        (lambda: bare.revoke(D1, BOB, actor="anna"), "grants"),
        (lambda: bare.follow(D1, "anna"), "followers"),
        (lambda: bare.unfollow(D1, "anna"), "followers"),
    ):
        with refused(bare, UnsupportedError, f"keeps no {keeps}"):
            refusal()
    assert (bare.grants(D1), bare.followers(D1)) == ((), ())
    assert seen(bare, "anna", "deal") == ["D-1"]
    assert seen(bare, "bob", "deal") == []
    assert [n.recipient for n in bare.record_activity(D1, "note_added", actor=None)] == ["anna"]
    crm.grant(D1, BOB, actor="anna")
    empty = Ownership(RULES, BareRepository(), clock=clock)
    with refused(empty, UnsupportedError, "keeps no grants"):
        empty.restore(crm.snapshot())


# A rule to assign that falls back to the rule to edit, which reads grants: it reads them as if none were held.
FALLING_BACK = Rulebook(
    (
        Policy(
            "deal",
            (Role("owner", grants_access=True, notified=True),),
            access=Access(view=holds("owner") | granted("view"), edit=holds("owner") | granted("edit")),
        ),
    )
)


def test_a_grant_never_lets_its_holder_assign_share_or_grant_the_record_and_ends_with_nothing_kept(
    repository: Repository, clock: FakeClock
) -> None:
    own = Ownership(FALLING_BACK, repository, clock=clock)
    for tenant in ("acme", "globex"):
        own.add_tenant(tenant)
    for name in ("Anna", "Bob", "Cleo"):
        own.add_user("acme", name, id=name.lower())
    own.create("deal", id="D-1", actor="anna", holders={"owner": Assignee.user("anna")})
    own.grant(D1, BOB, "edit", until=clock.now + timedelta(days=1), actor="anna")
    assert own.can("bob", "edit", D1)
    assert not own.can("bob", "assign", D1)
    assert [p.user.id for p in own.who_can("assign", D1)] == ["anna"]
    assert str(own.rulebook.policy("deal").rule("assign")) == "holds('owner')"
    with refused(own, AccessDeniedError, "Bob may not change who holds deal D-1"):
        own.assign(D1, "owner", BOB, actor="bob")
    with refused(own, AccessDeniedError, "a grant of their own does not count"):
        own.share(D1, "globex", actor="bob")
    with refused(own, AccessDeniedError, "Bob may not share deal D-1"):
        own.grant(D1, CLEO, "view", actor="bob")
    clock.advance(days=2)
    assert not own.can("bob", "view", D1), "nothing the grant let him do outlasts it"


def test_an_assign_rule_that_reads_granted_is_refused_when_its_policy_is_made() -> None:
    with pytest.raises(RulebookError, match="never give it away: take granted out of the assign rule"):
        Policy("deal", (Role("owner", grants_access=True),), access=Access(assign=holds("owner") | granted("edit")))


def test_restore_refuses_grants_and_their_history_that_name_another_tenant_s_people(
    crm: Ownership, repository: Repository
) -> None:
    crm.grant(D1, BOB, actor="anna")
    whole = crm.snapshot()
    [grant] = whole.grants
    [event] = [e for e in whole.events if isinstance(e, AccessGranted)]
    bad = {
        "granted by a user of another tenant": attrs.evolve(whole, grants=(attrs.evolve(grant, actor="gus"),)),
        "granted to a user of another tenant": attrs.evolve(whole, grants=(attrs.evolve(grant, assignee=GUS),)),
        "a grant shown to every tenant": attrs.evolve(
            whole, events=tuple(attrs.evolve(e, private_to=None) if e == event else e for e in whole.events)
        ),
    }
    for why, snapshot in bad.items():
        empty = Ownership(RULES, MemoryRepository())
        with pytest.raises(InvalidValueError, match="export the whole state again"):
            empty.restore(snapshot)
        assert empty.tenants() == (), why
