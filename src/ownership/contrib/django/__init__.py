"""`ownership` inside a Django CRM: its state in the host's database and transaction, its rule in the host's querysets.

Install the ``django`` extra (``pip install "ownership[django]"``); Django is
imported here only, never by the core. `ownership`'s tables live in the
host's database (SQLite or PostgreSQL):

    from ownership.contrib.django import DjangoRepository, where

    own = Ownership(rulebook, DjangoRepository())
    allowed = own.filter(request.user.username, "view", "deal")
    deals = Deal.objects.filter(where(allowed, kind="deal")).order_by("-amount")[:50]

- `where` (`queries`): a viewer's filter as a condition of a queryset, one query listing exactly what `can` allows.
- `DjangoRepository` (`repository`): each unit of work a ``transaction.atomic`` block on Django's connection.
- `bind`, `OwnershipBackend`, `visible_to`, `OwnershipPermission`, `OwnershipFilter` (`host`): Django's
  permissions, querysets and REST framework views answered by `ownership`; `track`: a model's saves and
  deletes kept in step.
- `track_users`, `reconcile_tracked_users` (`people`): the host's users, and their groups, kept in step.
"""

from ownership.contrib.django.host import (
    Binding,
    OwnershipBackend,
    OwnershipFilter,
    OwnershipPermission,
    bind,
    bound,
    track,
    untrack,
    visible_to,
)
from ownership.contrib.django.people import reconcile_tracked_users, track_users, untrack_users
from ownership.contrib.django.queries import Allowed, where
from ownership.contrib.django.repository import DjangoRepository

__all__ = [
    "Allowed",
    "Binding",
    "DjangoRepository",
    "OwnershipBackend",
    "OwnershipFilter",
    "OwnershipPermission",
    "bind",
    "bound",
    "reconcile_tracked_users",
    "track",
    "track_users",
    "untrack",
    "untrack_users",
    "visible_to",
    "where",
]
