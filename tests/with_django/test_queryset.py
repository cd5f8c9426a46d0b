"""A Django queryset filtered by `ownership.contrib.django.where` lists exactly what `can` allows (X1, X6).

Over generated worlds (every preset's rules and a host's own, tenants, admins, restricted profiles, groups,
memberships that expire, shared records), on SQLite and PostgreSQL, for every user, kind and action, the host's
rows kept by the condition are the records `can` allows; those it excludes are the rest, untracked rows too; and
the host's own conditions combine with it. Both of a host's key types: text (``Item``) and integer (``Deal``).
"""

from types import SimpleNamespace

import pytest
from django.db import connections
from django.db.models import Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext
from django_host import Deal, HostDatabase, Item, Ticket, numbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ownership import ACTIONS, Assignee, InvalidValueError, Ownership, Rulebook
from ownership.contrib.django import where
from ownership.filters import IdIn
from ownership.testing import FakeClock
from worlds import HOST_RULEBOOK, RULEBOOKS, worlds

pytest_plugins = ("django_host",)

UNTRACKED = 10_000
"""A host row `ownership` does not track: no viewer's condition keeps it, and every exclusion does."""


@pytest.mark.parametrize("rulebook", RULEBOOKS.values(), ids=RULEBOOKS.keys())
@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_x6_a_queryset_through_where_lists_exactly_what_can_allows(
    host: HostDatabase, rulebook: Rulebook, data: st.DataObject
) -> None:
    own, users = data.draw(worlds(rulebook, host.repositories(), ids=numbers))
    records = list(own.snapshot().records)
    ids = {r.id for r in records} | {str(UNTRACKED)}
    Item.objects.using(host.alias).bulk_create(Item(id=id, title=f"item {id}") for id in ids)
    Deal.objects.using(host.alias).bulk_create(Deal(id=int(id), amount=int(id) % 7) for id in ids)
    items, deals = Item.objects.using(host.alias), Deal.objects.using(host.alias)
    for user in users:
        for kind in rulebook.kinds:
            for action in ACTIONS:
                allowed = where(own.filter(user, action, kind), kind=kind)
                checked = {r.id for r in records if r.kind == kind and own.can(user, action, r)}
                assert set(items.filter(allowed).values_list("id", flat=True)) == checked, (user, kind, action)
                assert {str(pk) for pk in deals.filter(allowed).values_list("pk", flat=True)} == checked
                assert set(items.exclude(allowed).values_list("id", flat=True)) == ids - checked
                small = {id for id in checked if int(id) % 7 < 3}
                assert {str(d.pk) for d in deals.filter(allowed, amount__lt=3)} == small, "with the host's own"
                assert deals.filter(allowed).count() == len(checked)


@pytest.fixture
def small_world(host: HostDatabase) -> tuple[Ownership, HostDatabase]:
    """Two sellers of one tenant, and an admin, under a host's rule: each seller sees their own deal, the admin both."""
    own = Ownership(HOST_RULEBOOK, host.repositories()(), clock=FakeClock(), ids=numbers())
    own.add_tenant("acme")
    for user in ("anna", "bob"):
        own.add_user("acme", user.title(), id=user)
    own.add_user("acme", "Ada", id="ada", admin=True)
    for user in ("anna", "bob"):
        own.create("deal", actor=user, holders={"owner": Assignee.user(user)})
    Deal.objects.using(host.alias).bulk_create(Deal(id=int(r.id), title=r.id) for r in own.snapshot().records)
    return own, host


def test_x6_the_queryset_is_one_query_that_pages_and_orders_as_the_host_asks(
    small_world: tuple[Ownership, HostDatabase],
) -> None:
    own, host = small_world
    deals = Deal.objects.using(host.alias)
    with CaptureQueriesContext(connections[host.alias]) as queries:
        anna = list(deals.filter(where(own.filter("anna", "view", "deal"), kind="deal")))
        ada = list(deals.filter(where(own.filter("ada", "view", "deal"), kind="deal")).order_by("-id")[:1])
    assert [d.id for d in anna] == [1]
    assert [d.id for d in ada] == [2], "the admin's page, newest first, stops at its limit"
    assert len(queries) == 2, "each list is one query, ownership's condition inside the host's own"


def test_a_database_the_condition_cannot_run_on_is_refused_with_what_to_do_instead(
    small_world: tuple[Ownership, HostDatabase],
) -> None:
    own, host = small_world
    queryset = Deal.objects.using(host.alias).filter(where(own.filter("anna", "view", "deal"), kind="deal"))
    condition = queryset.query.where.children[0].lhs  # the condition as Django resolved it
    other = SimpleNamespace(vendor="oracle")
    with pytest.raises(InvalidValueError, match="visible_ids"):
        condition.as_sql(queryset.query.get_compiler(using=host.alias), other)


def test_an_integer_key_stays_a_bigint_however_large_the_ids_of_the_kind(
    small_world: tuple[Ownership, HostDatabase],
) -> None:
    own, host = small_world
    own.create("deal", id=str(2**40), actor="anna", holders={"owner": Assignee.user("anna")})
    deals = Deal.objects.using(host.alias).filter(where(own.filter("anna", "view", "deal"), kind="deal"))
    assert [d.id for d in deals] == [1], "a record beyond a 4-byte key names no row, and breaks no query"


def test_a_key_that_cannot_be_matched_with_text_ids_is_refused(small_world: tuple[Ownership, HostDatabase]) -> None:
    own, host = small_world
    allowed = own.filter("anna", "view", "deal")
    with pytest.raises(InvalidValueError, match="UUIDField"):
        list(Ticket.objects.using(host.alias).filter(where(allowed, kind="deal")))
    labelled = Deal.objects.using(host.alias).filter(where(allowed, kind="deal", field=Concat(Value("D-"), "id")))
    with pytest.raises(InvalidValueError, match="not an expression with values"):
        list(labelled)


def test_records_granted_past_the_databases_ceiling_on_parameters_are_one_value_in_the_queryset(
    small_world: tuple[Ownership, HostDatabase],
) -> None:
    """70,000 granted ids, more than SQLite or PostgreSQL binds one by one: the queryset still runs, and right."""
    _, host = small_world
    granted = IdIn(frozenset({"2", *(f"gone-{n}" for n in range(70_000))}))
    deals = Deal.objects.using(host.alias)
    assert [d.id for d in deals.filter(where(granted, kind="deal"))] == [2]
    assert [d.id for d in deals.exclude(where(granted, kind="deal"))] == [1]
