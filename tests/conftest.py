"""Shared fixtures and the hypothesis profiles, and the worlds the unit tests of more than one room build on.

A world whose name another world also uses (`crm`, `desk`, a stricter `refused`) is kept here under a name of its
own; the tests' modules bind it to the name their tests ask for.

Profiles: ``ci`` is derandomized, so CI never goes red by chance: the same
examples run every time, and a failure there is a real, repeatable one. ``dev``
draws fresh, more numerous examples on each run, to find what ``ci`` does not.
``CI=true`` picks ``ci``; ``HYPOTHESIS_PROFILE`` picks any.
"""

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, settings

from ownership import (
    EVERYONE,
    Assignee,
    Assignment,
    Facts,
    GroupKind,
    Ownership,
    OwnershipError,
    Page,
    Policy,
    Profile,
    Record,
    Role,
    Rulebook,
    User,
    lifecycle,
    presets,
)
from ownership.adapters.memory import MemoryRepository
from ownership.adapters.sql import SqlRepository
from ownership.ports import Repository, Transaction
from ownership.testing import FakeClock
from postgres import (  # noqa: F401  # registers the PostgreSQL fixtures, and the line naming where they ran
    postgres_database_url,
    postgres_url,
    pytest_terminal_summary,
)

settings.register_profile(
    "ci", derandomize=True, max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(params=["memory", "sqlite"])
def repository(request: pytest.FixtureRequest) -> Iterator[Repository]:
    """An empty repository: in memory, and SQLite through the SQL adapter."""
    if request.param == "memory":
        yield MemoryRepository()
        return
    sql = SqlRepository.from_url("sqlite://")
    yield sql
    sql.engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(rulebook: Rulebook, clock: FakeClock | None = None) -> Ownership:
    """An Ownership on a fresh in-memory repository, with a fake clock."""
    return Ownership(rulebook, MemoryRepository(), clock=clock or FakeClock())


@pytest.fixture
def accounts(clock: FakeClock) -> Ownership:
    """The account-managers preset with tenant acme on plan go."""
    own = Ownership(presets.account_managers(), MemoryRepository(), clock=clock)
    own.add_tenant("acme", plan="go")
    return own


@contextmanager
def refused(own: Ownership, error: type[Exception], match: str) -> Iterator[None]:
    """Expect `error` with a message matching `match`, and the repository exactly as it was.

    An `OwnershipError` must read as a sentence; `error` may also be a host's own, raised from a callback.
    The snapshot compared takes in everything: records, holders, history, the outbox and the tenants' settings.
    """
    before = own.snapshot()
    with pytest.raises(error, match=match) as caught:
        yield
    if isinstance(caught.value, OwnershipError):
        message = str(caught.value)
        assert message.endswith("."), f"not a sentence: {message!r}"
    assert own.snapshot() == before


class UnversionedRepository:
    """The memory repository without its generation: `can` then decides by the predicate, not the compiled filter."""

    def __init__(self) -> None:
        self._inner = MemoryRepository()

    def transaction(self) -> AbstractContextManager[Transaction]:
        return self._inner.transaction()  # type: ignore[return-value]  # its transaction is one, structurally


def attempt(step: Callable[[], object]) -> None:
    """Run one generated step of a drawn CRM's life: a refusal is part of that life, anything else is a bug."""
    with contextlib.suppress(OwnershipError):
        step()


# --- who the shared worlds below hold --------------------------------------------------------------


ANNA, BOB, PAUL = Assignee.user("anna"), Assignee.user("bob"), Assignee.user("paul")
TAX, AUDIT, SUPPORT = Assignee.group("tax"), Assignee.group("audit"), Assignee.group("support")


# --- the access world: Acme's companies and deals, and `seen`, which proves the four access answers agree ---


def seen(own: Ownership, viewer: User | str, kind: str, action: str = "view") -> list[str]:
    """The ids `visible` lists for `viewer`, two rows a page; first proving `can`, `explain` and `checker` agree.

    Every record of `kind`, in every tenant, is asked about one by one; the
    four answers must be the same for each.
    """
    listed: list[str] = []
    cursor = None
    while True:
        page = own.visible(viewer, kind, action=action, limit=2, after=cursor)
        listed += [record.id for record in page.records]
        if page.cursor is None:
            break
        cursor = page.cursor
    check = own.checker(viewer, action, kind)
    snapshot = own.snapshot()
    for record in (r for r in snapshot.records if r.kind == kind):
        held = [a for a in snapshot.assignments if a.record == record.ref]
        answers = {
            "can": own.can(viewer, action, record),
            "explain": own.explain(viewer, action, record).allowed,
            "checker": check(record, held),
            "visible": record.id in listed,
        }
        assert len(set(answers.values())) == 1, f"{viewer} may {action} {record}? {answers}"
    return listed


@pytest.fixture
def access_crm(accounts: Ownership) -> Ownership:
    """Acme on plan go: admin Ada, Anna, Bob with restricted CRM and deal access, inactive Carl; Globex with Gina.

    Companies C-1 (Bob manages), C-2 (Anna manages), C-3 (no one); deals D-1 (Anna's), D-2 (Bob's); Globex's G-1.
    """
    accounts.add_user("acme", "Ada", id="ada", admin=True)
    accounts.add_user("acme", "Anna", id="anna")
    accounts.add_user("acme", "Bob", id="bob", profile=Profile(restricted={"company", "deal"}))
    accounts.add_user("acme", "Carl", id="carl", active=False)
    accounts.add_tenant("globex")
    accounts.add_user("globex", "Gina", id="gina")
    accounts.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})
    accounts.create("company", actor="anna", id="C-2", holders={"account_manager": ANNA})
    accounts.create("company", actor="anna", id="C-3")
    accounts.create("deal", actor="anna", id="D-1")
    accounts.create("deal", actor="bob", id="D-2")
    accounts.create("company", actor="gina", id="G-1")
    return accounts


