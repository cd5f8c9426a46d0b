"""Turning every public value into plain JSON-ready data and back, through cattrs.

`converter()` returns a new converter each call, configured for every public
type of `ownership`; a host may customise its own copy freely. For each public
value ``x`` of type ``T``: ``structure(unstructure(x), T) == x``.
"""

import functools
import json
from collections import abc
from collections.abc import Callable
from typing import Any, TypeVar, cast, get_args, get_origin

import attrs
from cattrs.preconf.json import JsonConverter, make_converter
from cattrs.strategies import configure_tagged_union

from ownership import access, segments
from ownership.distribution import Pick, Rule
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
    configure_tagged_union(Event, made, tag_name="type")
    configure_tagged_union(Filter, made, tag_name="type")
    _configure_tree(made, access.Predicate, _PREDICATES)
    _configure_tree(made, segments.Criterion, segments.CRITERIA)
    configure_tagged_union(Pick, made, tag_name="type")
    configure_tagged_union(Rule, made, tag_name="type")
    return made


_PREDICATES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        access.Always,
        access.Never,
        access.IsAdmin,
        access.Restricted,
        access.Holds,
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


def _order(data: Any) -> str:
    return json.dumps(data, sort_keys=True)


def _fields(cls: type) -> "tuple[attrs.Attribute[Any], ...]":
    # Every concrete node is an attrs class; the abstract base is not, which mypy cannot see.
    return cast("tuple[attrs.Attribute[Any], ...]", attrs.fields(cast("type[attrs.AttrsInstance]", cls)))


def _configure_tree(made: JsonConverter, base: type, classes: dict[str, type]) -> None:
    """A recursive tree of classes under an abstract `base`; each node carries its tag in `classes` under ``"type"``."""
    tags = {cls: tag for tag, cls in classes.items()}

    def unstructure_node(node: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"type": tags.get(type(node), type(node).__name__)}
        for one in _fields(type(node)):
            data[one.name] = made.unstructure(getattr(node, one.name), unstructure_as=one.type)
        return data

    def structure_node(data: dict[str, Any], _cls: Any) -> Any:
        cls = classes[data["type"]]
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
    for members, union in _TAGGED:
        if isinstance(value, members):
            return _shared().unstructure(value, unstructure_as=union)
    return _shared().unstructure(value)


# The unions whose members carry their class name, with their members; a `Pick` is a `Rule` too.
_TAGGED = tuple((get_args(union), union) for union in (Event, Filter, Rule))


def structure(data: Any, cls: type[_T]) -> _T:
    """Return the `cls` value that `unstructure` turned into `data`.

    Raises:
        cattrs.ClassValidationError: `data` does not describe a `cls`.
    """
    return _shared().structure(data, cls)
