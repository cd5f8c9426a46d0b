"""The base of every room: the state `Ownership` is built with, units of work, retried use cases, progress.

A use case that changes state runs in one unit of work from `_writing`; a
read runs in one from `_reading`. A use case whose unit met another at the
same moment (`ConflictError`) runs again, `retries` times at most, and each
retry is logged on the ``ownership`` logger.
"""

import functools
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from attrs import define, field

from ownership.access import Viewer
from ownership.clock import utcnow
from ownership.errors import ConflictError
from ownership.filters import Filter, Test
from ownership.model import Group, Tenant, User
from ownership.notify import Notifier
from ownership.policy import Rulebook
from ownership.ports import (
    Claiming,
    Generations,
    ReadsApart,
    Repository,
    Transaction,
    Versioned,
    WritesAlone,
    WritesFirst,
)

logger = logging.getLogger("ownership")
"""Where `ownership` tells what it did not let reach the caller: retried conflicts, failed deliveries."""

Progress = Callable[[int, int], object]
"""Called as ``progress(done, total)`` while a bulk action goes on, so a CLI can draw a bar."""

_P = ParamSpec("_P")
_D = TypeVar("_D", Tenant | None, User | None, Group | None)
_KEPT = 10_000  # directory entries kept at most; all are dropped when there would be more
_R = TypeVar("_R")
_T = TypeVar("_T")

_BACKOFF = 0.002  # seconds: the longest first pause before trying a conflicting use case again
CHUNK = 1_000  # records a bulk action prepares and writes at a time, reporting progress after each


def _new_id() -> str:
    return uuid.uuid4().hex


@define
class ResolvedViewer:
    """A viewer resolved at one generation of the repository, when it stops being right, and its compiled rules.

    `filters` and `tests` keep the viewer's rule of each action, compiled, for as long as the viewer is kept.
    """

    viewer: Viewer
    generation: int
    until: datetime | None
    filters: dict[str, Filter] = field(factory=dict)
    tests: dict[str, Test] = field(factory=dict)

    def fresh(self, generation: int, moment: datetime) -> bool:
        """Whether the viewer is still right at `generation` and `moment`."""
        return self.generation == generation and (self.until is None or moment < self.until)


