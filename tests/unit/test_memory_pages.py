"""The memory repository's pages: walked in id order or picked from the indexes, they list exactly what sorting did.

`select` walks the ids of a kind in order from `after` for a broad filter,
and picks the smallest matching ids from the indexes for a narrow one, giving
the walk up for the picking when it has read as many ids as picking would.
Whichever way it goes, pages walked with ``after=`` cover exactly the sorted
ids `matches` finds, through records put, replaced and deleted, holders given
and taken, and units (and units inside units) rolled back. Each way is forced
in turn here, so none is proven only on the worlds that happen to choose it.
"""

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ownership import Assignee, Assignment, Record, RecordRef
from ownership.adapters import memory
from ownership.adapters.memory import MemoryRepository, _SortedIds
from ownership.filters import (
    EVERYTHING,
    NOTHING,
    And,
    Filter,
    HasAssignee,
    Held,
    HomeIs,
    NameHas,
    Not,
    Or,
    SharedWith,
    StatusIn,
    matches,
)
from ownership.ports import Transaction

AT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
KINDS = ("deal", "lead")
TENANTS = ("acme", "globex", "initech")
ROLES = ("owner", "helper")
PEOPLE = (Assignee.user("anna"), Assignee.user("bob"), Assignee.group("north"))
# Ids whose order is not their length's, nor their numbers': what a walk from `after` must get right.
IDS = ("R-1", "R-10", "R-100", "R-11", "R-2", "R-20", "R-3", "a", "B", "b", "Ä", "r0000001", "r0000001s", "r0000002")
# Places to page from that are no id: before every id, between ids, past every id.
AFTERS = ("", "R-0", "R-10a", "Z", "zzz")

World = dict[RecordRef, tuple[Record, tuple[Assignment, ...]]]
Op = tuple[
    Any, ...
]  # ("put", record), ("delete", kind, id), ("hold", kind, id, role, who, slot), ("release", kind, id, i)
Unit = tuple[list[Op], bool, list[Op]]


class _UnitFailedError(Exception):
    """Raised inside a unit of work to see it rolled back."""


def _records() -> st.SearchStrategy[Record]:
    return st.builds(
        lambda kind, id, home, shared, status, name: Record(
            kind, id, home, AT, shared_with=shared - {home}, status=status, name=name
        ),
        st.sampled_from(KINDS),
        st.sampled_from(IDS),
        st.sampled_from(TENANTS),
        st.frozensets(st.sampled_from(TENANTS)),
        st.sampled_from((None, "open", "won")),
        st.sampled_from((None, "Lamp", "lamps")),
    )


_OPS = st.one_of(
    st.tuples(st.just("put"), _records()),
    st.tuples(st.just("delete"), st.sampled_from(KINDS), st.sampled_from(IDS)),
    st.tuples(
        st.just("hold"),
        st.sampled_from(KINDS),
        st.sampled_from(IDS),
        st.sampled_from(ROLES),
        st.sampled_from(PEOPLE),
        st.sampled_from(TENANTS),
    ),
    st.tuples(st.just("release"), st.sampled_from(KINDS), st.sampled_from(IDS), st.integers(0, 3)),
)
# A unit: its writes, whether it fails at its end, and the writes of a unit inside it that fails.
_UNITS = st.tuples(st.lists(_OPS, min_size=1, max_size=6), st.booleans(), st.lists(_OPS, max_size=3))


def _filters() -> st.SearchStrategy[Filter]:
    leaves: st.SearchStrategy[Filter] = st.one_of(
        st.just(EVERYTHING),
        st.just(NOTHING),
        st.sampled_from(TENANTS).map(HomeIs),
        st.sampled_from(TENANTS).map(SharedWith),
        st.builds(
            HasAssignee,
            roles=st.frozensets(st.sampled_from(ROLES)),
            assignees=st.frozensets(st.sampled_from(PEOPLE)),
            tenant=st.sampled_from(TENANTS),
        ),
        st.builds(Held, roles=st.frozensets(st.sampled_from(ROLES)), tenant=st.sampled_from(TENANTS)),
        st.frozensets(st.sampled_from(("open", "won"))).map(StatusIn),
        st.just(NameHas("lamp")),
        # An admin's filter: the records at home in, or shared with, the tenant.
        st.sampled_from(TENANTS).map(lambda t: Or((HomeIs(t), SharedWith(t)))),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda parts: And(tuple(parts))),
            st.lists(inner, min_size=2, max_size=3).map(lambda parts: Or(tuple(parts))),
            inner.map(Not),
        ),
        max_leaves=5,
    )


