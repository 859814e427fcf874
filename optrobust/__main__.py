"""``python -m optrobust`` runs the CLI."""

from optrobust.cli import main

raise SystemExit(main())
