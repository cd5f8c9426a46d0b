"""Auto-assignment beyond the creator: rules that pick who holds a role of a new record (X4).

A tenant gives each record kind an ordered list of rules; when a record is
created, each rule whose role `holders=` left empty picks a holder, before the
policy's own triggers (the creator, LD6) fill what is still empty:

    Territory(labelled("north"), ToGroup("caretaker_group", "north")),
    RoundRobin("responsible", "sales"),

- `RoundRobin`: the group's active live members take turns, in order of id;
  the last one served is stored, so the turn survives restarts, and counts
  never differ by more than one while the members stay the same.
- `LeastLoad`: the active live member holding the role on the fewest of the
  tenant's records of the kind; ties go by id.
- `ToGroup`: the group itself holds the role (a territory's caretaker group).
- `Territory`: its rule applies only to records that meet its criterion.
"""

from collections.abc import Iterable

from attrs import field, frozen

from ownership.model import an_id, each, listed, one_of
from ownership.segments import Criterion


@frozen
class RoundRobin:
    """The live, active members of `group` take turns holding `role`."""

    role: str = field(validator=an_id)
    group: str = field(validator=an_id)


@frozen
class LeastLoad:
    """The live, active member of `group` who holds `role` on the fewest records of the kind takes it."""

    role: str = field(validator=an_id)
    group: str = field(validator=an_id)


@frozen
class ToGroup:
    """`group` itself holds `role`: a territory's caretaker group or a team's pool (CG7, CG10)."""

    role: str = field(validator=an_id)
    group: str = field(validator=an_id)


Pick = RoundRobin | LeastLoad | ToGroup
"""A rule that picks a holder wherever it applies."""


@frozen
class Territory:
    """`rule` applies to new records that meet `criteria`, and to no others (a region, a source)."""

    criteria: Criterion = field(validator=one_of(Criterion))
    rule: Pick = field(validator=one_of(RoundRobin, LeastLoad, ToGroup))

    @property
    def role(self) -> str:
        """The role its rule fills."""
        return self.rule.role

    @property
    def group(self) -> str:
        """The group its rule draws from."""
        return self.rule.group


Rule = RoundRobin | LeastLoad | ToGroup | Territory
"""One auto-assignment rule."""


def picking(rule: Rule) -> Pick:
    """The rule that picks the holder: a territory's own rule, or the rule itself."""
    return rule.rule if isinstance(rule, Territory) else rule


def _rules(items: Iterable[Rule]) -> tuple[Rule, ...]:
    return listed(items)


@frozen
class AutoAssignment:
    """A tenant's auto-assignment rules for one record kind, in the order they apply."""

    kind: str = field(validator=an_id)
    rules: tuple[Rule, ...] = field(
        default=(), converter=_rules, validator=each(RoundRobin, LeastLoad, ToGroup, Territory)
    )
