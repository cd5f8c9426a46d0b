"""Holders: giving, taking and handing over a record's roles, claiming from a team's pool, and offboarding.

Every change goes through `Writer._apply`, so each is recorded in the history
and heard of by whoever a notified role is given to (LD5, LD8, CG10, X3).
"""

from ownership.errors import ClaimError, ForeignTenantError, InvalidValueError, NotHeldError
from ownership.events import Assigned, Unassigned
from ownership.lifecycle import ASSIGN
from ownership.model import Assignee, AssigneeLike, GroupKind, RecordLike, UserLike, as_assignee
from ownership.usecases._lookups import check_active
from ownership.usecases._unit import retried
from ownership.usecases._writer import Change, Writer


class Holders(Writer):
    """Changing who holds a role of one record, and handing a leaving user's holdings to a successor."""

    @retried
    def assign(self, record: RecordLike, role: str, assignee: AssigneeLike, *, actor: UserLike) -> tuple[Assignee, ...]:
        """Give a role to an assignee: a single-holder role is handed over, a multi-holder one gains one (LD5).

        Assigning someone who holds the role already changes nothing.

        Returns:
            The role's holders afterwards, as the actor's tenant sees them.

        Raises:
            UnknownRecordError, UnknownRoleError: no such record or role.
            FeatureDisabledError: the tenant lacks the role's feature (TL5, CG8).
            ForeignActorError: the actor's tenant has no part in the record.
            AccessDeniedError: the kind's rule does not let the actor assign (by default: whoever may edit).
            InactiveUserError: the actor or the assignee is inactive (LD2).
            UnknownUserError, UnknownGroupError: no such assignee in the actor's tenant; another tenant's
                user or group is refused as if it did not exist (LD2, LD7).
            AssigneeKindError: the role does not take this kind of assignee.
            TooManyHoldersError: a multi-holder role is full.
        """
        with self._writing() as tx:
            found, slot_role, slot, acting = self._slot(tx, record, role, actor)
            new = self._assignee(tx, assignee, slot_role, found, slot, asker=acting)
            self._check_status(found, ASSIGN, "take new holders")
            held = self._held(tx, found, slot_role, slot.id)
            if new in held:
                return tuple(held)
            changes = [Change(Assigned, found.ref, slot_role, new, slot.id)]
            if slot_role.max == 1 and held:
                changes.insert(0, Change(Unassigned, found.ref, slot_role, held[0], slot.id))  # a handover
            else:
                slot_role.check_at_most(found, len(held) + 1, "unassign one first, or use replace.")
            self._apply(tx, changes, actor=acting, at=self._clock())
            return tuple(self._held(tx, found, slot_role, slot.id))

    @retried
    def unassign(
        self, record: RecordLike, role: str, assignee: AssigneeLike, *, actor: UserLike
    ) -> tuple[Assignee, ...]:
        """Take a role from one of its holders (LD5).

        Returns:
            The role's holders afterwards, as the actor's tenant sees them.

        Raises:
            NotHeldError: the assignee does not hold the role.
            MandatoryRoleError: the role would fall below its minimum (TL2, TL7).
            OwnershipError: as for `assign`: UnknownRecordError, UnknownRoleError, FeatureDisabledError,
                ForeignActorError, AccessDeniedError, InactiveUserError.
        """
        with self._writing() as tx:
            found, slot_role, slot, acting = self._slot(tx, record, role, actor)
            gone = as_assignee(assignee)
            held = self._held(tx, found, slot_role, slot.id)
            if gone not in held:
                raise NotHeldError(f"{gone} does not hold the {role} of {found}; there is nothing to unassign.")
            slot_role.check_at_least(found, len(held) - 1, "assign another first, or use replace.")
            self._write(tx, Unassigned, found, slot_role, gone, slot=slot.id, actor=acting, at=self._clock())
            return tuple(self._held(tx, found, slot_role, slot.id))

    @retried
    def replace(
        self, record: RecordLike, role: str, old: AssigneeLike, new: AssigneeLike, *, actor: UserLike
    ) -> tuple[Assignee, ...]:
        """Hand one holder's part of a role to another assignee, in one step (LD5, X3).

        Returns:
            The role's holders afterwards, as the actor's tenant sees them.

        Raises:
            NotHeldError: `old` does not hold the role.
            OwnershipError: as for `assign`: UnknownRecordError, UnknownRoleError, FeatureDisabledError,
                ForeignActorError, AccessDeniedError, InactiveUserError, UnknownUserError, UnknownGroupError,
                AssigneeKindError.
        """
        with self._writing() as tx:
            found, slot_role, slot, acting = self._slot(tx, record, role, actor)
            gone = as_assignee(old)
            held = self._held(tx, found, slot_role, slot.id)
            if gone not in held:
                raise NotHeldError(f"{gone} does not hold the {role} of {found}; there is nothing to replace.")
            coming = self._assignee(tx, new, slot_role, found, slot, asker=acting)
            self._check_status(found, ASSIGN, "take new holders")
            if coming != gone:
                slot_role.check_handover(found, held, leaving=gone, coming=coming)
                at = self._clock()
                self._write(tx, Unassigned, found, slot_role, gone, slot=slot.id, actor=acting, at=at)
                if coming not in held:
                    self._write(tx, Assigned, found, slot_role, coming, slot=slot.id, actor=acting, at=at)
            return tuple(self._held(tx, found, slot_role, slot.id))

    @retried
    def claim(self, record: RecordLike, role: str, *, actor: UserLike) -> tuple[Assignee, ...]:
        """Take work from a team's pool: the role passes from the team to the actor, a live member (CG10).

        Of two members claiming at once, exactly one wins; the other is refused
        with `ClaimError`, because the team no longer holds the role.

        Returns:
            The role's holders afterwards, as the actor's tenant sees them.

        Raises:
            ClaimError: no team holds the role, or the actor is not a live member of it.
            OwnershipError: as for `assign`: UnknownRecordError, UnknownRoleError, FeatureDisabledError,
                ForeignActorError, InactiveUserError, AssigneeKindError.
        """
        with self._writing() as tx:
            found, slot_role, slot, acting = self._slot(tx, record, role, actor)
            held = self._held(tx, found, slot_role, slot.id)
            teams = [t for t in (self._held_group(tx, a) for a in held) if t is not None and t.kind is GroupKind.TEAM]
            if not teams:
                taken = ", ".join(str(a) for a in held) or "nobody"
                raise ClaimError(
                    f"The {role} of {found} is in no team's pool (held by {taken}); there is nothing to claim."
                )
            moment = self._clock()
            mine = {m.group for m in tx.memberships_of_user(acting.id) if m.live(moment)}
            team = next((t for t in teams if t.id in mine), None)
            if team is None:
                raise ClaimError(f"{acting.name} is not a member of team {teams[0].name!r}, which holds {found}.")
            me = self._assignee(tx, acting, slot_role, found, slot, asker=acting)
            self._check_status(found, ASSIGN, "take new holders")
            slot_role.check_handover(found, held, leaving=Assignee.group(team.id), coming=me)
            self._write(
                tx, Unassigned, found, slot_role, Assignee.group(team.id), slot=slot.id, actor=acting, at=moment
            )
            if me not in held:
                self._write(tx, Assigned, found, slot_role, me, slot=slot.id, actor=acting, at=moment)
            return tuple(self._held(tx, found, slot_role, slot.id))

    @retried
    def release(self, record: RecordLike, role: str, *, actor: UserLike) -> tuple[Assignee, ...]:
        """Put claimed work back into the pool of the team it was last taken from (CG10).

        Returns:
            The role's holders afterwards, as the actor's tenant sees them.

        Raises:
            ClaimError: the actor does not hold the role, or no team ever held it.
            OwnershipError: as for `assign`: UnknownRecordError, UnknownRoleError, FeatureDisabledError,
                ForeignActorError, AccessDeniedError, InactiveUserError.
        """
        with self._writing() as tx:
            found, slot_role, slot, acting = self._slot(tx, record, role, actor)
            me = Assignee.user(acting.id)
            held = self._held(tx, found, slot_role, slot.id)
            if me not in held:
                raise ClaimError(f"{acting.name} does not hold the {role} of {found}; there is nothing to release.")
            self._check_status(found, ASSIGN, "take new holders")
            team = next(
                (
                    group
                    for event in reversed(tx.events(found.ref))
                    if isinstance(event, Unassigned) and event.role == role and event.tenant == slot.id
                    for group in [self._held_group(tx, event.assignee)]
                    if group is not None and group.kind is GroupKind.TEAM
                ),
                None,
            )
            if team is None:
                raise ClaimError(f"No team ever held the {role} of {found}; assign it to someone instead.")
            moment = self._clock()
            back = Assignee.group(team.id)
            slot_role.check_handover(found, held, leaving=me, coming=back)
            self._write(tx, Unassigned, found, slot_role, me, slot=slot.id, actor=acting, at=moment)
            if back not in held:
                self._write(tx, Assigned, found, slot_role, back, slot=slot.id, actor=acting, at=moment)
            return tuple(self._held(tx, found, slot_role, slot.id))

    @retried
    def transfer(self, leaving: UserLike, successor: UserLike, *, actor: UserLike | None = None) -> int:
        """Hand every role a user holds, on every record, to a successor, in one unit of work (X3).

        This is offboarding: a user who leaves (or moves on) passes all their
        holdings to a colleague of the same tenant, and either all of them
        move or none do. Where the successor holds the role already, the
        leaving user's part simply ends. Each move is recorded in the history
        as an unassignment and an assignment, and the successor hears of it
        where the role is notified, as with `assign`. The leaving user may be
        inactive already; the successor must be active, so no mandatory role
        is ever left held by an inactive user.

        Args:
            leaving: the user whose holdings move.
            successor: the active user of the same tenant who takes them.
            actor: an admin of their tenant, or None when the host itself moves them (a script).

        Only the user's own holdings move; what they hold through a group stays
        with the group. Holdings of a role the tenant has switched off move
        too, unseen, so they come back with the successor when it is switched
        on again; no one is told of those.

        Returns:
            How many holdings the leaving user gave up: moved, or ended where the successor held the role.

        Raises:
            UnknownUserError: no such user; to an actor, also a user of another tenant than theirs.
            UnknownKindError, UnknownRoleError: a holding's kind or role is no longer in the rulebook.
            InvalidValueError: the leaving user and the successor are the same.
            ForeignTenantError: the successor belongs to another tenant (asked by the host, with no actor).
            InactiveUserError: the successor, or the actor, is inactive.
            AccessDeniedError: the actor is not an admin of the tenant.
            MandatoryRoleError: a role that keeps two holders or more would be left short, because the
                successor holds it already.
        """
        with self._writing(alone=True) as tx:
            # To an admin, another tenant's user is unknown (LD7); only the host learns that one is foreign.
            seen_by = self._actor(tx, actor).tenant if actor is not None else None
            gone = self._user(tx, leaving, seen_by=seen_by)
            heir = self._user(tx, successor, seen_by=seen_by)
            if heir.id == gone.id:
                raise InvalidValueError(f"{gone.name} cannot hand their holdings to themselves; name a successor.")
            if heir.tenant != gone.tenant:
                raise ForeignTenantError(
                    f"{heir.name} belongs to tenant {heir.tenant!r}; {gone.name}'s holdings stay in {gone.tenant!r}."
                )
            check_active(heir, "take over holdings")
            acting = self._check_admin(tx, actor, gone.tenant, f"hand over {gone.name}'s holdings")
            held = tx.holdings(Assignee.user(gone.id))
            roles = {(h.record.kind, h.role): self.rulebook.policy(h.record.kind).role(h.role) for h in held}
            # A role of one holder that the leaver holds has them alone in its slot: only the others are read.
            shared = [h.record for h in held if roles[h.record.kind, h.role].max != 1]
            current = tx.assignments_of(list(dict.fromkeys(shared))) if shared else {}
            me, heir_as = Assignee.user(gone.id), Assignee.user(heir.id)
            changes: list[Change] = []
            for holding in held:
                record = holding.record
                role = roles[record.kind, holding.role]
                slot = (
                    [me]
                    if role.max == 1
                    else [
                        a.assignee
                        for a in current.get(record, ())
                        if a.role == role.name and a.tenant == holding.tenant
                    ]
                )
                role.check_handover(record, slot, leaving=me, coming=heir_as)
                changes.append(Change(Unassigned, record, role, me, holding.tenant))
                if heir_as not in slot:
                    changes.append(Change(Assigned, record, role, heir_as, holding.tenant))
            self._apply(tx, changes, actor=acting, at=self._clock())
            return len(held)
