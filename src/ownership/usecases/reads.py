"""Reads: who holds a record's roles, its history, and the directory's tenants, users and groups (LD4, LD7, X2).

Every read of a record takes one tenant's view of it: the viewer's, who must
take part in the record, or the tenant named; with neither, the view every
tenant of the record shares, refused where they differ (LD7).
"""

from datetime import datetime

from attrs import evolve

from ownership.errors import UnknownRecordError
from ownership.events import Assigned, Event, Unassigned
from ownership.model import (
    Assignee,
    Assignment,
    Group,
    GroupLike,
    Record,
    RecordLike,
    RecordRef,
    Tenant,
    User,
    UserLike,
)
from ownership.ports import Transaction
from ownership.usecases._viewing import Viewing


class Reads(Viewing):
    """Reading holders, assignments and history as a tenant sees them, and the directory's values."""

    def holders(
        self, record: RecordLike, role: str, *, viewer: UserLike | None = None, tenant: Tenant | str | None = None
    ) -> tuple[Assignee, ...]:
        """Return a role's holders, oldest first, as the viewer's tenant, or `tenant`, sees them (LD4, LD7).

        Args:
            record: the record.
            role: the role's name.
            viewer: whose tenant's view to take.
            tenant: the tenant whose view to take, for the host that asks for no user. With neither,
                the answer every tenant of the record gets: refused where they differ (a role private
                to each tenant of a shared record).

        Raises:
            UnknownRecordError, UnknownRoleError, UnknownTenantError: no such record, role or tenant.
            FeatureDisabledError: the role's slot's tenant (the home tenant's, or the viewer's for a
                private role) lacks the role's feature.
            ForeignActorError: the viewer's tenant, or `tenant`, has no part in the record.
            InvalidValueError: neither viewer nor tenant is named and the tenants' answers differ, or
                the viewer is not of `tenant`.
        """
        with self._reading() as tx:
            found, seen_by = self._view(tx, record, viewer, tenant)
            policy = self.rulebook.policy(found.kind)

            def held(by: str) -> tuple[Assignee, ...]:
                wanted = self._available_role(policy, role, tx, found, by)
                return tuple(self._held(tx, found, wanted, wanted.slot(found, by)))

            return self._as_every_tenant(found, seen_by, held, f"holders of the {role} of {found}")

    def assignments(
        self, record: RecordLike, *, viewer: UserLike | None = None, tenant: Tenant | str | None = None
    ) -> tuple[Assignment, ...]:
        """Return every current assignment of a record the viewer's tenant, or `tenant`, may see, oldest first.

        Each role shows one slot: the home tenant's, or for a private role the
        viewer's own tenant's (LD7); a role whose feature that slot's tenant
        lacks is left out, as `holders` refuses it. With neither viewer nor
        tenant, the assignments every tenant of the record sees, as for `holders`.

        Raises:
            UnknownRecordError, UnknownTenantError: no such record or tenant.
            ForeignActorError: the viewer's tenant, or `tenant`, has no part in the record.
            InvalidValueError: neither viewer nor tenant is named and the tenants' answers differ.
        """
        with self._reading() as tx:
            found, seen_by = self._view(tx, record, viewer, tenant)
            return self._as_every_tenant(
                found, seen_by, lambda by: self._seen_assignments(tx, found, by), f"assignments of {found}"
            )

    def history(
        self, record: RecordLike, *, viewer: UserLike | None = None, tenant: Tenant | str | None = None
    ) -> tuple[Event, ...]:
        """Return a record's events, oldest first, as the viewer's tenant, or `tenant`, may read them (X2, LD7).

        Other tenants' private events are left out, and where another tenant's
        user acted, the event's `actor` reads None: a company learns what
        happened to a shared record, never which of the other's colleagues did it.
        With neither viewer nor tenant, the events every tenant of the record reads, as for `holders`.

        Raises:
            UnknownRecordError, UnknownTenantError: no such record or tenant.
            ForeignActorError: the viewer's tenant, or `tenant`, has no part in the record.
            InvalidValueError: neither viewer nor tenant is named and the tenants' answers differ.
        """
        with self._reading() as tx:
            found, seen_by = self._view(tx, record, viewer, tenant)
            return self._as_every_tenant(
                found, seen_by, lambda by: self._read_history(tx, found, by), f"histories of {found}"
            )

    @staticmethod
    def _read_history(tx: Transaction, found: Record, tenant: str) -> tuple[Event, ...]:
        """A record's events as `tenant` may read them: none private to another, another's actors as None."""
        tenant_of: dict[str, str | None] = {}

        def ours(actor: str) -> bool:
            if actor not in tenant_of:
                user = tx.user(actor)
                tenant_of[actor] = user.tenant if user is not None else None
            return tenant_of[actor] == tenant

        return tuple(
            e if e.actor is None or ours(e.actor) else evolve(e, actor=None)
            for e in tx.events(found.ref)
            if e.private_to in (None, tenant)
        )

    def holders_at(
        self,
        record: RecordLike,
        role: str,
        at: datetime,
        *,
        viewer: UserLike | None = None,
        tenant: Tenant | str | None = None,
    ) -> tuple[Assignee, ...]:
        """Return who held a role at the moment `at`, oldest first, replayed from the history (X2).

        The history is read as by `history`; with neither viewer nor tenant, the holders every tenant
        of the record replays, as for `holders`.

        Raises:
            UnknownRecordError, UnknownRoleError, UnknownTenantError: no such record, role or tenant.
            ForeignActorError: the viewer's tenant, or `tenant`, has no part in the record.
            InvalidValueError: neither viewer nor tenant is named and the tenants' answers differ.
        """
        with self._reading() as tx:
            found, seen_by = self._view(tx, record, viewer, tenant)
            wanted = self.rulebook.policy(found.kind).role(role)

            def replayed(by: str) -> tuple[Assignee, ...]:
                held: list[Assignee] = []
                for event in self._read_history(tx, found, by):
                    if event.at > at:
                        break
                    if isinstance(event, Assigned | Unassigned) and event.role == wanted.name:
                        if isinstance(event, Assigned):
                            held.append(event.assignee)
                        else:
                            held.remove(event.assignee)
                return tuple(held)

            return self._as_every_tenant(
                found, seen_by, replayed, f"holders of the {role} of {found} at {at:%Y-%m-%d %H:%M}"
            )

    def tenant(self, id: str) -> Tenant:
        """Return the tenant with this id.

        Raises:
            UnknownTenantError: no such tenant.
        """
        with self._reading() as tx:
            return self._tenant(tx, id)

    def user(self, id: str) -> User:
        """Return the user with this id.

        Raises:
            UnknownUserError: no such user.
        """
        with self._reading() as tx:
            return self._user(tx, id)

    def group(self, id: str) -> Group:
        """Return the group with this id.

        Raises:
            UnknownGroupError: no such group.
        """
        with self._reading() as tx:
            return self._group(tx, id)

    def record(self, record: RecordLike | str, id: str | None = None) -> Record:
        """Return a tracked record: ``record(ref)``, ``record(record)`` or ``record(kind, id)``.

        Raises:
            UnknownRecordError: no such record.
        """
        ref = RecordRef(record, id) if isinstance(record, str) and id is not None else record
        if isinstance(ref, str):
            raise UnknownRecordError(f"Name a record by its kind and id, as record({ref!r}, '<id>').")
        with self._reading() as tx:
            return self._record(tx, ref)

    def members(self, group: GroupLike, *, at: datetime | None = None) -> tuple[User, ...]:
        """Return the users whose membership of the group counts at `at` (now if None), by id.

        Raises:
            UnknownGroupError: no such group.
        """
        moment = at or self._clock()
        with self._reading() as tx:
            found = self._group(tx, group)
            return tuple(self._user(tx, m.user) for m in tx.memberships_of_group(found.id) if m.live(moment))

    def groups_of(self, user: UserLike, *, at: datetime | None = None) -> tuple[Group, ...]:
        """Return the groups a user's memberships link them to at `at` (now if None), by id.

        Raises:
            UnknownUserError: no such user.
        """
        moment = at or self._clock()
        with self._reading() as tx:
            found = self._user(tx, user)
            return tuple(self._group(tx, m.group) for m in tx.memberships_of_user(found.id) if m.live(moment))

    def personal_group(self, user: UserLike) -> Group | None:
        """Return the caretaker group made for the user with them (CG3), or None.

        Raises:
            UnknownUserError: no such user.
        """
        with self._reading() as tx:
            found = self._user(tx, user)
            return next((g for g in tx.groups(found.tenant) if g.personal_of == found.id), None)

    def tenants(self) -> tuple[Tenant, ...]:
        """Return every tenant, by id."""
        with self._reading() as tx:
            return tuple(tx.tenants())

    def users(self, tenant: Tenant | str) -> tuple[User, ...]:
        """Return a tenant's users, by id.

        Raises:
            UnknownTenantError: no such tenant.
        """
        with self._reading() as tx:
            return tuple(tx.users(self._tenant(tx, tenant).id))

    def groups(self, tenant: Tenant | str) -> tuple[Group, ...]:
        """Return a tenant's groups, by id.

        Raises:
            UnknownTenantError: no such tenant.
        """
        with self._reading() as tx:
            return tuple(tx.groups(self._tenant(tx, tenant).id))
