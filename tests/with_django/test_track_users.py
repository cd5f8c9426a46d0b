"""`track_users`: the host's users, and the groups they are in, kept in step with `ownership`'s directory (X8).

The host's people are Django users. Who one is to `ownership` is the mapping the host gives: their username,
their full name, active as Django says, an admin when a superuser, and in the caretaker groups of their Django
groups (by name) and their departments (``dept-<id>``), a relation declared on the department's side.
"""

import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.signals import user_logged_in
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django_host import Card, Department, Group, HostDatabase, StaffUser, User

from ownership import GroupKind, HostUser, InvalidValueError, Ownership, UnknownGroupError, presets
from ownership.contrib.django import DjangoRepository, bind, reconcile_tracked_users, track_users, untrack_users
from ownership.contrib.django.host import _BOUND
from ownership.testing import FakeClock

pytest_plugins = ("django_host",)

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def person(user: Any) -> HostUser | None:
    """Who a Django user is to `ownership`; a service account (``svc-``) is no one there."""
    if user.username.startswith("svc-"):
        return None
    groups = {g.name for g in user.groups.all()} | {f"dept-{d.pk}" for d in user.departments.all()}
    return HostUser(
        user.username,
        user.get_full_name() or user.username,
        active=user.is_active,
        admin=user.is_superuser,
        groups=groups,
    )


@pytest.fixture
def directory(host: HostDatabase) -> Iterator[Callable[[str], Ownership]]:
    """An Ownership on the host's database (through Django's connection, or one of its own), its users tracked."""

    def make(through: str) -> Ownership:
        host.empty()
        repository = DjangoRepository(host.alias) if through == "django" else host.repositories()()
        own = Ownership(presets.account_managers(), repository, clock=FakeClock(START))
        own.add_tenant("acme")
        own.add_group("acme", "Sales", GroupKind.CARETAKER, id="sales")
        bind(own, kinds={})
        track_users(person, tenant="acme", links=["groups", "departments"])
        return own

    yield make
    untrack_users()
    _BOUND.clear()


def _department(host: HostDatabase, own: Ownership, name: str) -> Any:
    department = Department.objects.using(host.alias).create(name=name)
    own.add_group("acme", name, GroupKind.CARETAKER, id=f"dept-{department.pk}")
    return department


def _groups(own: Ownership, user: str) -> set[str]:
    return {g.id for g in own.groups_of(user)}


