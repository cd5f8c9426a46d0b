"""Keeping in step with the host: `reconcile` makes a tenant's records of a kind agree with the host's rows.

A host that changes its own tables behind `ownership`'s back (a bulk UPDATE
that moves a department's deals, a DELETE, a user who left) hands its rows
to `reconcile`, which adds, removes and changes what `ownership` tracks until
it says what the rows say, and reports the difference it found: the drift.
It is the host's own fact that is recorded, so there is no actor, holders who
have left are kept (and `audit` names them), and no one is told unless asked.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from attrs import Attribute, evolve, field, frozen

from ownership.errors import DuplicateIdError, FeatureDisabledError, InvalidValueError, TooManyHoldersError
from ownership.events import Assigned, RecordCreated, StatusChanged, Unassigned
from ownership.filters import HomeIs
from ownership.lifecycle import first_status, required
from ownership.model import (
    AN_ID,
    Assignee,
    AssigneeLike,
    Assignment,
    Group,
    Record,
    RecordRef,
    Tenant,
    User,
    a_name_set,
    an_id,
    an_optional_id,
    an_optional_text,
    as_assignee,
    as_assignees,
    is_id,
    names,
    shown,
)
from ownership.policy import Policy, Role
from ownership.ports import Transaction
from ownership.usecases._unit import CHUNK, Progress, chunks, offers, report, retried
from ownership.usecases._viewing import all_selected
from ownership.usecases._writer import Change, Writer


def _holders(given: Mapping[str, AssigneeLike | Sequence[AssigneeLike]]) -> dict[str, tuple[Assignee, ...]]:
    """A row's holders by role, each as a tuple of assignees, or a refusal saying what it takes (a converter)."""
    if not isinstance(given, Mapping):
        raise InvalidValueError(
            f"HostRecord.holders takes a mapping of role names to assignees, not {shown(given)}; "
            'write holders={"owner": Assignee.user("anna")}.'
        )
    holders = {}
    for role, several in given.items():
        if not is_id(role):
            raise InvalidValueError(f"HostRecord.holders takes role names as keys, each {AN_ID}, not {shown(role)}.")
        if isinstance(several, str | bytes) or not isinstance(several, Assignee | User | Group | Iterable):
            raise InvalidValueError(
                f"HostRecord.holders takes an assignee or a list of them for role {role!r}, not {shown(several)}."
            )
        holders[role] = tuple(as_assignee(one) for one in as_assignees(several))
    return holders


def _labels(given: Iterable[str] | None) -> frozenset[str] | None:
    return None if given is None else names(given)


def _no_or_names(instance: object, attribute: "Attribute[Any]", value: object) -> None:
    if value is not None:
        a_name_set(instance, attribute, value)


@frozen
class HostRecord:
    """What the host's data says of one record: its id, its holders by role, and what else it keeps of it.

    Attributes:
        id: the host's id of the record.
        holders: the holders of each role the host keeps, by role name: one assignee or several. A role
            named with none is empty; a role not named is `ownership`'s own, and left as it is.
        status: its status in its kind's lifecycle, or None to leave it (a new record starts where its
            lifecycle starts records a mechanism makes).
        name: its name, or None to leave it.
        labels: its labels, or None to leave them.
    """

    id: str = field(validator=an_id)
    holders: Mapping[str, tuple[Assignee, ...]] = field(factory=dict, converter=_holders)
    status: str | None = field(default=None, kw_only=True, validator=an_optional_id)
    name: str | None = field(default=None, kw_only=True, validator=an_optional_text)
    labels: frozenset[str] | None = field(default=None, kw_only=True, converter=_labels, validator=_no_or_names)


def each_once(ids: Sequence[str], what: str) -> Counter[str]:
    """The host's rows' ids, each counted; refused when a row names one that another names too (`what`: a record)."""
    counted = Counter(ids)
    if len(counted) != len(ids):
        twice = ", ".join(repr(id) for id, n in sorted(counted.items()) if n > 1)
        raise InvalidValueError(f"Rows name each {what} once; these came more than once: {twice}.")
    return counted


