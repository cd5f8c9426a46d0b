"""The directory: tenants, users, groups and memberships, the people and companies records are held by."""

from collections.abc import Iterable
from datetime import datetime

from attrs import evolve

from ownership.errors import DuplicateIdError, ForeignTenantError, InvalidValueError, UnknownPlanError
from ownership.model import (
    Group,
    GroupKind,
    GroupLike,
    Membership,
    Profile,
    Tenant,
    User,
    UserLike,
    as_group_kind,
)
from ownership.ports import Transaction
from ownership.usecases._lookups import Lookups, check_active
from ownership.usecases._unit import retried


class Directory(Lookups):
    """Adding and changing tenants, users, groups and who is in which group (CG3, CG4, CG5, TL10, X5)."""

    @retried
    def add_tenant(
        self, id: str, *, name: str | None = None, plan: str | None = None, switches: Iterable[str] = ()
    ) -> Tenant:
        """Add a tenant (a company using the host CRM).

        Args:
            id: the host's id for it.
            name: a name to show people; the id if none.
            plan: one of the rulebook's plans; the rulebook's default plan if none.
            switches: features switched on beyond the plan (TL5, CG8, TL10).

        Returns:
            The new tenant.

        Raises:
            DuplicateIdError: a tenant has this id already.
            UnknownPlanError: the rulebook has no such plan.
        """
        with self._writing(alone=True) as tx:
            if tx.tenant(id) is not None:
                raise DuplicateIdError(f"A tenant with id {id!r} exists already; choose another id.")
            tenant = Tenant(id, name if name is not None else id, plan or self.rulebook.default_plan, switches)
            self._check_plan(tenant)
            tx.put_tenant(tenant)
            return tenant

    @retried
    def configure_tenant(
        self, tenant: Tenant | str, *, plan: str | None = None, switches: Iterable[str] | None = None
    ) -> Tenant:
        """Change a tenant's plan or switches (TL5, CG8, TL10).

        A role whose feature a tenant loses is hidden, not erased: its holders
        are kept and come back when the feature does.

        Args:
            tenant: the tenant or its id.
            plan: the new plan, or None to keep the current one.
            switches: the full new set of switches, or None to keep them.

        Returns:
            The tenant as it is now.

        Raises:
            UnknownTenantError: no such tenant.
            UnknownPlanError: the rulebook has no such plan.
        """
        with self._writing(alone=True) as tx:
            current = self._tenant(tx, tenant)
            changed = evolve(
                current,
                plan=plan if plan is not None else current.plan,
                switches=frozenset(switches) if switches is not None else current.switches,
            )
            self._check_plan(changed)
            tx.put_tenant(changed)
            return changed

    @retried
    def add_user(
        self,
        tenant: Tenant | str,
        name: str,
        *,
        id: str | None = None,
        admin: bool = False,
        active: bool = True,
        profile: Profile | None = None,
        personal_caretaker_group: bool = False,
        manager: UserLike | None = None,
        traits: Iterable[str] = (),
    ) -> User:
        """Add an employee to a tenant.

        Args:
            tenant: the user's home tenant, or its id.
            name: a name to show people.
            id: the host's id for the user; a fresh one if none.
            admin: admins see every record of their tenant.
            active: inactive users can neither act nor be assigned.
            profile: restricted access per kind and the push opt-in.
            personal_caretaker_group: also create, in the same step, a caretaker
                group named after the user and linked to them (CG3, CG6).
            manager: the user they report to, of the same tenant.
            traits: facts about them a rule reads (`viewer_has`).

        Returns:
            The new user.

        Raises:
            UnknownTenantError: no such tenant.
            DuplicateIdError: a user has this id already.
            UnknownUserError, ForeignTenantError: the manager does not exist, or is of another tenant.
        """
        with self._writing(alone=True) as tx:
            home = self._tenant(tx, tenant)
            user_id = id if id is not None else self._ids()
            if tx.user(user_id) is not None:
                raise DuplicateIdError(f"A user with id {user_id!r} exists already; choose another id.")
            boss = None if manager is None else self._manager(tx, name, home.id, manager).id
            user = User(
                user_id,
                home.id,
                name,
                active=active,
                admin=admin,
                profile=profile or Profile(),
                manager=boss,
                traits=frozenset(traits),
            )
            tx.put_user(user)
            if personal_caretaker_group:
                group = Group(self._fresh_group_id(tx), home.id, name, GroupKind.CARETAKER, personal_of=user.id)
                tx.put_group(group)
                tx.put_membership(Membership(group.id, user.id))
            return user

    @retried
    def update_user(
        self,
        user: UserLike,
        *,
        name: str | None = None,
        active: bool | None = None,
        admin: bool | None = None,
        profile: Profile | None = None,
        traits: Iterable[str] | None = None,
    ) -> User:
        """Change a user's name, activity, admin right, profile or traits; None keeps a value.

        Deactivating a user keeps their holdings: finding and moving them is
        offboarding's work (X3).

        Returns:
            The user as they are now.

        Raises:
            UnknownUserError: no such user.
        """
        with self._writing(alone=True) as tx:
            current = self._user(tx, user)
            changed = evolve(
                current,
                name=current.name if name is None else name,
                active=current.active if active is None else active,
                admin=current.admin if admin is None else admin,
                profile=current.profile if profile is None else profile,
                traits=current.traits if traits is None else frozenset(traits),
            )
            tx.put_user(changed)
            return changed

    @retried
    def report_to(self, user: UserLike, manager: UserLike | None) -> User:
        """Make `user` report to `manager` (None: to no one), who sees what they hold where a rule says so.

        Returns:
            The user as they are now.

        Raises:
            UnknownUserError: no such user or manager.
            ForeignTenantError: the manager is of another tenant.
            InvalidValueError: the manager reports to the user already, directly or through others (or is them).
        """
        with self._writing(alone=True) as tx:
            current = self._user(tx, user)
            boss = None if manager is None else self._manager(tx, current.name, current.tenant, manager)
            above, seen = boss, set()
            while boss is not None and above is not None and above.id not in seen:
                if above.id == current.id:
                    raise InvalidValueError(
                        f"{current.name} ({current.id}) cannot report to {boss.name} ({boss.id}), "
                        "who reports to them already: a team cannot be above itself."
                    )
                seen.add(above.id)  # a chain that loops elsewhere (restored so) ends here, as it cannot reach them
                above = None if above.manager is None else tx.user(above.manager)
            changed = evolve(current, manager=None if boss is None else boss.id)
            tx.put_user(changed)
            return changed

    def _manager(self, tx: Transaction, name: str, tenant: str, manager: UserLike) -> User:
        """The user `name` is to report to, who must be of their tenant."""
        boss = self._user(tx, manager)
        if boss.tenant != tenant:
            raise ForeignTenantError(
                f"{boss.name} ({boss.id}) belongs to tenant {boss.tenant!r}; {name} of tenant {tenant!r} "
                "cannot report to them."
            )
        return boss

    @retried
    def add_group(self, tenant: Tenant | str, name: str, kind: GroupKind | str, *, id: str | None = None) -> Group:
        """Add a caretaker group, competence or team to a tenant; it has no members yet (CG4).

        Raises:
            UnknownTenantError: no such tenant.
            DuplicateIdError: a group has this id already.
            InvalidValueError: `kind` is not a group kind.
        """
        with self._writing(alone=True) as tx:
            home = self._tenant(tx, tenant)
            group_id = id if id is not None else self._fresh_group_id(tx)
            if tx.group(group_id) is not None:
                raise DuplicateIdError(f"A group with id {group_id!r} exists already; choose another id.")
            group = Group(group_id, home.id, name, as_group_kind(kind))
            tx.put_group(group)
            return group

    @retried
    def add_member(self, group: GroupLike, user: UserLike, *, until: datetime | None = None) -> Membership:
        """Link a user to a group, for good or until a moment (a deputy: CG5, X5).

        Linking someone already linked replaces the old expiry with `until`.

        Raises:
            UnknownGroupError, UnknownUserError: no such group or user.
            ForeignTenantError: the user belongs to another tenant than the group.
            InactiveUserError: the user is inactive.
            InvalidValueError: `until` has no time zone.
        """
        with self._writing(alone=True) as tx:
            found = self._group(tx, group)
            member = self._user(tx, user)
            if member.tenant != found.tenant:
                raise ForeignTenantError(
                    f"{member.name} ({member.id}) belongs to tenant {member.tenant!r} and cannot join group "
                    f"{found.name!r} of tenant {found.tenant!r}."
                )
            check_active(member, "join a group")
            membership = Membership(found.id, member.id, until)
            tx.put_membership(membership)
            return membership

    @retried
    def remove_member(self, group: GroupLike, user: UserLike) -> None:
        """Unlink a user from a group; nothing happens if they were not linked.

        Raises:
            UnknownGroupError, UnknownUserError: no such group or user.
        """
        with self._writing(alone=True) as tx:
            found, member = self._group(tx, group), self._user(tx, user)
            tx.delete_membership(found.id, member.id)

    def _check_plan(self, tenant: Tenant) -> None:
        if tenant.plan is not None and self.rulebook.plan(tenant.plan) is None:
            known = ", ".join(p.name for p in self.rulebook.plans) or "none"
            raise UnknownPlanError(f"The rulebook has no plan {tenant.plan!r}; its plans are: {known}.")
