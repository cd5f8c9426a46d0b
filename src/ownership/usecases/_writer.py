"""The one writer of holders: each change of a role's holders, the event that records it, and who must hear of it.

Every room that gives or takes a role (creating, assigning, offboarding,
bulk reassigning) plans `Change`s and hands them to `_apply`, which writes
them in batches (removals before additions), appends their events, and
enqueues the notices of roles that are notified (LD8, TL8).
"""

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from attrs import evolve, frozen

from ownership.errors import AssigneeKindError, ForeignActorError, ForeignTenantError
from ownership.events import Assigned, Unassigned
from ownership.filters import InGroup
from ownership.lifecycle import check_status, refused
from ownership.model import (
    Assignee,
    AssigneeKind,
    AssigneeLike,
    Assignment,
    Group,
    Record,
    RecordLike,
    RecordRef,
    Tenant,
    User,
    UserLike,
    as_assignee,
    id_of,
)
from ownership.notify import ASSIGNED, Notification, notification_for, readable_position
from ownership.policy import Policy, Role
from ownership.ports import Transaction
from ownership.usecases._lookups import check_active
from ownership.usecases._unit import offers
from ownership.usecases._viewing import Viewing, all_selected


def _handovers(
    changes: Sequence["Change"], assignments: Sequence[Assignment]
) -> dict[tuple[RecordRef, str, str], Assignment]:
    """The slots of a role of one holder handed from one assignee to another, each with the assignment that comes."""
    going: dict[tuple[RecordRef, str, str], int] = {}
    coming: dict[tuple[RecordRef, str, str], list[Assignment]] = {}
    for change, assignment in zip(changes, assignments, strict=True):
        if change.role.max == 1:
            slot = (change.record, change.role.name, change.slot)
            if change.event is Unassigned:
                going[slot] = going.get(slot, 0) + 1
            else:
                coming.setdefault(slot, []).append(assignment)
    return {slot: new[0] for slot, new in coming.items() if len(new) == 1 and going.get(slot) == 1}


@frozen
class Change:
    """One change of holders to write: an assignee begins (`Assigned`) or stops (`Unassigned`) holding a role.

    Attributes:
        event: `Assigned` or `Unassigned`: the event that will record it.
        record: the record.
        role: the role.
        assignee: who begins or stops holding it.
        slot: the tenant whose holders of the role change (`Role.slot`).
    """

    event: type[Assigned | Unassigned]
    record: RecordRef
    role: Role
    assignee: Assignee
    slot: str


_WHAT = {AssigneeKind.USER: "a user", AssigneeKind.EVERYONE: "everyone", AssigneeKind.GROUP: "a group"}


