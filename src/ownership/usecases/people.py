"""Keeping the directory in step with the host's users: `reconcile_users` makes a tenant's users say what its rows say.

A host keeps its people in its own user table: who works here, under which
name, who has left, who is an admin, which departments and teams they are in.
It hands those rows to `reconcile_users` (all of them, or the one its save
path just wrote), which adds, changes and deactivates `ownership`'s users, and
links and unlinks their groups, until they say what the rows say; and reports
the difference it found. A user is never deleted: one the host no longer
names has left, and keeps their history and holdings (`audit` and `transfer`
are how an admin deals with those, X3).
"""

from collections.abc import Callable, Iterable, Sequence

from attrs import evolve, field, frozen

from ownership.errors import DuplicateIdError, ForeignTenantError, InvalidValueError
from ownership.model import (
    Group,
    Membership,
    Profile,
    Tenant,
    User,
    a_flag,
    a_text,
    an_id,
    an_optional_name_set,
    names,
    one_of,
)
from ownership.ports import Transaction
from ownership.usecases._lookups import Lookups
from ownership.usecases._unit import retried
from ownership.usecases.reconcile import each_once


def _optional_names(given: Iterable[str] | None) -> frozenset[str] | None:
    return None if given is None else names(given)


@frozen
class HostUser:
    """What the host's data says of one of its people: who they are to `ownership`, and the groups they are in.

    Attributes:
        id: the user's id, as the host names them to `ownership` (a username, a number as text).
        name: a name to show people.
        active: whether they work here; one who has left is inactive, and keeps their history.
        admin: whether they see every record of their tenant.
        groups: the ids of the groups the host links them to, for good; None leaves their links as they are.
            A link with an end (a deputy covering for a while, X5) and the link to their own personal
            caretaker group are `ownership`'s own, and left as they are.
        profile: their restricted kinds and push opt-in; None leaves it (a new user's is the default).
        traits: the facts about them a rule reads (`viewer_has`): a job, a right; None leaves them. Whom they
            report to is not the row's to say: `report_to` says it.
    """

    id: str = field(validator=an_id)
    name: str = field(validator=a_text)
    active: bool = field(default=True, kw_only=True, validator=a_flag)
    admin: bool = field(default=False, kw_only=True, validator=a_flag)
    groups: frozenset[str] | None = field(
        default=None, kw_only=True, converter=_optional_names, validator=an_optional_name_set
    )
    profile: Profile | None = field(default=None, kw_only=True, validator=one_of(Profile, type(None)))
    traits: frozenset[str] | None = field(
        default=None, kw_only=True, converter=_optional_names, validator=an_optional_name_set
    )


@frozen
class UserDrift:
    """How one user differed from the host's row, and so changed.

    Attributes:
        id: the user's id.
        name: (what it was, what it is now), if the name differed.
        active: (what it was, what it is now), if they joined again or left.
        admin: (what it was, what it is now), if the admin right differed.
        profile: whether the profile differed.
        traits: whether the traits differed.
        joined: ids of the groups the row names that they were not linked to for good, now linked.
        left: ids of the groups they were linked to for good that the row does not name, now unlinked.
    """

    id: str
    name: tuple[str, str] | None = None
    active: tuple[bool, bool] | None = None
    admin: tuple[bool, bool] | None = None
    profile: bool = False
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    traits: bool = False


@frozen
class DirectoryDrift:
    """What `reconcile_users` found between the host's people and a tenant's users.

    Attributes:
        tenant: the tenant whose users were compared.
        added: ids of rows `ownership` had no user for, now users.
        deactivated: ids of active users no row names (a whole reconcile), now inactive: they have left.
        changed: users whose name, activity, admin right, profile or groups differed, with how.
        applied: False for a dry run, which changed nothing.
    """

    tenant: str
    added: tuple[str, ...] = ()
    deactivated: tuple[str, ...] = ()
    changed: tuple[UserDrift, ...] = ()
    applied: bool = True

    @property
    def in_step(self) -> bool:
        """Whether there was nothing to change: the users said what the rows say."""
        return not (self.added or self.deactivated or self.changed)


