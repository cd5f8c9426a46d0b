"""Caretaker groups decide who sees a customer (seed 003: CG1-CG10), told as a story.

Run it: ``python examples/caretaker_groups.py``. Every line it prints is what the library answered.
"""

from collections.abc import Callable, Iterable
from datetime import timedelta
from itertools import count

from ownership import Assignee, AssigneeKind, GroupKind, Ownership, OwnershipError, Record, presets, unassigned
from ownership.adapters.memory import MemoryRepository
from ownership.clock import FakeClock


def held(own: Ownership, holders: Iterable[Assignee]) -> str:
    """Names people read: a user's name, or a group's name in quotes."""
    shown = [own.user(a.id).name if a.kind is AssigneeKind.USER else repr(own.group(a.id).name) for a in holders]
    return ", ".join(shown) or "nobody"


def seeing(own: Ownership, record: Record) -> list[str]:
    """The non-admins of the tenant who may see the record."""
    return [u.name for u in own.users(record.tenant) if not u.admin and own.can(u, "view", record)]


def refused(what: str, step: Callable[[], object]) -> None:
    try:
        step()
    except OwnershipError as error:
        print(f"  refused: {what} ({type(error).__name__}): {error}")
    else:
        raise AssertionError(f"{what} should have been refused")


def groups_and_visibility(own: Ownership) -> Record:
    print("CG3: adding a user can make a caretaker group named after them, linked to them")
    for user in ("meier", "mueller"):
        group = own.personal_group(user)
        assert group is not None
        print(f"  {own.user(user).name}: group {group.name!r}, members {[u.name for u in own.members(group)]}")

    print("CG2, CG1: a customer without a caretaker group is seen by admins only, and can be found")
    lost = own.create("customer", actor="anna", id="K-1", name="Kiosk Nord")
    print(f"  K-1: Anna (admin) may view: {own.can('anna', 'view', lost)}; non-admins who may: {seeing(own, lost)}")
    orphans = own.find("anna", "customer", unassigned("caretaker_group")).records
    print(f"  customers without a group: {[r.id for r in orphans]}")
    meier = own.user("meier")
    refused("Anna gives K-1 to Meier, a user", lambda: own.assign(lost, "caretaker_group", meier, actor="anna"))

    print("CG4: any other group sees nothing until users are linked to it")
    south = own.add_group("meier-gmbh", "Region South", GroupKind.CARETAKER, id="south")
    own.assign(lost, "caretaker_group", south, actor="anna")
    group = held(own, own.holders(lost, "caretaker_group"))
    print(f"  K-1 goes to {group}; non-admins who see it: {seeing(own, lost)}")
    for finding in own.audit("meier-gmbh"):
        print(f"  audit: {finding.message}")
    own.add_member(south, "bob")
    print(f"  Bob is linked to Region South; non-admins who see K-1: {seeing(own, lost)}")

    print("CG6: a special customer belongs to exactly one person")
    meiers = own.personal_group("meier")
    assert meiers is not None
    vip = own.create("customer", actor="anna", id="K-7", name="Uncle Meier", holders={"caretaker_group": meiers})
    print(f"  K-7 in {held(own, own.holders(vip, 'caretaker_group'))}; non-admins who see it: {seeing(own, vip)}")

    print("CG7: a territory group serves a region together")
    north = own.add_group("meier-gmbh", "Region North", GroupKind.CARETAKER, id="north")
    for user in ("meier", "mueller"):
        own.add_member(north, user)
    region = own.create("customer", actor="anna", id="K-2", name="Hafen AG", holders={"caretaker_group": north})
    print(f"  K-2 in {held(own, own.holders(region, 'caretaker_group'))}; non-admins who see it: {seeing(own, region)}")
    told = own.record_activity(region, "note_added", actor="anna")
    print(f"  Anna adds a note to K-2; told: {[own.user(n.recipient).name for n in told]}")
    print(f"  Mueller lists customers: {[r.id for r in own.visible('mueller', 'customer').records]}")
    return vip


