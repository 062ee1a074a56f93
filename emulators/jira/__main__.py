"""``python -m emulators.jira --port 3985``: the Jira Cloud emulator alone."""

from emulators.jira.app import main

raise SystemExit(main())
