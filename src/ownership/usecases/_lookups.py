"""Reading one tenant, user, group or record in a unit of work, or refusing with the sentence that says so."""

from ownership.errors import (
    AccessDeniedError,
    ForeignActorError,
    InactiveUserError,
    UnknownGroupError,
    UnknownRecordError,
    UnknownTenantError,
    UnknownUserError,
)
from ownership.model import Group, GroupLike, Record, RecordLike, Tenant, User, UserLike
from ownership.ports import Transaction
from ownership.usecases._unit import Units


class Lookups(Units):
    """Lookups every room needs: each reads one value, or refuses with an `OwnershipError` naming what is missing."""

    def _tenant(self, tx: Transaction, tenant: Tenant | str) -> Tenant:
        tenant_id = tenant.id if isinstance(tenant, Tenant) else tenant
        found = self._kept(tx, "tenant", tenant_id, lambda: tx.tenant(tenant_id))
        if found is None:
            raise UnknownTenantError(f"There is no tenant {tenant_id!r}; add it with add_tenant first.")
        return found

    def _user(self, tx: Transaction, user: UserLike, *, seen_by: str | None = None) -> User:
        """The user, who for `seen_by` (the asking user's tenant) must be of that tenant.

        A user of another tenant is refused as if no such user existed, so that an id tried
        tells a tenant nothing of another's people; the host (`seen_by` None) sees every user.
        """
        user_id = user.id if isinstance(user, User) else user
        found = self._kept(tx, "user", user_id, lambda: tx.user(user_id))
        if found is None or seen_by not in (None, found.tenant):
            raise UnknownUserError(f"There is no user {user_id!r}; add them with add_user first.")
        return found

    def _group(self, tx: Transaction, group: GroupLike, *, seen_by: str | None = None) -> Group:
        """The group, who for `seen_by` (the asking user's tenant) must be of that tenant, as for `_user`."""
        group_id = group.id if isinstance(group, Group) else group
        found = self._kept(tx, "group", group_id, lambda: tx.group(group_id))
        if found is None or seen_by not in (None, found.tenant):
            raise UnknownGroupError(f"There is no group {group_id!r}; add it with add_group first.")
        return found

    def _record(self, tx: Transaction, record: RecordLike) -> Record:
        ref = record.ref if isinstance(record, Record) else record
        found = tx.record(ref)
        if found is None:
            raise UnknownRecordError(f"No {ref.kind} with id {ref.id!r} is tracked; create it first.")
        return found

    def _actor(self, tx: Transaction, actor: UserLike) -> User:
        """The acting user, who must be active."""
        acting = self._user(tx, actor)
        check_active(acting, "act")
        return acting

    def _check_admin(self, tx: Transaction, actor: UserLike | None, tenant: str, doing: str) -> User | None:
        """The acting user, who must be an active admin of `tenant`; None for the host."""
        if actor is None:
            return None
        acting = self._actor(tx, actor)
        if acting.tenant != tenant or not acting.admin:
            raise AccessDeniedError(f"{acting.name} may not {doing}; only an admin of {tenant!r} may.")
        return acting

    def _fresh_group_id(self, tx: Transaction) -> str:
        group_id = self._ids()
        while tx.group(group_id) is not None:
            group_id = self._ids()
        return group_id


def check_active(user: User, doing: str) -> None:
    """Refuse an inactive user: they can neither act nor be assigned (LD2)."""
    if not user.active:
        raise InactiveUserError(f"{user.name} ({user.id}) is inactive and cannot {doing}.")


def check_home(record: Record, acting: User, doing: str) -> None:
    """Refuse what only the record's home tenant may do, asked by a user of another that it is shared with."""
    if acting.tenant != record.tenant:
        raise ForeignActorError(f"Only tenant {record.tenant!r} can {doing} {record}; {acting.name} cannot.")
