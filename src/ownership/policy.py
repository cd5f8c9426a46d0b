"""Roles, policies and the rulebook: which roles a record kind has and who may hold them.

A `Role` states its rules as data (how many holders, what kind, whether it
grants access or is notified, which feature it needs, whether it is private to
each tenant). A `Policy` lists one kind's roles and auto-assignment triggers;
a `Rulebook` holds the policies and the plans, and composes with ``|``.
Everything is checked when it is built, so a rulebook in hand is consistent.
"""

import enum
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

from attrs import Attribute, evolve, field, frozen
from attrs.validators import optional

from ownership.access import Predicate, Viewer, always, holds, is_admin, restricted, without_grants
from ownership.errors import (
    FeatureDisabledError,
    InvalidValueError,
    MandatoryRoleError,
    RulebookError,
    TooManyHoldersError,
    UnknownActivityError,
    UnknownKindError,
    UnknownRoleError,
)
from ownership.filters import FILTER_TYPES
from ownership.lifecycle import Lifecycle
from ownership.model import (
    BIGGEST,
    Assignee,
    AssigneeKind,
    Group,
    GroupKind,
    Record,
    RecordRef,
    Tenant,
    User,
    a_flag,
    a_name_set,
    an_id,
    an_optional_id,
    at_least,
    each,
    listed,
    names,
    one_of,
    shown,
)
from ownership.notify import Activity

_T = TypeVar("_T")


def _group_kinds(items: Iterable[GroupKind]) -> frozenset[GroupKind]:
    if isinstance(items, str) or not isinstance(items, Iterable):
        raise InvalidValueError(f"Role.groups takes a collection of GroupKind values, not {shown(items)}.")
    kinds = frozenset(items)
    for kind in kinds:
        if not isinstance(kind, GroupKind):
            raise InvalidValueError(f"Role.groups holds GroupKind values; {shown(kind)} is none.")
    return kinds


def _roles(items: Iterable["Role"]) -> tuple["Role", ...]:
    return listed(items)


def _triggers(items: Iterable["AutoAssign"]) -> tuple["AssignActor", ...]:
    return listed(items)


def _activities(items: tuple[Activity, ...] | None) -> tuple[Activity, ...] | None:
    return None if items is None else listed(items)


def _policies(items: Iterable["Policy"]) -> tuple["Policy", ...]:
    return listed(items)


def _plans(items: Iterable["Plan"]) -> tuple["Plan", ...]:
    return listed(items)


