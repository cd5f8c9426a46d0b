"""The repository contract: what every `Repository` must do, written once, run against any.

A host proves its own repository in a few lines of its test file::

    from ownership.testing.contract import RepositoryContract

    class TestMyRepository(RepositoryContract):
        def make_repository(self):
            return MyRepository(fresh_database())

Each test asks the hook for a new, empty repository and uses only the
`Repository` and `Transaction` protocols, so it cleans up after itself by
construction. `select` is held to `ownership.filters.matches`, the reference
meaning of every filter, over generated records and filters.
"""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ownership.events import Assigned, RecordCreated, RecordShared, ShareAccepted
from ownership.filters import (
    EVERYTHING,
    NOTHING,
    And,
    Filter,
    HasAssignee,
    HomeIs,
    Not,
    Or,
    SharedWith,
    matches,
)
from ownership.model import (
    EVERYONE,
    Assignee,
    Assignment,
    Group,
    GroupKind,
    Membership,
    Record,
    RecordRef,
    Tenant,
    User,
)
from ownership.notify import Channel, Notification
from ownership.ports import Repository, Versioned

_AT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
_TENANTS = ("acme", "globex")
_KINDS = ("deal", "lead")
_ROLES = ("owner", "helper")
_ASSIGNEES = (Assignee.user("anna"), Assignee.user("bob"), Assignee.group("north"), EVERYONE)


class _UnitFailedError(Exception):
    """Raised inside a unit of work to see it rolled back."""


def _notification(key: str) -> Notification:
    return Notification(key, "anna", RecordRef("deal", "D-1"), "note_added", None, _AT, Channel.IN_APP)


@st.composite
def _worlds(draw: st.DrawFn) -> list[tuple[Record, list[Assignment]]]:
    """A few records, deals and leads (some with the same id), with holders in either tenant's slot."""
    world = []
    for n in range(draw(st.integers(0, 8))):
        for kind in sorted(draw(st.sets(st.sampled_from(_KINDS), min_size=1))):
            home = draw(st.sampled_from(_TENANTS))
            shared = draw(st.frozensets(st.sampled_from([t for t in _TENANTS if t != home])))
            record = Record(kind, f"R-{n:02d}", home, _AT, shared_with=shared)
            pairs = draw(
                st.lists(st.tuples(st.sampled_from(_ROLES), st.sampled_from(_ASSIGNEES)), max_size=3, unique=True)
            )
            slots = [home, *shared]
            world.append((record, [Assignment(record.ref, r, a, draw(st.sampled_from(slots)), _AT) for r, a in pairs]))
    return world


def _filters() -> st.SearchStrategy[Filter]:
    leaves: st.SearchStrategy[Filter] = st.one_of(
        st.just(EVERYTHING),
        st.just(NOTHING),
        st.sampled_from(_TENANTS).map(HomeIs),
        st.sampled_from(_TENANTS).map(SharedWith),
        # A holder test of no role, or of no one, matches nothing; an OR of nothing is false, an AND of nothing true.
        st.builds(
            HasAssignee,
            roles=st.frozensets(st.sampled_from(_ROLES), min_size=0),
            assignees=st.frozensets(st.sampled_from(_ASSIGNEES), min_size=0),
            tenant=st.sampled_from(_TENANTS),
        ),
        st.just(Or(())),
        st.just(And(())),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda parts: And(tuple(parts))),
            st.lists(inner, min_size=2, max_size=3).map(lambda parts: Or(tuple(parts))),
            inner.map(Not),
        ),
        max_leaves=6,
    )


