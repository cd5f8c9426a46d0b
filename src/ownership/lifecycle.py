"""The status machine a policy can declare for its kind: states, transitions, and what each state refuses (CT1).

A contact starts in the *inbox* when a mechanism (an import) adds it, or as a
*prospect* when a person does; a prospect becomes a *customer* only by a
confirmed transition; an *archived* contact keeps its holders and history and
can be made active again. What a state refuses is named by the operations
below; the service refuses them with `RestrictedStatusError`.
"""

from collections.abc import Iterable

from attrs import field, frozen

from ownership.errors import ConfirmationError, RestrictedStatusError, RulebookError, TransitionError
from ownership.model import Record, a_flag, an_id, an_optional_id, each, listed, names, shown

ASSIGN = "assign"
"""Giving the record new holders: assign, replace, claim, release, a bulk reassign, auto-assignment."""
NOTIFY = "notify"
"""Recording activities on it, which notify its holders."""
SHARE = "share"
"""Offering it to another tenant."""
OPERATIONS = (ASSIGN, NOTIFY, SHARE)
"""What a state can refuse."""


def _operations(items: Iterable[str]) -> frozenset[str]:
    if isinstance(items, str):
        raise RulebookError(f"State.refuses takes a collection of operations; write refuses={{{items!r}}} for one.")
    operations = names(items)
    if not isinstance(operations, frozenset):
        raise RulebookError(
            f"State.refuses takes a collection of operations ({', '.join(OPERATIONS)}), not {shown(items)}."
        )
    return operations


@frozen
class State:
    """One status a record can be in, and the operations it refuses."""

    name: str = field(validator=an_id)
    refuses: frozenset[str] = field(default=frozenset(), converter=_operations)

    def __attrs_post_init__(self) -> None:
        unknown = sorted(map(str, self.refuses - set(OPERATIONS)))
        if unknown:
            raise RulebookError(
                f"State {self.name!r} refuses {unknown[0]!r}, which is no operation; "
                f"the operations are: {', '.join(OPERATIONS)}."
            )


@frozen
class Transition:
    """A way from one status to another; `confirm` asks the caller to confirm it (prospect to customer)."""

    source: str = field(validator=an_id)
    target: str = field(validator=an_id)
    confirm: bool = field(default=False, validator=a_flag)


def _states(items: Iterable[State]) -> tuple[State, ...]:
    return listed(items)


def _transitions(items: Iterable[Transition]) -> tuple[Transition, ...]:
    return listed(items)


@frozen
class Lifecycle:
    """The statuses of a kind's records and the ways between them.

    Attributes:
        states: every status, in the order a host shows them.
        initial: the status of a record a person creates.
        imported: the status of a record a mechanism adds (``create(manual=False)``); `initial` if None.
        transitions: the ways from one status to another; any other change is refused.
        archived: the status bulk archiving moves records to, or None if the kind cannot be archived.
    """

    states: tuple[State, ...] = field(converter=_states, validator=each(State))
    initial: str = field(validator=an_id)
    transitions: tuple[Transition, ...] = field(default=(), converter=_transitions, validator=each(Transition))
    imported: str | None = field(default=None, validator=an_optional_id)
    archived: str | None = field(default=None, validator=an_optional_id)

    def __attrs_post_init__(self) -> None:
        known = [state.name for state in self.states]
        if len(set(known)) != len(known):
            raise RulebookError("A lifecycle names a state twice; give each state its own name.")
        named = [self.initial, self.imported, self.archived]
        named += [end for t in self.transitions for end in (t.source, t.target)]
        for name in named:
            if name is not None and name not in known:
                raise RulebookError(f"The lifecycle names state {name!r}, which is not one of: {', '.join(known)}.")
        pairs = [(t.source, t.target) for t in self.transitions]
        if len(set(pairs)) != len(pairs):
            raise RulebookError("A lifecycle lists one transition twice; keep one.")

    @property
    def names(self) -> tuple[str, ...]:
        """The statuses' names, in order."""
        return tuple(state.name for state in self.states)

    def state(self, name: str) -> State | None:
        """Return the state called `name`, or None."""
        return next((state for state in self.states if state.name == name), None)

    def transition(self, source: str | None, target: str) -> Transition | None:
        """Return the way from `source` to `target`, or None if there is none.

        A record with no status yet (tracked before its kind had a lifecycle)
        may enter any status; it must confirm entering one that every way in confirms.
        """
        if source is None:
            return Transition(target, target, confirm=self.confirmed_only(target)) if target in self.names else None
        return next((t for t in self.transitions if t.source == source and t.target == target), None)

    def confirmed_only(self, target: str) -> bool:
        """Return whether every way into `target` must be confirmed (customer, in the contacts lifecycle)."""
        ways = [t for t in self.transitions if t.target == target]
        return bool(ways) and all(t.confirm for t in ways)

    def refuses(self, status: str | None, operation: str) -> bool:
        """Return whether a record in `status` refuses `operation`."""
        state = self.state(status) if status is not None else None
        return state is not None and operation in state.refuses

    def start(self, *, manual: bool) -> str:
        """Return the status a new record starts in: `initial` by hand, `imported` by a mechanism."""
        return self.initial if manual or self.imported is None else self.imported

    def check_name(self, kind: str, status: str) -> None:
        """Refuse a status that is not one of this lifecycle's, for a record of `kind`.

        Raises:
            TransitionError: no such status.
        """
        if status not in self.names:
            raise TransitionError(f"A {kind} has no status {status!r}; its statuses are: {', '.join(self.names)}.")

    def check_move(self, record: Record, target: str, *, confirmed: bool) -> None:
        """Refuse moving `record` to `target` when no transition leads there, or when it must be confirmed and is not.

        Raises:
            TransitionError: there is no way from the record's status to `target`.
            ConfirmationError: the way must be confirmed, and `confirmed` is false.
        """
        way = self.transition(record.status, target)
        if way is None:
            onward = [t.target for t in self.transitions if t.source == record.status]
            raise TransitionError(
                f"The {record} cannot go from {record.status!r} to {target!r}; "
                f"from {record.status!r} it can go to: {', '.join(onward) or 'nowhere'}."
            )
        if way.confirm and not confirmed:
            raise ConfirmationError(
                f"Moving {record} from {record.status!r} to {target!r} must be confirmed; "
                "ask the user, then call again with confirmed=True."
            )


