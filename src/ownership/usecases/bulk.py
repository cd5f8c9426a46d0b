"""Bulk work: one action on a whole selection in one unit of work, all or nothing, with progress (CT6, X3).

A selection is a segment (only the records the action can change for the
actor), records picked by hand (each must be changeable, or the whole call
is refused), or a page of `find` or `visible`.
"""

from collections.abc import Iterable, Sequence
from typing import Union

from attrs import evolve

from ownership.errors import AccessDeniedError, ForeignTenantError, RecordGroupError, TransitionError
from ownership.events import Assigned, Unassigned
from ownership.filters import EVERYTHING, HomeIs, Test, all_of, compiled
from ownership.lifecycle import ASSIGN, required
from ownership.model import (
    Assignee,
    AssigneeLike,
    Page,
    Record,
    RecordLike,
    RecordRef,
    Row,
    User,
    UserLike,
    as_assignee,
)
from ownership.policy import Role
from ownership.ports import Transaction
from ownership.segments import Segment
from ownership.usecases._lookups import check_home
from ownership.usecases._unit import CHUNK, Progress, chunks, report, retried, step
from ownership.usecases._viewing import all_selected
from ownership.usecases._writer import Change
from ownership.usecases.status import Statuses

Selection = Union["Segment", Iterable[RecordLike], "Page"]
"""What a bulk action works on: a segment, or records picked by hand (a temporary group, CT6), or a page of them."""


