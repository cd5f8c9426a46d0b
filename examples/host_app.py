"""A small CRM over its own SQLite tables, with `ownership` embedded in the same database file.

Run it: ``python examples/host_app.py`` (a temporary database) or ``python examples/host_app.py --db crm.db``.
The CRM lists "my deals" with one query of its own, joined with the filter `ownership` compiles (docs/embedding.md).
"""

import argparse
import sys
import tempfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Row, String, Table, delete, insert, select

from ownership import (
    Dispatched,
    InactiveUserError,
    Notification,
    Ownership,
    Profile,
    RecordRef,
    UnknownRecordError,
    User,
    presets,
)
from ownership.adapters.sql import SqlRepository, create_schema, make_engine, where
from ownership.filters import EVERYTHING

TENANT = "acme"  # one company uses this CRM

host = MetaData()  # the CRM's own tables, made by the CRM
deals = Table(
    "deals", host, Column("id", Integer, primary_key=True), Column("title", String), Column("amount", Integer)
)
# ownership keeps ids as text; `where` finds this integer id by its own key, from the ids that are integers.
app_users = Table(
    "app_users", host, Column("id", Integer, primary_key=True), Column("name", String), Column("email", String)
)


class Mailer:
    """The CRM's notifier: it e-mails each recipient; it has `deliver`, so it is an `ownership.Notifier`."""

    def __init__(self, crm: "Crm") -> None:
        self.crm = crm
        self.sent: list[tuple[str, str, str]] = []  # (notification key, address, subject)

    def deliver(self, notifications: Sequence[Notification]) -> Collection[str] | None:
        """Send one e-mail per notification, to the address in the CRM's own users table; none is refused."""
        addresses = self.crm.emails(n.recipient for n in notifications)
        for n in notifications:
            subject = f"{n.activity}: deal {n.record.id}"
            self.sent.append((n.key, addresses[n.recipient], subject))
            print(f"  mail to {addresses[n.recipient]}: {subject}")
        return None


class Crm:
    """The CRM: its engine, its tables, and the `Ownership` it embeds over the same database.

    Args:
        url: a SQLAlchemy URL: a SQLite file here, or a PostgreSQL database, with nothing else changed.
    """

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)  # set up as ownership needs it, shared by the CRM's own queries
        host.create_all(self.engine)  # the CRM's tables (a real CRM has its migrations)
        create_schema(self.engine)  # ownership's tables beside them, and its schema version
        self.repository = SqlRepository(self.engine)
        self.mailer = Mailer(self)
        self.own = Ownership(presets.account_managers(), self.repository, notifier=self.mailer)

    def close(self) -> None:
        """Close the database connections."""
        self.repository.close()

    def add_user(self, name: str, email: str, *, admin: bool = False, restricted: bool = False) -> User:
        """Add a user to the CRM's table, then to ownership by the same id; a restricted one sees only their deals."""
        with self.engine.begin() as connection:
            id = connection.execute(insert(app_users).values(name=name, email=email)).inserted_primary_key[0]
        profile = Profile(restricted={"deal"} if restricted else ())
        return self.own.add_user(TENANT, name, id=str(id), admin=admin, profile=profile)

    def create_deal(self, title: str, amount: int, *, by: User) -> int:
        """Write the deal's row, then tell ownership, which makes its creator responsible (TL2).

        The two are two transactions. Should ownership refuse, the row is deleted
        again; should the process die in between, the row is untracked, and no
        one's list shows it (`untracked_deals` finds it).
        """
        with self.engine.begin() as connection:
            id = connection.execute(insert(deals).values(title=title, amount=amount)).inserted_primary_key[0]
        try:
            self.own.create("deal", actor=by, id=str(id), name=title)
        except Exception:
            with self.engine.begin() as connection:
                connection.execute(delete(deals).where(deals.c.id == id))
            raise
        return int(id)

    def my_deals(self, viewer: User, *, limit: int = 20, after: int | None = None) -> Sequence[Row[Any]]:
        """Return a page of the deals `viewer` may see, with the CRM's own columns: one query, by id."""
        allowed = self.own.filter(viewer, "view", "deal")
        query = select(deals).where(where(allowed, kind="deal", id=deals.c.id)).order_by(deals.c.id).limit(limit)
        if after is not None:
            query = query.where(deals.c.id > after)
        with self.engine.connect() as connection:
            return connection.execute(query).all()

    def all_my_deals(self, viewer: User, *, page: int = 20) -> Iterator[Row[Any]]:
        """Yield every deal `viewer` may see, reading a page at a time."""
        after = None
        while rows := self.my_deals(viewer, limit=page, after=after):
            yield from rows
            after = rows[-1].id

    def show_deal(self, viewer: User, id: int) -> Row[Any] | None:
        """Return the deal's row if `viewer` may see it, else None; ownership decides before the CRM reads."""
        try:
            if not self.own.can(viewer, "view", RecordRef("deal", str(id))):
                return None
        except UnknownRecordError:
            return None  # a row ownership does not track is no one's to see
        with self.engine.connect() as connection:
            return connection.execute(select(deals).where(deals.c.id == id)).one_or_none()

    def untracked_deals(self) -> list[int]:
        """Return the ids of the CRM's deals that ownership does not track (left by a crash in `create_deal`)."""
        tracked = where(EVERYTHING, kind="deal", id=deals.c.id)  # holds for every deal ownership tracks
        with self.engine.connect() as connection:
            return list(connection.execute(select(deals.c.id).where(~tracked).order_by(deals.c.id)).scalars())

    def offboard(self, leaving: User, successor: User, *, by: User) -> int:
        """Hand everything `leaving` holds to `successor` in one unit (X3), then deactivate them."""
        moved = self.own.transfer(leaving, successor, actor=by)
        self.own.update_user(leaving, active=False)
        return moved

    def send_notifications(self) -> Dispatched:
        """Deliver what the outbox holds to the mailer, at least once (X7)."""
        return self.own.dispatch()

    def emails(self, ids: Iterable[str]) -> dict[str, str]:
        """Return the e-mail address of each user id, from the CRM's own table."""
        wanted = {int(id) for id in ids}
        with self.engine.connect() as connection:
            rows = connection.execute(select(app_users.c.id, app_users.c.email).where(app_users.c.id.in_(wanted)))
            return {str(id): email for id, email in rows}


