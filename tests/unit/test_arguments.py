"""The argument guard (src/ownership/arguments.py): every public method refuses a caller's mistake alike, by name."""

import inspect
from datetime import datetime

import pytest

from ownership import GroupKind, InvalidValueError, Ownership, presets
from ownership.adapters.memory import MemoryRepository
from ownership.arguments import check_for, fast_for


@pytest.fixture
def own() -> Ownership:
    own = Ownership(presets.account_managers(), MemoryRepository())
    own.add_tenant("acme", plan="go")
    own.add_user("acme", "Anna", id="anna")
    own.create("deal", actor="anna", id="D-1")
    return own


def test_every_public_method_is_guarded_and_keeps_its_signature() -> None:
    for name, method in inspect.getmembers(Ownership, inspect.isfunction):
        if name.startswith("_") and name != "__init__":
            continue
        assert "<guarded" in method.__code__.co_filename, f"{name} is not guarded"
        assert inspect.signature(method) == inspect.signature(inspect.unwrap(method)), name


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda o: o.assign(o.record("deal", "D-1"), 5, o.user("anna"), actor="anna"), "assign(): role takes an id"),
        (
            lambda o: o.add_tenant("a\x00b"),
            r"add_tenant(): id takes an id (1 to 100 printable characters), not 'a\x00b'.",
        ),
        (lambda o: o.add_user("acme", "x" * 1001), "add_user(): name takes a text"),
        (lambda o: o.add_user("acme", "Bo", admin="false"), "add_user(): admin takes True or False, not 'false'."),
        (lambda o: o.add_user("acme", "Bo", admin=1), "add_user(): admin takes True or False, not 1."),
        (lambda o: o.visible("anna", "deal", limit=0), "visible(): limit takes a whole number from 1 to"),
        (lambda o: o.visible("anna", "deal", limit=2**64), "visible(): limit takes a whole number from 1 to"),
        (lambda o: o.visible("anna", "deal", limit=True), "visible(): limit takes a whole number from 1 to"),
        (lambda o: o.create("deal", actor="anna", labels="north"), "write labels={'north'} for one."),
        (lambda o: o.create("deal", actor="anna", labels=["ok", 5]), "; 5 is not an id"),
        (lambda o: o.groups_of("anna", at=datetime(2030, 1, 1)), "it has no time zone; give an aware datetime (UTC)."),
        (lambda o: o.dispatch(notifier=object()), "dispatch(): notifier takes an object with the method deliver"),
        (lambda o: o.archive(["D-1"], actor="anna"), "name a record by kind and id as RecordRef(kind, id)."),
        (lambda o: o.holders(("deal", "D-1"), "responsible"), "holders(): record takes a Record or a RecordRef"),
        (lambda o: Ownership(presets.account_managers(), object()), "Ownership(): repository takes an object with"),
        (lambda o: Ownership(presets.account_managers(), MemoryRepository(), retries=-1), "retries takes a whole"),
    ],
    ids=[
        "an id that is a number",
        "an id with a NUL byte",
        "a name too long",
        "a flag as a word",
        "a flag as a number",
        "a limit of none",
        "a limit beyond 64 bits",
        "a limit that is a bool",
        "labels as one bare string",
        "a label that is no id",
        "a moment without a time zone",
        "a notifier without deliver",
        "a selection of bare ids",
        "a record as a tuple",
        "a repository that is none",
        "retries below zero",
    ],
)
def test_a_callers_mistake_is_one_invalid_value_naming_the_method_and_argument_and_changes_nothing(
    own: Ownership, call: object, says: str
) -> None:
    before = own.snapshot()
    with pytest.raises(InvalidValueError) as refused:
        call(own)  # type: ignore[operator]
    assert says in str(refused.value)
    assert own.snapshot() == before


def test_a_collection_is_read_once_so_a_generator_is_checked_and_used(own: Ownership) -> None:
    record = own.create("deal", actor="anna", labels=(label for label in ["north", "web"]))
    assert record.labels == {"north", "web"}


def test_a_value_of_a_subclass_passes_the_full_check(own: Ownership) -> None:
    class Kind(str):
        __slots__ = ()

    assert own.can("anna", Kind("view"), own.record("deal", "D-1"))


@pytest.mark.parametrize(
    ("annotation", "name", "good", "bad"),
    [
        (str, "id", "K-1", "K\n1"),
        (str, "name", "Anna\tMüller", "Anna\x00"),
        (bool, "confirmed", False, 0),
        (int, "limit", 1, 0),
        (GroupKind | str, "kind", GroupKind.TEAM, 3),
    ],
)
def test_the_quick_test_never_lets_through_what_the_full_check_refuses(
    annotation: object, name: str, good: object, bad: object
) -> None:
    names: dict[str, object] = {}
    fast = fast_for(annotation, name, names)
    assert fast is not None
    check = check_for(annotation, name)
    assert check(good) == good
    assert not eval(fast, names, {name: bad})
    with pytest.raises(Exception, match=r"\w"):
        check(bad)
