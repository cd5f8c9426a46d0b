"""`track`: a model's saves and deletes keep `ownership`'s records in step with its rows (X8).

With the bound `Ownership` on `DjangoRepository`, in the save's own transaction: a save rolled back, or refused,
keeps nothing of either. With it on a `SqlRepository` (another connection), once the save commits, never before.
"""

from collections.abc import Callable, Iterator

import pytest
from django.db import transaction
from django_host import Deal, HostDatabase, numbers

from ownership import Assignee, Ownership, RecordRef, UnknownUserError, presets
from ownership.contrib.django import DjangoRepository, bind, track, untrack
from ownership.contrib.django.host import _BOUND
from ownership.ports import Repository
from ownership.testing import FakeClock

pytest_plugins = ("django_host",)


def _crm(repository: Repository) -> Ownership:
    own = Ownership(presets.account_managers(), repository, clock=FakeClock(), ids=numbers())
    own.add_tenant("acme")
    for name in ("anna", "bob"):
        own.add_user("acme", name.title(), id=name)
    bind(own, kinds={Deal: "deal"})
    track(Deal, tenant="acme", holders=lambda deal: {"responsible": Assignee.user(deal.owner)})
    return own


@pytest.fixture
def tracked(host: HostDatabase) -> Iterator[Callable[[str], Ownership]]:
    """An Ownership on the host's database, through Django's connection or a connection of its own; Deal tracked."""

    def make(through: str) -> Ownership:
        host.empty()
        return _crm(DjangoRepository(host.alias) if through == "django" else host.repositories()())

    yield make
    untrack(Deal)
    _BOUND.clear()


def _holder(own: Ownership, id: int) -> list[str]:
    return [a.id for a in own.holders(RecordRef("deal", str(id)), "responsible")]


def test_x8_saves_and_deletes_keep_the_records_in_step_in_the_save_s_transaction(
    tracked: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = tracked("django")
    deals = Deal.objects.using(host.alias)
    with transaction.atomic(using=host.alias):
        deal = deals.create(title="Fleet renewal", owner="anna")
    assert _holder(own, deal.id) == ["anna"]
    deal.owner = "bob"
    deal.save(using=host.alias)
    assert _holder(own, deal.id) == ["bob"], "a changed row changes its holders"
    deal.delete(using=host.alias)
    assert own.snapshot().records == (), "a deleted row takes its record with it"


def test_x8_a_save_rolled_back_or_refused_keeps_nothing_of_either(
    tracked: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = tracked("django")
    deals = Deal.objects.using(host.alias)

    def save(owner: str, *, fail: bool) -> None:
        with transaction.atomic(using=host.alias):
            deals.create(title="Fleet renewal", owner=owner)
            if fail:
                raise RuntimeError("the host's request failed")

    with pytest.raises(RuntimeError):
        save("anna", fail=True)
    with pytest.raises(UnknownUserError):
        save("nobody", fail=False)
    assert not deals.exists()
    assert own.snapshot().records == ()


def test_x8_on_another_connection_the_records_follow_once_the_save_commits(
    tracked: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = tracked("sql")
    deals = Deal.objects.using(host.alias)
    with transaction.atomic(using=host.alias):
        deal = deals.create(title="Fleet renewal", owner="anna")
        assert own.snapshot().records == (), "not before the save commits"
    assert _holder(own, deal.id) == ["anna"]

    def lost() -> None:
        with transaction.atomic(using=host.alias):
            deals.create(title="Lost", owner="bob")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        lost()
    assert [r.id for r in own.snapshot().records] == [str(deal.id)], "a save rolled back is never recorded"
