"""`python -m bot check|console|run`."""

from bot.cli import main

raise SystemExit(main())
