"""The reconciling room (src/ownership/usecases/reconcile.py): the host's rows recorded as they are, or refused whole.

Acme (plan go) has Anna, Bob, inactive Carl, a competence "Sales" and deal D-1, Anna's (`refusals_crm`).
"""

import pytest

from conftest import refusals_crm
from conftest import refused_readably as refused
from ownership import (
    Assignee,
    AssigneeKindError,
    DuplicateIdError,
    FeatureDisabledError,
    ForeignTenantError,
    HostRecord,
    InvalidValueError,
    MandatoryRoleError,
    Ownership,
    OwnershipError,
    RecordRef,
    TooManyHoldersError,
    UnknownRecordError,
    UnknownRoleError,
    UnknownUserError,
)

crm = refusals_crm

ANNA, BOB, CARL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("carl")
D1 = RecordRef("deal", "D-1")


def test_x8_reconcile_records_holders_who_have_left_without_an_actor_and_tells_no_one(crm: Ownership) -> None:
    told = len(crm.outbox())
    drift = crm.reconcile(
        "deal", [HostRecord("D-1", {"responsible": ANNA}), HostRecord("D-2", {"responsible": CARL})], tenant="acme"
    )

    assert (drift.added, drift.removed, drift.changed) == (("D-2",), (), ())
    assert crm.holders(RecordRef("deal", "D-2"), "responsible") == (CARL,)
    assert [e.actor for e in crm.history(RecordRef("deal", "D-2"))] == [None, None]
    assert len(crm.outbox()) == told


def test_x8_reconcile_leaves_the_roles_a_row_does_not_name_and_changes_status_name_and_labels(crm: Ownership) -> None:
    crm.assign(D1, "responsible", BOB, actor="anna")
    row = HostRecord("D-1", {}, name="Fleet renewal", labels=["north"])

    drift = crm.reconcile("deal", [row], tenant="acme")

    [change] = drift.changed
    assert (change.id, change.assigned, change.unassigned) == ("D-1", (), ())
    assert (change.name, change.labels) == ((None, "Fleet renewal"), True)
    record = crm.record("deal", "D-1")
    assert (record.name, record.labels) == ("Fleet renewal", frozenset({"north"}))
    assert crm.holders(D1, "responsible") == (BOB,), "a role the row does not name is ownership's own"
    assert crm.reconcile("deal", [row], tenant="acme").in_step


def test_x8_reconcile_forgets_what_no_row_names_and_a_dry_run_only_says_so(crm: Ownership) -> None:
    before = crm.snapshot()

    preview = crm.reconcile("deal", [], tenant="acme", dry_run=True)

    assert (preview.removed, preview.applied) == (("D-1",), False)
    assert crm.snapshot() == before
    assert crm.reconcile("deal", [], tenant="acme").removed == ("D-1",)
    with pytest.raises(UnknownRecordError, match="create it first"):
        crm.record("deal", "D-1")


def test_x8_reconcile_passes_other_tenants_records_by(crm: Ownership) -> None:
    crm.add_user("globex", "Gus", id="gus")
    crm.create("deal", actor="gus", id="G-1")

    drift = crm.reconcile("deal", [HostRecord("D-1", {"responsible": ANNA})], tenant="acme")

    assert drift.in_step
    assert crm.record("deal", "G-1").tenant == "globex"


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        ([HostRecord("D-2", {})], MandatoryRoleError, "needs 1 responsible"),
        ([HostRecord("D-1", {"responsible": []})], MandatoryRoleError, "must keep 1 responsible"),
        ([HostRecord("D-1", {"responsible": [ANNA, BOB]})], TooManyHoldersError, "holds at most 1"),
        ([HostRecord("D-1", {"responsible": [ANNA, ANNA]})], TooManyHoldersError, "names the same responsible twice"),
        ([HostRecord("D-1", {"boss": ANNA})], UnknownRoleError, "boss"),
        ([HostRecord("D-1", {"responsible": Assignee.user("zed")})], UnknownUserError, "no user 'zed'"),
        ([HostRecord("D-1", {"responsible": Assignee.user("gina")})], ForeignTenantError, "belongs to tenant 'globex'"),
        ([HostRecord("D-1", {"responsible": Assignee.group("sales")})], AssigneeKindError, "takes users"),
        ([HostRecord("D-1", {"second_responsible": BOB})], FeatureDisabledError, "has not switched on"),
        ([HostRecord("D-1", {"responsible": ANNA}), HostRecord("D-1", {})], InvalidValueError, "more than once: 'D-1'"),
    ],
)
def test_x8_reconcile_refuses_rows_that_break_a_rule_whole_and_changes_nothing(
    crm: Ownership, rows: list[HostRecord], error: type[OwnershipError], match: str
) -> None:
    rows = [*rows, HostRecord("D-9", {"responsible": BOB})]  # a good row beside: refused with the rest
    with refused(crm, error, match):
        crm.reconcile("deal", rows, tenant="acme")


