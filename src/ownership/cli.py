"""The ``ownership`` command, for scripts and for a first look.

Every command but ``demo`` works on a database: a SQLite file's path or any
SQLAlchemy URL, given with ``--db`` or in ``OWNERSHIP_DB``. Commands that
apply rules take the rulebook with ``--rulebook`` (or ``OWNERSHIP_RULEBOOK``):
a preset's name or ``package.module:name`` of the host's own.

Exit codes: 0 done; 1 done, with something to look at (``audit`` found
something, ``explain`` refused, ``dispatch`` left notifications pending,
``reconcile`` or ``reconcile-users`` found drift); 2
the command could not be carried out, said in one line on standard error.
``--json`` prints what scripts read instead of tables.
"""

import argparse
import importlib
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeGuard, TypeVar

from ownership import demo, presets, serde
from ownership.errors import FeatureDisabledError, InvalidValueError, OwnershipError
from ownership.model import Assignee, AssigneeKind, RecordRef, when
from ownership.notify import Dispatched, Notifier
from ownership.policy import Rulebook
from ownership.service import DirectoryDrift, Drift, HostRecord, HostUser, Ownership, Snapshot

if TYPE_CHECKING:
    from ownership.adapters.sql import SqlRepository

PRESETS: dict[str, Callable[[], Rulebook]] = {
    "account_managers": presets.account_managers,
    "lead_exchange": presets.lead_exchange,
    "caretaker_groups": presets.caretaker_groups,
    "contact_desk": presets.contact_desk,
}
"""The rulebooks ``--rulebook`` knows by name, one per seed system."""

FOUND = 1
"""The exit code of a command that was carried out and found something to look at."""

FAILED = 2
"""The exit code of a command that could not be carried out."""


class CommandError(OwnershipError):
    """The command line asks for something that cannot be done; the sentence says what to change."""


class ProgressBar:
    """Draws ``label [#####.....] done/total`` on `stream` while long work goes on, if it is a terminal.

    Called as ``bar(done, total)``, it is a `Progress` callback for `Ownership`'s bulk work.
    """

    WIDTH = 30

    def __init__(self, label: str, stream: IO[str] | None = None) -> None:
        self._label = label
        self._stream = sys.stderr if stream is None else stream
        self._shown = self._stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        """Draw the bar at `done` of `total`, ending the line when the work is done."""
        if not self._shown or total <= 0:
            return
        filled = self.WIDTH * done // total
        self._stream.write(f"\r{self._label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total}")
        if done >= total:
            self._stream.write("\n")
        self._stream.flush()


def main(argv: Sequence[str] | None = None, *, ownership: Ownership | None = None) -> int:
    """Run the command line `argv` (the process's arguments if None) and return the exit code.

    With `ownership`, every command runs on it, and ``--db`` and ``--rulebook`` are not asked for: a host's own
    command (Django's ``manage.py ownership``) runs the commands on the `Ownership` it has.
    """
    args = _parser().parse_args(argv)
    args.ownership = ownership
    try:
        code: int = args.run(args)
    except OwnershipError as error:
        print(f"ownership: {error}", file=sys.stderr)
        return FAILED
    except BrokenPipeError:
        # The reader went away (`ownership demo | head`): stop quietly, as other commands do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


# --- the commands ---------------------------------------------------------------


def _demo(_args: argparse.Namespace) -> int:
    demo.play(print)
    return 0


def _audit(args: argparse.Namespace) -> int:
    with _opened(args) as own:
        tenants = args.tenants or [t.id for t in own.tenants()]
        bar = ProgressBar("auditing")
        rows = []
        for done, tenant in enumerate(tenants, 1):
            rows += [(tenant, f.kind, f.subject, f.message) for f in own.audit(tenant)]
            bar(done, len(tenants))
    _show(args, ("tenant", "finding", "subject", "message"), rows)
    if not args.json and not rows:
        print(f"Nothing to fix in {_counted(len(tenants), 'tenant')}.")
    return FOUND if rows else 0


