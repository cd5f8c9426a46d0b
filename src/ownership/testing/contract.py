"""The repository contract: what every `Repository` must do, written once, run against any.

A host proves its own repository in a few lines of its test file:

    from ownership.testing.contract import RepositoryContract

    class TestMyRepository(RepositoryContract):
        def make_repository(self):
            return MyRepository(fresh_database())

Each test asks the hook for a new, empty repository and uses only the
`Repository` and `Transaction` protocols, so it cleans up after itself by
construction. `select` and the counts are held to `ownership.filters.matches`,
the reference meaning of every filter, over generated records and filters, and
each kind of filter node over a small fixed world whose answers are written out.
"""

from collections import Counter
from collections.abc import Callable, Collection
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ownership.errors import OwnershipError
from ownership.events import (
    AccessGranted,
    AccessRevoked,
    ActivityRecorded,
    Assigned,
    Event,
    RecordCreated,
    RecordShared,
    ShareAccepted,
    StatusChanged,
    Unassigned,
)
from ownership.filters import (
    EVERYTHING,
    NOTHING,
    And,
    Filter,
    HasAssignee,
    Held,
    HomeIs,
    IdIn,
    InGroup,
    Labelled,
    NameHas,
    Not,
    Or,
    SharedWith,
    StatusIn,
    matches,
)
from ownership.model import (
    EVERYONE,
    Assignee,
    Assignment,
    Follower,
    Grant,
    Group,
    GroupKind,
    Membership,
    Record,
    RecordRef,
    Tenant,
    User,
)
from ownership.notify import Channel, Notification, OutboxEntry
from ownership.ports import (
    AddsRecords,
    FindsHomes,
    GenerationOfUnit,
    Generations,
    KeepsFollowers,
    KeepsGrants,
    KnowsManagers,
    MovesHolders,
    ReadsApart,
    Repository,
    Versioned,
    WritesAlone,
)

_AT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
_TENANTS = ("acme", "globex")
_KINDS = ("deal", "lead")
_ROLES = ("owner", "helper")
_ANNA, _BOB, _NORTH = Assignee.user("anna"), Assignee.user("bob"), Assignee.group("north")
_ASSIGNEES = (_ANNA, _BOB, _NORTH, EVERYONE)
# Names only casefolding matches rightly ("ß" folds to "ss", "Ü" to "ü", neither to "ue"), and LIKE's wildcards.
_NAMES = (None, "Müller GmbH", "MÜLLER & Söhne", "Mueller", "Straße 5", "50%_off", "510 Süd")
_TEXTS = ("", "müller", "MÜLLER", "strasse", "STRASSE", "ue", "%", "_", "0%_", "5_0", "1%", "süd")
_STATUSES = ("open", "won")
_LABELS = ("north", "south")
_RECORD_GROUPS = ("G-1", "G-2")


class _UnitFailedError(Exception):
    """Raised inside a unit of work to see it rolled back."""


def _notification(key: str) -> Notification:
    return Notification(key, "anna", RecordRef("deal", "D-1"), "note_added", None, _AT, Channel.IN_APP)


@st.composite
def _worlds(draw: st.DrawFn) -> list[tuple[Record, list[Assignment]]]:
    """A few records, deals and leads (some with the same id), with holders in either tenant's slot.

    Their names are such as only casefolding matches rightly, or carry LIKE's wildcards; some have none.
    """
    world = []
    for n in range(draw(st.integers(0, 8))):
        for kind in sorted(draw(st.sets(st.sampled_from(_KINDS), min_size=1))):
            home = draw(st.sampled_from(_TENANTS))
            shared = draw(st.frozensets(st.sampled_from([t for t in _TENANTS if t != home])))
            record = Record(
                kind,
                f"R-{n:02d}",
                home,
                _AT,
                shared_with=shared,
                name=draw(st.sampled_from(_NAMES)),
                status=draw(st.sampled_from((None, *_STATUSES))),
                labels=draw(st.frozensets(st.sampled_from(_LABELS))),
                groups=draw(st.frozensets(st.sampled_from(_RECORD_GROUPS))),
            )
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
        st.builds(Held, roles=st.frozensets(st.sampled_from(_ROLES)), tenant=st.sampled_from(_TENANTS)),
        st.frozensets(st.sampled_from(_STATUSES)).map(StatusIn),
        st.sampled_from(_TEXTS).map(NameHas),
        st.sampled_from((*_LABELS, "east")).map(Labelled),
        st.sampled_from((*_RECORD_GROUPS, "G-9")).map(InGroup),
        st.frozensets(st.sampled_from((*_DEALS, "D-9"))).map(IdIn),
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


def _fixed_world() -> list[tuple[Record, list[Assignment]]]:
    """Six deals, one of them at home in globex, and a lead with a deal's id, whose answers the tests write out."""

    def held(record: Record, *holdings: tuple[str, Assignee, str]) -> tuple[Record, list[Assignment]]:
        return record, [Assignment(record.ref, role, who, slot, _AT) for role, who, slot in holdings]

    return [
        held(
            Record(
                "deal", "D-1", "acme", _AT, name="Müller GmbH", status="open", labels={"north", "web"}, groups={"G-1"}
            ),
            ("owner", _ANNA, "acme"),
        ),
        held(
            Record(
                "deal", "D-2", "acme", _AT, name="MÜLLER & Söhne", status="won", labels={"south"}, groups={"G-1", "G-2"}
            ),
            ("helper", _NORTH, "acme"),
            ("helper", _ANNA, "acme"),
        ),
        held(
            Record("deal", "D-3", "acme", _AT, shared_with={"globex"}, name="100% Rabatt_aktion"),
            ("owner", _BOB, "globex"),
        ),
        held(
            Record("deal", "D-4", "acme", _AT, status="open", labels={"north"}),
            ("owner", _ANNA, "acme"),
            ("helper", _ANNA, "acme"),
        ),
        held(Record("deal", "D-5", "acme", _AT, name="Straße 5", status="lost", groups={"G-2"})),
        held(Record("deal", "D-6", "globex", _AT, name="Mueller"), ("owner", _BOB, "globex")),
        held(
            Record("lead", "D-1", "acme", _AT, name="Müller", status="open", labels={"north"}, groups={"G-1"}),
            ("owner", _ANNA, "acme"),
        ),
    ]


