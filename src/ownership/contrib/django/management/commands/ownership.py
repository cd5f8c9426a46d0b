"""``python manage.py ownership COMMAND ...``: the ``ownership`` command line on the `Ownership` `bind` bound.

Every command of ``ownership --help`` runs here on the host's own database and rules, without ``--db`` or
``--rulebook``: ``audit`` (what an admin must fix), ``transfer`` (offboarding), ``holders``, ``explain``,
``export`` and ``import``, ``reconcile`` (bring `ownership` in step with the host's rows, or load them a first
time) and ``dispatch`` (deliver the outbox). The exit code is the command line's: 0 done, 1 something found,
refused or left pending, 2 the command failed.
"""

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ownership import cli
from ownership.contrib.django.host import bound


class Command(BaseCommand):
    """Run an ``ownership`` command on the bound `Ownership`."""

    help = "Run an ownership command (audit, transfer, holders, explain, export, import, reconcile, dispatch)."

    def add_arguments(self, parser: CommandParser) -> None:
        """The ``ownership`` command and its arguments, read by the command line's own parser."""
        parser.add_argument("command", nargs=argparse.REMAINDER, help="an ownership command and its arguments")

    def handle(self, *args: Any, **options: Any) -> None:  # noqa: ARG002 - Django's signature
        """Run it; an exit code other than 0 is a CommandError carrying it."""
        code = cli.main(options["command"], ownership=bound().ownership)
        if code:
            raise CommandError(
                f"ownership {' '.join(options['command'][:1])} ended with exit code {code}", returncode=code
            )
