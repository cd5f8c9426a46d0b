"""Dispatch benchmark: notifications delivered a second by 1, 2 and 4 dispatchers, against a hand-written outbox.

Each run fills an outbox with `--notifications` notifications and lets 1, 2 or
4 dispatcher threads drain it into a notifier that accepts everything, 100 a
batch. `Ownership.dispatch` claims a batch under a lease in one unit of work,
hands it over, and settles it in another. The baseline is what a host would
write on its own data: its own outbox table, polled in one transaction that
selects a batch ``FOR UPDATE SKIP LOCKED`` (SQLite: under its one writer, taken
at ``BEGIN IMMEDIATE``), delivers it and marks it delivered, in plain
SQLAlchemy Core. Both are measured in the same run, each the best of three
rounds, and the figure that matters is their ratio (the machine is shared, so
absolute rates drift).

Run it with ``nox -s bench``, or ``python benchmarks/bench_dispatch.py
[--postgresql URL] [--notifications N]``; PostgreSQL is measured when a URL is
given or ``OWNERSHIP_POSTGRES_URL`` is set, a SQLite file always.
"""

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    false,
    insert,
    select,
    update,
)

from ownership import Channel, Notification, Ownership, RecordRef, presets
from ownership.adapters import sql
from ownership.serde import structure, unstructure

BATCH = 100
WORKERS = (1, 2, 4)
ROUNDS = 3  # each figure is the best of these, as the machine is shared
AT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)

baseline_metadata = MetaData()
baseline_outbox = Table(
    "bench_outbox",
    baseline_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("body", JSON, nullable=False),
    Column("delivered", Boolean, nullable=False, default=False),
)


class AcceptingNotifier:
    """A notifier that accepts every batch and counts what it was given."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def deliver(self, notifications: Sequence[Notification]) -> Collection[str]:
        """Accept the batch."""
        with self._lock:
            self.count += len(notifications)
        return ()


def notifications(count: int) -> list[Notification]:
    """`count` notifications of one deal, to as many users."""
    deal = RecordRef("deal", "D-1")
    return [
        Notification(f"deal/D-1/{n}/user-{n}", f"user-{n}", deal, "note_added", None, AT, Channel.PUSH)
        for n in range(count)
    ]


def timed(workers: int, drain: Callable[[], None]) -> float:
    """Seconds `workers` threads running `drain` at once take until every one has returned."""
    start = threading.Barrier(workers + 1)

    def work() -> None:
        start.wait()
        drain()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


# --- ownership ------------------------------------------------------------------------------------------------


def measure_ownership(url: str, items: list[Notification], workers: int) -> float:
    """Notifications a second `workers` dispatchers deliver from a fresh outbox of `items`."""
    engine = sql.make_engine(url)
    sql.drop_schema(engine)
    sql.create_schema(engine)
    repository = sql.SqlRepository(engine)
    with repository.transaction() as tx:
        for notification in items:
            tx.enqueue(notification)
    own = Ownership(presets.account_managers(), repository)
    notifier = AcceptingNotifier()

    def drain() -> None:
        while own.dispatch(notifier, limit=BATCH).delivered:
            pass

    seconds = timed(workers, drain)
    assert notifier.count == len(items), (notifier.count, len(items))
    engine.dispose()
    return len(items) / seconds


# --- the baseline: a host's own outbox ----------------------------------------------------------------------


def baseline_engine(url: str) -> Engine:
    """An engine on `url`; on SQLite its transactions take the one writer at once (BEGIN IMMEDIATE), in WAL mode."""
    if not url.startswith("sqlite"):
        return create_engine(url, isolation_level="READ COMMITTED")
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "begin")
    def begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def measure_baseline(url: str, items: list[Notification], workers: int) -> float:
    """Notifications a second `workers` pollers deliver from a fresh hand-written outbox of `items`."""
    engine = baseline_engine(url)
    baseline_metadata.drop_all(engine)
    baseline_metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(baseline_outbox), [{"key": n.key, "body": unstructure(n)} for n in items])
    notifier = AcceptingNotifier()
    due = (
        select(baseline_outbox.c.id, baseline_outbox.c.body)
        .where(baseline_outbox.c.delivered == false())
        .order_by(baseline_outbox.c.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )

    def drain() -> None:
        while True:
            with engine.begin() as connection:
                rows = connection.execute(due).all()
                if not rows:
                    return
                notifier.deliver([structure(row.body, Notification) for row in rows])
                connection.execute(
                    update(baseline_outbox).where(baseline_outbox.c.id.in_([row.id for row in rows])),
                    {"delivered": True},
                )

    seconds = timed(workers, drain)
    assert notifier.count == len(items), (notifier.count, len(items))
    baseline_metadata.drop_all(engine)
    engine.dispose()
    return len(items) / seconds


def report(store: str, url: str, items: list[Notification]) -> None:
    """Print, for each number of dispatchers, both rates and their ratio."""
    print(f"\n{store}: {len(items)} notifications, batches of {BATCH}")
    print(f"{'dispatchers':>12} {'ownership/s':>12} {'baseline/s':>12} {'ratio':>7}")
    for workers in WORKERS:
        ours = max(measure_ownership(url, items, workers) for _ in range(ROUNDS))
        theirs = max(measure_baseline(url, items, workers) for _ in range(ROUNDS))
        print(f"{workers:>12} {ours:>12,.0f} {theirs:>12,.0f} {ours / theirs:>7.2f}")


def main() -> None:
    """Measure on a SQLite file, and on PostgreSQL when a URL is given or OWNERSHIP_POSTGRES_URL is set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", default=os.environ.get("OWNERSHIP_POSTGRES_URL"))
    parser.add_argument("--notifications", type=int, default=5_000)
    arguments = parser.parse_args()
    items = notifications(arguments.notifications)
    with tempfile.TemporaryDirectory() as directory:
        report("SQLite file", f"sqlite:///{Path(directory) / 'dispatch.db'}", items)
    if arguments.postgresql:
        report("PostgreSQL", arguments.postgresql, items)


if __name__ == "__main__":
    main()