def _transfer(args: argparse.Namespace) -> int:
    with _opened(args) as own:
        leaving, successor = own.user(args.leaving), own.user(args.successor)
        moved = own.transfer(leaving, successor, actor=args.actor)
    return _said(
        args,
        {"from": leaving.id, "to": successor.id, "moved": moved},
        f"{leaving.name} gave up {_counted(moved, 'holding')} to {successor.name}.",
    )


def _holders(args: argparse.Namespace) -> int:
    ref = _record_ref(args.record)
    with _opened(args) as own:
        record = own.record(ref)
        roles = [args.role] if args.role else [r.name for r in own.rulebook.policy(record.kind).roles]
        rows = []
        for role in roles:
            try:
                held = own.holders(record, role, viewer=args.viewer, tenant=args.tenant)
            except FeatureDisabledError:
                if args.role:
                    raise
                continue  # a role the tenant has not switched on has no holders to list
            for holder in held:
                name = ""
                if holder.kind is AssigneeKind.USER:
                    name = own.user(holder.id).name
                elif holder.kind is AssigneeKind.GROUP:
                    name = own.group(holder.id).name
                rows.append((role, holder.kind.value, holder.id or "", name))
    _show(args, ("role", "kind", "id", "name"), rows)
    return 0


def _explain(args: argparse.Namespace) -> int:
    ref = _record_ref(args.record)
    with _opened(args) as own:
        decision = own.explain(args.user, args.action, ref)
    if args.json:
        _print_json(serde.unstructure(decision))
    else:
        print(f"{args.user} may {args.action} {ref}" if decision else f"{args.user} may not {args.action} {ref}")
        print(f"  rule: {decision.rule}")
        for reason in decision.reasons:
            print(f"  {reason}")
    return 0 if decision else FOUND


def _who_can(args: argparse.Namespace) -> int:
    """List the users the rule lets do the action, with why; no one allowed is an answer too, so always 0."""
    ref = _record_ref(args.record)
    with _opened(args) as own:
        permitted = own.who_can(args.action, ref, viewer=args.viewer, tenant=args.tenant)
    if args.json:
        _print_json(serde.unstructure(list(permitted)))
        return 0
    because = ["; ".join(f"{reason.leaf}: {reason.because}" for reason in p.reasons) for p in permitted]
    _show(
        args,
        ("user", "tenant", "name", "because"),
        [(p.user.id, p.user.tenant, p.user.name, why) for p, why in zip(permitted, because, strict=True)],
    )
    if not permitted:
        print(f"No one may {args.action} {ref}.")
    return 0


def _grant(args: argparse.Namespace) -> int:
    ref, to = _record_ref(args.record), _assignee(args.to)
    with _opened(args) as own:
        grant = own.grant(ref, to, args.level, until=args.until, actor=args.actor)
    until = "" if grant.until is None else f" until {when(grant.until)}"
    return _said(args, serde.unstructure(grant), f"{ref} is shared with {to} to {grant.level}{until}.")


def _revoke(args: argparse.Namespace) -> int:
    ref, to = _record_ref(args.record), _assignee(args.to)
    with _opened(args) as own:
        grant = own.revoke(ref, to, actor=args.actor)
    return _said(args, serde.unstructure(grant), f"{ref} is no longer shared with {to}.")


def _grants(args: argparse.Namespace) -> int:
    ref = _record_ref(args.record)
    with _opened(args) as own:
        grants = own.grants(ref, viewer=args.viewer, tenant=args.tenant)
    if args.json:
        _print_json(serde.unstructure(list(grants)))
        return 0
    rows = [
        (g.assignee.kind.value, g.assignee.id or "", g.tenant, g.level, "never" if g.until is None else when(g.until))
        for g in grants
    ]
    _show(args, ("kind", "id", "tenant", "level", "until"), rows)
    if not grants:
        print(f"{ref} is granted to no one.")
    return 0


def _export(args: argparse.Namespace) -> int:
    with _opened(args, rulebook=Rulebook()) as own:
        text = _json_text(serde.unstructure(own.snapshot()))
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        _write(Path(args.output), text)
    return 0