# --- the access algebra's records and facts, built by hand ----------------------------------------


AT = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

HOME = Record("deal", "D-1", "acme", AT)
SHARED = Record("deal", "D-2", "globex", AT, shared_with={"acme"})
FOREIGN = Record("deal", "D-3", "globex", AT)


def held(record: Record, role: str, assignee: Assignee, slot: str | None = None) -> Assignment:
    return Assignment(record.ref, role, assignee, slot or record.tenant, AT)


FACTS = (
    Facts.of(HOME, []),
    Facts.of(HOME, [held(HOME, "owner", Assignee.user("bob"))]),
    Facts.of(HOME, [held(HOME, "owner", Assignee.group("sales"))]),
    Facts.of(HOME, [held(HOME, "owner", EVERYONE)]),
    Facts.of(HOME, [held(HOME, "helper", Assignee.user("rita")), held(HOME, "owner", Assignee.user("ada"))]),
    Facts.of(HOME, [held(HOME, "hidden", Assignee.user("bob"))]),
    Facts.of(SHARED, [held(SHARED, "owner", Assignee.user("bob"), "acme")]),
    Facts.of(SHARED, [held(SHARED, "owner", Assignee.user("bob"))]),  # in globex's slot, not acme's
    Facts.of(SHARED, [held(SHARED, "owner", Assignee.group("globex-sales"))]),
    Facts.of(FOREIGN, [held(FOREIGN, "owner", EVERYONE)]),
)


# --- the seeds' access worlds, on a repository with and without a generation ----------------------


@pytest.fixture(params=["versioned", "unversioned"])
def build(request: pytest.FixtureRequest, clock: FakeClock) -> Callable[[Rulebook], Ownership]:
    """Make an `Ownership` of a rulebook, on a fresh repository of the parameter's sort, with the fake clock."""

    def build(rulebook: Rulebook) -> Ownership:
        repository = MemoryRepository() if request.param == "versioned" else UnversionedRepository()
        return Ownership(rulebook, repository, clock=clock)

    return build


