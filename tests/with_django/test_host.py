"""Django's own questions answered by `ownership`: `has_perm` on an object, `visible_to` a user, REST views (X1, X6).

Over generated worlds, for every Django user (those `ownership` knows, one it does not, an anonymous one), every
bound kind and every permission verb, ``user.has_perm("app.verb_model", row)`` is `can` of the verb's action, and
`visible_to` lists exactly the rows it allows: the two never disagree, on SQLite and PostgreSQL.
"""

from collections.abc import Iterator

import pytest
from django_host import AnonymousUser, Deal, HostDatabase, Item, RequestFactory, User, numbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ownership import (
    Access,
    Assignee,
    InvalidValueError,
    Ownership,
    Policy,
    RecordRef,
    Role,
    Rulebook,
    UnknownKindError,
    UnknownUserError,
)
from ownership.access import holds, is_admin, same_tenant
from ownership.contrib.django import (
    OwnershipFilter,
    OwnershipPermission,
    bind,
    visible_to,
)
from ownership.contrib.django.host import _BOUND
from ownership.testing import FakeClock
from worlds import RULEBOOKS, worlds

pytest_plugins = ("django_host",)

VERBS = {"view": "view", "change": "edit", "assign": "assign"}
# A rule whose actions differ: the tenant views, the owner edits, an admin assigns; so each verb is told apart.
SPLIT = Rulebook(
    (
        Policy(
            "deal",
            (Role("owner", grants_access=True),),
            access=Access(view=same_tenant, edit=holds("owner"), assign=is_admin),
        ),
    )
)
RULES = {**RULEBOOKS, "view-edit-assign": SPLIT}
STRANGER = "someone-ownership-does-not-know"


@pytest.fixture(autouse=True)
def _unbound() -> Iterator[None]:
    """Each test binds its own world; none is left bound after it."""
    yield
    _BOUND.clear()


def _django_users(host: HostDatabase, names: list[str]) -> list[User]:
    User.objects.using(host.alias).all().delete()
    return [User.objects.db_manager(host.alias).create_user(name) for name in names]


@pytest.mark.parametrize("rulebook", RULES.values(), ids=RULES.keys())
@settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_x6_has_perm_and_visible_to_agree_with_can_for_every_django_user(
    host: HostDatabase, rulebook: Rulebook, data: st.DataObject
) -> None:
    own, users = data.draw(worlds(rulebook, host.repositories(), ids=numbers))
    records = list(own.snapshot().records)
    Item.objects.using(host.alias).bulk_create(Item(id=r.id) for r in records)
    django_users = _django_users(host, [u.id for u in users])
    items = list(Item.objects.using(host.alias))
    for kind in rulebook.kinds:
        bind(own, kinds={Item: kind})
        ours = {r.id for r in records if r.kind == kind}
        for user, person in zip(users, django_users, strict=True):
            for verb, action in VERBS.items():
                allowed = {i.id for i in items if person.has_perm(f"crm_host.{verb}_item", i)}
                assert allowed == {id for id in ours if own.can(user, action, RecordRef(kind, id))}, (user, verb)
                listed = visible_to(Item.objects.using(host.alias), person, action)
                assert set(listed.values_list("id", flat=True)) == allowed, "the list is what the check allows"
        for nobody in (AnonymousUser(), *_django_users(host, [STRANGER])):
            assert not any(nobody.has_perm(f"crm_host.{verb}_item", i) for verb in VERBS for i in items)
        assert not visible_to(Item.objects.using(host.alias), AnonymousUser()).exists()


