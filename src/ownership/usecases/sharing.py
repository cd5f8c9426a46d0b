"""Sharing one record: granting it to a user or group at a level until a moment, and following it to hear of it.

A grant lets its user, or the members of its group, do what a kind's rule
lets `granted(level)` do, until it is revoked or its `until` passes: then it
stops granting by itself, in `can`, `visible` and `where` alike, for the
viewer is resolved with the grants that count at the moment of asking. A
grant is the business of the tenant of the people it is to: its history is
private to that tenant, and only that tenant's people may grant or revoke it.

A follower hears of a record's activities without holding it (`record_activity`),
for as long as they may view it.
"""

from datetime import datetime

from ownership.errors import (
    ForeignTenantError,
    InvalidValueError,
    RulebookError,
    UnknownGrantError,
)
from ownership.events import AccessGranted, AccessRevoked
from ownership.model import (
    LEVELS,
    Assignee,
    AssigneeKind,
    AssigneeLike,
    Follower,
    Grant,
    Record,
    RecordLike,
    RecordRef,
    Tenant,
    User,
    UserLike,
    as_assignee,
    id_of,
    is_moment,
    when,
)
from ownership.ports import KeepsGrants, Transaction
from ownership.usecases._sharing import keeping_followers, keeping_grants, record_followers, record_grants
from ownership.usecases._unit import retried
from ownership.usecases._viewing import Viewing