class Bulk(Statuses):
    """Reassigning, archiving, deleting and grouping a selection of records at once."""

    @retried
    def reassign(
        self,
        selection: Selection,
        role: str,
        to: AssigneeLike,
        *,
        actor: UserLike,
        replacing: AssigneeLike | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Hand a role of every selected record to `to`, all in one unit of work: all or none (CT6, X3).

        Without `replacing`, `to` becomes the role's only holder; with it, only
        that holder's part is handed over, and records it does not hold are
        passed over. Each change is recorded and announced as `replace` would.

        Args:
            selection: a segment (only records the actor may assign count), or records picked by hand
                (a temporary group: each must be one the actor may assign).
            role: the role's name.
            to: the new holder.
            actor: who does it.
            replacing: the holder whose part moves, or None for every holder.
            progress: called as ``progress(done, total)`` while the work goes on; raising from it undoes everything.

        Returns:
            How many records changed.

        Raises:
            AccessDeniedError: a record picked by hand is one the actor may not assign.
            RestrictedStatusError: a record's status takes no new holders (an archived contact).
            MandatoryRoleError, TooManyHoldersError: a record's role would break its min or max.
            OwnershipError: as for `assign`: UnknownRoleError, FeatureDisabledError, ForeignActorError,
                InactiveUserError, ForeignTenantError, AssigneeKindError.
        """
        with self._writing(alone=True) as tx:
            acting = self._actor(tx, actor)
            by_segment = isinstance(selection, Segment)
            private = isinstance(selection, Segment) and self.rulebook.policy(selection.kind).role(role).private
            records = self._selected(tx, selection, acting, "assign", home_only=not private)
            leaving = as_assignee(replacing) if replacing is not None else None
            roles: dict[str, tuple[Role, Assignee]] = {}
            done = changed = 0
            at = self._clock()
            for chunk in chunks(records, step(len(records))):
                current = tx.assignments_of([r.ref for r in chunk])
                changes: list[Change] = []
                for record in chunk:
                    if record.kind not in roles:
                        slot_role = self._available_role(
                            self.rulebook.policy(record.kind), role, tx, record, acting.tenant
                        )
                        home = self._tenant(tx, acting.tenant)
                        roles[record.kind] = (slot_role, self._assignee(tx, to, slot_role, record, home, asker=acting))
                    slot_role, new = roles[record.kind]
                    if slot_role.slot(record, acting.tenant) != acting.tenant:
                        check_home(record, acting, f"change the {role} of")
                    held = [
                        a.assignee for a in current.get(record.ref, ()) if a.role == role and a.tenant == acting.tenant
                    ]
                    moves = self._handover(record, slot_role, held, new, leaving, passing_over=by_segment)
                    changes += [Change(event, record.ref, slot_role, who, acting.tenant) for event, who in moves]
                    changed += bool(moves)
                self._apply(tx, changes, actor=acting, at=at)
                done += len(chunk)
                report(progress, done, len(records))
            return changed

    def _handover(
        self,
        record: Record,
        role: Role,
        held: Sequence[Assignee],
        new: Assignee,
        leaving: Assignee | None,
        *,
        passing_over: bool,
    ) -> list[tuple[type[Assigned | Unassigned], Assignee]]:
        """The changes that give `new` one record's `role`, in place of `leaving` or of every holder; none to make.

        With `passing_over`, a record whose status takes no new holders (an archived contact) is left as it is;
        otherwise it refuses the whole call.
        """
        if leaving is None:
            gone = [a for a in held if a != new]
        elif leaving in held:
            gone = [] if leaving == new else [leaving]
        else:
            return []  # the holder whose part moves does not hold this record's role
        coming = [] if new in held else [new]
        if not gone and not coming:
            return []
        if coming and passing_over and self._refuses(record, ASSIGN):
            return []
        if coming:
            self._check_status(record, ASSIGN, "take new holders")
        after = len(held) - len(gone) + len(coming)
        role.check_at_least(record, after, f"{record} would keep {after}.")
        role.check_at_most(record, after, "reassign without replacing=.")
        return [(Unassigned, a) for a in gone] + [(Assigned, a) for a in coming]

    @retried
    def archive(
        self, selection: Selection, *, actor: UserLike, confirmed: bool = False, progress: Progress | None = None
    ) -> int:
        """Move every selected record to its lifecycle's archived status, in one unit of work (CT1, CT6).

        Records archived already are passed over; holders and history stay.

        Returns:
            How many records were archived.

        Raises:
            TransitionError: a record's kind has no archived status, or no way there from its status.
            ConfirmationError: a record's way there must be confirmed, and `confirmed` is false.
            AccessDeniedError: a record picked by hand is one the actor may not edit.
        """
        with self._writing(alone=True) as tx:
            acting = self._actor(tx, actor)
            records = self._selected(tx, selection, acting, "edit")
            at = self._clock()
            moved = 0
            for done, record in enumerate(records, 1):
                lifecycle = required(record.kind, self.rulebook.policy(record.kind).lifecycle)
                if lifecycle.archived is None:
                    raise TransitionError(f"A {record.kind} cannot be archived: its lifecycle has no archived status.")
                check_home(record, acting, "archive")
                moved += self._move(tx, record, lifecycle.archived, acting, confirmed=confirmed, at=at) is not None
                report(progress, done, len(records))
            return moved

    @retried
    def delete(self, selection: Selection, *, actor: UserLike, progress: Progress | None = None) -> int:
        """Stop tracking every selected record, for good: its holders and history go too (CT6).

        Deleting a record group takes its members out of it first. Deletion is
        final: the record's notifications in the outbox go too, delivered or
        not, so no one is told of a record that is gone, and a record created
        again with the same id starts afresh.

        Returns:
            How many records were deleted.

        Raises:
            ForeignActorError: a record's home is not the actor's tenant.
            AccessDeniedError: a record picked by hand is one the actor may not edit.
        """
        with self._writing(alone=True) as tx:
            acting = self._actor(tx, actor)
            records = self._selected(tx, selection, acting, "edit")
            for done, record in enumerate(records, 1):
                check_home(record, acting, "delete")
                self._forget(tx, record)
                report(progress, done, len(records))
            return len(records)

    @retried
    def add_to_group(
        self, group: RecordLike, selection: Selection, *, actor: UserLike, progress: Progress | None = None
    ) -> int:
        """Put every selected record into a record group, in one unit of work (CT6).

        A record group is a record of the kind that collects the selected
        records' kind (``contact_group`` in `presets.contact_desk`): create it
        with a name, a number and its holders, then fill it.

        Returns:
            How many records joined; those in it already are passed over.

        Raises:
            RecordGroupError: `group`'s kind does not collect a selected record's kind.
            ForeignActorError: the actor is not of the group's home tenant: a tenant it is shared with
                changes none of its members, as it changes nothing else only the home may (CT6, LD7).
            ForeignTenantError: a record's home is not the group's.
            AccessDeniedError: the actor may not edit the group, or a record picked by hand.
        """
        return self._regroup(group, selection, actor=actor, progress=progress, joining=True)

    @retried
    def remove_from_group(
        self, group: RecordLike, selection: Selection, *, actor: UserLike, progress: Progress | None = None
    ) -> int:
        """Take every selected record out of a record group, in one unit of work (CT6).

        Returns:
            How many records left it; those not in it are passed over.

        Raises:
            RecordGroupError, ForeignActorError, ForeignTenantError, AccessDeniedError: as for `add_to_group`.
        """
        return self._regroup(group, selection, actor=actor, progress=progress, joining=False)

    def _regroup(
        self, group: RecordLike, selection: Selection, *, actor: UserLike, progress: Progress | None, joining: bool
    ) -> int:
        with self._writing(alone=True) as tx:
            found = self._record(tx, group)
            acting = self._actor(tx, actor)
            check_home(found, acting, "change the members of")
            self._check_allowed(tx, acting, "edit", found, doing="change the members of")
            collects = self.rulebook.policy(found.kind).collects
            if collects is None:
                raise RecordGroupError(f"The {found} is no record group: a {found.kind} groups no records.")
            records = self._selected(tx, selection, acting, "edit")
            changed = 0
            for done, record in enumerate(records, 1):
                if record.kind != collects:
                    raise RecordGroupError(f"A {found.kind} groups {collects} records, not {record}.")
                if record.tenant != found.tenant:
                    raise ForeignTenantError(
                        f"The {record} belongs to tenant {record.tenant!r}, the {found} to {found.tenant!r}."
                    )
                if (found.id in record.groups) != joining:
                    groups = record.groups | {found.id} if joining else record.groups - {found.id}
                    tx.put_record(evolve(record, groups=groups))
                    changed += 1
                report(progress, done, len(records))
            return changed

    def _selected(
        self, tx: Transaction, selection: Selection, acting: User, action: str, *, home_only: bool = True
    ) -> list[Record]:
        """The records a bulk action works on: a segment's that `acting` may do `action` on, or those picked by hand.

        A segment passes over the records the action cannot change for the actor: with `home_only`, those
        whose home is another tenant (shared with the actor's).
        """
        if isinstance(selection, Segment):
            policy = self.rulebook.policy(selection.kind)
            seeing = self._viewer(tx, acting, selection.kind)
            where = all_of(
                self._where(tx, policy, seeing, action, selection.criteria),
                HomeIs(acting.tenant) if home_only else EVERYTHING,
            )
            return list(all_selected(tx, selection.kind, where, page=10 * CHUNK))
        refs = list(dict.fromkeys(_picked(selection)))
        tests: dict[str, Test] = {}
        records = []
        for chunk in chunks(refs):
            held = tx.assignments_of(chunk)
            for ref in chunk:
                found = self._record(tx, ref)
                if ref.kind not in tests:
                    rule = self.rulebook.policy(ref.kind).rule(action)
                    tests[ref.kind] = compiled(self._filter_for(self._viewer(tx, acting, ref.kind), rule))
                if not tests[ref.kind](found, held.get(ref, ())):
                    raise AccessDeniedError(
                        f"{acting.name} may not {action} {found}, so cannot include it; leave it out of the selection."
                    )
                records.append(found)
        return records


def _picked(selection: Iterable[RecordLike] | Page) -> Iterable[RecordRef]:
    """The records picked by hand for a bulk action: records, their identities, or a page of `find` or `visible`."""
    for one in selection.rows if isinstance(selection, Page) else selection:
        if isinstance(one, Row):
            yield one.record.ref
        elif isinstance(one, Record):
            yield one.ref
        else:
            yield one
