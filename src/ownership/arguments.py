"""The argument guard: every public method of `Ownership` checks what it is given before it reads or writes.

`guarded` reads each method's signature and annotations once, when the class is
made, and builds one check per parameter from its type: an id is `model.is_id`, a
name is `model.is_text`, a flag is a real bool, a count a whole number that fits
in 64 bits, a moment a datetime with a time zone, a collection never a bare
string, a protocol an object with its methods. A caller's mistake is then one
`InvalidValueError` naming the method and the argument, on every store alike,
before any unit of work opens::

    assign(): role takes an id (1 to 100 printable characters), not 5.

Collections are read once, into tuples, so a generator is checked and used as
one value. The wrapper is compiled from the method's own signature: an argument
of the usual type costs a comparison or two, and a call of the wrong shape is
Python's own `TypeError`, as for any function (mypy finds those before they run).
"""

import collections.abc
import enum
import functools
import inspect
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from ownership.errors import InvalidValueError
from ownership.model import A_MOMENT, A_TEXT, AN_ID, BIGGEST, ID_LENGTH, TEXT_LENGTH, is_id, is_moment, is_text, shown

TEXT_ARGUMENTS = frozenset({"name", "prefix"})
"""Arguments annotated `str` that are free text (a name to show people, a number's prefix), not ids."""

HINTS = {
    "selection": "name a record by kind and id as RecordRef(kind, id)",
    "criteria": "build criteria with ownership.segments: named(...), labelled(...), held_by(...), ...",
    "what": "name a kind, or pass a Segment",
}
"""What a refusal of these arguments adds, to say how to write what was meant."""

LOW, HIGH = -BIGGEST - 1, BIGGEST
"""The whole numbers every store keeps: those of 64 bits."""


class _WrongValueError(Exception):
    """Raised by a check: what the argument takes."""

    def __init__(self, wanted: str, detail: str = "") -> None:
        super().__init__(wanted)
        self.wanted = wanted
        self.detail = detail


Check = Callable[[object], object]
"""Returns the value to pass on (a collection read into a tuple), or raises `_WrongValueError`."""


def _article(name: str) -> str:
    return f"an {name}" if name[:1] in "AEIOaeio" else f"a {name}"


def _id(value: object) -> object:
    if is_id(value):
        return value
    raise _WrongValueError(AN_ID)


def _text(value: object) -> object:
    if is_text(value):
        return value
    raise _WrongValueError(A_TEXT)


def _flag(value: object) -> object:
    if isinstance(value, bool):
        return value
    raise _WrongValueError("True or False")


def _whole(at_least: int) -> Check:
    wanted = f"a whole number from {at_least} to {HIGH}" if at_least > LOW else "a whole number of 64 bits"

    def check(value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool) and at_least <= value <= HIGH:
            return value
        raise _WrongValueError(wanted)

    return check


def _moment(value: object) -> object:
    if is_moment(value):
        return value
    if isinstance(value, datetime):
        raise _WrongValueError(A_MOMENT, "it has no time zone; give an aware datetime (UTC)")
    raise _WrongValueError(A_MOMENT)


def _none(value: object) -> object:
    if value is None:
        return value
    raise _WrongValueError("None")


def _anything(value: object) -> object:
    return value


def _instance(cls: type) -> Check:
    wanted = _article(cls.__name__)
    if issubclass(cls, enum.Enum):
        wanted += f" ({', '.join(repr(member.value) for member in cls)})"

    def check(value: object) -> object:
        if isinstance(value, cls):
            return value
        raise _WrongValueError(wanted)

    return check


def _protocol(cls: type) -> Check:
    methods = sorted(name for name, member in vars(cls).items() if callable(member) and not name.startswith("_"))
    wanted = f"an object with the method{'s' if len(methods) > 1 else ''} {', '.join(methods)} ({cls.__name__})"

    def check(value: object) -> object:
        if all(callable(getattr(value, name, None)) for name in methods):
            return value
        raise _WrongValueError(wanted)

    return check


def _callable(value: object) -> object:
    if callable(value):
        return value
    raise _WrongValueError("a function")


