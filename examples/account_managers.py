"""Account managers and responsible persons (seeds 000, 001: TL1-TL10), told as a story.

Run it: ``python examples/account_managers.py``. Every line it prints is what the library answered.
"""

from collections.abc import Callable, Iterable

from ownership import Assignee, Notification, Ownership, OwnershipError, Profile, Record, Segment, held_by, presets
from ownership.adapters.memory import MemoryRepository
from ownership.clock import FakeClock


def names(own: Ownership, held: Iterable[Assignee]) -> str:
    return ", ".join(own.user(a.id).name for a in held) or "nobody"


def told(own: Ownership, notes: Iterable[Notification]) -> str:
    return ", ".join(f"{own.user(n.recipient).name} ({n.activity})" for n in notes) or "nobody"


def refused(what: str, step: Callable[[], object]) -> None:
    try:
        step()
    except OwnershipError as error:
        print(f"  refused: {what} ({type(error).__name__}): {error}")
    else:
        raise AssertionError(f"{what} should have been refused")


def companies_and_deals(own: Ownership, clock: FakeClock) -> tuple[Record, Record]:
    anna, bob = own.user("anna"), own.user("bob")
    print("TL1: a company's account manager is optional")
    company = own.create("company", actor=anna, id="C-1")
    print(f"  C-1 created by Anna; account manager: {names(own, own.holders(company, 'account_manager'))}")
    own.assign(company, "account_manager", bob, actor=anna)
    print(f"  Anna names Bob: {names(own, own.holders(company, 'account_manager'))}")

    print("TL2: a deal has exactly one responsible person, always")
    deal = own.create("deal", actor=anna, id="D-1")
    print(f"  D-1 created by Anna; responsible: {names(own, own.holders(deal, 'responsible'))}")
    refused("an import without a responsible", lambda: own.create("deal", actor=None, tenant="acme", id="D-9"))
    refused("Anna leaves D-1 with nobody", lambda: own.unassign(deal, "responsible", anna, actor=anna))
    clock.advance(days=1)
    own.assign(deal, "responsible", bob, actor=anna)
    print(f"  a day later Anna hands D-1 over; responsible: {names(own, own.holders(deal, 'responsible'))}")

    print("TL3: the managers hear of every action someone else takes")
    print(f"  Anna adds a note to C-1; told: {told(own, own.record_activity(company, 'note_added', actor=anna))}")
    print(f"  Bob adds a note himself; told: {told(own, own.record_activity(company, 'note_added', actor=bob))}")
    return company, deal


def restricted_access(own: Ownership, company: Record) -> None:
    print("TL4: restricted CRM and deal access, set by an admin")
    carl = own.user("carl")
    print(f"  Carl may view C-1: {own.can(carl, 'view', company)}; Anna: {own.can('anna', 'view', company)}")
    for reason in own.explain(carl, "view", company).failed:
        print(f"  why not: {reason}")
    carls = own.create("deal", actor=carl, id="D-2")
    print(f"  Carl lists deals: {[r.id for r in own.visible(carl, 'deal').records]}")
    print(f"  Bea (admin) lists deals: {[r.id for r in own.visible('bea', 'deal').records]}")

    print("TL5: a second account manager, once support switches it on")
    refused("a second manager on C-1", lambda: own.assign(company, "second_account_manager", carl, actor="anna"))
    own.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    own.assign(company, "second_account_manager", carl, actor="anna")
    second = names(own, own.holders(company, "second_account_manager"))
    print(f"  C-1: account manager {names(own, own.holders(company, 'account_manager'))}, second {second}")
    print(f"  Carl, restricted, may view C-1 now: {own.can(carl, 'view', company)}")
    print(f"  Anna logs a call on C-1; told: {told(own, own.record_activity(company, 'call_logged', actor='anna'))}")
    own.assign(carls, "second_responsible", own.user("anna"), actor=carl)
    print(f"  D-2, second responsible: {names(own, own.holders(carls, 'second_responsible'))}")


