"""The public API only grows: every name and signature a host used in 0.1.0 is still there, the same.

`public_api.json` beside this file was written from the 0.1.0 code (before `Ownership` was split into
rooms); regenerate it only for a release that means to break hosts:
``python tests/api/test_public_api.py > tests/api/public_api.json``.
"""

import enum
import inspect
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

import ownership

RECORDED = Path(__file__).with_name("public_api.json")


def _plain(text: str) -> str:
    """An annotation or default as text, without the module that defines it, so moving a type is no change."""
    text = re.sub(r"<class '([\w.]+)'>", r"\1", text)
    text = re.sub(r"<enum '(\w+)'>", r"\1", text)
    text = re.sub(r"\b(?:ownership|collections\.abc|typing|datetime|attrs|contextlib)\.(?:[a-z_]\w*\.)*", "", text)
    text = re.sub(r"<function (\w+) at 0x[0-9a-f]+>", r"\1", text)
    return re.sub(r"ForwardRef\('([\w.]+)'\)", r"\1", text)


def _signature(thing: Any) -> str | None:
    try:
        return _plain(str(inspect.signature(thing)))
    except (TypeError, ValueError):
        return None


def _ours(cls: type, name: str) -> bool:
    """Whether `ownership` defines `name` on `cls` (not Python's `Exception` or `Enum`, which vary by version)."""
    return any(name in vars(c) for c in cls.__mro__ if c.__module__.split(".")[0] == "ownership")


def _members(cls: type) -> dict[str, str | None]:
    return {
        name: _signature(getattr(cls, name))
        for name in sorted(dir(cls))
        if not name.startswith("_")
        and _ours(cls, name)
        and callable(getattr(cls, name))
        and not isinstance(getattr(cls, name), enum.Enum)
    }


def surface() -> dict[str, Any]:
    """The public names of `ownership` with their signatures, and every public method of `Ownership`."""
    names: dict[str, Any] = {}
    for name in ownership.__all__:
        thing = getattr(ownership, name)
        if inspect.ismodule(thing):
            names[name] = "module"
        elif typing.get_origin(thing) is not None:
            names[name] = {"alias": _plain(str(thing))}
        elif inspect.isclass(thing) and issubclass(thing, enum.Enum):
            names[name] = {"values": {member.name: member.value for member in thing}}
        elif inspect.isclass(thing):
            names[name] = {"signature": _signature(thing), "members": _members(thing)}
        elif callable(thing):
            names[name] = _signature(thing)
        else:
            names[name] = "value"
    ownership_methods = {
        name: _signature(getattr(ownership.Ownership, name))
        for name in sorted(dir(ownership.Ownership))
        if not name.startswith("_")
    }
    return {"__all__": names, "Ownership": ownership_methods}


# A class renamed since, whose old name is still exported for it: `AutoAssign` is `AssignActor`.
_RENAMED = {
    name: cls.__name__
    for name in ownership.__all__
    if inspect.isclass(cls := getattr(ownership, name)) and cls.__name__ != name
}


def _canonical(text: str) -> str:
    """`text` with every old name of a renamed class written as its new name, so an alias is no change."""
    for old, new in _RENAMED.items():
        text = re.sub(rf"\b{old}\b", new, text)
    return text


def _missing(old: Any, new: Any, path: str) -> list[str]:
    """Where `new` lacks or changes what `old` had: a dict may gain keys, never lose or change one."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return [f"{path} is no longer what it was"]
        return [gap for key, value in old.items() for gap in _missing(value, new.get(key, _GONE), f"{path}.{key}")]
    if new is _GONE:
        return [f"{path} is gone"]
    same = old == new or (isinstance(old, str) and isinstance(new, str) and _grown(_canonical(old), _canonical(new)))
    return [] if same else [f"{path} changed from {old!r} to {new!r}"]


def _parts(signature: str) -> tuple[list[str], str] | None:
    """A signature's parameters, split at the commas between them, and its return; None if it is none."""
    if not signature.startswith("("):
        return None
    depth, start, parts = 0, 1, []
    for at, char in enumerate(signature):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 1 and char == ",":
            parts.append(signature[start:at].strip())
            start = at + 1
        elif depth == 0:
            last = signature[start:at].strip()
            return [*parts, last] if last else parts, signature[at + 1 :]
    return None


def _our_class(name: str) -> bool:
    """Whether a module of `ownership` defines a class called `name`."""
    return any(
        inspect.isclass(getattr(module, name, None)) and getattr(module, name).__module__.startswith("ownership")
        for key, module in list(sys.modules.items())
        if key == "ownership" or key.startswith("ownership.")
    )


