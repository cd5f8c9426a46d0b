"""Snapshots (src/ownership/snapshot.py): whether a snapshot could have come from a repository, without one."""

import re
from datetime import datetime, timezone

import attrs
import pytest

from ownership import (
    ActivityRecorded,
    Assigned,
    Assignee,
    Assignment,
    Group,
    GroupKind,
    InvalidValueError,
    Membership,
    Record,
    Snapshot,
    Tenant,
    User,
    serde,
)
from ownership.distribution import AutoAssignment, RoundRobin
from ownership.notify import Channel, Notification, OutboxEntry
from ownership.segments import Segment, held_by
from ownership.snapshot import Setting, check_whole
from ownership.usecases._settings import read

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
ACME, GLOBEX = Tenant("acme", "Acme"), Tenant("globex", "Globex")
ANNA, GUS = User("anna", "acme", "Anna"), User("gus", "globex", "Gus")
SALES = Group("sales", "acme", "Sales", GroupKind.TEAM)
DEAL = Record("deal", "D-1", "acme", AT)


def whole(**changes: object) -> Snapshot:
    """A small consistent snapshot: two tenants, a user each, a team, a deal Anna holds; `changes` replace parts."""
    parts: dict[str, object] = {
        "tenants": (ACME, GLOBEX),
        "users": (ANNA, GUS),
        "groups": (SALES,),
        "memberships": (Membership("sales", "anna"),),
        "records": (DEAL,),
        "assignments": (Assignment(DEAL.ref, "responsible", Assignee.user("anna"), "acme", AT),),
        "events": (Assigned(DEAL.ref, "responsible", Assignee.user("anna"), "acme", None, AT),),
    }
    return Snapshot(**{**parts, **changes})  # type: ignore[arg-type]


def test_a_snapshot_a_repository_could_give_passes() -> None:
    check_whole(whole(), read=read)


def test_a_snapshot_missing_what_it_refers_to_is_refused_naming_the_entry() -> None:
    with pytest.raises(InvalidValueError, match=r"^The snapshot does not hold the user 'anna' of a membership;"):
        check_whole(whole(users=(GUS,), assignments=(), events=()), read=read)


def test_a_snapshot_holding_anything_twice_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="holds user 'anna' twice"):
        check_whole(whole(users=(ANNA, GUS, ANNA)), read=read)


def test_a_snapshot_linking_tenants_is_refused() -> None:
    with pytest.raises(
        InvalidValueError, match="puts user 'gus' of tenant 'globex' in group 'sales' of another tenant"
    ):
        check_whole(whole(memberships=(Membership("sales", "gus"),)), read=read)
    foreign = Assignment(DEAL.ref, "responsible", Assignee.user("gus"), "acme", AT)
    with pytest.raises(InvalidValueError, match="makes user gus, of tenant 'globex', a holder of deal D-1 for 'acme'"):
        check_whole(whole(assignments=(foreign,), events=()), read=read)


def _rules(group: str) -> object:
    return serde.unstructure(AutoAssignment("deal", (RoundRobin("responsible", group),)))


