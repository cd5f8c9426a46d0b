"""The host's people, kept in step: `track_users` makes each change of a Django user a change of `ownership`'s user.

A CRM keeps its people as Django users, and who is in which department or
team as many-to-many relations. `track_users` listens to the saves and deletes
of the user model (and its proxies), to the changes of the relations it names,
from either side, and to rows of their tables written or deleted directly,
and reconciles each user they touch (`Ownership.reconcile_users`, partial).
`reconcile_tracked_users` brings every user in step at once, for a first
install or after writes that sent no signal (``QuerySet.update()``).
"""

from __future__ import annotations

import contextvars
import logging
from typing import TYPE_CHECKING, Any

import attrs
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import router
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from ownership.contrib.django.host import always, bound, in_the_save
from ownership.errors import InvalidValueError
from ownership.usecases.people import DirectoryDrift, HostUser

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Sequence

    from django.db.models import Model

    from ownership.model import Group

__all__ = ["reconcile_tracked_users", "track_users", "untrack_users"]

logger = logging.getLogger("ownership")

SIGN_IN = frozenset({"last_login", "password"})
"""The fields a sign-in or a password change saves alone: such a save changes nothing `person` says, by default."""


@attrs.frozen
class _People:
    """How the host's users say who they are to `ownership`, and what to listen to."""

    users: type[Model]
    person: Callable[[Any], HostUser | None]
    tenant: Callable[[Any], str]
    tenants: frozenset[str]
    links: tuple[Any, ...]
    fields: frozenset[str] | None
    host_groups: Callable[[Group], bool] | None

    def changes(self, update_fields: Collection[str] | None) -> bool:
        """Whether a save of these fields (None: all) may change what ``person`` says."""
        if update_fields is None:
            return True
        if self.fields is None:
            return not set(update_fields) <= SIGN_IN
        return not self.fields.isdisjoint(update_fields)


_PEOPLE: dict[type[Model], _People] = {}  # by the concrete user model
_THROUGH: dict[Any, _People] = {}  # by the table of each relation named in links
_LOADED = "_ownership_loaded"  # marks an instance saved raw, by a fixture: the relations it then gets pass by
_CHANGING: contextvars.ContextVar[frozenset[Any]] = contextvars.ContextVar("ownership_changing", default=frozenset())
_LEAVING: contextvars.ContextVar[dict[Any, HostUser | None]] = contextvars.ContextVar("ownership_leaving")


def track_users(
    person: Callable[[Any], HostUser | None],
    *,
    tenant: str | Callable[[Any], str],
    model: type[Model] | None = None,
    links: Sequence[str] = (),
    fields: Collection[str] | None = None,
    host_groups: Callable[[Group], bool] | None = None,
) -> None:
    """Keep `ownership`'s users, and the groups they are in, in step with the host's user model.

    ``person(user)`` says who a Django user is to `ownership`: a `HostUser`
    with the id `bind`'s ``viewer`` names them by, their name, whether they
    are active and an admin, and the `ownership` groups they are in; or None
    for one who is no one there (a service account). What reconciles a user
    (`Ownership.reconcile_users` with ``partial``):

    - a save of them, through the model or a proxy of it; a save of only the
      fields a sign-in writes (``last_login``, ``password``) is passed by, as
      is one of `fields` none of which the save names, when `fields` is given;
    - a change of a many-to-many relation named in `links` (``"groups"``, a
      ``departments`` relation declared on either side): ``add``, ``remove``,
      ``set``, ``clear``, the links a delete of the other side (a department)
      takes with it, and a row of a ``through`` model of the host's own
      written or deleted directly (a table Django makes for a relation sends no
      signal for its rows: write it through the relation);
    - their delete: they are deactivated, keeping their groups and history
      (a user who has left), whatever the delete takes with it first.

    `host_groups` says which groups' members the host keeps, when `ownership`
    keeps others itself: links to the others are left as they are.

    With the bound `Ownership` on `DjangoRepository` (the users' database),
    this happens in the save's own transaction: inside ``transaction.atomic``
    (or with ``ATOMIC_REQUESTS``), a refusal, such as a group `ownership` does
    not know, takes the save back with it; outside one, the save is committed
    before its signal is sent, and the refusal only reaches the caller. With
    any other repository it happens once the save commits: a refusal then is
    logged (logger ``ownership``), and the user is left for
    `reconcile_tracked_users`. Rows loaded as fixtures (``loaddata``) are
    passed by; so are ``QuerySet.update()`` and raw SQL, which send no signal.

    Raises:
        InvalidValueError: nothing is bound, or a name in `links` is no many-to-many relation of the model.
    """
    bound()
    users = (model if model is not None else get_user_model())._meta.concrete_model
    assert users is not None
    untrack_users(users)
    through = tuple(_through(users, name) for name in links)
    people = _People(
        users,
        person,
        tenant if callable(tenant) else always(tenant),
        frozenset() if callable(tenant) else frozenset({tenant}),
        through,
        None if fields is None else frozenset(fields),
        host_groups,
    )
    _PEOPLE[users] = people
    for sender in _with_proxies(users):
        post_save.connect(_user_saved, sender=sender, weak=False, dispatch_uid=_uid(sender))
        pre_delete.connect(_user_leaving, sender=sender, weak=False, dispatch_uid=_uid(sender))
        post_delete.connect(_user_deleted, sender=sender, weak=False, dispatch_uid=_uid(sender))
    for table in through:
        _THROUGH[table] = people
        m2m_changed.connect(_linked, sender=table, weak=False, dispatch_uid=_uid(table))
        post_save.connect(_link_written, sender=table, weak=False, dispatch_uid=_uid(table))
        post_delete.connect(_link_written, sender=table, weak=False, dispatch_uid=_uid(table))
        for other in _other_sides(table, users):
            post_save.connect(_other_side_saved, sender=other, weak=False, dispatch_uid=_uid(other))
            pre_delete.connect(_other_side_leaving, sender=other, weak=False, dispatch_uid=_uid(other))
            post_delete.connect(_other_side_deleted, sender=other, weak=False, dispatch_uid=_uid(other))


