"""Turning every public value into plain JSON-ready data and back, through cattrs.

`converter()` returns a new converter each call, configured for every public
type of `ownership`; a host may customise its own copy freely. For each public
value ``x`` of type ``T``: ``structure(unstructure(x), T) == x``.
"""

from typing import Any, TypeVar, get_args

from cattrs.preconf.json import JsonConverter, make_converter
from cattrs.strategies import configure_tagged_union

from ownership.events import Event

_T = TypeVar("_T")


def converter() -> JsonConverter:
    """Return a new cattrs converter for every public `ownership` type.

    Datetimes become ISO 8601 strings, sets become lists, enums their values,
    and an `Event` carries its class name under the key ``"type"``.
    """
    made = make_converter()
    configure_tagged_union(Event, made, tag_name="type")
    return made


_default = converter()


def unstructure(value: object) -> Any:
    """Return `value` as plain data (dicts, lists, strings, numbers) that `json.dumps` takes.

    An event carries its class name under ``"type"``, so ``structure(data, Event)`` finds it again.
    """
    if isinstance(value, get_args(Event)):
        return _default.unstructure(value, unstructure_as=Event)
    return _default.unstructure(value)


def structure(data: Any, cls: type[_T]) -> _T:
    """Return the `cls` value that `unstructure` turned into `data`.

    Raises:
        cattrs.ClassValidationError: `data` does not describe a `cls`.
    """
    return _default.structure(data, cls)
