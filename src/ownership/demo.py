"""One short scenario per seed system, played on the in-memory repository and told as a story.

`play` writes the story line by line; the ``ownership demo`` command prints it.
Every line comes from what the library answered, refusals included.
"""

from collections.abc import Callable
from datetime import timedelta

from ownership import presets
from ownership.adapters.memory import MemoryRepository
from ownership.clock import FakeClock
from ownership.errors import OwnershipError
from ownership.model import EVERYONE, Assignee, AssigneeKind, Group, GroupKind, Profile, Record
from ownership.policy import Rulebook
from ownership.service import Ownership, UserLike

Write = Callable[[str], None]


class _Teller:
    """Runs steps against one `Ownership` and tells what happened, in names people read."""

    def __init__(self, rulebook: Rulebook, write: Write) -> None:
        self.clock = FakeClock()
        self.own = Ownership(rulebook, MemoryRepository(), clock=self.clock)
        self.write = write

    def name(self, assignee: Assignee) -> str:
        if assignee.kind is AssigneeKind.USER:
            return self.own.user(assignee.id).name
        if assignee.kind is AssigneeKind.GROUP:
            return f"group {self.own.group(assignee.id).name!r}"
        return "everyone"

    def holders(self, record: Record, role: str, viewer: UserLike | None = None) -> str:
        held = self.own.holders(record, role, viewer=viewer)
        return ", ".join(self.name(a) for a in held) or "nobody"

    def members(self, group: Group) -> str:
        return ", ".join(u.name for u in self.own.members(group)) or "nobody"

    def say(self, line: str) -> None:
        self.write(f"  {line}")

    def refused(self, what: str, step: Callable[[], object]) -> None:
        try:
            step()
        except OwnershipError as error:
            self.say(f"{what}: refused ({type(error).__name__}) - {error}")
        else:  # pragma: no cover - the demo is tested to refuse every one of these
            raise AssertionError(f"the demo expected {what!r} to be refused")


def _account_managers(write: Write) -> None:
    write("Account managers and responsible persons (seeds 000, 001: TL1-TL10)")
    t = _Teller(presets.account_managers(), write)
    t.own.add_tenant("acme", name="Acme Ltd", plan="go")
    anna = t.own.add_user("acme", "Anna", id="anna")
    bob = t.own.add_user("acme", "Bob", id="bob")
    carl = t.own.add_user("acme", "Carl", id="carl", active=False)
    company = t.own.create("company", actor=anna, id="C-1")
    t.say(f"Anna adds company C-1; its account manager is optional (TL1): {t.holders(company, 'account_manager')}.")
    deal = t.own.create("deal", actor=anna, id="D-1")
    t.say(f"Anna creates deal D-1 and becomes its responsible person (TL2): {t.holders(deal, 'responsible')}.")
    t.refused("Anna removes herself from D-1", lambda: t.own.unassign(deal, "responsible", anna, actor=anna))
    t.own.assign(deal, "responsible", bob, actor=anna)
    t.say(f"Anna hands D-1 to Bob; the single responsible is replaced: {t.holders(deal, 'responsible')}.")
    t.refused("Bob assigns the inactive Carl", lambda: t.own.assign(deal, "responsible", carl, actor=bob))
    t.refused("Bob adds a second responsible", lambda: t.own.assign(deal, "second_responsible", anna, actor=bob))
    t.own.configure_tenant("acme", switches={presets.SECOND_ACCOUNT_MANAGER})
    t.own.assign(deal, "second_responsible", anna, actor=bob)
    t.say(
        "Support switches the second manager on (TL5); "
        f"D-1's second responsible: {t.holders(deal, 'second_responsible')}."
    )
    t.refused("Anna creates a project on plan go", lambda: t.own.create("project", actor=anna))
    t.own.configure_tenant("acme", plan="move")
    project = t.own.create("project", actor=anna, holders={"manager": [anna, bob]})
    t.say(f"On plan move Anna creates a project with two managers (TL7, TL10): {t.holders(project, 'manager')}.")
    write("")


def _lead_exchange(write: Write) -> None:
    write("Colleagues on leads shared between companies (seed 002: LD1-LD8)")
    t = _Teller(presets.lead_exchange(), write)
    t.own.add_tenant("northwind", name="Northwind (principal)")
    t.own.add_tenant("southpaw", name="Southpaw (sales partner)")
    nora = t.own.add_user("northwind", "Nora", id="nora")
    nils = t.own.add_user("northwind", "Nils", id="nils")
    paul = t.own.add_user("southpaw", "Paul", id="paul")
    lead = t.own.create("lead", actor=nora, id="L-1")
    t.say(f"Nora creates lead L-1 by hand and it is hers (LD6): {t.holders(lead, 'colleague')}.")
    t.refused("Nora assigns Paul of Southpaw", lambda: t.own.assign(lead, "colleague", paul, actor=nora))
    t.own.share(lead, "southpaw", actor=nora)
    t.own.accept(lead, actor=paul)
    t.say("Nora forwards L-1 to Southpaw, and Paul accepts the offer (LD6).")
    t.say(
        f"Northwind sees as colleague: {t.holders(lead, 'colleague', nora)}; "
        f"Southpaw sees: {t.holders(lead, 'colleague', paul)} (LD7)."
    )
    t.own.assign(lead, "colleague", nils, actor=nora)
    t.say(
        f"Nora hands her part to Nils (LD5): {t.holders(lead, 'colleague', nora)}; "
        f"Paul still sees {t.holders(lead, 'colleague', paul)}."
    )
    queued = len(t.own.outbox())
    t.own.record_activity(lead, "task_created", actor=paul)  # Paul gets back only Southpaw's notices (LD7)
    told = [entry.notification for entry in t.own.outbox()[queued:]]  # the host's outbox holds all of them
    t.say(
        "Paul adds a task at Southpaw; told: "
        + ", ".join(f"{t.own.user(n.recipient).name} (by {n.actor or 'someone at the partner'})" for n in told)
        + " (LD8, LD7)."
    )
    t.own.unassign(lead, "colleague", nils, actor=nils)
    t.say(f"Nils removes himself; a lead may have nobody (LD1): {t.holders(lead, 'colleague', nora)}.")
    write("")


