"""`Ownership`: the use cases, one method each, and the only code that reads and writes through the ports.

Every method that changes state runs in one unit of work: it reads what it
needs, checks every rule, and only then writes the new values and the events
that record them. A refusal raises an `OwnershipError` before anything is
written, and the unit of work discards whatever an unexpected error leaves.
"""

import functools
import random
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar, Union
from urllib.parse import quote

from attrs import define, evolve, field, frozen

from ownership.access import GATE, Decision, Facts, Predicate, Viewer
from ownership.clock import utcnow
from ownership.distribution import AutoAssignment, Pick, RoundRobin, Rule, Territory, ToGroup, picking
from ownership.errors import (
    AccessDeniedError,
    AssigneeKindError,
    ClaimError,
    ConfirmationError,
    ConflictError,
    DuplicateIdError,
    DuplicateNumberError,
    FeatureDisabledError,
    ForeignActorError,
    ForeignTenantError,
    InactiveUserError,
    InvalidValueError,
    MandatoryRoleError,
    NotHeldError,
    NumberingError,
    RecordGroupError,
    RestrictedStatusError,
    ShareError,
    TooManyHoldersError,
    TransitionError,
    UnknownGroupError,
    UnknownPlanError,
    UnknownRecordError,
    UnknownSegmentError,
    UnknownTenantError,
    UnknownUserError,
)
from ownership.events import (
    ActivityRecorded,
    Assigned,
    Event,
    RecordCreated,
    RecordShared,
    ShareAccepted,
    StatusChanged,
    Unassigned,
)
from ownership.filters import EVERYTHING, Filter, Held, HomeIs, InGroup, Test, all_of, compiled, matches, negate
from ownership.lifecycle import ASSIGN, NOTIFY, SHARE, Lifecycle
from ownership.model import (
    Assignee,
    AssigneeKind,
    Assignment,
    Group,
    GroupKind,
    Membership,
    Profile,
    Record,
    RecordRef,
    Tenant,
    User,
)
from ownership.notify import ASSIGNED, Channel, Dispatched, Notification, Notifier, OutboxEntry
from ownership.numbering import NumberRange
from ownership.policy import Policy, Role, Rulebook, Trigger
from ownership.ports import Repository, Transaction, Versioned, WritesFirst
from ownership.segments import (
    ANYTHING,
    CRITERIA,
    Criterion,
    HeldBy,
    InRecordGroup,
    Scope,
    Segment,
    nodes,
)
from ownership.segments import Unassigned as Unheld
from ownership.serde import structure, unstructure

UserLike = User | str
"""A user, or a user's id."""
GroupLike = Group | str
"""A group, or a group's id."""
RecordLike = Record | RecordRef
"""A record, or its identity."""
AssigneeLike = Assignee | User | Group
"""What a role can be given: an `Assignee`, or a user or group to stand for one."""
HoldersLike = Mapping[str, AssigneeLike | Sequence[AssigneeLike]]
"""Initial holders by role name: one assignee or several."""

Selection = Union["Segment", Iterable[RecordLike], "Page"]
"""What a bulk action works on: a segment, or records picked by hand (a temporary group, CT6), or a page of them."""
Progress = Callable[[int, int], object]
"""Called as ``progress(done, total)`` while a bulk action goes on, so a CLI can draw a bar."""


def _new_id() -> str:
    return uuid.uuid4().hex


@frozen
class Setting:
    """One tenant's setting, as `Snapshot` lists them: number ranges, segments, auto-assignment rules and turns."""

    tenant: str
    key: str
    value: Any


@frozen
class Snapshot:
    """Everything a repository holds, in a stable order; for exports and for comparing states."""

    tenants: tuple[Tenant, ...]
    users: tuple[User, ...]
    groups: tuple[Group, ...]
    memberships: tuple[Membership, ...]
    records: tuple[Record, ...]
    assignments: tuple[Assignment, ...]
    events: tuple[Event, ...]
    outbox: tuple[OutboxEntry, ...] = ()
    settings: tuple[Setting, ...] = ()


@frozen(order=True)
class Finding:
    """One thing an admin should fix, found by `Ownership.audit`.

    Attributes:
        kind: ``unseen_record``, ``inactive_holder``, ``no_caretaker_group``,
            ``group_without_members`` or ``expired_deputy``.
        subject: the id of what it is about (a record as ``"kind id"``, a user, a group).
        message: a sentence saying what is wrong and what to do.
    """

    kind: str
    subject: str
    message: str


@define
class _Resolved:
    """A viewer resolved at one generation of the repository, when it stops being right, and its compiled rules."""

    viewer: Viewer
    until: datetime | None
    tests: dict[str, Test] = field(factory=dict)


@frozen
class Row:
    """One listed record with its assignments, as the viewer's tenant sees them (LD4)."""

    record: Record
    assignments: tuple[Assignment, ...]


@frozen
class Page:
    """One page of `Ownership.visible`: rows by id, and the cursor of the next page, or None at the end."""

    rows: tuple[Row, ...]
    cursor: str | None

    @property
    def records(self) -> tuple[Record, ...]:
        """The page's records, without their assignments."""
        return tuple(row.record for row in self.rows)


_P = ParamSpec("_P")
_R = TypeVar("_R")
_T = TypeVar("_T")