def _apply(tx: Transaction, world: World, op: Op) -> None:
    """Do one write in `tx` and in `world`, the model of what the repository holds."""
    if op[0] == "put":
        record: Record = op[1]
        tx.put_record(record)
        world[record.ref] = (record, world.get(record.ref, (record, ()))[1])
        return
    ref = RecordRef(op[1], op[2])
    if ref not in world:
        return
    record, held = world[ref]
    if op[0] == "delete":
        tx.delete_record(ref)
        del world[ref]
    elif op[0] == "hold":
        _, _, _, role, who, slot = op
        if not any((a.role, a.assignee, a.tenant) == (role, who, slot) for a in held):
            given_ = Assignment(ref, role, who, slot, AT)
            tx.add_assignment(given_)
            world[ref] = (record, (*held, given_))
    else:
        index: int = op[3]
        if index < len(held):
            tx.remove_assignment(held[index])
            world[ref] = (record, held[:index] + held[index + 1 :])


def _run(repo: MemoryRepository, world: World, unit: tuple[list[Op], bool, list[Op]]) -> World:
    """Run one unit on `repo`; return the model of what it holds after it, committed or rolled back."""
    writes, fails, inner_writes = unit
    after = dict(world)
    try:
        with repo.transaction() as tx:
            for op in writes:
                _apply(tx, after, op)
            inside = dict(after)
            try:
                with repo.transaction() as inner:
                    for op in inner_writes:
                        _apply(inner, inside, op)
                    raise _UnitFailedError
            except _UnitFailedError:
                pass  # the inner unit's writes are gone, the outer unit's stay
            if fails:
                raise _UnitFailedError
    except _UnitFailedError:
        if fails:
            return world
    return after


def _walked(repo: MemoryRepository, kind: str, where: Filter, limit: int, after: str | None) -> list[str]:
    """Every id from `after` on, page by page, each page starting after the last one's last id."""
    listed: list[str] = []
    with repo.transaction() as tx:
        while True:
            page = tx.select(kind, where, limit=limit, after=after)
            assert len(page) <= limit
            assert all(r.kind == kind for r in page)
            listed += [r.id for r in page]
            if len(page) < limit:
                return listed
            after = page[-1].id


# The ways a page is made: as the repository chooses; always picked; always walked to the end; walked one id,
# then picked (the walk given up); walked a few ids, given up or not.
BUDGETS: dict[str, Callable[[int, int, int], int] | None] = {
    "chosen": None,
    "picked": lambda limit, size, total: 0,
    "walked": lambda limit, size, total: total,
    "given up": lambda limit, size, total: 1,
    "a few": lambda limit, size, total: 3,
}


@pytest.mark.parametrize("budget", BUDGETS)
@settings(max_examples=60)
@given(
    units=st.lists(_UNITS, min_size=1, max_size=6),
    wheres=st.lists(_filters(), min_size=1, max_size=3),
    limit=st.sampled_from((1, 2, 3, 100)),
)
def test_pages_walked_with_after_cover_exactly_the_sorted_matching_ids(
    budget: str,
    units: list[Unit],
    wheres: list[Filter],
    limit: int,
) -> None:
    chosen = BUDGETS[budget]
    with mock.patch.object(memory, "_walk_budget", chosen or memory._walk_budget):
        repo = MemoryRepository()
        world: World = {}
        for unit in units:
            world = _run(repo, world, unit)
            for kind in KINDS:
                for where in wheres:
                    expected = sorted(
                        ref.id
                        for ref, (record, held) in world.items()
                        if ref.kind == kind and matches(where, record, held)
                    )
                    assert _walked(repo, kind, where, limit, None) == expected, (kind, where)
                    for after in AFTERS:
                        assert _walked(repo, kind, where, limit, after) == [i for i in expected if i > after]
        with repo.transaction() as tx:
            assert tx.select("company", EVERYTHING, limit=10) == []


@given(
    ops=st.lists(st.tuples(st.booleans(), st.text("abcR-0123", max_size=4)), max_size=200),
    afters=st.lists(st.text("abcR-0123", max_size=4), max_size=5),
)
def test_a_kinds_ids_in_blocks_keep_every_id_once_in_order(ops: list[tuple[bool, str]], afters: list[str]) -> None:
    class Small(_SortedIds):
        __slots__ = ()
        LOAD = 2  # blocks of two to four ids: every add splits or fills one, every removal may empty one

    ids, model = Small(), set[str]()
    for add, id in ops:
        if add:
            ids.add(id)
            model.add(id)
        else:
            ids.discard(id)
            model.discard(id)
        assert ids == model
    assert list(ids.after(None)) == sorted(model)
    assert ids.above(None) == len(model)
    for after in afters:
        assert list(ids.after(after)) == [i for i in sorted(model) if i > after], after
        assert ids.above(after) == sum(1 for i in model if i > after), after


def test_a_page_is_walked_or_picked_as_the_filter_is_broad_or_narrow() -> None:
    assert memory._walk_budget(100, 900_000, 1_000_000) == 900_000  # an admin's: walk, about 111 ids
    assert memory._walk_budget(100, 50, 1_000_000) == 0  # fewer matches than a page: pick them
    assert memory._walk_budget(100, 5_000, 1_000_000) == 0  # a walk would read about 20,000 ids: pick 5,000
    assert memory._walk_budget(100, 20_000, 1_000_000) == 20_000  # a walk reads about 5,000 ids: walk
