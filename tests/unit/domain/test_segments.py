"""Criteria and segments (src/ownership/segments.py): what find, a segment and a territory may hold (CT5, TL9, X4)."""

import pytest

from ownership import InvalidValueError, Policy, Role, Segment, UnknownRoleError, segments
from ownership.filters import EVERYTHING, Filter
from ownership.segments import (
    ANYTHING,
    Criterion,
    HeldByCriterion,
    InGroupCriterion,
    LabelledCriterion,
    NamedCriterion,
    Scope,
    StatusInCriterion,
    UnassignedCriterion,
    check_reads,
    check_saved,
    check_territory,
    held_by,
    in_group,
    labelled,
    named,
    segment_of,
    status_in,
    unassigned,
)
from ownership.serde import structure, unstructure


class Anyone(Criterion):
    """A host's own kind of criterion: it resolves, but could not be saved and read back."""

    def resolve(self, scope: Scope) -> Filter:
        return EVERYTHING


def test_ct5_find_takes_a_kind_or_a_segment_narrowed_by_criteria() -> None:
    assert segment_of("contact", None) == Segment("contact", ANYTHING)
    north = Segment("contact", labelled("north"), name="North")
    assert segment_of(north, named("müller")) == Segment("contact", labelled("north") & named("müller"), name="North")
    with pytest.raises(InvalidValueError, match=r"^find\(\) takes a Segment or a record kind, not a int\.$"):
        segment_of(3, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="Criteria are built from named"):
        segment_of("contact", "müller")  # type: ignore[arg-type]


def test_tl9_criteria_naming_a_role_the_kind_lacks_are_refused() -> None:
    policy = Policy("contact", roles=(Role("responsible"),))
    check_reads(policy, held_by("anna", "responsible") & unassigned("responsible"))
    with pytest.raises(UnknownRoleError, match="A contact has no role 'owner'"):
        check_reads(policy, held_by("anna", "owner"))


def test_tl9_only_built_in_criteria_are_saved() -> None:
    check_saved(named("a") & ~status_in("archive") | in_group("G-1"))
    with pytest.raises(InvalidValueError, match="Only the built-in criteria can be saved, not a Anyone"):
        check_saved(named("a") & Anyone())


def test_x4_a_territory_reads_only_what_a_new_record_has() -> None:
    check_territory(labelled("north") & named("GmbH") & status_in("prospect"))
    for later in (held_by("anna"), unassigned("responsible"), in_group("G-1")):
        with pytest.raises(InvalidValueError, match="A territory is chosen before a record has holders or groups"):
            check_territory(labelled("north") & later)


def test_ct5_saved_segments_keep_the_tags_they_were_first_written_with() -> None:
    saved = Segment(
        "contact", named("x") & status_in("inbox") & labelled("n") & in_group("g") & held_by("a") & unassigned("r")
    )
    data = unstructure(saved)
    assert [part["type"] for part in data["criteria"]["parts"]] == [
        "Named",
        "InStatus",
        "HasLabel",
        "InRecordGroup",
        "HeldBy",
        "Unassigned",
    ]
    assert structure(data, Segment) == saved


def test_the_criteria_kept_their_first_names_as_aliases() -> None:
    assert (segments.Named, segments.InStatus, segments.HasLabel) == (
        NamedCriterion,
        StatusInCriterion,
        LabelledCriterion,
    )
    assert (segments.InRecordGroup, segments.HeldBy, segments.Unassigned) == (
        InGroupCriterion,
        HeldByCriterion,
        UnassignedCriterion,
    )
