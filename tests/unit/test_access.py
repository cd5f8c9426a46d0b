"""The access use cases: `can`, `explain`, `visible`, `filter` and `checker` on one world, and writes they guard.

A decision explains itself leaf by leaf (X1); a listing runs the rule compiled for the viewer, a page at a time,
with each row's holders (X6, LD4); edit defaults to view and assign to edit; assign, unassign, replace, claim and
release are refused with `AccessDeniedError` to an actor the assign rule does not let (TL4, CG10).
The seeds' own scenarios are in test_access_presets.py; the predicates and filters in test_access_algebra.py.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pytest

from conftest import make, refused
from ownership import (
    EVERYONE,
    Access,
    AccessDeniedError,
    Assignee,
    Assignment,
    AutoAssign,
    GroupKind,
    InvalidValueError,
    Ownership,
    Policy,
    Profile,
    Record,
    RecordRef,
    Role,
    Rulebook,
    RulebookError,
    Trigger,
    UnknownKindError,
    User,
    presets,
)
from ownership.access import holds, is_admin, restricted
from ownership.adapters.memory import MemoryRepository
from ownership.filters import NOTHING, And, Filter, HasAssignee, HomeIs, Or, SharedWith
from ownership.ports import Transaction
from ownership.testing import FakeClock

ANNA, BOB = Assignee.user("anna"), Assignee.user("bob")
COMPANY_RULE = "is_admin | ~restricted('company') | holds('account_manager', 'second_account_manager')"


def seen(own: Ownership, viewer: User | str, kind: str, action: str = "view") -> list[str]:
    """The ids `visible` lists for `viewer`, two rows a page; first proving `can`, `explain` and `checker` agree.

    Every record of `kind`, in every tenant, is asked about one by one; the
    four answers must be the same for each.
    """
    listed: list[str] = []
    cursor = None
    while True:
        page = own.visible(viewer, kind, action=action, limit=2, after=cursor)
        listed += [record.id for record in page.records]
        if page.cursor is None:
            break
        cursor = page.cursor
    check = own.checker(viewer, action, kind)
    snapshot = own.snapshot()
    for record in (r for r in snapshot.records if r.kind == kind):
        held = [a for a in snapshot.assignments if a.record == record.ref]
        answers = {
            "can": own.can(viewer, action, record),
            "explain": own.explain(viewer, action, record).allowed,
            "checker": check(record, held),
            "visible": record.id in listed,
        }
        assert len(set(answers.values())) == 1, f"{viewer} may {action} {record}? {answers}"
    return listed


def participating(tenant: str) -> Filter:
    """The tenant part of every filter: the record is at home in, or shared with, `tenant`."""
    return Or((HomeIs(tenant), SharedWith(tenant)))


@pytest.fixture
def crm(accounts: Ownership) -> Ownership:
    """Acme on plan go: admin Ada, Anna, Bob with restricted CRM and deal access, inactive Carl; Globex with Gina.

    Companies C-1 (Bob manages), C-2 (Anna manages), C-3 (no one); deals D-1 (Anna's), D-2 (Bob's); Globex's G-1.
    """
    accounts.add_user("acme", "Ada", id="ada", admin=True)
    accounts.add_user("acme", "Anna", id="anna")
    accounts.add_user("acme", "Bob", id="bob", profile=Profile(restricted={"company", "deal"}))
    accounts.add_user("acme", "Carl", id="carl", active=False)
    accounts.add_tenant("globex")
    accounts.add_user("globex", "Gina", id="gina")
    accounts.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})
    accounts.create("company", actor="anna", id="C-2", holders={"account_manager": ANNA})
    accounts.create("company", actor="anna", id="C-3")
    accounts.create("deal", actor="anna", id="D-1")
    accounts.create("deal", actor="bob", id="D-2")
    accounts.create("company", actor="gina", id="G-1")
    return accounts


C1, C2, C3 = (RecordRef("company", f"C-{n}") for n in (1, 2, 3))
D1, D2 = RecordRef("deal", "D-1"), RecordRef("deal", "D-2")


# --- X1: a decision explains itself, leaf by leaf -----------------------------------------------


def test_x1_explain_names_matched_and_failed_leaves(crm: Ownership) -> None:
    decision = crm.explain("bob", "view", C1)

    assert decision.allowed
    assert decision.rule == COMPANY_RULE
    assert [r.leaf for r in decision.matched] == [
        "active",
        "tenant takes part",
        "holds('account_manager', 'second_account_manager')",
    ]
    assert [r.leaf for r in decision.failed] == ["is_admin", "~restricted('company')"]
    assert [r.because for r in decision.reasons[2:]] == [
        "Bob is not an admin",
        "Bob's access to company records is restricted",
        "Bob holds it (directly)",
    ]
    assert seen(crm, "bob", "company") == ["C-1"]


def test_x1_explain_of_a_refusal_names_the_leaves_that_failed(crm: Ownership) -> None:
    decision = crm.explain("bob", "view", C2)

    assert not decision.allowed
    assert not decision  # a decision is truthy exactly when allowed
    assert [r.leaf for r in decision.failed] == [
        "is_admin",
        "~restricted('company')",
        "holds('account_manager', 'second_account_manager')",
    ]
    assert decision.failed[-1].because == (
        "Bob holds none of account_manager, second_account_manager directly, through a group, or as everyone"
    )
    assert not crm.can("bob", "view", C2)


def test_x1_explain_evaluates_every_leaf_even_after_one_decided(crm: Ownership) -> None:
    decision = crm.explain("ada", "view", C3)

    assert decision.allowed
    assert [(r.leaf, r.matched) for r in decision.reasons] == [
        ("active", True),
        ("tenant takes part", True),
        ("is_admin", True),
        ("~restricted('company')", True),
        ("holds('account_manager', 'second_account_manager')", False),
    ]


def test_x1_decision_reads_as_a_sentence(crm: Ownership) -> None:
    assert str(crm.explain("bob", "view", C2)) == (
        f"refused by {COMPANY_RULE}: active: yes (Bob is active); "
        "tenant takes part: yes (company C-2 is held in or shared with 'acme'); "
        "is_admin: no (Bob is not an admin); "
        "~restricted('company'): no (Bob's access to company records is restricted); "
        "holds('account_manager', 'second_account_manager'): no "
        "(Bob holds none of account_manager, second_account_manager directly, through a group, or as everyone)"
    )


def test_x1_user_of_a_tenant_without_part_in_the_record_is_refused_by_the_gate(crm: Ownership) -> None:
    decision = crm.explain("gina", "view", C2)

    assert not decision.allowed
    assert [r.leaf for r in decision.failed] == [
        "tenant takes part",
        "is_admin",
        "holds('account_manager', 'second_account_manager')",
    ]
    assert decision.failed[0].because == "company C-2 is not held in or shared with 'globex'"
    assert not crm.can("gina", "view", C2)  # asking is not an error: the answer is no
    assert seen(crm, "gina", "company") == ["G-1"]


def test_x1_inactive_user_may_do_nothing_and_lists_nothing(crm: Ownership) -> None:
    decision = crm.explain("carl", "view", C3)

    assert not decision.allowed
    assert decision.failed[0].leaf == "active"
    assert decision.failed[0].because == "Carl is inactive"
    assert crm.filter("carl", "view", "company") == NOTHING
    for action in ("view", "edit", "assign"):
        assert seen(crm, "carl", "company", action) == []
        assert seen(crm, "carl", "deal", action) == []


def test_unknown_action_is_refused_by_every_access_call(crm: Ownership) -> None:
    calls: list[Callable[[], object]] = [
        lambda: crm.can("anna", "delete", C1),
        lambda: crm.explain("anna", "delete", C1),
        lambda: crm.visible("anna", "company", action="delete"),
        lambda: crm.filter("anna", "delete", "company"),
        lambda: crm.checker("anna", "delete", "company"),
    ]
    for call in calls:
        with pytest.raises(RulebookError, match="There is no action 'delete'; the actions are: view, edit, assign"):
            call()


def test_unknown_kind_is_refused_by_every_listing_call(crm: Ownership) -> None:
    with pytest.raises(UnknownKindError, match="no record kind 'spaceship'"):
        crm.visible("anna", "spaceship")
    with pytest.raises(UnknownKindError):
        crm.filter("anna", "view", "spaceship")
    with pytest.raises(UnknownKindError):
        crm.checker("anna", "view", "spaceship")


# --- holds(): directly, through a group, or as everyone ------------------------------------------


@pytest.fixture
def desk(clock: FakeClock) -> Ownership:
    """Contacts whose assignee grants access: Anna, Rita and Tom (restricted contact access; Tom is in "tax").

    P-1 is Rita's, P-2 the tax competence's, P-3 everyone's, P-4 Anna's, P-5 no one's.
    """
    assignee = Role("assignee", max=None, groups={GroupKind.COMPETENCE}, everyone=True, grants_access=True)
    own = make(Rulebook((Policy("contact", (assignee,)),)), clock)
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Rita", id="rita", profile=Profile(restricted={"contact"}))
    own.add_user("acme", "Tom", id="tom", profile=Profile(restricted={"contact"}))
    own.add_group("acme", "Tax", GroupKind.COMPETENCE, id="tax")
    own.add_member("tax", "tom")
    for n, holder in enumerate([Assignee.user("rita"), Assignee.group("tax"), EVERYONE, ANNA], start=1):
        own.create("contact", actor="anna", id=f"P-{n}", holders={"assignee": holder})
    own.create("contact", actor="anna", id="P-5")
    return own


def test_holds_counts_a_role_held_directly_through_a_group_or_by_everyone(desk: Ownership) -> None:
    assert seen(desk, "rita", "contact") == ["P-1", "P-3"]
    assert seen(desk, "tom", "contact") == ["P-2", "P-3"]
    assert seen(desk, "anna", "contact") == ["P-1", "P-2", "P-3", "P-4", "P-5"]


def test_x1_explain_says_how_the_viewer_holds_the_role(desk: Ownership) -> None:
    def because(viewer: str, id: str) -> str:
        return desk.explain(viewer, "view", RecordRef("contact", id)).reasons[-1].because

    assert because("rita", "P-1") == "Rita holds it (directly)"
    assert because("tom", "P-2") == "Tom holds it (group tax)"
    assert because("rita", "P-3") == "Rita holds it (everyone)"
    assert because("rita", "P-4") == "Rita holds none of assignee directly, through a group, or as everyone"


def test_holds_through_a_group_ends_with_the_membership(desk: Ownership) -> None:
    desk.remove_member("tax", "tom")

    assert seen(desk, "tom", "contact") == ["P-3"]


# --- X6: the rule compiles into a filter for a known viewer ---------------------------------------


def test_x6_admin_filter_has_no_role_test(crm: Ownership) -> None:
    assert crm.filter("ada", "view", "company") == participating("acme")
    assert crm.filter("ada", "assign", "deal") == participating("acme")


def test_x6_unrestricted_user_filter_has_no_role_test_either(crm: Ownership) -> None:
    assert crm.filter("anna", "view", "company") == participating("acme")
    assert crm.filter("bob", "view", "invoice") == participating("acme")  # no role grants access to invoices
    assert crm.filter("gina", "view", "company") == participating("globex")


def test_x6_restricted_user_filter_tests_the_roles_they_may_hold_as_sets(crm: Ownership) -> None:
    expected = HasAssignee({"account_manager"}, {BOB, EVERYONE}, "acme")
    assert crm.filter("bob", "view", "company") == And((participating("acme"), expected))

    crm.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})

    expected = HasAssignee({"account_manager", presets.SECOND_ACCOUNT_MANAGER}, {BOB, EVERYONE}, "acme")
    assert crm.filter("bob", "view", "company") == And((participating("acme"), expected))


class RecordingRepository(MemoryRepository):
    """A memory repository that records each filter `select` runs, and each record whose holders are read."""

    def __init__(self) -> None:
        super().__init__()
        self.selected: list[Filter] = []
        self.read: list[RecordRef] = []

    @contextmanager
    def transaction(self) -> Iterator["RecordingTransaction"]:  # type: ignore[override]  # a context manager too
        with super().transaction() as tx:
            yield RecordingTransaction(tx, self)


class RecordingTransaction:
    """Passes every call on to the memory transaction, noting `select` and the records whose holders it reads."""

    def __init__(self, tx: Transaction, repository: RecordingRepository) -> None:
        self._tx = tx
        self._repository = repository

    def __getattr__(self, name: str) -> object:
        return getattr(self._tx, name)

    def select(self, kind: str, filter: Filter, *, limit: int, after: str | None = None) -> object:
        self._repository.selected.append(filter)
        return self._tx.select(kind, filter, limit=limit, after=after)

    def assignments(self, ref: RecordRef) -> object:
        self._repository.read.append(ref)
        return self._tx.assignments(ref)

    def assignments_of(self, refs: Sequence[RecordRef]) -> object:
        self._repository.read.extend(refs)
        return self._tx.assignments_of(refs)


def test_x6_visible_runs_the_compiled_filter_once_and_reads_only_the_listed_rows(clock: FakeClock) -> None:
    repository = RecordingRepository()
    own = Ownership(presets.account_managers(), repository, clock=clock)
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob", profile=Profile(restricted={"company"}))
    for n in range(1, 7):
        own.create("company", actor="anna", id=f"C-{n}", holders={"account_manager": BOB if n == 4 else ANNA})
    repository.selected.clear()
    repository.read.clear()

    page = own.visible("bob", "company")

    assert [r.id for r in page.records] == ["C-4"]
    assert repository.selected == [own.filter("bob", "view", "company")]
    assert repository.read == [RecordRef("company", "C-4")]  # no record is checked one by one


def test_x6_visible_pages_by_id_with_a_cursor(crm: Ownership) -> None:
    for n in range(4, 7):
        crm.create("company", actor="anna", id=f"C-{n}")

    first = crm.visible("anna", "company", limit=4)
    second = crm.visible("anna", "company", limit=4, after=first.cursor)

    assert [r.id for r in first.records] == ["C-1", "C-2", "C-3", "C-4"]
    assert first.cursor == "C-4"
    assert [r.id for r in second.records] == ["C-5", "C-6"]
    assert second.cursor is None


def test_x6_a_last_page_that_is_exactly_full_has_no_cursor(crm: Ownership) -> None:
    page = crm.visible("anna", "company", limit=3)

    assert [r.id for r in page.records] == ["C-1", "C-2", "C-3"]
    assert page.cursor is None
    assert crm.visible("anna", "company", after="C-3").rows == ()


@pytest.mark.parametrize("limit", [0, -1])
def test_x6_a_page_of_fewer_than_one_row_is_refused_as_an_invalid_value(crm: Ownership, limit: int) -> None:
    # Every refusal is an OwnershipError (errors.py); a crash on an index is none.
    with pytest.raises(InvalidValueError, match="limit"):
        crm.visible("anna", "company", limit=limit)


def test_x6_restricted_user_pages_only_through_what_they_may_see(crm: Ownership) -> None:
    for n in range(4, 9):
        crm.create("company", actor="anna", id=f"C-{n}", holders={"account_manager": BOB if n % 2 else ANNA})

    first = crm.visible("bob", "company", limit=2)
    second = crm.visible("bob", "company", limit=2, after=first.cursor)

    assert [r.id for r in first.records] == ["C-1", "C-5"]
    assert [r.id for r in second.records] == ["C-7"]
    assert second.cursor is None


def test_ld4_rows_carry_the_assignments_as_the_viewers_tenant_sees_them(crm: Ownership, clock: FakeClock) -> None:
    crm.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    crm.assign(C1, presets.SECOND_ACCOUNT_MANAGER, ANNA, actor="anna")

    (row,) = crm.visible("bob", "company").rows

    assert row.record == crm.record(C1)
    assert row.assignments == (
        Assignment(C1, "account_manager", BOB, "acme", clock.now, "anna"),
        Assignment(C1, presets.SECOND_ACCOUNT_MANAGER, ANNA, "acme", clock.now, "anna"),
    )

    crm.configure_tenant("acme", switches=())  # the second manager is hidden, not erased (TL10)

    rows = crm.visible("ada", "company").rows
    assert [(r.record.id, [(a.role, a.assignee) for a in r.assignments]) for r in rows] == [
        ("C-1", [("account_manager", BOB)]),
        ("C-2", [("account_manager", ANNA)]),
        ("C-3", []),
    ]


def test_x6_checker_is_a_plain_function_of_record_and_assignments(crm: Ownership, clock: FakeClock) -> None:
    check = crm.checker("bob", "view", "company")
    elsewhere = Record("company", "C-9", "acme", clock.now)  # never tracked: the checker reads no repository
    held = [Assignment(elsewhere.ref, "account_manager", BOB, "acme", clock.now)]

    assert check(elsewhere, held)
    assert not check(elsewhere, [])
    assert not check(Record("company", "C-9", "globex", clock.now), held)  # another tenant's record
    assert seen(crm, "bob", "company") == ["C-1"]


def test_x6_checker_sees_the_viewer_as_they_were_when_prepared(crm: Ownership) -> None:
    before = crm.checker("bob", "view", "company")
    company = crm.record(C3)

    crm.update_user("bob", profile=Profile())

    assert not before(company, [])
    assert crm.checker("bob", "view", "company")(company, [])
    assert seen(crm, "bob", "company") == ["C-1", "C-2", "C-3"]


# --- actions: edit defaults to view, assign to edit --------------------------------------------


@pytest.fixture
def deals(clock: FakeClock) -> Ownership:
    """Deals everyone may see, but only admins and the responsible may edit (and so assign); D-1 Anna's, D-2 Bob's."""
    policy = Policy(
        "deal",
        (Role("responsible", min=1, grants_access=True),),
        auto_assign=(AutoAssign(Trigger.CREATED, "responsible"),),
        access=Access(view=is_admin | ~restricted("deal") | holds("responsible"), edit=is_admin | holds("responsible")),
    )
    own = make(Rulebook((policy,)), clock)
    own.add_tenant("acme")
    own.add_user("acme", "Ada", id="ada", admin=True)
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    own.create("deal", actor="anna", id="D-1")
    own.create("deal", actor="bob", id="D-2")
    return own


def test_edit_rule_narrows_edit_and_assign_but_not_view(deals: Ownership) -> None:
    assert seen(deals, "bob", "deal", "view") == ["D-1", "D-2"]
    assert seen(deals, "bob", "deal", "edit") == ["D-2"]
    assert seen(deals, "bob", "deal", "assign") == ["D-2"]
    assert seen(deals, "ada", "deal", "assign") == ["D-1", "D-2"]
    assert deals.explain("bob", "assign", D1).rule == "is_admin | holds('responsible')"
    with refused(deals, AccessDeniedError, "Bob may not change who holds deal D-1"):
        deals.assign(D1, "responsible", BOB, actor="bob")


def test_edit_and_assign_default_to_view_in_the_presets(crm: Ownership) -> None:
    for kind in ("company", "deal"):
        assert seen(crm, "bob", kind, "edit") == seen(crm, "bob", kind, "view")
        assert seen(crm, "bob", kind, "assign") == seen(crm, "bob", kind, "view")


# --- writes are guarded by the actor's assign right ------------------------------------------


WRITES: dict[str, Callable[[Ownership], object]] = {
    "assign": lambda own: own.assign(D1, "responsible", BOB, actor="bob"),
    "unassign": lambda own: own.unassign(D1, "responsible", ANNA, actor="bob"),
    "replace": lambda own: own.replace(D1, "responsible", ANNA, BOB, actor="bob"),
    "assign-company": lambda own: own.assign(C2, "account_manager", BOB, actor="bob"),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_tl4_write_by_an_actor_who_may_not_assign_is_refused_and_changes_nothing(
    crm: Ownership, write: Callable[[Ownership], object]
) -> None:
    with refused(crm, AccessDeniedError, r"Bob may not change who holds (deal D-1|company C-2): the rule to assign"):
        write(crm)


def test_tl4_restricted_actor_may_hand_their_own_deal_over_and_then_no_longer_sees_it(crm: Ownership) -> None:
    assert crm.assign(D2, "responsible", ANNA, actor="bob") == (ANNA,)

    assert seen(crm, "bob", "deal") == []
    with refused(crm, AccessDeniedError, "may not change who holds deal D-2"):
        crm.assign(D2, "responsible", BOB, actor="bob")


# --- CG10: claiming from and releasing to a pool are changes of holders, guarded too ---------------


W1 = RecordRef("follow_up", "W-1")
SUPPORT = Assignee.group("support")


@pytest.fixture
def guarded_pool(clock: FakeClock) -> Ownership:
    """Follow-ups everyone sees, but only users without restricted follow-up access may change holders.

    Team Support (Bob, Rita; Rita's access is restricted) holds W-1.
    """
    policy = Policy(
        "follow_up", (Role("team", groups={GroupKind.TEAM}),), access=Access(assign=~restricted("follow_up"))
    )
    own = make(Rulebook((policy,)), clock)
    own.add_tenant("acme")
    own.add_user("acme", "Bob", id="bob")
    own.add_user("acme", "Rita", id="rita", profile=Profile(restricted={"follow_up"}))
    own.add_group("acme", "Support", GroupKind.TEAM, id="support")
    own.add_member("support", "bob")
    own.add_member("support", "rita")
    own.create("follow_up", actor="bob", id="W-1", holders={"team": SUPPORT})
    return own


def test_cg10_claim_is_guarded_by_the_assign_rule(guarded_pool: Ownership) -> None:
    assert seen(guarded_pool, "rita", "follow_up") == ["W-1"]
    assert seen(guarded_pool, "rita", "follow_up", "assign") == []

    with refused(guarded_pool, AccessDeniedError, "Rita may not change who holds follow_up W-1"):
        guarded_pool.claim(W1, "team", actor="rita")


def test_cg10_release_is_guarded_by_the_assign_rule(guarded_pool: Ownership) -> None:
    guarded_pool.claim(W1, "team", actor="bob")
    guarded_pool.update_user("bob", profile=Profile(restricted={"follow_up"}))

    with refused(guarded_pool, AccessDeniedError, "Bob may not change who holds follow_up W-1"):
        guarded_pool.release(W1, "team", actor="bob")
