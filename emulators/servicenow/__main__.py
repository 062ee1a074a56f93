"""``python -m emulators.servicenow --port 3979``: the ServiceNow emulator alone."""

from emulators.servicenow.app import main

raise SystemExit(main())
