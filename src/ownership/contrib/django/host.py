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

from typing import TYPE_CHECKING, Any

import attrs
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from ownership.contrib.django.queries import where
from ownership.errors import InvalidValueError, NotFoundError
from ownership.model import RecordRef
from ownership.usecases.people import DirectoryDrift, HostUser
from ownership.usecases.reconcile import HostRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from django.db.models import Model, QuerySet

    from ownership.service import Ownership

__all__ = [
    "ACTIONS",
    "Binding",
    "OwnershipBackend",
    "OwnershipFilter",
    "OwnershipPermission",
    "bind",
    "bound",
    "track",
    "reconcile_tracked_users",
    "track_users",
    "untrack",
    "untrack_users",
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


_TRACKED: dict[type[Model], _Tracked] = {}


def track(
    model: type[Model], *, tenant: str | Callable[[Any], str], holders: Callable[[Any], Mapping[str, Any]]
) -> None:
    """Keep `ownership`'s records of `model` in step with its rows, as its saves and deletes go.

    A row saved (made or changed) is reconciled: its record is tracked with
    the holders ``holders(row)`` names for each role it names (a role it leaves
    out is `ownership`'s own); a row deleted takes its record with it. Nothing
    is asked of an actor: the row is the host's, and says what is so
    (`Ownership.reconcile` with ``partial``).

    With the bound `Ownership` on `DjangoRepository` (the model's database),
    this happens in the save's own transaction: inside ``transaction.atomic``,
    a refusal (a holder `ownership` does not know) takes the save back with it.
    With any other repository, it happens once the save's transaction commits.
    ``QuerySet.update()``, ``bulk_create()`` and raw SQL send no signal: bring
    such rows in step with ``manage.py ownership reconcile``.

        track(Deal, tenant="crm", holders=lambda deal: {"owner": Assignee.user(deal.owner.username)})

    Raises:
        InvalidValueError: nothing is bound, or the model is not bound to a kind.
    """
    if bound().kind_of(model) is None:
        raise InvalidValueError(
            f"The model {model.__name__} is not bound to a record kind; name it in bind(own, kinds={{...}}) first."
        )
    _TRACKED[model] = _Tracked(tenant if callable(tenant) else _always(tenant), holders)
    post_save.connect(_saved, sender=model, weak=False, dispatch_uid=_uid(model))
    post_delete.connect(_deleted, sender=model, weak=False, dispatch_uid=_uid(model))


def _always(tenant: str) -> Callable[[Any], str]:
    """Every row's tenant: the one company a CRM serves."""

    def of(_row: Any) -> str:
        return tenant

    return of


def untrack(model: type[Model]) -> None:
    """Stop keeping `model`'s records in step with its rows."""
    _TRACKED.pop(model, None)
    post_save.disconnect(sender=model, dispatch_uid=_uid(model))
    post_delete.disconnect(sender=model, dispatch_uid=_uid(model))


def _uid(model: type[Model]) -> str:
    return f"ownership.track:{model._meta.label}"


def _saved(sender: type[Model], instance: Any, raw: bool = False, using: str = "default", **_: Any) -> None:
    if raw:
        return  # a fixture being loaded: its rows say nothing of holders yet; reconcile them after
    tracked = _TRACKED[sender]
    row = HostRecord(str(instance.pk), tracked.holders(instance))
    _in_step(sender, using, tracked.tenant(instance), rows=[row], gone=[])


def _deleted(sender: type[Model], instance: Any, using: str = "default", **_: Any) -> None:
    tracked = _TRACKED[sender]
    _in_step(sender, using, tracked.tenant(instance), rows=[], gone=[str(instance.pk)])


def _in_step(model: type[Model], using: str, tenant: str, *, rows: list[HostRecord], gone: list[str]) -> None:
    """Reconcile the saved or deleted row: now, in the save's transaction, or once that commits."""
    binding = bound()
    kind = binding.kind_of(model)
    assert kind is not None, "track() checked the model is bound"

    def reconcile() -> None:
        binding.ownership.reconcile(kind, rows, tenant=tenant, partial=True, gone=gone)

    _in_the_save(binding, using, reconcile)


def _in_the_save(binding: Binding, using: str, reconcile: Callable[[], object]) -> None:
    """Run `reconcile` in the save's own transaction when `ownership` keeps its state there; else once it commits."""
    from ownership.contrib.django.repository import DjangoRepository  # noqa: PLC0415 - the one needs the other

    repository = getattr(binding.ownership, "_repository", None)
    if isinstance(repository, DjangoRepository) and repository.using == using:
        reconcile()
    else:
        transaction.on_commit(reconcile, using=using)


@attrs.frozen
class _People:
    """How the host's users say who they are to `ownership`: the mapping, their tenant, the links that say groups."""

    person: Callable[[Any], HostUser | None]
    tenant: Callable[[Any], str]
    links: tuple[Any, ...]


_PEOPLE: dict[type[Model], _People] = {}


def track_users(
    person: Callable[[Any], HostUser | None],
    *,
    tenant: str | Callable[[Any], str],
    model: type[Model] | None = None,
    links: Sequence[str] = (),
) -> None:
    """Keep `ownership`'s users, and the groups they are in, in step with the host's user model.

    ``person(user)`` says who a Django user is to `ownership`: a `HostUser`
    with the id `bind`'s ``viewer`` names them by, their name, whether they
    are active and an admin, and the `ownership` groups they are in; or None
    for one who is no one there (a service account). Each save of a user, and
    each change of the many-to-many relations named in `links` (``"groups"``,
    a ``departments`` relation declared on either side), reconciles that user
    (`Ownership.reconcile_users` with ``partial``). A user deleted is
    deactivated, keeping their groups and history: a user who has left.

    As with `track`, this happens in the save's own transaction when the
    bound `Ownership` is on `DjangoRepository` (a refusal, such as a group
    `ownership` does not know, takes the save back), and once it commits
    otherwise. ``QuerySet.update()`` sends no signal: run
    ``manage.py ownership`` or `reconcile_users` over every user after one.

        track_users(
            lambda user: HostUser(user.username, user.get_full_name() or user.username,
                                  active=user.is_active, admin=user.is_superuser,
                                  groups={f"dept-{d.pk}" for d in user.departments.all()}),
            tenant="crm", links=["departments"],
        )

    Raises:
        InvalidValueError: nothing is bound, or a name in `links` is no many-to-many relation of the model.
    """
    bound()
    users = model if model is not None else get_user_model()
    through = tuple(_through(users, name) for name in links)
    _PEOPLE[users] = _People(person, tenant if callable(tenant) else _always(tenant), through)
    uid = f"ownership.track_users:{users._meta.label}"
    post_save.connect(_user_saved, sender=users, weak=False, dispatch_uid=uid)
    post_delete.connect(_user_deleted, sender=users, weak=False, dispatch_uid=uid)
    for table in through:
        m2m_changed.connect(_linked, sender=table, weak=False, dispatch_uid=f"{uid}:{table._meta.label}")


def untrack_users(model: type[Model] | None = None) -> None:
    """Stop keeping `ownership`'s users in step with the user model."""
    users = model if model is not None else get_user_model()
    people = _PEOPLE.pop(users, None)
    uid = f"ownership.track_users:{users._meta.label}"
    post_save.disconnect(sender=users, dispatch_uid=uid)
    post_delete.disconnect(sender=users, dispatch_uid=uid)
    for table in people.links if people is not None else ():
        m2m_changed.disconnect(sender=table, dispatch_uid=f"{uid}:{table._meta.label}")


def reconcile_tracked_users(
    model: type[Model] | None = None, *, using: str | None = None, dry_run: bool = False
) -> list[DirectoryDrift]:
    """Bring every user of the tracked user model in step at once, a tenant at a time; return each tenant's drift.

    For a first install, or after a ``QuerySet.update()`` that sent no signal:
    each tenant's users say what ``person`` says of its Django users, and the
    tenant's users no Django user maps to are deactivated (they have left).
    The users are read from the database `using` names: unless it is given,
    that of the bound `DjangoRepository`, or Django's default.

    Raises:
        InvalidValueError: the model's users are not tracked (`track_users`).
    """
    users = model if model is not None else get_user_model()
    people = _PEOPLE.get(users)
    if people is None:
        raise InvalidValueError(f"The users of {users.__name__} are not tracked; call track_users(person, ...) first.")
    own = bound().ownership
    if using is None:
        using = getattr(getattr(own, "_repository", None), "using", "default")
    by_tenant: dict[str, list[HostUser]] = {}
    for instance in users._default_manager.using(using).order_by("pk").iterator():
        row = people.person(instance)
        if row is not None:
            by_tenant.setdefault(people.tenant(instance), []).append(row)
    return [own.reconcile_users(rows, tenant=tenant, dry_run=dry_run) for tenant, rows in sorted(by_tenant.items())]


def _through(users: type[Model], name: str) -> Any:
    """The table behind the user model's many-to-many relation `name`, declared on either side."""
    relation = getattr(users, name, None)
    through = getattr(relation, "through", None)
    if through is None:
        raise InvalidValueError(
            f"{users.__name__} has no many-to-many relation {name!r}; name one such as 'groups', "
            "or the related name of a ManyToManyField to it."
        )
    return through


def _user_saved(sender: type[Model], instance: Any, raw: bool = False, using: str = "default", **_: Any) -> None:
    if not raw:  # a fixture being loaded: reconcile its users once it is in
        _people_in_step(sender, using, [instance], leaving=False)


def _user_deleted(sender: type[Model], instance: Any, using: str = "default", **_: Any) -> None:
    _people_in_step(sender, using, [instance], leaving=True)


def _linked(sender: Any, *, instance: Any, action: str, pk_set: Any, using: str, **_: Any) -> None:
    """A many-to-many change of `links`: reconcile the users it links or unlinks."""
    users = next(model for model, people in _PEOPLE.items() if sender in people.links)
    if isinstance(instance, users):  # a user's own relation changed: read it again
        if action in ("post_add", "post_remove", "post_clear"):
            _people_in_step(users, using, [instance], leaving=False)
    elif action == "pre_clear":  # a department is cleared of its users: remember which, before they go
        instance.__dict__["_ownership_cleared"] = list(_linked_users(sender, users, instance, using))
    elif action in ("post_add", "post_remove"):  # a department gains or loses these users
        _people_in_step(users, using, list(users._default_manager.using(using).filter(pk__in=pk_set)), leaving=False)
    elif action == "post_clear":
        _people_in_step(users, using, instance.__dict__.pop("_ownership_cleared", []), leaving=False)


def _linked_users(through: Any, users: type[Model], other: Any, using: str) -> Any:
    """The users a row of the relation's other side is linked to."""
    to_users = next(f for f in through._meta.fields if f.related_model is users)
    to_other = next(f for f in through._meta.fields if f.related_model is type(other)._meta.concrete_model)
    linked = through._default_manager.using(using).filter(**{to_other.name: other.pk}).values(to_users.attname)
    return users._default_manager.using(using).filter(pk__in=linked)


def _people_in_step(users: type[Model], using: str, instances: Sequence[Any], *, leaving: bool) -> None:
    """Reconcile the users of `instances` (deactivated, keeping their groups, if `leaving`)."""
    people = _PEOPLE[users]
    by_tenant: dict[str, list[HostUser]] = {}
    for instance in instances:
        row = people.person(instance)
        if row is not None:
            row = attrs.evolve(row, active=False, groups=None) if leaving else row
            by_tenant.setdefault(people.tenant(instance), []).append(row)
    if not by_tenant:
        return
    binding = bound()

    def reconcile() -> None:
        for tenant, rows in by_tenant.items():
            binding.ownership.reconcile_users(rows, tenant=tenant, partial=True)

    _in_the_save(binding, using, reconcile)