def _import(args: argparse.Namespace) -> int:
    snapshot = _read_snapshot(args.file)
    file = _sqlite_file(_url(args.db)) if args.db else None
    made = file is not None and not file.exists()
    try:
        with _opened(args, rulebook=Rulebook(), create=True) as own:
            own.restore(snapshot, progress=ProgressBar("importing"))
    except BaseException:
        if made and file is not None:  # a refused import leaves no new, empty database behind
            for part in (file, file.with_name(f"{file.name}-wal"), file.with_name(f"{file.name}-shm")):
                part.unlink(missing_ok=True)
        raise
    counts = {"tenants": len(snapshot.tenants), "users": len(snapshot.users), "records": len(snapshot.records)}
    return _said(args, counts, f"Imported {', '.join(_counted(n, what[:-1]) for what, n in counts.items())}.")


def _reconcile(args: argparse.Namespace) -> int:
    rows = _read_rows(args.file)
    with _opened(args) as own:
        drift = own.reconcile(
            args.kind,
            rows,
            tenant=args.tenant,
            partial=args.partial,
            dry_run=args.dry_run,
            notify=args.notify,
            progress=ProgressBar("reconciling"),
        )
    removed = ("remove", drift.removed)
    return _show_drift(args, drift, removed, f"The {args.kind} records of {drift.tenant}", _counted(len(rows), "row"))


def _reconcile_users(args: argparse.Namespace) -> int:
    rows = _read_users(args.file)
    with _opened(args, rulebook=Rulebook()) as own:  # the directory answers to no rulebook
        return show_directory_drift(
            args,
            own.reconcile_users(rows, tenant=args.tenant, partial=args.partial, dry_run=args.dry_run),
            _counted(len(rows), "row"),
        )


def show_directory_drift(args: argparse.Namespace, drift: DirectoryDrift, source: str) -> int:
    """Print what `reconcile_users` found in `source` (JSON with ``--json``); return the exit code: 1 if not in step."""
    return _show_drift(args, drift, ("deactivate", drift.deactivated), f"The users of {drift.tenant}", source)


def _show_drift(
    args: argparse.Namespace, drift: Drift | DirectoryDrift, gone: tuple[str, Sequence[str]], what: str, source: str
) -> int:
    """Print a drift: the ids added, `gone` (what befell those the rows left out) and changed; then a sentence."""
    if args.json:
        _print_json(serde.unstructure(drift))
        return 0 if drift.in_step else FOUND
    found = (("add", drift.added), gone, ("change", [d.id for d in drift.changed]))
    for verb, ids in found:
        if ids:
            print(f"{f'would {verb}' if args.dry_run else _past(verb)}: {', '.join(ids)}")
    done = "in step" if drift.in_step else "not in step" if args.dry_run else "now in step"
    counts = ", ".join(f"{len(ids)} {f'to {verb}' if args.dry_run else _past(verb)}" for verb, ids in found)
    print(f"{what} are {done} with {source} ({counts}).")
    return 0 if drift.in_step else FOUND


def _past(verb: str) -> str:
    return f"{verb.removesuffix('e')}ed"


def _dispatch(args: argparse.Namespace) -> int:
    notifier = _notifier(args.notifier)
    if args.interval is not None and not args.watch:
        raise CommandError("--interval is how long --watch waits when nothing is pending; give it with --watch.")
    tally = _Tally()
    with _opened(args) as own:
        if args.watch:
            _watch(own, notifier, tally, limit=args.limit, interval=1.0 if args.interval is None else args.interval)
        else:
            _drain(own, notifier, tally, limit=args.limit)
        pending = {entry.notification.key for entry in own.outbox(pending=True)}
    refused = sorted(tally.refused & pending)
    if args.json:
        _print_json({"delivered": tally.delivered, "pending": len(pending), "refused": refused})
    else:
        left = f"{len(pending)} left pending" + (f", {len(refused)} of them refused by the notifier" if refused else "")
        print(f"Delivered {_counted(tally.delivered, 'notification')}; {left}.")
    return FOUND if pending and not args.watch else 0


class _Tally:
    """What the batches of one ``dispatch`` command did: how many keys went out, which were refused and are not yet."""

    def __init__(self) -> None:
        self.delivered = 0
        self.refused: set[str] = set()

    def add(self, done: Dispatched) -> bool:
        """Count the batch `done`; return whether it handed the notifier again a key it refused earlier in this run."""
        again = not self.refused.isdisjoint(done.failed)
        self.delivered += len(done.delivered)
        self.refused.difference_update(done.delivered)
        self.refused.update(done.failed)
        return again


