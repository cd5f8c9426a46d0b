"""Colleagues on leads shared between a principal and its sales partner (seed 002: LD1-LD8), told as a story.

Run it: ``python examples/lead_exchange.py``. Every line it prints is what the library answered.
"""

from collections.abc import Callable, Iterable

from ownership import Assignee, Notification, Ownership, OwnershipError, Record, presets
from ownership.adapters.memory import MemoryRepository
from ownership.clock import FakeClock


def names(own: Ownership, held: Iterable[Assignee]) -> str:
    return ", ".join(own.user(a.id).name for a in held) or "nobody"


def told(own: Ownership, notes: Iterable[Notification]) -> str:
    """Who was told, and whom the notification names as actor: nobody, if the actor is of the other company."""
    return ", ".join(f"{own.user(n.recipient).name} (by {n.actor or 'someone'})" for n in notes) or "nobody"


def refused(what: str, step: Callable[[], object]) -> None:
    try:
        step()
    except OwnershipError as error:
        print(f"  refused: {what} ({type(error).__name__}): {error}")
    else:
        raise AssertionError(f"{what} should have been refused")


def in_the_company(own: Ownership) -> Record:
    nora, nils = own.user("nora"), own.user("nils")
    print("LD6: a lead created by hand goes to its creator; an imported one to nobody (LD1)")
    lead = own.create("lead", actor=nora, id="L-1", name="Bakery Hansen")
    imported = own.create("lead", actor=nora, id="L-2", name="Garage Berg", manual=False)
    print(f"  L-1, created by Nora; colleague: {names(own, own.holders(lead, 'colleague'))}")
    print(f"  L-2, imported; colleague: {names(own, own.holders(imported, 'colleague'))}")

    print("LD2: only active colleagues of the same company")
    refused("Nora assigns Paul of Southpaw", lambda: own.assign(lead, "colleague", own.user("paul"), actor=nora))
    refused("Nora assigns Nadia, who left", lambda: own.assign(lead, "colleague", own.user("nadia"), actor=nora))

    print("LD5: the assignment can be changed or removed at any time; there is one colleague at most")
    own.assign(lead, "colleague", nils, actor=nora)
    print(f"  Nora hands L-1 to Nils: {names(own, own.holders(lead, 'colleague'))}")
    own.unassign(lead, "colleague", nils, actor=nils)
    print(f"  Nils removes himself: {names(own, own.holders(lead, 'colleague'))}")
    own.assign(lead, "colleague", nils, actor=nils)
    print(f"  and takes it back: {names(own, own.holders(lead, 'colleague'))}")

    print("LD3: the assignment changes no one's visibility")
    print(f"  Nora may view L-1, which is Nils's: {own.can(nora, 'view', lead)}")
    print(f"  why: {own.explain(nora, 'view', lead)}")

    print("LD4: every lead list carries the colleague as a column")
    for row in own.visible(nora, "lead").rows:
        colleague = names(own, (a.assignee for a in row.assignments if a.role == "colleague"))
        print(f"  {row.record.id:4} {row.record.name:14} colleague: {colleague}")
    return lead


def across_companies(own: Ownership, lead: Record) -> None:
    print("LD6: Nora forwards L-1 to Southpaw; Paul accepts it and it is his there")
    own.share(lead, "southpaw", actor="nora")
    refused("Ian of Initech, not offered the lead, reads it", lambda: own.holders(lead, "colleague", viewer="ian"))
    lead = own.accept(lead, actor="paul")
    print(f"  L-1 is shared with: {sorted(lead.shared_with)}")

    print("LD7: each company sees its own colleague only")
    print(f"  Northwind sees: {names(own, own.holders(lead, 'colleague', viewer='nora'))}")
    print(f"  Southpaw sees: {names(own, own.holders(lead, 'colleague', viewer='paul'))}")
    refused("Paul assigns Nils of Northwind", lambda: own.assign(lead, "colleague", own.user("nils"), actor="paul"))
    own.assign(lead, "colleague", own.user("petra"), actor="paul")
    print(f"  Paul hands his part to Petra; Southpaw: {names(own, own.holders(lead, 'colleague', viewer='paul'))}")
    print(f"  Northwind still: {names(own, own.holders(lead, 'colleague', viewer='nora'))}")
    for viewer in ("nora", "paul"):
        seen = sorted({str(getattr(e, "assignee", "")) for e in own.history(lead, viewer=viewer)} - {""})
        actors = sorted({e.actor for e in own.history(lead, viewer=viewer) if e.actor})
        print(f"  {own.user(viewer).name}'s history of L-1 names assignees {seen} and actors {actors}")
    [row] = [r for r in own.visible("petra", "lead").rows if r.record.id == "L-1"]
    print(f"  Southpaw's lead list, L-1: {[str(a.assignee) for a in row.assignments]}")

    print("LD8: the colleague hears of the assignment and of what others do")
    pending = [e.notification for e in own.outbox(pending=True) if e.notification.activity == "assigned"]
    print("  told of an assignment: " + told(own, pending))
    print(f"  Nora adds a note; told: {told(own, recorded(own, lead, 'note_added', 'nora'))}")
    print(f"  Paul creates a task; told: {told(own, recorded(own, lead, 'task_created', 'paul'))}")
    print(f"  Petra adds a note; told: {told(own, recorded(own, lead, 'note_added', 'petra'))}")


def recorded(own: Ownership, lead: Record, activity: str, actor: str) -> list[Notification]:
    """Every notification an activity wrote, both companies': the host reads them in its outbox.

    `record_activity` gives the actor back only its own company's notices (LD7).
    """
    queued = len(own.outbox())
    own.record_activity(lead, activity, actor=actor)
    return [entry.notification for entry in own.outbox()[queued:]]


def main() -> None:
    own = Ownership(presets.lead_exchange(), MemoryRepository(), clock=FakeClock())
    own.add_tenant("northwind", name="Northwind (principal)")
    own.add_tenant("southpaw", name="Southpaw (sales partner)")
    own.add_tenant("initech", name="Initech (another partner)")
    own.add_user("northwind", "Nora", id="nora")
    own.add_user("northwind", "Nils", id="nils")
    own.add_user("northwind", "Nadia", id="nadia", active=False)
    own.add_user("southpaw", "Paul", id="paul")
    own.add_user("southpaw", "Petra", id="petra")
    own.add_user("initech", "Ian", id="ian")

    lead = in_the_company(own)
    across_companies(own, lead)


if __name__ == "__main__":
    main()