def _without_new_members(old: str, new: str) -> str:
    """`new` without the members a union of it gained (a new filter node, a new event): names `old` never names.

    A union that gains a member is growth: every value a host handled is still one, and a host that matches
    over the union keeps its default case for what it does not know, as for any new kind of event.
    """
    known = set(re.findall(r"\b[A-Z]\w*\b", old))
    fresh = {name for name in re.findall(r"\b[A-Z]\w*\b", new) if name not in known and _our_class(name)}
    for name in fresh:
        new = re.sub(rf" \| {name}\b(?!\[)", "", new)
        new = re.sub(rf"\b{name} \| ", "", new)
    return new


def _grown(old: str, new: str) -> bool:
    """Whether `new` is `old`, or `old` with parameters with defaults added where no old call meets them.

    Keyword-only parameters with defaults may be added anywhere among the keyword-only ones; parameters with
    defaults may be added after every old one; a union may gain members (`_without_new_members`).
    """
    new = _without_new_members(old, new)
    if old == new:
        return True
    before, after = _parts(old), _parts(new)
    if before is None or after is None or before[1] != after[1]:
        return False
    kept, added = 0, []
    for at, parameter in enumerate(after[0]):
        if kept < len(before[0]) and parameter == before[0][kept]:
            kept += 1
        else:
            added.append((at, parameter))
    starred = [at for at, p in enumerate(after[0]) if p == "*" or (p.startswith("*") and not p.startswith("**"))]
    star = starred[0] if starred else None
    last_old = len(after[0]) - 1 - next((n for n, p in enumerate(reversed(after[0])) if p in before[0]), len(after[0]))

    def harmless(at: int, parameter: str) -> bool:
        if parameter == "*":
            return True
        defaulted = "=" in parameter and not parameter.startswith("*")
        return defaulted and ((star is not None and at > star) or (star is None and at > last_old))

    return kept == len(before[0]) and all(harmless(at, p) for at, p in added)


_GONE = object()


def test_public_api_is_a_superset_of_the_recorded_one() -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    assert _missing(recorded, surface(), "ownership") == []


def test_the_comparison_notices_a_missing_method_and_a_changed_signature() -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    now = surface()
    del now["Ownership"]["assign"]
    now["Ownership"]["can"] = "(self, viewer)"
    assert _missing(recorded, now, "ownership") == [
        "ownership.Ownership.assign is gone",
        f"ownership.Ownership.can changed from {recorded['Ownership']['can']!r} to '(self, viewer)'",
    ]


def test_a_new_keyword_only_parameter_with_a_default_is_growth_and_nothing_else_is() -> None:
    old = "(self, record: Record, *, viewer: User | None = None) -> tuple[Assignee, ...]"
    assert _grown(
        old, "(self, record: Record, *, viewer: User | None = None, tenant: str | None = None) -> tuple[Assignee, ...]"
    )
    assert _grown(
        "(kind: str, name: str = '') -> None", "(kind: str, name: str = '', *, creator: str | None = None) -> None"
    )
    assert not _grown(old, "(self, record: Record, *, viewer: User | None = None, tenant: str) -> tuple[Assignee, ...]")
    assert not _grown(
        old, "(self, record: Record, tenant: str | None = None, *, viewer: User | None = None) -> tuple[Assignee, ...]"
    )
    assert not _grown(old, "(self, record: Record, *, viewer: User | None = None, tenant: str | None = None) -> None")
    assert not _grown(old, "(self, record: Record, *, tenant: str | None = None) -> tuple[Assignee, ...]")
    # keyword-only parameters are named, so one added before another breaks no call
    assert _grown(
        old, "(self, record: Record, *, tenant: str | None = None, viewer: User | None = None) -> tuple[Assignee, ...]"
    )
    # a value's fields with defaults after every old one (a snapshot's grants) break no call either
    assert _grown(
        "(users: tuple, settings: tuple = ()) -> None",
        "(users: tuple, settings: tuple = (), grants: tuple = ()) -> None",
    )
    assert not _grown(
        "(users: tuple, settings: tuple = ()) -> None",
        "(users: tuple, grants: tuple = (), settings: tuple = ()) -> None",
    )
    assert not _grown(
        "(users: tuple, settings: tuple = ()) -> None", "(users: tuple, settings: tuple = (), grants: tuple) -> None"
    )


def test_a_union_that_gains_a_member_is_growth_and_one_that_loses_one_is_not() -> None:
    old = "(self, kind: str) -> HomeIs | Labelled | And"
    assert _grown(old, "(self, kind: str) -> HomeIs | Labelled | IdIn | And")
    assert _grown(old, "(self, kind: str) -> IdIn | HomeIs | Labelled | And")
    assert not _grown(old, "(self, kind: str) -> HomeIs | And")
    assert not _grown(old, "(self, kind: str) -> HomeIs | Labelled | And | None")  # None is no new class
    assert not _grown(old, "(self, kind: str, filter: IdIn) -> HomeIs | Labelled | And")  # a new parameter is not


if __name__ == "__main__":
    print(json.dumps(surface(), indent=1, sort_keys=True))