@pytest.fixture
def acme(build: Callable[[Rulebook], Ownership]) -> Ownership:
    """Acme on plan go: admin Ada (her profile restricts all, which admins ignore), Anna, Bob (restricted CRM
    access) and Rita (restricted deal access); Globex with Gina.

    Companies C-1 (Bob manages), C-2 (Anna), C-3 (no one); deals D-1 (Anna's), D-2 (Rita's), D-3 (Bob's);
    Globex's company G-1 and deal G-2.
    """
    own = build(presets.account_managers())
    own.add_tenant("acme", plan="go")
    own.add_user("acme", "Ada", id="ada", admin=True, profile=Profile(restricted={"company", "deal", "project"}))
    own.add_user("acme", "Anna", id="anna")
    own.add_user("acme", "Bob", id="bob", profile=Profile(restricted={"company"}))
    own.add_user("acme", "Rita", id="rita", profile=Profile(restricted={"deal"}))
    own.add_tenant("globex")
    own.add_user("globex", "Gina", id="gina")
    own.create("company", actor="anna", id="C-1", holders={"account_manager": BOB})
    own.create("company", actor="anna", id="C-2", holders={"account_manager": ANNA})
    own.create("company", actor="anna", id="C-3")
    own.create("deal", actor="anna", id="D-1")
    own.create("deal", actor="rita", id="D-2")
    own.create("deal", actor="bob", id="D-3")
    own.create("company", actor="gina", id="G-1", holders={"account_manager": Assignee.user("gina")})
    own.create("deal", actor="gina", id="G-2")
    return own


@pytest.fixture
def pool(build: Callable[[Rulebook], Ownership]) -> Ownership:
    """Meier GmbH (caretaker preset): admin Anna; team Support of Bob and Carl; Dora outside it.

    Follow-up W-1 sits in Support's pool.
    """
    own = build(presets.caretaker_groups())
    own.add_tenant("meier-gmbh")
    own.add_user("meier-gmbh", "Anna", id="anna", admin=True)
    for name in ("Bob", "Carl", "Dora"):
        own.add_user("meier-gmbh", name, id=name.lower())
    own.add_group("meier-gmbh", "Support", GroupKind.TEAM, id="support")
    own.add_member("support", "bob")
    own.add_member("support", "carl")
    own.create("follow_up", actor="anna", id="W-1", holders={"team": SUPPORT})
    return own


# --- the contact desk with leads shared between companies beside it -------------------------------


@pytest.fixture
def edges_desk(repository: Repository, clock: FakeClock) -> Ownership:
    """Seed 004's contact desk, with leads shared between companies beside it: tenants kanzlei and partner."""
    rulebook = presets.contact_desk() | Rulebook(
        (Policy("lead", (Role("colleague", private=True),), lifecycle=lifecycle.contacts()),)
    )
    own = Ownership(rulebook, repository, clock=clock)
    for tenant in ("kanzlei", "partner"):
        own.add_tenant(tenant)
    own.add_user("kanzlei", "Ada", id="ada", admin=True)
    own.add_user("kanzlei", "Anna", id="anna")
    own.add_user("partner", "Pat", id="pat")
    own.add_group("kanzlei", "Tax advice", "competence", id="tax")
    return own


# --- Kanzlei Weber's contacts, to find, count and group -------------------------------------------


