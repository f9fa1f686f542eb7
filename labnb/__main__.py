"""``python -m labnb``: the command line (see :mod:`labnb.cli`)."""

from labnb.cli import main

raise SystemExit(main())
