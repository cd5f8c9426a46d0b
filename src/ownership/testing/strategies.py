"""Hypothesis strategies for every public value of `ownership`, named as plural nouns, and `worlds()`.

Each takes keyword-only knobs to pin a field (``users(tenant="acme")``); what is
not pinned is drawn, and shrinks towards small ids and early moments. Values
that the library checks when they are built (roles, policies, rulebooks,
lifecycles) are drawn consistent, so every draw constructs.

`worlds()` draws a whole consistent state: a rulebook, tenants, users, groups,
memberships and records whose holders keep the rulebook. A `World` is a plain
value; `World.build` writes it into an `Ownership` over any repository through
the public use cases, so it is valid by construction.

Text that people see (names, messages, settings) has no control characters and
no lone surrogates, so a value drawn here can be stored in any database.
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import frozen
from hypothesis import strategies as st

from ownership.adapters.memory import MemoryRepository
from ownership.clock import FakeClock
from ownership.model import (
    EVERYONE,
    LEVELS,
    Assignee,
    Assignment,
    Grant,
    Group,
    Membership,
    Profile,
    Record,
    RecordRef,
    Tenant,
    User,
)
from ownership.notify import Notifier
from ownership.policy import Policy, Role, Rulebook
from ownership.ports import Repository
from ownership.service import (
    DirectoryDrift,
    Drift,
    Finding,
    HostRecord,
    HostUser,
    IdPage,
    Ownership,
    Page,
    Permitted,
    RecordDrift,
    Row,
    Setting,
    Snapshot,
    UserDrift,
)
from ownership.testing._rules import (
    TRAITS,
    access_rules,
    auto_assignments,
    auto_assigns,
    criteria,
    decisions,
    distribution_rules,
    facts,
    filters,
    least_loads,
    lifecycles,
    number_ranges,
    plans,
    policies,
    predicates,
    reasons,
    roles,
    round_robins,
    rulebooks,
    segments,
    states,
    territories,
    to_groups,
    transitions,
    viewers,
)
from ownership.testing._values import (
    EVENT_TYPES,
    FINDING_KINDS,
    _pinned,
    activities,
    assignees,
    assignments,
    dispatch_reports,
    events,
    followers,
    grants,
    group_kinds,
    groups,
    ids,
    memberships,
    moments,
    names,
    notifications,
    outbox_entries,
    profiles,
    record_refs,
    records,
    tenants,
    users,
)

__all__ = [
    "access_rules",
    "activities",
    "assignees",
    "assignments",
    "auto_assignments",
    "auto_assigns",
    "criteria",
    "decisions",
    "directory_drifts",
    "dispatch_reports",
    "distribution_rules",
    "drifts",
    "EVENT_TYPES",
    "events",
    "facts",
    "filters",
    "FINDING_KINDS",
    "findings",
    "followers",
    "grants",
    "group_kinds",
    "groups",
    "host_records",
    "host_users",
    "ids",
    "least_loads",
    "lifecycles",
    "memberships",
    "moments",
    "names",
    "notifications",
    "number_ranges",
    "outbox_entries",
    "id_pages",
    "pages",
    "permitted",
    "plans",
    "policies",
    "predicates",
    "profiles",
    "reasons",
    "record_drifts",
    "record_refs",
    "records",
    "roles",
    "round_robins",
    "rows",
    "rulebooks",
    "segments",
    "snapshots",
    "states",
    "TRAITS",
    "tenant_settings",
    "tenants",
    "territories",
    "to_groups",
    "transitions",
    "user_drifts",
    "users",
    "viewers",
    "World",
    "worlds",
]


# --- what the service returns ----------------------------------------------------------------------


def _json_data() -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers(-(2**31), 2**31) | names(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names(), inner, max_size=3),
        max_leaves=8,
    )


def tenant_settings(*, tenant: str | None = None) -> st.SearchStrategy[Setting]:
    """A tenant's settings as a snapshot lists them: a key and JSON-ready data; `tenant` pins whose."""
    return st.builds(Setting, tenant=_pinned(tenant, ids()), key=ids(), value=_json_data())


