"""``python -m emulators.pagerduty --port 3983``: the PagerDuty emulator alone."""

from emulators.pagerduty.app import main

raise SystemExit(main())
