"""``golive manifest build --out DIR``: the Teams app package from settings and the command registry."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.commands import COMMANDS
from manifest import ManifestConfig, ManifestConfigError, build_package


def cmd_build(args: argparse.Namespace) -> int:
    from bot.cli import _settings

    settings = _settings()
    public_url = settings.public_url.rstrip("/")
    try:
        https = public_url.startswith("https://")
        config = ManifestConfig.for_public_url(
            settings.microsoft_app_id,
            public_url,
            dashboard_url=f"{public_url}/dashboard" if https else None,
            # Inside Teams the tab signs in through Teams (bot.reporting.dashboard).
            dashboard_tab_url=f"{public_url}/dashboard/tab" if https else None,
        )
        path = build_package(config, COMMANDS, Path(args.out))
    except ManifestConfigError as error:
        for problem in error.problems:
            print(f"golive manifest build: {problem}", file=sys.stderr)
        return 2
    if not settings.microsoft_app_id or not public_url.startswith("https://"):
        print(
            "note: GOLIVE_MICROSOFT_APP_ID or an https GOLIVE_PUBLIC_URL is missing, so the package uses "
            "placeholders; Teams will not install it until both are set.",
            file=sys.stderr,
        )
    print(path)
    return 0