def _a_bound(_role: "Role", attribute: "Attribute[Any]", value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not -BIGGEST <= value <= BIGGEST:
        if value is None and attribute.name == "max":
            return
        wanted = "None or a whole number of 64 bits" if attribute.name == "max" else "a whole number of 64 bits"
        raise RulebookError(f"Role.{attribute.name} takes {wanted}, not {shown(value)}.")


class Trigger(enum.Enum):
    """When a policy assigns the acting user by itself (LD6)."""

    CREATED = "created"
    """A user created the record by hand (not an import or other mechanism)."""
    ACCEPTED = "accepted"
    """A user accepted the record offered to their tenant."""


def _check_bounds(role: "Role", _attribute: object, maximum: int | None) -> None:
    if role.min < 0:
        raise RulebookError(f"Role {role.name!r} has min {role.min}; a minimum cannot be negative.")
    if maximum is not None and maximum < max(role.min, 1):
        raise RulebookError(
            f"Role {role.name!r} has max {maximum} below its min {role.min} (or below 1); "
            "raise max or use None for no limit."
        )


@frozen
class Role:
    """A named part every record of a kind has, which holds assignees (the deal's ``responsible``).

    Each tenant taking part in a record reads and writes the role's holders in
    one *slot*: the home tenant's, or for a private role its own (`Role.slot`).

    Attributes:
        name: the role's name, unique within its policy.
        min: holders the role must keep; 1 or more makes it mandatory (TL2, TL7).
        max: holders it may have at most, or None for no limit; with 1,
            assigning replaces the holder (LD1, LD5).
        users: whether it takes users.
        groups: which kinds of group it takes (CG1, CT2, CG10).
        everyone: whether it takes *everyone* (CT2).
        grants_access: whether holding it lets the holder see the record
            (TL4, TL5, CG2); informational roles do not (TL6, LD3, CG9).
        notified: whether its holders hear of what happens to the record (TL3, LD8).
        requires: the feature (plan or switch) the tenant needs for it, or None (TL5, CG8).
        private: whether each tenant sharing the record keeps its own holders,
            unseen by the others (LD7).
    """

    name: str = field(validator=an_id)
    min: int = field(default=0, validator=_a_bound)
    max: int | None = field(default=1, validator=[_a_bound, _check_bounds])
    users: bool = field(default=True, validator=a_flag)
    groups: frozenset[GroupKind] = field(default=frozenset(), converter=_group_kinds)
    everyone: bool = field(default=False, validator=a_flag)
    grants_access: bool = field(default=False, validator=a_flag)
    notified: bool = field(default=False, validator=a_flag)
    requires: str | None = field(default=None, validator=an_optional_id)
    private: bool = field(default=False, validator=a_flag)

    def __attrs_post_init__(self) -> None:
        if not (self.users or self.groups or self.everyone):
            raise RulebookError(f"Role {self.name!r} accepts no assignee; let it take users, groups or everyone.")

    @property
    def mandatory(self) -> bool:
        """Whether the role must always have a holder."""
        return self.min > 0

    def takes(self, assignee: Assignee, group: Group | None = None) -> bool:
        """Return whether the role accepts this assignee (`group` is the assignee's group, if one)."""
        if assignee.kind is AssigneeKind.USER:
            return self.users
        if assignee.kind is AssigneeKind.EVERYONE:
            return self.everyone
        return group is not None and group.kind in self.groups

    def describe_takes(self) -> str:
        """Say in words what the role takes, for error messages."""
        parts = ["users"] if self.users else []
        parts += [f"{kind.value} groups" for kind in sorted(self.groups, key=lambda k: k.value)]
        if self.everyone:
            parts.append("everyone")
        return " or ".join(parts)

    def available(self, features: frozenset[str]) -> bool:
        """Return whether a tenant with these features has the role (TL5, TL10, CG8)."""
        return self.requires is None or self.requires in features

    def slot(self, record: Record, tenant: str) -> str:
        """Return the tenant whose holders of the role `tenant` reads and writes on `record`.

        That is `tenant` itself for a private role (LD7), and the record's home tenant for any other.
        """
        return tenant if self.private else record.tenant

    def check_at_least(self, record: Record | RecordRef, count: int, why: str) -> None:
        """Refuse leaving `count` holders when the role must keep more (TL2, TL7); `why` ends the sentence.

        Raises:
            MandatoryRoleError: `count` is below the role's minimum.
        """
        if count < self.min:
            raise MandatoryRoleError(f"A {record.kind} must keep {self.min} {self.name}; {why}")

    def check_at_most(self, record: Record | RecordRef, count: int, why: str) -> None:
        """Refuse giving the role `count` holders when it holds fewer at most (LD1, LD5); `why` ends the sentence.

        Raises:
            TooManyHoldersError: `count` is above the role's maximum.
        """
        if self.max is not None and count > self.max:
            raise TooManyHoldersError(f"The {self.name} of {record} holds at most {self.max}; {why}")

    def check_handover(
        self, record: Record | RecordRef, held: Sequence[Assignee], *, leaving: Assignee, coming: Assignee
    ) -> None:
        """Refuse handing `leaving`'s part to `coming` when `coming` holds it already and the role would fall short.

        Raises:
            MandatoryRoleError: the role would keep fewer holders than its minimum.
        """
        if coming in held:
            left = len(held) - 1
            self.check_at_least(
                record, left, f"{coming} holds it already, so handing {leaving}'s part to them would leave {left}."
            )


@frozen
class AssignActor:
    """A trigger that makes the acting user a holder of a role (LD6, TL2).

    It was first named `AutoAssign`, a name that reads as the tenants' auto-assignment
    rules (`AutoAssignment`); the old name stays as an alias.
    """

    on: Trigger = field(validator=one_of(Trigger))
    role: str = field(validator=an_id)


AutoAssign = AssignActor
"""The name `AssignActor` was first given; kept so hosts that use it go on working."""


ACTIONS = ("view", "edit", "assign")
"""The actions access rules decide."""


@frozen
class Access:
    """Who may view, edit and assign a kind's records; see `Policy.rule` for the defaults.

    Attributes:
        view: who may see a record and list it, or None for the default.
        edit: who may change it; whoever may view if None.
        assign: who may change its holders; whoever may edit if None.
    """

    view: Predicate | None = field(default=None, validator=optional(one_of(Predicate)))
    edit: Predicate | None = field(default=None, validator=optional(one_of(Predicate)))
    assign: Predicate | None = field(default=None, validator=optional(one_of(Predicate)))


@frozen
class Policy:
    """One record kind's rules.

    Attributes:
        kind: the record kind it governs.
        roles: its roles, in the order a host shows them.
        auto_assign: who becomes a holder by themselves, and when.
        requires: the feature the tenant needs for this kind at all (TL7, TL8, TL10).
        access: the rules of who may view, edit and assign its records.
        activities: the activities the kind knows and who hears of each; None for any
            activity at all, heard of by every role marked notified (TL3).
        lifecycle: the statuses its records move through, or None for a kind without (CT1).
        collects: the kind whose records its records group together, for a kind of
            record group (CT6): a group has a name, a number and its own holders.
        tell_inactive: whether holders who are inactive hear of activities too (someone away whose
            mail is read for them): a user who holds a role, or is a live member of a group that does;
            never through *everyone*, which stands for the active (CT2). Off by default, as an
            inactive user can do nothing.
    """

    kind: str = field(validator=an_id)
    roles: tuple[Role, ...] = field(default=(), converter=_roles, validator=each(Role))
    auto_assign: tuple[AssignActor, ...] = field(default=(), converter=_triggers, validator=each(AssignActor))
    requires: str | None = field(default=None, validator=an_optional_id)
    access: Access = field(default=Access(), validator=one_of(Access))
    activities: tuple[Activity, ...] | None = field(
        default=None, converter=_activities, validator=optional(each(Activity))
    )
    lifecycle: Lifecycle | None = field(default=None, validator=optional(one_of(Lifecycle)))
    collects: str | None = field(default=None, validator=an_optional_id)
    tell_inactive: bool = field(default=False, kw_only=True, validator=a_flag)
    _rules: dict[str, Predicate] = field(init=False, eq=False, repr=False)
    reads_team: bool = field(init=False, eq=False, repr=False)
    """Whether a rule of the kind reads who reports to the viewer (`held_within_team`): then the team is resolved."""
    reads_grants: bool = field(init=False, eq=False, repr=False)
    """Whether a rule of the kind reads grants (`granted`): then the viewer's grants are resolved with them."""

    def __attrs_post_init__(self) -> None:
        role_names = [role.name for role in self.roles]
        twice = sorted({name for name in role_names if role_names.count(name) > 1})
        if twice:
            raise RulebookError(f"Policy {self.kind!r} names role {twice[0]!r} twice; give each role its own name.")
        for trigger in self.auto_assign:
            role = self._find(trigger.role)
            if role is None:
                raise RulebookError(f"Policy {self.kind!r} auto-assigns role {trigger.role!r}, which it does not have.")
            if not role.users:
                raise RulebookError(
                    f"Policy {self.kind!r} auto-assigns the acting user to {role.name!r}, which takes no users."
                )
        for activity in self.activities or ():
            unknown = sorted((activity.roles or frozenset()) - set(role_names))
            if unknown:
                raise RulebookError(
                    f"Activity {activity.name!r} of {self.kind!r} notifies role {unknown[0]!r}, which the policy lacks."
                )
        if self.access.assign is not None and self.access.assign.grant_levels():
            raise RulebookError(
                f"The assign rule of {self.kind!r} ({self.access.assign}) reads granted; a grant lets its holder "
                "view or edit a record, never give it away: take granted out of the assign rule."
            )
        # A grant never lets anyone assign: an assign rule falling back to the edit rule reads it without grants.
        rules = {action: self._resolve_rule(action) for action in ACTIONS}
        rules["assign"] = without_grants(rules["assign"])
        object.__setattr__(self, "_rules", rules)
        object.__setattr__(self, "reads_team", any(rule.reads_team() for rule in self._rules.values()))
        object.__setattr__(self, "reads_grants", any(rule.grant_levels() for rule in self._rules.values()))
        for action in ACTIONS:
            self._check_rule(action, self.rule(action))
        not_granting = sorted(self.rule("view").roles() - {r.name for r in self.roles if r.grants_access})
        if not_granting:
            raise RulebookError(
                f"The view rule of {self.kind!r} lets the holders of {not_granting[0]!r} see records, "
                "but that role does not grant access; set grants_access=True on it, or leave it out of the rule."
            )

    def activity(self, name: str) -> Activity:
        """Return the activity called `name`: any name when the policy lists none.

        Raises:
            UnknownActivityError: the policy lists its activities, and not this one.
        """
        if self.activities is None:
            return Activity(name)
        for activity in self.activities:
            if activity.name == name:
                return activity
        known = ", ".join(a.name for a in self.activities) or "none"
        raise UnknownActivityError(f"A {self.kind} knows no activity {name!r}; it knows: {known}.")

    def knows(self, name: str) -> bool:
        """Return whether the kind knows the activity called `name`: any name when it lists none."""
        return self.activities is None or any(a.name == name for a in self.activities)

    def hears(self, activity: Activity) -> tuple[Role, ...]:
        """Return the roles whose holders hear of `activity`."""
        if activity.roles is None:
            return tuple(role for role in self.roles if role.notified)
        return tuple(role for role in self.roles if role.name in activity.roles)

    def rule(self, action: str) -> Predicate:
        """Return the predicate that decides `action` on this kind's records.

        By default, admins, users whose profile does not restrict the kind,
        and the holders of roles that grant access may view (TL4); everyone
        may view when no role grants access (TL6, LD3). Edit defaults to view,
        assign to edit.

        Raises:
            RulebookError: `action` is not one of `ACTIONS`.
        """
        try:
            return self._rules[action]
        except KeyError:
            raise RulebookError(f"There is no action {action!r}; the actions are: {', '.join(ACTIONS)}.") from None

    def takes_grants(self, level: str) -> bool:
        """Whether a grant at `level` counts here: the rule of `level` reads a grant at `level` or below."""
        return any(at_least(level, read) for read in self.rule(level).grant_levels())

    def _resolve_rule(self, action: str) -> Predicate:
        for name in ACTIONS[ACTIONS.index(action) :: -1]:
            chosen = getattr(self.access, name)
            if chosen is not None:
                return cast(Predicate, chosen)
        granting = tuple(role.name for role in self.roles if role.grants_access)
        return is_admin | ~restricted(self.kind) | holds(*granting) if granting else always

    def _check_rule(self, action: str, rule: Predicate) -> None:
        """Refuse, when the policy is built, a rule naming unknown roles or one that cannot compile."""
        unknown = sorted(rule.roles() - {role.name for role in self.roles})
        if unknown:
            raise RulebookError(
                f"The {action} rule of {self.kind!r} ({rule}) reads role {unknown[0]!r}, which the policy lacks."
            )
        probe = Viewer(User("probe", "probe", "probe"), frozenset(), frozenset(role.name for role in self.roles))
        try:
            compiled = rule.compile(probe)
        except Exception as error:
            raise RulebookError(
                f"The {action} rule of {self.kind!r} ({rule}) cannot compile into a filter: {error}"
            ) from error
        if not isinstance(compiled, FILTER_TYPES):
            raise RulebookError(
                f"The {action} rule of {self.kind!r} ({rule}) compiled into {compiled!r}, which is no filter."
            )

    def _find(self, name: str) -> Role | None:
        return next((role for role in self.roles if role.name == name), None)

    def role(self, name: str) -> Role:
        """Return the role called `name`.

        Raises:
            UnknownRoleError: the policy has no such role.
        """
        role = self._find(name)
        if role is None:
            known = ", ".join(r.name for r in self.roles) or "none"
            raise UnknownRoleError(f"A {self.kind} has no role {name!r}; its roles are: {known}.")
        return role

    def triggered(self, trigger: Trigger, features: frozenset[str]) -> list[Role]:
        """Return the roles the acting user is given on `trigger`, among those a tenant with `features` has (LD6)."""
        return [
            role
            for auto in self.auto_assign
            if auto.on is trigger and (role := self.role(auto.role)).available(features)
        ]

    def check_available(self, role: Role, tenant: str, features: frozenset[str]) -> None:
        """Refuse a role whose feature the tenant of its slot lacks (TL5, TL10, CG8).

        Raises:
            FeatureDisabledError: `tenant`, with `features`, lacks what the role requires.
        """
        if not role.available(features):
            raise FeatureDisabledError(
                f"The {role.name} of a {self.kind} needs {role.requires!r}, "
                f"which tenant {tenant!r} has not switched on."
            )

    def check_new_slot(
        self,
        record: Record,
        planned: Sequence[tuple[Role, Assignee]],
        features: frozenset[str],
        tenant: str,
        *,
        private_only: bool = False,
    ) -> None:
        """Refuse a new slot whose planned holders break a role's min or max, or name one twice (TL2, TL7, LD6).

        Args:
            record: the record whose slot it is.
            planned: each role with one assignee it will start with.
            features: the features of the slot's tenant; roles it lacks are left out.
            tenant: the slot's tenant.
            private_only: check only the private roles (a tenant accepting a shared record).

        Raises:
            TooManyHoldersError: a role names one assignee twice, or more than it holds at most.
            MandatoryRoleError: a role would start with fewer holders than its minimum.
        """
        for role in self.roles:
            if not role.available(features) or (private_only and not role.private):
                continue
            mine = [assignee for r, assignee in planned if r is role]
            if len(set(mine)) != len(mine):
                raise TooManyHoldersError(f"The {role.name} of {record} names the same assignee twice.")
            if role.max is not None and len(mine) > role.max:
                raise TooManyHoldersError(f"The {role.name} of a {record.kind} holds at most {role.max}.")
            if len(mine) < role.min:
                raise MandatoryRoleError(
                    f"A {record.kind} needs {role.min} {role.name} in tenant {tenant!r}; name "
                    f"{'one' if role.min == 1 else 'them'} in holders=..., or create it as a user who can hold it."
                )

    def with_role(self, role: Role) -> "Policy":
        """Return this policy with `role` added at the end, or put in the place of the role of that name.

        This is how a host adds a custom field of type *user* at any level (TL6).
        """
        if any(r.name == role.name for r in self.roles):
            return evolve(self, roles=tuple(role if r.name == role.name else r for r in self.roles))
        return evolve(self, roles=(*self.roles, role))


@frozen
class Plan:
    """A named plan a tenant can be on, and the features it includes (TL10)."""

    name: str = field(validator=an_id)
    features: frozenset[str] = field(default=frozenset(), converter=names, validator=a_name_set)


@frozen
class Rulebook:
    """The policies of every record kind, and the plans tenants can be on.

    A tenant's features are its plan's features plus its own switches; a kind
    or role that `requires` a feature exists only for tenants that have it.
    Rulebooks compose: ``a | b`` has the kinds and plans of both, and
    ``rulebook.only("deal")`` keeps some kinds, so a host can take deals from one
    preset and customers from another.

    Attributes:
        policies: one policy per record kind.
        plans: the plans tenants can be on.
        default_plan: the plan a new tenant gets when none is named.
    """

    policies: tuple[Policy, ...] = field(default=(), converter=_policies, validator=each(Policy))
    plans: tuple[Plan, ...] = field(default=(), converter=_plans, validator=each(Plan))
    default_plan: str | None = field(default=None, validator=an_optional_id)
    _by_kind: dict[str, Policy] = field(init=False, eq=False, repr=False)
    _collectors: dict[str, str] = field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        for label, given in (("kind", [p.kind for p in self.policies]), ("plan", [p.name for p in self.plans])):
            twice = sorted({name for name in given if given.count(name) > 1})
            if twice:
                raise RulebookError(f"The rulebook has two entries for {label} {twice[0]!r}; keep one.")
        object.__setattr__(self, "_by_kind", {policy.kind: policy for policy in self.policies})
        collectors: dict[str, str] = {}
        for policy in self.policies:
            if policy.collects is None:
                continue
            if policy.collects not in self._by_kind:
                raise RulebookError(
                    f"Records of {policy.kind!r} group records of {policy.collects!r}, which the rulebook lacks."
                )
            seen = collectors.setdefault(policy.collects, policy.kind)
            if seen != policy.kind:
                raise RulebookError(
                    f"Both {seen!r} and {policy.kind!r} group records of {policy.collects!r}; let one kind do it."
                )
        object.__setattr__(self, "_collectors", collectors)
        if self.default_plan is not None and self.plan(self.default_plan) is None:
            raise RulebookError(f"The default plan {self.default_plan!r} is not one of the rulebook's plans.")

    @property
    def kinds(self) -> tuple[str, ...]:
        """The record kinds the rulebook governs."""
        return tuple(policy.kind for policy in self.policies)

    def policy(self, kind: str) -> Policy:
        """Return the policy of record kind `kind`.

        Raises:
            UnknownKindError: the rulebook governs no such kind.
        """
        policy = self._by_kind.get(kind)
        if policy is not None:
            return policy
        raise UnknownKindError(f"The rulebook knows no record kind {kind!r}; it knows: {', '.join(self.kinds)}.")

    def collector(self, kind: str) -> str | None:
        """Return the kind of record group that groups records of `kind`, or None (CT6)."""
        return self._collectors.get(kind)

    def plan(self, name: str) -> Plan | None:
        """Return the plan called `name`, or None."""
        return next((plan for plan in self.plans if plan.name == name), None)

    def features(self, tenant: Tenant) -> frozenset[str]:
        """Return the features a tenant has: its plan's and its switches (TL10)."""
        plan = self.plan(tenant.plan) if tenant.plan is not None else None
        return tenant.switches | (plan.features if plan is not None else frozenset())

    def only(self, *kinds: str) -> "Rulebook":
        """Return a rulebook with just these kinds' policies (and every plan).

        Raises:
            UnknownKindError: one of the kinds is not in this rulebook.
        """
        return Rulebook(tuple(self.policy(kind) for kind in kinds), self.plans, self.default_plan)

    def with_policy(self, policy: Policy) -> "Rulebook":
        """Return a rulebook with `policy` added at the end, or put in the place of its kind's policy."""
        if any(p.kind == policy.kind for p in self.policies):
            return evolve(self, policies=tuple(policy if p.kind == policy.kind else p for p in self.policies))
        return evolve(self, policies=(*self.policies, policy))

    def with_role(self, kind: str, role: Role) -> "Rulebook":
        """Return a rulebook in which `kind` has `role` too (a custom user field, TL6)."""
        return self.with_policy(self.policy(kind).with_role(role))

    def __or__(self, other: "Rulebook") -> "Rulebook":
        """Compose two rulebooks; a kind or plan in both must be the same in both.

        Raises:
            RulebookError: both govern a kind differently, or name a plan with other features.
        """
        if not isinstance(other, Rulebook):
            return NotImplemented
        return Rulebook(
            _union(self.policies, other.policies, lambda p: p.kind, "kind"),
            _union(self.plans, other.plans, lambda p: p.name, "plan"),
            _one_default(self.default_plan, other.default_plan),
        )


def _union(ours: Iterable[_T], theirs: Iterable[_T], key: Callable[[_T], str], label: str) -> tuple[_T, ...]:
    merged: dict[str, _T] = {key(item): item for item in ours}
    for item in theirs:
        seen = merged.setdefault(key(item), item)
        if seen != item:
            raise RulebookError(
                f"Both rulebooks define {label} {key(item)!r}, differently; "
                f"drop it from one with .only(...) before composing."
            )
    return tuple(merged.values())


def _one_default(ours: str | None, theirs: str | None) -> str | None:
    if ours is not None and theirs is not None and ours != theirs:
        raise RulebookError(f"The rulebooks name different default plans ({ours!r}, {theirs!r}); keep one.")
    return ours if ours is not None else theirs