def story(crm: Crm) -> None:
    """Play the CRM's day: deals made, lists by viewer, a refusal, an offboarding, the mail."""
    own = crm.own
    own.add_tenant(TENANT, name="Acme Ltd", plan="go")
    bea = crm.add_user("Bea", "bea@acme.example", admin=True)
    anna = crm.add_user("Anna", "anna@acme.example")
    bob = crm.add_user("Bob", "bob@acme.example", restricted=True)
    carl = crm.add_user("Carl", "carl@acme.example", restricted=True)
    for title, amount, by in [
        ("Complicated lamp", 1_200, anna),
        ("Fleet of vans", 48_000, bob),
        ("Office chairs", 3_500, anna),
        ("Coffee for a year", 900, bob),
        ("Server racks", 21_000, carl),
    ]:
        id = crm.create_deal(title, amount, by=by)
        print(f"{by.name} creates deal {id}: {title} ({amount})")
    for viewer, why in [(bea, "admin"), (anna, "unrestricted"), (bob, "restricted"), (carl, "restricted")]:
        listed = [(row.id, row.title, row.amount) for row in crm.all_my_deals(viewer, page=2)]
        print(f"{viewer.name}'s deals ({why}): {listed}")
    for viewer, id in [(carl, 2), (anna, 2)]:
        row = crm.show_deal(viewer, id)
        print(f"{viewer.name} opens deal {id}:", "refused" if row is None else f"{row.title}, {row.amount}")
    print(f"Bob leaves; {crm.offboard(bob, carl, by=bea)} holdings go to Carl")
    print("Carl's deals now:", [row.title for row in crm.all_my_deals(carl)])
    print("Bob's deals now:", [row.title for row in crm.all_my_deals(bob)], "(inactive)")
    try:
        crm.create_deal("One more", 10, by=bob)
    except InactiveUserError as error:
        print("Bob's new deal is refused, and its row deleted again:", error)
    print("Sending notifications:")
    print("delivered:", len(crm.send_notifications().delivered), "then:", len(crm.send_notifications().delivered))
    print("untracked deals:", crm.untracked_deals())


def main(argv: Sequence[str] | None = None) -> None:
    """Run the story on a temporary SQLite file, or on a new one named by ``--db``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a new SQLite file to keep the CRM in (default: a temporary one)")
    arguments = parser.parse_args(argv)
    if arguments.db is not None and arguments.db.exists():
        parser.error(f"{arguments.db} exists already; name a new file")
    with tempfile.TemporaryDirectory() as folder:
        path = arguments.db or Path(folder) / "crm.db"
        print("database:", path)
        crm = Crm(f"sqlite:///{path}")
        try:
            story(crm)
        finally:
            crm.close()


if __name__ == "__main__":
    main(sys.argv[1:])