def _checked(rows: Sequence[HostRecord], gone: Iterable[str], *, partial: bool) -> tuple[Counter[str], list[str]]:
    """The rows' ids, each counted, and the ids gone, sorted; refused when they contradict themselves."""
    counted = each_once([row.id for row in rows], "record")
    deleted = sorted(set(gone))
    if deleted and not partial:
        raise InvalidValueError(
            "gone names records the host deleted, for a partial reconcile; a whole one deletes every record "
            "no row names: pass partial=True, or leave gone out."
        )
    if not counted.keys().isdisjoint(deleted):
        both = ", ".join(repr(id) for id in sorted(counted.keys() & set(deleted)))
        raise InvalidValueError(f"A record is either a row or gone, not both: {both}.")
    return counted, deleted


def _tracked_of(tx: Transaction, kind: str, ids: Sequence[str], tenant: str) -> list[Record]:
    """The records of `kind` with `ids` that are tracked, and whose home is `tenant`."""
    found = (tx.record(RecordRef(kind, id)) for id in ids)
    return [record for record in found if record is not None and record.tenant == tenant]


@frozen
class RecordDrift:
    """How one tracked record differed from the host's row, and so changed.

    Attributes:
        id: the record's id.
        assigned: the holders the row names that `ownership` lacked, as (role, assignee).
        unassigned: the holders `ownership` had that the row does not name, as (role, assignee).
        status: (what it was, what it is now), if the status differed.
        name: (what it was, what it is now), if the name differed.
        labels: whether the labels differed.
    """

    id: str
    assigned: tuple[tuple[str, Assignee], ...] = ()
    unassigned: tuple[tuple[str, Assignee], ...] = ()
    status: tuple[str | None, str | None] | None = None
    name: tuple[str | None, str | None] | None = None
    labels: bool = False


@frozen
class Drift:
    """What `reconcile` found between the host's rows and what `ownership` tracked, by record id.

    Attributes:
        kind: the record kind.
        tenant: the home tenant whose records were compared.
        added: ids of rows `ownership` did not track, now tracked.
        removed: ids `ownership` tracked that no row names, now forgotten with their holders and history.
        changed: records whose holders, status, name or labels differed, with how.
        applied: False for a dry run, which changed nothing.
    """

    kind: str
    tenant: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[RecordDrift, ...] = ()
    applied: bool = True

    @property
    def in_step(self) -> bool:
        """Whether there was nothing to change: `ownership` said what the rows say."""
        return not (self.added or self.removed or self.changed)


