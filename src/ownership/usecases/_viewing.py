"""What a viewer may see and do: the viewer resolved once and reused, the rule compiled, rows as a tenant sees them.

One rule per kind decides one record (`_allowed`), and compiled into a
`Filter` lists many (`_filter_for`); criteria are resolved into filters in
the viewer's tenant (`_where`). The resolved viewer is kept while the
repository's generation is unchanged and no membership or grant of theirs expires.
"""

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from attrs import evolve

from ownership.access import GATE, Facts, Predicate, Viewer, without_grants
from ownership.errors import AccessDeniedError, ForeignActorError, InvalidValueError, OwnershipError
from ownership.filters import Filter, all_of, compiled
from ownership.model import (
    Assignee,
    Assignment,
    Grant,
    Page,
    Record,
    RecordLike,
    Row,
    Tenant,
    User,
    UserLike,
)
from ownership.policy import Policy, Role
from ownership.ports import Transaction
from ownership.segments import Criterion, Scope, check_reads
from ownership.usecases._lookups import Lookups, check_home
from ownership.usecases._sharing import keeping_grants
from ownership.usecases._unit import ResolvedViewer, offers

_T = TypeVar("_T")

_KEPT_VIEWERS = 10_000  # viewers kept at most; all are dropped when there would be more


class Viewing(Lookups):
    """Resolving viewers and deciding what they may do, for the rooms that ask or list."""

    def _viewer(
        self,
        tx: Transaction,
        user: UserLike,
        kind: str,
        *,
        managers: Mapping[str, str] | None = None,
        grants: Sequence[Grant] | None = None,
        keep: bool = True,
    ) -> Viewer:
        """Resolve what the rules need of a user; kept while the generation stays and nothing of theirs ends.

        `managers`, who reports to whom in the user's tenant, when it was read already (for many users at once);
        `grants`, the grants to look among, when they were read already (one record's, for its `who_can`); with
        `keep` False, a viewer resolved now is not kept (one of many, asked about once).
        """
        key = (user.id if isinstance(user, User) else user, kind)
        generation = self._generation(tx)
        kept = self._kept_viewer(*key, generation)
        if kept is not None:
            return kept.viewer
        moment = self._clock()
        found = self._user(tx, user)
        features = self.rulebook.features(self._tenant(tx, found.tenant))
        live = [m for m in tx.memberships_of_user(found.id) if m.live(moment)]
        policy = self.rulebook.policy(kind)
        groups = frozenset(m.group for m in live)
        granted = _granted(tx, kind, found, groups, moment, among=grants) if policy.reads_grants else []
        viewer = Viewer(
            found,
            groups,
            frozenset(role.name for role in policy.roles if role.available(features)),
            team=team_of(found.id, managers if managers is not None else managers_of(tx, found.tenant))
            if policy.reads_team
            else {},
            grants=_by_record(granted),
        )
        if generation is not None and keep:
            if len(self._viewers) >= _KEPT_VIEWERS:
                self._viewers.clear()
            # Replacing the entry drops the rules compiled for the viewer it held.
            ends = [m.until for m in live if m.until is not None] + [g.until for g in granted if g.until is not None]
            until = min(ends, default=None)
            self._viewers[key] = ResolvedViewer(viewer, generation, until)
        return viewer

    @staticmethod
    def _filter_for(viewer: Viewer, rule: Predicate) -> Filter:
        return (GATE & rule).compile(viewer)

    def _kept_filter(self, kept: ResolvedViewer, action: str, rule: Predicate) -> Filter:
        """The kept viewer's filter for `action`, compiled the first time it is asked for and kept with them."""
        found = kept.filters.get(action)
        if found is None:
            found = kept.filters[action] = self._filter_for(kept.viewer, rule)
        return found

    def _allowed(
        self, seeing: Viewer, action: str, rule: Predicate, record: Record, held: Sequence[Assignment]
    ) -> bool:
        """Decide one record: gated on an active viewer of a tenant taking part, then the rule."""
        # The viewer is reused until the repository's generation moves: so is the rule compiled for them.
        resolved = self._viewers.get((seeing.user.id, record.kind))
        if resolved is not None and resolved.viewer is seeing:
            test = resolved.tests.get(action)
            if test is None:
                test = resolved.tests[action] = compiled(self._filter_for(seeing, rule))
            return test(record, held)
        return (GATE & rule).decide(seeing, Facts(record, held))

    def _check_allowed(
        self, tx: Transaction, acting: User, action: str, record: Record, *, doing: str, own_right: bool = False
    ) -> None:
        """Refuse `acting` an `action` the kind's rule does not allow; by `own_right`, no grant of theirs counts."""
        rule = self.rulebook.policy(record.kind).rule(action)
        seeing = self._viewer(tx, acting, record.kind)
        held = tx.assignments(record.ref)
        if own_right and seeing.grants:  # the rule as it reads without grants, as the assign rule always does
            allowed = (GATE & without_grants(rule)).decide(seeing, Facts(record, held))
        else:
            allowed = self._allowed(seeing, action, rule, record, held)
        if not allowed:
            but = ", and a grant of their own does not count" if own_right and seeing.grants else ""
            raise AccessDeniedError(
                f"{acting.name} may not {doing} {record}: the rule to {action} a {record.kind} is {rule}{but}."
            )

    def _sees(self, tx: Transaction, user: UserLike, record: Record, held: Sequence[Assignment]) -> bool:
        """Whether `user` may view `record` now, whose holders `held` were read already."""
        rule = self.rulebook.policy(record.kind).rule("view")
        return self._allowed(self._viewer(tx, user, record.kind), "view", rule, record, held)

    def _check_sees(
        self, tx: Transaction, user: UserLike, record: Record, held: Sequence[Assignment], *, asking: str
    ) -> None:
        """Refuse a user who may not view `record` what they ask of it: who may act on it, its grants, ..."""
        if not self._sees(tx, user, record, held):
            name = self._user(tx, user).name
            raise AccessDeniedError(f"{name} may not view {record}, so may not {asking}.")

    def _home_actor(self, tx: Transaction, actor: UserLike | None, record: Record, doing: str) -> User | None:
        """The acting user, who must be of the record's home tenant and allowed to edit it; None for the host."""
        if actor is None:
            return None
        acting = self._actor(tx, actor)
        check_home(record, acting, doing)
        self._check_allowed(tx, acting, "edit", record, doing=doing)
        return acting

    def _view(
        self, tx: Transaction, record: RecordLike, viewer: UserLike | None, tenant: Tenant | str | None = None
    ) -> tuple[Record, str | None]:
        """The record, and the tenant whose view of it to take: the viewer's or `tenant`, which must take part.

        None when neither is named: the host asks, and `_as_every_tenant` answers.
        """
        found = self._record(tx, record)
        named = self._tenant(tx, tenant).id if tenant is not None else None
        if viewer is None:
            if named is not None and named not in found.tenants:
                raise ForeignActorError(f"{found} is not shared with tenant {named!r}; it has no view of it.")
            return found, named
        seeing = self._user(tx, viewer)
        if named not in (None, seeing.tenant):
            raise InvalidValueError(
                f"{seeing.name} is of tenant {seeing.tenant!r}, not {named!r}; pass viewer= or tenant=, not both."
            )
        if seeing.tenant not in found.tenants:
            raise ForeignActorError(
                f"{found} is not shared with tenant {seeing.tenant!r}; {seeing.name} cannot see it."
            )
        return found, seeing.tenant

    @staticmethod
    def _as_every_tenant(record: Record, tenant: str | None, answer: Callable[[str], _T], asked: str) -> _T:
        """`answer` for `tenant`; for no tenant, the answer every tenant of the record gets, if they all get one.

        A shared record whose answer differs by tenant (a role private to each, LD7) is refused, so that
        the host never takes one tenant's view for the record's.
        """
        if tenant is not None:
            return answer(tenant)
        home = answer(record.tenant)
        for other in sorted(record.tenants - {record.tenant}):
            try:
                same = answer(other) == home
            except OwnershipError:
                same = False  # a tenant that gets a refusal gets another answer
            if not same:
                raise InvalidValueError(
                    f"The {asked} differ between the tenants {record} is shared with; "
                    "pass viewer= or tenant= to say whose view to take."
                )
        return home

    def _available_role(self, policy: Policy, name: str, tx: Transaction, record: Record, tenant: str) -> Role:
        """The role called `name`, refused if the tenant of the slot `tenant` reads lacks its feature."""
        role = policy.role(name)
        slot = self._tenant(tx, role.slot(record, tenant))
        policy.check_available(role, slot.id, self.rulebook.features(slot))
        return role

    @staticmethod
    def _held(tx: Transaction, record: Record, role: Role, slot: str) -> list[Assignee]:
        """Who holds `role` of `record` in `slot`, oldest first."""
        return [a.assignee for a in tx.assignments(record.ref) if a.role == role.name and a.tenant == slot]

    def _seen_assignments(
        self,
        tx: Transaction,
        record: Record,
        tenant: str,
        features: dict[str, frozenset[str]] | None = None,
        held: Sequence[Assignment] | None = None,
    ) -> tuple[Assignment, ...]:
        """A record's assignments as `tenant` sees them: each role's own slot, if the slot's tenant has the role.

        `features` remembers each tenant's features across the rows of one page; `held` is the record's
        assignments, when they were read already.
        """
        features = {} if features is None else features
        for t in (tenant, record.tenant):
            if t not in features:
                features[t] = self.rulebook.features(self._tenant(tx, t))
        slots = {
            role.name: slot
            for role in self.rulebook.policy(record.kind).roles
            if role.available(features[slot := role.slot(record, tenant)])
        }
        # An assignment another tenant's user made reads with no actor, as in `history` (LD7).
        return tuple(
            a if a.actor is None or a.tenant == tenant else evolve(a, actor=None)
            for a in (tx.assignments(record.ref) if held is None else held)
            if slots.get(a.role) == a.tenant
        )

    def _scope(self, tx: Transaction, policy: Policy, tenant: str, available: Collection[str]) -> Scope:
        """What resolving criteria in `tenant` needs: the kind's roles it has, and who is in which group now."""
        moment = self._clock()
        return Scope(
            tenant,
            tuple((role.name, role.private) for role in policy.roles if role.name in available),
            lambda user: [m.group for m in tx.memberships_of_user(user) if m.live(moment)],
            lambda user: (found := tx.user(user)) is not None and found.tenant == tenant,
        )

    def _where(self, tx: Transaction, policy: Policy, seeing: Viewer, action: str, criteria: Criterion) -> Filter:
        """The filter of the records `seeing` may do `action` on that meet `criteria`, resolved now."""
        check_reads(policy, criteria)
        scope = self._scope(tx, policy, seeing.tenant, seeing.available)
        return all_of(self._filter_for(seeing, policy.rule(action)), criteria.resolve(scope))

    def _page(
        self, tx: Transaction, kind: str, where: Filter, seeing: Viewer, *, limit: int, after: str | None
    ) -> Page:
        """One page of the records of `kind` matching `where`, each with its holders as `seeing`'s tenant sees them."""
        found = tx.select(kind, where, limit=limit + 1, after=after)
        shown = found[:limit]
        held = tx.assignments_of([r.ref for r in shown])
        features: dict[str, frozenset[str]] = {}
        rows = tuple(Row(r, self._seen_assignments(tx, r, seeing.tenant, features, held.get(r.ref, ()))) for r in shown)
        return Page(rows, rows[-1].record.id if len(found) > limit else None)