def findings() -> st.SearchStrategy[Finding]:
    """Findings of every kind the audit reports, about any subject."""
    return st.builds(Finding, kind=st.sampled_from(FINDING_KINDS), subject=ids(), message=names())


def rows(*, kind: str | None = None) -> st.SearchStrategy[Row]:
    """Listed records, each with assignments of its own; `kind` pins the kind."""
    return _rows(kind=kind)


@st.composite
def _rows(draw: st.DrawFn, *, kind: str | None = None) -> Row:
    """Listed records, each with assignments of its own; `kind` pins the kind."""
    record = draw(records(kind=kind))
    seen = draw(facts()).assignments
    return Row(record, tuple(Assignment(record.ref, a.role, a.assignee, a.tenant, a.since, a.actor) for a in seen))


def pages(*, kind: str | None = None) -> st.SearchStrategy[Page]:
    """Pages of rows of one kind, in id order, each id once, with a cursor or at the end."""
    return _pages(kind=kind)


@st.composite
def _pages(draw: st.DrawFn, *, kind: str | None = None) -> Page:
    """Pages of rows of one kind, in id order, each id once, with a cursor or at the end."""
    one_kind = kind if kind is not None else draw(ids())
    listed = draw(st.lists(rows(kind=one_kind), max_size=4, unique_by=lambda row: row.record.id))
    listed.sort(key=lambda row: row.record.id)
    more = bool(listed) and draw(st.booleans())
    return Page(tuple(listed), listed[-1].record.id if more else None)


def id_pages() -> st.SearchStrategy[IdPage]:
    """Pages of record ids, in order, each once, with a cursor or at the end."""
    return _id_pages()


@st.composite
def _id_pages(draw: st.DrawFn) -> IdPage:
    listed = tuple(sorted(draw(st.sets(ids(), max_size=4))))
    more = bool(listed) and draw(st.booleans())
    return IdPage(listed, listed[-1] if more else None)


def host_records() -> st.SearchStrategy[HostRecord]:
    """A host's rows for `reconcile`: an id, holders of a role or two, and maybe a status, a name and labels."""
    return st.builds(
        HostRecord,
        id=ids(),
        holders=st.dictionaries(ids(), st.lists(assignees(), max_size=2, unique=True).map(tuple), max_size=2),
        status=st.none() | ids(),
        name=st.none() | names(),
        labels=st.none() | st.frozensets(ids(), max_size=2),
    )


def record_drifts() -> st.SearchStrategy[RecordDrift]:
    """How one record differed from its row: holders assigned and unassigned, a status, a name, its labels."""
    pairs = st.lists(st.tuples(ids(), assignees()), max_size=2).map(tuple)
    changes = st.none() | st.tuples(st.none() | names(), st.none() | names())
    return st.builds(
        RecordDrift,
        id=ids(),
        assigned=pairs,
        unassigned=pairs,
        status=st.none() | st.tuples(st.none() | ids(), st.none() | ids()),
        name=changes,
        labels=st.booleans(),
    )


def drifts() -> st.SearchStrategy[Drift]:
    """What `reconcile` found: ids added and removed, records changed, applied or a dry run."""
    listed = st.lists(ids(), max_size=3, unique=True).map(lambda found: tuple(sorted(found)))
    return st.builds(
        Drift,
        kind=ids(),
        tenant=ids(),
        added=listed,
        removed=listed,
        changed=st.lists(record_drifts(), max_size=2, unique_by=lambda d: d.id).map(
            lambda found: tuple(sorted(found, key=lambda d: d.id))
        ),
        applied=st.booleans(),
    )


