"""Contacts assigned to everyone, to employees or to a competence (seed 004: CT1-CT6), told as a story.

Run it: ``python examples/contact_desk.py``. Every line it prints is what the library answered.
docs/contacts.md goes deeper into status, numbers, segments and bulk work.
"""

from collections.abc import Callable, Iterable

from ownership import (
    EVERYONE,
    Assignee,
    AssigneeKind,
    GroupKind,
    Ownership,
    OwnershipError,
    Profile,
    Record,
    Segment,
    held_by,
    in_group,
    named,
    presets,
    status_in,
)
from ownership.adapters.memory import MemoryRepository
from ownership.clock import FakeClock


def held(own: Ownership, holders: Iterable[Assignee]) -> str:
    """Names people read: a user's name, a competence's name in quotes, or everyone."""

    def name(assignee: Assignee) -> str:
        if assignee.kind is AssigneeKind.USER:
            return own.user(assignee.id).name
        return "everyone" if assignee == EVERYONE else repr(own.group(assignee.id).name)

    return ", ".join(map(name, holders)) or "nobody"


def refused(what: str, step: Callable[[], object]) -> None:
    try:
        step()
    except OwnershipError as error:
        print(f"  refused: {what} ({type(error).__name__}): {error}")
    else:
        raise AssertionError(f"{what} should have been refused")


def status_and_assignment(own: Ownership) -> Record:
    weber, tax = own.user("weber"), own.group("tax")
    print("CT1: a contact's status: prospect by hand, inbox by import")
    hansen = own.create("contact", actor=weber, id="K-1", name="Bäckerei Hansen")
    imported = own.create("contact", actor=None, tenant="kanzlei", id="K-2", name="Müller GmbH", manual=False)
    print(f"  K-1 (by hand): {hansen.status}; K-2 (imported): {imported.status}")
    refused("K-2, in the inbox, gets an assignee", lambda: own.assign(imported, "assignee", weber, actor="ada"))
    refused("K-1 becomes a customer unconfirmed", lambda: own.set_status(hansen, "customer", actor=weber))
    hansen = own.set_status(hansen, "customer", actor=weber, confirmed=True)
    print(f"  confirmed, K-1 is now: {hansen.status}")
    own.set_status(imported, "prospect", actor="ada")

    print("CT2: assigned to all employees, to individual employees, or to a competence")
    own.assign(hansen, "assignee", EVERYONE, actor=weber)
    print(f"  K-1: {held(own, own.holders(hansen, 'assignee'))}")
    own.replace(hansen, "assignee", EVERYONE, tax, actor=weber)
    own.assign(hansen, "assignee", weber, actor=weber)
    print(f"  K-1: {held(own, own.holders(hansen, 'assignee'))}")
    support = own.add_group("kanzlei", "Support", GroupKind.TEAM, id="support")
    refused("K-1 goes to the team Support", lambda: own.assign(hansen, "assignee", support, actor=weber))

    print("CT3: assigned employees hear of incoming chat messages: by push if their profile allows, else in-app")
    for n in own.record_activity(hansen, presets.CHAT_MESSAGE, actor=None):
        print(f"  {own.user(n.recipient).name}: {n.activity} on {n.record.id} by {n.channel.value}")
    told = [own.user(n.recipient).name for n in own.record_activity(hansen, "call_logged", actor="lena")]
    print(f"  Lena logs a call on K-1; told: {told}")
    return hansen


def numbers_and_finding(own: Ownership, hansen: Record) -> Segment:
    print("CT4: customer numbers are unique; a number range hands out the next free one")
    own.set_number_range("kanzlei", "contact", prefix="KD-", width=4, next=1, actor="ada")
    own.set_number(own.record("contact", "K-2"), "KD-0001", actor="ada")  # given by hand
    hansen = own.set_number(hansen, actor="weber")
    print(f"  K-1 gets {hansen.number}; the range skipped KD-0001, which K-2 carries by hand")
    refused("K-2 takes K-1's number", lambda: own.set_number(own.record("contact", "K-2"), "KD-0002", actor="ada"))

    print("CT5: find contacts by name and by assigned employee, and save a filter as a dynamic group")
    print(f"  named 'hansen': {[r.id for r in own.find('max', 'contact', named('hansen')).records]}")
    lenas = own.find("max", "contact", held_by("lena") & status_in("customer")).records
    print(f"  Lena's customers (through the competence Tax advice): {[r.id for r in lenas]}")
    segment = own.save_segment(Segment("contact", held_by("max"), name="Max's contacts"), actor="max")
    print(f"  {segment.name}, saved: {[r.id for r in own.find('max', segment).records]}")
    return segment


def selections(own: Ownership, maxs: Segment) -> None:
    weber, lena, max_ = own.user("weber"), own.user("lena"), own.user("max")
    print("CT6: a group of contacts with a name, a number and its own responsible")
    k3, k4, k5 = (own.create("contact", actor=weber, id=f"K-{n}", name=f"Praxis {n}") for n in (3, 4, 5))
    vip = own.create("contact_group", actor=weber, id="G-1", name="VIP", number="G-1", holders={"responsible": lena})
    own.add_to_group(vip, [own.record("contact", "K-1"), k3, k4, k5], actor=weber)
    print(f"  {vip.name} ({vip.number}), responsible {held(own, own.holders(vip, 'responsible'))}")
    print(f"  its contacts: {[r.id for r in own.find(weber, 'contact', in_group(vip)).records]}")

    print("CT6: a temporary group for one action: K-3 and K-4 go to Max, in one unit of work")
    steps: list[tuple[int, int]] = []
    moved = own.reassign(
        [k3, k4], "assignee", max_, actor=weber, progress=lambda done, total: steps.append((done, total))
    )
    print(f"  moved {moved} contacts; progress {steps}")
    print(f"  the dynamic group {maxs.name!r} finds now: {[r.id for r in own.find(max_, maxs).records]}")

    print("CT6, CT1: archive together, reactivate without losing anything, delete for good")
    print(f"  archived: {own.archive([k4, k5], actor=weber)}; K-5 is now {own.record('contact', 'K-5').status}")
    refused("Lena adds a note to the archived K-5", lambda: own.record_activity(k5, "note_added", actor=lena))
    k4 = own.set_status(k4, "customer", actor=weber, confirmed=True)
    print(f"  K-4 reactivated as {k4.status}; assignee kept: {held(own, own.holders(k4, 'assignee'))}")
    print(f"  history of K-4: {[type(e).__name__ for e in own.history(k4)]}")
    print(f"  deleted: {own.delete([k5], actor=weber)}")
    refused("reading K-5 after deletion", lambda: own.record("contact", "K-5"))


def main() -> None:
    own = Ownership(presets.contact_desk(), MemoryRepository(), clock=FakeClock())
    own.add_tenant("kanzlei", name="Kanzlei Weber")
    own.add_user("kanzlei", "Ada", id="ada", admin=True)
    own.add_user("kanzlei", "Weber", id="weber")
    own.add_user("kanzlei", "Lena", id="lena", profile=Profile(push=True))
    own.add_user("kanzlei", "Max", id="max")
    tax = own.add_group("kanzlei", "Tax advice", GroupKind.COMPETENCE, id="tax")
    for member in ("lena", "max"):
        own.add_member(tax, member)

    hansen = status_and_assignment(own)
    maxs = numbers_and_finding(own, hansen)
    selections(own, maxs)


if __name__ == "__main__":
    main()
