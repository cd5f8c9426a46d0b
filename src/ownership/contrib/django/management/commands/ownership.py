"""``python manage.py ownership COMMAND ...``: the ``ownership`` command line on the `Ownership` `bind` bound.

Every command of ``ownership --help`` runs here on the host's own database and rules, without ``--db`` or
``--rulebook``: ``audit`` (what an admin must fix), ``transfer`` (offboarding), ``holders``, ``explain``,
``who-can`` (who may act on a record, and why), ``grant``, ``revoke`` and ``grants`` (one record shared),
``export`` and ``import``, ``reconcile`` (bring `ownership` in step with the host's rows, or load them a first
time), ``reconcile-users`` and ``dispatch`` (deliver the outbox).
``reconcile-users`` without a file brings every user of the model `track_users` tracks in step (``--dry-run``
only reports, ``--json`` prints a list of the tenants' drifts, ``--database`` names where the users are read,
if not where Django's routers say). The exit code is the command line's: 0 done, 1 something found, refused
or left pending, 2 the command failed.
"""

import argparse
import json
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ownership import cli, serde
from ownership.contrib.django.host import bound
from ownership.contrib.django.people import reconcile_tracked_users
from ownership.errors import OwnershipError


class Command(BaseCommand):
    """Run an ``ownership`` command on the bound `Ownership`."""

    help = "Run an ownership command (audit, transfer, holders, explain, who-can, grants, export, reconcile, ...)."

    def add_arguments(self, parser: CommandParser) -> None:
        """The ``ownership`` command and its arguments, read by the command line's own parser."""
        parser.add_argument("command", nargs=argparse.REMAINDER, help="an ownership command and its arguments")

    def handle(self, *args: Any, **options: Any) -> None:  # noqa: ARG002 - Django's signature
        """Run it; an exit code other than 0 is a CommandError carrying it."""
        command = options["command"]
        code = _tracked_users(command[1:]) if command[:1] == ["reconcile-users"] else None
        if code is None:
            code = cli.main(command, ownership=bound().ownership)
        if code:
            raise CommandError(f"ownership {' '.join(command[:1])} ended with exit code {code}", returncode=code)


def _tracked_users(arguments: list[str]) -> int | None:
    """``reconcile-users [--dry-run] [--json] [--database DB]`` with no file: every tracked user; None given a file.

    With ``--json``, one list: each tenant's drift.
    """
    parser = argparse.ArgumentParser(prog="manage.py ownership reconcile-users", add_help=False)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--database")
    parsed, rest = parser.parse_known_args(arguments)
    if rest:
        return None  # a file of rows, and the options that go with it: the command line's own
    try:
        drifts = reconcile_tracked_users(using=parsed.database, dry_run=parsed.dry_run)
    except OwnershipError as error:
        raise CommandError(str(error), returncode=cli.FAILED) from error
    found = 0 if all(drift.in_step for drift in drifts) else cli.FOUND
    if parsed.json:
        sys.stdout.write(json.dumps([serde.unstructure(drift) for drift in drifts], indent=2) + "\n")
        return found
    users = f"the users of {get_user_model()._meta.label}"
    for drift in drifts:
        cli.show_directory_drift(parsed, drift, users)
    return found
