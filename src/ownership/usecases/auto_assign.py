"""Auto-assignment: the tenant's rules that pick the holders of new records, by turn, load and territory (X4)."""

from collections.abc import Iterable

from ownership.distribution import AutoAssignment, Pick, RoundRobin, Rule, Territory, ToGroup, picking
from ownership.errors import AssigneeKindError, ForeignTenantError
from ownership.filters import HomeIs, matches
from ownership.model import Assignee, AssigneeLike, Record, Tenant, UserLike
from ownership.policy import Policy
from ownership.ports import Transaction
from ownership.segments import check_saved, check_territory
from ownership.usecases import _settings
from ownership.usecases._unit import retried
from ownership.usecases._writer import Writer


class AutoAssigning(Writer):
    """Setting a tenant's auto-assignment rules, and applying them to a record being created."""

    @retried
    def set_auto_assign(
        self, tenant: Tenant | str, kind: str, rules: Iterable[Rule], *, actor: UserLike | None = None
    ) -> AutoAssignment:
        """Set the rules that pick holders of the tenant's new records of `kind`, in the order they apply (X4).

        An empty list switches auto-assignment off. Turns taken so far are kept.

        Raises:
            UnknownTenantError, UnknownKindError, UnknownRoleError, UnknownGroupError: a name is unknown.
            AssigneeKindError: a rule gives a role to what it does not take.
            UnknownGroupError: to an actor, also a group of another tenant, as if it did not exist.
            ForeignTenantError: a rule's group belongs to another tenant (asked by the host, with no actor).
            AccessDeniedError: the actor is not an admin of the tenant.
        """
        policy = self.rulebook.policy(kind)
        wanted = AutoAssignment(kind, tuple(rules))
        with self._writing() as tx:
            home = self._tenant(tx, tenant)
            self._check_admin(tx, actor, home.id, "set auto-assignment rules")
            for rule in wanted.rules:
                pick = picking(rule)
                if isinstance(rule, Territory):
                    check_territory(rule.criteria)
                    check_saved(rule.criteria)
                role = policy.role(pick.role)
                # To an admin, another tenant's group is unknown (LD7); the host learns that it is foreign.
                group = self._group(tx, pick.group, seen_by=home.id if actor is not None else None)
                if group.tenant != home.id:
                    raise ForeignTenantError(
                        f"Group {group.name!r} belongs to tenant {group.tenant!r}, not {home.id!r}."
                    )
                takes = role.takes(Assignee.group(group.id), group) if isinstance(pick, ToGroup) else role.users
                if not takes:
                    what = f"the {group.kind.value} group {group.name!r}" if isinstance(pick, ToGroup) else "users"
                    raise AssigneeKindError(f"The {role.name} of a {kind} takes {role.describe_takes()}, not {what}.")
            _settings.put_auto_assignment(tx, home.id, wanted)
            return wanted

    def auto_assign_rules(self, tenant: Tenant | str, kind: str) -> AutoAssignment:
        """Return the tenant's auto-assignment rules for `kind` (none if never set).

        Raises:
            UnknownTenantError: no such tenant.
        """
        self.rulebook.policy(kind)
        with self._reading() as tx:
            return _settings.auto_assignment(tx, self._tenant(tx, tenant).id, kind)

    def _auto_assigned(
        self,
        tx: Transaction,
        *,
        policy: Policy,
        record: Record,
        home: Tenant,
        features: frozenset[str],
        wanted: dict[str, list[AssigneeLike]],
    ) -> None:
        """Fill the roles `wanted` leaves empty by the tenant's rules for the kind, first rule first (X4)."""
        available = {role.name for role in policy.roles if role.available(features)}
        scope = self._scope(tx, policy, home.id, available)
        for rule in _settings.auto_assignment(tx, home.id, policy.kind).rules:
            if rule.role in wanted or not policy.role(rule.role).available(features):
                continue
            if isinstance(rule, Territory) and not matches(rule.criteria.resolve(scope), record, ()):
                continue
            chosen = self._pick(tx, picking(rule), policy.kind, home.id)
            if chosen is not None:
                wanted[rule.role] = [chosen]

    def _pick(self, tx: Transaction, rule: Pick, kind: str, tenant: str) -> Assignee | None:
        """The holder a rule picks now, moving its turn on; None if its group has no active live member."""
        if isinstance(rule, ToGroup):
            return Assignee.group(rule.group)
        members = sorted(user.id for user in self._users_of(tx, [(Assignee.group(rule.group), tenant)], self._clock()))
        if not members:
            return None
        if isinstance(rule, RoundRobin):
            last = _settings.last_turn(tx, tenant, kind, rule.role, rule.group)
            chosen = next((m for m in members if last is None or m > last), members[0])
            _settings.put_turn(tx, tenant, kind, rule.role, rule.group, user=chosen)
            return Assignee.user(chosen)
        load = tx.count_by_holder(kind, HomeIs(tenant), {rule.role}, tenant)
        return Assignee.user(min(members, key=lambda m: (load.get(Assignee.user(m), 0), m)))