def permitted() -> st.SearchStrategy[Permitted]:
    """What `who_can` lists: an active user, and the leaves of a rule that matched for them."""
    return st.builds(Permitted, user=users(active=True), reasons=st.lists(reasons(matched=True), max_size=3).map(tuple))


def host_users() -> st.SearchStrategy[HostUser]:
    """A host's people for `reconcile_users`: an id and name, activity, admin right, maybe groups and a profile."""
    return st.builds(
        HostUser,
        id=ids(),
        name=names(),
        active=st.booleans(),
        admin=st.booleans(),
        groups=st.none() | st.frozensets(ids(), max_size=2),
        profile=st.none() | profiles(),
        traits=st.none() | st.frozensets(st.sampled_from(TRAITS)),
    )


def user_drifts() -> st.SearchStrategy[UserDrift]:
    """How one user differed from their row: name, activity, admin right, profile, groups joined and left."""
    flags = st.none() | st.tuples(st.booleans(), st.booleans())
    groups = st.lists(ids(), max_size=2, unique=True).map(lambda found: tuple(sorted(found)))
    return st.builds(
        UserDrift,
        id=ids(),
        name=st.none() | st.tuples(names(), names()),
        active=flags,
        admin=flags,
        profile=st.booleans(),
        joined=groups,
        left=groups,
        traits=st.booleans(),
    )


def directory_drifts() -> st.SearchStrategy[DirectoryDrift]:
    """What `reconcile_users` found: ids added and deactivated, users changed, applied or a dry run."""
    listed = st.lists(ids(), max_size=3, unique=True).map(lambda found: tuple(sorted(found)))
    return st.builds(
        DirectoryDrift,
        tenant=ids(),
        added=listed,
        deactivated=listed,
        changed=st.lists(user_drifts(), max_size=2, unique_by=lambda d: d.id).map(
            lambda found: tuple(sorted(found, key=lambda d: d.id))
        ),
        applied=st.booleans(),
    )


# --- worlds ----------------------------------------------------------------------------------------

_TENANT_IDS = ("acme", "globex", "initech", "umbrella")
_FIRST_NAMES = ("ada", "bob", "cyd", "dee", "eve", "fay", "gus", "hal")
_RECORD_NAMES = ("Müller GmbH", "MÜLLER & Söhne", "Straße 5", "Acme Lamps", "50%_off", "Complicated Lamp")
_LABELS = ("north", "south", "web")