LEAD = Record("lead", "L-1", "acme", AT, shared_with={"globex"})
PAUL = User("paul", "globex", "Paul")
SEEN = Notification("k1", "anna", DEAL.ref, "note_added", None, AT, Channel.IN_APP)


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        (
            {"groups": (SALES, Group("own", "acme", "Gus's own", GroupKind.CARETAKER, personal_of="gus"))},
            "makes group 'own' of tenant 'acme' the personal group of user 'gus' of another",
        ),
        (
            {"events": (Assigned(DEAL.ref, "responsible", Assignee.user("anna"), "acme", "gus", AT),)},
            "names user 'gus' of tenant 'globex' as acting on deal D-1, not shared with it",
        ),
        (
            {"events": (Assigned(DEAL.ref, "responsible", Assignee.user("gus"), "acme", None, AT),)},
            "names user gus, of tenant 'globex', a holder of deal D-1 for 'acme'",
        ),
        (
            {"events": (ActivityRecorded(DEAL.ref, "note_added", "globex", None, AT),)},
            "names tenant 'globex' in the history of deal D-1, which it has no part in",
        ),
        (
            {"outbox": (OutboxEntry(attrs.evolve(SEEN, recipient="gus")),)},
            "tells user 'gus' of tenant 'globex' of deal D-1, which is not shared with it",
        ),
        (
            {"outbox": (OutboxEntry(attrs.evolve(SEEN, actor="paul")),), "users": (ANNA, GUS, PAUL)},
            "tells user 'anna' of tenant 'acme' that user 'paul' of another tenant acted",
        ),
        (
            {"records": (DEAL, Record("contact_group", "G-1", "globex", AT), attrs.evolve(LEAD, groups={"G-1"}))},
            "puts lead L-1 of tenant 'acme' in record group 'G-1' of another tenant",
        ),
        (
            {"settings": (Setting("acme", "segments/s1", serde.unstructure(Segment("deal", held_by("gus")))),)},
            "names 'gus' of tenant 'globex' in setting 'segments/s1' of tenant 'acme'",
        ),
        (
            {"settings": (Setting("globex", "segments/s1", serde.unstructure(Segment("deal", tenant="acme"))),)},
            "keeps segment 'segments/s1' of tenant 'acme' for tenant 'globex'",
        ),
        (
            {"settings": (Setting("globex", "auto_assign/deal", _rules("sales")),)},
            "names 'sales' of tenant 'acme' in setting 'auto_assign/deal' of tenant 'globex'",
        ),
    ],
    ids=[
        "personal group",
        "actor",
        "holder in the history",
        "event tenant",
        "recipient",
        "notification actor",
        "record group",
        "segment naming a user",
        "segment of another tenant",
        "auto-assignment rule naming a team",
    ],
)
def test_a_snapshot_linking_tenants_beyond_sharing_is_refused_naming_the_entry(
    changes: dict[str, object], sentence: str
) -> None:
    with pytest.raises(InvalidValueError, match=f"^The snapshot {re.escape(sentence)}; export the whole state again.$"):
        check_whole(whole(**changes), read=read)


def test_ld7_a_partner_taking_part_in_a_shared_record_may_act_hold_and_be_told() -> None:
    by_paul = Assigned(LEAD.ref, "colleague", Assignee.user("paul"), "globex", "paul", AT, private_to="globex")
    told = OutboxEntry(Notification("k1", "paul", LEAD.ref, "assigned", "paul", AT, Channel.IN_APP), attempts=2)

    check_whole(
        whole(
            users=(ANNA, GUS, PAUL),
            records=(DEAL, LEAD),
            assignments=(Assignment(LEAD.ref, "colleague", Assignee.user("paul"), "globex", AT, "paul"),),
            events=(by_paul,),
            outbox=(told,),
        ),
        read=read,
    )


@pytest.mark.parametrize(
    ("setting", "sentence"),
    [
        (Setting("acme", "numbers/deal", {"prefix": "D-", "width": "3"}), "width must be a whole number, not '3'"),
        (Setting("acme", "auto_assign/deal", {"kind": "deal", "rules": "sales"}), "rules must be a list, not 'sales'"),
        (Setting("acme", "turns/deal", 7), "The data must be a string, not 7"),
        (Setting("acme", "colours", "blue"), "ownership keeps no setting under 'colours', only under 'numbers/...',"),
    ],
    ids=["number range", "auto-assignment", "turn", "unknown key"],
)
def test_a_setting_that_cannot_be_read_is_refused_at_restore_not_at_its_first_use(
    setting: Setting, sentence: str
) -> None:
    with pytest.raises(InvalidValueError) as refused:
        check_whole(whole(settings=(setting,)), read=read)

    said = str(refused.value)
    assert said.startswith(f"The snapshot holds setting {setting.key!r} of tenant 'acme', which cannot be read: ")
    assert sentence in said


def test_a_moment_without_its_time_zone_cannot_even_be_put_in_a_snapshot() -> None:
    with pytest.raises(InvalidValueError, match=r"^Record\.created_at takes a datetime with a time zone"):
        Record("deal", "D-1", "acme", datetime(2026, 1, 1))


def test_an_outbox_entry_counts_no_negative_attempts() -> None:
    for wrong in (-1, True, 1.5):
        with pytest.raises(InvalidValueError, match=f"attempts are a whole number of at least 0, not {wrong!r}"):
            OutboxEntry(SEEN, attempts=wrong)  # type: ignore[arg-type]