@pytest.fixture
def sellers(host: HostDatabase) -> tuple[Ownership, list[Deal]]:
    """Anna and Bob each own a deal; the tenant views both, each owner edits their own, the admin Ada assigns."""
    own = Ownership(SPLIT, host.repositories()(), clock=FakeClock(), ids=numbers())
    own.add_tenant("acme")
    for name in ("anna", "bob"):
        own.add_user("acme", name.title(), id=name)
    own.add_user("acme", "Ada", id="ada", admin=True)
    for name in ("anna", "bob"):
        own.create("deal", actor=name, holders={"owner": Assignee.user(name)})
    deals = Deal.objects.using(host.alias).bulk_create(Deal(id=int(r.id), title=r.id) for r in own.snapshot().records)
    _django_users(host, ["anna", "bob", "ada"])
    bind(own, kinds={Deal: "deal"})
    return own, deals


def _user(host: HostDatabase, name: str) -> User:
    return User.objects.using(host.alias).get(username=name)


def test_django_permission_verbs_ask_ownership_s_actions(
    host: HostDatabase, sellers: tuple[Ownership, list[Deal]]
) -> None:
    _, (annas, bobs) = sellers
    anna = _user(host, "anna")
    assert anna.has_perm("crm_host.view_deal", bobs), "the tenant views every deal"
    assert anna.has_perm("crm_host.change_deal", annas)
    assert not anna.has_perm("crm_host.change_deal", bobs), "edit of a deal she does not own"
    assert not anna.has_perm("crm_host.delete_deal", bobs), "delete asks edit too"
    assert not anna.has_perm("crm_host.assign_deal", annas), "assigning is the admin's"
    assert _user(host, "ada").has_perm("crm_host.assign_deal", bobs)
    assert not anna.has_perm("crm_host.view_item", annas), "a permission of another model is not hers here"
    assert not anna.has_perm("elsewhere.view_deal", annas), "nor one of another app's model"
    assert not anna.has_perm("crm_host.add_deal", annas), "a verb ownership has no action for"
    assert not anna.has_perm("crm_host.view_deal"), "no model-wide permission comes from ownership"
    anna.is_active = False
    assert not anna.has_perm("crm_host.view_deal", annas), "an inactive Django user has none"


def test_rest_framework_views_check_objects_and_filter_lists_by_ownership(
    host: HostDatabase, sellers: tuple[Ownership, list[Deal]]
) -> None:
    _, (annas, bobs) = sellers
    requests = RequestFactory()
    get, patch = requests.get("/deals/"), requests.patch("/deals/1/")
    get.user = patch.user = _user(host, "anna")
    permission = OwnershipPermission()
    assert permission.has_permission(get, None)
    assert permission.has_object_permission(get, None, bobs), "reading asks view"
    assert permission.has_object_permission(patch, None, annas)
    assert not permission.has_object_permission(patch, None, bobs), "changing asks edit"
    listed = OwnershipFilter().filter_queryset(get, Deal.objects.using(host.alias), None)
    assert [d.id for d in listed] == [annas.id, bobs.id]
    bob = _user(host, "bob")
    assert [d.id for d in visible_to(Deal.objects.using(host.alias), bob, "edit")] == [bobs.id]
    get.user = AnonymousUser()
    assert not permission.has_permission(get, None)
    get.user = _django_users(host, [STRANGER])[0]
    assert not OwnershipFilter().filter_queryset(get, Deal.objects.using(host.alias), None).exists(), "no one's"


def test_what_ownership_cannot_answer_is_refused_with_what_to_do(
    host: HostDatabase, sellers: tuple[Ownership, list[Deal]]
) -> None:
    own, _ = sellers
    with pytest.raises(InvalidValueError, match="not bound to a record kind"):
        visible_to(Item.objects.using(host.alias), _user(host, "anna"))
    stranger = _django_users(host, [STRANGER])[0]
    with pytest.raises(UnknownUserError):
        visible_to(Deal.objects.using(host.alias), stranger)
    _BOUND.clear()
    with pytest.raises(InvalidValueError, match="bind"):
        visible_to(Deal.objects.using(host.alias), stranger)
    with pytest.raises(UnknownKindError, match="invoice"):
        bind(own, kinds={Deal: "invoice"})