@frozen
class World:
    """A consistent state of `ownership`, as plain values: what `worlds()` draws.

    Every record's holders keep the rulebook: each role the home tenant has is
    held by at least its minimum and at most its maximum, by assignees the
    role takes, of the home tenant; users hold roles only while active.
    Everything is listed in the order `Ownership.snapshot` lists it, so the
    snapshot of a built world shows these very values.

    Attributes:
        rulebook: the rules the state keeps.
        at: the moment it is built at: every record's creation and every holder's start.
        tenants: the tenants, by id, each on a plan of the rulebook and with some of its features switched on.
        users: the users, by tenant and id; some inactive, some admins, some with restricted kinds.
        groups: the groups of every kind, by tenant and id; none personal.
        memberships: links of users to groups of their tenant, by group and user; some end before `at`.
        records: the records, by tenant, kind and id, with names, statuses, numbers and labels, none shared.
        assignments: the holders, record by record, in the order they were given; none names an actor.
        grants: records granted to users and groups of their home tenant, by the host, where the kind's rule
            reads them (`granted`), by tenant, record and assignee; some end after `at`, none before.
    """

    rulebook: Rulebook
    at: datetime
    tenants: tuple[Tenant, ...]
    users: tuple[User, ...]
    groups: tuple[Group, ...]
    memberships: tuple[Membership, ...]
    records: tuple[Record, ...]
    assignments: tuple[Assignment, ...]
    grants: tuple[Grant, ...] = ()

    def build(
        self,
        repository: Repository | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        ids: Callable[[], str] | None = None,
        notifier: Notifier | None = None,
    ) -> Ownership:
        """Return a new `Ownership` over `repository` with the world written into it by `fill`.

        Args:
            repository: an empty repository; a new `MemoryRepository` if None.
            clock: the clock of the `Ownership`; a `FakeClock` showing `at` if None. Built with a clock
                showing another moment, records and holders start at that moment instead.
            ids: makes ids for what is created later without one; the library's default if None.
            notifier: the `Notifier` the `Ownership` dispatches to, if any.

        Raises:
            DuplicateIdError: the repository holds a tenant, user, group or record of the world already.
        """
        store = repository if repository is not None else MemoryRepository()
        moment = clock if clock is not None else FakeClock(self.at)
        own = (
            Ownership(self.rulebook, store, clock=moment, notifier=notifier)
            if ids is None
            else Ownership(self.rulebook, store, clock=moment, notifier=notifier, ids=ids)
        )
        self.fill(own)
        return own

    def fill(self, own: Ownership) -> None:
        """Write the world into `own`, whose repository is empty, through its public use cases.

        Users are added active, join their groups and take their roles, and
        those the world has inactive are deactivated last; records are created
        by the host (no actor, not by hand), so no trigger adds a holder the
        world lacks. `own` must have the world's rulebook.

        Raises:
            DuplicateIdError: the repository holds a tenant, user, group or record of the world already.
        """
        for tenant in self.tenants:
            own.add_tenant(tenant.id, name=tenant.name, plan=tenant.plan, switches=tenant.switches)
        for user in self.users:
            own.add_user(
                user.tenant,
                user.name,
                id=user.id,
                admin=user.admin,
                profile=user.profile,
                manager=user.manager,
                traits=user.traits,
            )
        for group in self.groups:
            own.add_group(group.tenant, group.name, group.kind, id=group.id)
        for membership in self.memberships:
            own.add_member(membership.group, membership.user, until=membership.until)
        for record in self.records:
            holders: dict[str, list[Assignee]] = {}
            for a in self.assignments:
                if a.record == record.ref:
                    holders.setdefault(a.role, []).append(a.assignee)
            own.create(
                record.kind,
                actor=None,
                tenant=record.tenant,
                id=record.id,
                holders=holders,
                manual=False,
                name=record.name,
                status=record.status,
                number=record.number,
                labels=record.labels,
            )
        for grant in self.grants:
            own.grant(grant.record, grant.assignee, grant.level, until=grant.until, actor=None)
        for user in self.users:
            if not user.active:
                own.update_user(user.id, active=False)

    def holders(self, record: Record | RecordRef, role: str) -> tuple[Assignee, ...]:
        """Return who holds `role` of `record` in this world, in the order they were given."""
        ref = record.ref if isinstance(record, Record) else record
        return tuple(a.assignee for a in self.assignments if a.record == ref and a.role == role)


def _features_named(book: Rulebook) -> list[str]:
    """Every feature the rulebook names, in a kind's or role's `requires` or in a plan, sorted."""
    return sorted(
        {p.requires for p in book.policies if p.requires}
        | {r.requires for p in book.policies for r in p.roles if r.requires}
        | {f for plan in book.plans for f in plan.features}
    )


def _candidates(role: Role, tenant: str, people: Sequence[User], teams: Sequence[Group]) -> list[Assignee]:
    """Every assignee `role` takes in `tenant`'s slot: its active users, its groups of kinds it takes, everyone."""
    return [
        *(Assignee.user(u.id) for u in people if role.users and u.tenant == tenant and u.active),
        *(Assignee.group(g.id) for g in teams if g.tenant == tenant and g.kind in role.groups),
        *([EVERYONE] if role.everyone else []),
    ]