class Sharing(Viewing):
    """Granting one record to people beyond its holders, and following records."""

    @retried
    def grant(
        self,
        record: RecordLike,
        to: AssigneeLike,
        level: str = "view",
        *,
        until: datetime | None = None,
        actor: UserLike | None,
    ) -> Grant:
        """Share one record with a user or group at `level`, for good or until a moment; return the grant.

        The grant counts wherever the kind's rule reads `granted`: a grant to
        view lets ``granted("view")`` hold, a grant to edit lets both
        ``granted("view")`` and ``granted("edit")`` hold. At `until` it stops
        granting by itself. Granting the same user or group again replaces
        their grant (its level and end); the same grant again changes nothing.

        Args:
            record: the record to share.
            to: the user or group to share it with, of a tenant taking part in it.
            level: ``"view"`` or ``"edit"``.
            until: when the grant stops counting, a moment to come; None for until it is revoked.
            actor: who shares it: a user of the same tenant as `to`, whom the kind's rule lets assign the
                record by their own right, not through a grant; None for the host.

        Raises:
            UnknownRecordError, UnknownUserError, UnknownGroupError: no such record, user or group; a user or
                group of another tenant than the actor's is refused as if there were none, as for `assign`.
            InvalidValueError: `level` is not view or edit, `to` is everyone, or `until` is not a moment to come.
            RulebookError: the kind's rule of `level` reads no grant that this one would let hold.
            ForeignTenantError: `to` is of a tenant that takes no part in the record.
            AccessDeniedError: the actor may not assign the record, but through a grant of their own.
            InactiveUserError: the actor is inactive.
            UnsupportedError: the repository keeps no grants.
        """
        if level not in LEVELS:
            raise InvalidValueError(f"grant(): level takes {' or '.join(map(repr, LEVELS))}, not {level!r}.")
        at = self._clock()
        if until is not None and (not is_moment(until) or until <= at):
            raise InvalidValueError(f"grant(): until takes a moment to come, after {when(at)}, or None.")
        with self._writing() as tx:
            found = self._record(tx, record)
            policy = self.rulebook.policy(found.kind)
            if not policy.takes_grants(level):
                raise RulebookError(
                    f"The {level} rule of {found.kind!r} ({policy.rule(level)}) reads no grant to {level}, so this "
                    f"one would let no one {level} {found}; add granted({level!r}) to it."
                )
            acting, whom, tenant = self._sharer(tx, found, to, actor, "share")
            store = keeping_grants(tx)
            new = Grant(found.ref, whom, level, tenant, at, until, id_of(acting))
            old = _grant_to(store, found.ref, whom)
            if old is not None and (old.level, old.until) == (level, until):
                return old
            store.put_grant(new)
            tx.append_events([AccessGranted(found.ref, whom, level, until, tenant, id_of(acting), at, tenant)])
            return new

    @retried
    def revoke(self, record: RecordLike, to: AssigneeLike, *, actor: UserLike | None) -> Grant:
        """Take back the record's grant to a user or group, live or expired; return the grant taken back.

        Raises:
            UnknownGrantError: the record is not granted to them.
            OwnershipError: as for `grant`: UnknownRecordError, UnknownUserError, UnknownGroupError,
                ForeignTenantError, AccessDeniedError, InactiveUserError, UnsupportedError.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            acting, whom, tenant = self._sharer(tx, found, to, actor, "take back a share of")
            store = keeping_grants(tx)
            old = _grant_to(store, found.ref, whom)
            if old is None:
                raise UnknownGrantError(f"{found} is not granted to {whom}; there is nothing to revoke.")
            store.delete_grant(found.ref, whom)
            tx.append_events([AccessRevoked(found.ref, whom, tenant, id_of(acting), self._clock(), tenant)])
            return old

    def grants(
        self, record: RecordLike, *, viewer: UserLike | None = None, tenant: Tenant | str | None = None
    ) -> tuple[Grant, ...]:
        """Return the record's grants that count now, by assignee: those to the viewer's tenant, or `tenant`'s.

        With neither, the host asks, and every tenant's grants are listed. A
        viewer must be able to view the record. Grants whose `until` has
        passed are not listed: they grant nothing, and `audit` names them.

        Raises:
            UnknownRecordError, UnknownUserError, UnknownTenantError: no such record, viewer or tenant.
            ForeignActorError: the viewer's tenant, or `tenant`, has no part in the record.
            AccessDeniedError: `viewer` may not view the record.
        """
        with self._reading() as tx:
            found, seen_by = self._seen(tx, record, viewer, tenant, "list whom it is granted to")
            now = self._clock()
            return tuple(g for g in record_grants(tx, found.ref) if g.live(now) and seen_by in (None, g.tenant))

    @retried
    def follow(self, record: RecordLike, user: UserLike) -> bool:
        """Let `user` hear of the record's activities without holding it; return True, or False if they did already.

        A follower hears of every activity some role of the kind hears of
        (`record_activity`), for as long as they are active and may view the
        record; one who may no longer view it is not told, and is told again
        once they may.

        Raises:
            UnknownRecordError, UnknownUserError: no such record or user.
            ForeignTenantError: the user's tenant takes no part in the record.
            AccessDeniedError: the user may not view the record.
            InactiveUserError: the user is inactive.
            UnsupportedError: the repository keeps no followers.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            following = self._actor(tx, user)
            if following.tenant not in found.tenants:
                raise ForeignTenantError(
                    f"{found} is not shared with tenant {following.tenant!r}; it cannot be followed."
                )
            self._check_allowed(tx, following, "view", found, doing="follow")
            store = keeping_followers(tx)
            if any(f.user == following.id for f in store.followers(found.ref)):
                return False
            store.put_follower(Follower(found.ref, following.id, following.tenant, self._clock()))
            return True

    @retried
    def unfollow(self, record: RecordLike, user: UserLike) -> bool:
        """Stop `user` hearing of the record as a follower; return True, or False if they did not follow it.

        Raises:
            UnknownRecordError, UnknownUserError: no such record or user.
            UnsupportedError: the repository keeps no followers.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            leaving = self._user(tx, user)
            store = keeping_followers(tx)
            if not any(f.user == leaving.id for f in store.followers(found.ref)):
                return False
            store.delete_follower(found.ref, leaving.id)
            return True

    def followers(
        self, record: RecordLike, *, viewer: UserLike | None = None, tenant: Tenant | str | None = None
    ) -> tuple[Follower, ...]:
        """Return the record's followers by user id: those of the viewer's tenant, or `tenant`'s; all for the host.

        Raises:
            UnknownRecordError, UnknownUserError, UnknownTenantError: no such record, viewer or tenant.
            ForeignActorError: the viewer's tenant, or `tenant`, has no part in the record.
            AccessDeniedError: `viewer` may not view the record.
        """
        with self._reading() as tx:
            found, seen_by = self._seen(tx, record, viewer, tenant, "list who follows it")
            return tuple(f for f in record_followers(tx, found.ref) if seen_by in (None, f.tenant))

    def _seen(
        self, tx: Transaction, record: RecordLike, viewer: UserLike | None, tenant: Tenant | str | None, doing: str
    ) -> tuple[Record, str | None]:
        """The record and whose view of it to take, refused to a viewer who may not view it."""
        found, seen_by = self._view(tx, record, viewer, tenant)
        if viewer is not None:
            self._check_sees(tx, viewer, found, tx.assignments(found.ref), asking=doing)
        return found, seen_by

    def _sharer(
        self, tx: Transaction, found: Record, to: AssigneeLike, actor: UserLike | None, doing: str
    ) -> tuple[User | None, Assignee, str]:
        """Who acts, whom the share is to, and their tenant: checked as `grant` and `revoke` say."""
        whom = as_assignee(to)
        if whom.kind is AssigneeKind.EVERYONE:
            raise InvalidValueError(
                "A record is granted to a user or a group, not to everyone; to let everyone see it, say so in the "
                "kind's rule (always, or holds of a role everyone holds)."
            )
        acting = self._actor(tx, actor) if actor is not None else None
        seen_by = acting.tenant if acting is not None else None
        if whom.kind is AssigneeKind.USER:
            tenant = self._user(tx, whom.id, seen_by=seen_by).tenant
        else:
            tenant = self._group(tx, whom.id, seen_by=seen_by).tenant
        if tenant not in found.tenants:
            raise ForeignTenantError(
                f"{found} is not shared with tenant {tenant!r}; grant it to people of the tenants taking part in it."
            )
        if acting is not None:
            # The assign rule counts no grant: a grant does not let its holder share the record further.
            self._check_allowed(tx, acting, "assign", found, doing=doing)
        return acting, whom, tenant


def _grant_to(store: KeepsGrants, ref: RecordRef, whom: Assignee) -> Grant | None:
    """The record's grant to `whom`, or None."""
    return next((g for g in store.grants(ref) if g.assignee == whom), None)
