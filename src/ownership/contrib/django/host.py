"""Django's own ways of asking who may do what, answered by `ownership`: permissions, querysets, REST views.

A host binds once which `Ownership` answers, which kind of record each model
holds, and who a Django user is to it (in an ``AppConfig.ready``):

    from ownership.contrib.django import bind

    bind(own, kinds={Deal: "deal", Contact: "contact"})  # a user is their username, unless `viewer=` says

Then, with ``"ownership.contrib.django.OwnershipBackend"`` among
``AUTHENTICATION_BACKENDS``:

    request.user.has_perm("crm.view_deal", deal)  # own.can(user, "view", deal)
    visible_to(Deal.objects.all(), request.user)  # one query: the deals own.can lets the user view

Django's permission verbs map to `ownership`'s actions: ``view`` to view,
``change`` and ``delete`` to edit, ``assign`` to assign. For Django REST
framework, `OwnershipPermission` and `OwnershipFilter` go in a view's
``permission_classes`` and ``filter_backends``; neither imports the framework.
Django gives an active superuser every permission before any backend is asked.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import attrs
from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from ownership.contrib.django.queries import where
from ownership.errors import InvalidValueError, NotFoundError, OwnershipError
from ownership.model import RecordRef
from ownership.usecases.reconcile import HostRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from django.db.models import Model, QuerySet

    from ownership.service import Ownership

logger = logging.getLogger("ownership")

__all__ = [
    "ACTIONS",
    "Binding",
    "OwnershipBackend",
    "OwnershipFilter",
    "OwnershipPermission",
    "bind",
    "bound",
    "track",
    "untrack",
    "username",
    "visible_to",
]

ACTIONS = {"view": "view", "change": "edit", "delete": "edit", "assign": "assign"}
"""The `ownership` action each of Django's permission verbs asks for."""

_SAFE_METHODS = {"GET": "view", "HEAD": "view", "OPTIONS": "view"}


def username(user: Any) -> str | None:
    """The `ownership` user a Django user is, unless a host says otherwise: their username; None when anonymous."""
    return user.get_username() if user is not None and user.is_authenticated else None


@attrs.frozen
class Binding:
    """Which `Ownership` answers for the host, the kind of record each model holds, and who a Django user is.

    Attributes:
        ownership: the `Ownership` every question goes to.
        kinds: the record kind each model's rows are, by model class.
        viewer: the `ownership` user id of a Django user, or None for one who is no one there (anonymous).
    """

    ownership: Ownership
    kinds: Mapping[type[Model], str]
    viewer: Callable[[Any], str | None] = username

    def kind_of(self, model: type[Model]) -> str | None:
        """The kind of record `model`'s rows are (a proxy model's are its concrete model's), or None if unbound."""
        return self.kinds.get(model) or self.kinds.get(model._meta.concrete_model)  # type: ignore[arg-type]


_BOUND: list[Binding] = []


def bind(
    ownership: Ownership, *, kinds: Mapping[type[Model], str], viewer: Callable[[Any], str | None] = username
) -> Binding:
    """Bind the `Ownership` that answers Django's questions, the kind each model holds, and who a user is.

    Binding again replaces what was bound (a test binds a world of its own).

    Raises:
        UnknownKindError: a kind the rulebook does not know.
    """
    for kind in kinds.values():
        ownership.rulebook.policy(kind)
    binding = Binding(ownership, dict(kinds), viewer)
    _BOUND[:] = [binding]
    return binding


def bound() -> Binding:
    """What `bind` bound.

    Raises:
        InvalidValueError: nothing is bound yet.
    """
    if not _BOUND:
        raise InvalidValueError(
            "No Ownership is bound for Django yet: call ownership.contrib.django.bind(own, kinds={Model: 'kind'}) "
            "once, in your AppConfig.ready()."
        )
    return _BOUND[0]


