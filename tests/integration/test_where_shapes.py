"""`where()` in a host's own select lists exactly what `visible` and `select` list, in either of its two shapes.

A filter found through the index of holders, labels or record groups becomes
``id IN (SELECT ...)``; a broad one (an admin's, everything, a NOT) becomes
``EXISTS (...)`` checked row by row along the host's own order, so a host's
page stops at its LIMIT. Over generated worlds, on SQLite and PostgreSQL:

- the host's rows `where` keeps are the ids `matches` finds, and `select` lists;
  page by page with the host's own keyset, and counted without naming the host's
  table in FROM;
- for admins, unrestricted and restricted users, the host's pages are `visible`'s pages;
- on SQLite, an admin's host page walks the host's key in order and looks each row
  up by the records' key, with no sort of everything first; `visible`'s page walks the records' key.
"""

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Executable,
    MetaData,
    String,
    Table,
    TypeDecorator,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.sql.util import ClauseAdapter

from ownership import Assignee, Assignment, Ownership, Profile, Record, Tenant, User, presets
from ownership.adapters import sql
from ownership.adapters.sql import SqlRepository, records, where
from ownership.filters import (
    EVERYTHING,
    NOTHING,
    And,
    Filter,
    HasAssignee,
    Held,
    HomeIs,
    IdIn,
    InGroup,
    Labelled,
    NameHas,
    Not,
    Or,
    SharedWith,
    StatusIn,
    matches,
)
from ownership.testing import FakeClock
from sql_repositories import FACTORIES

pytest_plugins = ("sql_repositories",)

AT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
TENANTS = ("acme", "globex", "initech")
ROLES = ("responsible", "second_responsible")
PEOPLE = (
    Assignee.user("acme-admin"),
    Assignee.user("acme-user"),
    Assignee.user("globex-user"),
    Assignee.group("north"),
)
IDS = ("D-1", "D-10", "D-100", "D-2", "D-20", "D-3", "a", "B", "b", "r0000001", "r0000001s")
UNTRACKED = ("D-0", "D-15", "zz")  # the host's rows ownership never heard of
PADDING = frozenset(f"pad-{n:05}" for n in range(sql._FEW_IDS))  # ids of no record, to grant more than a few

host = MetaData()
crm_deals = Table("crm_deals", host, Column("id", String, primary_key=True), Column("title", String))

# A new, empty repository each example: the fixture hands out a factory, which hypothesis may reuse.
PROPERTY = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])

World = list[tuple[Record, list[Assignment]]]


@pytest.fixture(params=["sqlite_memory", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def hosts(request: pytest.FixtureRequest) -> Iterator[Callable[[], SqlRepository]]:
    """New, empty repositories, each beside an empty host table of deals, on SQLite and PostgreSQL."""
    repositories: Callable[[], SqlRepository] = request.getfixturevalue(FACTORIES[request.param])
    engines: list[Engine] = []

    def make() -> SqlRepository:
        repository = repositories()
        host.create_all(repository.engine)
        with repository.engine.begin() as connection:
            connection.execute(delete(crm_deals))
        engines.append(repository.engine)
        return repository

    yield make
    for engine in engines[-1:]:
        host.drop_all(engine)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """Deals (and leads with the same ids) in three tenants, some shared, with holders in any tenant's slot."""
    world = []
    for id in draw(st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS))):
        for kind in draw(st.sets(st.sampled_from(("deal", "lead")), min_size=1)):
            home = draw(st.sampled_from(TENANTS))
            record = Record(
                kind,
                id,
                home,
                AT,
                shared_with=draw(st.frozensets(st.sampled_from(TENANTS))) - {home},
                name=draw(st.sampled_from((None, "Lamp", "lamps"))),
                status=draw(st.sampled_from((None, "open", "won"))),
                labels=draw(st.frozensets(st.sampled_from(("north", "web")))),
                groups=draw(st.frozensets(st.sampled_from(("G-1", "G-2")))),
            )
            pairs = draw(st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(PEOPLE)), max_size=3, unique=True))
            slots = [home, *record.shared_with]
            world.append((record, [Assignment(record.ref, r, a, draw(st.sampled_from(slots)), AT) for r, a in pairs]))
    return world