class People(Lookups):
    """Making a tenant's users and their groups agree with the host's own people (X8)."""

    @retried
    def reconcile_users(
        self,
        rows: Iterable[HostUser],
        *,
        tenant: Tenant | str,
        partial: bool = False,
        dry_run: bool = False,
        host_groups: Callable[[Group], bool] | None = None,
    ) -> DirectoryDrift:
        """Make the tenant's users say what the host's rows say, in one unit of work; return what differed.

        Every row's user exists afterwards, at home in `tenant`, with the row's
        name, activity and admin right, its profile where it gives one, and, where
        it names groups, linked for good to exactly those. Active users of the
        tenant that no row names are deactivated: they have left (users are never
        deleted). It is the host's data that is recorded, so one who has left may
        still be linked to groups. Run again on the same rows, it finds nothing
        to change.

        With `partial`, the rows are only some of the host's people (the one its
        save path just wrote): users no row names are left as they are.

        `host_groups` says which groups' members the host keeps (its departments,
        say), when `ownership` keeps others itself (competences linked by an admin
        through `add_member`): links to a group it does not accept are left as
        they are, and a row may not name one.

        Raises:
            UnknownTenantError: no such tenant.
            InvalidValueError: two rows name one id, or a row names a group `host_groups` leaves to `ownership`.
            DuplicateIdError: a row names a user at home in another tenant.
            UnknownGroupError, ForeignTenantError: a row names a group that does not exist, or is another
                tenant's.
        """
        wanted = list(rows)
        counted = each_once([row.id for row in wanted], "user")
        with self._writing(alone=True) as tx:
            home = self._tenant(tx, tenant)
            groups: dict[str, Group | None] = {}
            added: list[str] = []
            drifts: list[UserDrift] = []
            writes: list[tuple[User, list[Membership], list[str]]] = []
            for row in wanted:
                before = tx.user(row.id)
                if before is not None and before.tenant != home.id:
                    raise DuplicateIdError(
                        f"A user with id {row.id!r} exists already, at home in tenant {before.tenant!r}; "
                        f"a row of tenant {home.id!r} cannot name them."
                    )
                user = User(
                    row.id,
                    home.id,
                    row.name,
                    active=row.active,
                    admin=row.admin,
                    profile=row.profile or (before.profile if before is not None else Profile()),
                    manager=None if before is None else before.manager,  # whom they report to is not the row's
                    traits=row.traits if row.traits is not None else (frozenset() if before is None else before.traits),
                )
                links = [] if before is None else list(tx.memberships_of_user(row.id))
                joining, leaving = self._links(tx, row, links, home, groups=groups, host_groups=host_groups)
                if before is None:
                    added.append(row.id)
                elif before != user or joining or leaving:
                    drifts.append(_drift(before, user, joining, leaving))
                else:
                    continue
                writes.append((user, joining, leaving))
            named = set(counted)
            leavers = [] if partial else [u for u in tx.users(home.id) if u.active and u.id not in named]
            if not dry_run:
                for user, joining, leaving in writes:
                    tx.put_user(user)
                    for group_id in leaving:
                        tx.delete_membership(group_id, user.id)
                    for membership in joining:
                        tx.put_membership(membership)
                for leaver in leavers:
                    tx.put_user(evolve(leaver, active=False))
            return DirectoryDrift(
                home.id,
                added=tuple(sorted(added)),
                deactivated=tuple(sorted(u.id for u in leavers)),
                changed=tuple(sorted(drifts, key=lambda d: d.id)),
                applied=not dry_run,
            )

    def _links(
        self,
        tx: Transaction,
        row: HostUser,
        links: Sequence[Membership],
        home: Tenant,
        *,
        groups: dict[str, Group | None],
        host_groups: Callable[[Group], bool] | None,
    ) -> tuple[list[Membership], list[str]]:
        """The lasting links a row's user gains, and the ids of the groups they leave; `groups` keeps those read."""
        if row.groups is None:
            return [], []
        for group_id in sorted(row.groups - groups.keys()):
            group = self._group(tx, group_id)
            if group.tenant != home.id:
                raise ForeignTenantError(
                    f"Group {group.name!r} ({group.id}) belongs to tenant {group.tenant!r}; "
                    f"{row.name} ({row.id}) of tenant {home.id!r} cannot be in it."
                )
            if host_groups is not None and not host_groups(group):
                raise InvalidValueError(
                    f"The row of {row.name} ({row.id}) names group {group.name!r} ({group.id}), whose members "
                    "host_groups leaves to ownership; leave it out of the row, or let host_groups accept it."
                )
            groups[group_id] = group
        lasting = {m.group for m in links if m.until is None}
        joining = [Membership(group_id, row.id) for group_id in sorted(row.groups - lasting)]
        leaving = sorted(
            g for g in lasting - row.groups if _hosts(tx, g, row.id, groups=groups, host_groups=host_groups)
        )
        return joining, leaving


def _hosts(
    tx: Transaction,
    group_id: str,
    user: str,
    *,
    groups: dict[str, Group | None],
    host_groups: Callable[[Group], bool] | None,
) -> bool:
    """Whether the host's rows say who is in the group: not `user`'s own personal group, and one `host_groups` takes."""
    if group_id not in groups:
        groups[group_id] = tx.group(group_id)
    group = groups[group_id]
    return group is not None and group.personal_of != user and (host_groups is None or host_groups(group))


def _drift(before: User, after: User, joining: Sequence[Membership], leaving: Sequence[str]) -> UserDrift:
    return UserDrift(
        before.id,
        name=(before.name, after.name) if after.name != before.name else None,
        active=(before.active, after.active) if after.active != before.active else None,
        admin=(before.admin, after.admin) if after.admin != before.admin else None,
        profile=after.profile != before.profile,
        traits=after.traits != before.traits,
        joined=tuple(m.group for m in joining),
        left=tuple(leaving),
    )