def deputies_and_extras(own: Ownership, clock: FakeClock, vip: Record) -> None:
    print("CG5, X5: Mueller covers Meier's customers during his holiday, and the cover ends by itself")
    meiers = own.personal_group("meier")
    assert meiers is not None
    back = clock.now + timedelta(days=14)
    own.add_member(meiers, "mueller", until=back)
    view, edit = own.can("mueller", "view", vip), own.can("mueller", "edit", vip)
    print(f"  until {back:%Y-%m-%d}: Mueller may view K-7: {view}, and edit it: {edit}")
    print(f"  why: {own.explain('mueller', 'view', vip).matched[-1]}")
    clock.advance(days=15)
    print(f"  on {clock.now:%Y-%m-%d} Mueller may view K-7: {own.can('mueller', 'view', vip)}")
    print(f"  audit: {[f.message for f in own.audit('meier-gmbh') if f.kind == 'expired_deputy']}")

    print("CG8: a second caretaker group, once switched on in the settings, on every customer")
    north = own.group("north")
    refused("a second group on K-7", lambda: own.assign(vip, "second_caretaker_group", north, actor="anna"))
    own.configure_tenant("meier-gmbh", switches={presets.SECOND_CARETAKER_GROUP})
    old = own.record("customer", "K-1")
    print(f"  switched on; K-1's second group: {held(own, own.holders(old, 'second_caretaker_group'))}")
    own.assign(vip, "second_caretaker_group", north, actor="anna")
    second = held(own, own.holders(vip, "second_caretaker_group"))
    print(f"  K-7's second group: {second}; non-admins who see it: {seeing(own, vip)}")

    print("CG9: informational caretakers per service area name users and grant nothing")
    own.assign(vip, "caretaker", own.user("bob"), actor="anna")
    print(f"  K-7's caretakers: {held(own, own.holders(vip, 'caretaker'))}")
    group = held(own, own.holders(vip, "caretaker_group"))
    print(f"  Bob may view K-7: {own.can('bob', 'view', vip)}; it is still in {group}")

    print("CG10: teams are pools of work, not caretaker groups")
    support = own.add_group("meier-gmbh", "Support", GroupKind.TEAM, id="support")
    for user in ("bob", "lena"):
        own.add_member(support, user)
    follow_up = own.create("follow_up", actor="anna", id="W-1", holders={"team": support})
    print(f"  follow-up W-1 in the pool of {held(own, own.holders(follow_up, 'team'))}")
    own.claim(follow_up, "team", actor="bob")
    print(f"  Bob takes it: {held(own, own.holders(follow_up, 'team'))}")
    refused("Lena takes it too", lambda: own.claim(follow_up, "team", actor="lena"))
    own.release(follow_up, "team", actor="bob")
    print(f"  Bob puts it back: {held(own, own.holders(follow_up, 'team'))}")
    customers = [r.id for r in own.visible("lena", "customer").records]
    print(f"  Lena, in the team but in no caretaker group, lists customers: {customers}")


def main() -> None:
    clock = FakeClock()
    fresh = count(1)  # the ids of groups made with their user (CG3), deterministic for the story
    own = Ownership(presets.caretaker_groups(), MemoryRepository(), clock=clock, ids=lambda: f"g-{next(fresh)}")
    own.add_tenant("meier-gmbh", name="Meier GmbH")
    own.add_user("meier-gmbh", "Anna", id="anna", admin=True)
    own.add_user("meier-gmbh", "Meier", id="meier", personal_caretaker_group=True)
    own.add_user("meier-gmbh", "Mueller", id="mueller", personal_caretaker_group=True)
    own.add_user("meier-gmbh", "Bob", id="bob")
    own.add_user("meier-gmbh", "Lena", id="lena")

    vip = groups_and_visibility(own)
    deputies_and_extras(own, clock, vip)


if __name__ == "__main__":
    main()