def _either(checks: list[Check], wanted: str, hint: str) -> Check:
    def check(value: object) -> object:
        details = []
        for one in checks:
            try:
                return one(value)
            except _WrongValueError as wrong:
                if wrong.detail:
                    details.append(wrong.detail)
        raise _WrongValueError(wanted, "; ".join(part for part in (*details[:1], hint) if part))

    return check


def _items(each: Check, wanted: str, name: str) -> Check:
    def check(value: object) -> object:
        if isinstance(value, str):
            raise _WrongValueError(wanted, f"write {name}={{{shown(value)}}} for one")
        if isinstance(value, bytes | collections.abc.Mapping) or not isinstance(value, collections.abc.Iterable):
            raise _WrongValueError(wanted)
        items = tuple(value)
        for item in items:
            try:
                each(item)
            except _WrongValueError as wrong:
                raise _WrongValueError(wanted, f"{shown(item)} is not {wrong.wanted}") from None
        return items

    return check


def _mapping(keys: Check, values: Check, wanted: str) -> Check:
    def check(value: object) -> object:
        if not isinstance(value, collections.abc.Mapping):
            raise _WrongValueError(wanted)
        for key, item in value.items():
            for part, one in ((key, keys), (item, values)):
                try:
                    one(part)
                except _WrongValueError as wrong:
                    raise _WrongValueError(wanted, f"{shown(part)} is not {wrong.wanted}") from None
        return value

    return check


def _wanted(check: Check) -> str:
    try:
        check(_Nothing)
    except _WrongValueError as wrong:
        return wrong.wanted
    return "anything"  # pragma: no cover - only `_anything` takes _Nothing


class _Nothing:
    """A value no check but `_anything` takes, to ask a check what it wants."""


_SIMPLE: dict[object, Check] = {bool: _flag, datetime: _moment, type(None): _none, Any: _anything, object: _anything}
_AT_LEAST = {"limit": 1, "retries": 0, "max_attempts": 1}


def check_for(annotation: Any, name: str) -> Check:  # noqa: PLR0911 - one return per kind of annotation
    """The check an argument called `name` and annotated `annotation` gets."""
    origin = typing.get_origin(annotation)
    if annotation in _SIMPLE:
        return _SIMPLE[annotation]
    if annotation is str:
        return _text if name in TEXT_ARGUMENTS else _id
    if annotation is int:
        return _whole(_AT_LEAST.get(name, LOW))
    if origin in (typing.Union, types.UnionType):
        checks = [check_for(arm, name) for arm in typing.get_args(annotation)]
        arms = [_wanted(c) for c in checks]
        return _either(checks, " or ".join(dict.fromkeys(arms)), HINTS.get(name, ""))
    if origin is collections.abc.Callable:
        return _callable
    if origin in (collections.abc.Iterable, collections.abc.Sequence, collections.abc.Collection):
        (item,) = typing.get_args(annotation)
        each = check_for(item, name)
        return _items(each, f"a collection of {_plural(_wanted(each))}", name)
    if origin is collections.abc.Mapping:
        key, value = (check_for(arm, name) for arm in typing.get_args(annotation))
        return _mapping(key, value, f"a mapping of {_wanted(key)} to {_wanted(value)}")
    if isinstance(annotation, type):
        if getattr(annotation, "_is_protocol", False):
            return _protocol(annotation)
        return _instance(annotation)
    raise TypeError(f"The argument guard does not know the annotation {annotation!r} of {name}.")


def _plural(wanted: str) -> str:
    """``an id (...)`` as ``ids (...)``; ``a Record or a RecordRef`` as ``Record or RecordRef values``."""
    if wanted.startswith(AN_ID[:6]):
        return "ids" + wanted[5:]
    for article in ("an ", "a "):
        wanted = wanted.replace(f" or {article}", " or ").removeprefix(article)
    return f"{wanted} values"


