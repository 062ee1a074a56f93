"""``golive purge [--dry-run] [--state-dir DIR]``: erase message text past the retention period now.

Prints what it erased (counts, never text); the run is audited as ``retention.purge``.
"""

from __future__ import annotations

import argparse

from bot.app import build_retention
from bot.bridge.retention import PurgeResult
from bot.cli import _settings
from bot.inbox_cli import _operator, _run
from bot.shared_clock import stored_clock
from bot.storage.store import Store


def cmd_purge(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(store: Store) -> PurgeResult:
        retention = build_retention(store, settings)
        now = (await stored_clock(store)).now()
        return await retention.purge(now, actor=_operator(), dry_run=args.dry_run)

    result = _run(args, work)
    verb = "would erase" if args.dry_run else "erased"
    print(f"Retention {settings.retention_days} day(s); {verb}:")
    for line in result.lines():
        print(f"  {line}")
    return 0
