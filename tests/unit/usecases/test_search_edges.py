"""The search room (src/ownership/usecases/search.py): what find, criteria and saved segments take and refuse (CT5)."""

import pytest

from conftest import edges_desk
from ownership import InvalidValueError, Ownership, Segment, Territory, ToGroup, in_group, labelled, named
from ownership.segments import Named

desk = edges_desk
"""The fixture these tests ask for as `desk`: the contact desk with shared leads beside it (tests/conftest.py)."""


def test_ct5_find_refuses_what_is_neither_segment_nor_kind_nor_criteria(desk: Ownership) -> None:
    with pytest.raises(
        InvalidValueError,
        match=r"find\(\): criteria takes a Criterion or None, not 'müller'; build criteria with ownership.segments",
    ):
        desk.find("ada", "contact", "müller")  # type: ignore[arg-type]
    with pytest.raises(
        InvalidValueError, match=r"find\(\): what takes a Segment or an id .*; name a kind, or pass a Segment\."
    ):
        desk.find("ada", named("müller"))  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"^A criterion joins another criterion with &, not 'archive'\.$"):
        named("müller") & "archive"  # type: ignore[operator]


def test_ct6_in_group_refuses_a_group_of_users(desk: Ownership) -> None:
    with pytest.raises(InvalidValueError, match="held_by"):
        in_group(desk.group("tax"))  # type: ignore[arg-type]


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
