"""Snapshots (src/ownership/usecases/snapshots.py): restore writes a whole state, or, refusing it, writes nothing."""

from collections.abc import Callable

import attrs
import pytest

from conftest import make
from ownership import Assignee, InvalidValueError, Membership, Ownership, Snapshot, presets, serde
from ownership.notify import OutboxEntry
from ownership.ports import Repository
from ownership.segments import Segment, held_by
from ownership.snapshot import Setting
from ownership.testing import FakeClock


@pytest.fixture
def shared(clock: FakeClock) -> Snapshot:
    """Lead L-1 of acme (Anna's), forwarded to globex, accepted by Paul, who makes Petra its colleague there (LD7)."""
    own = make(presets.lead_exchange(), clock)
    own.add_tenant("acme")
    own.add_tenant("globex")
    own.add_user("acme", "Anna", id="anna", admin=True)
    own.add_user("globex", "Paul", id="paul")
    own.add_user("globex", "Petra", id="petra")
    own.add_group("acme", "Sales", "team", id="sales")
    lead = own.create("lead", actor="anna", id="L-1")
    own.share(lead, "globex", actor="anna")
    own.accept(lead, actor="paul")
    own.assign(lead, "colleague", Assignee.user("petra"), actor="paul")
    own.save_segment(Segment("lead", held_by(Assignee.user("anna")), name="Anna's"), actor="anna")
    return own.snapshot()


def restored(repository: Repository, snapshot: Snapshot, clock: FakeClock) -> Ownership:
    own = Ownership(presets.lead_exchange(), repository, clock=clock)
    own.restore(snapshot)
    return own


def test_a_restored_snapshot_is_the_snapshot_outbox_attempts_included(
    shared: Snapshot, repository: Repository, clock: FakeClock
) -> None:
    tried = attrs.evolve(shared, outbox=tuple(attrs.evolve(e, attempts=40) for e in shared.outbox))

    assert restored(repository, tried, clock).snapshot() == tried


EDITS: dict[str, tuple[Callable[[Snapshot], Snapshot], str]] = {
    "a partner in the home tenant's team": (
        lambda s: attrs.evolve(s, memberships=(*s.memberships, Membership("sales", "paul"))),
        "puts user 'paul' of tenant 'globex' in group 'sales' of another tenant",
    ),
    "a segment naming the partner's user": (
        lambda s: attrs.evolve(
            s,
            settings=(
                *s.settings,
                Setting("acme", "segments/s2", serde.unstructure(Segment("lead", held_by(Assignee.user("paul"))))),
            ),
        ),
        "names 'paul' of tenant 'globex' in setting 'segments/s2' of tenant 'acme'",
    ),
    "a broken number range": (
        lambda s: attrs.evolve(s, settings=(*s.settings, Setting("acme", "numbers/lead", {"width": -2}))),
        "holds setting 'numbers/lead' of tenant 'acme', which cannot be read",
    ),
    "a holder of the partner's slot from the home tenant": (
        lambda s: attrs.evolve(
            s,
            assignments=tuple(
                attrs.evolve(a, assignee=Assignee.user("anna")) if a.tenant == "globex" else a for a in s.assignments
            ),
        ),
        "makes user anna, of tenant 'acme', a holder of lead L-1 for 'globex'",
    ),
    "a notification naming an actor of another tenant than its recipient's": (
        lambda s: attrs.evolve(s, outbox=tuple(_told_by(e, "anna") for e in s.outbox)),
        "tells user 'petra' of tenant 'globex' that user 'anna' of another tenant acted",
    ),
}


def _told_by(entry: OutboxEntry, actor: str) -> OutboxEntry:
    return attrs.evolve(entry, notification=attrs.evolve(entry.notification, actor=actor))


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_a_refused_restore_leaves_the_repository_as_it_was(
    shared: Snapshot, repository: Repository, clock: FakeClock, edit: tuple[Callable[[Snapshot], Snapshot], str]
) -> None:
    change, sentence = edit
    own = Ownership(presets.lead_exchange(), repository, clock=clock)
    before = own.snapshot()

    with pytest.raises(InvalidValueError, match=sentence):
        own.restore(change(shared))

    assert own.snapshot() == before
    own.restore(shared)
    assert own.snapshot() == shared
