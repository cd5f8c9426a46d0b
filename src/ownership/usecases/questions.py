"""Access questions: may this user do this to this record, why, and which records may they list (X1, X6).

Each answer comes from the kind's one rule: `can` and `explain` decide one
record with it, `visible`, `filter` and `checker` compile it for the viewer.
"""

from collections.abc import Sequence

from ownership.access import GATE, Decision, Facts, Predicate, Viewer
from ownership.filters import Filter, Test, compiled
from ownership.model import Assignment, Page, Record, RecordLike, UserLike
from ownership.ports import Transaction
from ownership.usecases._viewing import Viewing


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
        with self._reading() as tx:
            found, rule, seeing, held = self._question(tx, viewer, action, record)
            return self._allowed(seeing, action, rule, found, held)

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
        with self._reading() as tx:
            return self._filter_for(self._viewer(tx, viewer, kind), rule)