def fast_for(annotation: Any, name: str, names: dict[str, object]) -> str | None:  # noqa: PLR0911 - one per kind
    """A Python expression true of `name` when it plainly passes its check (the usual call), or None.

    The expression reads only exact types and cheap facts, so the common case costs a few comparisons;
    anything it is not sure of goes to the full check, which alone decides and alone words the refusal.
    Classes it names are put in `names`, the namespace the guarded method is compiled in.
    """
    if annotation is str:
        most = TEXT_LENGTH if name in TEXT_ARGUMENTS else ID_LENGTH
        least = 0 if name in TEXT_ARGUMENTS else 1
        return f"(type({name}) is str and {least} <= len({name}) <= {most} and {name}.isprintable())"
    if annotation is bool:
        return f"({name} is True or {name} is False)"
    if annotation is type(None):
        return f"{name} is None"
    if annotation is int:
        return f"(type({name}) is int and {_AT_LEAST.get(name, LOW)} <= {name} <= {HIGH})"
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        arms = [fast_for(arm, name, names) for arm in typing.get_args(annotation)]
        return None if None in arms else "(" + " or ".join(typing.cast(list[str], arms)) + ")"
    if isinstance(annotation, type) and not getattr(annotation, "_is_protocol", False) and annotation is not datetime:
        alias = f"_{annotation.__name__}_{id(annotation)}"
        names[alias] = annotation
        return f"type({name}) is {alias}"
    return None


_F = TypeVar("_F", bound=Callable[..., Any])


def guard(method: _F, owner: str = "") -> _F:
    """Return `method` checking each argument against its annotation before it runs.

    The wrapper is compiled with the method's own signature, so a call of the wrong shape is Python's
    own `TypeError` (as mypy says before it runs), and an argument of the usual type costs a comparison.
    """
    signature = inspect.signature(method)
    hints = typing.get_type_hints(inspect.unwrap(method))
    parameters = list(signature.parameters.values())[1:]  # self
    title = f"{method.__name__ if method.__name__ != '__init__' else owner}()"
    names: dict[str, object] = {"_method": method}
    lines = []
    for parameter in parameters:
        argument = parameter.name
        names[f"_check_{argument}"] = _full(title, argument, check_for(hints[argument], argument))
        fast = fast_for(hints[argument], argument, names)
        if fast is None:
            lines.append(f"    {argument} = _check_{argument}({argument})")
        else:
            lines.append(f"    if not {fast}: {argument} = _check_{argument}({argument})")
        if parameter.default is not parameter.empty:
            names[f"_default_{argument}"] = parameter.default
    shape = ", ".join(_shape(parameters))
    passed = ", ".join(
        p.name if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) else f"{p.name}={p.name}" for p in parameters
    )
    head = f"def {method.__name__}(self, {shape}):" if shape else f"def {method.__name__}(self):"
    source = "\n".join([head, *lines, f"    return _method(self, {passed})"])
    exec(compile(source, f"<guarded {title}>", "exec"), names)
    return typing.cast(_F, functools.wraps(method)(typing.cast(Callable[..., Any], names[method.__name__])))


def _shape(parameters: list[inspect.Parameter]) -> list[str]:
    """How the compiled wrapper declares `parameters`: keyword-only ones after a star, defaults by name."""
    declared = []
    for parameter in parameters:
        if parameter.kind is parameter.KEYWORD_ONLY and "*" not in declared:
            declared.append("*")
        default = "" if parameter.default is parameter.empty else f"=_default_{parameter.name}"
        declared.append(f"{parameter.name}{default}")
    return declared


def _full(title: str, argument: str, check: Check) -> Callable[[object], object]:
    """The full check of one argument: the value to pass on, or the refusal naming the method and argument."""

    def checked(value: object) -> object:
        try:
            return check(value)
        except _WrongValueError as wrong:
            detail = f"; {wrong.detail}" if wrong.detail else ""
            raise InvalidValueError(f"{title}: {argument} takes {wrong.wanted}, not {shown(value)}{detail}.") from None

    return checked


_C = TypeVar("_C", bound=type)


def guarded(cls: _C) -> _C:
    """Guard every public method of `cls`, and its constructor, by their annotations (a class decorator)."""
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if not name.startswith("_") or name == "__init__":
            setattr(cls, name, guard(member, cls.__name__))
    return cls