def worlds(
    *,
    rulebook: Rulebook | None = None,
    max_tenants: int = 2,
    max_users: int = 3,
    max_groups: int = 2,
    max_records: int = 6,
    at: datetime | None = None,
) -> st.SearchStrategy[World]:
    """Consistent worlds: a rulebook, and tenants, users, groups, memberships and records that keep it.

    Build one with `World.build`. Ids are memorable: tenants ``acme``,
    ``globex``, ...; users ``acme-ada``; groups ``acme-team-1``; records ``R-1``, ...

    Args:
        rulebook: the rules; drawn by `rulebooks()` if None (pass a preset to test your own).
        max_tenants: at most this many tenants, and at least one.
        max_users: at most this many users per tenant, and at least one.
        max_groups: at most this many groups per tenant.
        max_records: at most this many records in all; a kind whose mandatory roles a tenant
            cannot fill is never drawn for it.
        at: the moment the world is built at; the start of `FakeClock` if None.
    """
    return _worlds(
        rulebook=rulebook,
        max_tenants=max_tenants,
        max_users=max_users,
        max_groups=max_groups,
        max_records=max_records,
        at=at,
    )


@st.composite
def _worlds(
    draw: st.DrawFn,
    *,
    rulebook: Rulebook | None,
    max_tenants: int,
    max_users: int,
    max_groups: int,
    max_records: int,
    at: datetime | None,
) -> World:
    book = rulebook if rulebook is not None else draw(rulebooks())
    moment = at if at is not None else FakeClock().now
    count = draw(st.integers(1, max(1, max_tenants)))
    tenant_ids = [*_TENANT_IDS, *(f"tenant-{n}" for n in range(len(_TENANT_IDS), count))][:count]
    features = _features_named(book)
    plan_names = [p.name for p in book.plans] + ([] if book.default_plan is not None else [None])
    made_tenants = sorted(
        (
            Tenant(
                t,
                t.title(),
                draw(st.sampled_from(plan_names), label=f"plan of {t}") if plan_names else None,
                draw(st.frozensets(st.sampled_from(features)), label=f"switches of {t}") if features else frozenset(),
            )
            for t in tenant_ids
        ),
        key=lambda tenant: tenant.id,
    )
    people: list[User] = []
    teams: list[Group] = []
    links: list[Membership] = []
    restrictable = st.frozensets(st.sampled_from(book.kinds), max_size=2) if book.kinds else st.just(frozenset())
    for t in tenant_ids:
        firsts = draw(st.lists(st.sampled_from(_FIRST_NAMES), min_size=1, max_size=max(1, max_users), unique=True))
        for first in sorted(firsts):
            earlier = [u.id for u in people if u.tenant == t]
            people.append(
                User(
                    f"{t}-{first}",
                    t,
                    first.title(),
                    active=draw(st.integers(0, 4), label="inactive one in five") > 0,
                    admin=draw(st.integers(0, 3), label="admin one in four") == 0,
                    profile=Profile(restricted=draw(restrictable), push=draw(st.booleans())),
                    manager=draw(st.none() | st.sampled_from(earlier), label="reports to") if earlier else None,
                    traits=draw(st.frozensets(st.sampled_from(TRAITS)), label="traits"),
                )
            )
        kinds = draw(st.lists(group_kinds(), max_size=max_groups))
        mine = [u for u in people if u.tenant == t]
        for n, kind in enumerate(kinds, 1):
            group = Group(f"{t}-{kind.value}-{n}", t, f"{kind.value.title()} {n}", kind)
            teams.append(group)
            for user in draw(st.lists(st.sampled_from(mine), max_size=len(mine), unique=True)):
                hours = draw(st.none() | st.integers(-48, 48), label="membership ends in hours")
                links.append(Membership(group.id, user.id, None if hours is None else moment + timedelta(hours=hours)))
    teams.sort(key=lambda g: (g.tenant, g.id))
    place = {g.id: n for n, g in enumerate(teams)}
    links.sort(key=lambda m: (place[m.group], m.user))

    def available(policy: Policy, tenant: Tenant) -> list[Role] | None:
        """The roles `policy` has for `tenant`, or None if the tenant cannot create its records."""
        has = book.features(tenant)
        if policy.requires is not None and policy.requires not in has:
            return None
        present = [r for r in policy.roles if r.requires is None or r.requires in has]
        if any(len(_candidates(r, tenant.id, people, teams)) < r.min for r in present):
            return None
        return present

    creatable = [
        (tenant, policy, present)
        for tenant in made_tenants
        for policy in book.policies
        if (present := available(policy, tenant)) is not None
    ]
    made_records: list[Record] = []
    held: dict[RecordRef, list[Assignment]] = {}
    total = draw(st.integers(0, max_records)) if creatable else 0
    for n in range(1, total + 1):
        tenant, policy, present = draw(st.sampled_from(creatable), label=f"home and kind of R-{n}")
        lifecycle = policy.lifecycle
        record = Record(
            policy.kind,
            f"R-{n}",
            tenant.id,
            moment,
            name=draw(st.none() | st.sampled_from(_RECORD_NAMES)),
            status=draw(st.sampled_from(lifecycle.names)) if lifecycle is not None else None,
            number=draw(st.none() | st.just(f"N-{n}")),
            labels=draw(st.frozensets(st.sampled_from(_LABELS), max_size=2)),
        )
        made_records.append(record)
        for role in present:
            options = _candidates(role, tenant.id, people, teams)
            most = min(len(options), role.max if role.max is not None else role.min + 2)
            chosen = draw(st.permutations(options), label=f"candidates for {role.name}")[
                : draw(st.integers(role.min, max(role.min, most)), label=f"holders of {role.name}")
            ]
            held.setdefault(record.ref, []).extend(
                Assignment(record.ref, role.name, who, tenant.id, moment) for who in chosen
            )
    made_records.sort(key=lambda r: (r.tenant, r.kind, r.id))
    shared = _grants_drawn(draw, book, records=made_records, people=people, teams=teams, moment=moment)
    return World(
        book,
        moment,
        tuple(made_tenants),
        tuple(sorted(people, key=lambda u: (u.tenant, u.id))),
        tuple(teams),
        tuple(links),
        tuple(made_records),
        tuple(a for r in made_records for a in held.get(r.ref, ())),
        shared,
    )