def managers_of(tx: Transaction, tenant: str) -> Mapping[str, str]:
    """Whom each user of `tenant` who reports to someone reports to: in one narrow read where the unit offers it."""
    if offers(type(tx), "managers"):
        found: Mapping[str, str] = tx.managers(tenant)  # type: ignore[attr-defined]  # checked by its type
        return found
    return {user.id: user.manager for user in tx.users(tenant) if user.manager is not None}


def _granted(
    tx: Transaction, kind: str, user: User, groups: frozenset[str], moment: datetime, *, among: Sequence[Grant] | None
) -> list[Grant]:
    """The grants of records of `kind` to `user` or to one of `groups` that count at `moment`.

    Read from the repository where it keeps grants (`ownership.ports.KeepsGrants`); one that does not has none.
    """
    mine = {Assignee.user(user.id), *(Assignee.group(g) for g in groups)}
    if among is None:
        if not offers(type(tx), "grants_to"):
            return []
        among = keeping_grants(tx).grants_to(kind, mine)
    return [g for g in among if g.record.kind == kind and g.assignee in mine and g.live(moment)]


def _by_record(grants: Iterable[Grant]) -> dict[str, tuple[Grant, ...]]:
    found: dict[str, tuple[Grant, ...]] = {}
    for grant in grants:
        found[grant.record.id] = (*found.get(grant.record.id, ()), grant)
    return found


def team_of(manager: str, managers: Mapping[str, str]) -> dict[str, int]:
    """Who reports to `manager`, directly or through others, each with how many levels below them (1: directly)."""
    reports: dict[str, list[str]] = {}
    for user, boss in managers.items():
        reports.setdefault(boss, []).append(user)
    team: dict[str, int] = {}
    level, above = 1, [manager]
    while above:
        below = [id for boss in above for id in reports.get(boss, ()) if id not in team and id != manager]
        team.update(dict.fromkeys(below, level))
        level, above = level + 1, below
    return team


def all_selected(tx: Transaction, kind: str, where: Filter, page: int = 1_000) -> Iterable[Record]:
    """Every record of `kind` matching `where`, read a page at a time."""
    after = None
    while True:
        found = tx.select(kind, where, limit=page, after=after)
        yield from found
        if len(found) < page:
            return
        after = found[-1].id