def visible_to(queryset: QuerySet[Any], user: Any, action: str = "view") -> QuerySet[Any]:
    """Return `queryset` narrowed to the rows `user` may do `action` on, as one query; none for an anonymous user.

    Raises:
        InvalidValueError: nothing is bound, or the queryset's model is not bound to a kind.
        UnknownUserError: the user the binding names is not one `ownership` knows.
    """
    binding = bound()
    kind = binding.kind_of(queryset.model)
    if kind is None:
        raise InvalidValueError(
            f"The model {queryset.model.__name__} is not bound to a record kind; "
            "name it in bind(own, kinds={...}) to filter its querysets."
        )
    viewer = binding.viewer(user)
    narrowed: QuerySet[Any] = (
        queryset.none()
        if viewer is None
        else queryset.filter(where(binding.ownership.filter(viewer, action, kind), kind=kind))
    )
    return narrowed


def _may(user: Any, action: str, obj: Any) -> bool:
    """Whether `user` may do `action` on the model instance `obj`: False for what `ownership` does not answer."""
    binding = bound()
    kind = binding.kind_of(type(obj))
    viewer = binding.viewer(user)
    if kind is None or viewer is None:
        return False
    try:
        return binding.ownership.can(viewer, action, RecordRef(kind, str(obj.pk)))
    except NotFoundError:
        return False  # a user or a record ownership does not know may do nothing there


class OwnershipBackend:
    """A Django authentication backend that answers object permissions on bound models by `Ownership.can`.

    It authenticates no one and grants no model-wide permission: those stay
    with the host's other backends. ``has_perm(user, "crm.change_deal", deal)``
    is ``can(user, "edit", deal)``; a permission of another verb or model, an
    unbound model, an anonymous user, or a user or record `ownership` does not
    know is refused here.
    """

    def authenticate(self, request: Any, **credentials: Any) -> None:
        """Authenticate no one: this backend only answers permissions."""

    def get_user(self, user_id: Any) -> None:
        """Load no one: this backend authenticates no one."""

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        """Whether `user_obj` has `perm` (``"app.verb_model"``) on `obj`, by `Ownership.can`."""
        if obj is None or not getattr(user_obj, "is_active", False):
            return False
        app, dot, codename = perm.partition(".")
        if not dot:
            app, codename = obj._meta.app_label, perm
        verb, _, model = codename.partition("_")
        action = ACTIONS.get(verb)
        if action is None or (app, model) != (obj._meta.app_label, obj._meta.model_name):
            return False
        return _may(user_obj, action, obj)


class OwnershipPermission:
    """A Django REST framework permission: a safe method asks view, any other edit, of the object `Ownership.can`.

    ``permission_classes = [IsAuthenticated, OwnershipPermission]``.
    """

    def has_permission(self, request: Any, view: Any) -> bool:  # noqa: ARG002 - the framework's signature
        """Let a user `ownership` can name through; the object check decides the rest."""
        return bound().viewer(request.user) is not None

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:  # noqa: ARG002
        """Whether the request's user may view (a safe method) or edit (any other) `obj`."""
        return _may(request.user, _SAFE_METHODS.get(request.method, "edit"), obj)


class OwnershipFilter:
    """A Django REST framework filter backend: a list holds what the request's user may view, as one query.

    ``filter_backends = [OwnershipFilter]``.
    """

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:  # noqa: ARG002
        """`queryset` narrowed to the rows the request's user may view; none for a user `ownership` does not know."""
        try:
            return visible_to(queryset, request.user)
        except NotFoundError:
            narrowed: QuerySet[Any] = queryset.none()
            return narrowed


@attrs.frozen
class _Tracked:
    """How the rows of one model say what `ownership` keeps of them: their tenant, and their holders by role."""

    tenant: Callable[[Any], str]
    holders: Callable[[Any], Mapping[str, Any]]


_TRACKED: dict[type[Model], _Tracked] = {}  # by the concrete model


