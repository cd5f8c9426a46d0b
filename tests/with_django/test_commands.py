"""``manage.py ownership COMMAND``: the command line on the host's bound `Ownership`, with its exit codes."""

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_host import Deal, HostDatabase, numbers

from ownership import Access, Assignee, Ownership, Policy, Role, Rulebook
from ownership.access import holds, is_admin
from ownership.contrib.django import DjangoRepository, bind
from ownership.contrib.django.host import _BOUND
from ownership.testing import FakeClock

pytest_plugins = ("django_host",)

RULES = Rulebook(
    (Policy("deal", (Role("owner", min=1, grants_access=True),), access=Access(view=is_admin | holds("owner"))),)
)


@pytest.fixture
def crm(host: HostDatabase) -> Iterator[Ownership]:
    """Anna owns deal 1, an admin Ada sees it; bound, as a Django host binds its Ownership, on Django's connection."""
    host.empty()
    own = Ownership(RULES, DjangoRepository(host.alias), clock=FakeClock(), ids=numbers())
    own.add_tenant("acme")
    for name, admin in (("anna", False), ("bob", False), ("ada", True)):
        own.add_user("acme", name.title(), id=name, admin=admin)
    own.create("deal", actor="anna", holders={"owner": Assignee.user("anna")})
    bind(own, kinds={Deal: "deal"})
    yield own
    _BOUND.clear()


def test_the_command_line_runs_on_the_bound_ownership(crm: Ownership, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("ownership", "audit")
    assert "Nothing to fix in 1 tenant." in capsys.readouterr().out
    call_command("ownership", "holders", "deal:1")
    assert "anna" in capsys.readouterr().out
    call_command("ownership", "who-can", "deal:1")
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]] == ["ada", "anna"]
    call_command("ownership", "transfer", "--from", "anna", "--to", "bob", "--actor", "ada")
    assert "Anna gave up 1 holding to Bob." in capsys.readouterr().out
    assert [a.id for a in crm.holders(crm.record("deal", "1"), "owner")] == ["bob"]


def test_a_command_that_finds_or_refuses_ends_with_its_exit_code(crm: Ownership) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("ownership", "explain", "bob", "deal:1")
    assert refused.value.returncode == 1
    with pytest.raises(CommandError) as failed:
        call_command("ownership", "holders", "deal:404")
    assert failed.value.returncode == 2
    assert [a.id for a in crm.holders(crm.record("deal", "1"), "owner")] == ["anna"], "a refusal changes nothing"