class Units:
    """The state every room shares, and the units of work its use cases run in.

    Only `__init__` sets state; rooms add methods, never attributes. Its arguments are those of
    `ownership.Ownership`, which documents them.
    """

    def __init__(
        self,
        rulebook: Rulebook,
        repository: Repository,
        *,
        clock: Callable[[], datetime] = utcnow,
        ids: Callable[[], str] = _new_id,
        notifier: Notifier | None = None,
        retries: int = 5,
    ) -> None:
        self._retries = retries
        self.rulebook = rulebook
        self._repository = repository
        self._notifier = notifier
        self._clock = clock
        self._ids = ids
        self._versioned = repository if isinstance(repository, Versioned) else None
        self._generations = repository if isinstance(repository, Generations) else None
        self._writes_first = repository if isinstance(repository, WritesFirst) else None
        self._writes_alone = repository if isinstance(repository, WritesAlone) else None
        self._reads_apart = repository if isinstance(repository, ReadsApart) else None
        self._claims_apart = repository if isinstance(repository, Claiming) else None
        # Viewers resolved at one generation of the repository, with the moment they stop being right.
        self._viewers: dict[tuple[str, str], ResolvedViewer] = {}
        # Tenants, users and groups as read at one generation of the directory, by what and id.
        self._directory: dict[tuple[str, str], tuple[int, Tenant | User | Group | None]] = {}

    def _writing(self, turn: str | None = None, *, alone: bool = False) -> AbstractContextManager[Transaction]:
        """Open a unit of work that will write: with the repository's write locks taken first, where it offers that.

        Units naming the same `turn` wait for each other rather than conflict, where the repository offers that.
        A unit `alone` (one that changes the directory, or many records) runs while no other unit writes,
        where the repository offers that.
        """
        if alone and self._writes_alone is not None:
            return self._writes_alone.writing_alone()
        if self._writes_first is not None:
            return self._writes_first.writing(turn)
        return self._repository.transaction()

    def _generation(self, tx: Transaction | None) -> int | None:
        """The generation what `tx` reads is at (outside a unit: the store's now); None if it has none to tell."""
        if tx is not None and offers(type(tx), "generation"):
            told: int | None = tx.generation()  # type: ignore[attr-defined]  # checked by its type
            return told
        if self._versioned is not None:
            return self._versioned.generation
        if tx is None and self._generations is not None:
            return self._generations.generation_now()
        return None

    def _kept(self, tx: Transaction, what: str, id: str, read: Callable[[], _D]) -> _D:
        """What `read` reads of the directory, kept across units while the directory's generation stays.

        Only a unit that tells the generation it reads at (`ownership.ports.GenerationOfUnit`) is served from
        what was kept: it reads the directory as it was at that generation, whatever it reads when.
        """
        generation = tx.generation() if offers(type(tx), "generation") else None  # type: ignore[attr-defined]
        if generation is None:
            return read()
        kept = self._directory.get((what, id))
        if kept is not None and kept[0] == generation:
            return kept[1]  # type: ignore[return-value]  # kept under `what`, as `read` reads it
        found = read()
        if len(self._directory) >= _KEPT:
            self._directory.clear()
        self._directory[what, id] = (generation, found)
        return found

    def _kept_viewer(self, user: str, kind: str, generation: int | None) -> ResolvedViewer | None:
        """The viewer kept for `user` and `kind`, if it is still right at `generation` and now."""
        if generation is None:
            return None
        kept = self._viewers.get((user, kind))
        return kept if kept is not None and kept.fresh(generation, self._clock()) else None

    def _claiming(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work that claims or settles the outbox: the repository's lighter one, where it offers that."""
        if self._claims_apart is not None:
            return self._claims_apart.claiming()
        return self._writing()

    def _reading(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work that only reads: one snapshot, never a conflict, where the repository offers that."""
        if self._reads_apart is not None:
            return self._reads_apart.reading()
        return self._repository.transaction()


@functools.cache
def offers(unit: type, method: str) -> bool:
    """Whether units of this class offer `method` of an optional port (`GenerationOfUnit`, `MovesHolders`).

    Asked once a class and method, so a use case's hot path pays a dictionary look-up, not a protocol check.
    """
    return callable(getattr(unit, method, None))


_U = TypeVar("_U", bound=Units)


def retried(use_case: Callable[Concatenate[_U, _P], _R]) -> Callable[Concatenate[_U, _P], _R]:
    """Run a use case again when its unit of work met another at the same moment (`ConflictError`).

    A use case reads what it decides on inside its own unit, so running it
    again decides on what is there now: the outcome is that of the two calls
    one after the other. `Ownership(retries=...)` says how often it tries;
    each retry is logged at INFO, and the conflict that reaches the caller at WARNING.
    """

    @functools.wraps(use_case)
    def run(self: _U, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        attempt = 0
        while True:
            try:
                return use_case(self, *args, **kwargs)
            except ConflictError as conflict:
                attempt += 1
                if attempt > self._retries:
                    logger.warning("%s gave up after %d runs: %s", run.__name__, attempt, conflict)
                    raise
                logger.info(
                    "%s met another unit of work; running it again (%d of %d)", run.__name__, attempt, self._retries
                )
                time.sleep(random.uniform(0, _BACKOFF * 2**attempt))

    return run


def chunks(items: Sequence[_T], size: int = CHUNK) -> Iterable[Sequence[_T]]:
    """`items` in slices of `size`, in order."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def step(total: int) -> int:
    """How many records a bulk action does between two progress reports: about a hundred reports, at most a chunk."""
    return max(1, min(CHUNK, total // 100))


def report(progress: Progress | None, done: int, total: int) -> None:
    """Call `progress` after every `step` of the work, and at its end."""
    if progress is not None and (done % step(total) == 0 or done == total):
        progress(done, total)
