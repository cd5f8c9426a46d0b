"""`ownership`'s tables as Django models: the host's ORM reads them as `ownership` wrote them, and never writes them.

On SQLite and PostgreSQL, with the app's migrations applied as a host applies them.
"""

from datetime import datetime, timedelta, timezone
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext
from django_host import Deal, HostDatabase, numbers
from sqlalchemy import select, update

from ownership import Assignee, GroupKind, InvalidValueError, Ownership, Profile, RecordRef, presets
from ownership.adapters.sql import SCHEMA_VERSION, metadata, schema_table
from ownership.contrib.django import DjangoRepository
from ownership.contrib.django.models import (
    EventRow,
    FollowerRow,
    GrantRow,
    GroupRow,
    HoldingRow,
    MembershipRow,
    OutboxRow,
    RecordRow,
    TenantRow,
    UserRow,
)
from ownership.testing import FakeClock

pytest_plugins = ("django_host",)

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
ROWS = (EventRow, FollowerRow, GrantRow, GroupRow, HoldingRow, MembershipRow, OutboxRow, RecordRow, TenantRow, UserRow)


@pytest.fixture
def crm(host: HostDatabase) -> Ownership:
    """Anna (restricted to her own deals) and Bob at acme, in team Sales till a week from now; deals 1-3, Anna's."""
    host.empty()
    own = Ownership(presets.account_managers(), DjangoRepository(host.alias), clock=FakeClock(START), ids=numbers())
    own.add_tenant("acme", plan="go")
    own.add_user("acme", "Anna", id="anna", profile=Profile(restricted={"deal"}))
    own.add_user("acme", "Bob", id="bob")
    own.add_group("acme", "Sales", GroupKind.TEAM, id="sales")
    own.add_member("sales", "bob", until=START + timedelta(days=7))
    for title in ("Fleet", "Lamps", "Desks"):
        deal = Deal.objects.using(host.alias).create(title=title)
        own.create("deal", id=str(deal.pk), actor="anna", labels={"north"})
    return own


def test_the_models_are_the_tables_column_for_column_and_migrations_have_every_change() -> None:
    for row in ROWS:
        table = metadata.tables[row._meta.db_table]
        assert {f.column for f in row._meta.concrete_fields} == {c.name for c in table.columns}, row.__name__
        assert not row._meta.managed
    changes = StringIO()
    call_command("makemigrations", "ownership", "--check", "--dry-run", stdout=changes)
    assert "No changes detected" in changes.getvalue()


def test_the_orm_reads_users_groups_and_records_as_ownership_wrote_them(crm: Ownership, host: HostDatabase) -> None:
    users = UserRow.objects.using(host.alias)
    assert users.get(id="anna").restricted == frozenset({"deal"}), "a set of names reads as a frozenset"
    assert sorted(users.filter(tenant="acme").values_list("id", flat=True)) == ["anna", "bob"]
    assert TenantRow.objects.using(host.alias).get(id="acme").plan == "go"
    assert GroupRow.objects.using(host.alias).get(id="sales").kind == "team"
    [membership] = MembershipRow.objects.using(host.alias).all()
    assert (membership.group_id, membership.user_id, membership.until) == ("sales", "bob", START + timedelta(days=7))
    records = RecordRow.objects.using(host.alias).filter(kind="deal").order_by("id")
    assert [(r.id, r.labels, r.created_at) for r in records] == [
        (str(d.pk), frozenset({"north"}), START) for d in Deal.objects.using(host.alias).order_by("id")
    ]
    assert (
        EventRow.objects.using(host.alias).filter(kind="deal").count()
        == len(crm.history(RecordRef("deal", records[0].id))) * 3
    )


def test_a_list_of_deals_shows_each_owner_in_one_query(crm: Ownership, host: HostDatabase) -> None:
    first = Deal.objects.using(host.alias).order_by("id").first()
    assert first is not None
    anna, bob = Assignee.user("anna"), Assignee.user("bob")
    crm.replace(RecordRef("deal", str(first.pk)), "responsible", anna, bob, actor="anna")
    held = HoldingRow.objects.filter(kind="deal", record_id=Cast(OuterRef("pk"), CharField()), role="responsible")
    deals = Deal.objects.using(host.alias).order_by("id").annotate(holder=Subquery(held.values("assignee_id")[:1]))
    with CaptureQueriesContext(connections[host.alias]) as queries:
        listed = [(d.pk, d.holder) for d in deals]
    assert len(queries) == 1
    assert listed == [
        (d.pk, crm.holders(RecordRef("deal", str(d.pk)), "responsible")[0].id)
        for d in Deal.objects.using(host.alias).order_by("id")
    ]
    assert listed[0][1] == "bob"


