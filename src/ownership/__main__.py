"""``python -m ownership``: the same as the ``ownership`` command."""

from ownership.cli import main

raise SystemExit(main())
