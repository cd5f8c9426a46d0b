"""Records: tracking a host's record with its first holders, and sharing it with another tenant (TL2, LD6, LD7, X4)."""

from collections.abc import Iterable

from attrs import evolve

from ownership.errors import (
    DuplicateIdError,
    FeatureDisabledError,
    ForeignActorError,
    ShareError,
    UnknownTenantError,
)
from ownership.events import Assigned, RecordCreated, RecordShared, ShareAccepted
from ownership.lifecycle import ASSIGN, SHARE, first_status
from ownership.model import (
    Assignee,
    HoldersLike,
    Record,
    RecordLike,
    Tenant,
    UserLike,
    as_assignees,
    id_of,
)
from ownership.policy import Trigger
from ownership.usecases._lookups import check_home
from ownership.usecases._unit import retried
from ownership.usecases._writer import Change
from ownership.usecases.auto_assign import AutoAssigning
from ownership.usecases.status import Statuses


class Records(AutoAssigning, Statuses):
    """Creating records with every mandatory role filled, and offering and accepting them across tenants."""

    @retried
    def create(
        self,
        kind: str,
        *,
        actor: UserLike | None,
        tenant: Tenant | str | None = None,
        id: str | None = None,
        holders: HoldersLike | None = None,
        manual: bool = True,
        name: str | None = None,
        status: str | None = None,
        number: str | None = None,
        labels: Iterable[str] = (),
    ) -> Record:
        """Start tracking a record, with every mandatory role filled.

        Roles `holders` leaves empty are filled first by the tenant's
        auto-assignment rules for the kind (X4), unless the record starts in a
        status that takes no new holders (CT1); then the policy's
        `Trigger.CREATED` roles go to the actor when `manual` is true (LD6; TL2
        in the presets).

        Args:
            kind: the record kind; the rulebook must govern it.
            actor: the user creating it, or None when the host does (an import).
            tenant: the home tenant; the actor's if none.
            id: the host's id for the record; a fresh one if none.
            holders: initial holders by role name.
            manual: whether a person created it by hand rather than a mechanism.
            name: a name to show people and find it by (CT5).
            status: its first status; the lifecycle's start for a person or a mechanism if None (CT1).
            number: its number, unique among the tenant's records of the kind (CT4).
            labels: facts the host tags it with, which segments and territories read (X4).

        Returns:
            The new record.

        Raises:
            UnknownKindError, UnknownRoleError: the kind or a role is unknown.
            FeatureDisabledError: the tenant's plan or switches lack the kind or a role (TL10).
            DuplicateIdError: a record of this kind has this id already.
            MandatoryRoleError: a mandatory role would start empty (TL2, TL7).
            ForeignActorError: the actor belongs to another tenant than `tenant`.
            AssignmentError, InactiveUserError, ForeignTenantError: an initial holder breaks a rule.
            TransitionError: `status` is not one of the kind's statuses, or the kind has none.
            DuplicateNumberError: another record of the kind and tenant carries `number`.
        """
        policy = self.rulebook.policy(kind)
        tags = frozenset(labels)
        with self._writing() as tx:
            acting = self._actor(tx, actor) if actor is not None else None
            home_id = tenant if tenant is not None else acting.tenant if acting is not None else None
            if home_id is None:
                raise UnknownTenantError("A record created without an actor needs tenant=...; name its home tenant.")
            home = self._tenant(tx, home_id)
            if acting is not None and acting.tenant != home.id:
                raise ForeignActorError(
                    f"{acting.name} belongs to tenant {acting.tenant!r} and cannot create records in {home.id!r}."
                )
            features = self.rulebook.features(home)
            if policy.requires is not None and policy.requires not in features:
                raise FeatureDisabledError(
                    f"Tenant {home.id!r} cannot create a {kind}: it needs {policy.requires!r}, "
                    "which its plan and switches do not include."
                )
            record = Record(
                kind,
                id if id is not None else self._ids(),
                home.id,
                self._clock(),
                name=name,
                status=first_status(kind, policy.lifecycle, status, manual=manual),
                number=number,
                labels=tags,
            )
            if tx.record(record.ref) is not None:
                raise DuplicateIdError(f"A {kind} with id {record.id!r} is tracked already; choose another id.")
            self._check_number_free(tx, record)
            wanted = {role: as_assignees(given) for role, given in (holders or {}).items()}
            # Holders named here are kept whatever the status; it is holders chosen for the record it refuses.
            choosing = not self._refuses(record, ASSIGN)
            if choosing:
                self._auto_assigned(tx, policy=policy, record=record, home=home, features=features, wanted=wanted)
            if choosing and manual and acting is not None:
                for role in policy.triggered(Trigger.CREATED, features):
                    wanted.setdefault(role.name, [acting])
            planned = [
                (role, self._assignee(tx, one, role, record, home, asker=acting))
                for role, several in self._resolve(policy, wanted, features, home)
                for one in several
            ]
            policy.check_new_slot(record, planned, features, home.id)
            at = record.created_at
            tx.put_record(record)
            tx.append_events([RecordCreated(record.ref, home.id, id_of(acting), at)])
            # One batch of changes, so a user that several of the new holders stand for is told once.
            changes = [Change(Assigned, record.ref, role, assignee, home.id) for role, assignee in planned]
            self._apply(tx, changes, actor=acting, at=at)
            return record

    @retried
    def share(self, record: RecordLike, tenant: Tenant | str, *, actor: UserLike) -> Record:
        """Offer a record to another tenant, as a principal forwards a lead to a partner (LD7).

        Raises:
            UnknownRecordError, UnknownTenantError: no such record or tenant.
            ForeignActorError: the actor is not of the record's home tenant.
            AccessDeniedError: the kind's rule does not let the actor edit the record.
            ShareError: the tenant is the home, or has the record or an offer already.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            acting = self._actor(tx, actor)
            check_home(found, acting, "share")
            # By their own right: a grant to edit it does not let them give it to another company.
            self._check_allowed(tx, acting, "edit", found, doing="share", own_right=True)
            self._check_status(found, SHARE, "be shared")
            partner = self._tenant(tx, tenant)
            if partner.id in found.tenants or partner.id in found.offered_to:
                raise ShareError(f"{found} is already offered to or shared with tenant {partner.id!r}.")
            shared = evolve(found, offered_to=found.offered_to | {partner.id})
            tx.put_record(shared)
            tx.append_events([RecordShared(found.ref, partner.id, acting.id, self._clock())])
            return shared

    @retried
    def accept(self, record: RecordLike, *, actor: UserLike) -> Record:
        """Accept a record offered to the actor's tenant (LD6).

        The policy's `Trigger.ACCEPTED` roles, which are private to each tenant,
        go to the actor in their tenant's own slot.

        Raises:
            UnknownRecordError: no such record.
            ShareError: the record is not offered to the actor's tenant.
            MandatoryRoleError: a mandatory private role would start empty there.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            acting = self._actor(tx, actor)
            if acting.tenant not in found.offered_to:
                raise ShareError(f"{found} is not offered to tenant {acting.tenant!r}; it cannot be accepted there.")
            self._check_status(found, SHARE, "be accepted")
            policy = self.rulebook.policy(found.kind)
            slot = self._tenant(tx, acting.tenant)
            features = self.rulebook.features(slot)
            accepted = evolve(found, offered_to=found.offered_to - {slot.id}, shared_with=found.shared_with | {slot.id})
            planned = [
                (role, Assignee.user(acting.id))
                for role in policy.triggered(Trigger.ACCEPTED, features)
                if role.private
            ]
            policy.check_new_slot(accepted, planned, features, slot.id, private_only=True)
            at = self._clock()
            tx.put_record(accepted)
            tx.append_events([ShareAccepted(found.ref, slot.id, acting.id, at)])
            for role, assignee in planned:
                self._write(tx, Assigned, accepted, role, assignee, slot=slot.id, actor=acting, at=at)
            return accepted
