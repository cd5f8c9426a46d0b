"""What the CRM does, each in one transaction: its own rows and `ownership`'s are kept together, or neither."""

from django.contrib.auth.models import User
from django.db import transaction

from deals.models import Deal, Department
from deals.rules import TENANT
from ownership import Assignee
from ownership.contrib.django import bound


def add_person(username: str, *, admin: bool = False) -> User:
    """A person who signs in to the CRM: `track_users` makes them the `ownership` user of their username."""
    return User.objects.create_user(username, is_superuser=admin)


def add_department(name: str) -> Department:
    """A department, and its caretaker group in `ownership`."""
    with transaction.atomic():
        department = Department.objects.create(name=name)
        bound().ownership.add_group(TENANT, name, "caretaker", id=department.group)
    return department


def join(person: User, department: Department) -> None:
    """Make `person` one of `department`'s: they see what it cares for (`track_users` links them in `ownership`)."""
    department.members.add(person)


def leave_the_company(person: User) -> None:
    """`person` has left: they sign in no more, and `ownership` keeps their deals for an admin to hand on."""
    person.is_active = False
    person.save()


def open_deal(
    title: str, amount: int, *, owner: User, co_owner: User | None = None, department: Department | None = None
) -> Deal:
    """A deal, opened by its owner, with its holders: a refusal (an inactive owner) keeps neither the deal nor them."""
    holders: dict[str, Assignee] = {"owner": Assignee.user(owner.get_username())}
    if co_owner is not None:
        holders["co_owner"] = Assignee.user(co_owner.get_username())
    if department is not None:
        holders["department"] = Assignee.group(department.group)
    with transaction.atomic():
        deal = Deal.objects.create(title=title, amount=amount)
        bound().ownership.create("deal", id=str(deal.pk), actor=owner.get_username(), holders=holders)
    return deal