def track(
    model: type[Model], *, tenant: str | Callable[[Any], str], holders: Callable[[Any], Mapping[str, Any]]
) -> None:
    """Keep `ownership`'s records of `model` in step with its rows, as its saves and deletes go.

    A row saved (made or changed, through the model or a proxy of it) is
    reconciled: its record is tracked with the holders ``holders(row)`` names
    for each role it names (a role it leaves out is `ownership`'s own); a row
    deleted takes its record with it. Nothing is asked of an actor: the row is
    the host's, and says what is so (`Ownership.reconcile` with ``partial``).

    With the bound `Ownership` on `DjangoRepository` (the model's database),
    this happens in the save's own transaction: inside ``transaction.atomic``
    (or with ``ATOMIC_REQUESTS``), a refusal (a holder `ownership` does not
    know) takes the save back with it; outside one, the save is committed
    before its signal is sent, and the refusal only reaches the caller. With
    any other repository, it happens once the save's transaction commits, and
    a refusal then is logged (logger ``ownership``). ``QuerySet.update()``,
    ``bulk_create()`` and raw SQL send no signal: bring such rows in step with
    ``manage.py ownership reconcile``.

        track(Deal, tenant="crm", holders=lambda deal: {"owner": Assignee.user(deal.owner.username)})

    Raises:
        InvalidValueError: nothing is bound, or the model is not bound to a kind.
    """
    if bound().kind_of(model) is None:
        raise InvalidValueError(
            f"The model {model.__name__} is not bound to a record kind; name it in bind(own, kinds={{...}}) first."
        )
    concrete = model._meta.concrete_model
    assert concrete is not None
    _TRACKED[concrete] = _Tracked(tenant if callable(tenant) else always(tenant), holders)
    for sender in _with_proxies(concrete):
        post_save.connect(_saved, sender=sender, weak=False, dispatch_uid=_uid(sender))
        post_delete.connect(_deleted, sender=sender, weak=False, dispatch_uid=_uid(sender))


def always(tenant: str) -> Callable[[Any], str]:
    """Every row's tenant: the one company a CRM serves."""

    def of(_row: Any) -> str:
        return tenant

    return of


def untrack(model: type[Model]) -> None:
    """Stop keeping `model`'s records in step with its rows."""
    concrete = model._meta.concrete_model
    assert concrete is not None
    _TRACKED.pop(concrete, None)
    for sender in _with_proxies(concrete):
        post_save.disconnect(sender=sender, dispatch_uid=_uid(sender))
        post_delete.disconnect(sender=sender, dispatch_uid=_uid(sender))


def _uid(model: type[Model]) -> str:
    return f"ownership.track:{model._meta.label}"


def _with_proxies(model: type[Model]) -> list[type[Model]]:
    """The model and every proxy of it: a save through a proxy is sent as the proxy's."""
    return [model, *(m for m in apps.get_models() if m._meta.proxy and m._meta.concrete_model is model)]


def _saved(sender: type[Model], instance: Any, raw: bool = False, using: str = "default", **_: Any) -> None:
    if raw:
        return  # a fixture being loaded: its rows say nothing of holders yet; reconcile them after
    model = sender._meta.concrete_model
    assert model is not None
    tracked = _TRACKED[model]
    row = HostRecord(str(instance.pk), tracked.holders(instance))
    _in_step(model, using, tracked.tenant(instance), rows=[row], gone=[])


def _deleted(sender: type[Model], instance: Any, using: str = "default", **_: Any) -> None:
    model = sender._meta.concrete_model
    assert model is not None
    tracked = _TRACKED[model]
    _in_step(model, using, tracked.tenant(instance), rows=[], gone=[str(instance.pk)])


def _in_step(model: type[Model], using: str, tenant: str, *, rows: list[HostRecord], gone: list[str]) -> None:
    """Reconcile the saved or deleted row: now, in the save's transaction, or once that commits."""
    binding = bound()
    kind = binding.kind_of(model)
    assert kind is not None, "track() checked the model is bound"

    def reconcile() -> None:
        binding.ownership.reconcile(kind, rows, tenant=tenant, partial=True, gone=gone)

    in_the_save(using, reconcile, what=f"the {kind} records {', '.join(r.id for r in rows) or ', '.join(gone)}")


def in_the_save(using: str, reconcile: Callable[[], object], *, what: str) -> None:
    """Run `reconcile` in the save's own transaction when `ownership` keeps its state there; else once it commits.

    After the commit, a refusal cannot take the save back: it is logged, saying what is left out of step.
    """
    from ownership.contrib.django.repository import DjangoRepository  # noqa: PLC0415 - the one needs the other

    repository = getattr(bound().ownership, "_repository", None)
    if isinstance(repository, DjangoRepository) and repository.using == using:
        reconcile()
        return

    def after_commit() -> None:
        try:
            reconcile()
        except OwnershipError as refused:
            logger.error("ownership is out of step with %s, which the host committed: %s", what, refused)

    transaction.on_commit(after_commit, using=using, robust=True)
