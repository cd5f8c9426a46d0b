"""Snapshots (src/ownership/snapshot.py): whether a snapshot could have come from a repository, without one."""

from datetime import datetime, timezone

import pytest

from ownership import (
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
)
from ownership.snapshot import check_whole
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
