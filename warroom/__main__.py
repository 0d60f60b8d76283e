"""`python -m warroom` is the `warroom` command."""

from warroom.cli import main

raise SystemExit(main())