class Reconciling(Writer):
    """Making `ownership` agree with the host's own rows, and saying where it did not."""

    @retried
    def reconcile(
        self,
        kind: str,
        rows: Iterable[HostRecord],
        *,
        tenant: Tenant | str,
        partial: bool = False,
        gone: Iterable[str] = (),
        dry_run: bool = False,
        notify: bool = False,
        progress: Progress | None = None,
    ) -> Drift:
        """Make the tenant's records of `kind` say what the host's rows say, in one unit of work; return the drift.

        Every row's record is tracked afterwards, with the holders it names for
        each role it names, and its status, name and labels where it gives
        them; records of the kind whose home is `tenant` and that no row names
        are deleted. It is the host's data that is recorded: no actor, holders
        who have left are kept as they are (`audit` names those of mandatory
        roles), and no one hears of it unless `notify` (then as `assign` tells
        holders). Run again on the same rows, it finds nothing to change.

        With `partial`, the rows are only some of the host's records (the one
        its save path just wrote): records no row names are left as they are,
        and only the records named are locked, so other writers go on; the
        records of the ids in `gone` (rows the host deleted) are deleted, as a
        whole reconcile deletes those no row names.

        Args:
            kind: the record kind.
            rows: every record of the kind the host keeps in the tenant, each once; or some, with `partial`.
            tenant: the home tenant of the records.
            partial: the rows are some of the host's records; forget none that they do not name.
            gone: with `partial`, the ids of records the host deleted, to delete too (those of `tenant`).
            dry_run: only find the drift; change nothing.
            notify: tell the new holders of notified roles, as `assign` does.
            progress: called as ``progress(done, total)`` while the rows are compared.

        Raises:
            UnknownTenantError, UnknownKindError, UnknownRoleError: a name is unknown.
            InvalidValueError: two rows name one id, or a row an id in `gone`; or `gone` without `partial`.
            DuplicateIdError: a row names a record of the kind whose home is another tenant.
            FeatureDisabledError: the tenant lacks the kind, or a role a row names.
            UnknownUserError, UnknownGroupError, ForeignTenantError, AssigneeKindError: a holder breaks a rule.
            MandatoryRoleError, TooManyHoldersError: a row leaves a mandatory role empty, or names too many.
            TransitionError: a row's status is not one of the kind's.
        """
        policy = self.rulebook.policy(kind)
        wanted = list(rows)
        counted, deleted = _checked(wanted, gone, partial=partial)
        with self._writing(alone=not partial) as tx:
            home = self._tenant(tx, tenant)
            features = self.rulebook.features(home)
            if policy.requires is not None and policy.requires not in features:
                raise FeatureDisabledError(
                    f"Tenant {home.id!r} keeps no {kind} records: they need {policy.requires!r}, "
                    "which its plan and switches do not include."
                )
            if partial:
                tracked = {record.id: record for record in _tracked_of(tx, kind, list(counted), home.id)}
            else:
                tracked = {record.id: record for record in all_selected(tx, kind, HomeIs(home.id))}
            held: dict[RecordRef, Sequence[Assignment]] = {}
            for part in chunks([record.ref for record in tracked.values()]):
                held.update(tx.assignments_of(part))
            at = self._clock()
            added: list[tuple[Record, list[Change]]] = []
            changed: list[tuple[Record, Record, list[Change], RecordDrift]] = []
            added_ids: list[str] = []
            drifts: list[RecordDrift] = []
            checked: set[tuple[str, Assignee]] = set()
            elsewhere = self._homes_elsewhere(tx, kind, [row.id for row in wanted if row.id not in tracked], home)
            for done, row in enumerate(wanted, 1):
                before = tracked.get(row.id)
                record = before if before is not None else self._new(policy, row, home, at, elsewhere=elsewhere)
                roles = self._roles(tx, policy, row, record, home=home, features=features, checked=checked)
                if before is None:
                    planned = [(role, assignee) for role, given in roles for assignee in given]
                    policy.check_new_slot(record, planned, features, home.id)
                    added.append((record, [Change(Assigned, record.ref, r, a, home.id) for r, a in planned]))
                    added_ids.append(record.id)
                else:
                    drift = self._drift(policy, before, row, roles, assignments=held.get(before.ref, ()), home=home)
                    if drift is not None:
                        changed.append(drift)
                        drifts.append(drift[-1])
                if len(added) + len(changed) >= CHUNK or done == len(wanted):
                    # Written a chunk at a time, so a first load of millions is never all in memory at once;
                    # a later row that is refused still takes back all of it, with the unit.
                    if not dry_run:
                        self._write_drift(tx, added, changed, [], at=at, notify=notify)
                    added, changed = [], []
                report(progress, done, len(wanted))
            removed = (
                _tracked_of(tx, kind, deleted, home.id)
                if partial
                else [record for id, record in sorted(tracked.items()) if id not in counted]  # no row names them
            )
            if not dry_run:
                self._write_drift(tx, [], [], removed, at=at, notify=notify)
            return Drift(
                kind,
                home.id,
                added=tuple(sorted(added_ids)),
                removed=tuple(record.id for record in removed),
                changed=tuple(sorted(drifts, key=lambda d: d.id)),
                applied=not dry_run,
            )

    def _roles(
        self,
        tx: Transaction,
        policy: Policy,
        row: HostRecord,
        record: Record,
        *,
        home: Tenant,
        features: frozenset[str],
        checked: set[tuple[str, Assignee]],
    ) -> list[tuple[Role, tuple[Assignee, ...]]]:
        """The roles a row names, each with its holders, checked: one who has left may hold a role here.

        What may hold a role is checked once a call (`checked`): a load names the same people again and again.
        """
        roles = []
        for name, given in row.holders.items():
            role = policy.role(name)
            policy.check_available(role, home.id, features)
            for assignee in given:
                if (name, assignee) not in checked:
                    self._assignee(tx, assignee, role, record, home, asker=None, leavers=True)
                    checked.add((name, assignee))
            if len(set(given)) != len(given):
                raise TooManyHoldersError(f"The row of {record} names the same {role.name} twice.")
            roles.append((role, given))
        return roles

    @staticmethod
    def _homes_elsewhere(tx: Transaction, kind: str, ids: Sequence[str], home: Tenant) -> Mapping[str, str]:
        """Of `ids`, those of records of `kind` at home in another tenant than `home`, with that tenant."""
        if offers(type(tx), "homes"):
            found: Mapping[str, str] = tx.homes(kind, ids)  # type: ignore[attr-defined]  # checked by its type
        else:
            records = (tx.record(RecordRef(kind, id)) for id in ids)
            found = {record.id: record.tenant for record in records if record is not None}
        return {id: tenant for id, tenant in found.items() if tenant != home.id}

    @staticmethod
    def _new(policy: Policy, row: HostRecord, home: Tenant, at: datetime, *, elsewhere: Mapping[str, str]) -> Record:
        """The record a row adds; refused if its id is another tenant's record."""
        if row.id in elsewhere:
            raise DuplicateIdError(
                f"A {policy.kind} with id {row.id!r} is tracked already, at home in tenant {elsewhere[row.id]!r}; "
                f"a row of tenant {home.id!r} cannot name it."
            )
        return Record(
            policy.kind,
            row.id,
            home.id,
            at,
            name=row.name,
            status=first_status(policy.kind, policy.lifecycle, row.status, manual=False),
            labels=row.labels or frozenset(),
        )

    @staticmethod
    def _drift(
        policy: Policy,
        before: Record,
        row: HostRecord,
        roles: list[tuple[Role, tuple[Assignee, ...]]],
        *,
        assignments: Sequence[Assignment],
        home: Tenant,
    ) -> tuple[Record, Record, list[Change], RecordDrift] | None:
        """How a tracked record differs from its row: the record as it will be, the changes of holders, the drift."""
        changes: list[Change] = []
        for role, given in roles:
            why = f"the row of {before} names {len(given)}."
            role.check_at_least(before, len(given), why)
            role.check_at_most(before, len(given), why)
            now = [a.assignee for a in assignments if a.role == role.name and a.tenant == home.id]
            changes += [Change(Unassigned, before.ref, role, a, home.id) for a in now if a not in given]
            changes += [Change(Assigned, before.ref, role, a, home.id) for a in given if a not in now]
        if row.status is not None:
            required(policy.kind, policy.lifecycle).check_name(policy.kind, row.status)
        after = evolve(
            before,
            status=before.status if row.status is None else row.status,
            name=before.name if row.name is None else row.name,
            labels=before.labels if row.labels is None else row.labels,
        )
        if not changes and after == before:
            return None
        drift = RecordDrift(
            before.id,
            assigned=tuple((c.role.name, c.assignee) for c in changes if c.event is Assigned),
            unassigned=tuple((c.role.name, c.assignee) for c in changes if c.event is Unassigned),
            status=(before.status, after.status) if after.status != before.status else None,
            name=(before.name, after.name) if after.name != before.name else None,
            labels=after.labels != before.labels,
        )
        return before, after, changes, drift

    def _write_drift(
        self,
        tx: Transaction,
        added: list[tuple[Record, list[Change]]],
        changed: list[tuple[Record, Record, list[Change], RecordDrift]],
        removed: list[Record],
        *,
        at: datetime,
        notify: bool,
    ) -> None:
        """Write what reconciling found: records removed, records added, records changed, their events in order."""
        for record in removed:
            self._forget(tx, record)
        if offers(type(tx), "add_records"):
            tx.add_records([record for record, _ in added])  # type: ignore[attr-defined]  # checked by its type
        else:
            for record, _ in added:
                tx.put_record(record)
        tx.append_events([RecordCreated(record.ref, record.tenant, None, at) for record, _ in added])
        for before, after, _, _ in changed:
            if after != before:
                tx.put_record(after)
        tx.append_events(
            [
                StatusChanged(before.ref, before.status, after.status, before.tenant, None, at)
                for before, after, _, _ in changed
                if after.status is not None and after.status != before.status
            ]
        )
        planned = [c for _, changes in added for c in changes] + [c for _, _, changes, _ in changed for c in changes]
        self._apply(tx, planned, actor=None, at=at, quiet=not notify)
