"""Access questions: may this user do this to this record, why, and which records may they list (X1, X6).

Each answer comes from the kind's one rule: `can` and `explain` decide one
record with it, `visible`, `filter` and `checker` compile it for the viewer.
"""

from collections.abc import Sequence

from attrs import frozen

from ownership.access import GATE, Decision, Facts, Predicate, Reason, Viewer
from ownership.filters import Filter, Test, compiled
from ownership.model import Assignment, IdPage, Page, Record, RecordLike, Tenant, User, UserLike
from ownership.ports import Transaction
from ownership.usecases._sharing import record_grants
from ownership.usecases._viewing import Viewing, managers_of


@frozen
class Permitted:
    """A user who may do an action on a record, and the leaves of the rule that let them.

    Attributes:
        user: the user, active and of a tenant taking part in the record (what every rule sits behind).
        reasons: the leaves of the kind's rule that matched for them, each with why, in words.
    """

    user: User
    reasons: tuple[Reason, ...]


class Questions(Viewing):
    """Deciding, explaining and listing what a viewer may do, from one rule per kind."""

    def can(self, viewer: UserLike, action: str, record: RecordLike) -> bool:
        """Return whether `viewer` may do `action` (view, edit, assign) on `record`.

        Only active users of a tenant taking part in the record may do
        anything; the kind's rule for the action decides the rest. The answer
        agrees with `explain` and with `visible`, which use the same rule.

        Raises:
            UnknownUserError, UnknownRecordError: no such user or record.
            RulebookError: `action` is not one of view, edit, assign.
        """
        if self._generations is not None:
            glanced = self._can_at_a_glance(viewer, action, record)
            if glanced is not None:
                return glanced
        with self._reading() as tx:
            found, rule, seeing, held = self._question(tx, viewer, action, record)
            return self._allowed(seeing, action, rule, found, held)

    def _can_at_a_glance(self, viewer: UserLike, action: str, record: RecordLike) -> bool | None:
        """`can` from one look at the store, for a viewer kept from before; None when it takes a unit of work.

        The look reads the generation, the record and its holders in one statement: if the viewer was
        resolved at that generation, the kept viewer and the record read are of one moment.
        """
        assert self._generations is not None
        user = viewer.id if isinstance(viewer, User) else viewer
        ref = record.ref if isinstance(record, Record) else record
        if (user, ref.kind) not in self._viewers:
            return None
        looked = self._generations.look(ref)
        kept = self._kept_viewer(user, ref.kind, looked.generation)
        if kept is None or looked.record is None:
            return None
        rule = self.rulebook.policy(ref.kind).rule(action)
        return self._allowed(kept.viewer, action, rule, looked.record, looked.assignments)

    def explain(self, viewer: UserLike, action: str, record: RecordLike) -> Decision:
        """Return whether `viewer` may do `action` on `record`, with every leaf of the rule and whether it matched (X1).

        Raises:
            UnknownUserError, UnknownRecordError: no such user or record.
            RulebookError: `action` is not one of view, edit, assign.
        """
        with self._reading() as tx:
            found, rule, seeing, held = self._question(tx, viewer, action, record)
            allowed, reasons = (GATE & rule).explain(seeing, Facts(found, held))
            return Decision(allowed, str(rule), reasons)

    def who_can(
        self, action: str, record: RecordLike, *, viewer: UserLike | None = None, tenant: Tenant | str | None = None
    ) -> tuple[Permitted, ...]:
        """Return the users who may do `action` on `record`, each with why, from the rule `can` applies.

        The users asked about are the active users of the tenants taking part
        in the record: its home and those it is shared with. A tenant learns
        nothing of another's people: with `viewer`, only the users of the
        viewer's tenant are listed, and only to a viewer who may view the
        record; with `tenant`, only that tenant's. Users are in tenant and id
        order. Every user of those tenants is decided, so it reads as many
        users as they have.

        Raises:
            UnknownUserError, UnknownRecordError, UnknownTenantError: no such user, record or tenant.
            ForeignActorError: the record is not shared with the viewer's tenant or `tenant`.
            AccessDeniedError: `viewer` may not view the record.
            InvalidValueError: both `viewer` and `tenant`, of different tenants.
            RulebookError: `action` is not one of view, edit, assign.
        """
        with self._reading() as tx:
            found, seen_by = self._view(tx, record, viewer, tenant)
            rule = self.rulebook.policy(found.kind).rule(action)
            held = tx.assignments(found.ref)
            if viewer is not None:
                self._check_sees(tx, viewer, found, held, asking=f"ask who may {action} it")
            policy = self.rulebook.policy(found.kind)
            # The record's grants, read once, where the kind's rules read grants.
            grants = record_grants(tx, found.ref) if policy.reads_grants else None
            permitted = []
            for part in [seen_by] if seen_by is not None else sorted(found.tenants):
                # Who reports to whom, read once for the tenant's people, where the kind's rules read teams.
                managers = managers_of(tx, part) if policy.reads_team else None
                for user in tx.users(part):
                    if not user.active:
                        continue  # the gate refuses them whatever the rule says
                    # The gate holds for the rest (active, of a tenant taking part): the rule alone decides, says why.
                    seeing = self._viewer(tx, user, found.kind, managers=managers, grants=grants, keep=False)
                    allowed, reasons = rule.explain(seeing, Facts(found, held))
                    if allowed:
                        permitted.append(Permitted(user, tuple(reason for reason in reasons if reason.matched)))
            return tuple(permitted)

    def _question(
        self, tx: Transaction, viewer: UserLike, action: str, record: RecordLike
    ) -> tuple[Record, Predicate, Viewer, Sequence[Assignment]]:
        """Read what deciding `action` on `record` for `viewer` takes: the record, the rule, the viewer, the holders."""
        found = self._record(tx, record)
        rule = self.rulebook.policy(found.kind).rule(action)
        return found, rule, self._viewer(tx, viewer, found.kind), tx.assignments(found.ref)

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
        rule = self.rulebook.policy(kind).rule(action)
        with self._reading() as tx:
            seeing = self._viewer(tx, viewer, kind)
            return self._page(tx, kind, self._filter_for(seeing, rule), seeing, limit=limit, after=after)

    def visible_ids(
        self, viewer: UserLike, kind: str, *, action: str = "view", limit: int = 100, after: str | None = None
    ) -> IdPage:
        """Return the ids of the records of `kind` that `viewer` may do `action` on, a page at a time (X6).

        As `visible`, from the same rule, without the records' holders: for a
        host that reads the rows from its own tables.

        Raises:
            UnknownUserError, UnknownKindError: no such user or kind.
            RulebookError: `action` is not one of view, edit, assign.
            InvalidValueError: `limit` is below 1.
        """
        rule = self.rulebook.policy(kind).rule(action)
        found = self._ids_at_a_glance(viewer, action, kind, rule, limit=limit + 1, after=after)
        if found is None:
            with self._reading() as tx:
                seeing = self._viewer(tx, viewer, kind)
                found = [r.id for r in tx.select(kind, self._filter_for(seeing, rule), limit=limit + 1, after=after)]
        ids = tuple(found[:limit])
        return IdPage(ids, ids[-1] if len(found) > limit else None)

    def _ids_at_a_glance(
        self, viewer: UserLike, action: str, kind: str, rule: Predicate, *, limit: int, after: str | None
    ) -> Sequence[str] | None:
        """`visible_ids`'s ids from one look at the store, for a viewer kept from before; None when it takes a unit.

        The look reads the generation beside the page: if the viewer was resolved at that generation, the
        filter compiled for them and the page read are of one moment.
        """
        kept = self._viewers.get((viewer.id if isinstance(viewer, User) else viewer, kind))
        if self._generations is None or kept is None:
            return None
        allowed = self._kept_filter(kept, action, rule)
        generation, ids = self._generations.look_ids(kind, allowed, limit=limit, after=after)
        return ids if kept.fresh(generation, self._clock()) else None

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
        user = viewer.id if isinstance(viewer, User) else viewer
        if (user, kind) in self._viewers:
            kept = self._kept_viewer(user, kind, self._generation(None))
            if kept is not None:
                # Kept with the viewer: resolved at the store's generation now, so no unit of work is needed.
                return self._kept_filter(kept, action, rule)
        with self._reading() as tx:
            return self._filter_for(self._viewer(tx, viewer, kind), rule)
