"""The generated worlds the agreement laws run over: tenants, users, groups, records and their life.

Shared by the law of `tests/properties/test_agreement.py` (check and list agree) and the Django queryset's
(`tests/with_django`): a world is drawn by hypothesis, its ids counted, so the same choices make the same world.
"""

import contextlib
from collections.abc import Callable
from datetime import timedelta

from hypothesis import strategies as st

from conftest import attempt
from ownership import (
    EVERYONE,
    LEVELS,
    Access,
    Assignee,
    AutoAssign,
    GroupKind,
    Ownership,
    OwnershipError,
    Policy,
    Profile,
    Record,
    Role,
    Rulebook,
    Trigger,
    User,
    presets,
)
from ownership.access import (
    granted,
    held_within_team,
    holds,
    in_caretaker_group,
    is_admin,
    restricted,
    same_tenant,
    shared_with_viewer,
    viewer_has,
    viewer_in,
)
from ownership.ports import Repository
from ownership.testing import FakeClock, counted_ids

# A host's own rule, of the shapes no preset builds: ORs of ANDs, negations, a private role, shared records,
# a manager's team to one level or any, facts about the viewer; and records granted to users and groups, to view
# or to edit, until a moment or for good.
HOST_RULE = (
    (holds("owner") & same_tenant)
    | (is_admin & ~restricted("deal"))
    | (shared_with_viewer & holds("partner_rep"))
    | (in_caretaker_group("desk") & ~holds("owner"))
    | (held_within_team("owner", depth=1) & ~viewer_has("trainee"))
    | (viewer_has("chief") & viewer_in("acme-g0") & held_within_team("owner", "partner_rep"))
)
HOST_RULEBOOK = Rulebook(
    (
        Policy(
            "deal",
            (
                Role("owner", grants_access=True),
                Role("partner_rep", grants_access=True, private=True),
                Role("desk", users=False, groups={GroupKind.CARETAKER, GroupKind.TEAM}, grants_access=True),
            ),
            auto_assign=(AutoAssign(Trigger.ACCEPTED, "partner_rep"),),
            access=Access(
                view=HOST_RULE | (granted("view") & ~viewer_has("trainee")),
                edit=HOST_RULE | granted("edit"),
                assign=HOST_RULE & ~restricted("deal"),
            ),
        ),
    )
)
RULEBOOKS = {
    "accounts+leads+customers": presets.account_managers()
    | presets.lead_exchange()
    | presets.caretaker_groups().only("customer", "follow_up"),
    "contacts+tickets": presets.contact_desk() | presets.caretaker_groups().only("ticket"),
    "host-rule": HOST_RULEBOOK,
}
SWITCHES = [
    presets.SECOND_ACCOUNT_MANAGER,
    presets.PROJECTS,
    presets.TICKETS,
    presets.SECOND_CARETAKER_GROUP,
]
TENANTS = ("acme", "globex")


