"""``python -m empirical`` runs the ``optrobust-empirical`` CLI (also under torchrun)."""

from empirical.cli import main

raise SystemExit(main())