_DEALS = ("D-1", "D-2", "D-3", "D-4", "D-5", "D-6")

# Each node that tests a record's own facts, alone and in ORs and ANDs, with the deals of the fixed world it
# selects; the test checks its negation too.
_NODES_AND_DEALS: list[tuple[Filter, tuple[str, ...]]] = [
    (NameHas("müller"), ("D-1", "D-2")),
    (NameHas("MÜLLER"), ("D-1", "D-2")),
    (NameHas("ue"), ("D-6",)),  # casefolding keeps "ü" apart from "ue"
    (NameHas("STRASSE"), ("D-5",)),  # "ß" casefolds to "ss"
    (NameHas("%"), ("D-3",)),
    (NameHas("_"), ("D-3",)),
    (NameHas("0% r"), ("D-3",)),
    (NameHas("0_"), ()),  # as a LIKE pattern, "0_" would match "100% ..."
    (NameHas(""), _DEALS),  # a record without a name too: its name is ""
    (StatusIn({"open"}), ("D-1", "D-4")),
    (StatusIn({"open", "won"}), ("D-1", "D-2", "D-4")),
    (StatusIn(()), ()),
    (Labelled("north"), ("D-1", "D-4")),
    (Labelled("web"), ("D-1",)),
    (Labelled("east"), ()),
    (InGroup("G-1"), ("D-1", "D-2")),
    (InGroup("G-2"), ("D-2", "D-5")),
    (IdIn({"D-2", "D-5", "D-9"}), ("D-2", "D-5")),  # an id of no record matches nothing
    (IdIn(()), ()),
    (Held({"owner"}, "acme"), ("D-1", "D-4")),
    (Held({"owner"}, "globex"), ("D-3", "D-6")),
    (Held({"helper"}, "acme"), ("D-2", "D-4")),
    (Held({"owner", "helper"}, "acme"), ("D-1", "D-2", "D-4")),
    (Held((), "acme"), ()),
    (Or((Labelled("north"), Labelled("south"))), ("D-1", "D-2", "D-4")),
    (Or((InGroup("G-1"), StatusIn({"lost"}), NameHas("%"))), ("D-1", "D-2", "D-3", "D-5")),
    (Or((Held({"owner"}, "globex"), HasAssignee({"owner"}, {_ANNA}, "acme"))), ("D-1", "D-3", "D-4", "D-6")),
    (And((HomeIs("acme"), Not(Held({"owner"}, "acme")))), ("D-2", "D-3", "D-5")),
    (And((Labelled("north"), InGroup("G-1"), StatusIn({"open"}))), ("D-1",)),
    (Or((IdIn({"D-3"}), Labelled("web"), IdIn({"D-6"}))), ("D-1", "D-3", "D-6")),
]


def _holders_counted(
    world: list[tuple[Record, list[Assignment]]], kind: str, where: Filter, roles: Collection[str], tenant: str
) -> Counter[Assignee]:
    """How many of the matching records of `kind` each assignee holds one of `roles` of in `tenant`'s slot, by hand."""
    counted: Counter[Assignee] = Counter()
    for record, held in world:
        if record.kind == kind and matches(where, record, held):
            counted.update({a.assignee for a in held if a.role in roles and a.tenant == tenant})
    return counted