@st.composite
def worlds(  # noqa: PLR0912 - a world's life reads best as one story, step by step
    draw: st.DrawFn,
    rulebook: Rulebook,
    repository: Callable[[], Repository],
    ids: Callable[[], Callable[[], str]] = counted_ids,
) -> tuple[Ownership, list[User]]:
    """A world drawn by hypothesis, its records' ids from a new source made by `ids` (counted, unless told)."""
    clock = FakeClock()
    # Ids are counted, not random: a world drawn twice from the same choices must come out the same.
    own = Ownership(rulebook, repository(), clock=clock, ids=ids())
    plans = [None, *(p.name for p in rulebook.plans)]
    for tenant in TENANTS:
        own.add_tenant(tenant, plan=draw(st.sampled_from(plans)), switches=draw(st.sets(st.sampled_from(SWITCHES))))

    users: list[User] = []
    for tenant in TENANTS:
        for n in range(draw(st.integers(1, 4))):
            users.append(
                own.add_user(
                    tenant,
                    f"{tenant}-user-{n}",
                    id=f"{tenant}-u{n}",
                    admin=draw(st.integers(0, 4)) == 0,
                    profile=Profile(restricted=draw(st.sets(st.sampled_from(rulebook.kinds), max_size=3))),
                    personal_caretaker_group=draw(st.booleans()),
                    traits=draw(st.sets(st.sampled_from(("chief", "trainee")))),
                )
            )
    for user in users:  # a team: each may report to anyone; one that would be above itself is refused
        boss = draw(st.none() | st.sampled_from(users))
        attempt(lambda user=user, boss=boss: own.report_to(user, boss))
    for tenant in TENANTS:
        for n in range(draw(st.integers(0, 2))):
            own.add_group(tenant, f"{tenant}-group-{n}", draw(st.sampled_from(GroupKind)), id=f"{tenant}-g{n}")
    groups = [g for tenant in TENANTS for g in own.groups(tenant)]
    for _ in range(draw(st.integers(2, 10))):
        group, user = draw(st.sampled_from(groups)) if groups else None, draw(st.sampled_from(users))
        if group is not None:
            until = draw(st.none() | st.integers(-48, 48).map(lambda h: clock.now + timedelta(hours=h)))
            attempt(lambda group=group, user=user, until=until: own.add_member(group, user, until=until))

    assignees = [*(Assignee.user(u.id) for u in users), *(Assignee.group(g.id) for g in groups), EVERYONE]

    def fitting(kind: str, role: str, tenant: str) -> st.SearchStrategy[Assignee]:
        """Mostly assignees the role takes in the tenant, sometimes any at all (to be refused)."""
        takes = rulebook.policy(kind).role(role)
        good = [Assignee.user(u.id) for u in users if u.tenant == tenant and takes.users]
        good += [Assignee.group(g.id) for g in groups if g.tenant == tenant and g.kind in takes.groups]
        good += [EVERYONE] if takes.everyone else []
        return st.sampled_from(good) if good and draw(st.integers(0, 4)) else st.sampled_from(assignees)

    records: list[Record] = []
    for _ in range(draw(st.integers(4, 12))):
        kind = draw(st.sampled_from(rulebook.kinds))
        actor = draw(st.sampled_from(users))
        features = rulebook.features(own.tenant(actor.tenant))
        holders = {
            role.name: draw(fitting(kind, role.name, actor.tenant))
            for role in rulebook.policy(kind).roles
            if (role.requires is None or role.requires in features) and draw(st.integers(0, 3))
        }
        with contextlib.suppress(OwnershipError):
            records.append(own.create(kind, actor=actor, holders=holders, manual=draw(st.booleans())))
    for _ in range(draw(st.integers(0, 8))):
        if not records:
            break
        record = draw(st.sampled_from(records))
        roles = [r.name for r in rulebook.policy(record.kind).roles]
        actor = draw(st.sampled_from(users))
        what = draw(st.sampled_from(["assign", "unassign", "share", "claim"]))
        if what == "share":
            partner = next(t for t in TENANTS if t != record.tenant)
            accepter = draw(st.sampled_from(users))
            attempt(lambda record=record, actor=actor, partner=partner: own.share(record, partner, actor=actor))
            attempt(lambda record=record, accepter=accepter: own.accept(record, actor=accepter))
        elif roles:
            role = draw(st.sampled_from(roles))
            if what == "claim":
                attempt(lambda record=record, role=role, actor=actor: own.claim(record, role, actor=actor))
            else:
                who = draw(fitting(record.kind, role, actor.tenant))
                change = own.assign if what == "assign" else own.unassign
                attempt(lambda change=change, r=record, role=role, who=who, a=actor: change(r, role, who, actor=a))
    homes = {Assignee.user(u.id): u.tenant for u in users} | {Assignee.group(g.id): g.tenant for g in groups}
    for _ in range(draw(st.integers(0, 6)) if records else 0):
        # Grants, mostly by the host to people of a tenant taking part, sometimes by a user (who may be refused)
        # or to anyone at all; some end within the hours the clock moves on, some are taken back.
        record = own.record(draw(st.sampled_from(records)).ref)
        near = [a for a, tenant in homes.items() if tenant in record.tenants]
        to = draw(st.sampled_from(near if near and draw(st.integers(0, 5)) else assignees))
        level, by = draw(st.sampled_from(LEVELS)), draw(st.none() | st.none() | st.sampled_from(users))
        until = draw(st.none() | st.integers(1, 48).map(lambda h: clock.now + timedelta(hours=h)))
        attempt(lambda r=record, to=to, level=level, until=until, by=by: own.grant(r, to, level, until=until, actor=by))
        if draw(st.integers(0, 4)) == 0:
            attempt(lambda r=record, to=to, by=by: own.revoke(r, to, actor=by))
    for _ in range(draw(st.integers(0, 4)) if records else 0):
        # Followers: one who may not view the record is refused; one who may can lose the view later.
        record, user = draw(st.sampled_from(records)), draw(st.sampled_from(users))
        attempt(lambda r=record, u=user: own.follow(r, u))
    for tenant in draw(st.lists(st.sampled_from(TENANTS), max_size=2, unique=True)):
        # A switch turned off hides its roles' holders, who then grant nothing (TL10, CG8).
        own.configure_tenant(tenant, switches=draw(st.sets(st.sampled_from(SWITCHES))))
    for user in draw(st.lists(st.sampled_from(users), max_size=2)):
        own.update_user(user, active=False)
    clock.advance(hours=draw(st.integers(0, 72)))
    return own, [own.user(u.id) for u in users]
