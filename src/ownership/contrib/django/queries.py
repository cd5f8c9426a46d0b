"""A viewer's filter as a condition of the host's own Django querysets.

    from ownership.contrib.django import where

    allowed = own.filter(request.user.username, "view", "deal")
    deals = Deal.objects.filter(where(allowed, kind="deal")).order_by("-amount")[:50]

The condition is the one `ownership.adapters.sql.where` builds, rendered for
the queryset's database: the queryset stays one query, which the database
plans with its indexes, so a page stops at its ``LIMIT``; and it lists exactly
the rows `Ownership.can` allows, for it is the same rule. It combines with the
host's own conditions (``Q``, ``exclude``, ``~``), annotations and counts as any
condition does. `ownership`'s tables must be in the queryset's database.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.db import models
from sqlalchemy import BigInteger, String, literal_column
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from ownership.adapters import sql
from ownership.errors import InvalidValueError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler
    from sqlalchemy.engine import Dialect

    from ownership.filters import Filter

__all__ = ["Allowed", "where"]

# Django's `%s` placeholders, whatever the driver: SQLAlchemy renders them, and doubles a literal `%`, for the
# "format" parameter style, which Django's backends take on SQLite and PostgreSQL alike.
_DIALECTS: dict[str, Dialect] = {
    "sqlite": SQLiteDialect_pysqlite(paramstyle="format"),
    "postgresql": PGDialect_psycopg(paramstyle="format"),  # type: ignore[no-untyped-call]
}


def where(filter: Filter, *, kind: str, field: str = "pk") -> Allowed:
    """Return `filter` as a condition of a queryset whose model holds records of `kind`.

        Deal.objects.filter(where(own.filter(user, "view", "deal"), kind="deal"))

    Args:
        filter: a filter, as `Ownership.filter` returns it.
        kind: the record kind the model's rows are.
        field: the model's field that holds the record's id, its primary key unless told; an integer field is
            found by its own key from the ids that are integers as Python writes them (``str(deal.pk)``).
    """
    return Allowed(filter, kind, field)


class Allowed(models.Expression):
    """The condition `where` returns: true for the rows whose record `filter` matches, as `visible` lists them."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, filter: Filter, kind: str, field: str | Any = "pk") -> None:
        super().__init__(output_field=models.BooleanField())
        self.filter = filter
        self.kind = kind
        self.id: Any = models.F(field) if isinstance(field, str) else field  # the host's column, once resolved

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.filter}, kind={self.kind!r}, id={self.id!r})"

    def get_source_expressions(self) -> list[Any]:
        """The host's column: Django resolves it against the queryset (its table's name or alias)."""
        return [self.id]

    def set_source_expressions(self, expressions: Sequence[Any]) -> None:
        """Take the host's column as Django resolved it."""
        (self.id,) = expressions

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, tuple[Any, ...]]:
        """The condition's SQL and values for the queryset's database, on the host's column as Django names it."""
        column, params = compiler.compile(self.id)
        if params:
            raise InvalidValueError(
                f"where() compares a column of record ids, not an expression with values ({self.id!r}); "
                "name the model's field that holds the record's id: where(..., field='...')."
            )
        field = getattr(self.id, "output_field", None)
        if not isinstance(field, models.IntegerField | models.CharField | models.TextField):
            raise InvalidValueError(
                f"where() finds rows by a text or integer field holding the record's id, not by a "
                f"{type(field).__name__}; key the records by such a field, and name it: where(..., field='...')."
            )
        integer = isinstance(field, models.IntegerField)
        condition, values = _rendered(self.filter, self.kind, column, integer=integer, vendor=connection.vendor)
        return f"({condition})", tuple(values)


@functools.lru_cache(maxsize=1_024)
def _rendered(filter: Filter, kind: str, column: str, *, integer: bool, vendor: str) -> tuple[str, tuple[Any, ...]]:
    """`sql.where`'s condition on `column` as the SQL text and values Django runs, for a database of `vendor`.

    Worked out once for each filter, kind and column: a viewer's filter repeats from request to request.
    """
    dialect = _DIALECTS.get(vendor)
    if dialect is None:
        raise InvalidValueError(
            f"ownership's queryset condition runs on SQLite and PostgreSQL, not on Django's {vendor} backend; "
            "list the records with Ownership.visible_ids and filter the queryset by those ids instead."
        )
    host = literal_column(column, type_=BigInteger() if integer else String())
    compiled = sql.where(filter, kind=kind, id=host).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    assert compiled.positiontup is not None, "the format parameter style is positional"
    values = []
    for name in compiled.positiontup:
        value = compiled.params[name]
        bind = sql._binder(compiled.binds[name].type, dialect)
        values.append(bind(value) if bind is not None else value)
    return compiled.string, tuple(values)