class RepositoryContract:
    """The tests every repository must pass; subclass it as ``Test...`` and define `make_repository`."""

    def make_repository(self) -> Repository:
        """Return a new, empty repository to test; a host's subclass defines this one hook."""
        raise NotImplementedError("define make_repository() to return a new, empty repository")

    # --- what is written is read back, in the promised order -----------------------

    def test_tenants_users_and_groups_read_back_by_id(self) -> None:
        repo = self.make_repository()
        with repo.transaction() as tx:
            for tenant in ("globex", "acme"):
                tx.put_tenant(Tenant(tenant, tenant.title()))
            tx.put_user(User("bob", "acme", "Bob"))
            tx.put_user(User("anna", "acme", "Anna", admin=True))
            tx.put_group(Group("north", "acme", "North", GroupKind.CARETAKER))
        with repo.transaction() as tx:
            assert [t.id for t in tx.tenants()] == ["acme", "globex"]
            assert [u.id for u in tx.users("acme")] == ["anna", "bob"]
            assert tx.user("anna") == User("anna", "acme", "Anna", admin=True)
            assert tx.user("nobody") is None
            assert [g.id for g in tx.groups("acme")] == ["north"]
            assert list(tx.users("globex")) == []

    def test_put_replaces_by_id_and_moves_between_tenants(self) -> None:
        repo = self.make_repository()
        with repo.transaction() as tx:
            tx.put_tenant(Tenant("acme", "Acme"))
            tx.put_tenant(Tenant("globex", "Globex"))
            tx.put_user(User("anna", "acme", "Anna"))
            tx.put_user(User("anna", "globex", "Anna", active=False))
        with repo.transaction() as tx:
            assert list(tx.users("acme")) == []
            assert list(tx.users("globex")) == [User("anna", "globex", "Anna", active=False)]

    def test_memberships_are_kept_per_group_and_per_user(self) -> None:
        repo = self.make_repository()
        until = _AT + timedelta(days=7)
        with repo.transaction() as tx:
            tx.put_membership(Membership("north", "bob"))
            tx.put_membership(Membership("north", "anna", until))
            tx.put_membership(Membership("south", "anna"))
            tx.delete_membership("nowhere", "nobody")
        with repo.transaction() as tx:
            assert [m.user for m in tx.memberships_of_group("north")] == ["anna", "bob"]
            assert list(tx.memberships_of_user("anna")) == [
                Membership("north", "anna", until),
                Membership("south", "anna"),
            ]
            tx.put_membership(Membership("north", "anna"))
            tx.delete_membership("south", "anna")
        with repo.transaction() as tx:
            assert list(tx.memberships_of_user("anna")) == [Membership("north", "anna")]
            assert list(tx.memberships_of_group("south")) == []

    def test_records_assignments_and_history_read_back_in_order(self) -> None:
        repo = self.make_repository()
        deal = Record("deal", "D-1", "acme", _AT)
        anna, bob = (
            Assignment(deal.ref, "owner", Assignee.user("anna"), "acme", _AT),
            Assignment(deal.ref, "owner", Assignee.user("bob"), "acme", _AT + timedelta(seconds=1)),
        )
        created = RecordCreated(deal.ref, "acme", "anna", _AT)
        assigned = Assigned(deal.ref, "owner", Assignee.user("anna"), "acme", "anna", _AT)
        with repo.transaction() as tx:
            tx.put_record(Record("company", "C-1", "acme", _AT))
            tx.put_record(deal)
            tx.add_assignment(anna)
            tx.add_assignment(bob)
            assert list(tx.append_events([created, assigned])) == [0, 1]
        with repo.transaction() as tx:
            assert [r.ref for r in tx.records("acme")] == [RecordRef("company", "C-1"), deal.ref]
            assert tx.record(deal.ref) == deal
            assert list(tx.assignments(deal.ref)) == [anna, bob]
            assert list(tx.events(deal.ref)) == [created, assigned]
            tx.remove_assignment(Assignment(deal.ref, "owner", Assignee.user("anna"), "acme", _AT + timedelta(days=1)))
            tx.put_record(Record("deal", "D-1", "acme", _AT, shared_with={"globex"}))
        with repo.transaction() as tx:
            assert list(tx.assignments(deal.ref)) == [bob]
            record = tx.record(deal.ref)
            assert record is not None
            assert record.shared_with == {"globex"}

    def test_holders_of_many_records_and_of_one_assignee_read_back(self) -> None:
        repo = self.make_repository()
        anna, bob = Assignee.user("anna"), Assignee.user("bob")
        deal_1, deal_2, lead_1 = RecordRef("deal", "D-1"), RecordRef("deal", "D-2"), RecordRef("lead", "D-1")
        later = _AT + timedelta(seconds=1)
        held = [
            Assignment(deal_2, "helper", anna, "acme", _AT),
            Assignment(deal_1, "owner", anna, "acme", _AT),
            Assignment(lead_1, "owner", anna, "globex", _AT),
            Assignment(deal_2, "owner", bob, "acme", _AT),
            Assignment(deal_2, "owner", anna, "acme", later),
        ]
        with repo.transaction() as tx:
            for ref in (deal_1, deal_2, lead_1):
                tx.put_record(Record(ref.kind, ref.id, "acme", _AT))
            for assignment in held:
                tx.add_assignment(assignment)
        with repo.transaction() as tx:
            found = tx.assignments_of([deal_1, deal_2, lead_1, RecordRef("deal", "D-9")])
            assert list(found[deal_1]) == [held[1]]
            assert list(found[deal_2]) == [held[0], held[3], held[4]], "each record's holders oldest first"
            assert list(found[lead_1]) == [held[2]], "a record of another kind with the same id is its own"
            assert list(found.get(RecordRef("deal", "D-9"), ())) == []
            assert list(tx.holdings(anna)) == [held[1], held[0], held[4], held[2]], "by record, then oldest first"
            assert list(tx.holdings(bob)) == [held[3]]
            tx.remove_assignment(held[1])
            tx.remove_assignment(held[3])
            assert list(tx.holdings(anna)) == [held[0], held[4], held[2]], "a unit reads its own removals"
            assert list(tx.holdings(bob)) == []
            assert list(tx.holdings(Assignee.group("north"))) == []

    def test_history_positions_count_on_across_units(self) -> None:
        repo = self.make_repository()
        deal, lead = RecordRef("deal", "D-1"), RecordRef("lead", "D-1")
        with repo.transaction() as tx:
            first = tx.append_events([RecordCreated(deal, "acme", "anna", _AT), RecordCreated(lead, "acme", None, _AT)])
            assert list(first) == [0, 0], "each record's history starts at 0"
            assert list(tx.append_events([RecordShared(deal, "globex", "anna", _AT)])) == [1]
        with repo.transaction() as tx:
            again = tx.append_events(
                [ShareAccepted(deal, "globex", "bob", _AT), RecordShared(lead, "globex", None, _AT)]
            )
            assert list(again) == [2, 1]
            assert [type(e) for e in tx.events(deal)] == [RecordCreated, RecordShared, ShareAccepted]

    # --- units of work ---------------------------------------------------------------

    def test_a_unit_that_fails_leaves_nothing_behind(self) -> None:
        repo = self.make_repository()
        deal = Record("deal", "D-1", "acme", _AT)
        with repo.transaction() as tx:
            tx.put_tenant(Tenant("acme", "Acme"))

        def failing_unit() -> None:
            with repo.transaction() as tx:
                tx.put_user(User("anna", "acme", "Anna"))
                tx.put_membership(Membership("north", "anna"))
                tx.put_record(deal)
                tx.add_assignment(Assignment(deal.ref, "owner", Assignee.user("anna"), "acme", _AT))
                tx.append_events([RecordCreated(deal.ref, "acme", "anna", _AT)])
                tx.enqueue(_notification("k1"))
                assert tx.user("anna") is not None, "a unit reads its own writes"
                raise _UnitFailedError

        with pytest.raises(_UnitFailedError):
            failing_unit()
        with repo.transaction() as tx:
            assert list(tx.users("acme")) == []
            assert list(tx.memberships_of_user("anna")) == []
            assert tx.record(deal.ref) is None
            assert list(tx.records("acme")) == []
            assert list(tx.assignments(deal.ref)) == []
            assert list(tx.events(deal.ref)) == []
            assert list(tx.outbox()) == []
            assert list(tx.select("deal", EVERYTHING, limit=10)) == []

    def test_a_versioned_repository_moves_its_generation_on_writes_and_rollbacks(self) -> None:
        repo = self.make_repository()
        if not isinstance(repo, Versioned):
            pytest.skip("the repository offers no generation, so it promises nothing of one")
        seen = {repo.generation}
        with repo.transaction() as tx:
            tx.put_tenant(Tenant("acme", "Acme"))
            assert repo.generation not in seen, "an uncommitted write moves it"
        seen.add(repo.generation)

        def failing_unit() -> None:
            with repo.transaction() as tx:
                tx.put_user(User("anna", "acme", "Anna"))
                raise _UnitFailedError

        with pytest.raises(_UnitFailedError):
            failing_unit()
        assert repo.generation not in seen, "a rollback moves it"

    # --- the outbox ----------------------------------------------------------------------

    def test_the_outbox_keeps_one_entry_per_key_and_settles_them(self) -> None:
        repo = self.make_repository()
        with repo.transaction() as tx:
            for key in ("k1", "k2", "k3", "k1"):
                tx.enqueue(_notification(key))
        with repo.transaction() as tx:
            assert [e.notification.key for e in tx.outbox(pending=True)] == ["k1", "k2", "k3"]
            assert [e.notification.key for e in tx.outbox(pending=True, limit=2)] == ["k1", "k2"]
            tx.settle(delivered=["k1"], failed=["k2"])
        with repo.transaction() as tx:
            pending = list(tx.outbox(pending=True))
            assert [(e.notification.key, e.attempts) for e in pending] == [("k2", 1), ("k3", 0)]
            assert [(e.notification.key, e.delivered) for e in tx.outbox()] == [
                ("k1", True),
                ("k2", False),
                ("k3", False),
            ]

    def test_the_outbox_keeps_its_order_through_a_settle_rolled_back_and_passes_over_unknown_keys(self) -> None:
        repo = self.make_repository()
        with repo.transaction() as tx:
            for key in ("k1", "k2", "k3"):
                tx.enqueue(_notification(key))

        def failing_unit() -> None:
            with repo.transaction() as tx:
                tx.settle(delivered=["k1"], failed=["k2"])
                raise _UnitFailedError

        with pytest.raises(_UnitFailedError):
            failing_unit()
        with repo.transaction() as tx:
            assert [(e.notification.key, e.attempts) for e in tx.outbox(pending=True)] == [
                ("k1", 0),
                ("k2", 0),
                ("k3", 0),
            ]
            tx.settle(delivered=["k1", "unknown"], failed=["k1", "missing"])
        with repo.transaction() as tx:
            assert [(e.notification.key, e.attempts, e.delivered) for e in tx.outbox(limit=1)] == [("k1", 1, True)]
            assert [e.notification.key for e in tx.outbox(pending=True, limit=5)] == ["k2", "k3"]

    # --- select agrees with the reference meaning of filters --------------------------

    # Every subclass runs this one test function: it is the point of a contract, so hypothesis is told so.
    @settings(
        max_examples=60,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.differing_executors,
        ],
    )
    @given(world=_worlds(), where=_filters(), limit=st.integers(1, 4))
    def test_select_returns_exactly_the_matching_records_by_id_a_page_at_a_time(
        self, world: list[tuple[Record, list[Assignment]]], where: Filter, limit: int
    ) -> None:
        repo = self.make_repository()
        with repo.transaction() as tx:
            for record, assignments in world:
                tx.put_record(record)
                for assignment in assignments:
                    tx.add_assignment(assignment)
        for kind in _KINDS:
            expected = sorted(r.id for r, held in world if r.kind == kind and matches(where, r, held))
            pages: list[str] = []
            after = None
            with repo.transaction() as tx:
                while True:
                    page = tx.select(kind, where, limit=limit, after=after)
                    assert len(page) <= limit
                    assert all(r.kind == kind for r in page)
                    pages += [r.id for r in page]
                    if len(page) < limit:
                        break
                    after = page[-1].id
                assert list(tx.select("company", EVERYTHING, limit=10)) == []
            assert pages == expected, kind
