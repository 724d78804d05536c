"""``python -m galactoview``: same as the ``galactoview`` command."""

from galactoview.cli import main

raise SystemExit(main())