def untrack_users(model: type[Model] | None = None) -> None:
    """Stop keeping `ownership`'s users in step with the user model."""
    users = (model if model is not None else get_user_model())._meta.concrete_model
    people = _PEOPLE.pop(users, None)  # type: ignore[arg-type]
    if people is None:
        return
    for sender in _with_proxies(people.users):
        for signal in (post_save, pre_delete, post_delete):
            signal.disconnect(sender=sender, dispatch_uid=_uid(sender))
    for table in people.links:
        _THROUGH.pop(table, None)
        m2m_changed.disconnect(sender=table, dispatch_uid=_uid(table))
        post_save.disconnect(sender=table, dispatch_uid=_uid(table))
        post_delete.disconnect(sender=table, dispatch_uid=_uid(table))
        for other in _other_sides(table, people.users):
            for signal in (post_save, pre_delete, post_delete):
                signal.disconnect(sender=other, dispatch_uid=_uid(other))


def reconcile_tracked_users(
    model: type[Model] | None = None, *, using: str | None = None, dry_run: bool = False
) -> list[DirectoryDrift]:
    """Bring every user of the tracked user model in step at once, a tenant at a time; return each tenant's drift.

    For a first install, or after a ``QuerySet.update()`` that sent no signal:
    each tenant's users say what ``person`` says of its Django users, and the
    tenant's users no Django user maps to are deactivated (they have left).
    The tenants are those ``person``'s users are of, and the one `track_users`
    named, if it named one. The users are read from the database `using`
    names, or the one Django's routers read the user model from.

    Raises:
        InvalidValueError: the model's users are not tracked (`track_users`).
    """
    users = (model if model is not None else get_user_model())._meta.concrete_model
    people = _PEOPLE.get(users)  # type: ignore[arg-type]
    if people is None:
        raise InvalidValueError(
            f"The users of {users.__name__} are not tracked; call track_users(person, ...) first."  # type: ignore[union-attr]
        )
    by_tenant: dict[str, list[HostUser]] = {tenant: [] for tenant in people.tenants}
    read = people.users._default_manager.using(using or router.db_for_read(people.users))
    for instance in read.order_by("pk").iterator():
        row = people.person(instance)
        if row is not None:
            by_tenant.setdefault(people.tenant(instance), []).append(row)
    own = bound().ownership
    return [
        own.reconcile_users(rows, tenant=tenant, dry_run=dry_run, host_groups=people.host_groups)
        for tenant, rows in sorted(by_tenant.items())
    ]


def _uid(sender: Any) -> str:
    return f"ownership.track_users:{sender._meta.label}"


def _with_proxies(users: type[Model]) -> list[type[Model]]:
    """The user model and every proxy of it: a save through a proxy is sent as the proxy's."""
    return [users, *(m for m in apps.get_models() if m._meta.proxy and m._meta.concrete_model is users)]


def _through(users: type[Model], name: str) -> Any:
    """The table behind the user model's many-to-many relation `name`, declared on either side."""
    through = getattr(getattr(users, name, None), "through", None)
    if through is None:
        raise InvalidValueError(
            f"{users.__name__} has no many-to-many relation {name!r}; name one such as 'groups', "
            "or the related name of a ManyToManyField to it."
        )
    return through


def _to_users(through: Any, users: type[Model]) -> Any:
    """The field of a relation's table that names the user."""
    return next(f for f in through._meta.fields if f.related_model is users)


def _other_sides(through: Any, users: type[Model]) -> list[Any]:
    """The models a relation's table links the users to (a department, a Django group)."""
    return [f.related_model for f in through._meta.fields if f.is_relation and f.related_model is not users]


def _user_saved(
    sender: Any, instance: Any, raw: bool = False, using: str = "default", update_fields: Any = None, **_: Any
) -> None:
    if raw:  # a fixture being loaded: its relations follow, and are passed by too
        instance.__dict__[_LOADED] = True
        return
    people = _PEOPLE[sender._meta.concrete_model]
    if people.changes(update_fields):
        _in_step(people, using, [instance])