def filters() -> st.SearchStrategy[Filter]:
    leaves: st.SearchStrategy[Filter] = st.one_of(
        st.just(EVERYTHING),
        st.just(NOTHING),
        st.sampled_from(TENANTS).map(HomeIs),
        st.sampled_from(TENANTS).map(SharedWith),
        st.sampled_from(TENANTS).map(lambda t: Or((HomeIs(t), SharedWith(t)))),  # an admin's
        st.builds(
            HasAssignee,
            roles=st.frozensets(st.sampled_from(ROLES)),
            assignees=st.frozensets(st.sampled_from(PEOPLE)),
            tenant=st.sampled_from(TENANTS),
        ),
        st.builds(Held, roles=st.frozensets(st.sampled_from(ROLES)), tenant=st.sampled_from(TENANTS)),
        st.frozensets(st.sampled_from(("open", "won"))).map(StatusIn),
        st.just(NameHas("lamp")),
        st.sampled_from(("north", "east")).map(Labelled),
        st.sampled_from(("G-1", "G-9")).map(InGroup),
        st.frozensets(st.sampled_from(IDS + UNTRACKED)).map(IdIn),  # granted records
        st.frozensets(st.sampled_from(IDS), max_size=3).map(lambda few: IdIn(few | PADDING)),  # more than a few
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


def holding(make: Callable[[], SqlRepository], world: World) -> SqlRepository:
    """A new repository holding `world`, beside a host table of every deal's id and a few untracked ones."""
    repository = make()
    with repository.transaction() as tx:
        for record, held in world:
            tx.put_record(record)
            for assignment in held:
                tx.add_assignment(assignment)
    with repository.engine.begin() as connection:
        connection.execute(insert(crm_deals), [{"id": id, "title": f"Deal {id}"} for id in host_ids(world)])
    return repository


def host_pages(repository: SqlRepository, allowed: Filter, limit: int) -> list[str]:
    """The host's own keyset pages of its deals `allowed` keeps, joined up."""
    condition = where(allowed, kind="deal", id=crm_deals.c.id)
    listed: list[str] = []
    with repository.engine.connect() as connection:
        while True:
            page = select(crm_deals.c.id).where(condition).order_by(crm_deals.c.id).limit(limit)
            if listed:
                page = page.where(crm_deals.c.id > listed[-1])
            ids = list(connection.execute(page).scalars())
            listed += ids
            if len(ids) < limit:
                return listed


@PROPERTY
@given(world=worlds(), wheres=st.lists(filters(), min_size=1, max_size=3), limit=st.sampled_from((1, 2, 100)))
def test_where_keeps_exactly_the_host_rows_select_lists_page_by_page_and_counted(
    hosts: Callable[[], SqlRepository], world: World, wheres: list[Filter], limit: int
) -> None:
    repository = holding(hosts, world)
    for allowed in wheres:
        expected = sorted(r.id for r, held in world if r.kind == "deal" and matches(allowed, r, held))
        with repository.transaction() as tx:
            assert [r.id for r in tx.select("deal", allowed, limit=1_000)] == expected, allowed
        assert host_pages(repository, allowed, limit) == expected, allowed
        condition = where(allowed, kind="deal", id=crm_deals.c.id)
        with repository.engine.connect() as connection:
            # The host's table named only inside the condition: it is in FROM all the same, and the count is right.
            assert connection.execute(select(func.count()).where(condition)).scalar_one() == len(expected), allowed
            # A select of ownership's own records by their own id: the condition checks each row, not itself.
            own_ids = select(records.c.id).where(records.c.kind == "deal", where(allowed, kind="deal", id=records.c.id))
            assert sorted(connection.execute(own_ids).scalars()) == expected, allowed
            # Negated, it keeps every other row of the host's, the untracked ones too.
            others = connection.execute(select(crm_deals.c.id).where(~condition).order_by(crm_deals.c.id)).scalars()
            assert list(others) == sorted(set(host_ids(world)) - set(expected)), allowed
            # A host that adapts its select to another name for its table (as an ORM's alias does) keeps the same rows.
            renamed = crm_deals.alias("deals_again")
            adapted = ClauseAdapter(renamed).traverse(select(crm_deals.c.id).where(condition))
            assert sorted(connection.execute(adapted).scalars()) == expected, allowed
    conditions = [where(allowed, kind="deal", id=crm_deals.c.id) for allowed in wheres]
    either = sorted({r.id for r, held in world if r.kind == "deal" and any(matches(w, r, held) for w in wheres)})
    with repository.engine.connect() as connection:
        assert sorted(connection.execute(select(crm_deals.c.id).where(or_(*conditions))).scalars()) == either


def test_records_granted_past_the_databases_ceiling_on_parameters_list_in_one_statement(
    hosts: Callable[[], SqlRepository],
) -> None:
    """70,000 granted ids, more than SQLite (32,766) or PostgreSQL (65,535) binds one by one, are one value."""
    world: World = [(Record("deal", id, "acme", AT), []) for id in ("D-1", "D-2", "D-3")]
    repository = holding(hosts, world)
    granted = IdIn(frozenset({"D-1", "D-3", "D-15", *(f"gone-{n}" for n in range(70_000))}))
    condition = where(granted, kind="deal", id=crm_deals.c.id)

    with repository.transaction() as tx:
        assert [r.id for r in tx.select("deal", granted, limit=10)] == ["D-1", "D-3"]
    with repository.engine.connect() as connection:
        assert list(connection.execute(select(crm_deals.c.id).where(condition).order_by(crm_deals.c.id)).scalars()) == [
            "D-1",
            "D-3",
        ]
        others = connection.execute(select(crm_deals.c.id).where(~condition).order_by(crm_deals.c.id)).scalars()
        assert list(others) == ["D-0", "D-15", "D-2", "zz"]  # D-15 is granted, but no record ownership tracks


def host_ids(world: World) -> list[str]:
    """The ids in the host's table `holding` makes: every deal's, and the untracked ones."""
    return sorted({r.id for r, _ in world if r.kind == "deal"} | set(UNTRACKED))


@PROPERTY
@given(world=worlds())
def test_filters_of_one_shape_share_their_compiled_statement_and_each_keeps_its_own_values(
    hosts: Callable[[], SqlRepository], world: World
) -> None:
    repository = holding(hosts, world)
    alike = [HasAssignee({"responsible"}, {person}, tenant) for tenant in TENANTS for person in PEOPLE]
    pages = [
        select(crm_deals.c.id).where(where(f, kind="deal", id=crm_deals.c.id)).order_by(crm_deals.c.id) for f in alike
    ]
    first = pages[0]._generate_cache_key()  # type: ignore[attr-defined]  # SQLAlchemy's key of the compiled form
    assert all(page._generate_cache_key() == first for page in pages)  # type: ignore[attr-defined]
    with repository.engine.connect() as connection:
        for _ in range(2):  # in turns, each run from the one compiled statement, with its own values
            for allowed, page in zip(alike, pages, strict=True):
                expected = [
                    r.id
                    for r, held in sorted(world, key=lambda x: x[0].id)
                    if r.kind == "deal" and matches(allowed, r, held)
                ]
                assert list(connection.execute(page).scalars()) == expected, allowed


@PROPERTY
@given(
    world=worlds(),
    restricted=st.frozensets(st.sampled_from(("acme-user", "globex-user"))),
    limit=st.sampled_from((1, 3, 100)),
)
def test_the_host_lists_for_admins_and_users_exactly_what_visible_lists(
    hosts: Callable[[], SqlRepository], world: World, restricted: frozenset[str], limit: int
) -> None:
    repository = holding(hosts, world)
    people = [
        User("acme-admin", "acme", "Ada", admin=True),
        User("acme-user", "acme", "Bob"),
        User("globex-admin", "globex", "Gina", admin=True),
        User("globex-user", "globex", "Gus"),
    ]
    with repository.transaction() as tx:
        for tenant in TENANTS:
            tx.put_tenant(Tenant(tenant, tenant.title()))
        for user in people:
            profile = Profile(restricted=frozenset({"deal"})) if user.id in restricted else Profile()
            tx.put_user(User(user.id, user.tenant, user.name, admin=user.admin, profile=profile))
    own = Ownership(presets.account_managers(), repository, clock=FakeClock())
    for user in people:
        listed: list[str] = []
        after = None
        while True:
            page = own.visible(user.id, "deal", limit=limit, after=after)
            listed += [r.id for r in page.records]
            if page.cursor is None:
                break
            after = page.cursor
        assert host_pages(repository, own.filter(user.id, "view", "deal"), limit) == listed, user.id


# --- the shapes, and SQLite's plans ---------------------------------------------------------------------

ADMIN = Or((HomeIs("acme"), SharedWith("acme")))
BOBS = And((ADMIN, HasAssignee({"responsible"}, {Assignee.user("bob")}, "acme")))


@pytest.mark.parametrize(
    ("allowed", "shape"),
    [
        (ADMIN, "EXISTS"),
        (EVERYTHING, "EXISTS"),
        (HomeIs("acme"), "EXISTS"),
        (Not(HasAssignee({"responsible"}, {Assignee.user("bob")}, "acme")), "EXISTS"),
        (And((ADMIN, Not(Held({"responsible"}, "acme")))), "EXISTS"),  # the unassigned: most records, maybe
        (And((ADMIN, NameHas("lamp"))), "EXISTS"),
        (BOBS, "HOLDERS"),  # the holding in acme's slot says acme takes part: the holders' index alone finds them
        (HasAssignee({"responsible"}, {Assignee.user("bob")}, "acme"), "HOLDERS"),
        (Or((Held({"responsible"}, "acme"), HasAssignee({"watcher"}, {Assignee.group("north")}, "acme"))), "HOLDERS"),
        (And((Or((HomeIs("globex"), SharedWith("globex"))), BOBS.parts[1])), "IN"),  # another tenant's part stays
        (And((ADMIN, Labelled("north"))), "IN"),
        (Or((InGroup("G-1"), HasAssignee({"responsible"}, {Assignee.group("north")}, "acme"))), "IN"),
        (Or((InGroup("G-1"), HomeIs("acme"))), "EXISTS"),  # one broad part makes the whole OR broad
        (NOTHING, "IN"),
    ],
)
def test_a_broad_filter_is_checked_row_by_row_and_a_narrow_one_looked_up(allowed: Filter, shape: str) -> None:
    condition = str(where(allowed, kind="deal", id=crm_deals.c.id).compile(compile_kwargs={"literal_binds": True}))
    if shape == "EXISTS":
        assert "EXISTS (SELECT" in condition
        assert "crm_deals.id IN" not in condition
    elif shape == "HOLDERS":
        assert condition.startswith("crm_deals.id IN (SELECT ownership_assignments.record_id")
        assert "ownership_records" not in condition
        assert "EXISTS" not in condition
    else:
        assert condition.startswith("crm_deals.id IN (SELECT ownership_records.id")
        assert "EXISTS" not in condition


def _plan(repository: SqlRepository, query: Executable, **values: object) -> list[str]:
    """SQLite's plan of `query`, with `values` for its named parameters."""
    compiled = query.compile(repository.engine)  # type: ignore[attr-defined]
    given = compiled.construct_params(values)
    with repository.engine.connect() as connection:
        steps = connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}", tuple(given[k] for k in compiled.positiontup)
        )
        return [row[-1] for row in steps]


