"""Snapshots: reading a whole state as one value, and writing one into an empty repository (exports and imports)."""

from ownership.errors import DuplicateIdError
from ownership.events import Event
from ownership.model import Assignment, RecordRef
from ownership.ports import Transaction
from ownership.snapshot import Setting, Snapshot, check_whole
from ownership.usecases import _settings
from ownership.usecases._sharing import keeping_followers, keeping_grants, tenant_followers, tenant_grants
from ownership.usecases._unit import Progress, Units, report, retried


class Snapshots(Units):
    """Moving a whole state from one repository to another, through the port alone."""

    def snapshot(self) -> Snapshot:
        """Return everything the repository holds, in a stable order, read in one unit of work."""
        with self._reading() as tx:
            tenants = tuple(tx.tenants())
            users = tuple(u for t in tenants for u in tx.users(t.id))
            groups = tuple(g for t in tenants for g in tx.groups(t.id))
            records = tuple(r for t in tenants for r in tx.records(t.id))
            return Snapshot(
                tenants=tenants,
                users=users,
                groups=groups,
                memberships=tuple(m for g in groups for m in tx.memberships_of_group(g.id)),
                records=records,
                assignments=tuple(a for r in records for a in tx.assignments(r.ref)),
                events=tuple(e for r in records for e in tx.events(r.ref)),
                outbox=tuple(tx.outbox()),
                settings=tuple(Setting(t.id, k, v) for t in tenants for k, v in tx.settings(t.id, "").items()),
                grants=tuple(g for t in tenants for g in tenant_grants(tx, t.id)),
                followers=tuple(f for t in tenants for f in tenant_followers(tx, t.id)),
            )

    @retried
    def restore(self, snapshot: Snapshot, *, progress: Progress | None = None) -> None:
        """Write everything `snapshot` holds into this empty repository, in one unit of work.

        Together with `snapshot` it moves a whole state from one repository to
        another (memory to SQLite, SQLite to PostgreSQL): a snapshot taken
        after `restore` equals the one restored, history, outbox and settings
        included. The snapshot is not checked against the rulebook, only for
        what it refers to.

        Args:
            snapshot: the state to write, as `snapshot` returned it (or `serde.structure` read it back).
            progress: called as ``progress(done, total)`` while the records go in; raising from it undoes everything.

        Raises:
            DuplicateIdError: the repository already holds a tenant.
            InvalidValueError: the snapshot is not one a repository could have given: it refers to a tenant,
                user, group or record it does not hold, holds one twice, links one tenant's people or records
                to another's beyond what sharing allows, holds a setting that cannot be read, or a moment
                without its time zone.
            UnsupportedError: the snapshot holds grants or followers, and the repository keeps none.
        """
        check_whole(snapshot, read=_settings.read)
        with self._writing(alone=True) as tx:
            held = [t.id for t in tx.tenants()]
            if held:
                raise DuplicateIdError(
                    f"The repository already holds tenant {held[0]!r}"
                    f"{f' and {len(held) - 1} more' if len(held) > 1 else ''}; restore into an empty one."
                )
            for tenant in snapshot.tenants:
                tx.put_tenant(tenant)
            for user in snapshot.users:
                tx.put_user(user)
            for group in snapshot.groups:
                tx.put_group(group)
            for membership in snapshot.memberships:
                tx.put_membership(membership)
            assignments: dict[RecordRef, list[Assignment]] = {}
            for assignment in snapshot.assignments:
                assignments.setdefault(assignment.record, []).append(assignment)
            events: dict[RecordRef, list[Event]] = {}
            for event in snapshot.events:
                events.setdefault(event.record, []).append(event)
            for done, record in enumerate(snapshot.records, 1):
                tx.put_record(record)
                for assignment in assignments.get(record.ref, ()):
                    tx.add_assignment(assignment)
                tx.append_events(events.get(record.ref, ()))
                report(progress, done, len(snapshot.records))
            for entry in snapshot.outbox:
                tx.put_outbox_entry(entry)
            for setting in snapshot.settings:
                tx.put_setting(setting.tenant, setting.key, setting.value)
            _restore_sharing(tx, snapshot)


def _restore_sharing(tx: Transaction, snapshot: Snapshot) -> None:
    """Write the snapshot's grants and followers; refused where there are some and the repository keeps none."""
    for grant in snapshot.grants:
        keeping_grants(tx).put_grant(grant)
    for follower in snapshot.followers:
        keeping_followers(tx).put_follower(follower)
