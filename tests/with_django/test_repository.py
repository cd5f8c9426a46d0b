"""`DjangoRepository` keeps every promise of the repository contract (X8) on Django's own connection, and joins the
host's transaction: the host's rows and `ownership`'s are kept together or not at all, on SQLite and PostgreSQL.
"""

import pytest
from django.core.management import call_command
from django.db import transaction
from django_host import Deal, HostDatabase
from sqlalchemy import func, inspect, select

from ownership import Assignee, MandatoryRoleError, Ownership, presets
from ownership.adapters.sql import records
from ownership.contrib.django import DjangoRepository
from ownership.ports import Repository
from ownership.testing import FakeClock
from ownership.testing.contract import RepositoryContract

pytest_plugins = ("django_host",)


class TestDjangoRepositoryOnSqlite(RepositoryContract):
    @pytest.fixture(autouse=True)
    def _host(self, sqlite_host: HostDatabase) -> None:
        self.host = sqlite_host

    def make_repository(self) -> Repository:
        self.host.empty()
        return DjangoRepository(self.host.alias)


@pytest.mark.postgresql
class TestDjangoRepositoryOnPostgres(RepositoryContract):
    @pytest.fixture(autouse=True)
    def _host(self, postgresql_host: HostDatabase) -> None:
        self.host = postgresql_host

    def make_repository(self) -> Repository:
        self.host.empty()
        return DjangoRepository(self.host.alias)


@pytest.fixture
def crm(host: HostDatabase) -> Ownership:
    """A tenant with two sellers, on the host's database through Django's connection."""
    host.empty()
    own = Ownership(presets.account_managers(), DjangoRepository(host.alias), clock=FakeClock())
    own.add_tenant("acme")
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    return own


def _tracked(host: HostDatabase) -> int:
    """How many records `ownership`'s tables hold, read apart from Django, as another process would."""
    with host.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(records)).scalar_one())


def test_x8_the_host_s_rows_and_ownership_s_are_kept_together(crm: Ownership, host: HostDatabase) -> None:
    with transaction.atomic(using=host.alias):
        deal = Deal.objects.using(host.alias).create(title="Fleet renewal")
        crm.create("deal", id=str(deal.pk), actor="anna", holders={"responsible": Assignee.user("anna")})
    assert _tracked(host) == 1
    assert [a.id for a in crm.holders(crm.record("deal", str(deal.pk)), "responsible")] == ["anna"]


def test_x8_a_host_transaction_rolled_back_takes_ownership_s_writes_with_it(crm: Ownership, host: HostDatabase) -> None:
    def request() -> None:
        with transaction.atomic(using=host.alias):
            deal = Deal.objects.using(host.alias).create(title="Fleet renewal")
            crm.create("deal", id=str(deal.pk), actor="anna", holders={"responsible": Assignee.user("anna")})
            raise RuntimeError("the host's request failed")

    with pytest.raises(RuntimeError, match="the host's request failed"):
        request()
    assert Deal.objects.using(host.alias).count() == 0
    assert _tracked(host) == 0


def test_x8_a_refused_use_case_takes_back_only_its_own_part_and_the_host_goes_on(
    crm: Ownership, host: HostDatabase
) -> None:
    with transaction.atomic(using=host.alias):
        deal = Deal.objects.using(host.alias).create(title="Fleet renewal")
        record = crm.create("deal", id=str(deal.pk), actor="anna", holders={"responsible": Assignee.user("anna")})
        with pytest.raises(MandatoryRoleError):
            crm.unassign(record, "responsible", Assignee.user("anna"), actor="anna")
        Deal.objects.using(host.alias).filter(pk=deal.pk).update(title="Fleet renewal, signed")
    assert Deal.objects.using(host.alias).get().title == "Fleet renewal, signed"
    assert [a.id for a in crm.holders(record, "responsible")] == ["anna"]


def test_x8_outside_a_host_transaction_each_use_case_is_kept_at_once(crm: Ownership, host: HostDatabase) -> None:
    crm.create("deal", id="7", actor="anna", holders={"responsible": Assignee.user("bob")})
    assert _tracked(host) == 1, "kept when the call returns, as another connection reads it"


def test_the_app_s_migration_makes_ownership_s_tables_and_its_reverse_drops_them(host: HostDatabase) -> None:
    call_command("migrate", "ownership", "zero", database=host.alias, verbosity=0)
    assert not inspect(host.engine).has_table(records.name)
    call_command("migrate", "ownership", database=host.alias, verbosity=0)
    assert inspect(host.engine).has_table(records.name)
    own = Ownership(presets.account_managers(), DjangoRepository(host.alias), clock=FakeClock())
    own.add_tenant("acme")
    assert [t.id for t in own.tenants()] == ["acme"]


def test_django_s_own_sqlite_functions_stay_django_s(crm: Ownership, host: HostDatabase) -> None:
    crm.create("deal", id="7", actor="anna", holders={"responsible": Assignee.user("bob")})
    Deal.objects.using(host.alias).create(id=7, title="Fleet renewal")
    assert Deal.objects.using(host.alias).filter(title__regex=r"^Fleet").count() == 1
    assert Deal.objects.using(host.alias).filter(amount__regex=r"^0$").count() == 1, "Django's regexp takes numbers"
