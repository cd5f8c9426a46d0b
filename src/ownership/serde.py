"""Turning every public value into plain JSON-ready data and back, through cattrs.

`converter()` returns a new converter each call, configured for every public
type of `ownership`; a host may customise its own copy freely. For each public
value ``x`` of type ``T``: ``structure(unstructure(x), T) == x``.

Reading is strict, for data a person may have edited: a bool is a JSON bool
(never ``"false"``), a string a string, a whole number a whole number, a set
a JSON list (never a string split into letters), a moment an ISO 8601 string
with a time zone, an enum one of its values. Whatever does not fit is refused
with `InvalidValueError`, in a sentence naming the entry (`problem`).
"""

import enum
import functools
import json
from collections import abc
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn
from cattrs.preconf.json import JsonConverter, make_converter
from cattrs.strategies import configure_tagged_union
from cattrs.v import format_exception, transform_error

from ownership import access, segments
from ownership.distribution import Pick, Rule
from ownership.errors import InvalidValueError, OwnershipError
from ownership.events import Event
from ownership.filters import Filter

_T = TypeVar("_T")


def converter() -> JsonConverter:
    """Return a new cattrs converter for every public `ownership` type.

    Datetimes become ISO 8601 strings, sets become sorted lists (so the same
    value always reads the same), enums their values, and an `Event` carries
    its class name under the key ``"type"``.
    """
    made = make_converter()
    made.register_unstructure_hook_factory(_is_set, lambda cls: _sorted_set(made, cls))
    _configure_strict(made)
    _configure_tree(made, access.Predicate, _PREDICATES)
    _configure_tree(made, segments.Criterion, segments.CRITERIA)
    for union in (Event, Filter, Pick, Rule):  # after the trees: a territory holds criteria
        _configure_tagged(made, union)
    return made


_PREDICATES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        access.Always,
        access.Never,
        access.IsAdmin,
        access.Restricted,
        access.Holds,
        access.HeldWithinTeam,
        access.ViewerHas,
        access.ViewerIn,
        access.Granted,
        access.SameTenant,
        access.SharedWithViewer,
        access.AllOf,
        access.AnyOf,
        access.Negation,
    )
}


def _is_set(cls: Any) -> bool:
    return cls in (set, frozenset) or get_origin(cls) in (set, frozenset, abc.Set, abc.MutableSet)


def _sorted_set(made: JsonConverter, cls: Any) -> Callable[[Any], list[Any]]:
    """Unstructure a set as a list in one order, whatever the order of iteration (which follows string hashes)."""
    item = get_args(cls)[0] if get_args(cls) else Any

    def unstructure(value: Any) -> list[Any]:
        return sorted((made.unstructure(v, unstructure_as=item) for v in value), key=_order)

    return unstructure


def _shown(data: Any) -> str:
    """`data` as a sentence quotes it: its repr, cut short if long (a whole entry may be wrong)."""
    text = repr(data)
    return text if len(text) <= 80 else f"{text[:77]}..."


class _MisfitError(ValueError):
    """Data that does not fit its place; the text ends the sentence that names the place (``must be ...``)."""


def _configure_strict(made: JsonConverter) -> None:
    """Read only what `unstructure` could have written: no truthy strings, no numbers as text, no letters as sets."""
    made.register_structure_hook(bool, _exactly(bool, "true or false"))
    made.register_structure_hook(int, _exactly(int, "a whole number"))
    made.register_structure_hook(str, _exactly(str, "a string"))
    made.register_structure_hook(datetime, _moment)
    # `str | None` and the like: cattrs' JSON preset passes such unions through as they come, which reads 5 as "5".
    made.register_structure_hook_func(_is_optional_plain, lambda data, cls: _optional_plain(made, data, cls))
    made.register_structure_hook_factory(_is_enum, _enum_member)
    made.register_structure_hook_factory(_is_set, lambda cls: _listed(made, cls, frozenset))
    made.register_structure_hook_factory(_is_tuple_of, lambda cls: _listed(made, cls, tuple))
    made.register_structure_hook_factory(attrs.has, lambda cls: _object(make_dict_structure_fn(cls, made)))


def _exactly(kind: type, described: str) -> Callable[[Any, Any], Any]:
    def structure(data: Any, _cls: Any) -> Any:
        if type(data) is not kind:  # `type`, not isinstance: True is an int, and must not read as 1
            raise _MisfitError(f"must be {described}, not {_shown(data)}")
        return data

    return structure


def _moment(data: Any, _cls: Any) -> datetime:
    example = "like '2026-01-31T09:30:00+00:00'"
    wanted = f"must be a moment written in ISO 8601 with its time zone, {example}, not {_shown(data)}"
    try:
        moment = datetime.fromisoformat(data) if type(data) is str else None
    except ValueError:
        moment = None
    if moment is None:
        raise _MisfitError(wanted)
    if moment.tzinfo is None:
        raise _MisfitError(f"must name its time zone, {example}, not {_shown(data)}")
    return moment