def _caretaker_groups(write: Write) -> None:
    write("Caretaker groups (seed 003: CG1-CG10)")
    t = _Teller(presets.caretaker_groups(), write)
    t.own.add_tenant("meier-gmbh", name="Meier GmbH")
    meier = t.own.add_user("meier-gmbh", "Meier", id="meier", personal_caretaker_group=True)
    mueller = t.own.add_user("meier-gmbh", "Mueller", id="mueller", personal_caretaker_group=True)
    meiers = t.own.personal_group(meier)
    assert meiers is not None
    t.say(f"Adding Meier also made his caretaker group {meiers.name!r}, linked to him (CG3).")
    north = t.own.add_group("meier-gmbh", "Region North", GroupKind.CARETAKER, id="north")
    for member in (meier, mueller):
        t.own.add_member(north, member)
    t.say(f"Region North is served by {t.members(north)} together (CG7).")
    vip = t.own.create("customer", actor=meier, id="K-7", holders={"caretaker_group": meiers})
    t.say(f"Customer K-7, a VIP, belongs to exactly one person (CG6): {t.holders(vip, 'caretaker_group')}.")
    t.refused(
        "Meier puts himself, not a group, in charge", lambda: t.own.assign(vip, "caretaker_group", meier, actor=meier)
    )
    until = t.clock.now + timedelta(days=14)
    t.own.add_member(meiers, mueller, until=until)
    t.say(f"Mueller covers Meier's customers until {until:%Y-%m-%d} (CG5, X5): members now {t.members(meiers)}.")
    t.clock.advance(days=15)
    t.say(f"Two weeks on, the cover has ended by itself: members {t.members(meiers)}.")
    t.own.assign(vip, "caretaker", mueller, actor=meier)
    t.say(
        f"Mueller is named informational caretaker for one service area (CG9): {t.holders(vip, 'caretaker')}; "
        f"K-7 still belongs to {t.holders(vip, 'caretaker_group')}."
    )
    t.refused(
        "Meier adds a second caretaker group", lambda: t.own.assign(vip, "second_caretaker_group", north, actor=meier)
    )
    t.own.configure_tenant("meier-gmbh", switches={presets.SECOND_CARETAKER_GROUP})
    t.own.assign(vip, "second_caretaker_group", north, actor=meier)
    t.say(
        f"Switched on in the settings (CG8), K-7's second caretaker group: {t.holders(vip, 'second_caretaker_group')}."
    )
    support = t.own.add_group("meier-gmbh", "Support", GroupKind.TEAM, id="support")
    follow_up = t.own.create("follow_up", actor=meier, holders={"team": support})
    t.say(f"A follow-up goes to a team as a pool, not a caretaker group (CG10): {t.holders(follow_up, 'team')}.")
    write("")


def _contact_desk(write: Write) -> None:
    write("Contacts assigned to employees, competences or everyone (seed 004: CT2)")
    t = _Teller(presets.contact_desk(), write)
    t.own.add_tenant("kanzlei", name="Kanzlei Weber")
    weber = t.own.add_user("kanzlei", "Weber", id="weber")
    tax = t.own.add_group("kanzlei", "Tax advice", GroupKind.COMPETENCE, id="tax")
    lena = t.own.add_user("kanzlei", "Lena", id="lena", profile=Profile(push=True))
    t.own.add_member(tax, lena)
    contact = t.own.create("contact", actor=weber, id="P-100", holders={"assignee": EVERYONE})
    t.say(f"Contact P-100 is assigned to all employees: {t.holders(contact, 'assignee')}.")
    t.own.replace(contact, "assignee", EVERYONE, tax, actor=weber)
    t.own.assign(contact, "assignee", weber, actor=weber)
    t.say(f"Then to the competence 'Tax advice' and to Weber himself: {t.holders(contact, 'assignee')}.")
    told = t.own.record_activity(contact, presets.CHAT_MESSAGE, actor=None)
    t.say(
        "An incoming chat message reaches "
        + ", ".join(f"{t.own.user(n.recipient).name} by {n.channel.value}" for n in told)
        + " (CT3)."
    )
    write("")


def play(write: Write = print) -> None:
    """Play every seed system's scenario and write the story, one line per call of `write`."""
    for story in (_account_managers, _lead_exchange, _caretaker_groups, _contact_desk):
        story(write)