def test_x8_a_user_saved_is_a_user_named_active_and_admin_as_django_says(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("django")
    anna = User.objects.db_manager(host.alias).create_user("anna", first_name="Anna", last_name="Berg")
    assert (own.user("anna").name, own.user("anna").active, own.user("anna").admin) == ("Anna Berg", True, False)
    anna.is_superuser = True
    anna.save(using=host.alias)
    assert own.user("anna").admin, "a superuser is an admin: has_perm and visible_to agree for them"
    anna.is_active = False
    anna.save(using=host.alias)
    assert not own.user("anna").active, "one Django deactivates has left"


def test_x8_django_groups_changed_from_either_side_are_ownership_s_groups(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("django")
    anna = User.objects.db_manager(host.alias).create_user("anna")
    bob = User.objects.db_manager(host.alias).create_user("bob")
    sales = Group.objects.using(host.alias).create(name="sales")
    anna.groups.add(sales)
    assert _groups(own, "anna") == {"sales"}
    sales.user_set.add(bob)
    assert _groups(own, "bob") == {"sales"}, "linked from the group's side"
    sales.user_set.clear()
    assert _groups(own, "anna") == _groups(own, "bob") == set(), "a group cleared of its users"
    anna.groups.add(sales)
    anna.groups.remove(sales)
    assert _groups(own, "anna") == set()


def test_x8_departments_declared_on_their_own_side_are_caretaker_groups(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("django")
    anna = User.objects.db_manager(host.alias).create_user("anna")
    bob = User.objects.db_manager(host.alias).create_user("bob")
    north = _department(host, own, "North")
    north.members.add(anna, bob)
    assert _groups(own, "anna") == _groups(own, "bob") == {f"dept-{north.pk}"}
    north.members.remove(bob)
    assert _groups(own, "bob") == set()
    anna.departments.clear()
    assert _groups(own, "anna") == set(), "cleared from the user's side"
    north.members.add(anna, bob)
    north.members.clear()
    assert _groups(own, "anna") == _groups(own, "bob") == set(), "a department cleared of its members"


def test_x8_a_user_deleted_has_left_and_keeps_their_groups_and_history(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("django")
    anna = User.objects.db_manager(host.alias).create_user("anna")
    Group.objects.using(host.alias).create(name="sales").user_set.add(anna)
    anna.delete(using=host.alias)
    assert not own.user("anna").active
    assert _groups(own, "anna") == {"sales"}, "who was in which group stays, as their holdings do"


def test_x8_a_cover_for_a_while_is_ownership_s_own(directory: Callable[[str], Ownership], host: HostDatabase) -> None:
    own = directory("django")
    anna = User.objects.db_manager(host.alias).create_user("anna")
    north = _department(host, own, "North")
    own.add_member("sales", "anna", until=START + timedelta(days=7))  # a deputy, for a week
    north.members.add(anna)
    assert _groups(own, "anna") == {"sales", f"dept-{north.pk}"}


def test_x8_a_refused_mapping_takes_the_save_back(directory: Callable[[str], Ownership], host: HostDatabase) -> None:
    own = directory("django")
    anna = User.objects.db_manager(host.alias).create_user("anna")
    ghost = Group.objects.using(host.alias).create(name="ghost")  # no group of ownership's
    with pytest.raises(UnknownGroupError, match="ghost"), transaction.atomic(using=host.alias):
        anna.groups.add(ghost)
    assert not anna.groups.exists(), "the link was taken back with the refusal"
    assert _groups(own, "anna") == set()


def test_x8_no_one_to_ownership_is_left_out(directory: Callable[[str], Ownership], host: HostDatabase) -> None:
    own = directory("django")
    User.objects.db_manager(host.alias).create_user("svc-backup")
    assert own.users("acme") == ()


def test_x8_on_a_repository_of_its_own_the_users_follow_once_the_save_commits(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("sql")
    with transaction.atomic(using=host.alias):
        User.objects.db_manager(host.alias).create_user("anna")
        assert own.users("acme") == (), "nothing before the save commits"
    assert own.user("anna").active

    def lost() -> None:
        with transaction.atomic(using=host.alias):
            User.objects.db_manager(host.alias).create_user("bob")
            raise RuntimeError("the host's request failed")

    with pytest.raises(RuntimeError):
        lost()
    assert [u.id for u in own.users("acme")] == ["anna"], "a save rolled back adds no one"


def test_x8_a_link_that_is_no_many_to_many_relation_is_refused(directory: Callable[[str], Ownership]) -> None:
    directory("django")
    with pytest.raises(InvalidValueError, match="no many-to-many relation 'username'"):
        track_users(person, tenant="acme", links=["username"])


def test_x8_every_user_brought_in_step_at_once_after_writes_that_sent_no_signal(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("django")
    User.objects.db_manager(host.alias).create_user("anna")
    User.objects.db_manager(host.alias).create_user("bob")
    own.add_user("acme", "Carl", id="carl")  # in ownership only: no Django user names them
    User.objects.using(host.alias).filter(username="bob").update(is_superuser=True)  # no signal

    [drift] = reconcile_tracked_users(using=host.alias, dry_run=True)
    assert (drift.deactivated, [d.id for d in drift.changed], drift.applied) == (("carl",), ["bob"], False)
    assert not own.user("bob").admin, "a dry run changes nothing"
    [drift] = reconcile_tracked_users(using=host.alias)
    assert own.user("bob").admin
    assert not own.user("carl").active, "a user no Django user maps to has left"
    assert reconcile_tracked_users(using=host.alias)[0].in_step


def test_x8_manage_py_ownership_reconcile_users_reads_the_tracked_users(
    directory: Callable[[str], Ownership], host: HostDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    own = directory("django")
    User.objects.db_manager(host.alias).create_user("anna")
    own.add_user("acme", "Carl", id="carl")
    with pytest.raises(CommandError) as found:
        call_command("ownership", "reconcile-users", "--dry-run", "--database", host.alias)
    assert found.value.returncode == 1
    assert "would deactivate: carl" in capsys.readouterr().out
    assert own.user("carl").active
    with pytest.raises(CommandError):
        call_command("ownership", "reconcile-users", "--database", host.alias)
    assert "deactivated: carl" in capsys.readouterr().out
    assert not own.user("carl").active
    call_command("ownership", "reconcile-users", "--json", "--database", host.alias)
    assert [d["deactivated"] for d in json.loads(capsys.readouterr().out)] == [[]], "in step: exit code 0"


# --- what a CRM in production does to its users (review of issue 18) ---------------------------------------


def test_x8_a_sign_in_saves_only_last_login_and_reconciles_no_one(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("django")
    anna = User.objects.db_manager(host.alias).create_user("anna", first_name="Anna")
    own.update_user("anna", name="Anna (ownership's)")
    user_logged_in.send(sender=User, request=None, user=anna)  # Django's login() saves last_login alone
    assert own.user("anna").name == "Anna (ownership's)", "a sign-in is no change of who they are"
    anna.save(using=host.alias, update_fields=["first_name"])
    assert own.user("anna").name == "Anna"


def test_x8_saves_of_fields_the_mapping_does_not_read_are_passed_by(host: HostDatabase) -> None:
    host.empty()
    own = Ownership(presets.account_managers(), DjangoRepository(host.alias), clock=FakeClock(START))
    own.add_tenant("acme")
    bind(own, kinds={})
    track_users(person, tenant="acme", fields={"username", "first_name", "last_name", "is_active", "is_superuser"})
    try:
        anna = User.objects.db_manager(host.alias).create_user("anna")
        own.update_user("anna", admin=True)
        anna.save(using=host.alias, update_fields=["email"])
        assert own.user("anna").admin, "the mapping reads no email"
        anna.save(using=host.alias, update_fields=["email", "is_superuser"])
        assert not own.user("anna").admin
    finally:
        untrack_users()
        _BOUND.clear()


def test_x8_links_to_groups_ownership_keeps_survive_the_host_s_changes(host: HostDatabase) -> None:
    host.empty()
    own = Ownership(presets.account_managers(), DjangoRepository(host.alias), clock=FakeClock(START))
    own.add_tenant("acme")
    own.add_group("acme", "Spanish", GroupKind.COMPETENCE, id="spanish")  # an admin links people to it in ownership
    bind(own, kinds={})
    track_users(person, tenant="acme", links=["departments"], host_groups=lambda g: g.id.startswith("dept-"))
    try:
        anna = User.objects.db_manager(host.alias).create_user("anna")
        own.add_member("spanish", "anna")
        north = _department(host, own, "North")
        north.members.add(anna)
        north.members.remove(anna)
        assert _groups(own, "anna") == {"spanish"}
    finally:
        untrack_users()
        _BOUND.clear()


def test_x8_a_proxy_of_the_user_model_is_tracked_as_the_model(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("django")
    staffer = StaffUser.objects.db_manager(host.alias).create_user("staffer")
    assert own.user("staffer").active
    staffer.is_superuser = True
    staffer.save(using=host.alias)
    assert own.user("staffer").admin
    staffer.delete(using=host.alias)
    assert not own.user("staffer").active


def test_x8_a_department_or_group_deleted_takes_its_members_links_with_it(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("django")
    anna = User.objects.db_manager(host.alias).create_user("anna")
    north = _department(host, own, "North")
    north.members.add(anna)
    sales = Group.objects.using(host.alias).create(name="sales")
    anna.groups.add(sales)
    assert _groups(own, "anna") == {"sales", f"dept-{north.pk}"}
    north.delete()
    sales.delete()
    assert _groups(own, "anna") == set()


def test_x8_a_link_written_to_django_s_own_table_sends_no_signal_and_a_whole_reconcile_finds_it(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("django")
    anna = User.objects.db_manager(host.alias).create_user("anna")
    north = _department(host, own, "North")
    Department.members.through.objects.using(host.alias).create(department=north, user=anna)
    assert _groups(own, "anna") == set(), "Django sends no signal for a row of the table it made for a relation"
    [drift] = reconcile_tracked_users(using=host.alias)
    assert [c.joined for c in drift.changed] == [(f"dept-{north.pk}",)]
    assert _groups(own, "anna") == {f"dept-{north.pk}"}


def test_x8_a_user_deleted_with_relations_the_delete_takes_leaves_in_step(host: HostDatabase) -> None:
    host.empty()
    own = Ownership(presets.account_managers(), DjangoRepository(host.alias), clock=FakeClock(START))
    own.add_tenant("acme")
    bind(own, kinds={})
    track_users(
        lambda user: HostUser(user.username, card.display if (card := getattr(user, "card", None)) else "?"),
        tenant="acme",
    )
    try:
        anna = User.objects.db_manager(host.alias).create_user("anna")
        Card.objects.using(host.alias).create(user=anna, display="Anna Berg")
        anna.save(using=host.alias)
        anna.delete(using=host.alias)  # her card goes first, then she does
        assert (own.user("anna").name, own.user("anna").active) == ("Anna Berg", False)
    finally:
        untrack_users()
        _BOUND.clear()


def test_x8_on_a_repository_of_its_own_a_refusal_after_commit_is_logged_and_the_host_s_callbacks_run(
    directory: Callable[[str], Ownership], host: HostDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    own = directory("sql")
    anna = User.objects.db_manager(host.alias).create_user("anna")
    ghost = Group.objects.using(host.alias).create(name="ghost")  # no group of ownership's
    welcomed: list[str] = []
    with caplog.at_level(logging.ERROR, logger="ownership"), transaction.atomic(using=host.alias):
        anna.groups.add(ghost)
        transaction.on_commit(lambda: welcomed.append("anna"), using=host.alias)
    assert welcomed == ["anna"], "the host's own callbacks still run"
    assert "ownership is out of step with the users anna" in caplog.text
    assert _groups(own, "anna") == set()


def test_x8_fixtures_loaded_are_passed_by_relations_and_all(
    directory: Callable[[str], Ownership], host: HostDatabase, tmp_path: Path
) -> None:
    own = directory("django")
    ghost = Group.objects.using(host.alias).create(name="ghost")
    fixture = tmp_path / "people.json"
    fixture.write_text(
        json.dumps(
            [{"model": "auth.user", "pk": 4242, "fields": {"username": "lena", "password": "", "groups": [ghost.pk]}}]
        )
    )
    call_command("loaddata", str(fixture), database=host.alias, verbosity=0)
    assert own.users("acme") == (), "a fixture says nothing of ownership: reconcile_tracked_users after"
    assert User.objects.using(host.alias).get(pk=4242).groups.count() == 1


def test_x8_tracking_again_with_fewer_links_stops_following_the_others(
    directory: Callable[[str], Ownership], host: HostDatabase
) -> None:
    own = directory("django")
    track_users(person, tenant="acme", links=["groups"])
    anna = User.objects.db_manager(host.alias).create_user("anna")
    north = _department(host, own, "North")
    north.members.add(anna)
    assert _groups(own, "anna") == set(), "departments are no longer followed"


def test_x8_every_tenant_s_users_at_once_as_one_json_list(
    host: HostDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    host.empty()
    own = Ownership(presets.account_managers(), DjangoRepository(host.alias), clock=FakeClock(START))
    own.add_tenant("acme")
    own.add_tenant("globex")
    bind(own, kinds={})
    track_users(person, tenant=lambda user: "globex" if user.username.startswith("g") else "acme")
    try:
        for name in ("anna", "gus"):
            User.objects.db_manager(host.alias).create_user(name)
        own.update_user("gus", name="Gus (renamed)")
        with pytest.raises(CommandError):
            call_command("ownership", "reconcile-users", "--json", "--database", host.alias)
        drifts = json.loads(capsys.readouterr().out)
        assert [(d["tenant"], [c["id"] for c in d["changed"]]) for d in drifts] == [("acme", []), ("globex", ["gus"])]
    finally:
        untrack_users()
        _BOUND.clear()
