"""``python -m clusterlab``: the command line (see :mod:`clusterlab.cli`)."""

from clusterlab.cli import main

raise SystemExit(main())