def test_x8_reconcile_refuses_a_row_naming_another_tenants_record(crm: Ownership) -> None:
    crm.add_user("globex", "Gus", id="gus")
    crm.create("deal", actor="gus", id="G-1")

    with refused(crm, DuplicateIdError, "at home in tenant 'globex'"):
        crm.reconcile(
            "deal", [HostRecord("D-1", {"responsible": ANNA}), HostRecord("G-1", {"responsible": ANNA})], tenant="acme"
        )


def test_x8_a_partial_reconcile_records_the_rows_of_one_save_and_leaves_the_other_records(crm: Ownership) -> None:
    crm.create("deal", actor="anna", id="D-2")
    row = HostRecord("D-3", {"responsible": CARL}, name="Saved by the host")  # its owner has left

    drift = crm.reconcile("deal", [row], tenant="acme", partial=True)

    assert (drift.added, drift.removed, drift.changed) == (("D-3",), (), ())
    assert [r.id for r in crm.visible("anna", "deal").records] == ["D-1", "D-2", "D-3"], "the others are kept"
    assert crm.holders(RecordRef("deal", "D-3"), "responsible") == (CARL,)
    assert crm.reconcile("deal", [row], tenant="acme", partial=True).in_step, "saved again, nothing changes"
    moved = crm.reconcile("deal", [HostRecord("D-1", {"responsible": BOB})], tenant="acme", partial=True)
    assert [(d.id, d.assigned, d.unassigned) for d in moved.changed] == [
        ("D-1", (("responsible", BOB),), (("responsible", ANNA),))
    ]


def test_x8_a_partial_reconcile_deletes_the_records_of_rows_the_host_deleted_and_only_those(crm: Ownership) -> None:
    crm.create("deal", actor="anna", id="D-2")
    drift = crm.reconcile("deal", [], tenant="acme", partial=True, gone=["D-2", "D-9"])  # D-9 was never tracked
    assert (drift.added, drift.removed, drift.changed) == ((), ("D-2",), ())
    assert [r.id for r in crm.visible("anna", "deal").records] == ["D-1"], "the others are kept"
    assert crm.reconcile("deal", [], tenant="acme", partial=True, gone=["D-2"]).in_step, "deleted again: nothing"


@pytest.mark.parametrize(
    ("rows", "gone", "partial", "says"),
    [
        ([HostRecord("D-1", {"responsible": ANNA})], ["D-1"], True, "either a row or gone"),
        ([], ["D-1"], False, "pass partial=True"),
    ],
)
def test_x8_gone_that_contradicts_itself_is_refused_and_changes_nothing(
    crm: Ownership, rows: list[HostRecord], gone: list[str], partial: bool, says: str
) -> None:
    with pytest.raises(InvalidValueError, match=says):
        crm.reconcile("deal", rows, tenant="acme", partial=partial, gone=gone)
    assert [r.id for r in crm.visible("anna", "deal").records] == ["D-1"]
