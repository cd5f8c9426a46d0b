"""The ``ownership`` command, for scripts and for a first look.

Errors are one readable line on standard error and a non-zero exit code.
"""

import argparse
import os
import sys
from collections.abc import Sequence

from ownership import demo
from ownership.errors import OwnershipError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ownership",
        description="Who is responsible for a record, who may see it, who must hear of it.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="play one short scenario per seed system and tell it as a story")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (the process's arguments if None) and return the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            demo.play(print)
    except OwnershipError as error:
        print(f"ownership: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`ownership demo | head`): stop quietly, as other commands do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0
