"""The edges of the contact tools: records with no status yet, sharing an archived contact, what a selection
may be, and what criteria a territory may read (CT1, CT5, CT6, LD7, X4)."""

import pytest
from attrs import evolve

from ownership import (
    Assignee,
    ConfirmationError,
    InvalidValueError,
    Ownership,
    Policy,
    Repository,
    RestrictedStatusError,
    Role,
    Rulebook,
    Segment,
    Territory,
    ToGroup,
    UnknownKindError,
    in_group,
    labelled,
    lifecycle,
    named,
    presets,
)
from ownership.segments import Named
from ownership.testing import FakeClock

ANNA = Assignee.user("anna")


@pytest.fixture
def desk(repository: Repository, clock: FakeClock) -> Ownership:
    """Seed 004's contact desk, with leads shared between companies beside it: tenants kanzlei and partner."""
    rulebook = presets.contact_desk() | Rulebook(
        (Policy("lead", (Role("colleague", private=True),), lifecycle=lifecycle.contacts()),)
    )
    own = Ownership(rulebook, repository, clock=clock)
    for tenant in ("kanzlei", "partner"):
        own.add_tenant(tenant)
    own.add_user("kanzlei", "Ada", id="ada", admin=True)
    own.add_user("kanzlei", "Anna", id="anna")
    own.add_user("partner", "Pat", id="pat")
    own.add_group("kanzlei", "Tax advice", "competence", id="tax")
    return own


def test_ct1_a_record_tracked_before_its_kind_had_a_lifecycle_can_enter_one(
    repository: Repository, clock: FakeClock
) -> None:
    before = Ownership(Rulebook((Policy("contact", (Role("assignee"),)),)), repository, clock=clock)
    before.add_tenant("kanzlei")
    before.add_user("kanzlei", "Ada", id="ada", admin=True)
    old = before.create("contact", actor="ada", id="K-1")
    own = Ownership(presets.contact_desk(), repository, clock=clock)  # the kind gains its lifecycle
    assert own.record(old).status is None

    with pytest.raises(ConfirmationError, match="must be confirmed"):
        own.set_status(old, "customer", actor="ada")  # every way into customer is confirmed
    assert own.set_status(old, "prospect", actor="ada").status == "prospect"
    assert own.archive([old], actor="ada") == 1


def test_ct1_ld7_an_archived_record_offered_before_cannot_be_accepted(desk: Ownership) -> None:
    lead = desk.create("lead", actor="anna", id="L-1")
    desk.share(lead, "partner", actor="anna")
    desk.set_status(lead, "archive", actor="anna")
    before = desk.snapshot()

    with pytest.raises(RestrictedStatusError, match="cannot be accepted"):
        desk.accept(lead, actor="pat")
    assert desk.snapshot() == before


def test_ct1_a_person_creating_a_record_in_the_inbox_is_not_made_its_holder(repository: Repository) -> None:
    leads = presets.lead_exchange().policy("lead")
    own = Ownership(Rulebook((evolve(leads, lifecycle=lifecycle.contacts()),)), repository)
    own.add_tenant("kanzlei")
    own.add_user("kanzlei", "Anna", id="anna")

    lead = own.create("lead", actor="anna", id="L-1", status="inbox")

    assert own.holders(lead, "colleague") == ()  # the creator trigger gives no holder in a status refusing them
    assert own.holders(own.create("lead", actor="anna", id="L-2"), "colleague") == (ANNA,)


def test_ct6_a_page_of_find_is_a_selection(desk: Ownership) -> None:
    for n in range(3):
        desk.create("contact", actor="anna", id=f"K-{n}", name=f"Weber {n}")
    page = desk.find("ada", "contact", named("weber"), limit=2)

    assert desk.archive(page, actor="ada") == 2
    assert [desk.record("contact", f"K-{n}").status for n in range(3)] == ["archive", "archive", "prospect"]


@pytest.mark.parametrize("picked", [["K-1"], [("contact", "K-1")], [42]], ids=["id", "tuple", "number"])
def test_ct6_a_selection_of_what_is_no_record_is_refused_with_a_sentence(desk: Ownership, picked: list[object]) -> None:
    desk.create("contact", actor="anna", id="K-1")
    before = desk.snapshot()

    with pytest.raises(InvalidValueError, match=r"RecordRef\(kind, id\)\.$"):
        desk.archive(picked, actor="ada")  # type: ignore[arg-type]
    assert desk.snapshot() == before


def test_ct5_find_refuses_what_is_neither_segment_nor_kind_nor_criteria(desk: Ownership) -> None:
    with pytest.raises(InvalidValueError, match="not a str"):
        desk.find("ada", "contact", "müller")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="Segment or a record kind"):
        desk.find("ada", named("müller"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        named("müller") & "archive"  # type: ignore[operator]


def test_ct6_in_group_refuses_a_group_of_users(desk: Ownership) -> None:
    with pytest.raises(InvalidValueError, match="held_by"):
        in_group(desk.group("tax"))  # type: ignore[arg-type]


def test_ct4_next_number_of_an_unknown_kind_names_the_kind(desk: Ownership) -> None:
    with pytest.raises(UnknownKindError, match="bogus"):
        desk.next_number("kanzlei", "bogus")


def test_x4_a_territory_reading_labels_is_kept(desk: Ownership) -> None:
    rules = desk.set_auto_assign("kanzlei", "contact", [Territory(labelled("north"), ToGroup("assignee", "tax"))])

    assert desk.auto_assign_rules("kanzlei", "contact") == rules
    north = desk.create("contact", actor="ada", id="K-9", labels={"north"})
    assert desk.holders(north, "assignee") == (Assignee.group("tax"),)


def test_ct5_a_segment_with_a_criterion_is_saved_and_read_back(desk: Ownership) -> None:
    saved = desk.save_segment(Segment("contact", named("weber") & labelled("north"), name="North Webers"), actor="anna")

    assert desk.segment("kanzlei", saved.id or "") == saved


class Vip(Named):
    """A host's own criterion: it runs in `find`, but the converter cannot read it back once saved."""


def test_ct5_a_criterion_of_the_host_runs_but_is_refused_when_saved(desk: Ownership) -> None:
    desk.create("contact", actor="anna", id="K-1", name="VIP Weber")
    assert [r.record.id for r in desk.find("ada", "contact", Vip("vip")).rows] == ["K-1"]
    before = desk.snapshot()

    with pytest.raises(InvalidValueError, match="Only the built-in criteria can be saved, not a Vip"):
        desk.save_segment(Segment("contact", named("weber") & Vip("vip")), actor="anna")
    with pytest.raises(InvalidValueError, match="not a Vip"):
        desk.set_auto_assign("kanzlei", "contact", [Territory(Vip("vip"), ToGroup("assignee", "tax"))])
    assert desk.snapshot() == before