def test_an_admins_first_page_on_sqlite_walks_the_keys_in_order_and_stops_at_the_limit(
    sqlite_memory_repositories: Callable[[], SqlRepository],
) -> None:
    repository = sqlite_memory_repositories()
    host.create_all(repository.engine)
    with repository.transaction() as tx:
        for n in range(300):
            tx.put_record(Record("deal", f"D-{n:04d}", "acme" if n % 3 else "globex", AT))
    with repository.engine.begin() as connection:
        connection.execute(insert(crm_deals), [{"id": f"D-{n:04d}", "title": "t"} for n in range(300)])
        connection.exec_driver_sql("ANALYZE")
    page = select(crm_deals).where(where(ADMIN, kind="deal", id=crm_deals.c.id)).order_by(crm_deals.c.id).limit(100)
    plan = _plan(repository, page)
    assert plan[0].startswith("SCAN crm_deals USING INDEX"), plan  # the host's key, in order
    # By the records' key (kind, id): the primary key, or the index that leads with it.
    by_key = re.compile(r"SEARCH ownership_records USING (COVERING )?INDEX \w+ \(kind=\? AND id([=>])\?\)")
    assert any((found := by_key.search(step)) and found[2] == "=" for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan  # nothing sorted: the walk stops at the limit
    plan = _plan(repository, sql._selection("deal", ADMIN, paged=True), after="D-0100", limit=100)
    assert any((found := by_key.search(step)) and found[2] == ">" for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
    with repository.engine.connect() as connection:
        assert len(connection.execute(page).all()) == 100


# --- the host's statements in SQLAlchemy's cache ------------------------------------------------------


class _HostCode(TypeDecorator[str]):
    """A host's own type of its id column, which SQLAlchemy may not cache statements of."""

    impl = String
    cache_ok = False


@pytest.fixture
def two_deals() -> Iterator[SqlRepository]:
    """A repository with deals D-1 (Bob's) and D-2, beside a host table of both."""
    repository = SqlRepository.from_url("sqlite://")
    host.create_all(repository.engine)
    with repository.transaction() as tx:
        for id in ("D-1", "D-2"):
            tx.put_record(Record("deal", id, "acme", AT))
        tx.add_assignment(Assignment(Record("deal", "D-1", "acme", AT).ref, "responsible", PEOPLE[1], "acme", AT))
    with repository.engine.begin() as connection:
        connection.execute(insert(crm_deals), [{"id": "D-1", "title": "One"}, {"id": "D-2", "title": "Two"}])
    yield repository
    repository.close()


def test_a_condition_on_one_of_two_look_alike_aliases_of_the_hosts_table_keeps_to_that_alias(
    two_deals: SqlRepository,
) -> None:
    allowed = HasAssignee({"responsible"}, {PEOPLE[1]}, "acme")
    first, second = crm_deals.alias(), crm_deals.alias()  # nameless, as an ORM's alias of one entity is

    def pairs(on: Any) -> Any:
        return (
            select(first.c.id, second.c.id)
            .select_from(first.join(second, first.c.id != second.c.id))
            .where(where(allowed, kind="deal", id=on.c.id))
        )

    with two_deals.engine.connect() as connection:
        assert connection.execute(pairs(first)).all() == [("D-1", "D-2")]
        assert connection.execute(pairs(second)).all() == [("D-2", "D-1")]


def test_a_host_column_of_a_type_sqlalchemy_may_not_cache_runs_uncached_and_right(two_deals: SqlRepository) -> None:
    coded = Table("crm_coded", MetaData(), Column("id", _HostCode, primary_key=True))
    coded.create(two_deals.engine)
    with two_deals.engine.begin() as connection:
        connection.execute(insert(coded), [{"id": "D-1"}, {"id": "D-2"}])
        kept = select(coded.c.id).where(
            where(HasAssignee({"responsible"}, {PEOPLE[1]}, "acme"), kind="deal", id=coded.c.id)
        )
        assert list(connection.execute(kept).scalars()) == ["D-1"]


@pytest.mark.parametrize("nobody", [HasAssignee(frozenset(), {PEOPLE[1]}, "acme"), Or(()), NOTHING])
def test_a_condition_that_holds_for_no_row_still_names_the_hosts_table(
    two_deals: SqlRepository, nobody: Filter
) -> None:
    condition = where(nobody, kind="deal", id=crm_deals.c.id)
    with two_deals.engine.connect() as connection:
        assert connection.execute(select(func.count()).where(condition)).scalar_one() == 0
        assert connection.execute(select(func.count()).where(~condition)).scalar_one() == 2  # every host row


# --- a host keyed by integers ----------------------------------------------------------------------------

# Record ids of one kind, as a store may hold them beside a host keyed by integers: each that is an integer as
# Python writes it names the host's row of that number; the others (padded, signed, too long, words) name none.
INTEGER_IDS = {"7": 7, "10": 10, "-3": -3, str(2**63 - 1): 2**63 - 1, str(-(2**63)): -(2**63)}
OTHER_IDS = ("-0", "008", "+9", "9.0", " 9", "x", str(2**63), str(-(2**63) - 1), "12345678901234567890", "-")


@pytest.mark.parametrize("hosts", ["sqlite_memory", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_x6_a_host_keyed_by_integers_keeps_the_rows_whose_number_the_ids_write(
    request: pytest.FixtureRequest, hosts: str
) -> None:
    repository: SqlRepository = request.getfixturevalue(FACTORIES[hosts])()
    numbered = Table("crm_numbered", MetaData(), Column("id", BigInteger, primary_key=True, autoincrement=False))
    numbered.drop(repository.engine, checkfirst=True)
    numbered.create(repository.engine)
    bob = PEOPLE[1]
    with repository.transaction() as tx:
        for id in (*INTEGER_IDS, *OTHER_IDS):
            tx.put_record(Record("deal", id, "acme", AT))
            tx.add_assignment(Assignment(Record("deal", id, "acme", AT).ref, "responsible", bob, "acme", AT))
    with repository.engine.begin() as connection:
        rows = [*INTEGER_IDS.values(), 0, 8, 9, 1, 70, 3]  # 0, 8 and 9 only as the other ids misspell them
        connection.execute(insert(numbered), [{"id": n} for n in rows])
        for allowed, shape in ((HasAssignee({"responsible"}, {bob}, "acme"), "IN"), (HomeIs("acme"), "EXISTS")):
            condition = where(allowed, kind="deal", id=numbered.c.id)
            assert shape in str(condition.compile(repository.engine))
            kept = connection.execute(select(numbered.c.id).where(condition).order_by(numbered.c.id)).scalars()
            assert list(kept) == sorted(INTEGER_IDS.values()), shape
    numbered.drop(repository.engine)
