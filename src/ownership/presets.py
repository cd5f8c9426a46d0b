"""Ready rulebooks, one per seed system; compose them with ``|`` and ``.only(...)``.

- `account_managers`: account managers and responsible persons (seeds 000, 001).
- `lead_exchange`: colleague assignment on leads shared between companies (seed 002).
- `caretaker_groups`: caretaker groups that decide who sees a customer (seed 003).
- `contact_desk`: contacts assigned to employees, competences or everyone (seed 004).
"""

from attrs import evolve

from ownership.access import in_caretaker_group, is_admin
from ownership.lifecycle import contacts
from ownership.model import GroupKind
from ownership.notify import Activity
from ownership.policy import Access, AssignActor, Plan, Policy, Role, Rulebook, Trigger

SECOND_ACCOUNT_MANAGER = "second_account_manager"
"""The switch support turns on for a second manager on companies and deals (TL5)."""
PROJECTS = "projects"
"""The feature of plans from Move up, or of the projects booster (TL7, TL10)."""
TICKETS = "tickets"
"""The feature of the Boost plan, or of the shared-inbox booster (TL8, TL10)."""
SECOND_CARETAKER_GROUP = "second_caretaker_group"
"""The switch in the tenant's settings for a second caretaker group on every record (CG8)."""


INTERNAL_NOTE = "internal_note"
"""A ticket's internal note was added (TL8)."""
CUSTOMER_REPLIED = "customer_replied"
"""The customer answered on a ticket (TL8)."""
TICKET_CLOSED = "ticket_closed"
"""A ticket was closed (TL8)."""
CHAT_MESSAGE = "chat_message"
"""A contact sent an incoming chat message (CT3)."""


def user_field(name: str, *, many: bool = False) -> Role:
    """Return a custom field of type *user*: it names responsible users, grants no access (TL6).

    Add it to any kind with `Rulebook.with_role` (``rulebook.with_role("contact", user_field("owner"))``);
    like every role it can be segmented on.

    Args:
        name: the field's name.
        many: whether it holds several users; one if false.
    """
    return Role(name, max=None if many else 1)


def account_managers() -> Rulebook:
    """Return the rules of seeds 000/001: account managers and responsible persons.

    - company: `account_manager`, optional (TL1); `second_account_manager`
      behind the `SECOND_ACCOUNT_MANAGER` switch (TL5). Both grant access under
      restricted CRM access (TL4) and are notified of everything (TL3).
      Users whose profile restricts ``company`` see only the companies they manage.
    - deal: `responsible`, mandatory, the creator by default (TL2);
      `second_responsible` behind the same switch (TL5); restricted deal access
      shows only the deals a user is responsible for (TL4).
    - contact, invoice: no built-in manager; a host adds a `user_field` (TL6).
    - project (plans move and boost, or the projects booster): one or more
      `manager` (mandatory, the creator by default, notified) and any number of
      `collaborator`; both may see a project when access to projects is
      restricted (TL7).
    - ticket (plan boost, or the shared-inbox booster): an optional
      `responsible`, who hears of an internal note, a customer's reply and the
      closing, and of nothing else; tickets are never restricted (TL8).
    - company, deal, project: any activity; the managers hear of every one by
      someone else (TL3, TL5, TL7).
      Contacts, invoices and tickets are visible to everyone of the tenant.
    """
    manager = Role("account_manager", grants_access=True, notified=True)
    second = Role(SECOND_ACCOUNT_MANAGER, grants_access=True, notified=True, requires=SECOND_ACCOUNT_MANAGER)
    return Rulebook(
        policies=(
            Policy(
                "company",
                (manager, second),
            ),
            Policy(
                "deal",
                (
                    Role("responsible", min=1, grants_access=True, notified=True),
                    Role("second_responsible", grants_access=True, notified=True, requires=SECOND_ACCOUNT_MANAGER),
                ),
                auto_assign=(AssignActor(Trigger.CREATED, "responsible"),),
            ),
            Policy("contact"),
            Policy("invoice"),
            Policy(
                "project",
                (
                    Role("manager", min=1, max=None, grants_access=True, notified=True),
                    Role("collaborator", max=None, grants_access=True),
                ),
                auto_assign=(AssignActor(Trigger.CREATED, "manager"),),
                requires=PROJECTS,
            ),
            Policy(
                "ticket",
                (Role("responsible", notified=True),),
                requires=TICKETS,
                activities=(Activity(INTERNAL_NOTE), Activity(CUSTOMER_REPLIED), Activity(TICKET_CLOSED)),
            ),
        ),
        plans=(Plan("go"), Plan("move", {PROJECTS}), Plan("boost", {PROJECTS, TICKETS})),
        default_plan="go",
    )


