"""Access benchmark: `can`, a prepared checker and `visible` against their baselines, in one run.

World: 10,000 users (1 % admins), 1,000 caretaker groups (3 per user),
100,000 records of kind ``account`` each with one ``owner`` and one caretaker
group; rule: holds the role OR in the record's caretaker group OR admin.
Reported side by side, as ratios measured in the same run (the machine is
shared, so absolute times drift; ratios do not):

- checks/s of `can` and of a prepared checker against a plain hand-written
  Python function on the same data and against django-rules' ``rules``;
- `visible()` for one non-admin against a loop of `can` over every record,
  and the same at 1,000,000 records (``--large``).

Run it with ``nox -s bench`` (which installs ``rules``), or
``python benchmarks/bench_access.py [--large]``.
"""

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from ownership import Access, Assignee, GroupKind, Ownership, Policy, Role, Rulebook, User
from ownership.access import holds, in_caretaker_group, is_admin
from ownership.adapters.memory import MemoryRepository
from ownership.model import Assignment, Group, Membership, Record, Tenant
from ownership.testing import FakeClock

TENANT = "bench"
RULE = is_admin | holds("owner") | in_caretaker_group("caretaker_group")


def rulebook() -> Rulebook:
    """The benchmark's one kind and its rule."""
    return Rulebook(
        (
            Policy(
                "account",
                (
                    Role("owner", grants_access=True),
                    Role("caretaker_group", users=False, groups={GroupKind.CARETAKER}, grants_access=True),
                ),
                access=Access(view=RULE),
            ),
        )
    )