def _object(structure_fields: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """An attrs value, read from a JSON object alone: cattrs would read a string as an object lacking every field."""

    def structure(data: Any, cls: Any) -> Any:
        if not isinstance(data, dict):
            raise _MisfitError(f"must be an object, not {_shown(data)}")
        return structure_fields(data, cls)

    return structure


def _is_optional_plain(cls: Any) -> bool:
    args = get_args(cls)
    return len(args) == 2 and type(None) in args and any(a in (bool, int, str) for a in args)


def _optional_plain(made: JsonConverter, data: Any, cls: Any) -> Any:
    if data is None:
        return None
    return made.structure(data, next(a for a in get_args(cls) if a is not type(None)))


def _is_enum(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, enum.Enum)


def _enum_member(cls: type[enum.Enum]) -> Callable[[Any, Any], enum.Enum]:
    by_value = {member.value: member for member in cls}
    known = ", ".join(repr(value) for value in by_value)

    def structure(data: Any, _cls: Any) -> enum.Enum:
        if type(data) is not str or data not in by_value:
            raise _MisfitError(f"must be one of {known}, not {_shown(data)}")
        return by_value[data]

    return structure


def _is_tuple_of(cls: Any) -> bool:
    args = get_args(cls)
    return get_origin(cls) is tuple and len(args) == 2 and args[1] is Ellipsis


def _listed(made: JsonConverter, cls: Any, into: Callable[[list[Any]], Any]) -> Callable[[Any, Any], Any]:
    """A set or a ``tuple[T, ...]``, read from a JSON list alone: a string would be read as its letters."""
    item = get_args(cls)[0] if get_args(cls) else Any

    def structure(data: Any, _cls: Any) -> Any:
        if not isinstance(data, list | tuple):
            raise _MisfitError(f"must be a list, not {_shown(data)}")
        return into(made.structure(data, list[item]))  # type: ignore[valid-type]

    return structure


def problem(error: BaseException) -> str:
    """Return what is wrong with data `structure` could not read, as a sentence naming the entry.

    For example ``users[3].admin must be true or false, not 'false'.``: the
    path from the top of the data, then what is wrong there; where several
    entries are wrong, the first, and how many more.

    Args:
        error: what reading raised: a cattrs validation error (whose tree
            gives the path) or any error raised while reading one value.
    """
    found = [_sentence(line) for line in transform_error(error, path="$", format_exception=_described)]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"{found[0]}{more}."


def _described(error: BaseException, cls: type | None) -> str:
    if isinstance(error, _MisfitError):
        return str(error)
    if isinstance(error, KeyError):
        return "is missing"
    if isinstance(error, OwnershipError):
        return f"is refused: {str(error).rstrip('.')}"
    return f"is refused: {format_exception(error, cls)}"


def _sentence(line: str) -> str:
    text, _, path = line.rpartition(" @ $")
    return f"{path.removeprefix('.')} {text}" if path else f"The data {text}"


def _order(data: Any) -> str:
    return json.dumps(data, sort_keys=True)


def _fields(cls: type) -> "tuple[attrs.Attribute[Any], ...]":
    # Every concrete node is an attrs class; the abstract base is not, which mypy cannot see.
    return cast("tuple[attrs.Attribute[Any], ...]", attrs.fields(cast("type[attrs.AttrsInstance]", cls)))


def _configure_tagged(made: JsonConverter, union: Any) -> None:
    """A union whose members carry their class name under ``"type"``; an unknown name is refused as such."""
    configure_tagged_union(union, made, tag_name="type")
    structure_member = made.get_structure_hook(union)
    tags = {member.__name__: member for member in get_args(union)}

    def structure(data: Any, cls: Any) -> Any:
        _tag(data, tags)
        return structure_member(data, cls)

    made.register_structure_hook(union, structure)


def _tag(data: Any, tags: dict[str, type]) -> str:
    """The tag ``data["type"]``, which must be one of `tags`."""
    if not isinstance(data, dict) or data.get("type") not in tags:
        raise _MisfitError(f"must be an object whose type is one of {', '.join(map(repr, tags))}, not {_shown(data)}")
    return cast("str", data["type"])


def _configure_tree(made: JsonConverter, base: type, classes: dict[str, type]) -> None:
    """A recursive tree of classes under an abstract `base`; each node carries its tag in `classes` under ``"type"``."""
    tags = {cls: tag for tag, cls in classes.items()}

    def unstructure_node(node: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"type": tags.get(type(node), type(node).__name__)}
        for one in _fields(type(node)):
            data[one.name] = made.unstructure(getattr(node, one.name), unstructure_as=one.type)
        return data

    def structure_node(data: dict[str, Any], _cls: Any) -> Any:
        cls = classes[_tag(data, classes)]
        return cls(**{one.name: made.structure(data[one.name], cast("type[Any]", one.type)) for one in _fields(cls)})

    def is_node(cls: Any) -> bool:
        return isinstance(cls, type) and issubclass(cls, base)

    made.register_unstructure_hook_func(is_node, unstructure_node)
    made.register_structure_hook_func(is_node, structure_node)


@functools.cache
def _shared() -> JsonConverter:
    # Built on first use, not at import; private, so no caller can change how another one's data reads.
    return converter()


def unstructure(value: object) -> Any:
    """Return `value` as plain data (dicts, lists, strings, numbers) that `json.dumps` takes.

    An event, a filter node and a distribution rule or pick carry their class
    name under ``"type"``, so ``structure(data, Event)`` (or `Filter`, `Rule`,
    `Pick`) finds it again.
    """
    union = _UNION_OF.get(type(value)) or next((u for members, u in _TAGGED if isinstance(value, members)), None)
    return _shared().unstructure(value) if union is None else _shared().unstructure(value, unstructure_as=union)


# The unions whose members carry their class name, with their members; a `Pick` is a `Rule` too.
_TAGGED = tuple((get_args(union), union) for union in (Event, Filter, Rule))
# The same by member, looked up first: a history's many events ask again and again.
_UNION_OF = {member: union for members, union in reversed(_TAGGED) for member in members}


def structure(data: Any, cls: type[_T]) -> _T:
    """Return the `cls` value that `unstructure` turned into `data`.

    Raises:
        InvalidValueError: `data` does not describe a `cls`, in a sentence naming the entry (see `problem`).
    """
    try:
        return _shared().structure(data, cls)
    except (cattrs.BaseValidationError, OwnershipError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise InvalidValueError(problem(error)) from error