def _retried(use_case: "Callable[Concatenate[Ownership, _P], _R]") -> "Callable[Concatenate[Ownership, _P], _R]":
    """Run a use case again when its unit of work met another at the same moment (`ConflictError`).

    A use case reads what it decides on inside its own unit, so running it
    again decides on what is there now: the outcome is that of the two calls
    one after the other. `Ownership(retries=...)` says how often it tries.
    """

    @functools.wraps(use_case)
    def run(self: "Ownership", /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        attempt = 0
        while True:
            try:
                return use_case(self, *args, **kwargs)
            except ConflictError:
                attempt += 1
                if attempt > self._retries:
                    raise
                time.sleep(random.uniform(0, _BACKOFF * 2**attempt))

    return run


_BACKOFF = 0.002  # seconds: the longest first pause before trying a conflicting use case again


class Ownership:
    """Who is responsible for which record, kept right as people and records change.

    Args:
        rulebook: the policies of the record kinds and the tenants' plans.
        repository: where state is kept (`MemoryRepository` for the embedded default).
        clock: returns the current moment; tests pass a fake one.
        ids: returns a fresh id for a tenant, user, group or record created without one.
        notifier: where `dispatch` delivers notifications from the outbox, if anywhere.
        retries: how often a use case that changes state is run again when its unit of work met
            another at the same moment, before `ConflictError` reaches the caller.
    """

    def __init__(
        self,
        rulebook: Rulebook,
        repository: Repository,
        *,
        clock: Callable[[], datetime] = utcnow,
        ids: Callable[[], str] = _new_id,
        notifier: Notifier | None = None,
        retries: int = 5,
    ) -> None:
        if retries < 0:
            raise InvalidValueError(f"retries counts the runs after the first; {retries} is below 0.")
        self._retries = retries
        self.rulebook = rulebook
        self._repository = repository
        self._notifier = notifier
        self._clock = clock
        self._ids = ids
        self._versioned = repository if isinstance(repository, Versioned) else None
        self._writes_first = repository if isinstance(repository, WritesFirst) else None
        # Viewers resolved at one generation of the repository, with the moment they stop being right.
        self._viewers: dict[tuple[str, str], _Resolved] = {}
        self._viewers_generation = -1

    def _writing(self, turn: str | None = None) -> AbstractContextManager[Transaction]:
        """Open a unit of work that will write: with the repository's write locks taken first, where it offers that.

        Units naming the same `turn` wait for each other rather than conflict, where the repository offers that.
        """
        if self._writes_first is not None:
            return self._writes_first.writing(turn)
        return self._repository.transaction()

    # --- tenants -----------------------------------------------------------------

    @_retried
    def add_tenant(
        self, id: str, *, name: str | None = None, plan: str | None = None, switches: Iterable[str] = ()
    ) -> Tenant:
        """Add a tenant (a company using the host CRM).

        Args:
            id: the host's id for it.
            name: a name to show people; the id if none.
            plan: one of the rulebook's plans; the rulebook's default plan if none.
            switches: features switched on beyond the plan (TL5, CG8, TL10).

        Returns:
            The new tenant.

        Raises:
            DuplicateIdError: a tenant has this id already.
            UnknownPlanError: the rulebook has no such plan.
        """
        with self._writing() as tx:
            if tx.tenant(id) is not None:
                raise DuplicateIdError(f"A tenant with id {id!r} exists already; choose another id.")
            tenant = Tenant(id, name if name is not None else id, plan or self.rulebook.default_plan, switches)
            self._check_plan(tenant)
            tx.put_tenant(tenant)
            return tenant

    @_retried
    def configure_tenant(
        self, tenant: Tenant | str, *, plan: str | None = None, switches: Iterable[str] | None = None
    ) -> Tenant:
        """Change a tenant's plan or switches (TL5, CG8, TL10).

        A role whose feature a tenant loses is hidden, not erased: its holders
        are kept and come back when the feature does.

        Args:
            tenant: the tenant or its id.
            plan: the new plan, or None to keep the current one.
            switches: the full new set of switches, or None to keep them.

        Returns:
            The tenant as it is now.

        Raises:
            UnknownTenantError: no such tenant.
            UnknownPlanError: the rulebook has no such plan.
        """
        with self._writing() as tx:
            current = self._tenant(tx, tenant)
            changed = evolve(
                current,
                plan=plan if plan is not None else current.plan,
                switches=frozenset(switches) if switches is not None else current.switches,
            )
            self._check_plan(changed)
            tx.put_tenant(changed)
            return changed

    # --- users, groups, memberships ---------------------------------------------

    @_retried
    def add_user(
        self,
        tenant: Tenant | str,
        name: str,
        *,
        id: str | None = None,
        admin: bool = False,
        active: bool = True,
        profile: Profile | None = None,
        personal_caretaker_group: bool = False,
    ) -> User:
        """Add an employee to a tenant.

        Args:
            tenant: the user's home tenant, or its id.
            name: a name to show people.
            id: the host's id for the user; a fresh one if none.
            admin: admins see every record of their tenant.
            active: inactive users can neither act nor be assigned.
            profile: restricted access per kind and the push opt-in.
            personal_caretaker_group: also create, in the same step, a caretaker
                group named after the user and linked to them (CG3, CG6).

        Returns:
            The new user.

        Raises:
            UnknownTenantError: no such tenant.
            DuplicateIdError: a user has this id already.
        """
        with self._writing() as tx:
            home = self._tenant(tx, tenant)
            user_id = id if id is not None else self._ids()
            if tx.user(user_id) is not None:
                raise DuplicateIdError(f"A user with id {user_id!r} exists already; choose another id.")
            user = User(user_id, home.id, name, active=active, admin=admin, profile=profile or Profile())
            tx.put_user(user)
            if personal_caretaker_group:
                group = Group(self._fresh_group_id(tx), home.id, name, GroupKind.CARETAKER, personal_of=user.id)
                tx.put_group(group)
                tx.put_membership(Membership(group.id, user.id))
            return user

    @_retried
    def update_user(
        self,
        user: UserLike,
        *,
        name: str | None = None,
        active: bool | None = None,
        admin: bool | None = None,
        profile: Profile | None = None,
    ) -> User:
        """Change a user's name, activity, admin right or profile; None keeps a value.

        Deactivating a user keeps their holdings: finding and moving them is
        offboarding's work (X3).

        Returns:
            The user as they are now.

        Raises:
            UnknownUserError: no such user.
        """
        with self._writing() as tx:
            current = self._user(tx, user)
            changed = evolve(
                current,
                name=current.name if name is None else name,
                active=current.active if active is None else active,
                admin=current.admin if admin is None else admin,
                profile=current.profile if profile is None else profile,
            )
            tx.put_user(changed)
            return changed

    @_retried
    def add_group(self, tenant: Tenant | str, name: str, kind: GroupKind | str, *, id: str | None = None) -> Group:
        """Add a caretaker group, competence or team to a tenant; it has no members yet (CG4).

        Raises:
            UnknownTenantError: no such tenant.
            DuplicateIdError: a group has this id already.
            InvalidValueError: `kind` is not a group kind.
        """
        with self._writing() as tx:
            home = self._tenant(tx, tenant)
            group_id = id if id is not None else self._fresh_group_id(tx)
            if tx.group(group_id) is not None:
                raise DuplicateIdError(f"A group with id {group_id!r} exists already; choose another id.")
            group = Group(group_id, home.id, name, _group_kind(kind))
            tx.put_group(group)
            return group

    @_retried
    def add_member(self, group: GroupLike, user: UserLike, *, until: datetime | None = None) -> Membership:
        """Link a user to a group, for good or until a moment (a deputy: CG5, X5).

        Linking someone already linked replaces the old expiry with `until`.

        Raises:
            UnknownGroupError, UnknownUserError: no such group or user.
            ForeignTenantError: the user belongs to another tenant than the group.
            InactiveUserError: the user is inactive.
            InvalidValueError: `until` has no time zone.
        """
        with self._writing() as tx:
            found = self._group(tx, group)
            member = self._user(tx, user)
            if member.tenant != found.tenant:
                raise ForeignTenantError(
                    f"{member.name} belongs to tenant {member.tenant!r} and cannot join group "
                    f"{found.name!r} of tenant {found.tenant!r}."
                )
            self._check_active(member, "join a group")
            if until is not None and until.tzinfo is None:
                raise InvalidValueError(
                    f"The cover's end {until:%Y-%m-%d %H:%M} has no time zone; give an aware datetime (UTC)."
                )
            membership = Membership(found.id, member.id, until)
            tx.put_membership(membership)
            return membership

    @_retried
    def remove_member(self, group: GroupLike, user: UserLike) -> None:
        """Unlink a user from a group; nothing happens if they were not linked.

        Raises:
            UnknownGroupError, UnknownUserError: no such group or user.
        """
        with self._writing() as tx:
            found, member = self._group(tx, group), self._user(tx, user)
            tx.delete_membership(found.id, member.id)

    # --- records -----------------------------------------------------------------

    @_retried
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
        _check_number(number)
        tags = _labels(labels)
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
                status=_first_status(policy, status, manual=manual),
                number=number,
                labels=tags,
            )
            if tx.record(record.ref) is not None:
                raise DuplicateIdError(f"A {kind} with id {record.id!r} is tracked already; choose another id.")
            self._check_number_free(tx, record)
            wanted = {role: _as_list(given) for role, given in (holders or {}).items()}
            # Holders named here are kept whatever the status; it is holders chosen for the record it refuses.
            choosing = not self._refuses(record, ASSIGN)
            if choosing:
                self._auto_assigned(tx, policy=policy, record=record, home=home, features=features, wanted=wanted)
            if choosing and manual and acting is not None:
                for role in self._triggered(policy, Trigger.CREATED, features):
                    wanted.setdefault(role.name, [acting])
            planned = [
                (role, self._assignee(tx, one, role, record, home))
                for role, several in self._resolve(policy, wanted, features, home)
                for one in several
            ]
            self._check_counts(policy, record, planned, features, home.id)
            at = record.created_at
            tx.put_record(record)
            tx.append_events([RecordCreated(record.ref, home.id, _id(acting), at)])
            for role, assignee in planned:
                self._write(tx, Assigned, record, role, assignee, slot=home.id, actor=acting, at=at)
            return record

    @_retried
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
            _check_home(found, acting, "share")
            self._check_allowed(tx, acting, "edit", found, doing="share")
            self._check_status(found, SHARE, "be shared")
            partner = self._tenant(tx, tenant)
            if partner.id in found.tenants or partner.id in found.offered_to:
                raise ShareError(f"{found} is already offered to or shared with tenant {partner.id!r}.")
            shared = evolve(found, offered_to=found.offered_to | {partner.id})
            tx.put_record(shared)
            tx.append_events([RecordShared(found.ref, partner.id, acting.id, self._clock())])
            return shared

    @_retried
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
                for role in self._triggered(policy, Trigger.ACCEPTED, features)
                if role.private
            ]
            self._check_counts(policy, accepted, planned, features, slot.id, private_only=True)
            at = self._clock()
            tx.put_record(accepted)
            tx.append_events([ShareAccepted(found.ref, slot.id, acting.id, at)])
            for role, assignee in planned:
                self._write(tx, Assigned, accepted, role, assignee, slot=slot.id, actor=acting, at=at)
            return accepted

    # --- holders -----------------------------------------------------------------

    @_retried
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
            ForeignTenantError: the assignee belongs to another tenant (LD2).
            AssigneeKindError: the role does not take this kind of assignee.
            TooManyHoldersError: a multi-holder role is full.
        """
        with self._writing() as tx:
            found, slot_role, slot, acting = self._slot(tx, record, role, actor)
            new = self._assignee(tx, assignee, slot_role, found, slot)
            self._check_status(found, ASSIGN, "take new holders")
            held = self._held(tx, found, slot_role, slot.id)
            if new in held:
                return tuple(held)
            at = self._clock()
            if slot_role.max == 1 and held:
                self._write(tx, Unassigned, found, slot_role, held[0], slot=slot.id, actor=acting, at=at)
            elif slot_role.max is not None and len(held) >= slot_role.max:
                raise TooManyHoldersError(
                    f"The {role} of {found} holds at most {slot_role.max}; unassign one first, or use replace."
                )
            self._write(tx, Assigned, found, slot_role, new, slot=slot.id, actor=acting, at=at)
            return tuple(self._held(tx, found, slot_role, slot.id))

    @_retried
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
            gone = _as_assignee(assignee)
            held = self._held(tx, found, slot_role, slot.id)
            if gone not in held:
                raise NotHeldError(f"{gone} does not hold the {role} of {found}; there is nothing to unassign.")
            if len(held) - 1 < slot_role.min:
                raise MandatoryRoleError(
                    f"A {found.kind} must keep {slot_role.min} {role}; assign another first, or use replace."
                )
            self._write(tx, Unassigned, found, slot_role, gone, slot=slot.id, actor=acting, at=self._clock())
            return tuple(self._held(tx, found, slot_role, slot.id))

    @_retried
    def replace(
        self, record: RecordLike, role: str, old: AssigneeLike, new: AssigneeLike, *, actor: UserLike
    ) -> tuple[Assignee, ...]:
        """Hand one holder's part of a role to another assignee, in one step (LD5, X3).

        Returns:
            The role's holders afterwards, as the actor's tenant sees them.

        Raises:
            NotHeldError: `old` does not hold the role.
            OwnershipError: as for `assign`: UnknownRecordError, UnknownRoleError, FeatureDisabledError,
                ForeignActorError, AccessDeniedError, InactiveUserError, ForeignTenantError, AssigneeKindError.
        """
        with self._writing() as tx:
            found, slot_role, slot, acting = self._slot(tx, record, role, actor)
            gone = _as_assignee(old)
            held = self._held(tx, found, slot_role, slot.id)
            if gone not in held:
                raise NotHeldError(f"{gone} does not hold the {role} of {found}; there is nothing to replace.")
            coming = self._assignee(tx, new, slot_role, found, slot)
            self._check_status(found, ASSIGN, "take new holders")
            if coming != gone:
                _keep_minimum(slot_role, found, held, leaving=gone, coming=coming)
                at = self._clock()
                self._write(tx, Unassigned, found, slot_role, gone, slot=slot.id, actor=acting, at=at)
                if coming not in held:
                    self._write(tx, Assigned, found, slot_role, coming, slot=slot.id, actor=acting, at=at)
            return tuple(self._held(tx, found, slot_role, slot.id))

    @_retried
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
            me = self._assignee(tx, acting, slot_role, found, slot)
            self._check_status(found, ASSIGN, "take new holders")
            _keep_minimum(slot_role, found, held, leaving=Assignee.group(team.id), coming=me)
            self._write(
                tx, Unassigned, found, slot_role, Assignee.group(team.id), slot=slot.id, actor=acting, at=moment
            )
            if me not in held:
                self._write(tx, Assigned, found, slot_role, me, slot=slot.id, actor=acting, at=moment)
            return tuple(self._held(tx, found, slot_role, slot.id))

    @_retried
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
            _keep_minimum(slot_role, found, held, leaving=me, coming=back)
            self._write(tx, Unassigned, found, slot_role, me, slot=slot.id, actor=acting, at=moment)
            if back not in held:
                self._write(tx, Assigned, found, slot_role, back, slot=slot.id, actor=acting, at=moment)
            return tuple(self._held(tx, found, slot_role, slot.id))

    @_retried
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
            UnknownUserError: no such user.
            UnknownKindError, UnknownRoleError: a holding's kind or role is no longer in the rulebook.
            InvalidValueError: the leaving user and the successor are the same.
            ForeignTenantError: the successor belongs to another tenant.
            InactiveUserError: the successor, or the actor, is inactive.
            AccessDeniedError: the actor is not an admin of the tenant.
            MandatoryRoleError: a role that keeps two holders or more would be left short, because the
                successor holds it already.
        """
        with self._writing() as tx:
            gone = self._user(tx, leaving)
            heir = self._user(tx, successor)
            if heir.id == gone.id:
                raise InvalidValueError(f"{gone.name} cannot hand their holdings to themselves; name a successor.")
            if heir.tenant != gone.tenant:
                raise ForeignTenantError(
                    f"{heir.name} belongs to tenant {heir.tenant!r}; {gone.name}'s holdings stay in {gone.tenant!r}."
                )
            self._check_active(heir, "take over holdings")
            acting = self._check_admin(tx, actor, gone.tenant, f"hand over {gone.name}'s holdings")
            held = tx.holdings(Assignee.user(gone.id))
            current = tx.assignments_of(list(dict.fromkeys(a.record for a in held)))
            me, heir_as = Assignee.user(gone.id), Assignee.user(heir.id)
            changes: list[_Change] = []
            for holding in held:
                record = holding.record
                role = self.rulebook.policy(record.kind).role(holding.role)
                slot = [
                    a.assignee for a in current.get(record, ()) if a.role == role.name and a.tenant == holding.tenant
                ]
                _keep_minimum(role, record, slot, leaving=me, coming=heir_as)
                changes.append(_Change(Unassigned, record, role, me, holding.tenant))
                if heir_as not in slot:
                    changes.append(_Change(Assigned, record, role, heir_as, holding.tenant))
            self._apply(tx, changes, actor=acting, at=self._clock())
            return len(held)

    # --- status, names, numbers (CT1, CT4, CT5) --------------------------------------

    @_retried
    def set_status(self, record: RecordLike, status: str, *, actor: UserLike | None, confirmed: bool = False) -> Record:
        """Move a record to another status of its kind's lifecycle (CT1).

        Archiving and making active again keep the record's holders and
        history. Asking for the status it has already changes nothing.

        Args:
            record: the record.
            status: the status to move it to.
            actor: a user of its home tenant who may edit it, or None for the host.
            confirmed: whether the user confirmed a change that asks for it (prospect to customer).

        Returns:
            The record as it is now.

        Raises:
            TransitionError: the kind has no lifecycle, no such status, or no way from its status to this one.
            ConfirmationError: the change must be confirmed, and `confirmed` is false.
            UnknownRecordError, UnknownUserError: no such record or actor.
            ForeignActorError: the actor is not of the record's home tenant.
            AccessDeniedError: the kind's rule does not let the actor edit the record.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            acting = self._home_actor(tx, actor, found, "change the status of")
            _check_status_name(found.kind, _lifecycle(self.rulebook.policy(found.kind)), status)
            moved = self._move(tx, found, status, acting, confirmed=confirmed, at=self._clock())
            return moved if moved is not None else found

    @_retried
    def update_record(
        self,
        record: RecordLike,
        *,
        actor: UserLike | None,
        name: str | None = None,
        labels: Iterable[str] | None = None,
    ) -> Record:
        """Change a record's name or labels, as the host's own record changed; None keeps a value.

        Raises:
            UnknownRecordError, UnknownUserError: no such record or actor.
            ForeignActorError: the actor is not of the record's home tenant.
            AccessDeniedError: the kind's rule does not let the actor edit the record.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            self._home_actor(tx, actor, found, "change")
            changed = evolve(
                found,
                name=found.name if name is None else name,
                labels=found.labels if labels is None else _labels(labels),
            )
            tx.put_record(changed)
            return changed

    @_retried
    def set_number_range(
        self,
        tenant: Tenant | str,
        kind: str,
        *,
        prefix: str = "",
        width: int = 1,
        next: int = 1,
        actor: UserLike | None = None,
    ) -> NumberRange:
        """Configure how `next_number` numbers a tenant's records of `kind` (CT4).

        Args:
            tenant: the tenant, or its id.
            kind: the record kind.
            prefix: put before every number.
            width: the digits a number is padded to with zeros.
            next: the counter's next value.
            actor: an admin of the tenant, or None for the host.

        Raises:
            NumberingError: `width` is below 1 or `next` below 0.
            UnknownTenantError, UnknownKindError: no such tenant or kind.
            AccessDeniedError: the actor is not an admin of the tenant.
        """
        self.rulebook.policy(kind)
        numbers = NumberRange(prefix, width, next)
        with self._writing() as tx:
            home = self._tenant(tx, tenant)
            self._check_admin(tx, actor, home.id, "configure number ranges")
            tx.put_setting(home.id, _numbers_key(kind), unstructure(numbers))
            return numbers

    def number_range(self, tenant: Tenant | str, kind: str) -> NumberRange | None:
        """Return the tenant's number range for `kind`, as `next_number` would use it now, or None.

        Raises:
            UnknownTenantError: no such tenant.
        """
        with self._repository.transaction() as tx:
            return _range(tx, self._tenant(tx, tenant).id, kind)

    @_retried
    def next_number(self, tenant: Tenant | str, kind: str) -> str:
        """Hand out the next free number of the tenant's range for `kind`, and move the range on (CT4).

        No two calls ever get one number, from however many threads or
        processes share the repository; a number a record carries already
        (given by hand) is skipped.

        Raises:
            NumberingError: the tenant has no number range for the kind.
            UnknownTenantError: no such tenant.
        """
        self.rulebook.policy(kind)
        with self._writing(turn=_numbers_turn(tenant, kind)) as tx:
            return self._next_number(tx, self._tenant(tx, tenant).id, kind)

    @_retried
    def set_number(self, record: RecordLike, number: str | None = None, *, actor: UserLike | None) -> Record:
        """Give a record a number: `number`, or the next free one of its tenant's range if None (CT4).

        Returns:
            The record as it is now, with its number.

        Raises:
            DuplicateNumberError: another record of the kind and tenant carries `number`.
            NumberingError: `number` is None and the tenant has no range for the kind.
            InvalidValueError: `number` is empty.
            UnknownRecordError, UnknownUserError: no such record or actor.
            ForeignActorError, AccessDeniedError: the actor may not edit the record.
        """
        _check_number(number)
        # Drawing from the range takes its tenant's turn, so the record's home is read first.
        turn = _numbers_turn((read := self.record(record)).tenant, read.kind) if number is None else None
        with self._writing(turn=turn) as tx:
            found = self._record(tx, record)
            self._home_actor(tx, actor, found, "number")
            given = number if number is not None else self._next_number(tx, found.tenant, found.kind)
            numbered = evolve(found, number=given)
            self._check_number_free(tx, numbered)
            tx.put_record(numbered)
            return numbered

    def _next_number(self, tx: Transaction, tenant: str, kind: str) -> str:
        numbers = _range(tx, tenant, kind)
        if numbers is None:
            raise NumberingError(
                f"Tenant {tenant!r} has no number range for {kind} records; configure one with set_number_range."
            )
        value = numbers.next
        while tx.numbered(tenant, kind, numbers.format(value)) is not None:
            value += 1
        tx.put_setting(tenant, _numbers_key(kind), unstructure(evolve(numbers, next=value + 1)))
        return numbers.format(value)

    def _check_number_free(self, tx: Transaction, record: Record) -> None:
        if record.number is None:
            return
        taken = tx.numbered(record.tenant, record.kind, record.number)
        if taken is not None and taken.ref != record.ref:
            raise DuplicateNumberError(
                f"The {taken} carries number {record.number!r} already; each {record.kind} of tenant "
                f"{record.tenant!r} needs its own number."
            )

    def _move(
        self, tx: Transaction, record: Record, target: str, acting: User | None, *, confirmed: bool, at: datetime
    ) -> Record | None:
        """Move a record to `target` by its lifecycle's transition, with the event; None if it is there already."""
        if record.status == target:
            return None
        lifecycle = _lifecycle(self.rulebook.policy(record.kind))
        way = lifecycle.transition(record.status, target)
        if way is None:
            onward = [t.target for t in lifecycle.transitions if t.source == record.status]
            raise TransitionError(
                f"The {record} cannot go from {record.status!r} to {target!r}; "
                f"from {record.status!r} it can go to: {', '.join(onward) or 'nowhere'}."
            )
        if way.confirm and not confirmed:
            raise ConfirmationError(
                f"Moving {record} from {record.status!r} to {target!r} must be confirmed; "
                "ask the user, then call again with confirmed=True."
            )
        moved = evolve(record, status=target)
        tx.put_record(moved)
        tx.append_events([StatusChanged(record.ref, record.status, target, record.tenant, _id(acting), at)])
        return moved

    def _refuses(self, record: Record, operation: str) -> bool:
        lifecycle = self.rulebook.policy(record.kind).lifecycle
        return lifecycle is not None and lifecycle.refuses(record.status, operation)

    def _check_status(self, record: Record, operation: str, doing: str) -> None:
        """Refuse what the record's status refuses: an inbox or archived contact takes no new holders (CT1)."""
        if self._refuses(record, operation):
            raise RestrictedStatusError(
                f"The {record} is in status {record.status!r} and cannot {doing}; move it to another status first."
            )

    def _home_actor(self, tx: Transaction, actor: UserLike | None, record: Record, doing: str) -> User | None:
        """The acting user, who must be of the record's home tenant and allowed to edit it; None for the host."""
        if actor is None:
            return None
        acting = self._actor(tx, actor)
        _check_home(record, acting, doing)
        self._check_allowed(tx, acting, "edit", record, doing=doing)
        return acting

    def _check_admin(self, tx: Transaction, actor: UserLike | None, tenant: str, doing: str) -> User | None:
        """The acting user, who must be an active admin of `tenant`; None for the host."""
        if actor is None:
            return None
        acting = self._actor(tx, actor)
        if acting.tenant != tenant or not acting.admin:
            raise AccessDeniedError(f"{acting.name} may not {doing}; only an admin of {tenant!r} may.")
        return acting

    # --- finding, segments, statistics (CT5, CT6, TL8, TL9) ----------------------------

    def find(
        self,
        viewer: UserLike,
        what: Segment | str,
        criteria: Criterion | None = None,
        *,
        limit: int = 100,
        after: str | None = None,
    ) -> Page:
        """Return the records that meet a segment or criteria and that `viewer` may see, by id, a page at a time (CT5).

        The criteria are resolved now (the groups a holder is in today) into a
        `Filter`, ANDed with the viewer's view rule, and run by the repository.

        Args:
            viewer: who is looking.
            what: a segment, or a record kind.
            criteria: what the records must meet (besides a segment's own criteria).
            limit: the most rows on one page.
            after: the `Page.cursor` of the previous page.

        Raises:
            UnknownUserError, UnknownKindError, UnknownRoleError: no such user, kind, or a role the criteria name.
            InvalidValueError: `limit` is below 1.
        """
        segment = _segment(what, criteria)
        if limit < 1:
            raise InvalidValueError(f"A page holds at least one row; limit={limit} asks for none.")
        policy = self.rulebook.policy(segment.kind)
        with self._repository.transaction() as tx:
            seeing = self._viewer(tx, viewer, segment.kind)
            where = self._where(tx, policy, seeing, "view", segment.criteria)
            return self._page(tx, segment.kind, where, seeing, limit=limit, after=after)

    def counts_by_holder(
        self, viewer: UserLike, kind: str, role: str, criteria: Criterion | None = None
    ) -> dict[Assignee | None, int]:
        """Return how many records of `kind` each holder of `role` holds, of those `viewer` may see (TL8).

        The key None counts the records no one holds the role of. Holders are
        read in the viewer's tenant's slots, so for a role not private to each
        tenant only the tenant's own records count.

        Raises:
            UnknownUserError, UnknownKindError, UnknownRoleError: no such user, kind or role.
        """
        policy = self.rulebook.policy(kind)
        wanted = policy.role(role)
        with self._repository.transaction() as tx:
            seeing = self._viewer(tx, viewer, kind)
            tenant = seeing.tenant
            where = all_of(
                self._where(tx, policy, seeing, "view", criteria or ANYTHING),
                EVERYTHING if wanted.private else HomeIs(tenant),
            )
            counts: dict[Assignee | None, int] = dict(
                sorted(tx.count_by_holder(kind, where, {wanted.name}, tenant).items())
            )
            nobody = tx.count(kind, all_of(where, negate(Held({wanted.name}, tenant))))
            if nobody:
                counts[None] = nobody
            return counts

    def counts_by_status(self, viewer: UserLike, kind: str, criteria: Criterion | None = None) -> dict[str | None, int]:
        """Return how many records of `kind` that `viewer` may see are in each status; None counts those without (CT1).

        Raises:
            UnknownUserError, UnknownKindError: no such user or kind.
        """
        policy = self.rulebook.policy(kind)
        with self._repository.transaction() as tx:
            seeing = self._viewer(tx, viewer, kind)
            where = self._where(tx, policy, seeing, "view", criteria or ANYTHING)
            counts = tx.count_by_status(kind, where)
            order = {name: n for n, name in enumerate(policy.lifecycle.names if policy.lifecycle else ())}
            return dict(sorted(counts.items(), key=lambda kv: (order.get(kv[0] or "", len(order)), kv[0] or "")))

    @_retried
    def save_segment(self, segment: Segment, *, actor: UserLike) -> Segment:
        """Save a segment for the actor's tenant: a filter kept as a dynamic group (CT5, TL9).

        A segment with the id of a saved one replaces it.

        Returns:
            The saved segment, with its id and tenant.

        Raises:
            UnknownKindError, UnknownRoleError: the kind, or a role its criteria name, is unknown.
            UnknownUserError, InactiveUserError: no such actor, or inactive.
            ForeignActorError: the segment names another tenant than the actor's.
        """
        policy = self.rulebook.policy(segment.kind)
        _check_reads(policy, segment.criteria)
        _check_saved(segment.criteria)
        with self._writing() as tx:
            acting = self._actor(tx, actor)
            if segment.tenant not in (None, acting.tenant):
                raise ForeignActorError(
                    f"Segment {segment.name!r} belongs to tenant {segment.tenant!r}; {acting.name} cannot save it."
                )
            saved = evolve(segment, id=segment.id or self._ids(), tenant=acting.tenant)
            tx.put_setting(acting.tenant, _segment_key(saved.id or ""), unstructure(saved))
            return saved

    def segments(self, tenant: Tenant | str, *, kind: str | None = None) -> tuple[Segment, ...]:
        """Return a tenant's saved segments, of one kind or all, by id.

        Raises:
            UnknownTenantError: no such tenant.
        """
        with self._repository.transaction() as tx:
            home = self._tenant(tx, tenant)
            saved = [structure(data, Segment) for data in tx.settings(home.id, _segment_key("")).values()]
            return tuple(s for s in saved if kind is None or s.kind == kind)

    def segment(self, tenant: Tenant | str, id: str) -> Segment:
        """Return a tenant's saved segment.

        Raises:
            UnknownTenantError, UnknownSegmentError: no such tenant, or no such segment of it.
        """
        with self._repository.transaction() as tx:
            home = self._tenant(tx, tenant)
            data = tx.setting(home.id, _segment_key(id))
            if data is None:
                raise UnknownSegmentError(f"Tenant {home.id!r} has no segment {id!r}; save it first.")
            return structure(data, Segment)

    @_retried
    def delete_segment(self, tenant: Tenant | str, id: str, *, actor: UserLike) -> None:
        """Remove a tenant's saved segment; its records are untouched.

        Raises:
            UnknownTenantError, UnknownSegmentError: no such tenant or segment.
            ForeignActorError: the actor is of another tenant.
        """
        with self._writing() as tx:
            home = self._tenant(tx, tenant)
            acting = self._actor(tx, actor)
            if acting.tenant != home.id:
                raise ForeignActorError(f"{acting.name} cannot delete the segments of tenant {home.id!r}.")
            if tx.setting(home.id, _segment_key(id)) is None:
                raise UnknownSegmentError(f"Tenant {home.id!r} has no segment {id!r}; there is nothing to delete.")
            tx.delete_setting(home.id, _segment_key(id))

    def _where(self, tx: Transaction, policy: Policy, seeing: Viewer, action: str, criteria: Criterion) -> Filter:
        """The filter of the records `seeing` may do `action` on that meet `criteria`, resolved now."""
        _check_reads(policy, criteria)
        scope = self._scope(tx, policy, seeing.tenant, seeing.available)
        return all_of(self._filter_for(seeing, policy.rule(action)), criteria.resolve(scope))

    def _scope(self, tx: Transaction, policy: Policy, tenant: str, available: Collection[str]) -> Scope:
        """What resolving criteria in `tenant` needs: the kind's roles it has, and who is in which group now."""
        moment = self._clock()
        return Scope(
            tenant,
            tuple((role.name, role.private) for role in policy.roles if role.name in available),
            lambda user: [m.group for m in tx.memberships_of_user(user) if m.live(moment)],
        )

    def _page(
        self, tx: Transaction, kind: str, where: Filter, seeing: Viewer, *, limit: int, after: str | None
    ) -> Page:
        """One page of the records of `kind` matching `where`, each with its holders as `seeing`'s tenant sees them."""
        found = tx.select(kind, where, limit=limit + 1, after=after)
        shown = found[:limit]
        held = tx.assignments_of([r.ref for r in shown])
        features: dict[str, frozenset[str]] = {}
        rows = tuple(Row(r, self._seen_assignments(tx, r, seeing.tenant, features, held.get(r.ref, ()))) for r in shown)
        return Page(rows, rows[-1].record.id if len(found) > limit else None)

    # --- bulk work (CT6, X3) -------------------------------------------------------------

    @_retried
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
        with self._writing() as tx:
            acting = self._actor(tx, actor)
            by_segment = isinstance(selection, Segment)
            private = isinstance(selection, Segment) and self.rulebook.policy(selection.kind).role(role).private
            records = self._selected(tx, selection, acting, "assign", home_only=not private)
            leaving = _as_assignee(replacing) if replacing is not None else None
            roles: dict[str, tuple[Role, Assignee]] = {}
            done = changed = 0
            at = self._clock()
            for chunk in _chunks(records, _step(len(records))):
                current = tx.assignments_of([r.ref for r in chunk])
                changes: list[_Change] = []
                for record in chunk:
                    if record.kind not in roles:
                        slot_role = self._available_role(
                            self.rulebook.policy(record.kind), role, tx, record, acting.tenant
                        )
                        home = self._tenant(tx, acting.tenant)
                        roles[record.kind] = (slot_role, self._assignee(tx, to, slot_role, record, home))
                    slot_role, new = roles[record.kind]
                    if _slot_tenant(slot_role, record, acting.tenant) != acting.tenant:
                        _check_home(record, acting, f"change the {role} of")
                    held = [
                        a.assignee for a in current.get(record.ref, ()) if a.role == role and a.tenant == acting.tenant
                    ]
                    moves = self._handover(record, slot_role, held, new, leaving, passing_over=by_segment)
                    changes += [_Change(kind, record.ref, slot_role, who, acting.tenant) for kind, who in moves]
                    changed += bool(moves)
                self._apply(tx, changes, actor=acting, at=at)
                done += len(chunk)
                _report(progress, done, len(records))
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
        if after < role.min:
            raise MandatoryRoleError(f"A {record.kind} must keep {role.min} {role.name}; {record} would keep {after}.")
        if role.max is not None and after > role.max:
            raise TooManyHoldersError(
                f"The {role.name} of {record} holds at most {role.max}; reassign without replacing=."
            )
        return [(Unassigned, a) for a in gone] + [(Assigned, a) for a in coming]

    @_retried
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
        with self._writing() as tx:
            acting = self._actor(tx, actor)
            records = self._selected(tx, selection, acting, "edit")
            at = self._clock()
            moved = 0
            for done, record in enumerate(records, 1):
                lifecycle = _lifecycle(self.rulebook.policy(record.kind))
                if lifecycle.archived is None:
                    raise TransitionError(f"A {record.kind} cannot be archived: its lifecycle has no archived status.")
                _check_home(record, acting, "archive")
                moved += self._move(tx, record, lifecycle.archived, acting, confirmed=confirmed, at=at) is not None
                _report(progress, done, len(records))
            return moved

    @_retried
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
        with self._writing() as tx:
            acting = self._actor(tx, actor)
            records = self._selected(tx, selection, acting, "edit")
            for done, record in enumerate(records, 1):
                _check_home(record, acting, "delete")
                collected = self.rulebook.policy(record.kind).collects
                if collected is not None:
                    for member in list(_all_selected(tx, collected, InGroup(record.id))):
                        tx.put_record(evolve(member, groups=member.groups - {record.id}))
                tx.delete_record(record.ref)
                _report(progress, done, len(records))
            return len(records)

    @_retried
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
            ForeignTenantError: a record's home is not the group's.
            AccessDeniedError: the actor may not edit the group, or a record picked by hand.
        """
        return self._regroup(group, selection, actor=actor, progress=progress, joining=True)

    @_retried
    def remove_from_group(
        self, group: RecordLike, selection: Selection, *, actor: UserLike, progress: Progress | None = None
    ) -> int:
        """Take every selected record out of a record group, in one unit of work (CT6).

        Returns:
            How many records left it; those not in it are passed over.

        Raises:
            RecordGroupError, ForeignTenantError, AccessDeniedError: as for `add_to_group`.
        """
        return self._regroup(group, selection, actor=actor, progress=progress, joining=False)

    def _regroup(
        self, group: RecordLike, selection: Selection, *, actor: UserLike, progress: Progress | None, joining: bool
    ) -> int:
        with self._writing() as tx:
            found = self._record(tx, group)
            acting = self._actor(tx, actor)
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
                _report(progress, done, len(records))
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
            return list(_all_selected(tx, selection.kind, where, page=10 * _CHUNK))
        refs = list(dict.fromkeys(_picked(selection)))
        tests: dict[str, Test] = {}
        records = []
        for chunk in _chunks(refs):
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

    # --- auto-assignment (X4) ----------------------------------------------------------

    @_retried
    def set_auto_assign(
        self, tenant: Tenant | str, kind: str, rules: Iterable[Rule], *, actor: UserLike | None = None
    ) -> AutoAssignment:
        """Set the rules that pick holders of the tenant's new records of `kind`, in the order they apply (X4).

        An empty list switches auto-assignment off. Turns taken so far are kept.

        Raises:
            UnknownTenantError, UnknownKindError, UnknownRoleError, UnknownGroupError: a name is unknown.
            AssigneeKindError: a rule gives a role to what it does not take.
            ForeignTenantError: a rule's group belongs to another tenant.
            AccessDeniedError: the actor is not an admin of the tenant.
        """
        policy = self.rulebook.policy(kind)
        wanted = AutoAssignment(kind, tuple(rules))
        with self._writing() as tx:
            home = self._tenant(tx, tenant)
            self._check_admin(tx, actor, home.id, "set auto-assignment rules")
            for rule in wanted.rules:
                pick = picking(rule)
                if isinstance(rule, Territory):
                    _check_territory(rule.criteria)
                    _check_saved(rule.criteria)
                role = policy.role(pick.role)
                group = self._group(tx, pick.group)
                if group.tenant != home.id:
                    raise ForeignTenantError(
                        f"Group {group.name!r} belongs to tenant {group.tenant!r}, not {home.id!r}."
                    )
                takes = role.takes(Assignee.group(group.id), group) if isinstance(pick, ToGroup) else role.users
                if not takes:
                    what = f"the {group.kind.value} group {group.name!r}" if isinstance(pick, ToGroup) else "users"
                    raise AssigneeKindError(f"The {role.name} of a {kind} takes {role.describe_takes()}, not {what}.")
            tx.put_setting(home.id, _rules_key(kind), unstructure(wanted))
            return wanted

    def auto_assign_rules(self, tenant: Tenant | str, kind: str) -> AutoAssignment:
        """Return the tenant's auto-assignment rules for `kind` (none if never set).

        Raises:
            UnknownTenantError: no such tenant.
        """
        self.rulebook.policy(kind)
        with self._repository.transaction() as tx:
            return self._rules(tx, self._tenant(tx, tenant).id, kind)

    @staticmethod
    def _rules(tx: Transaction, tenant: str, kind: str) -> AutoAssignment:
        data = tx.setting(tenant, _rules_key(kind))
        return structure(data, AutoAssignment) if data is not None else AutoAssignment(kind)

    def _auto_assigned(
        self,
        tx: Transaction,
        *,
        policy: Policy,
        record: Record,
        home: Tenant,
        features: frozenset[str],
        wanted: dict[str, list[AssigneeLike]],
    ) -> None:
        """Fill the roles `wanted` leaves empty by the tenant's rules for the kind, first rule first (X4)."""
        available = {role.name for role in policy.roles if _has(role, features)}
        scope = self._scope(tx, policy, home.id, available)
        for rule in self._rules(tx, home.id, policy.kind).rules:
            if rule.role in wanted or not _has(policy.role(rule.role), features):
                continue
            if isinstance(rule, Territory) and not matches(rule.criteria.resolve(scope), record, ()):
                continue
            chosen = self._pick(tx, picking(rule), policy.kind, home.id)
            if chosen is not None:
                wanted[rule.role] = [chosen]

    def _pick(self, tx: Transaction, rule: Pick, kind: str, tenant: str) -> Assignee | None:
        """The holder a rule picks now, moving its turn on; None if its group has no active live member."""
        if isinstance(rule, ToGroup):
            return Assignee.group(rule.group)
        members = sorted(user.id for user in self._users_of(tx, [Assignee.group(rule.group)], self._clock()))
        if not members:
            return None
        if isinstance(rule, RoundRobin):
            key = _turn_key(kind, rule.role, rule.group)
            last = tx.setting(tenant, key)
            chosen = next((m for m in members if last is None or m > last), members[0])
            tx.put_setting(tenant, key, chosen)
            return Assignee.user(chosen)
        load = tx.count_by_holder(kind, HomeIs(tenant), {rule.role}, tenant)
        return Assignee.user(min(members, key=lambda m: (load.get(Assignee.user(m), 0), m)))

    # --- notifications --------------------------------------------------------------

    @_retried
    def record_activity(self, record: RecordLike, activity: str, *, actor: UserLike | None) -> tuple[Notification, ...]:
        """Record that something happened to a record, and notify who must hear of it (TL3, TL8, LD8, CT3).

        The recipients are the holders of the roles that hear of the activity
        (by default, every role marked notified), in every tenant's slot: users
        directly and the live members of held groups, never *everyone*, each
        once, active, and not the actor. The notifications are written to the
        outbox in the same unit of work as the activity; `dispatch` delivers them.

        Args:
            record: the record it happened to.
            activity: the activity's name; the policy must know it, unless it takes any.
            actor: who did it, or None for the host (a customer's reply, a mechanism).

        Returns:
            The notifications written to the outbox.

        Raises:
            UnknownRecordError, UnknownUserError: no such record or actor.
            UnknownActivityError: the kind's policy knows no such activity.
            ForeignActorError: the actor's tenant has no part in the record.
            InactiveUserError: the actor is inactive.
        """
        with self._writing() as tx:
            found = self._record(tx, record)
            policy = self.rulebook.policy(found.kind)
            kind = policy.activity(activity)
            self._check_status(found, NOTIFY, "have activities recorded")
            acting = self._actor(tx, actor) if actor is not None else None
            if acting is not None and acting.tenant not in found.tenants:
                raise ForeignActorError(
                    f"{found} is not shared with tenant {acting.tenant!r}; {acting.name} cannot act on it."
                )
            at = self._clock()
            [position] = tx.append_events(
                [ActivityRecorded(found.ref, kind.name, acting.tenant if acting else found.tenant, _id(acting), at)]
            )
            hearing = {role.name for role in policy.hears(kind)}
            slots = {a.tenant: self.rulebook.features(self._tenant(tx, a.tenant)) for a in tx.assignments(found.ref)}
            held = [
                a.assignee
                for a in tx.assignments(found.ref)
                if a.role in hearing and _has(policy.role(a.role), slots[a.tenant])
            ]
            return self._notify(
                tx, found.ref, kind.name, self._users_of(tx, held, at), actor=acting, at=at, position=position
            )

    def dispatch(self, notifier: Notifier | None = None, *, limit: int = 100) -> Dispatched:
        """Deliver up to `limit` pending notifications, oldest first, to the notifier (X7).

        Delivery is at least once: what the notifier refuses, or everything in
        a batch it raises on, stays pending with one more attempt counted, for
        the next call. A key it acknowledged is never handed to it again.

        Args:
            notifier: where to deliver; the one given to `Ownership` if None.
            limit: the most notifications in this batch.

        Returns:
            The keys delivered, and the keys left pending.

        Raises:
            InvalidValueError: no notifier was given here or to `Ownership`, or `limit` is below 1.
        """
        target = notifier if notifier is not None else self._notifier
        if target is None:
            raise InvalidValueError("There is no notifier to deliver to; pass one to dispatch() or to Ownership().")
        if limit < 1:
            raise InvalidValueError(f"A batch holds at least one notification; limit={limit} asks for none.")
        with self._repository.transaction() as tx:
            batch = [entry.notification for entry in tx.outbox(pending=True, limit=limit)]
        if not batch:
            return Dispatched((), ())
        keys = [n.key for n in batch]
        try:
            refused = set(target.deliver(batch) or ())
        except Exception:
            refused = set(keys)
        delivered = tuple(k for k in keys if k not in refused)
        failed = tuple(k for k in keys if k in refused)
        with self._repository.transaction() as tx:
            tx.settle(delivered, failed)
        return Dispatched(delivered, failed)

    def outbox(self, *, pending: bool = False) -> tuple[OutboxEntry, ...]:
        """Return the outbox in the order it was filled: every entry, or only those still pending."""
        with self._repository.transaction() as tx:
            return tuple(tx.outbox(pending=pending))

    def _users_of(self, tx: Transaction, assignees: Iterable[Assignee], at: datetime) -> list[User]:
        """The active users the assignees stand for: users themselves, live members of groups; never everyone."""
        users: dict[str, User] = {}
        for assignee in assignees:
            if assignee.kind is AssigneeKind.USER:
                ids = [assignee.id]
            elif assignee.kind is AssigneeKind.GROUP:
                ids = [m.user for m in tx.memberships_of_group(assignee.id) if m.live(at)]
            else:
                ids = []
            for user_id in ids:
                user = tx.user(user_id)
                if user is not None and user.active:
                    users.setdefault(user.id, user)
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
        """Write one notification per recipient but the actor, keyed by the event's place in the history."""
        written = []
        for user in recipients:
            if actor is not None and user.id == actor.id:
                continue
            notification = Notification(
                key=_key(record.kind, record.id, str(position), user.id),
                recipient=user.id,
                record=record,
                activity=activity,
                actor=actor.id if actor is not None and actor.tenant == user.tenant else None,
                at=at,
                channel=Channel.PUSH if user.profile.push else Channel.IN_APP,
            )
            tx.enqueue(notification)
            written.append(notification)
        return tuple(written)

    # --- reads -------------------------------------------------------------------

    def holders(self, record: RecordLike, role: str, *, viewer: UserLike | None = None) -> tuple[Assignee, ...]:
        """Return a role's holders, oldest first, as the viewer's tenant sees them (LD4, LD7).

        Args:
            record: the record.
            role: the role's name.
            viewer: whose tenant's view to take; the home tenant's if None.

        Raises:
            UnknownRecordError, UnknownRoleError: no such record or role.
            FeatureDisabledError: the role's slot's tenant (the home tenant's, or the viewer's for a
                private role) lacks the role's feature.
            ForeignActorError: the viewer's tenant has no part in the record.
        """
        with self._repository.transaction() as tx:
            found, tenant = self._view(tx, record, viewer)
            wanted = self._available_role(self.rulebook.policy(found.kind), role, tx, found, tenant)
            return tuple(self._held(tx, found, wanted, _slot_tenant(wanted, found, tenant)))

    def assignments(self, record: RecordLike, *, viewer: UserLike | None = None) -> tuple[Assignment, ...]:
        """Return every current assignment of a record the viewer's tenant may see, oldest first.

        Each role shows one slot: the home tenant's, or for a private role the
        viewer's own tenant's (LD7); a role whose feature that slot's tenant
        lacks is left out, as `holders` refuses it.

        Raises:
            UnknownRecordError: no such record.
            ForeignActorError: the viewer's tenant has no part in the record.
        """
        with self._repository.transaction() as tx:
            found, tenant = self._view(tx, record, viewer)
            return self._seen_assignments(tx, found, tenant)

    def history(self, record: RecordLike, *, viewer: UserLike | None = None) -> tuple[Event, ...]:
        """Return a record's events, oldest first, as the viewer's tenant may read them (X2, LD7).

        Other tenants' private events are left out, and where another tenant's
        user acted, the event's `actor` reads None: a company learns what
        happened to a shared record, never which of the other's colleagues did it.

        Raises:
            UnknownRecordError: no such record.
            ForeignActorError: the viewer's tenant has no part in the record.
        """
        with self._repository.transaction() as tx:
            found, tenant = self._view(tx, record, viewer)
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
        self, record: RecordLike, role: str, at: datetime, *, viewer: UserLike | None = None
    ) -> tuple[Assignee, ...]:
        """Return who held a role at the moment `at`, oldest first, replayed from the history (X2).

        Raises:
            UnknownRecordError, UnknownRoleError: no such record or role.
            ForeignActorError: the viewer's tenant has no part in the record.
        """
        found = self.record(record)
        wanted = self.rulebook.policy(found.kind).role(role)
        held: list[Assignee] = []
        for event in self.history(found, viewer=viewer):
            if event.at > at:
                break
            if isinstance(event, Assigned | Unassigned) and event.role == wanted.name:
                if isinstance(event, Assigned):
                    held.append(event.assignee)
                else:
                    held.remove(event.assignee)
        return tuple(held)

    # --- access ------------------------------------------------------------------

    def can(self, viewer: UserLike, action: str, record: RecordLike) -> bool:
        """Return whether `viewer` may do `action` (view, edit, assign) on `record`.

        Only active users of a tenant taking part in the record may do
        anything; the kind's rule for the action decides the rest. The answer
        agrees with `explain` and with `visible`, which use the same rule.

        Raises:
            UnknownUserError, UnknownRecordError: no such user or record.
            RulebookError: `action` is not one of view, edit, assign.
        """
        with self._repository.transaction() as tx:
            found, rule, seeing, held = self._question(tx, viewer, action, record)
            return self._allowed(seeing, action, rule, found, held)

    def explain(self, viewer: UserLike, action: str, record: RecordLike) -> Decision:
        """Return whether `viewer` may do `action` on `record`, with every leaf of the rule and whether it matched (X1).

        Raises:
            UnknownUserError, UnknownRecordError: no such user or record.
            RulebookError: `action` is not one of view, edit, assign.
        """
        with self._repository.transaction() as tx:
            found, rule, seeing, held = self._question(tx, viewer, action, record)
            allowed, reasons = (GATE & rule).explain(seeing, Facts(found, held))
            return Decision(allowed, str(rule), reasons)

    def _question(
        self, tx: Transaction, viewer: UserLike, action: str, record: RecordLike
    ) -> tuple[Record, Predicate, Viewer, Sequence[Assignment]]:
        """Read what deciding `action` on `record` for `viewer` takes: the record, the rule, the viewer, the holders."""
        found = self._record(tx, record)
        rule = self.rulebook.policy(found.kind).rule(action)
        return found, rule, self._viewer(tx, viewer, found.kind), tx.assignments(found.ref)

    def _allowed(
        self, seeing: Viewer, action: str, rule: Predicate, record: Record, held: Sequence[Assignment]
    ) -> bool:
        """Decide one record: gated on an active viewer of a tenant taking part, then the rule."""
        if self._versioned is not None:
            # The viewer is reused until the repository changes: so is the rule compiled for them.
            resolved = self._viewers.get((seeing.user.id, record.kind))
            if resolved is not None and resolved.viewer is seeing:
                test = resolved.tests.get(action)
                if test is None:
                    test = resolved.tests[action] = compiled(self._filter_for(seeing, rule))
                return test(record, held)
        return (GATE & rule).decide(seeing, Facts(record, held))

    def visible(
        self, viewer: UserLike, kind: str, *, action: str = "view", limit: int = 100, after: str | None = None
    ) -> Page:
        """Return the records of `kind` that `viewer` may do `action` on, by id, a page at a time (X6).

        The kind's rule is compiled for this viewer into a `Filter` that the
        repository runs through its indexes; no record is checked one by one
        in Python unless the repository chooses to. Each row carries the
        record's assignments as the viewer's tenant sees them (LD4, LD7).

        Args:
            viewer: who is listing.
            kind: the record kind.
            action: view (the default), edit or assign.
            limit: the most rows on one page.
            after: the `Page.cursor` of the previous page, to go on from there.

        Raises:
            UnknownUserError, UnknownKindError: no such user or kind.
            RulebookError: `action` is not one of view, edit, assign.
            InvalidValueError: `limit` is below 1.
        """
        if limit < 1:
            raise InvalidValueError(f"A page holds at least one row; limit={limit} asks for none.")
        rule = self.rulebook.policy(kind).rule(action)
        with self._repository.transaction() as tx:
            seeing = self._viewer(tx, viewer, kind)
            return self._page(tx, kind, self._filter_for(seeing, rule), seeing, limit=limit, after=after)

    def checker(self, viewer: UserLike, action: str, kind: str) -> Test:
        """Return a prepared checker: `action` on records of `kind`, for one viewer, resolved once.

        The checker is a plain function of a record and its current
        assignments; it answers as `can` would, without reading the
        repository. It sees the viewer as they are now: prepare a new one
        after their groups, profile or tenant change.

        Raises:
            UnknownUserError, UnknownKindError: no such user or kind.
            RulebookError: `action` is not one of view, edit, assign.
        """
        return compiled(self.filter(viewer, action, kind))

    def filter(self, viewer: UserLike, action: str, kind: str) -> Filter:
        """Return the `Filter` of the records of `kind` that `viewer` may do `action` on (X6).

        Viewer facts are resolved already: an admin's filter asks only that
        the record be in or shared with their tenant; group tests are sets of
        ids. A repository runs it (`visible` does), and a host can compile it
        into its own query over its own tables.

        Raises:
            UnknownUserError, UnknownKindError: no such user or kind.
            RulebookError: `action` is not one of view, edit, assign.
        """
        rule = self.rulebook.policy(kind).rule(action)
        with self._repository.transaction() as tx:
            return self._filter_for(self._viewer(tx, viewer, kind), rule)

    @staticmethod
    def _filter_for(viewer: Viewer, rule: Predicate) -> Filter:
        return (GATE & rule).compile(viewer)

    def _viewer(self, tx: Transaction, user: UserLike, kind: str) -> Viewer:
        """Resolve what the rules need of a user; reused while the repository is unchanged and no membership expires."""
        moment = self._clock()
        key = (user.id if isinstance(user, User) else user, kind)
        if self._versioned is not None:
            generation = self._versioned.generation
            if generation != self._viewers_generation:
                self._viewers.clear()
                self._viewers_generation = generation
            cached = self._viewers.get(key)
            if cached is not None and (cached.until is None or moment < cached.until):
                return cached.viewer
        found = self._user(tx, user)
        features = self.rulebook.features(self._tenant(tx, found.tenant))
        live = [m for m in tx.memberships_of_user(found.id) if m.live(moment)]
        viewer = Viewer(
            found,
            frozenset(m.group for m in live),
            frozenset(role.name for role in self.rulebook.policy(kind).roles if _has(role, features)),
        )
        if self._versioned is not None:
            # Replacing the entry drops the rules compiled for the viewer it held.
            self._viewers[key] = _Resolved(viewer, min((m.until for m in live if m.until is not None), default=None))
        return viewer

    def _seen_assignments(
        self,
        tx: Transaction,
        record: Record,
        tenant: str,
        features: dict[str, frozenset[str]] | None = None,
        held: Sequence[Assignment] | None = None,
    ) -> tuple[Assignment, ...]:
        """A record's assignments as `tenant` sees them: each role's own slot, if the slot's tenant has the role.

        `features` remembers each tenant's features across the rows of one page; `held` is the record's
        assignments, when they were read already.
        """
        features = {} if features is None else features
        for t in (tenant, record.tenant):
            if t not in features:
                features[t] = self.rulebook.features(self._tenant(tx, t))
        slots = {
            role.name: slot
            for role in self.rulebook.policy(record.kind).roles
            if _has(role, features[slot := _slot_tenant(role, record, tenant)])
        }
        # An assignment another tenant's user made reads with no actor, as in `history` (LD7).
        return tuple(
            a if a.actor is None or a.tenant == tenant else evolve(a, actor=None)
            for a in (tx.assignments(record.ref) if held is None else held)
            if slots.get(a.role) == a.tenant
        )

    def audit(self, tenant: Tenant | str) -> tuple[Finding, ...]:
        """Return what a careful admin of `tenant` must fix, by kind of finding and subject.

        The findings: records of the tenant no active non-admin may view (CG2);
        mandatory roles held by inactive users (X3); active users in no
        caretaker group, where the rulebook has caretaker groups, admins aside (CG3); groups
        no one is linked to (CG4); deputies whose cover has expired (X5).

        Raises:
            UnknownTenantError: no such tenant.
        """
        moment = self._clock()
        with self._repository.transaction() as tx:
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
            return tuple(sorted(findings))

    def _unseen(self, tx: Transaction, home: Tenant, users: Sequence[User], records: Sequence[Record]) -> list[Finding]:
        """Records of `home` that no active non-admin of it may view, found by listing, not by checking each."""
        seers = [u for u in users if u.active and not u.admin]
        found = []
        for kind in sorted({r.kind for r in records}):
            rule = self.rulebook.policy(kind).rule("view")
            seen: set[str] = set()
            for user in seers:
                where = self._filter_for(self._viewer(tx, user, kind), rule)
                seen.update(r.id for r in _all_selected(tx, kind, where))
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

    def tenant(self, id: str) -> Tenant:
        """Return the tenant with this id.

        Raises:
            UnknownTenantError: no such tenant.
        """
        with self._repository.transaction() as tx:
            return self._tenant(tx, id)

    def user(self, id: str) -> User:
        """Return the user with this id.

        Raises:
            UnknownUserError: no such user.
        """
        with self._repository.transaction() as tx:
            return self._user(tx, id)

    def group(self, id: str) -> Group:
        """Return the group with this id.

        Raises:
            UnknownGroupError: no such group.
        """
        with self._repository.transaction() as tx:
            return self._group(tx, id)

    def record(self, record: RecordLike | str, id: str | None = None) -> Record:
        """Return a tracked record: ``record(ref)``, ``record(record)`` or ``record(kind, id)``.

        Raises:
            UnknownRecordError: no such record.
        """
        ref = RecordRef(record, id) if isinstance(record, str) and id is not None else record
        if isinstance(ref, str):
            raise UnknownRecordError(f"Name a record by its kind and id, as record({ref!r}, '<id>').")
        with self._repository.transaction() as tx:
            return self._record(tx, ref)

    def members(self, group: GroupLike, *, at: datetime | None = None) -> tuple[User, ...]:
        """Return the users whose membership of the group counts at `at` (now if None), by id.

        Raises:
            UnknownGroupError: no such group.
        """
        moment = at or self._clock()
        with self._repository.transaction() as tx:
            found = self._group(tx, group)
            return tuple(self._user(tx, m.user) for m in tx.memberships_of_group(found.id) if m.live(moment))

    def groups_of(self, user: UserLike, *, at: datetime | None = None) -> tuple[Group, ...]:
        """Return the groups a user's memberships link them to at `at` (now if None), by id.

        Raises:
            UnknownUserError: no such user.
        """
        moment = at or self._clock()
        with self._repository.transaction() as tx:
            found = self._user(tx, user)
            return tuple(self._group(tx, m.group) for m in tx.memberships_of_user(found.id) if m.live(moment))

    def personal_group(self, user: UserLike) -> Group | None:
        """Return the caretaker group made for the user with them (CG3), or None.

        Raises:
            UnknownUserError: no such user.
        """
        with self._repository.transaction() as tx:
            found = self._user(tx, user)
            return next((g for g in tx.groups(found.tenant) if g.personal_of == found.id), None)

    def tenants(self) -> tuple[Tenant, ...]:
        """Return every tenant, by id."""
        with self._repository.transaction() as tx:
            return tuple(tx.tenants())

    def users(self, tenant: Tenant | str) -> tuple[User, ...]:
        """Return a tenant's users, by id.

        Raises:
            UnknownTenantError: no such tenant.
        """
        with self._repository.transaction() as tx:
            return tuple(tx.users(self._tenant(tx, tenant).id))

    def groups(self, tenant: Tenant | str) -> tuple[Group, ...]:
        """Return a tenant's groups, by id.

        Raises:
            UnknownTenantError: no such tenant.
        """
        with self._repository.transaction() as tx:
            return tuple(tx.groups(self._tenant(tx, tenant).id))

    def snapshot(self) -> Snapshot:
        """Return everything the repository holds, in a stable order, read in one unit of work."""
        with self._repository.transaction() as tx:
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
            )

    @_retried
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
            InvalidValueError: something in the snapshot refers to a tenant, user, group or record it does not hold.
        """
        _check_whole(snapshot)
        with self._writing() as tx:
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
                _report(progress, done, len(snapshot.records))
            _restore_outbox(tx, snapshot.outbox)
            for setting in snapshot.settings:
                tx.put_setting(setting.tenant, setting.key, setting.value)

    # --- the rules, shared by the use cases ----------------------------------------

    def _check_plan(self, tenant: Tenant) -> None:
        if tenant.plan is not None and self.rulebook.plan(tenant.plan) is None:
            known = ", ".join(p.name for p in self.rulebook.plans) or "none"
            raise UnknownPlanError(f"The rulebook has no plan {tenant.plan!r}; its plans are: {known}.")

    def _fresh_group_id(self, tx: Transaction) -> str:
        group_id = self._ids()
        while tx.group(group_id) is not None:
            group_id = self._ids()
        return group_id

    def _tenant(self, tx: Transaction, tenant: Tenant | str) -> Tenant:
        tenant_id = tenant.id if isinstance(tenant, Tenant) else tenant
        found = tx.tenant(tenant_id)
        if found is None:
            raise UnknownTenantError(f"There is no tenant {tenant_id!r}; add it with add_tenant first.")
        return found

    def _user(self, tx: Transaction, user: UserLike) -> User:
        user_id = user.id if isinstance(user, User) else user
        found = tx.user(user_id)
        if found is None:
            raise UnknownUserError(f"There is no user {user_id!r}; add them with add_user first.")
        return found

    def _group(self, tx: Transaction, group: GroupLike) -> Group:
        group_id = group.id if isinstance(group, Group) else group
        found = tx.group(group_id)
        if found is None:
            raise UnknownGroupError(f"There is no group {group_id!r}; add it with add_group first.")
        return found

    def _record(self, tx: Transaction, record: RecordLike) -> Record:
        ref = record.ref if isinstance(record, Record) else record
        found = tx.record(ref)
        if found is None:
            raise UnknownRecordError(f"No {ref.kind} with id {ref.id!r} is tracked; create it first.")
        return found

    def _actor(self, tx: Transaction, actor: UserLike) -> User:
        acting = self._user(tx, actor)
        self._check_active(acting, "act")
        return acting

    @staticmethod
    def _check_active(user: User, doing: str) -> None:
        if not user.active:
            raise InactiveUserError(f"{user.name} ({user.id}) is inactive and cannot {doing}.")

    def _view(self, tx: Transaction, record: RecordLike, viewer: UserLike | None) -> tuple[Record, str]:
        found = self._record(tx, record)
        if viewer is None:
            return found, found.tenant
        seeing = self._user(tx, viewer)
        if seeing.tenant not in found.tenants:
            raise ForeignActorError(
                f"{found} is not shared with tenant {seeing.tenant!r}; {seeing.name} cannot see it."
            )
        return found, seeing.tenant

    def _available_role(self, policy: Policy, name: str, tx: Transaction, record: Record, tenant: str) -> Role:
        role = policy.role(name)
        slot = self._tenant(tx, _slot_tenant(role, record, tenant))
        _check_feature(policy, role, slot.id, self.rulebook.features(slot))
        return role

    def _slot(
        self, tx: Transaction, record: RecordLike, role: str, actor: UserLike
    ) -> tuple[Record, Role, Tenant, User]:
        """Resolve what a change of holders works on: the record, the role, whose slot, and who acts."""
        found = self._record(tx, record)
        acting = self._actor(tx, actor)
        if acting.tenant not in found.tenants:
            raise ForeignActorError(
                f"{found} is not shared with tenant {acting.tenant!r}; {acting.name} cannot change its holders."
            )
        policy = self.rulebook.policy(found.kind)
        self._check_allowed(tx, acting, "assign", found, doing="change who holds")
        slot_role = self._available_role(policy, role, tx, found, acting.tenant)
        slot = self._tenant(tx, _slot_tenant(slot_role, found, acting.tenant))
        if slot.id != acting.tenant:
            raise ForeignActorError(
                f"Only tenant {slot.id!r} changes the {role} of {found}; {acting.name} of {acting.tenant!r} cannot."
            )
        return found, slot_role, slot, acting

    def _check_allowed(self, tx: Transaction, acting: User, action: str, record: Record, *, doing: str) -> None:
        rule = self.rulebook.policy(record.kind).rule(action)
        if not self._allowed(self._viewer(tx, acting, record.kind), action, rule, record, tx.assignments(record.ref)):
            raise AccessDeniedError(
                f"{acting.name} may not {doing} {record}: the rule to {action} a {record.kind} is {rule}."
            )

    @staticmethod
    def _held_group(tx: Transaction, assignee: Assignee) -> Group | None:
        return tx.group(assignee.id) if assignee.kind is AssigneeKind.GROUP else None

    def _held(self, tx: Transaction, record: Record, role: Role, slot: str) -> list[Assignee]:
        return [a.assignee for a in tx.assignments(record.ref) if a.role == role.name and a.tenant == slot]

    def _assignee(self, tx: Transaction, given: AssigneeLike, role: Role, record: Record, slot: Tenant) -> Assignee:
        """Check that `given` may hold `role` in `slot`'s part of the record, and return it as an Assignee."""
        assignee = _as_assignee(given)
        group = None
        if assignee.kind is AssigneeKind.USER:
            user = self._user(tx, assignee.id)
            if user.tenant != slot.id:
                raise ForeignTenantError(
                    f"{user.name} belongs to tenant {user.tenant!r}; the {role.name} of {record} "
                    f"must be of tenant {slot.id!r}."
                )
            self._check_active(user, "be assigned")
        elif assignee.kind is AssigneeKind.GROUP:
            group = self._group(tx, assignee.id)
            if group.tenant != slot.id:
                raise ForeignTenantError(
                    f"Group {group.name!r} belongs to tenant {group.tenant!r}; the {role.name} of {record} "
                    f"must be of tenant {slot.id!r}."
                )
        if not role.takes(assignee, group):
            what = f"a {group.kind.value} group" if group is not None else _WHAT[assignee.kind]
            raise AssigneeKindError(f"The {role.name} of a {record.kind} takes {role.describe_takes()}, not {what}.")
        return assignee

    def _resolve(
        self, policy: Policy, wanted: Mapping[str, list[AssigneeLike]], features: frozenset[str], tenant: Tenant
    ) -> list[tuple[Role, list[AssigneeLike]]]:
        resolved = []
        for name, given in wanted.items():
            role = policy.role(name)
            _check_feature(policy, role, tenant.id, features)
            resolved.append((role, given))
        return resolved

    @staticmethod
    def _triggered(policy: Policy, trigger: Trigger, features: frozenset[str]) -> list[Role]:
        return [
            role for auto in policy.auto_assign if auto.on is trigger and _has(role := policy.role(auto.role), features)
        ]

    @staticmethod
    def _check_counts(
        policy: Policy,
        record: Record,
        planned: Sequence[tuple[Role, Assignee]],
        features: frozenset[str],
        tenant: str,
        *,
        private_only: bool = False,
    ) -> None:
        """Refuse a new slot whose planned holders break a role's min or max, or name one twice."""
        for role in policy.roles:
            if not _has(role, features) or (private_only and not role.private):
                continue
            mine = [assignee for r, assignee in planned if r is role]
            if len(set(mine)) != len(mine):
                raise TooManyHoldersError(f"The {role.name} of {record} names the same assignee twice.")
            if role.max is not None and len(mine) > role.max:
                raise TooManyHoldersError(f"The {role.name} of a {record.kind} holds at most {role.max}.")
            if len(mine) < role.min:
                raise MandatoryRoleError(
                    f"A {record.kind} needs {role.min} {role.name} in tenant {tenant!r}; name "
                    f"{'one' if role.min == 1 else 'them'} in holders=..., or create it as a user who can hold it."
                )

    def _write(
        self,
        tx: Transaction,
        change: type[Assigned | Unassigned],
        record: Record,
        role: Role,
        assignee: Assignee,
        *,
        slot: str,
        actor: User | None,
        at: datetime,
    ) -> None:
        """Write one change of holders and the event that records it."""
        self._apply(tx, [_Change(change, record.ref, role, assignee, slot)], actor=actor, at=at)

    def _apply(self, tx: Transaction, changes: Sequence["_Change"], *, actor: User | None, at: datetime) -> None:
        """Write changes of holders, the events that record them, and who must hear of them, a kind of write at a time.

        Every removal comes before every addition, so a slot handed from one
        assignee to another never holds both, and a repository can write
        each kind of row in one batch.
        """
        by = _id(actor)
        assignments = [Assignment(c.record, c.role.name, c.assignee, c.slot, at, by) for c in changes]
        for change, assignment in zip(changes, assignments, strict=True):
            if change.kind is Unassigned:
                tx.remove_assignment(assignment)
        for change, assignment in zip(changes, assignments, strict=True):
            if change.kind is Assigned:
                tx.add_assignment(assignment)
        positions = tx.append_events(
            [
                c.kind(c.record, c.role.name, c.assignee, c.slot, by, at, c.slot if c.role.private else None)
                for c in changes
            ]
        )
        recipients: dict[Assignee, list[User]] = {}
        features: dict[str, frozenset[str]] = {}
        for change, position in zip(changes, positions, strict=True):
            policy = self.rulebook.policy(change.record.kind)
            if change.kind is Assigned and change.role.notified and policy.knows(ASSIGNED):
                if change.slot not in features:
                    features[change.slot] = self.rulebook.features(self._tenant(tx, change.slot))
                if not _has(change.role, features[change.slot]):
                    continue  # a role switched off is moved (by `transfer`) unseen, and unheard of
                # LD8: whoever a notified role is given to hears of it, unless they gave it to themselves;
                # a kind that lists its activities hears of assignments only if it lists them (TL8).
                if change.assignee not in recipients:
                    recipients[change.assignee] = self._users_of(tx, [change.assignee], at)
                self._notify(
                    tx, change.record, ASSIGNED, recipients[change.assignee], actor=actor, at=at, position=position
                )