class World:
    """The generated data, kept also as plain dictionaries for the hand-written baseline."""

    def __init__(self, users: int, groups: int, records: int, *, crowd_after: int | None = None, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.clock = FakeClock()
        self.repo = MemoryRepository()
        self.own = Ownership(rulebook(), self.repo, clock=self.clock)
        self.groups_of: dict[str, frozenset[str]] = {}
        self.users = [User(f"u{i}", TENANT, f"User {i}", admin=i % 100 == 0) for i in range(users)]
        for user in self.users:
            self.groups_of[user.id] = frozenset(f"g{g}" for g in rng.sample(range(groups), 3))
        self.pairs: list[tuple[Record, Sequence[Assignment]]] = []
        viewer = self.viewer()
        at = self.clock.now
        # Loaded through one transaction of the repository: the benchmark measures reads, and the
        # use cases' own cost per write is measured by the SQL benchmarks.
        with self.repo.transaction() as tx:
            tx.put_tenant(Tenant(TENANT, "Bench"))
            for g in range(groups):
                tx.put_group(Group(f"g{g}", TENANT, f"Group {g}", GroupKind.CARETAKER))
            for user in self.users:
                tx.put_user(user)
                for group in self.groups_of[user.id]:
                    tx.put_membership(Membership(group, user.id))
            others = [f"g{g}" for g in range(groups) if f"g{g}" not in self.groups_of[viewer.id]]
            for r in range(records):
                record = Record("account", f"r{r:07d}", TENANT, at)
                # Past `crowd_after`, records go to everyone but the viewer: the total grows, their rows do not.
                crowd = crowd_after is not None and r >= crowd_after
                owner_id = f"u{rng.randrange(2, users)}" if crowd else f"u{rng.randrange(users)}"
                group_id = rng.choice(others) if crowd else f"g{rng.randrange(groups)}"
                owner = Assignment(record.ref, "owner", Assignee.user(owner_id), TENANT, at)
                group = Assignment(record.ref, "caretaker_group", Assignee.group(group_id), TENANT, at)
                tx.put_record(record)
                tx.add_assignment(owner)
                tx.add_assignment(group)
                self.pairs.append((record, (owner, group)))

    def viewer(self) -> User:
        """A non-admin viewer."""
        return self.users[1]


def plain(user: User, groups: frozenset[str], _record: Record, assignments: Sequence[Assignment]) -> bool:
    """The hand-written baseline: admin, owner, or one of the user's groups holds the record."""
    if user.admin:
        return True
    for a in assignments:
        if a.role == "owner" and a.assignee.id == user.id:
            return True
        if a.role == "caretaker_group" and a.assignee.id in groups:
            return True
    return False


def best(run: Callable[[], object], repeat: int = 15) -> float:
    """The best of `repeat` timings of `run`, in seconds."""
    return best_of(run, repeat=repeat)[0]


def best_of(*runs: Callable[[], object], repeat: int = 15) -> list[float]:
    """The best of `repeat` timings of each run, in seconds, taken in turns.

    Taking the runs in turns, not one after the other, lets a change in the
    shared machine's load fall on both sides of a ratio alike.
    """
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, taken in zip(runs, times, strict=True):
            start = time.perf_counter()
            run()
            taken.append(time.perf_counter() - start)
    return [min(taken) for taken in times]


def rules_baseline(world: World, viewer: User, sample: Sequence[tuple[Record, Sequence[Assignment]]]) -> float:
    """Checks/s of django-rules' ``rules`` answering the same question as `can`, or 0 if it is not installed.

    Like `can`, it is given a user and a record and reads what it needs (the
    user's live memberships, the record's assignments) from the same
    repository, as a host using ``rules`` over that store would.
    """
    try:
        import rules  # type: ignore[import-not-found]  # noqa: PLC0415 - installed only for `nox -s bench`
    except ImportError:
        return 0.0
    repo, clock = world.repo, world.clock

    @rules.predicate
    def is_admin_(user: User) -> bool:
        return user.admin

    @rules.predicate
    def owns(user: User, record: Record) -> bool:
        with repo.transaction() as tx:
            held = tx.assignments(record.ref)
        return any(a.role == "owner" and a.assignee.id == user.id for a in held)

    @rules.predicate
    def in_group(user: User, record: Record) -> bool:
        with repo.transaction() as tx:
            mine = {m.group for m in tx.memberships_of_user(user.id) if m.live(clock.now)}
            held = tx.assignments(record.ref)
        return any(a.role == "caretaker_group" and a.assignee.id in mine for a in held)

    rule_set = rules.RuleSet()
    rule_set.add_rule("view_account", is_admin_ | owns | in_group)
    records = [record for record, _ in sample]
    seconds = best(lambda: [rule_set.test_rule("view_account", viewer, record) for record in records])
    return len(records) / seconds


def measure(records: int, *, crowd_after: int | None = None, sample_size: int = 20_000) -> dict[str, float]:
    """Build a world of `records` records and return every figure of the benchmark."""
    started = time.perf_counter()
    world = World(users=10_000, groups=1_000, records=records, crowd_after=crowd_after)
    print(f"  built {records:,} records in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    own, viewer = world.own, world.viewer()
    sample = random.Random(1).sample(world.pairs, min(sample_size, len(world.pairs)))
    groups = world.groups_of[viewer.id]
    checker = own.checker(viewer, "view", "account")

    figures: dict[str, float] = {}
    plain_s, checker_s = best_of(
        lambda: [plain(viewer, groups, r, a) for r, a in sample], lambda: [checker(r, a) for r, a in sample]
    )
    figures["plain checks/s"] = len(sample) / plain_s
    figures["checker checks/s"] = len(sample) / checker_s
    figures["can checks/s"] = len(sample[:5_000]) / best(
        lambda: [own.can(viewer, "view", r) for r, _ in sample[:5_000]]
    )
    figures["rules checks/s"] = rules_baseline(world, viewer, sample)

    page = own.visible(viewer, "account", limit=records)
    assert page.cursor is None
    expected = {r.id for r, a in world.pairs if plain(viewer, groups, r, a)}
    assert {r.id for r in page.records} == expected, "visible() disagrees with the plain function"
    figures["visible rows"] = len(page.rows)
    figures["visible s"] = statistics.median(
        [best(lambda: own.visible(viewer, "account", limit=records), repeat=1) for _ in range(7)]
    )
    if records <= 100_000:
        figures["loop s"] = best(lambda: [r for r, _ in world.pairs if own.can(viewer, "view", r)], repeat=1)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also measure visible() at 1,000,000 records")
    args = parser.parse_args(argv)

    small = measure(100_000)
    loop_s = small["loop s"]

    print("access benchmark, 100,000 records (ratios measured in this run)")
    print(f"  plain function     {small['plain checks/s']:>12,.0f} checks/s")
    print(
        f"  prepared checker   {small['checker checks/s']:>12,.0f} checks/s"
        f"   {small['checker checks/s'] / small['plain checks/s']:.2f}x plain (target >= 0.5x)"
    )
    if small["rules checks/s"]:
        print(f"  django-rules       {small['rules checks/s']:>12,.0f} checks/s")
        print(
            f"  can()              {small['can checks/s']:>12,.0f} checks/s"
            f"   {small['can checks/s'] / small['rules checks/s']:.2f}x rules (target >= 2x)"
        )
    else:
        print(f"  can()              {small['can checks/s']:>12,.0f} checks/s   (rules not installed: no ratio)")
    print(
        f"  visible()          {small['visible s'] * 1000:>12.2f} ms for {small['visible rows']:.0f} rows"
        f"   {loop_s / small['visible s']:.0f}x faster than can() over every record ({loop_s:.2f} s; target >= 50x)"
    )
    if args.large:
        large = measure(1_000_000, crowd_after=100_000, sample_size=1_000)
        print("access benchmark, 1,000,000 records")
        print(
            f"  visible()          {large['visible s'] * 1000:>12.2f} ms for {large['visible rows']:.0f} rows"
            f"   {large['visible s'] / small['visible s']:.2f}x the 100,000 figure (target <= 1.5x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