@pytest.fixture
def contacts_desk(repository: Repository, clock: FakeClock) -> Ownership:
    """Kanzlei Weber's contacts, and partner Globex's one, on seed 004's contact desk.

    Kanzlei: admin Ada, Anna, Bob and Cleo; the competences "Tax advice" (Anna, Cleo) and "Audit" (nobody yet).

    ====  ====================  ========  ===========
    id    name                  status    assignee
    ====  ====================  ========  ===========
    C-1   Müller GmbH           prospect  Anna
    C-2   Mueller & Söhne       customer  Bob
    C-3   Straße AG             customer  Tax advice
    C-4   Schmidt KG            inbox     nobody (imported), labelled "fair"
    C-5   Weber GmbH            archive   Anna and Bob
    C-6   Audit Partners        prospect  Audit
    C-7   Team Darling          prospect  everyone
    ====  ====================  ========  ===========

    Globex: Paul, who holds their contact G-1 "Müller Globex".
    """
    own = Ownership(presets.contact_desk(), repository, clock=clock)
    own.add_tenant("kanzlei")
    own.add_tenant("globex")
    own.add_user("kanzlei", "Ada", id="ada", admin=True)
    for name in ("Anna", "Bob", "Cleo"):
        own.add_user("kanzlei", name, id=name.lower())
    own.add_user("globex", "Paul", id="paul")
    tax = own.add_group("kanzlei", "Tax advice", GroupKind.COMPETENCE, id="tax")
    own.add_group("kanzlei", "Audit", GroupKind.COMPETENCE, id="audit")
    own.add_member(tax, "anna")
    own.add_member(tax, "cleo")

    def contact(id: str, name: str, status: str, *holders: Assignee) -> None:
        own.create("contact", actor="ada", id=id, name=name, status=status, holders={"assignee": list(holders)})

    contact("C-1", "Müller GmbH", "prospect", ANNA)
    contact("C-2", "Mueller & Söhne", "customer", BOB)
    contact("C-3", "Straße AG", "customer", TAX)
    own.create("contact", actor=None, tenant="kanzlei", manual=False, id="C-4", name="Schmidt KG", labels={"fair"})
    contact("C-5", "Weber GmbH", "archive", ANNA, BOB)
    contact("C-6", "Audit Partners", "prospect", AUDIT)
    contact("C-7", "Team Darling", "prospect", EVERYONE)
    own.create("contact", actor="paul", id="G-1", name="Müller Globex", holders={"assignee": PAUL})
    return own


def ids(page: Page) -> list[str]:
    """The ids of a page's records, in its order."""
    return [row.record.id for row in page.rows]


# --- refusals: the account managers' world, and a refusal that must read as a sentence ------------


@contextmanager
def refused_readably(own: Ownership, error: type[OwnershipError], match: str) -> Iterator[None]:
    """Expect `error`, with a sentence matching `match`, and the repository exactly as it was."""
    assert issubclass(error, OwnershipError)
    before = own.snapshot()
    with pytest.raises(error, match=match) as caught:
        yield
    message = str(caught.value)
    assert message.endswith("."), f"not a sentence: {message!r}"
    assert len(message.split()) >= 5, f"too terse to act on: {message!r}"
    assert own.snapshot() == before


@pytest.fixture
def refusals_crm(accounts: Ownership) -> Ownership:
    """Acme on plan go with Anna, Bob, inactive Carl, a competence "Sales", deal D-1 (Anna's) and company C-1.

    Globex is a second tenant with Gina.
    """
    accounts.add_user("acme", "Anna", id="anna")
    accounts.add_user("acme", "Bob", id="bob")
    accounts.add_user("acme", "Carl", id="carl", active=False)
    accounts.add_group("acme", "Sales", GroupKind.COMPETENCE, id="sales")
    accounts.add_tenant("globex")
    accounts.add_user("globex", "Gina", id="gina")
    accounts.create("deal", actor="anna", id="D-1")
    accounts.create("company", actor="anna", id="C-1")
    return accounts


# --- Meier GmbH, for units of work and covers -----------------------------------------------------


def caretakers(repo: MemoryRepository, clock: FakeClock) -> Ownership:
    """Meier GmbH: admin Ada, Carl with no group yet; K-1 belongs to caretaker group North, which has no members."""
    own = Ownership(presets.caretaker_groups(), repo, clock=clock)
    own.add_tenant("meier-gmbh")
    own.add_user("meier-gmbh", "Ada", id="ada", admin=True)
    own.add_user("meier-gmbh", "Carl", id="carl")
    own.add_group("meier-gmbh", "North", GroupKind.CARETAKER, id="north")
    own.create("customer", actor="ada", id="K-1", holders={"caretaker_group": Assignee.group("north")})
    return own
