"""The one tree of refusals: everything `ownership` refuses is an `OwnershipError`.

Every error carries a sentence a person can act on (``str(error)``), and a call
that raises one has changed nothing: no record, holder, event or membership.
"""


class OwnershipError(Exception):
    """Base of every refusal `ownership` makes; catch this to catch them all."""


class InvalidValueError(OwnershipError, ValueError):
    """A value cannot be built as given: an empty id, an assignee naming no one, ..."""


class RulebookError(OwnershipError):
    """A policy or rulebook is inconsistent; raised when it is built, not when used."""


class NotFoundError(OwnershipError, LookupError):
    """Something named by id does not exist (or is not visible to the asker)."""


class UnknownTenantError(NotFoundError):
    """No tenant has this id."""


class UnknownUserError(NotFoundError):
    """No user has this id."""


class UnknownGroupError(NotFoundError):
    """No group has this id."""


class UnknownRecordError(NotFoundError):
    """The library tracks no record of this kind with this id."""


class UnknownKindError(NotFoundError):
    """The rulebook has no policy for this record kind."""


class UnknownRoleError(NotFoundError):
    """The record kind's policy has no role of this name."""


class UnknownActivityError(NotFoundError):
    """The record kind's policy knows no activity of this name."""


class UnknownSegmentError(NotFoundError):
    """The tenant has no saved segment with this id."""


class UnknownPlanError(NotFoundError):
    """The rulebook has no plan of this name."""


class UnknownGrantError(NotFoundError):
    """The record is not granted to that user or group: there is no grant to revoke."""


class DuplicateIdError(OwnershipError):
    """A tenant, user, group or record with this id exists already."""


class FeatureDisabledError(OwnershipError):
    """The tenant's plan and switches do not include what a kind or role needs (TL10)."""


class ForeignTenantError(OwnershipError):
    """Two things of different tenants were to be joined (an assignee, a member; LD2)."""


class ForeignActorError(OwnershipError):
    """The acting or viewing user's tenant has no part in the record (tenants never leak)."""


class InactiveUserError(OwnershipError):
    """An inactive user was asked to act, or to be assigned (LD2)."""


class ShareError(OwnershipError):
    """A record cannot be shared with, or accepted by, this tenant (LD6, LD7)."""


class AccessDeniedError(OwnershipError):
    """The acting user may not do this to the record; the kind's access rule says no."""


class AssignmentError(OwnershipError):
    """A change of holders breaks one of the role's rules."""


class AssigneeKindError(AssignmentError):
    """The role does not take this kind of assignee (a group where users are wanted, ...)."""


class TooManyHoldersError(AssignmentError):
    """The role would hold more assignees than its maximum."""


class MandatoryRoleError(AssignmentError):
    """A mandatory role would be left with fewer holders than its minimum (TL2, TL7)."""


class NotHeldError(AssignmentError):
    """The assignee to remove or replace does not hold the role."""


class ClaimError(AssignmentError):
    """Work cannot be taken from, or put back into, a team's pool (CG10)."""


class ConflictError(OwnershipError):
    """Another unit of work changed the same things at the same moment; nothing of this call was kept.

    The call is safe to repeat: it will read the other change and decide again.
    """


class StorageError(OwnershipError):
    """The store failed, or could not be reached, and the call was not carried out."""


class SchemaVersionError(StorageError):
    """The database's tables are missing, or were made for another version of `ownership`."""


class UnsupportedError(OwnershipError):
    """The repository does not keep what the call needs (grants, followers): its units lack that optional port."""


class StatusError(OwnershipError):
    """A record's status forbids the call, or the change of status asked for (CT1)."""


class TransitionError(StatusError):
    """The lifecycle has no such status, or no way from the record's status to the one asked for."""


class ConfirmationError(StatusError):
    """The change of status must be confirmed (``confirmed=True``), as prospect to customer is (CT1)."""


class RestrictedStatusError(StatusError):
    """The record's status refuses this operation: an inbox or archived contact takes no new holders (CT1)."""


class NumberingError(OwnershipError):
    """A record number cannot be given: no number range is configured, or the range is not valid (CT4)."""


class DuplicateNumberError(DuplicateIdError):
    """Another record of the same kind and tenant carries this number already (CT4)."""


class RecordGroupError(OwnershipError):
    """A record cannot join or leave this record group: the group's kind does not collect the record's (CT6)."""
