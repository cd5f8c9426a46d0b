"""Reading exports strictly (src/ownership/serde.py): what a person may have edited is read as written, or refused."""

from datetime import datetime, timezone
from typing import Any

import pytest
from cattrs import ClassValidationError

from ownership import GroupKind, InvalidValueError, RecordRef, Snapshot, Tenant, User, serde
from ownership.notify import Channel, Notification, OutboxEntry

AT = datetime(2026, 1, 1, 9, 30, tzinfo=timezone.utc)


def exported(**parts: list[dict[str, Any]]) -> dict[str, Any]:
    """An empty export whose `parts` ("users", "tenants", ...) are given as JSON-ready data."""
    return {**serde.unstructure(Snapshot((), (), (), (), (), (), ())), **parts}


ANNA = {"id": "anna", "tenant": "acme", "name": "Anna"}
DEAL = {"kind": "deal", "id": "D-1", "tenant": "acme", "created_at": AT.isoformat()}


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (exported(users=[{**ANNA, "admin": "false"}]), "users[0].admin must be true or false, not 'false'."),
        (exported(users=[ANNA, {**ANNA, "active": "no"}]), "users[1].active must be true or false, not 'no'."),
        (exported(users=[{**ANNA, "active": 1}]), "users[0].active must be true or false, not 1."),
        (exported(users=[{**ANNA, "name": 5}]), "users[0].name must be a string, not 5."),
        (
            exported(users=[{**ANNA, "profile": {"restricted": "deal"}}]),
            "users[0].profile.restricted must be a list, not 'deal'.",
        ),
        (exported(users=[{**ANNA, "profile": "deal"}]), "users[0].profile must be an object, not 'deal'."),
        (
            exported(tenants=[{"id": "acme", "name": "Acme", "switches": "tickets"}]),
            "tenants[0].switches must be a list, not 'tickets'.",
        ),
        (exported(tenants=[{"id": "acme", "name": "Acme", "plan": 3}]), "tenants[0].plan must be a string, not 3."),
        (
            exported(groups=[{"id": "g", "tenant": "acme", "name": "G", "kind": "crew"}]),
            "groups[0].kind must be one of 'caretaker', 'competence', 'team', not 'crew'.",
        ),
        (
            exported(records=[{**DEAL, "created_at": "2026-01-01T09:30:00"}]),
            "records[0].created_at must name its time zone, like '2026-01-31T09:30:00+00:00', "
            "not '2026-01-01T09:30:00'.",
        ),
        (
            exported(records=[{**DEAL, "created_at": "yesterday"}]),
            "records[0].created_at must be a moment written in ISO 8601 with its time zone, "
            "like '2026-01-31T09:30:00+00:00', not 'yesterday'.",
        ),
        (exported(users="anna"), "users must be a list, not 'anna'."),  # type: ignore[arg-type]
        (exported(users=[{"id": "anna", "tenant": "acme"}]), "users[0].name is missing."),
        (
            exported(users=[{**ANNA, "id": ""}]),
            "users[0] is refused: User.id takes an id (1 to 100 printable characters), not ''.",
        ),
        (
            exported(events=[{"type": "Exploded"}]),
            "events[0] must be an object whose type is one of 'RecordCreated', 'Assigned',",
        ),
        (None, "The data must be an object, not None."),
    ],
    ids=lambda value: "" if isinstance(value, dict | type(None)) else value[:40],
)
def test_an_edited_export_is_refused_in_a_sentence_naming_the_entry(data: object, sentence: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        serde.structure(data, Snapshot)

    assert str(refused.value).startswith(sentence)


def test_several_problems_name_the_first_and_count_the_rest() -> None:
    data = exported(users=[{**ANNA, "admin": "false", "active": "no"}])

    with pytest.raises(
        InvalidValueError, match=r"^users\[0\]\.active must be true or false, not 'no' \(and 1 more\)\.$"
    ):
        serde.structure(data, Snapshot)


def test_a_whole_number_is_no_bool_and_no_string() -> None:
    told = Notification("k1", "anna", RecordRef("deal", "D-1"), "note_added", None, AT, Channel.PUSH)
    entry = serde.unstructure(OutboxEntry(told, attempts=3))

    for wrong in (True, "3", 2.0):
        with pytest.raises(InvalidValueError, match=rf"^attempts must be a whole number, not {wrong!r}\.$"):
            serde.structure({**entry, "attempts": wrong}, OutboxEntry)
    with pytest.raises(InvalidValueError, match=r"attempts are a whole number of at least 0, not -1"):
        serde.structure({**entry, "attempts": -1}, OutboxEntry)


def test_problem_turns_a_cattrs_error_tree_into_the_sentence() -> None:
    strict = serde.converter()

    with pytest.raises(ClassValidationError) as raised:
        strict.structure({"id": "anna", "tenant": "acme", "name": "Anna", "admin": "yes"}, User)

    assert serde.problem(raised.value) == "admin must be true or false, not 'yes'."


def test_what_unstructure_writes_reads_back_the_same() -> None:
    values: list[tuple[object, type]] = [
        (Tenant("acme", "Acme", plan="go", switches={"tickets", "projects"}), Tenant),
        (User("anna", "acme", "Anna", active=False, admin=True), User),
        (GroupKind.TEAM, GroupKind),
        (AT, datetime),
    ]
    for value, cls in values:
        assert serde.structure(serde.unstructure(value), cls) == value
