"""The tenant settings, typed: number ranges, saved segments, auto-assignment rules and round-robin turns.

A repository keeps settings as JSON under a key per tenant; these functions
are the only code that knows the keys and turns the JSON into values and
back, so every room reads and writes settings as `ownership`'s own values.
The keys and JSON are stored data: they never change.
"""

from typing import Any

from ownership.distribution import AutoAssignment
from ownership.errors import InvalidValueError
from ownership.model import Tenant
from ownership.notify import key
from ownership.numbering import NumberRange
from ownership.ports import Transaction
from ownership.segments import Segment
from ownership.serde import structure, unstructure

_NUMBERS, _SEGMENTS, _AUTO_ASSIGN, _TURNS = "numbers/", "segments/", "auto_assign/", "turns/"


def read(key: str, data: Any) -> NumberRange | Segment | AutoAssignment | str:
    """The setting stored under `key` as `data`, as the value the functions below read it as.

    `restore` reads every setting of a snapshot this way before writing any, so a
    broken one is refused then rather than failing the first use case to read it.

    Raises:
        InvalidValueError: `ownership` keeps nothing under `key`, or `data` is not what it keeps there.
    """
    for prefix, kind in _KINDS:
        if key.startswith(prefix):
            return structure(data, kind)
    known = ", ".join(repr(f"{prefix}...") for prefix, _ in _KINDS)
    raise InvalidValueError(f"ownership keeps no setting under {key!r}, only under {known}.")


def number_range(tx: Transaction, tenant: str, kind: str, *, changing: bool = False) -> NumberRange | None:
    """The tenant's number range for `kind`, as stored, or None; `changing`: see `Transaction.setting`."""
    data = tx.setting(tenant, _numbers_key(kind), changing=changing)
    return structure(data, NumberRange) if data is not None else None


def put_number_range(tx: Transaction, tenant: str, kind: str, numbers: NumberRange) -> None:
    """Keep the tenant's number range for `kind`."""
    tx.put_setting(tenant, _numbers_key(kind), unstructure(numbers))


def numbers_turn(tenant: Tenant | str, kind: str) -> str:
    """The turn units drawing from a tenant's number range take, so they wait for each other rather than conflict."""
    return key("numbers", tenant.id if isinstance(tenant, Tenant) else tenant, kind)


def segment(tx: Transaction, tenant: str, id: str, *, changing: bool = False) -> Segment | None:
    """The tenant's saved segment `id`, or None; `changing`: see `Transaction.setting`."""
    data = tx.setting(tenant, _SEGMENTS + id, changing=changing)
    return structure(data, Segment) if data is not None else None


def segments(tx: Transaction, tenant: str) -> list[Segment]:
    """Every segment the tenant saved, by id."""
    return [structure(data, Segment) for data in tx.settings(tenant, _SEGMENTS).values()]


def put_segment(tx: Transaction, tenant: str, saved: Segment) -> None:
    """Keep a segment that has its id."""
    tx.put_setting(tenant, _SEGMENTS + (saved.id or ""), unstructure(saved))


def delete_segment(tx: Transaction, tenant: str, id: str) -> None:
    """Forget the tenant's segment `id`."""
    tx.delete_setting(tenant, _SEGMENTS + id)


def auto_assignment(tx: Transaction, tenant: str, kind: str) -> AutoAssignment:
    """The tenant's auto-assignment rules for `kind`; none if never set."""
    data = tx.setting(tenant, _AUTO_ASSIGN + kind)
    return structure(data, AutoAssignment) if data is not None else AutoAssignment(kind)


def put_auto_assignment(tx: Transaction, tenant: str, rules: AutoAssignment) -> None:
    """Keep the tenant's auto-assignment rules for their kind."""
    tx.put_setting(tenant, _AUTO_ASSIGN + rules.kind, unstructure(rules))


def last_turn(tx: Transaction, tenant: str, kind: str, role: str, group: str) -> str | None:
    """The id of the member a round robin over `group` for `role` of `kind` gave the last record to, or None."""
    data = tx.setting(tenant, _turn_key(kind, role, group), changing=True)
    return str(data) if data is not None else None


def put_turn(tx: Transaction, tenant: str, kind: str, role: str, group: str, *, user: str) -> None:
    """Keep the member a round robin gave the last record to."""
    tx.put_setting(tenant, _turn_key(kind, role, group), user)


_KINDS: tuple[tuple[str, type[NumberRange | Segment | AutoAssignment | str]], ...] = (
    (_NUMBERS, NumberRange),
    (_SEGMENTS, Segment),
    (_AUTO_ASSIGN, AutoAssignment),
    (_TURNS, str),
)


def _numbers_key(kind: str) -> str:
    return _NUMBERS + kind


def _turn_key(kind: str, role: str, group: str) -> str:
    return _TURNS + key(kind, role, group)