@frozen
class _Change:
    """One change of holders to write: an assignee begins or stops holding a role of a record in a slot."""

    kind: type[Assigned | Unassigned]
    record: RecordRef
    role: Role
    assignee: Assignee
    slot: str


_WHAT = {AssigneeKind.USER: "a user", AssigneeKind.EVERYONE: "everyone", AssigneeKind.GROUP: "a group"}


def _key(*parts: str) -> str:
    """A notification's key: its parts joined by ``/``, each quoted so no two sets of parts give one key."""
    return "/".join(quote(part, safe="") for part in parts)


_CHUNK = 1_000  # records a bulk action prepares and writes at a time, reporting progress after each


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _step(total: int) -> int:
    """How many records a bulk action does between two progress reports: about a hundred reports, at most a chunk."""
    return max(1, min(_CHUNK, total // 100))


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and (done % _step(total) == 0 or done == total):
        progress(done, total)


def _check_whole(snapshot: Snapshot) -> None:
    """Refuse a snapshot no repository could have given (a file edited by hand, or put together from two).

    It must hold everything it refers to, hold nothing twice, and link no
    tenant's user, group or record to another tenant's.
    """
    for problem in (*_missing(snapshot), *_repeated(snapshot), *_crossing(snapshot)):
        raise InvalidValueError(f"The snapshot {problem}; export the whole state again.")


def _missing(snapshot: Snapshot) -> Iterator[str]:
    tenants = {t.id for t in snapshot.tenants}
    users = {u.id for u in snapshot.users}
    groups = {g.id for g in snapshot.groups}
    records = {r.ref for r in snapshot.records}
    record_ids = {r.id for r in snapshot.records}
    notified = [entry.notification for entry in snapshot.outbox]
    changes = (*snapshot.assignments, *snapshot.events)
    named = (
        *((f"tenant {u.tenant!r} of user {u.id!r}", u.tenant in tenants) for u in snapshot.users),
        *((f"tenant {g.tenant!r} of group {g.id!r}", g.tenant in tenants) for g in snapshot.groups),
        *(
            (f"user {g.personal_of!r} of group {g.id!r}", g.personal_of in users)
            for g in snapshot.groups
            if g.personal_of
        ),
        *((f"tenant {t!r} of {r}", t in tenants) for r in snapshot.records for t in sorted(r.tenants | r.offered_to)),
        *((f"record group {g!r} of {r}", g in record_ids) for r in snapshot.records for g in sorted(r.groups)),
        *((f"group {m.group!r} of a membership", m.group in groups) for m in snapshot.memberships),
        *((f"user {m.user!r} of a membership", m.user in users) for m in snapshot.memberships),
        *((f"{c.record}, which its history or holders name", c.record in records) for c in changes),
        *((f"tenant {c.tenant!r} named for {c.record}", c.tenant in tenants) for c in changes),
        *(
            (f"tenant {e.private_to!r} named for {e.record}", e.private_to in tenants)
            for e in snapshot.events
            if e.private_to
        ),
        *((f"{a.assignee} holding {a.record}", _known(a.assignee, users, groups)) for a in snapshot.assignments),
        *(
            (f"{e.assignee} named in the history of {e.record}", _known(e.assignee, users, groups))
            for e in snapshot.events
            if isinstance(e, Assigned | Unassigned)
        ),
        *((f"user {actor!r} who acted on {r}", actor in users) for r, actor in _actors(snapshot)),
        *((f"user {n.recipient!r} told of {n.record}", n.recipient in users) for n in notified),
        *((f"{n.record} of notification {n.key!r}", n.record in records) for n in notified),
        *((f"tenant {s.tenant!r} of setting {s.key!r}", s.tenant in tenants) for s in snapshot.settings),
    )
    yield from (f"does not hold the {what}" for what, held in named if not held)


def _repeated(snapshot: Snapshot) -> Iterator[str]:
    keyed: tuple[tuple[str, Iterable[object]], ...] = (
        ("tenant", (t.id for t in snapshot.tenants)),
        ("user", (u.id for u in snapshot.users)),
        ("group", (g.id for g in snapshot.groups)),
        ("record", (str(r.ref) for r in snapshot.records)),
        ("membership", ((m.group, m.user) for m in snapshot.memberships)),
        ("holding", ((str(a.record), a.role, str(a.assignee), a.tenant) for a in snapshot.assignments)),
        ("number", ((r.tenant, r.kind, r.number) for r in snapshot.records if r.number is not None)),
        ("notification", (e.notification.key for e in snapshot.outbox)),
        ("setting", ((s.tenant, s.key) for s in snapshot.settings)),
    )
    for what, keys in keyed:
        seen: set[object] = set()
        for key in keys:
            if key in seen:
                yield f"holds {what} {key!r} twice"
            seen.add(key)


def _crossing(snapshot: Snapshot) -> Iterator[str]:
    home = {u.id: u.tenant for u in snapshot.users} | {g.id: g.tenant for g in snapshot.groups}
    taking_part = {r.ref: r.tenants for r in snapshot.records}
    for m in snapshot.memberships:
        if home.get(m.user) != home.get(m.group):
            yield f"puts user {m.user!r} of tenant {home.get(m.user)!r} in group {m.group!r} of another tenant"
    for a in snapshot.assignments:
        if a.tenant not in taking_part.get(a.record, {a.tenant}):
            yield f"gives tenant {a.tenant!r} holders of {a.record}, which it does not take part in"
        if a.assignee.id is not None and home.get(a.assignee.id, a.tenant) != a.tenant:
            yield f"makes {a.assignee}, of tenant {home[a.assignee.id]!r}, a holder of {a.record} for {a.tenant!r}"


def _actors(snapshot: Snapshot) -> Iterator[tuple[RecordRef, str]]:
    """Every user named as having done something, with the record it was done to."""
    for change in (*snapshot.assignments, *snapshot.events):
        if change.actor is not None:
            yield change.record, change.actor
    for entry in snapshot.outbox:
        if entry.notification.actor is not None:
            yield entry.notification.record, entry.notification.actor


def _restore_outbox(tx: Transaction, entries: Iterable[OutboxEntry]) -> None:
    """Put outbox entries back as they were, through the port alone: each failed attempt again, then the delivery."""
    for entry in entries:
        key = entry.notification.key
        tx.enqueue(entry.notification)
        for _ in range(entry.attempts):
            tx.settle((), (key,))
        if entry.delivered:
            tx.settle((key,), ())


def _known(assignee: Assignee, users: set[str], groups: set[str]) -> bool:
    if assignee.kind is AssigneeKind.USER:
        return assignee.id in users
    return assignee.kind is AssigneeKind.EVERYONE or assignee.id in groups


def _range(tx: Transaction, tenant: str, kind: str) -> NumberRange | None:
    """The tenant's number range for `kind`, as stored, or None."""
    data = tx.setting(tenant, _numbers_key(kind))
    return structure(data, NumberRange) if data is not None else None


def _check_home(record: Record, acting: User, doing: str) -> None:
    """Refuse what only the record's home tenant may do, asked by a user of another that it is shared with."""
    if acting.tenant != record.tenant:
        raise ForeignActorError(f"Only tenant {record.tenant!r} can {doing} {record}; {acting.name} cannot.")


def _check_number(number: object) -> None:
    if number is not None and (not isinstance(number, str) or not number):
        raise InvalidValueError(f"A record number is a non-empty string, not {number!r}.")


def _labels(labels: Iterable[str]) -> frozenset[str]:
    """Labels as a set; one label given as a bare string would otherwise be split into letters."""
    if isinstance(labels, str):
        raise InvalidValueError(f"labels takes a collection of labels; write labels={{{labels!r}}} for one.")
    tags = frozenset(labels)
    bad = sorted(repr(t) for t in tags if not isinstance(t, str) or not t)
    if bad:
        raise InvalidValueError(f"A label is a non-empty string, not {bad[0]}.")
    return tags


def _lifecycle(policy: Policy) -> Lifecycle:
    if policy.lifecycle is None:
        raise TransitionError(f"A {policy.kind} has no statuses: its policy declares no lifecycle.")
    return policy.lifecycle


def _first_status(policy: Policy, status: str | None, *, manual: bool) -> str | None:
    """The status a new record starts in: the one asked for, or where its lifecycle starts it (CT1).

    Creating a record is no transition: a host may create a contact as a customer at once.
    """
    if policy.lifecycle is None and status is None:
        return None
    lifecycle = _lifecycle(policy)
    if status is None:
        return lifecycle.start(manual=manual)
    _check_status_name(policy.kind, lifecycle, status)
    return status


def _check_status_name(kind: str, lifecycle: Lifecycle, status: str) -> None:
    if status not in lifecycle.names:
        raise TransitionError(f"A {kind} has no status {status!r}; its statuses are: {', '.join(lifecycle.names)}.")


def _picked(selection: Iterable[RecordLike] | Page) -> Iterable[RecordRef]:
    """The records picked by hand for a bulk action: records, their identities, or a page of `find` or `visible`."""
    for one in selection.rows if isinstance(selection, Page) else selection:
        if isinstance(one, Row):
            yield one.record.ref
        elif isinstance(one, Record):
            yield one.ref
        elif isinstance(one, RecordRef):
            yield one
        else:
            raise InvalidValueError(
                f"A selection holds records or RecordRefs (or is a Segment or a Page), not {type(one).__name__}; "
                f"name a record by kind and id as RecordRef(kind, id)."
            )


def _segment(what: Segment | str, criteria: Criterion | None) -> Segment:
    if criteria is not None and not isinstance(criteria, Criterion):
        raise InvalidValueError(
            f"Criteria are built from named(), held_by(), status_in() and the like, not a {type(criteria).__name__}."
        )
    if not isinstance(what, Segment | str):
        raise InvalidValueError(f"find() takes a Segment or a record kind, not a {type(what).__name__}.")
    if isinstance(what, Segment):
        return what if criteria is None else evolve(what, criteria=what.criteria & criteria)
    return Segment(what, criteria if criteria is not None else ANYTHING)


def _check_territory(criteria: Criterion) -> None:
    """Refuse a territory whose criteria read what a record has only after it is created: holders, record groups."""
    for part in nodes(criteria):
        if isinstance(part, HeldBy | Unheld | InRecordGroup):
            raise InvalidValueError(
                f"A territory is chosen before a record has holders or groups, so it cannot read {part}; "
                "use its name, status or labels."
            )


def _check_saved(criteria: Criterion) -> None:
    """Refuse to keep criteria that could not be read back: a host's own kind of criterion."""
    for part in nodes(criteria):
        if CRITERIA.get(type(part).__name__) is not type(part):
            raise InvalidValueError(
                f"Only the built-in criteria can be saved, not a {type(part).__name__}; "
                "build the segment from named(), held_by(), status_in() and the like."
            )


def _check_reads(policy: Policy, criteria: Criterion) -> None:
    """Refuse criteria that name a role the kind lacks."""
    for role in sorted(criteria.reads()):
        policy.role(role)


def _numbers_key(kind: str) -> str:
    return f"numbers/{kind}"


def _numbers_turn(tenant: Tenant | str, kind: str) -> str:
    """The turn units drawing from a tenant's number range take, so they wait for each other rather than conflict."""
    return _key("numbers", tenant.id if isinstance(tenant, Tenant) else tenant, kind)


def _segment_key(id: str) -> str:
    return f"segments/{id}"


def _rules_key(kind: str) -> str:
    return f"auto_assign/{kind}"


def _turn_key(kind: str, role: str, group: str) -> str:
    return "turns/" + _key(kind, role, group)


def _group_kind(kind: GroupKind | str) -> GroupKind:
    try:
        return GroupKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in GroupKind)
        raise InvalidValueError(f"There is no group kind {kind!r}; the kinds are: {kinds}.") from None


def _keep_minimum(
    role: Role, record: Record | RecordRef, held: Sequence[Assignee], *, leaving: Assignee, coming: Assignee
) -> None:
    """Refuse handing `leaving`'s part to `coming` when `coming` holds it already and the role would fall short."""
    if coming in held and len(held) - 1 < role.min:
        raise MandatoryRoleError(
            f"A {record.kind} must keep {role.min} {role.name}; {coming} holds it already, "
            f"so handing {leaving}'s part to them would leave {len(held) - 1}."
        )


def _all_selected(tx: Transaction, kind: str, where: Filter, page: int = 1_000) -> Iterable[Record]:
    """Every record of `kind` matching `where`, read a page at a time."""
    after = None
    while True:
        found = tx.select(kind, where, limit=page, after=after)
        yield from found
        if len(found) < page:
            return
        after = found[-1].id


def _check_feature(policy: Policy, role: Role, tenant: str, features: frozenset[str]) -> None:
    """Refuse a role whose feature the tenant of its slot lacks (TL5, TL10, CG8)."""
    if not _has(role, features):
        raise FeatureDisabledError(
            f"The {role.name} of a {policy.kind} needs {role.requires!r}, which tenant {tenant!r} has not switched on."
        )


def _has(role: Role, features: frozenset[str]) -> bool:
    return role.requires is None or role.requires in features


def _slot_tenant(role: Role, record: Record, tenant: str) -> str:
    """Whose holders a tenant reads or writes: its own for a private role (LD7), else the home's."""
    return tenant if role.private else record.tenant


def _id(user: User | None) -> str | None:
    return user.id if user is not None else None


def _as_assignee(given: AssigneeLike) -> Assignee:
    if isinstance(given, User):
        return Assignee.user(given.id)
    if isinstance(given, Group):
        return Assignee.group(given.id)
    if isinstance(given, Assignee):
        return given
    raise InvalidValueError(f"An assignee is an Assignee, a User or a Group, not {type(given).__name__}.")


def _as_list(given: AssigneeLike | Sequence[AssigneeLike]) -> list[AssigneeLike]:
    if isinstance(given, Assignee | User | Group):
        return [given]
    return list(given)
