"""Issue 14: anything at all given to any argument of any public method ends in success or an `OwnershipError`.

For each public method of `Ownership` (and `restore`), one argument at a time takes a drawn value of any kind:
ints small and huge, floats with nan and infinities, text with NUL and lone surrogates, bytes, None, lists,
dicts, naive and aware datetimes, plain objects; the others keep a valid value. The call must return or raise
an `OwnershipError`, nothing else; and when it refuses, the state is as it was. The memory store is enough here:
the catalogue proves the stores agree. Examples are few (the ``ci`` profile derandomizes them).
"""

from __future__ import annotations

import inspect
from datetime import datetime, timezone
from typing import Any

import pytest
from catalogue import METHODS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from small_world import World

from ownership import Ownership, OwnershipError
from ownership.adapters.memory import MemoryRepository


class Anything:
    """A plain object no method can expect."""

    def __repr__(self) -> str:
        return "Anything()"


anything = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**63, 2**64, -(2**63) - 1, True, False]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=20),
    st.sampled_from(["", "\x00", "a\x00b", "\ud800", "x" * 10_000, "deal", "anna", "acme", "view"]),
    st.binary(max_size=10),
    st.none(),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.datetimes(timezones=st.none()),
    st.datetimes(timezones=st.just(timezone.utc)),
    st.builds(Anything),
)
"""Any value a caller might hand over by mistake."""

PUBLIC = sorted(name for name, _ in inspect.getmembers(Ownership, inspect.isfunction) if not name.startswith("_"))
ARGUMENTS = [
    (name, argument)
    for name in PUBLIC
    for argument in inspect.signature(getattr(Ownership, name)).parameters
    if argument != "self"
]


@pytest.fixture(scope="module")
def world() -> World:
    return World("memory", lambda: (MemoryRepository(), None), lambda: (MemoryRepository(), None))


def test_every_public_argument_is_thrown_at() -> None:
    # restore's snapshot comes from the world; the others' valid calls from the catalogue's table.
    assert {name for name, _ in ARGUMENTS} - {"restore"} <= set(METHODS)


def _valid(world: World, method: str) -> dict[str, Any]:
    if method == "restore":
        return {"snapshot": world.original, "progress": None}
    return {
        name: value() if callable(value) and not isinstance(value, type) else value
        for name, (_kind, value) in METHODS[method].items()
    }


@pytest.mark.parametrize(("method", "argument"), ARGUMENTS, ids=[f"{m}-{a}" for m, a in ARGUMENTS])
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=anything)
def test_any_value_is_taken_or_refused_with_an_ownership_error_and_a_refusal_changes_nothing(
    world: World, method: str, argument: str, value: object
) -> None:
    call = _valid(world, method)
    if argument not in call and method == "record":
        call["record"] = "deal"  # record(kind, id): the id is thrown with the kind given
    call[argument] = value
    target = world.blank if method == "restore" else world.own
    try:
        getattr(target, method)(**call)
    except OwnershipError:
        assert world.own.snapshot() == world.original, (
            f"{method}() refused {value!r} as {argument} but changed the world"
        )
        assert world.blank.snapshot() == world.empty, f"{method}() refused {value!r} as {argument} but wrote a snapshot"
    else:
        world.reset(world=world.own.snapshot() != world.original, blank=world.blank.snapshot() != world.empty)


def test_the_moments_drawn_include_naive_ones() -> None:
    # Guards the strategy: a naive moment is among what is thrown.
    assert datetime(2026, 1, 5).tzinfo is None  # naive on purpose