def required(kind: str, lifecycle: Lifecycle | None) -> Lifecycle:
    """Return a kind's lifecycle, refusing a kind that has none.

    Raises:
        TransitionError: the kind's policy declares no lifecycle.
    """
    if lifecycle is None:
        raise TransitionError(f"A {kind} has no statuses: its policy declares no lifecycle.")
    return lifecycle


def first_status(kind: str, lifecycle: Lifecycle | None, status: str | None, *, manual: bool) -> str | None:
    """Return the status a new record of `kind` starts in: the one asked for, or where its lifecycle starts it (CT1).

    Creating a record is no transition: a host may create a contact as a customer at once.

    Raises:
        TransitionError: `status` is not one of the kind's statuses, or the kind has none.
    """
    if lifecycle is None and status is None:
        return None
    statuses = required(kind, lifecycle)
    if status is None:
        return statuses.start(manual=manual)
    statuses.check_name(kind, status)
    return status


def refused(lifecycle: Lifecycle | None, record: Record, operation: str) -> bool:
    """Return whether `record`'s status refuses `operation` (an inbox contact takes no new holders, CT1)."""
    return lifecycle is not None and lifecycle.refuses(record.status, operation)


def check_status(lifecycle: Lifecycle | None, record: Record, operation: str, doing: str) -> None:
    """Refuse what the record's status refuses: an inbox or archived contact takes no new holders (CT1).

    Raises:
        RestrictedStatusError: the status refuses `operation`; `doing` says it in words ("take new holders").
    """
    if refused(lifecycle, record, operation):
        raise RestrictedStatusError(
            f"The {record} is in status {record.status!r} and cannot {doing}; move it to another status first."
        )


def contacts() -> Lifecycle:
    """Return seed 004's contact lifecycle: inbox, prospect, customer, archive (CT1).

    Imports land in the inbox, which takes no new holders, notifies no one and
    is not shared until someone moves the contact on; a person's new contact is
    a prospect. Every way into *customer* must be confirmed. Archived contacts
    keep their holders and history, refuse the same operations as the inbox,
    and go back to prospect or (confirmed) customer.
    """
    quiet = {ASSIGN, NOTIFY, SHARE}
    return Lifecycle(
        states=(
            State("inbox", refuses=quiet),
            State("prospect"),
            State("customer"),
            State("archive", refuses=quiet),
        ),
        initial="prospect",
        imported="inbox",
        archived="archive",
        transitions=(
            Transition("inbox", "prospect"),
            Transition("inbox", "customer", confirm=True),
            Transition("inbox", "archive"),
            Transition("prospect", "customer", confirm=True),
            Transition("prospect", "archive"),
            Transition("customer", "archive"),
            Transition("archive", "prospect"),
            Transition("archive", "customer", confirm=True),
        ),
    )
