"""``python -m emulators.github --port 3984``: the GitHub emulator alone."""

from emulators.github.app import main

raise SystemExit(main())
