"""``python -m servicenow.emulator --port 3979``: the ServiceNow emulator alone."""

from servicenow.emulator.app import main

raise SystemExit(main())