def _other_side_saved(sender: Any, instance: Any, raw: bool = False, **_: Any) -> None:  # noqa: ARG001
    if raw:  # a department loaded as a fixture: the members its relation then gets are passed by
        instance.__dict__[_LOADED] = True


def _other_side_leaving(sender: Any, instance: Any, using: str = "default", **_: Any) -> None:
    """Before a department (or a Django group) is deleted: remember its members, whose links the delete takes."""
    linked = [
        user
        for table, people in _THROUGH.items()
        if sender._meta.concrete_model in _other_sides(table, people.users)
        for user in _linked_users(table, people.users, instance, using)
    ]
    instance.__dict__["_ownership_members"] = linked


def _other_side_deleted(sender: Any, instance: Any, using: str = "default", **_: Any) -> None:  # noqa: ARG001
    """A department (or a Django group) deleted, its links with it: reconcile whom it had."""
    members = instance.__dict__.pop("_ownership_members", [])
    for people in {id(p): p for p in _THROUGH.values()}.values():
        _in_step(people, using, [user for user in members if isinstance(user, people.users)])


def _user_leaving(sender: Any, instance: Any, **_: Any) -> None:
    """Before a user is deleted (and the links their delete takes with it): what they will be once they have left."""
    row = _PEOPLE[sender._meta.concrete_model].person(instance)
    leaving = dict(_LEAVING.get({}))
    leaving[sender._meta.concrete_model, instance.pk] = (
        None if row is None else attrs.evolve(row, active=False, groups=None)
    )
    _LEAVING.set(leaving)


def _user_deleted(sender: Any, instance: Any, using: str = "default", **_: Any) -> None:
    leaving = dict(_LEAVING.get({}))
    row = leaving.pop((sender._meta.concrete_model, instance.pk), None)
    _LEAVING.set(leaving)
    if row is not None:
        people = _PEOPLE[sender._meta.concrete_model]
        _reconcile(people, using, {people.tenant(instance): [row]})


def _linked(sender: Any, *, instance: Any, action: str, pk_set: Any, using: str, **_: Any) -> None:
    """A many-to-many change of `links`: reconcile the users it links or unlinks, once it is done."""
    people = _THROUGH.get(sender)
    if people is None or instance.__dict__.get(_LOADED):
        return
    if action.startswith("pre_"):  # its rows are deleted one by one now: let them pass, the change reconciles
        _CHANGING.set(_CHANGING.get() | {sender})
        if action == "pre_clear" and not isinstance(instance, people.users):  # remember whom, before they go
            instance.__dict__["_ownership_cleared"] = list(_linked_users(sender, people.users, instance, using))
        return
    _CHANGING.set(_CHANGING.get() - {sender})
    if isinstance(instance, people.users):  # a user's own relation changed: read it again
        _in_step(people, using, [instance])
    elif action == "post_clear":
        _in_step(people, using, instance.__dict__.pop("_ownership_cleared", []))
    else:  # a department gains or loses these users
        _in_step(people, using, list(people.users._default_manager.using(using).filter(pk__in=pk_set)))


def _link_written(sender: Any, instance: Any, using: str = "default", raw: bool = False, **_: Any) -> None:
    """A row of a relation's table written or deleted directly, or by the delete of one side: reconcile its user."""
    people = _THROUGH[sender]
    if raw or sender in _CHANGING.get():
        return
    pk = getattr(instance, _to_users(sender, people.users).attname)
    if (people.users, pk) in _LEAVING.get({}):
        return  # the user's own delete takes the row: they leave with their groups
    _in_step(people, using, list(people.users._default_manager.using(using).filter(pk=pk)))


def _linked_users(through: Any, users: type[Model], other: Any, using: str) -> Any:
    """The users a row of the relation's other side is linked to."""
    to_users = _to_users(through, users)
    to_other = next(f for f in through._meta.fields if f.related_model is type(other)._meta.concrete_model)
    linked = through._default_manager.using(using).filter(**{to_other.name: other.pk}).values(to_users.attname)
    return users._default_manager.using(using).filter(pk__in=linked)


def _in_step(people: _People, using: str, instances: Iterable[Any]) -> None:
    """Reconcile the users of `instances`, as ``person`` says they are now."""
    by_tenant: dict[str, list[HostUser]] = {}
    for instance in instances:
        row = people.person(instance)
        if row is not None:
            by_tenant.setdefault(people.tenant(instance), []).append(row)
    if by_tenant:
        _reconcile(people, using, by_tenant)


def _reconcile(people: _People, using: str, by_tenant: dict[str, list[HostUser]]) -> None:
    own = bound().ownership

    def reconcile() -> None:
        for tenant, rows in by_tenant.items():
            own.reconcile_users(rows, tenant=tenant, partial=True, host_groups=people.host_groups)

    in_the_save(using, reconcile, what=f"the users {', '.join(r.id for rows in by_tenant.values() for r in rows)}")
