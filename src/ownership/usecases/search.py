"""Search: finding records by criteria and saved segments, and counting them by holder or status (CT5, TL8, TL9).

Criteria are resolved when the call runs (the groups a holder is in now),
ANDed with what the viewer may see, and run by the repository.
"""

from attrs import evolve

from ownership.errors import AccessDeniedError, ForeignActorError, UnknownSegmentError
from ownership.filters import EVERYTHING, Held, HomeIs, all_of, negate
from ownership.model import Assignee, AssigneeKind, Page, Tenant, User, UserLike
from ownership.segments import (
    ANYTHING,
    Criterion,
    HeldByCriterion,
    Segment,
    check_reads,
    check_saved,
    nodes,
    segment_of,
)
from ownership.usecases import _settings
from ownership.usecases._unit import retried
from ownership.usecases._viewing import Viewing


class Search(Viewing):
    """Finding, counting and saving the records a viewer may see that meet criteria."""

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
        segment = segment_of(what, criteria)
        policy = self.rulebook.policy(segment.kind)
        with self._reading() as tx:
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
        with self._reading() as tx:
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
        with self._reading() as tx:
            seeing = self._viewer(tx, viewer, kind)
            where = self._where(tx, policy, seeing, "view", criteria or ANYTHING)
            counts = tx.count_by_status(kind, where)
            order = {name: n for n, name in enumerate(policy.lifecycle.names if policy.lifecycle else ())}
            return dict(sorted(counts.items(), key=lambda kv: (order.get(kv[0] or "", len(order)), kv[0] or "")))

    @retried
    def save_segment(self, segment: Segment, *, actor: UserLike) -> Segment:
        """Save a segment for the actor's tenant: a filter kept as a dynamic group (CT5, TL9).

        A segment with the id of a saved one replaces it; only the user who
        saved it first (its `creator`) or an admin of the tenant may do that,
        and the creator stays. The users and groups its criteria name
        (`held_by`) must be of the actor's tenant: another tenant's are
        refused as unknown, as they would be anywhere else (LD7).

        Returns:
            The saved segment, with its id, tenant and creator.

        Raises:
            UnknownKindError, UnknownRoleError: the kind, or a role its criteria name, is unknown.
            UnknownUserError, InactiveUserError: no such actor, or inactive.
            UnknownUserError, UnknownGroupError: no user or group its criteria name holders by in the actor's tenant.
            ForeignActorError: the segment names another tenant than the actor's.
            AccessDeniedError: it would replace a segment that neither the actor nor, for an admin, their tenant saved.
        """
        policy = self.rulebook.policy(segment.kind)
        check_reads(policy, segment.criteria)
        check_saved(segment.criteria)
        with self._writing() as tx:
            acting = self._actor(tx, actor)
            if segment.tenant not in (None, acting.tenant):
                raise ForeignActorError(
                    f"Segment {segment.name!r} belongs to tenant {segment.tenant!r}; {acting.name} cannot save it."
                )
            for part in nodes(segment.criteria):
                if isinstance(part, HeldByCriterion) and part.assignee.kind is AssigneeKind.USER:
                    self._user(tx, part.assignee.id, seen_by=acting.tenant)
                elif isinstance(part, HeldByCriterion) and part.assignee.kind is AssigneeKind.GROUP:
                    self._group(tx, part.assignee.id, seen_by=acting.tenant)
            kept = _settings.segment(tx, acting.tenant, segment.id, changing=True) if segment.id is not None else None
            if kept is not None:
                _check_keeper(kept, acting, "overwrite")
            saved = evolve(
                segment,
                id=segment.id or self._ids(),
                tenant=acting.tenant,
                creator=kept.creator if kept is not None else acting.id,
            )
            _settings.put_segment(tx, acting.tenant, saved)
            return saved

    def segments(self, tenant: Tenant | str, *, kind: str | None = None) -> tuple[Segment, ...]:
        """Return a tenant's saved segments, of one kind or all, by id.

        Raises:
            UnknownTenantError, UnknownKindError: no such tenant, or no such record kind.
        """
        if kind is not None:
            self.rulebook.policy(kind)
        with self._reading() as tx:
            home = self._tenant(tx, tenant)
            return tuple(s for s in _settings.segments(tx, home.id) if kind is None or s.kind == kind)

    def segment(self, tenant: Tenant | str, id: str) -> Segment:
        """Return a tenant's saved segment.

        Raises:
            UnknownTenantError, UnknownSegmentError: no such tenant, or no such segment of it.
        """
        with self._reading() as tx:
            home = self._tenant(tx, tenant)
            saved = _settings.segment(tx, home.id, id)
            if saved is None:
                raise UnknownSegmentError(f"Tenant {home.id!r} has no segment {id!r}; save it first.")
            return saved

    @retried
    def delete_segment(self, tenant: Tenant | str, id: str, *, actor: UserLike) -> None:
        """Remove a tenant's saved segment; its records are untouched. Only its creator or an admin may.

        Raises:
            UnknownTenantError, UnknownSegmentError: no such tenant or segment.
            ForeignActorError: the actor is of another tenant.
            AccessDeniedError: the actor neither saved the segment nor is an admin of the tenant.
        """
        with self._writing() as tx:
            home = self._tenant(tx, tenant)
            acting = self._actor(tx, actor)
            if acting.tenant != home.id:
                raise ForeignActorError(f"{acting.name} cannot delete the segments of tenant {home.id!r}.")
            kept = _settings.segment(tx, home.id, id, changing=True)
            if kept is None:
                raise UnknownSegmentError(f"Tenant {home.id!r} has no segment {id!r}; there is nothing to delete.")
            _check_keeper(kept, acting, "delete")
            _settings.delete_segment(tx, home.id, id)


def _check_keeper(kept: Segment, acting: User, doing: str) -> None:
    """Refuse to overwrite or delete a saved segment for a user who neither saved it nor is an admin (CT5)."""
    if acting.id != kept.creator and not acting.admin:
        raise AccessDeniedError(
            f"{acting.name} may not {doing} segment {kept.name or kept.id!r}: only the user who saved it "
            f"or an admin of tenant {kept.tenant!r} may."
        )
