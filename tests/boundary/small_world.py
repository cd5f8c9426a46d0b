"""A small world every boundary case is thrown at: two tenants, their users and groups, records, one shared lead.

`build(own)` fills an empty `Ownership` with it; `World` holds one such `Ownership` per store and a second,
empty one that `restore` and the command's ``import`` are tried on. Ids and moments are fixed (counted ids, a
clock that stands still), so the same world, and the same refusal sentences, come out of every store.

Who is in it:

- tenant ``acme`` (plan ``go``): ``anna`` (admin), ``bob``, ``carl`` (inactive); groups ``acme-team`` (team,
  bob a member), ``acme-care`` (caretaker, anna), ``acme-experts`` (competence, bob); records ``deal:d-1``
  (anna responsible), ``ticket:t-1`` (in acme-team's pool), ``contact:c-1`` (a prospect, bob its assignee),
  ``contact_group:cg-1`` (holding c-1), ``lead:l-1`` (shared with globex, accepted by gina); a number range for
  deals, a saved segment ``seg-1``, auto-assignment of tickets to acme-team, one pending notification.
- tenant ``globex`` (plan ``move``): ``gina`` (admin), ``hugo``; group ``globex-team``; ``deal:gd-1``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from ownership import (
    Access,
    Activity,
    AssignActor,
    GroupKind,
    Ownership,
    Plan,
    Policy,
    Role,
    Rulebook,
    Segment,
    ToGroup,
    Trigger,
    lifecycle,
    named,
)
from ownership.access import granted, holds, is_admin, restricted
from ownership.clock import FakeClock, counted_ids
from ownership.ports import Repository

PROJECTS = "projects"
START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def rulebook() -> Rulebook:
    """Every kind of thing the boundary is tried on: mandatory, private, pool, everyone, lifecycle, collecting."""
    anyone = Role("assignee", max=None, groups={GroupKind.COMPETENCE}, everyone=True, notified=True)
    return Rulebook(
        policies=(
            Policy(
                "deal",
                (
                    Role("responsible", min=1, grants_access=True, notified=True),
                    Role("watcher", max=None, groups={GroupKind.COMPETENCE, GroupKind.TEAM}, everyone=True),
                ),
                auto_assign=(AssignActor(Trigger.CREATED, "responsible"),),
                activities=(Activity("note_added"), Activity("call_logged")),
                # The default rule, and a record granted to someone (no grant is made here).
                access=Access(
                    view=is_admin | ~restricted("deal") | holds("responsible") | granted("view"),
                    edit=is_admin | ~restricted("deal") | holds("responsible") | granted("edit"),
                    assign=is_admin | ~restricted("deal") | holds("responsible"),
                ),
            ),
            Policy(
                "lead",
                (Role("colleague", notified=True, private=True),),
                auto_assign=(AssignActor(Trigger.CREATED, "colleague"), AssignActor(Trigger.ACCEPTED, "colleague")),
            ),
            Policy("ticket", (Role("team", groups={GroupKind.TEAM}, notified=True),)),
            Policy("contact", (anyone,), lifecycle=lifecycle.contacts()),
            Policy("contact_group", (Role("responsible", max=None),), collects="contact"),
            Policy(
                "project",
                (Role("manager", min=1, max=None),),
                auto_assign=(AssignActor(Trigger.CREATED, "manager"),),
                requires=PROJECTS,
            ),
        ),
        plans=(Plan("go"), Plan("move", {PROJECTS})),
        default_plan="go",
    )


def build(own: Ownership) -> None:
    """Fill the empty `own` with the small world (see the module's docstring)."""
    own.add_tenant("acme", name="Acme", plan="go")
    own.add_tenant("globex", name="Globex", plan="move")
    anna = own.add_user("acme", "Anna", id="anna", admin=True)
    bob = own.add_user("acme", "Bob", id="bob")
    own.add_user("acme", "Carl", id="carl", active=False)
    gina = own.add_user("globex", "Gina", id="gina", admin=True)
    own.add_user("globex", "Hugo", id="hugo")
    team = own.add_group("acme", "Acme team", "team", id="acme-team")
    care = own.add_group("acme", "Acme care", "caretaker", id="acme-care")
    experts = own.add_group("acme", "Acme experts", "competence", id="acme-experts")
    own.add_group("globex", "Globex team", "team", id="globex-team")
    own.add_member(team, bob)
    own.add_member(care, anna)
    own.add_member(experts, bob)
    own.set_number_range("acme", "deal", prefix="D-", width=3, next=1, actor=anna)
    deal = own.create("deal", tenant="acme", actor=anna, id="d-1", name="Complicated lamp", labels=["big"])
    own.create("ticket", tenant="acme", actor=anna, id="t-1", holders={"team": team}, name="Broken lamp")
    contact = own.create("contact", tenant="acme", actor=anna, id="c-1", holders={"assignee": bob}, name="Lamp buyer")
    box = own.create("contact_group", tenant="acme", actor=anna, id="cg-1", name="Lamp buyers")
    own.add_to_group(box, [contact], actor=anna)
    lead = own.create("lead", tenant="acme", actor=anna, id="l-1", name="Shared lamp lead")
    own.share(lead, "globex", actor=anna)
    own.accept(lead, actor=gina)
    own.create("deal", tenant="globex", actor=gina, id="gd-1", name="Globex lamp")
    own.save_segment(Segment("deal", named("lamp"), name="Lamp deals", id="seg-1", tenant="acme"), actor=anna)
    own.set_auto_assign("acme", "ticket", [ToGroup("team", "acme-team")], actor=anna)
    own.record_activity(deal, "note_added", actor=bob)


def ownership_on(repository: Repository) -> Ownership:
    """An `Ownership` of the world's rules on `repository`, with counted ids and a clock standing still."""
    return Ownership(rulebook(), repository, clock=FakeClock(START), ids=counted_ids("n-"))


class World:
    """The small world on one store, and an empty repository of the same store beside it.

    Args:
        store: ``memory``, ``sqlite`` or ``postgresql``.
        fresh: returns a new, empty repository of the store holding the world, and its URL (None in memory).
        fresh_blank: the same for the empty one beside it.
        files: a directory for the files the command reads and writes (None in memory).
    """

    def __init__(
        self,
        store: str,
        fresh: Callable[[], tuple[Repository, str | None]],
        fresh_blank: Callable[[], tuple[Repository, str | None]],
        files: Path | None = None,
    ) -> None:
        self.store = store
        self.files = files
        self._fresh = fresh
        self._fresh_blank = fresh_blank
        repository, self.url = fresh()
        self.own = ownership_on(repository)
        build(self.own)
        self.original = self.own.snapshot()
        blank, self.blank_url = fresh_blank()
        self.blank = ownership_on(blank)
        self.empty = self.blank.snapshot()

    def reset(self, *, world: bool = True, blank: bool = True) -> None:
        """Put the world back as `build` made it, and empty the blank, after a call that changed them."""
        if world:
            repository, self.url = self._fresh()
            self.own = ownership_on(repository)
            self.own.restore(self.original)
        if blank:
            empty, self.blank_url = self._fresh_blank()
            self.blank = ownership_on(empty)