def lead_exchange() -> Rulebook:
    """Return the rules of seed 002: one colleague per lead, private to each company.

    - lead: `colleague`, one active user of the company or nobody (LD1, LD2),
      changeable at any time (LD5), private to each company on a forwarded lead
      (LD7), granting no visibility (LD3): everyone of both companies sees
      the lead; and notified (LD8). A lead created by
      hand goes to its creator, an accepted offer to the acceptor (LD6).
    """
    return Rulebook(
        policies=(
            Policy(
                "lead",
                (Role("colleague", notified=True, private=True),),
                auto_assign=(AssignActor(Trigger.CREATED, "colleague"), AssignActor(Trigger.ACCEPTED, "colleague")),
            ),
        )
    )


def caretaker_groups() -> Rulebook:
    """Return the rules of seed 003: caretaker groups decide who sees a customer.

    - customer: `caretaker_group`, one caretaker group that grants access
      (CG1, CG2); `second_caretaker_group` behind the `SECOND_CARETAKER_GROUP`
      switch, on every customer once on (CG8); `caretaker`, any number of users
      named per service area, granting nothing (CG9). A non-admin sees a
      customer only through a live membership of one of its caretaker groups,
      so a customer without a group is seen by admins alone (CG2, CG4, CG5).
    - follow_up, ticket: `team`, a team as a pool or the one user who took the
      work from it (CG10); teams grant no access, and everyone of the tenant
      sees follow-ups and tickets.
    """
    group = Role("caretaker_group", users=False, groups={GroupKind.CARETAKER}, grants_access=True, notified=True)
    second = Role(
        "second_caretaker_group",
        users=False,
        groups={GroupKind.CARETAKER},
        grants_access=True,
        notified=True,
        requires=SECOND_CARETAKER_GROUP,
    )
    pool = Role("team", groups={GroupKind.TEAM}, notified=True)
    return Rulebook(
        policies=(
            Policy(
                "customer",
                (group, second, Role("caretaker", max=None)),
                access=Access(view=is_admin | in_caretaker_group("caretaker_group", "second_caretaker_group")),
            ),
            Policy("follow_up", (pool,)),
            Policy("ticket", (pool,)),
        )
    )


def contact_desk() -> Rulebook:
    """Return the rules of seed 004: a contact is assigned to everyone, employees or competences.

    - contact: `assignee`, any number of users, competence groups, or
      everyone (CT2); assigned employees hear of its activities, an incoming
      `CHAT_MESSAGE` among them, by push or in-app as their profile says (CT3).
      Its status moves through `lifecycle.contacts()`: inbox, prospect,
      customer, archive (CT1).
    - contact_group: a group of contacts with a name, a number and its own
      `responsible` assignment, taking what a contact's assignee takes (CT6).
    """
    assignee = Role("assignee", max=None, groups={GroupKind.COMPETENCE}, everyone=True, notified=True)
    return Rulebook(
        policies=(
            Policy("contact", (assignee,), lifecycle=contacts()),
            Policy("contact_group", (evolve(assignee, name="responsible"),), collects="contact"),
        )
    )