class Writer(Viewing):
    """Checking who may hold a role, and writing changes of holders with their events and notices."""

    def _slot(
        self, tx: Transaction, record: RecordLike, role: str, actor: UserLike
    ) -> tuple[Record, Role, Tenant, User]:
        """Resolve what a change of holders works on: the record, the role, the slot's tenant, and who acts."""
        found = self._record(tx, record)
        acting = self._actor(tx, actor)
        if acting.tenant not in found.tenants:
            raise ForeignActorError(
                f"{found} is not shared with tenant {acting.tenant!r}; {acting.name} cannot change its holders."
            )
        policy = self.rulebook.policy(found.kind)
        self._check_allowed(tx, acting, "assign", found, doing="change who holds")
        wanted = self._available_role(policy, role, tx, found, acting.tenant)
        slot = self._tenant(tx, wanted.slot(found, acting.tenant))
        if slot.id != acting.tenant:
            raise ForeignActorError(
                f"Only tenant {slot.id!r} changes the {role} of {found}; {acting.name} of {acting.tenant!r} cannot."
            )
        return found, wanted, slot, acting

    def _refuses(self, record: Record, operation: str) -> bool:
        """Whether the record's status refuses `operation` (CT1)."""
        return refused(self.rulebook.policy(record.kind).lifecycle, record, operation)

    def _check_status(self, record: Record, operation: str, doing: str) -> None:
        """Refuse what the record's status refuses: an inbox or archived contact takes no new holders (CT1)."""
        check_status(self.rulebook.policy(record.kind).lifecycle, record, operation, doing)

    def _forget(self, tx: Transaction, record: Record) -> None:
        """Stop tracking a record for good, taking the members of a record group out of it first (CT6)."""
        collected = self.rulebook.policy(record.kind).collects
        if collected is not None:
            for member in list(all_selected(tx, collected, InGroup(record.id))):
                tx.put_record(evolve(member, groups=member.groups - {record.id}))
        tx.delete_record(record.ref)

    @staticmethod
    def _held_group(tx: Transaction, assignee: Assignee) -> Group | None:
        return tx.group(assignee.id) if assignee.kind is AssigneeKind.GROUP else None

    def _assignee(
        self,
        tx: Transaction,
        given: AssigneeLike,
        role: Role,
        record: Record,
        slot: Tenant,
        *,
        asker: User | None,
        leavers: bool = False,
    ) -> Assignee:
        """Check that `given` may hold `role` in `slot`'s part of the record, and return it as an Assignee.

        To `asker`, a user or group of another tenant is unknown (`_user`); only the host learns it is foreign.
        A user who has left may hold it only where the host records its own data (`leavers`).
        """
        assignee = as_assignee(given)
        group = None
        seen_by = asker.tenant if asker is not None else None
        if assignee.kind is AssigneeKind.USER:
            user = self._user(tx, assignee.id, seen_by=seen_by)
            if user.tenant != slot.id:
                raise ForeignTenantError(
                    f"{user.name} belongs to tenant {user.tenant!r}; the {role.name} of {record} "
                    f"must be of tenant {slot.id!r}."
                )
            if not leavers:
                check_active(user, "be assigned")
        elif assignee.kind is AssigneeKind.GROUP:
            group = self._group(tx, assignee.id, seen_by=seen_by)
            if group.tenant != slot.id:
                raise ForeignTenantError(
                    f"Group {group.name!r} belongs to tenant {group.tenant!r}; the {role.name} of {record} "
                    f"must be of tenant {slot.id!r}."
                )
        if not role.takes(assignee, group):
            what = f"a {group.kind.value} group" if group is not None else _WHAT[assignee.kind]
            raise AssigneeKindError(f"The {role.name} of a {record.kind} takes {role.describe_takes()}, not {what}.")
        return assignee

    @staticmethod
    def _resolve(
        policy: Policy, wanted: Mapping[str, list[AssigneeLike]], features: frozenset[str], tenant: Tenant
    ) -> list[tuple[Role, list[AssigneeLike]]]:
        """The roles `wanted` names, each with its holders; refused if the tenant lacks one's feature."""
        resolved = []
        for name, given in wanted.items():
            role = policy.role(name)
            policy.check_available(role, tenant.id, features)
            resolved.append((role, given))
        return resolved

    def _write(
        self,
        tx: Transaction,
        event: type[Assigned | Unassigned],
        record: Record,
        role: Role,
        assignee: Assignee,
        *,
        slot: str,
        actor: User | None,
        at: datetime,
    ) -> None:
        """Write one change of holders and the event that records it."""
        self._apply(tx, [Change(event, record.ref, role, assignee, slot)], actor=actor, at=at)

    def _apply(
        self, tx: Transaction, changes: Sequence[Change], *, actor: User | None, at: datetime, quiet: bool = False
    ) -> None:
        """Write changes of holders, the events that record them, and who must hear of them, a kind of write at a time.

        Every removal comes before every addition, so a slot handed from one
        assignee to another never holds both, and a repository can write
        each kind of row in one batch. A `quiet` change is heard of by no one.
        """
        by = id_of(actor)
        assignments = [Assignment(c.record, c.role.name, c.assignee, c.slot, at, by) for c in changes]
        handing = offers(type(tx), "move_assignment") and any(c.event is Unassigned for c in changes)
        moved = _handovers(changes, assignments) if handing else {}
        for change, assignment in zip(changes, assignments, strict=True):
            if change.event is Unassigned:
                if (change.record, change.role.name, change.slot) in moved:
                    handed = moved[change.record, change.role.name, change.slot]
                    tx.move_assignment(assignment, handed)  # type: ignore[attr-defined]  # checked by its type
                else:
                    tx.remove_assignment(assignment)
        for change, assignment in zip(changes, assignments, strict=True):
            if change.event is Assigned and (change.record, change.role.name, change.slot) not in moved:
                tx.add_assignment(assignment)
        positions = tx.append_events(
            [
                c.event(c.record, c.role.name, c.assignee, c.slot, by, at, c.slot if c.role.private else None)
                for c in changes
            ]
        )
        if quiet:
            return
        recipients: dict[tuple[Assignee, str], list[User]] = {}
        told: set[tuple[RecordRef, str]] = set()
        features: dict[str, frozenset[str]] = {}
        for change, position in zip(changes, positions, strict=True):
            policy = self.rulebook.policy(change.record.kind)
            if change.event is Assigned and change.role.notified and policy.knows(ASSIGNED):
                if change.slot not in features:
                    features[change.slot] = self.rulebook.features(self._tenant(tx, change.slot))
                if not change.role.available(features[change.slot]):
                    continue  # a role switched off is moved (by `transfer`) unseen, and unheard of
                # LD8: whoever a notified role is given to hears of it, unless they gave it to themselves;
                # a kind that lists its activities hears of assignments only if it lists them (TL8).
                # Everyone stands for the active users of the slot's tenant (CT2).
                held = (change.assignee, change.slot)
                if held not in recipients:
                    recipients[held] = self._users_of(tx, [held], at)
                # One change tells a user once per record, however many of its new holders stand for them.
                fresh = [u for u in recipients[held] if (change.record, u.id) not in told]
                told.update((change.record, u.id) for u in fresh)
                self._notify(tx, change.record, ASSIGNED, fresh, actor=actor, at=at, position=position)

    def _users_of(
        self, tx: Transaction, holders: Iterable[tuple[Assignee, str]], at: datetime, *, inactive: bool = False
    ) -> list[User]:
        """The active users the holders stand for, each once, in the order first met.

        A holder is an assignee with the tenant whose slot it holds: a user stands
        for themselves, a group for its live members, and *everyone* for every active
        user of that tenant (CT2), read in one go. With `inactive`, a user who holds
        it, or is a live member of a group that does, is one though inactive.
        """
        users: dict[str, User] = {}
        for assignee, tenant in holders:
            if assignee.kind is AssigneeKind.EVERYONE:
                for employee in tx.users(tenant):
                    if employee.active:
                        users.setdefault(employee.id, employee)
                continue
            if assignee.kind is AssigneeKind.USER:
                ids = [assignee.id]
            else:
                ids = [m.user for m in tx.memberships_of_group(assignee.id) if m.live(at)]
            for user_id in ids:
                if user_id in users:
                    continue
                user = self._kept(tx, "user", user_id, functools.partial(tx.user, user_id))
                if user is not None and (user.active or inactive):
                    users[user.id] = user
        return list(users.values())

    def _notify(
        self,
        tx: Transaction,
        record: RecordRef,
        activity: str,
        recipients: Iterable[User],
        *,
        actor: User | None,
        at: datetime,
        position: int,
    ) -> tuple[Notification, ...]:
        """Write one notification per recipient but the actor, keyed by the event's place in their tenant's view.

        The event at `position` of the record's history is one the recipient's tenant may read: a private
        role's event is heard of in its own slot, an activity by every tenant (LD7).
        """
        written = []
        places: dict[str, int] = {}
        # Only a private role's events are private to a tenant: a kind without one needs no history read.
        hidden = any(role.private for role in self.rulebook.policy(record.kind).roles)
        for user in recipients:
            if actor is not None and user.id == actor.id:
                continue
            if user.tenant not in places:
                places[user.tenant] = (
                    readable_position(tx.events(record), position, user.tenant) if hidden else position
                )
            notification = notification_for(user, record, activity, actor=actor, at=at, position=places[user.tenant])
            tx.enqueue(notification)
            written.append(notification)
        return tuple(written)
