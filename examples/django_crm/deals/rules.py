"""Who holds a deal, and who may see and change it: the CRM's rulebook, and its `Ownership`."""

from typing import Any

from ownership import Access, GroupKind, HostUser, Ownership, Policy, Role, Rulebook
from ownership.access import holds, in_caretaker_group, is_admin
from ownership.contrib.django import DjangoRepository

TENANT = "crm"
"""The one company this CRM serves."""

RULEBOOK = Rulebook(
    (
        Policy(
            "deal",
            (
                Role("owner", min=1, grants_access=True, notified=True),
                Role("co_owner", grants_access=True),
                Role("department", users=False, groups={GroupKind.CARETAKER}, grants_access=True),
            ),
            access=Access(
                view=is_admin | holds("owner") | holds("co_owner") | in_caretaker_group("department"),
                edit=is_admin | holds("owner") | holds("co_owner"),
                assign=is_admin | holds("owner"),
            ),
        ),
    )
)


def ownership() -> Ownership:
    """The CRM's `Ownership`: its state in the CRM's own database, each use case in the request's transaction."""
    return Ownership(RULEBOOK, DjangoRepository())


def person(user: Any) -> HostUser:
    """Who a CRM user is to `ownership`: active as Django says, an admin if a superuser, in their departments."""
    return HostUser(
        user.get_username(),
        user.get_full_name() or user.get_username(),
        active=user.is_active,
        admin=user.is_superuser,
        groups={department.group for department in user.departments.all()},
    )