def _grants_drawn(
    draw: st.DrawFn,
    book: Rulebook,
    *,
    records: Sequence[Record],
    people: Sequence[User],
    teams: Sequence[Group],
    moment: datetime,
) -> tuple[Grant, ...]:
    """Grants of some `records` to their home tenant's users and groups, at a level the kind's rule reads."""
    shared: list[Grant] = []
    for record in records:
        levels = [level for level in LEVELS if book.policy(record.kind).takes_grants(level)]
        whom = [Assignee.user(u.id) for u in people if u.tenant == record.tenant]
        whom += [Assignee.group(g.id) for g in teams if g.tenant == record.tenant]
        if not levels or not draw(st.integers(0, 2), label=f"grants of {record.id}"):
            continue
        for assignee in sorted(draw(st.lists(st.sampled_from(whom), max_size=2, unique=True))):
            hours = draw(st.none() | st.integers(1, 48), label="grant ends in hours")
            level = draw(st.sampled_from(levels), label="granted at")
            until = None if hours is None else moment + timedelta(hours=hours)
            shared.append(Grant(record.ref, assignee, level, record.tenant, moment, until))
    return tuple(shared)


def snapshots(*, rulebook: Rulebook | None = None) -> st.SearchStrategy[Snapshot]:
    """Snapshots of consistent states: a world drawn by `worlds(rulebook=...)`, built in memory, then read whole.

    Each holds the history and the outbox its building wrote, so it can be restored into an empty repository.
    """
    return worlds(rulebook=rulebook).map(lambda world: world.build().snapshot())
