"""Audit: what a careful admin of a tenant must fix, found by listing rather than by checking each record.

Records no active non-admin may see (CG2), mandatory roles held by inactive
users (X3), users in no caretaker group (CG3), groups no one is linked to
(CG4), deputies whose cover has expired (X5), notifications to the
tenant's users that became dead letters (X7), and every record granted to
the tenant's people: live, expired, or to someone who has left.
"""

from collections.abc import Sequence
from datetime import datetime

from attrs import frozen

from ownership.model import AssigneeKind, GroupKind, Record, Tenant, User, when
from ownership.ports import Transaction
from ownership.usecases._sharing import tenant_grants
from ownership.usecases._viewing import Viewing, all_selected


@frozen(order=True)
class Finding:
    """One thing an admin should fix, found by `Ownership.audit`.

    Attributes:
        kind: ``unseen_record``, ``inactive_holder``, ``no_caretaker_group``,
            ``group_without_members``, ``expired_deputy``, ``dead_letter``, ``grant``,
            ``expired_grant`` or ``inactive_grantee``.
        subject: the id of what it is about (a record as ``"kind id"``, a user, a group, a notification's key,
            a deputy as ``"group/user"``, a grant as ``"kind id/user id"`` or ``"kind id/group id"``).
        message: a sentence saying what is wrong and what to do.
    """

    kind: str
    subject: str
    message: str


class Audit(Viewing):
    """Finding what an admin must fix in their tenant."""

    def audit(self, tenant: Tenant | str) -> tuple[Finding, ...]:
        """Return what a careful admin of `tenant` must fix, by kind of finding and subject.

        The findings: records of the tenant no active non-admin may view (CG2);
        mandatory roles held by inactive users (X3); active users in no
        caretaker group, where the rulebook has caretaker groups, admins aside (CG3); groups
        no one is linked to (CG4); deputies whose cover has expired (X5);
        notifications to the tenant's users that failed so often they are dead
        letters, which `retry_dead` gives back to dispatch (X7); and each record
        granted to the tenant's people or groups (`grant`), to review, which is
        an ``expired_grant`` once its end has passed, or an ``inactive_grantee``
        when the user it is to has left.

        Raises:
            UnknownTenantError: no such tenant.
        """
        moment = self._clock()
        with self._reading() as tx:
            home = self._tenant(tx, tenant)
            users = tx.users(home.id)
            groups = tx.groups(home.id)
            records = tx.records(home.id)
            findings = [
                *self._unseen(tx, home, users, records),
                *self._inactive_holders(tx, records),
            ]
            caretaking = any(GroupKind.CARETAKER in r.groups for p in self.rulebook.policies for r in p.roles)
            caretaker_ids = {g.id for g in groups if g.kind is GroupKind.CARETAKER}
            for user in users:
                live = {m.group for m in tx.memberships_of_user(user.id) if m.live(moment)}
                if caretaking and user.active and not user.admin and not live & caretaker_ids:
                    findings.append(Finding("no_caretaker_group", user.id, f"{user.name} is in no caretaker group."))
            for group in groups:
                members = tx.memberships_of_group(group.id)
                if not any(m.live(moment) for m in members):
                    findings.append(
                        Finding("group_without_members", group.id, f"No one is linked to group {group.name!r}.")
                    )
                for expired in (m for m in members if not m.live(moment)):
                    findings.append(
                        Finding(
                            "expired_deputy",
                            f"{group.id}/{expired.user}",
                            f"{self._user(tx, expired.user).name}'s cover in group {group.name!r} "
                            f"ended {expired.until:%Y-%m-%d %H:%M}; remove the membership.",
                        )
                    )
            findings += self._dead_letters(tx, users)
            findings += self._grants(tx, home, moment)
            return tuple(sorted(findings))

    def _grants(self, tx: Transaction, home: Tenant, moment: datetime) -> list[Finding]:
        """Each record granted to `home`'s people and groups: live, expired, or to a user who left."""
        found = []
        for grant in tenant_grants(tx, home.id):
            subject = f"{grant.record}/{grant.assignee}"
            if grant.assignee.kind is AssigneeKind.GROUP:
                user, shown = None, f"group {self._group(tx, grant.assignee.id).name!r}"
            else:
                user = self._user(tx, grant.assignee.id)
                shown = user.name
            if grant.until is not None and not grant.live(moment):
                message = f"The grant of {grant.record} to {shown} ended {when(grant.until)}; revoke it."
                found.append(Finding("expired_grant", subject, message))
            elif user is not None and not user.active:
                message = f"{grant.record} is granted to {shown}, who is inactive; revoke the grant."
                found.append(Finding("inactive_grantee", subject, message))
            else:
                until = "" if grant.until is None else f" until {when(grant.until)}"
                message = (
                    f"{shown} may {grant.level} {grant.record}{until}, by a grant; revoke it when no longer needed."
                )
                found.append(Finding("grant", subject, message))
        return found

    def _dead_letters(self, tx: Transaction, users: Sequence[User]) -> list[Finding]:
        names = {user.id: user.name for user in users}
        return [
            Finding(
                "dead_letter",
                entry.notification.key,
                f"The notification telling {names[entry.notification.recipient]} of {entry.notification.activity} "
                f"on {entry.notification.record} failed {entry.attempts} times and is no longer delivered; fix "
                "what the notifier logged and call retry_dead().",
            )
            for entry in tx.outbox(dead=True)
            if entry.notification.recipient in names
        ]

    def _unseen(self, tx: Transaction, home: Tenant, users: Sequence[User], records: Sequence[Record]) -> list[Finding]:
        """Records of `home` that no active non-admin of it may view, found by listing, not by checking each."""
        seers = [u for u in users if u.active and not u.admin]
        found = []
        for kind in sorted({r.kind for r in records}):
            rule = self.rulebook.policy(kind).rule("view")
            seen: set[str] = set()
            for user in seers:
                where = self._filter_for(self._viewer(tx, user, kind), rule)
                seen.update(r.id for r in all_selected(tx, kind, where))
            found += [
                Finding("unseen_record", str(r.ref), f"No non-admin of {home.id!r} can see {r}; assign it to someone.")
                for r in records
                if r.kind == kind and r.id not in seen
            ]
        return found

    def _inactive_holders(self, tx: Transaction, records: Sequence[Record]) -> list[Finding]:
        found = []
        for record in records:
            policy = self.rulebook.policy(record.kind)
            for a in self._seen_assignments(tx, record, record.tenant):
                role = policy.role(a.role)
                if role.mandatory and a.assignee.kind is AssigneeKind.USER:
                    user = self._user(tx, a.assignee.id)
                    if not user.active:
                        found.append(
                            Finding(
                                "inactive_holder",
                                str(record.ref),
                                f"The {a.role} of {record} is {user.name}, who is inactive; hand it to someone active.",
                            )
                        )
        return found