# Every subclass runs the property tests: they are the point of a contract, so hypothesis is told so.
_PROPERTY = settings(
    max_examples=60,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.differing_executors,
    ],
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

    def test_a_repository_with_generations_moves_it_when_the_directory_changes_and_looks_at_one_moment(self) -> None:
        repo = self.make_repository()
        if not isinstance(repo, Generations):
            pytest.skip("the repository keeps no generation of the directory, so it promises nothing of one")
        deal = Record("deal", "D-1", "acme", _AT)
        held = Assignment(deal.ref, "owner", _ANNA, "acme", _AT, "anna")
        before = repo.generation_now()
        with repo.transaction() as tx:
            tx.put_tenant(Tenant("acme", "Acme"))
            tx.put_user(User("anna", "acme", "Anna"))
            if isinstance(tx, GenerationOfUnit):
                assert tx.generation() is None, "a unit that wrote the directory tells no generation to keep"
        moved = repo.generation_now()
        assert moved != before, "committing a change of the directory moves it"
        with repo.transaction() as tx:
            tx.put_record(deal)
            tx.add_assignment(held)
            if isinstance(tx, GenerationOfUnit):
                assert tx.generation() == moved, "a unit reads at the generation as committed"
        assert repo.generation_now() == moved, "records are not the directory"

        def failing_unit() -> None:
            with repo.transaction() as tx:
                tx.put_membership(Membership("north", "anna"))
                raise _UnitFailedError

        with pytest.raises(_UnitFailedError):
            failing_unit()
        assert repo.generation_now() == moved, "a change rolled back is no change"
        looked = repo.look(deal.ref)
        assert (looked.generation, looked.record, list(looked.assignments)) == (moved, deal, [held])
        nothing = repo.look(RecordRef("deal", "D-9"))
        assert (nothing.generation, nothing.record, list(nothing.assignments)) == (moved, None, [])

    def test_a_holding_moved_in_place_reads_back_as_removed_and_added(self) -> None:
        repo = self.make_repository()
        deal = Record("deal", "D-1", "acme", _AT)
        anna = Assignment(deal.ref, "owner", _ANNA, "acme", _AT, "anna")
        bob = Assignment(deal.ref, "owner", _BOB, "acme", _AT + timedelta(hours=1), None)
        helper = Assignment(deal.ref, "helper", _NORTH, "acme", _AT, "anna")
        with repo.transaction() as tx:
            if not isinstance(tx, MovesHolders):
                pytest.skip("the repository's units do not move holdings in place, so they promise nothing of it")
            tx.put_tenant(Tenant("acme", "Acme"))
            tx.put_record(deal)
            tx.add_assignment(anna)
            tx.add_assignment(helper)
        with repo.transaction() as tx:
            assert isinstance(tx, MovesHolders)
            tx.move_assignment(anna, bob)
            assert list(tx.assignments(deal.ref)) == [helper, bob], "a unit reads its own move, newest last"
        with repo.transaction() as tx:
            assert list(tx.assignments(deal.ref)) == [helper, bob]
            assert list(tx.holdings(_ANNA)) == []
            assert list(tx.holdings(_BOB)) == [bob]

    def test_users_keep_whom_they_report_to_and_their_traits(self) -> None:
        repo = self.make_repository()
        vera = User("vera", "acme", "Vera", traits={"chief", "auditor"})
        max_ = User("max", "acme", "Max", manager="vera")
        with repo.transaction() as tx:
            tx.put_tenant(Tenant("acme", "Acme"))
            tx.put_tenant(Tenant("globex", "Globex"))
            for user in (vera, max_, User("gus", "globex", "Gus", manager="gina"), User("gina", "globex", "Gina")):
                tx.put_user(user)
        with repo.transaction() as tx:
            assert (tx.user("vera"), tx.user("max")) == (vera, max_)
            tx.put_user(attrs.evolve(max_, manager=None, traits={"trainee"}))
        with repo.transaction() as tx:
            assert (tx.user("max").manager, tx.user("max").traits) == (None, {"trainee"})  # type: ignore[union-attr]
            tx.put_user(max_)
            if isinstance(tx, KnowsManagers):
                assert tx.managers("acme") == {"max": "vera"}, "a unit reads its own writes; one tenant's"
                assert tx.managers("globex") == {"gus": "gina"}

    def test_records_added_in_bulk_read_back_as_put_and_their_histories_begin_at_0(self) -> None:
        repo = self.make_repository()
        deal = Record("deal", "D-1", "acme", _AT, shared_with={"globex"}, name="Fleet", labels={"north", "vip"})
        lead = Record("lead", "L-1", "acme", _AT)
        with repo.transaction() as tx:
            if not isinstance(tx, AddsRecords):
                pytest.skip("the repository's units do not add records in bulk, so they promise nothing of it")
            tx.put_tenant(Tenant("acme", "Acme"))
            tx.put_tenant(Tenant("globex", "Globex"))
            tx.add_records([deal, lead])
            assert tx.record(deal.ref) == deal, "a unit reads its own records"
            assert list(tx.append_events([RecordCreated(deal.ref, "acme", None, _AT)])) == [0]
        with repo.transaction() as tx:
            assert (tx.record(deal.ref), tx.record(lead.ref)) == (deal, lead)
            assert [r.id for r in tx.select("deal", SharedWith("globex"), limit=10)] == ["D-1"]
            assert [r.id for r in tx.select("deal", Labelled("vip"), limit=10)] == ["D-1"]
            assert list(tx.append_events([RecordCreated(lead.ref, "acme", None, _AT)])) == [0]
        with repo.transaction() as tx:
            if isinstance(tx, FindsHomes):
                assert tx.homes("deal", ["D-1", "L-1", "D-9"]) == {"D-1": "acme"}, "only those tracked, of the kind"
                assert tx.homes("lead", ["L-1"]) == {"L-1": "acme"}
                assert tx.homes("deal", []) == {}
        again = [Record("deal", "D-2", "acme", _AT), attrs.evolve(deal, name="Again")]
        with pytest.raises(OwnershipError), repo.transaction() as tx:
            tx.add_records(again)  # type: ignore[attr-defined]  # offered, as checked above
        with repo.transaction() as tx:
            assert tx.record(RecordRef("deal", "D-2")) is None, "a unit adding a tracked record keeps nothing"
            assert tx.record(deal.ref) == deal

    def test_units_that_read_apart_or_write_alone_read_and_write_as_any_unit_does(self) -> None:
        repo = self.make_repository()
        if isinstance(repo, WritesAlone):
            with repo.writing_alone() as tx:
                tx.put_tenant(Tenant("acme", "Acme"))
                tx.put_user(User("anna", "acme", "Anna"))
        else:
            with repo.transaction() as tx:
                tx.put_tenant(Tenant("acme", "Acme"))
                tx.put_user(User("anna", "acme", "Anna"))
        if isinstance(repo, ReadsApart):
            with repo.reading() as tx:
                assert tx.user("anna") == User("anna", "acme", "Anna")
                assert [t.id for t in tx.tenants()] == ["acme"]

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

    def test_an_outbox_entry_is_put_as_it_is_new_ones_last_known_ones_in_their_place(self) -> None:
        repo = self.make_repository()
        lead = RecordRef("lead", "L-1")
        with repo.transaction() as tx:
            tx.put_tenant(Tenant("acme", "Acme"))
            tx.put_record(Record(lead.kind, lead.id, "acme", _AT))
            tx.enqueue(_notification("k1"))
            tx.put_outbox_entry(OutboxEntry(_notification("k2"), attempts=40_000))
            tx.put_outbox_entry(OutboxEntry(_notification("k3"), attempts=2, delivered=True))
            tx.enqueue(_notification("k4"))
        with repo.transaction() as tx:
            tx.put_outbox_entry(OutboxEntry(attrs.evolve(_notification("k1"), record=lead), attempts=3))
            tx.put_outbox_entry(OutboxEntry(_notification("k2"), attempts=1, delivered=True))
        with repo.transaction() as tx:
            assert [(e.notification.key, e.attempts, e.delivered) for e in tx.outbox()] == [
                ("k1", 3, False),
                ("k2", 1, True),
                ("k3", 2, True),
                ("k4", 0, False),
            ]
            assert [e.notification.key for e in tx.outbox(pending=True)] == ["k1", "k4"]
            assert tx.outbox()[0].notification.record == lead
            tx.delete_record(lead)
        with repo.transaction() as tx:
            assert [e.notification.key for e in tx.outbox()] == ["k2", "k3", "k4"], "k1 is now of the lead"

    def test_a_claim_takes_due_entries_oldest_first_for_its_lease_and_no_other_claim_takes_them(self) -> None:
        repo = self.make_repository()
        later = _AT + timedelta(minutes=5)
        with repo.transaction() as tx:
            for key in ("k1", "k2", "k3", "k4", "k5"):
                tx.enqueue(_notification(key))
            tx.put_outbox_entry(OutboxEntry(_notification("k2"), attempts=1, next_attempt_at=later))
            tx.put_outbox_entry(OutboxEntry(_notification("k3"), attempts=9, dead=True))
            tx.put_outbox_entry(OutboxEntry(_notification("k4"), delivered=True))
        until = _AT + timedelta(minutes=1)
        with repo.transaction() as tx:
            claimed = tx.claim(limit=5, now=_AT, until=until, token="first")
            assert [(e.notification.key, e.attempts) for e in claimed] == [("k1", 0), ("k5", 0)]
        with repo.transaction() as tx:
            assert list(tx.claim(limit=5, now=_AT, until=until, token="second")) == [], "the leases are live"
            assert [e.notification.key for e in tx.claim(limit=5, now=later, until=later, token="third")] == [
                "k1",
                "k2",
                "k5",
            ], "the first leases ended and k2's backoff passed; dead and delivered entries are never claimed"

    def test_settling_under_a_token_touches_only_what_that_token_holds_and_is_idempotent(self) -> None:
        repo = self.make_repository()
        later = _AT + timedelta(seconds=30)
        with repo.transaction() as tx:
            for key in ("k1", "k2", "k3", "k4"):
                tx.enqueue(_notification(key))
        with repo.transaction() as tx:
            tx.claim(limit=3, now=_AT, until=_AT + timedelta(minutes=1), token="mine")
        for _ in range(2):
            with repo.transaction() as tx:
                tx.settle(["k1", "k4"], ["k2", "k3"], token="mine", retry_at={"k2": later}, dead=["k3"])
        with repo.transaction() as tx:
            assert [(e.notification.key, e.attempts, e.delivered, e.dead, e.next_attempt_at) for e in tx.outbox()] == [
                ("k1", 0, True, False, None),
                ("k2", 1, False, False, later),
                ("k3", 1, False, True, None),
                ("k4", 0, False, False, None),
            ], "settled once, whatever the repeats; k4 was not claimed with the token"
            assert [e.notification.key for e in tx.outbox(pending=True)] == ["k2", "k4"]
            assert [e.notification.key for e in tx.outbox(dead=True)] == ["k3"]
            assert [e.notification.key for e in tx.claim(limit=5, now=later, until=later, token="next")] == [
                "k2",
                "k4",
            ], "a settled claim is over"

    def test_putting_an_outbox_entry_ends_its_claim(self) -> None:
        repo = self.make_repository()
        with repo.transaction() as tx:
            tx.enqueue(_notification("k1"))
            tx.claim(limit=1, now=_AT, until=_AT + timedelta(hours=1), token="gone")
            tx.put_outbox_entry(OutboxEntry(_notification("k1"), attempts=2))
        with repo.transaction() as tx:
            assert [e.notification.key for e in tx.claim(limit=1, now=_AT, until=_AT, token="next")] == ["k1"]
            tx.settle(["k1"], [], token="gone")
            assert tx.outbox(pending=True)[0].attempts == 2, "the old token holds nothing any more"

    # --- select agrees with the reference meaning of filters --------------------------

    @_PROPERTY
    @given(world=_worlds(), where=_filters(), limit=st.integers(1, 4))
    def test_select_returns_exactly_the_matching_records_by_id_a_page_at_a_time(
        self, world: list[tuple[Record, list[Assignment]]], where: Filter, limit: int
    ) -> None:
        repo = self._holding(world)
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
            if isinstance(repo, Generations):
                assert self._looked_ids(repo, kind, where, limit) == expected, kind

    @staticmethod
    def _looked_ids(repo: Generations, kind: str, where: Filter, limit: int) -> list[str]:
        """Every id `Generations.look_ids` lists, a page at a time, each at the generation committed."""
        ids: list[str] = []
        after = None
        while True:
            generation, page = repo.look_ids(kind, where, limit=limit, after=after)
            assert generation == repo.generation_now(), "the ids are read beside the generation"
            assert len(page) <= limit
            ids += page
            if len(page) < limit:
                return ids
            after = page[-1]

    @_PROPERTY
    @given(
        world=_worlds(),
        where=_filters(),
        roles=st.frozensets(st.sampled_from(_ROLES)),
        tenant=st.sampled_from(_TENANTS),
    )
    def test_counts_agree_with_the_matching_records_counted_one_by_one(
        self, world: list[tuple[Record, list[Assignment]]], where: Filter, roles: frozenset[str], tenant: str
    ) -> None:
        repo = self._holding(world)
        for kind in _KINDS:
            matching = [record for record, held in world if record.kind == kind and matches(where, record, held)]
            with repo.transaction() as tx:
                assert tx.count(kind, where) == len(matching), kind
                assert dict(tx.count_by_status(kind, where)) == Counter(r.status for r in matching), kind
                by_holder = tx.count_by_holder(kind, where, roles, tenant)
                assert dict(by_holder) == _holders_counted(world, kind, where, roles, tenant), kind

    def _holding(self, world: list[tuple[Record, list[Assignment]]]) -> Repository:
        """A new repository holding `world`'s records and their holders."""
        repo = self.make_repository()
        with repo.transaction() as tx:
            for record, assignments in world:
                tx.put_record(record)
                for assignment in assignments:
                    tx.add_assignment(assignment)
        return repo

    # --- what a record carries: name, status, number, labels, record groups ------------

    def test_a_records_name_status_number_labels_and_groups_read_back_and_are_replaced_whole(self) -> None:
        repo = self.make_repository()
        deal = Record(
            "deal",
            "D-1",
            "acme",
            _AT,
            shared_with={"globex"},
            name="Müller GmbH",
            status="open",
            number="2026-0001",
            labels={"north", "web"},
            groups={"G-1", "G-2"},
        )
        bare = Record("deal", "D-2", "acme", _AT)
        plain = attrs.evolve(deal, shared_with=(), name=None, status=None, number=None, labels={"south"}, groups=())
        with repo.transaction() as tx:
            tx.put_record(deal)
            tx.put_record(bare)
        with repo.transaction() as tx:
            assert tx.record(deal.ref) == deal
            assert list(tx.records("acme")) == [deal, bare]
            assert list(tx.select("deal", EVERYTHING, limit=10)) == [deal, bare]
            assert tx.numbered("acme", "deal", "2026-0001") == deal
            tx.put_record(plain)
            assert tx.record(deal.ref) == plain, "a unit reads its own replacement"
            assert [r.id for r in tx.select("deal", Labelled("north"), limit=10)] == [], "the old labels are gone"
        with repo.transaction() as tx:
            assert tx.record(deal.ref) == plain
            assert list(tx.select("deal", Labelled("south"), limit=10)) == [plain]
            for gone in (Labelled("north"), Labelled("web"), InGroup("G-1"), SharedWith("globex"), StatusIn({"open"})):
                assert list(tx.select("deal", gone, limit=10)) == [], gone
                assert tx.count("deal", gone) == 0, gone
            assert list(tx.select("deal", NameHas("müller"), limit=10)) == []
            assert tx.numbered("acme", "deal", "2026-0001") is None

    def test_numbered_finds_a_record_by_tenant_kind_and_number_and_a_renumbered_one_by_its_new_number_only(
        self,
    ) -> None:
        repo = self.make_repository()
        deal = Record("deal", "D-1", "acme", _AT, number="1001")
        lead = Record("lead", "L-1", "acme", _AT, number="1001")
        foreign = Record("deal", "D-2", "globex", _AT, number="1001")
        with repo.transaction() as tx:
            for record in (deal, lead, foreign, Record("deal", "D-3", "acme", _AT), Record("deal", "D-4", "acme", _AT)):
                tx.put_record(record)
        with repo.transaction() as tx:
            assert tx.numbered("acme", "deal", "1001") == deal
            assert tx.numbered("acme", "lead", "1001") == lead, "not across kinds"
            assert tx.numbered("globex", "deal", "1001") == foreign, "not across tenants"
            assert tx.numbered("globex", "lead", "1001") is None
            assert tx.numbered("acme", "deal", "1002") is None
            assert tx.numbered("acme", "deal", "") is None
            tx.put_record(attrs.evolve(deal, number="1002"))
            assert tx.numbered("acme", "deal", "1001") is None, "a unit reads its own renumbering"
            # The number set free can be given again, in the same unit.
            tx.put_record(Record("deal", "D-3", "acme", _AT, number="1001"))
        with repo.transaction() as tx:
            assert tx.numbered("acme", "deal", "1002") == attrs.evolve(deal, number="1002")
            assert tx.numbered("acme", "deal", "1001") == Record("deal", "D-3", "acme", _AT, number="1001")
            tx.delete_record(deal.ref)
            tx.put_record(Record("deal", "D-4", "acme", _AT, number="1002"))
        with repo.transaction() as tx:
            assert tx.numbered("acme", "deal", "1002") == Record("deal", "D-4", "acme", _AT, number="1002")

    # --- deleting a record ----------------------------------------------------------------

    def test_delete_record_takes_its_holders_history_and_matches_with_it_and_leaves_every_other_record(self) -> None:
        world = _fixed_world()
        repo = self._holding(world)
        d1, lead = RecordRef("deal", "D-1"), RecordRef("lead", "D-1")
        with repo.transaction() as tx:
            tx.append_events([RecordCreated(d1, "acme", "anna", _AT), RecordCreated(lead, "acme", "anna", _AT)])
            tx.enqueue(_notification("k1"))
            tx.enqueue(attrs.evolve(_notification("k2"), record=lead))
            tx.put_record(attrs.evolve(world[0][0], shared_with={"globex"}, number="7"))
        with repo.transaction() as tx:
            tx.delete_record(d1)
            tx.delete_record(RecordRef("deal", "D-9"))  # none such: nothing happens
            assert tx.record(d1) is None, "a unit reads its own delete"
        with repo.transaction() as tx:
            assert tx.record(d1) is None
            assert [r.ref for r in tx.records("acme")] == [
                *(RecordRef("deal", id) for id in ("D-2", "D-3", "D-4", "D-5")),
                lead,
            ]
            assert list(tx.assignments(d1)) == []
            assert list(tx.assignments_of([d1]).get(d1, ())) == []
            assert list(tx.events(d1)) == []
            assert tx.numbered("acme", "deal", "7") is None
            assert [a.record for a in tx.holdings(_ANNA)] == [
                RecordRef("deal", "D-2"),
                RecordRef("deal", "D-4"),
                RecordRef("deal", "D-4"),
                lead,
            ]
            for where in (EVERYTHING, Labelled("north"), InGroup("G-1"), SharedWith("globex"), NameHas("müller")):
                assert "D-1" not in [r.id for r in tx.select("deal", where, limit=10)], where
            assert tx.count("deal", EVERYTHING) == 5
            assert dict(tx.count_by_status("deal", StatusIn({"open"}))) == {"open": 1}
            assert dict(tx.count_by_holder("deal", EVERYTHING, {"owner"}, "acme")) == {_ANNA: 1}
            # The record of another kind with the same id keeps everything; the deleted one's notifications go.
            assert tx.record(lead) == world[6][0]
            assert list(tx.assignments(lead)) == world[6][1]
            assert list(tx.events(lead)) == [RecordCreated(lead, "acme", "anna", _AT)]
            assert [e.notification.key for e in tx.outbox()] == ["k2"]
            assert [e.notification.key for e in tx.outbox(pending=True)] == ["k2"]

    def test_a_record_deleted_and_made_again_begins_a_new_history_at_position_zero(self) -> None:
        repo = self.make_repository()
        deal = Record("deal", "D-1", "acme", _AT)
        created = RecordCreated(deal.ref, "acme", "anna", _AT)
        with repo.transaction() as tx:
            tx.put_record(deal)
            assert list(tx.append_events([created, created])) == [0, 1]
            tx.delete_record(deal.ref)
            tx.put_record(deal)
            assert list(tx.append_events([created])) == [0], "in the unit that deleted it"
        with repo.transaction() as tx:
            assert list(tx.events(deal.ref)) == [created]
            tx.delete_record(deal.ref)
        with repo.transaction() as tx:
            tx.put_record(deal)
            assert list(tx.append_events([created])) == [0], "in a unit after"

    # --- the filter nodes of a record's own facts, over a fixed world -------------------

    def test_each_node_and_its_negation_select_and_count_exactly_the_records_written_out(self) -> None:
        world = _fixed_world()
        repo = self._holding(world)
        with repo.transaction() as tx:
            for where, deals in _NODES_AND_DEALS:
                for node, expected in ((where, deals), (Not(where), tuple(d for d in _DEALS if d not in deals))):
                    by_hand = tuple(r.id for r, held in world if r.kind == "deal" and matches(node, r, held))
                    assert by_hand == expected, f"the fixed world's answer for {node} is written out wrong"
                    assert [r.id for r in tx.select("deal", node, limit=10)] == list(expected), node
                    assert tx.count("deal", node) == len(expected), node
            assert [r.ref for r in tx.select("lead", NameHas("MÜLLER"), limit=10)] == [RecordRef("lead", "D-1")]

    def test_counts_by_status_and_by_holder_count_each_record_once_in_the_slot_asked_for(self) -> None:
        repo = self._holding(_fixed_world())
        with repo.transaction() as tx:
            assert tx.count("deal", EVERYTHING) == 6
            assert tx.count("company", EVERYTHING) == 0
            assert dict(tx.count_by_status("deal", EVERYTHING)) == {"open": 2, "won": 1, "lost": 1, None: 2}
            assert dict(tx.count_by_status("deal", HomeIs("acme"))) == {"open": 2, "won": 1, "lost": 1, None: 1}
            assert dict(tx.count_by_status("company", EVERYTHING)) == {}
            # Anna holds both roles of D-4: it counts once for her.
            both = {"owner", "helper"}
            assert dict(tx.count_by_holder("deal", EVERYTHING, both, "acme")) == {_ANNA: 3, _NORTH: 1}
            assert dict(tx.count_by_holder("deal", EVERYTHING, {"owner"}, "acme")) == {_ANNA: 2}
            assert dict(tx.count_by_holder("deal", EVERYTHING, {"owner"}, "globex")) == {_BOB: 2}
            assert dict(tx.count_by_holder("deal", StatusIn({"open"}), both, "acme")) == {_ANNA: 2}
            assert dict(tx.count_by_holder("deal", Not(Held({"owner"}, "acme")), both, "acme")) == {
                _ANNA: 1,
                _NORTH: 1,
            }
            assert dict(tx.count_by_holder("deal", EVERYTHING, (), "acme")) == {}
            assert dict(tx.count_by_holder("lead", EVERYTHING, {"owner"}, "acme")) == {_ANNA: 1}

    # --- history -----------------------------------------------------------------------

    def test_every_kind_of_event_reads_back_as_it_was_appended(self) -> None:
        repo = self.make_repository()
        deal = RecordRef("deal", "D-1")
        history: list[Event] = [
            RecordCreated(deal, "acme", "anna", _AT),
            Assigned(deal, "owner", _ANNA, "acme", None, _AT),
            Unassigned(deal, "owner", _ANNA, "acme", "bob", _AT + timedelta(seconds=1)),
            RecordShared(deal, "globex", "anna", _AT, private_to="acme"),
            ShareAccepted(deal, "globex", "carl", _AT),
            ActivityRecorded(deal, "note_added", "acme", "anna", _AT),
            StatusChanged(deal, None, "open", "acme", None, _AT),
            StatusChanged(deal, "open", "won", "acme", "anna", _AT + timedelta(days=1), private_to="acme"),
            AccessGranted(deal, _BOB, "edit", _AT + timedelta(days=2), "acme", "anna", _AT, private_to="acme"),
            AccessRevoked(deal, _NORTH, "acme", None, _AT, private_to="acme"),
        ]
        with repo.transaction() as tx:
            assert list(tx.append_events(history)) == list(range(len(history)))
        with repo.transaction() as tx:
            assert list(tx.events(deal)) == history

    # --- grants and followers ------------------------------------------------------------

    def test_grants_read_back_by_record_by_assignee_and_by_tenant_and_go_with_their_record(self) -> None:
        repo = self.make_repository()
        deal, lead = Record("deal", "D-1", "acme", _AT, shared_with={"globex"}), Record("lead", "D-1", "acme", _AT)
        to_bob = Grant(deal.ref, _BOB, "view", "acme", _AT, _AT + timedelta(days=1), "anna")
        to_north = Grant(deal.ref, _NORTH, "edit", "acme", _AT)
        to_gus = Grant(deal.ref, Assignee.user("gus"), "view", "globex", _AT)
        on_lead = Grant(lead.ref, _BOB, "edit", "acme", _AT)
        with repo.transaction() as tx:
            if not isinstance(tx, KeepsGrants):
                pytest.skip("the repository's units keep no grants, so they promise nothing of them")
            tx.put_tenant(Tenant("acme", "Acme"))
            for record in (deal, lead):
                tx.put_record(record)
            for grant in (to_north, to_bob, to_gus, on_lead):
                tx.put_grant(grant)
            # By assignee: groups before users, each by id.
            assert list(tx.grants(deal.ref)) == [to_north, to_bob, to_gus], "a unit reads its own writes"
        with repo.transaction() as tx:
            assert isinstance(tx, KeepsGrants)
            assert list(tx.grants_to("deal", [_BOB, _NORTH, _ANNA])) == [to_north, to_bob], "one kind's, by record"
            assert list(tx.grants_to("lead", [_BOB])) == [on_lead]
            assert list(tx.grants_to("deal", [])) == []
            assert list(tx.grants_in("globex")) == [to_gus]
            assert list(tx.grants_in("acme")) == [to_north, to_bob, on_lead], "by record, then assignee"
            changed = attrs.evolve(to_bob, level="edit", until=None)
            tx.put_grant(changed)
            tx.delete_grant(deal.ref, _NORTH)
            tx.delete_grant(deal.ref, _ANNA)  # none: nothing happens
        with repo.transaction() as tx:
            assert isinstance(tx, KeepsGrants)
            assert list(tx.grants(deal.ref)) == [changed, to_gus], "put again, a grant is replaced"
            tx.delete_record(deal.ref)
        with repo.transaction() as tx:
            assert isinstance(tx, KeepsGrants)
            assert (list(tx.grants(deal.ref)), list(tx.grants_in("acme"))) == ([], [on_lead])

        def failing_unit() -> None:
            with repo.transaction() as tx:
                assert isinstance(tx, KeepsGrants)
                tx.put_grant(to_north)
                tx.delete_grant(lead.ref, _BOB)
                raise _UnitFailedError

        with pytest.raises(_UnitFailedError):
            failing_unit()
        with repo.transaction() as tx:
            assert isinstance(tx, KeepsGrants)
            assert list(tx.grants_in("acme")) == [on_lead], "a unit that fails takes back its grants"

    def test_writing_a_grant_or_deleting_a_granted_record_moves_the_generation(self) -> None:
        repo = self.make_repository()
        if not isinstance(repo, Generations):
            pytest.skip("the repository keeps no generation of the directory, so it promises nothing of one")
        deal, lead = Record("deal", "D-1", "acme", _AT), Record("deal", "D-2", "acme", _AT)
        with repo.transaction() as tx:
            if not isinstance(tx, KeepsGrants):
                pytest.skip("the repository's units keep no grants, so they promise nothing of them")
            tx.put_tenant(Tenant("acme", "Acme"))
            tx.put_record(deal)
            tx.put_record(lead)
        seen = {repo.generation_now()}

        def moved() -> bool:
            now = repo.generation_now()
            fresh = now not in seen
            seen.add(now)
            return fresh

        writes: list[Callable[[Any], object]] = [  # each on a unit that keeps grants
            lambda tx: tx.put_grant(Grant(deal.ref, _BOB, "view", "acme", _AT)),
            lambda tx: tx.put_grant(Grant(lead.ref, _NORTH, "edit", "acme", _AT)),
            lambda tx: tx.delete_grant(deal.ref, _BOB),
            lambda tx: tx.delete_record(lead.ref),  # its grant goes with it
        ]
        for write in writes:
            with repo.transaction() as tx:
                assert isinstance(tx, KeepsGrants)
                write(tx)
                if isinstance(tx, GenerationOfUnit):
                    assert tx.generation() is None, "a unit that wrote a grant tells no generation to keep"
            assert moved(), "a viewer's grants are resolved with them: a change of grants moves the generation"

    def test_followers_read_back_by_record_and_by_tenant_and_go_with_their_record(self) -> None:
        repo = self.make_repository()
        deal, lead = Record("deal", "D-1", "acme", _AT, shared_with={"globex"}), Record("lead", "L-1", "acme", _AT)
        bob, anna = Follower(deal.ref, "bob", "acme", _AT), Follower(deal.ref, "anna", "acme", _AT)
        gus, on_lead = Follower(deal.ref, "gus", "globex", _AT), Follower(lead.ref, "bob", "acme", _AT)
        with repo.transaction() as tx:
            if not isinstance(tx, KeepsFollowers):
                pytest.skip("the repository's units keep no followers, so they promise nothing of them")
            tx.put_tenant(Tenant("acme", "Acme"))
            for record in (deal, lead):
                tx.put_record(record)
            for follower in (bob, gus, anna, on_lead, bob):
                tx.put_follower(follower)
            assert list(tx.followers(deal.ref)) == [anna, bob, gus], "a unit reads its own writes, by user id"
        with repo.transaction() as tx:
            assert isinstance(tx, KeepsFollowers)
            assert list(tx.followers_in("acme")) == [anna, bob, on_lead]
            assert list(tx.followers_in("globex")) == [gus]
            tx.delete_follower(deal.ref, "anna")
            tx.delete_follower(deal.ref, "carl")  # none: nothing happens
        with repo.transaction() as tx:
            assert isinstance(tx, KeepsFollowers)
            assert list(tx.followers(deal.ref)) == [bob, gus]
            tx.delete_record(deal.ref)
        with repo.transaction() as tx:
            assert isinstance(tx, KeepsFollowers)
            assert (list(tx.followers(deal.ref)), list(tx.followers_in("acme"))) == ([], [on_lead])

    # --- settings ------------------------------------------------------------------------

    def test_settings_read_back_as_put_listed_by_prefix_in_key_order_per_tenant(self) -> None:
        repo = self.make_repository()
        values = {
            "numbering.deal": {"prefix": "D-", "next": 17, "width": 4, "yearly": True, "note": None},
            "numbering.lead": ["L-", 1, 2.5, False],
            "numbering.a": "text",
            "numbering.B": 0,
            "numbering.ä": -3,
            "numbering.10": 10,
            "numbering.2": {},
            "Numbering.upper": "case",
            "numberingX": "no dot",
            "numbers_%": "wild",
        }
        with repo.transaction() as tx:
            for key, value in values.items():
                tx.put_setting("acme", key, value)
            tx.put_setting("globex", "numbering.deal", {"prefix": "G-"})
        with repo.transaction() as tx:
            for key, value in values.items():
                assert tx.setting("acme", key) == value, key
            assert tx.setting("acme", "numbering") is None
            assert tx.setting("initech", "numbering.deal") is None
            assert tx.setting("globex", "numbering.deal") == {"prefix": "G-"}
            listed = tx.settings("acme", "numbering.")
            assert list(listed) == sorted(k for k in values if k.startswith("numbering.")), "by key, code point order"
            assert dict(listed) == {k: v for k, v in values.items() if k.startswith("numbering.")}
            assert list(tx.settings("acme", "")) == sorted(values)
            assert list(tx.settings("acme", "numbers_%")) == ["numbers_%"]
            assert list(tx.settings("acme", "numbers_")) == ["numbers_%"]
            assert list(tx.settings("acme", "N")) == ["Numbering.upper"]
            assert list(tx.settings("globex", "numbering.")) == ["numbering.deal"]
            assert dict(tx.settings("initech", "")) == {}

    def test_a_setting_put_again_is_replaced_and_a_deleted_one_is_gone(self) -> None:
        repo = self.make_repository()
        with repo.transaction() as tx:
            tx.put_setting("acme", "segments.hot", {"version": 1})
            tx.put_setting("acme", "segments.cold", [1])
            tx.put_setting("globex", "segments.hot", {"version": 9})
        with repo.transaction() as tx:
            tx.put_setting("acme", "segments.hot", {"version": 2})
            assert tx.setting("acme", "segments.hot") == {"version": 2}, "a unit reads its own writes"
            tx.delete_setting("acme", "segments.cold")
            tx.delete_setting("acme", "segments.none")  # none such: nothing happens
            assert dict(tx.settings("acme", "segments.")) == {"segments.hot": {"version": 2}}
        with repo.transaction() as tx:
            assert tx.setting("acme", "segments.hot") == {"version": 2}
            assert tx.setting("acme", "segments.cold") is None
            assert tx.setting("globex", "segments.hot") == {"version": 9}, "another tenant's is its own"
        with repo.transaction() as tx:
            assert tx.setting("acme", "segments.hot", changing=True) == {"version": 2}, "read to change it"
            assert tx.setting("acme", "segments.cold", changing=True) is None
            tx.put_setting("acme", "segments.hot", {"version": 3})
            assert tx.setting("acme", "segments.hot") == {"version": 3}
        with repo.transaction() as tx:
            assert tx.setting("acme", "segments.hot") == {"version": 3}

    # --- units of work, with the new writes ----------------------------------------------

    def test_a_unit_that_fails_takes_back_its_deletes_numbers_labels_and_settings(self) -> None:
        world = _fixed_world()
        repo = self._holding(world)
        d1 = world[0][0]
        with repo.transaction() as tx:
            tx.append_events([RecordCreated(d1.ref, "acme", "anna", _AT)])
            tx.put_setting("acme", "numbering.deal", {"next": 1})
            tx.put_setting("acme", "numbering.lead", {"next": 5})

        def failing_unit() -> None:
            with repo.transaction() as tx:
                tx.delete_record(d1.ref)
                tx.put_record(Record("deal", "D-7", "acme", _AT, number="7", labels={"north"}, groups={"G-1"}))
                tx.put_record(attrs.evolve(world[1][0], status="lost", labels=(), groups=(), number="8"))
                tx.put_setting("acme", "numbering.deal", {"next": 2})
                tx.put_setting("acme", "numbering.new", 1)
                tx.delete_setting("acme", "numbering.lead")
                assert tx.count("deal", Labelled("north")) == 2, "a unit reads its own writes"
                raise _UnitFailedError

        with pytest.raises(_UnitFailedError):
            failing_unit()
        with repo.transaction() as tx:
            assert tx.record(d1.ref) == d1
            assert list(tx.assignments(d1.ref)) == world[0][1]
            assert list(tx.events(d1.ref)) == [RecordCreated(d1.ref, "acme", "anna", _AT)]
            assert tx.record(world[1][0].ref) == world[1][0]
            assert tx.record(RecordRef("deal", "D-7")) is None
            assert tx.numbered("acme", "deal", "7") is None
            assert tx.numbered("acme", "deal", "8") is None
            assert [r.id for r in tx.select("deal", Labelled("north"), limit=10)] == ["D-1", "D-4"]
            assert [r.id for r in tx.select("deal", InGroup("G-1"), limit=10)] == ["D-1", "D-2"]
            assert dict(tx.count_by_status("deal", EVERYTHING)) == {"open": 2, "won": 1, "lost": 1, None: 2}
            assert dict(tx.settings("acme", "numbering.")) == {
                "numbering.deal": {"next": 1},
                "numbering.lead": {"next": 5},
            }
            assert list(tx.append_events([RecordCreated(d1.ref, "acme", "anna", _AT)])) == [1]

    def test_a_unit_inside_a_unit_that_fails_takes_back_its_delete_alone(self) -> None:
        repo = self.make_repository()
        deal = Record("deal", "D-1", "acme", _AT, labels={"north"})
        created = RecordCreated(deal.ref, "acme", "anna", _AT)
        with repo.transaction() as tx:
            tx.put_record(deal)
            tx.append_events([created])
        with repo.transaction() as outer:
            outer.put_setting("acme", "kept", True)

            def failing_inner_unit() -> None:
                with repo.transaction() as inner:
                    inner.delete_record(deal.ref)
                    inner.put_setting("acme", "kept", False)
                    raise _UnitFailedError

            with pytest.raises(_UnitFailedError):
                failing_inner_unit()
            assert outer.record(deal.ref) == deal
            assert list(outer.append_events([created])) == [1], "its history goes on where it was"
        with repo.transaction() as tx:
            assert tx.record(deal.ref) == deal
            assert [r.id for r in tx.select("deal", Labelled("north"), limit=10)] == ["D-1"]
            assert list(tx.events(deal.ref)) == [created, created]
            assert tx.setting("acme", "kept") is True