def custom_field_projects_and_tickets(own: Ownership) -> None:
    anna, bob, carl = own.user("anna"), own.user("bob"), own.user("carl")
    print("TL6: a custom user field names someone, and restricts nothing")
    contact = own.create("contact", actor=anna, id="P-1", holders={"owner": bob})
    print(f"  contact P-1, owner: {names(own, own.holders(contact, 'owner'))}")
    print(f"  Carl may view P-1: {own.can(carl, 'view', contact)}")
    print(f"  Anna edits P-1; told: {told(own, own.record_activity(contact, 'note_added', actor=anna))} (not notified)")

    print("TL7: projects, on plans that include them")
    refused("a project on plan go", lambda: own.create("project", actor=anna, id="PR-1"))
    own.configure_tenant("acme", plan="move")
    project = own.create("project", actor=anna, id="PR-1", holders={"manager": [anna, bob], "collaborator": carl})
    crew = names(own, own.holders(project, "collaborator"))
    print(f"  PR-1 managers: {names(own, own.holders(project, 'manager'))}; collaborators: {crew}")
    own.unassign(project, "manager", anna, actor=anna)
    refused("Bob, the last manager, leaves PR-1", lambda: own.unassign(project, "manager", bob, actor=bob))
    print(f"  Carl, restricted, may view PR-1 as a collaborator: {own.can(carl, 'view', project)}")
    print(f"  Carl adds a file; told: {told(own, own.record_activity(project, 'file_added', actor=carl))}")

    print("TL8: tickets, on plan boost; the assignee is optional")
    refused("a ticket on plan move", lambda: own.create("ticket", actor=anna, id="T-1"))
    own.configure_tenant("acme", plan="boost")
    ticket = own.create("ticket", actor=anna, id="T-1")
    print(f"  T-1 created by Anna; responsible: {names(own, own.holders(ticket, 'responsible'))}")
    own.assign(ticket, "responsible", bob, actor=anna)
    own.create("ticket", actor=anna, id="T-2", holders={"responsible": bob})
    own.create("ticket", actor=anna, id="T-3")
    for activity in (presets.INTERNAL_NOTE, presets.CUSTOMER_REPLIED, presets.TICKET_CLOSED):
        print(f"  {activity} on T-1; told: {told(own, own.record_activity(ticket, activity, actor=None))}")
    refused("a note_added on a ticket", lambda: own.record_activity(ticket, "note_added", actor=anna))
    print(f"  Carl may view T-1 (tickets are never restricted): {own.can(carl, 'view', ticket)}")
    stats = own.counts_by_holder("bea", "ticket", "responsible")
    print("  tickets per assignee:", {(own.user(a.id).name if a else "nobody"): n for a, n in stats.items()})


def segments_and_plans(own: Ownership) -> None:
    print("TL9: segments by account manager and responsible person")
    bobs = Segment("company", held_by("bob", "account_manager"), name="Bob's companies")
    own.save_segment(bobs, actor="bea")
    own.create("company", actor="anna", id="C-2")
    print(f"  {bobs.name}: {[r.id for r in own.find('bea', bobs).records]}")
    annas = Segment("deal", held_by("anna", "responsible", "second_responsible"), name="Anna's deals")
    print(f"  {annas.name}: {[r.id for r in own.find('anna', annas).records]}")

    print("TL10: what exists depends on the plan and the switches")
    for plan in ("go", "move", "boost"):
        tenant = own.configure_tenant("acme", plan=plan)
        print(f"  plan {plan}: features {sorted(own.rulebook.features(tenant))}")


def main() -> None:
    # TL6: contacts have no built-in manager; this host adds a custom field of type *user* to them.
    rulebook = presets.account_managers().with_role("contact", presets.user_field("owner"))
    clock = FakeClock()
    own = Ownership(rulebook, MemoryRepository(), clock=clock)
    own.add_tenant("acme", name="Acme Ltd", plan="go")  # TL10: the smallest plan
    own.add_user("acme", "Bea", id="bea", admin=True)
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob")
    # TL4: Bea restricts Carl's CRM access (companies), his deal access and his project access.
    own.add_user("acme", "Carl", id="carl", profile=Profile(restricted={"company", "deal", "project"}))

    company, deal = companies_and_deals(own, clock)
    restricted_access(own, company)
    custom_field_projects_and_tickets(own)
    segments_and_plans(own)

    print("X2: the history of D-1, and who was responsible on its first day")
    for event in own.history(deal):
        what = " ".join(filter(None, [type(event).__name__, str(getattr(event, "assignee", ""))]))
        print(f"  {event.at:%Y-%m-%d} {what} by {event.actor}")
    print(f"  responsible when D-1 was created: {names(own, own.holders_at(deal, 'responsible', deal.created_at))}")
    pending = [entry.notification for entry in own.outbox(pending=True)]
    print(f"X7: {len(pending)} notifications wait in the outbox for the host's notifier; Bob's:")
    print("  " + ", ".join(f"{n.activity} {n.record.kind} {n.record.id}" for n in pending if n.recipient == "bob"))


if __name__ == "__main__":
    main()
