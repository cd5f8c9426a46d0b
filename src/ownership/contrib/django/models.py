"""`ownership`'s tables as Django models: read them with the ORM, beside the host's own, never write them.

The tables are `ownership`'s (`ownership.adapters.sql.metadata` defines them,
and the app's first migration makes them); these models are made from that
definition, column by column, so they cannot drift from it. They are
unmanaged and read-only: every change goes through `Ownership`'s use cases,
which check the rules and record the history. What they are for is the host's
own queries: the owner's name in a list of deals without a query a row, a
report of who holds what, the outbox in an admin page::

    from django.db.models import CharField, OuterRef, Subquery
    from django.db.models.functions import Cast

    from ownership.contrib.django.models import HoldingRow

    owner = HoldingRow.objects.filter(kind="deal", record_id=Cast(OuterRef("pk"), CharField()), role="owner")
    deals = Deal.objects.annotate(owner=Subquery(owner.values("assignee_id")[:1]))

A column that keeps a set of names (a user's restricted kinds, a record's
labels) reads as a frozenset, and is compared as one. The JSON of an event or
a notification is PostgreSQL's ``json`` (not ``jsonb``): it reads as Python
values, but takes none of ``jsonb``'s lookups (``contains``, ``has_key``).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, NoReturn

from django.db import models
from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Table

from ownership.adapters.sql import metadata
from ownership.errors import InvalidValueError

__all__ = [
    "EventRow",
    "FollowerRow",
    "GrantRow",
    "GroupRow",
    "HoldingRow",
    "JsonField",
    "MembershipRow",
    "NamesField",
    "OutboxRow",
    "RecordRow",
    "TenantRow",
    "UserRow",
]

_READ_ONLY = (
    "ownership's tables are written by its use cases, which check the rules and record the history; "
    "call the Ownership (assign, update_user, ...) instead of writing {what} through the ORM."
)


def _refuse(model: type[models.Model]) -> NoReturn:
    """Refuse a write of `model`'s rows: `ownership`'s rows change only through its use cases."""
    raise InvalidValueError(_READ_ONLY.format(what=model.__name__))


class NamesField(models.TextField):  # type: ignore[type-arg]
    """A set of names kept as a sorted JSON list: read as a frozenset, and compared as one."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> frozenset[str] | None:  # noqa: ARG002
        """The names the column keeps."""
        return None if value is None else frozenset(json.loads(value))

    def get_prep_value(self, value: Any) -> Any:
        """A set of names as the column keeps it, so that ``filter(labels={"north"})`` finds what it names."""
        if isinstance(value, set | frozenset | list | tuple):
            return json.dumps(sorted(value))
        return super().get_prep_value(value)


class JsonField(models.JSONField):
    """A JSON column as `ownership` makes it: ``json`` on PostgreSQL (its driver decodes it), text on SQLite."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        """The value, decoded once: the driver may have decoded it already."""
        if value is None or isinstance(value, str):
            return super().from_db_value(value, expression, connection)
        return value


class _ReadOnly(models.QuerySet):  # type: ignore[type-arg]
    """A queryset that reads, and refuses every write."""

    def update(self, **kwargs: Any) -> int:  # noqa: ARG002
        """Refuse: `ownership`'s rows change only through its use cases."""
        _refuse(self.model)

    def delete(self) -> tuple[int, dict[str, int]]:
        """Refuse: `ownership`'s rows change only through its use cases."""
        _refuse(self.model)

    def bulk_create(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG002
        """Refuse: `ownership`'s rows change only through its use cases."""
        _refuse(self.model)

    def bulk_update(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG002
        """Refuse: `ownership`'s rows change only through its use cases."""
        _refuse(self.model)


class _Row(models.Model):
    """A row of one of `ownership`'s tables, to read."""

    objects: ClassVar[Any] = _ReadOnly.as_manager()

    class Meta:
        abstract = True
        base_manager_name = "objects"  # Django's own writes (a related delete) read through it too

    def save(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002
        """Refuse: `ownership`'s rows change only through its use cases."""
        _refuse(type(self))

    def save_base(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002
        """Refuse: `ownership`'s rows change only through its use cases."""
        _refuse(type(self))

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:  # noqa: ARG002
        """Refuse: `ownership`'s rows change only through its use cases."""
        _refuse(type(self))


_FIELDS: tuple[tuple[str | type[Any], type[models.Field[Any, Any]]], ...] = (
    ("_Names", NamesField),
    ("_Moment", models.DateTimeField),
    (Boolean, models.BooleanField),
    (BigInteger, models.BigIntegerField),
    (Integer, models.IntegerField),
    (JSON, JsonField),
    (String, models.TextField),
)
"""The field that reads a column of each type (the first that fits), as `ownership` writes it."""


def _field(table: Table, name: str) -> models.Field[Any, Any]:
    """The Django field that reads column `name` of `table`."""
    column = table.c[name]
    options: dict[str, Any] = {"null": column.nullable, "db_column": name}
    if len(table.primary_key.columns) == 1 and column.primary_key:
        options["primary_key"] = True
    for kind, field in _FIELDS:
        if type(column.type).__name__ == kind if isinstance(kind, str) else isinstance(column.type, kind):
            return field(**options)
    raise AssertionError(f"{table.name}.{name} has a type the models do not read yet")


def _row(name: str, table: str, doc: str) -> type[_Row]:
    """The model of `table`: a field a column, and a composite key where the table has one."""
    defined = metadata.tables[table]
    attributes: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": doc,
        "Meta": type("Meta", (), {"managed": False, "db_table": table, "app_label": "ownership"}),
    }
    attributes |= {column.name: _field(defined, column.name) for column in defined.columns}
    if len(defined.primary_key.columns) > 1:
        attributes["pk"] = models.CompositePrimaryKey(*(c.name for c in defined.primary_key.columns))
    return type(name, (_Row,), attributes)


TenantRow = _row("TenantRow", "ownership_tenants", "A tenant: a company whose people hold records.")
UserRow = _row("UserRow", "ownership_users", "A user: their tenant, name, activity, admin right and profile.")
GroupRow = _row("GroupRow", "ownership_groups", "A group of one tenant's users: caretaker group, competence or team.")
MembershipRow = _row("MembershipRow", "ownership_memberships", "A user in a group, for good or until a moment.")
RecordRow = _row("RecordRow", "ownership_records", "A record `ownership` tracks, by kind and the host's id.")
HoldingRow = _row(
    "HoldingRow", "ownership_assignments", "A holding: an assignee in a role of a record, in a tenant's slot, since."
)
EventRow = _row("EventRow", "ownership_events", "An event of a record's history, in order, as `ownership` keeps it.")
OutboxRow = _row("OutboxRow", "ownership_outbox", "A notification in the outbox: pending, delivered or dead.")
GrantRow = _row(
    "GrantRow", "ownership_grants", "A record granted to a user or group at a level, for good or until a moment."
)
FollowerRow = _row("FollowerRow", "ownership_followers", "A user following a record to hear of its activities.")