def test_the_outbox_and_the_history_read_their_json(crm: Ownership, host: HostDatabase) -> None:
    first = Deal.objects.using(host.alias).order_by("id").first()
    assert first is not None
    deal = RecordRef("deal", str(first.pk))
    crm.replace(deal, "responsible", Assignee.user("anna"), Assignee.user("bob"), actor="anna")
    pending = {entry.notification.key for entry in crm.outbox(pending=True)}
    rows = list(OutboxRow.objects.using(host.alias).filter(delivered=False, dead=False))
    assert pending, "bob was told"
    assert {row.key for row in rows} == pending
    assert all(isinstance(row.body, dict) for row in rows), "the notification, as JSON (json on PostgreSQL)"
    bodies = EventRow.objects.using(host.alias).filter(kind="deal", record_id=deal.id).values_list("body", flat=True)
    assert [type(body) for body in bodies] == [dict] * len(crm.history(deal))


def test_a_set_of_names_is_compared_as_one(crm: Ownership, host: HostDatabase) -> None:
    users = UserRow.objects.using(host.alias)
    assert list(users.filter(restricted={"deal"}).values_list("id", flat=True)) == ["anna"]
    assert RecordRow.objects.using(host.alias).filter(labels=["north"]).count() == 3


def test_writing_through_the_orm_is_refused_and_changes_nothing(crm: Ownership, host: HostDatabase) -> None:
    users = UserRow.objects.using(host.alias)
    anna = users.get(id="anna")
    anna.name = "Someone else"
    with pytest.raises(InvalidValueError, match="through the ORM"):
        anna.save(using=host.alias)
    with pytest.raises(InvalidValueError, match="UserRow"):
        users.filter(id="anna").update(name="Someone else")
    with pytest.raises(InvalidValueError):
        users.filter(id="anna").delete()
    with pytest.raises(InvalidValueError):
        anna.delete()
    with pytest.raises(InvalidValueError):
        users.bulk_create([anna])
    with pytest.raises(InvalidValueError):
        UserRow._base_manager.using(host.alias).filter(id="anna").update(admin=True)
    with pytest.raises(InvalidValueError):
        anna.save_base(using=host.alias)
    with pytest.raises(InvalidValueError):
        users.create(id="zed", tenant="acme", name="Zed", active=True, admin=False, restricted=frozenset(), push=False)
    assert (crm.user("anna").name, crm.user("anna").admin) == ("Anna", False)
    assert [u.id for u in crm.users("acme")] == ["anna", "bob"]


def test_migrate_brings_tables_of_an_earlier_version_to_this_one_keeping_their_rows(
    crm: Ownership, host: HostDatabase
) -> None:
    call_command("migrate", "ownership", "0002", database=host.alias, verbosity=0)
    with host.engine.begin() as connection:  # as version 4 made them: users without manager and traits, no grants
        connection.exec_driver_sql("DROP TABLE ownership_grants")
        connection.exec_driver_sql("DROP TABLE ownership_followers")
        connection.exec_driver_sql("ALTER TABLE ownership_users DROP COLUMN manager")
        connection.exec_driver_sql("ALTER TABLE ownership_users DROP COLUMN traits")
        connection.execute(update(schema_table).values(version=4))
    call_command("migrate", "ownership", database=host.alias, verbosity=0)
    with host.engine.connect() as connection:
        assert connection.execute(select(schema_table.c.version)).scalars().all() == [SCHEMA_VERSION]
    assert [(u.id, u.manager, u.traits) for u in crm.users("acme")] == [
        ("anna", None, frozenset()),
        ("bob", None, frozenset()),
    ]
    crm.report_to("bob", "anna")
    assert UserRow.objects.using(host.alias).get(id="bob").manager == "anna"