def _drain(own: Ownership, notifier: Notifier, tally: _Tally, *, limit: int) -> None:
    """Dispatch batches until none is pending, or the notifier delivers none of a batch or refuses a key again."""
    while True:
        done = own.dispatch(notifier, limit=limit)
        refused_again = tally.add(done)
        # What the notifier refused stays pending and comes first in the next batch: handing it over a third time
        # in one run, or a batch of nothing but refusals, would go round without end.
        if not done.delivered or refused_again:
            return


def _watch(own: Ownership, notifier: Notifier, tally: _Tally, *, limit: int, interval: float) -> None:
    """Dispatch batch after batch, waiting `interval` seconds whenever one delivers nothing, until SIGTERM or SIGINT.

    A signal lets the batch in hand finish and be settled, so what the notifier took is not handed to it again.
    """
    stop = threading.Event()
    with _stopping_on_signals(stop):
        while not stop.is_set():
            done = own.dispatch(notifier, limit=limit)
            tally.add(done)
            if not done.delivered:
                stop.wait(interval)  # a signal sets `stop`, which ends the wait at once


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGTERM and SIGINT while the block runs; put back the handlers there were afterwards."""
    if threading.current_thread() is not threading.main_thread():
        raise CommandError(
            "dispatch --watch stops on SIGTERM and SIGINT, which only the main thread can catch; run it there."
        )

    def handle(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, handle) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            # None: a handler not set from Python, which cannot be put back; the default is the nearest.
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


# --- the parts they share -------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """The command's parser: a usage error is one line, as every other refusal is, with where to read more."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"ownership: {message.rstrip('.')}; see {self.prog} --help.\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ownership",
        description="Who is responsible for a record, who may see it, who must hear of it.",
        epilog="Exit codes: 0 done; 1 something found (audit, reconcile), refused (explain) "
        "or left pending (dispatch); 2 the command failed.",
    )
    _add_options(parser, on_database=True, defaults=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run)
        return sub

    def on_database(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        # The options may come after the command too; there they replace what came before it. Every command on
        # a database takes --rulebook, so one set of options serves them all; export and import do not read it.
        _add_options(sub, on_database=True, defaults=False)
        return sub

    _add_options(
        command("demo", _demo, "play one short scenario per seed system and tell it as a story"), defaults=False
    )
    audit = on_database(command("audit", _audit, "list what an admin must fix; exit code 1 when there is any"))
    audit.add_argument("tenants", nargs="*", metavar="TENANT", help="the tenants to audit (default: all)")
    transfer = on_database(command("transfer", _transfer, "hand everything a leaving user holds to a successor"))
    transfer.add_argument("--from", dest="leaving", required=True, metavar="USER", help="the id of the user leaving")
    transfer.add_argument("--to", dest="successor", required=True, metavar="USER", help="the id of the successor")
    transfer.add_argument("--actor", metavar="ADMIN", help="the id of the admin doing it (default: the script)")
    explain = on_database(command("explain", _explain, "say whether a user may act on a record, and why"))
    explain.add_argument("user", metavar="USER", help="the user's id")
    explain.add_argument("record", metavar="KIND:ID", help="the record, e.g. deal:d-17")
    explain.add_argument("--action", default="view", help="view (default), edit or another action of the policy")

    def on_record(name: str, run: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = on_database(command(name, run, help))
        sub.add_argument("record", metavar="KIND:ID", help="the record, e.g. deal:d-17")
        return sub

    _add_record_commands(on_record)
    export = on_database(command("export", _export, "write the whole state as JSON"))
    export.add_argument("-o", "--output", metavar="FILE", help="the file to write (default: standard output)")
    load = on_database(command("import", _import, "read an export into an empty database"))
    load.add_argument("file", metavar="FILE", help="the export to read, or - for standard input")
    reconcile = on_database(
        command(
            "reconcile",
            _reconcile,
            "make a tenant's records of a kind agree with the host's rows, and report the drift; "
            "exit code 1 when there was any",
        )
    )
    reconcile.add_argument("kind", metavar="KIND", help="the record kind, e.g. deal")
    reconcile.add_argument(
        "file", metavar="FILE", help="the host's rows as a JSON list (see Ownership.reconcile), or - for standard input"
    )
    reconcile.add_argument("--tenant", required=True, metavar="TENANT", help="the home tenant of the records")
    reconcile.add_argument(
        "--partial", action="store_true", help="the rows are only some of the host's records: forget none of the others"
    )
    reconcile.add_argument("--dry-run", action="store_true", help="only report the drift; change nothing")
    reconcile.add_argument("--notify", action="store_true", help="tell the new holders of notified roles")
    users = on_database(
        command(
            "reconcile-users",
            _reconcile_users,
            "make a tenant's users and their groups agree with the host's people, and report the drift; "
            "exit code 1 when there was any",
        )
    )
    users.add_argument(
        "file",
        metavar="FILE",
        help="the host's people as a JSON list (see Ownership.reconcile_users), or - for standard input",
    )
    users.add_argument("--tenant", required=True, metavar="TENANT", help="the tenant of the users")
    users.add_argument(
        "--partial", action="store_true", help="the rows are only some of the host's people: deactivate no one else"
    )
    users.add_argument("--dry-run", action="store_true", help="only report the drift; change nothing")
    dispatch = on_database(
        command("dispatch", _dispatch, "deliver the outbox's pending notifications to the host's notifier")
    )
    dispatch.add_argument(
        "--notifier",
        required=True,
        metavar="MODULE:NAME",
        help="package.module:name of the host's Notifier, or of a function returning one",
    )
    dispatch.add_argument(
        "--watch", action="store_true", help="keep delivering until SIGTERM or SIGINT (default: until none is pending)"
    )
    dispatch.add_argument(
        "--limit", type=_count, default=100, metavar="N", help="the most notifications in one batch (default: 100)"
    )
    dispatch.add_argument(
        "--interval",
        type=_seconds,
        metavar="SECONDS",
        help="with --watch, how long to wait when nothing is pending (default: 1)",
    )
    return parser


_RecordCommand = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
"""Adds a command on a database that names one record, ``KIND:ID``: its name, what runs it, its help."""


def _add_record_commands(on_record: _RecordCommand) -> None:
    """The commands on one record: who holds it, who may act on it, and whom it is granted to."""
    holders = on_record("holders", _holders, "list who holds each role of a record")
    holders.add_argument("--role", help="only this role")
    holders.add_argument("--viewer", metavar="USER", help="as this user's tenant sees the record (a shared one)")
    holders.add_argument(
        "--tenant", metavar="TENANT", help="as this tenant sees the record (a shared one whose tenants see it apart)"
    )
    who_can = on_record("who-can", _who_can, "list who may act on a record, and why")
    who_can.add_argument("--action", default="view", help="view (default), edit or another action of the policy")
    who_can.add_argument(
        "--viewer", metavar="USER", help="asked by this user, who must be able to view it: their tenant's people only"
    )
    who_can.add_argument("--tenant", metavar="TENANT", help="this tenant's people only")
    grant = on_record("grant", _grant, "share one record with a user or group, for good or until a moment")
    grant.add_argument("--to", required=True, metavar="user:ID|group:ID", help="whom to share it with")
    grant.add_argument("--level", choices=("view", "edit"), default="view", help="view (default) or edit")
    grant.add_argument(
        "--until", type=_moment, metavar="MOMENT", help="when it stops, e.g. 2030-01-01T00:00+00:00 (default: never)"
    )
    grant.add_argument("--actor", metavar="USER", help="the id of the user sharing it (default: the script)")
    revoke = on_record("revoke", _revoke, "take back a record's grant to a user or group")
    revoke.add_argument("--to", required=True, metavar="user:ID|group:ID", help="whose grant to take back")
    revoke.add_argument("--actor", metavar="USER", help="the id of the user taking it back (default: the script)")
    grants = on_record("grants", _grants, "list whom a record is granted to now, and until when")
    grants.add_argument("--viewer", metavar="USER", help="asked by this user, who must be able to view it")
    grants.add_argument("--tenant", metavar="TENANT", help="this tenant's grants only")


def _count(text: str) -> int:
    """An argument that is a whole number of at least 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"give a whole number of at least 1, not {text!r}")
    return number


def _moment(text: str) -> datetime:
    """An argument that is a moment with its offset from UTC, in ISO 8601 (``Z`` for UTC too); the moment in UTC."""
    try:
        moment = datetime.fromisoformat(f"{text[:-1]}+00:00" if text.endswith(("z", "Z")) else text)
        if moment.utcoffset() is not None:
            return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # not a moment, or one that is no moment in UTC (before year 1, after 9999)
        pass
    raise argparse.ArgumentTypeError(
        f"give a moment with its offset from UTC, e.g. 2030-01-01T00:00+00:00, not {text!r}"
    )


def _seconds(text: str) -> float:
    """An argument that is a number of seconds above 0, and finite."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"give a number of seconds above 0, not {text!r}")
    return seconds


def _add_options(parser: argparse.ArgumentParser, *, on_database: bool = False, defaults: bool) -> None:
    """Add the options every command takes; without `defaults`, an option left out keeps the value given before."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("--json", action="store_true", default=default(False), help="print JSON for scripts")
    if on_database:
        parser.add_argument(
            "--db",
            default=default(os.environ.get("OWNERSHIP_DB")),
            help="a SQLite file's path or a SQLAlchemy URL (default: $OWNERSHIP_DB)",
        )
        parser.add_argument(
            "--rulebook",
            default=default(os.environ.get("OWNERSHIP_RULEBOOK")),
            help=f"{', '.join(PRESETS)} or package.module:name (default: $OWNERSHIP_RULEBOOK)",
        )


@contextmanager
def _opened(args: argparse.Namespace, *, rulebook: Rulebook | None = None, create: bool = False) -> Iterator[Ownership]:
    """Yield an `Ownership` on the command's database, closing it afterwards; or the host's, left open."""
    if getattr(args, "ownership", None) is not None:
        yield args.ownership
        return
    repository = _repository(args.db, create=create)
    try:
        yield Ownership(_rulebook(args.rulebook) if rulebook is None else rulebook, repository)
    finally:
        repository.close()


def _repository(db: str | None, *, create: bool) -> "SqlRepository":
    if not db:
        raise CommandError(
            "Say which database to use with --db (a SQLite file or a SQLAlchemy URL), or set OWNERSHIP_DB."
        )
    try:
        from ownership.adapters.sql import SqlRepository  # noqa: PLC0415 - only commands on a database need SQLAlchemy
    except ImportError as error:
        raise CommandError(
            f"Commands on a database need SQLAlchemy ({error}); in a checkout: pip install '.[sql]'."
        ) from error
    url = _url(db)
    path = _sqlite_file(url)
    if path is not None and not create and not path.is_file():
        raise CommandError(f"There is no database file {str(path)!r}; give an existing SQLite file or a URL.")
    return SqlRepository.from_url(url, create=create)


def _url(db: str) -> str:
    """The URL `--db` names: itself, or a SQLite file's path made one."""
    return db if "://" in db else f"sqlite:///{Path(db).resolve()}"


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``sqlite:///relative.db``, ``sqlite:////absolute.db``); None for others or memory."""
    scheme, _, rest = url.partition(":///")
    if scheme.split("+")[0] != "sqlite" or not rest:
        return None
    database = rest.split("?")[0]
    return None if database in ("", ":memory:") or database.startswith("file:") else Path(database)


def _rulebook(spec: str | None) -> Rulebook:
    if not spec:
        raise CommandError(
            f"Say which rules apply with --rulebook ({', '.join(PRESETS)}, or package.module:name), "
            "or set OWNERSHIP_RULEBOOK."
        )
    if spec in PRESETS:
        return PRESETS[spec]()
    if not spec.partition(":")[2]:
        raise CommandError(
            f"There is no preset {spec!r}; give --rulebook one of {', '.join(PRESETS)}, or package.module:name."
        )
    return _load(spec, "--rulebook", "rulebook", "a Rulebook", _is_rulebook)


def _is_rulebook(found: object) -> TypeGuard[Rulebook]:
    return isinstance(found, Rulebook)


def _notifier(spec: str) -> Notifier:
    if not spec.partition(":")[2]:
        raise CommandError(f"Give --notifier as package.module:name of the host's Notifier; {spec!r} is not.")
    return _load(spec, "--notifier", "notifier", "a Notifier (with a deliver method)", _is_notifier)


def _is_notifier(found: object) -> TypeGuard[Notifier]:
    """Whether `found` is a notifier: an object (not a class) whose ``deliver`` can be called."""
    return not isinstance(found, type) and callable(getattr(found, "deliver", None))


_Loaded = TypeVar("_Loaded")
_Read = TypeVar("_Read")


def _load(spec: str, option: str, noun: str, wanted: str, fits: Callable[[object], TypeGuard[_Loaded]]) -> _Loaded:
    """Import ``package.module:name`` from `spec` and return what it names, or what it returns when called.

    The module is found from the working directory too, as ``python -m`` finds modules. What the name
    gives is called (with no arguments) unless it `fits` already: a class or a factory function gives
    the object it makes. Anything that fails, exits, or gives something that does not fit, is refused
    in one line naming `option`.
    """
    module_name, _, name = spec.partition(":")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does: the host's module is found where the script runs
    try:
        found = getattr(importlib.import_module(module_name), name)
        loaded = found() if callable(found) and not fits(found) else found
    except (Exception, SystemExit) as error:  # the host's module or function failed (or exited): say so in one line
        said = " ".join(str(error).split())
        raise CommandError(f"Cannot load the {noun} {spec!r} ({type(error).__name__}: {said}).") from error
    if not fits(loaded):
        kind = type(loaded).__name__
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        raise CommandError(f"{option} {spec} is {article} {kind}, not {wanted} or a function returning one.")
    return loaded


def _record_ref(spec: str) -> RecordRef:
    kind, _, id = spec.partition(":")
    if not kind or not id:
        raise CommandError(f"Name the record as KIND:ID, e.g. deal:d-17; {spec!r} is not.")
    return RecordRef(kind, id)


def _assignee(spec: str) -> Assignee:
    kind, _, id = spec.partition(":")
    if kind not in ("user", "group") or not id:
        raise CommandError(f"Name whom as user:ID or group:ID, e.g. user:anna; {spec!r} is not.")
    return Assignee.user(id) if kind == "user" else Assignee.group(id)


def _read_snapshot(file: str) -> Snapshot:
    # serde's sentence names the entry: "users[3].admin must be true or false, ..."
    return _read_json(file, Snapshot, "an export of ownership")


def _read_rows(file: str) -> list[HostRecord]:
    example = '{"id": "D-1", "holders": {"owner": [{"kind": "user", "id": "anna"}]}}'
    return _read_json(file, list[HostRecord], f"a list of rows like {example}")


def _read_users(file: str) -> list[HostUser]:
    return _read_json(file, list[HostUser], 'a list of people like {"id": "anna", "name": "Anna", "groups": ["sales"]}')


def _read_json(file: str, into: type[_Read], what: str) -> _Read:
    """The JSON in `file` (- for standard input) read into `into`, or one line saying it is not `what`."""
    try:
        return serde.structure(json.loads(_read_text(file)), into)
    except json.JSONDecodeError as error:
        raise CommandError(f"{file!r} is not JSON: {error}.") from error
    except InvalidValueError as error:
        raise CommandError(f"{file!r} is not {what}: {error}") from error


def _read_text(file: str) -> str:
    try:
        return sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot read {file!r}: {error.strerror or error}.") from error


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot write {str(path)!r}: {error.strerror or error}.") from error


def _said(args: argparse.Namespace, value: Any, sentence: str) -> int:
    """Print what a command did: `value` as JSON with ``--json``, else the `sentence`; return 0, the command done."""
    if args.json:
        _print_json(value)
    else:
        print(sentence)
    return 0


def _show(args: argparse.Namespace, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print `rows` as an aligned table, or as a JSON list of objects with `--json`."""
    if args.json:
        _print_json([dict(zip(headers, row, strict=True)) for row in rows])
        return
    if not rows:
        return
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    for line in (headers, ["-" * w for w in widths], *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _print_json(value: Any) -> None:
    sys.stdout.write(_json_text(value))
