"""``golive audit [--since ISO] [--action A] [--site S] [--limit N] [--format table|json]``: the audit
trail, newest first (``bot.bridge.audit_trail``), from ``--state-dir DIR`` or ``GOLIVE_DATABASE_URL``.

``--format json`` prints ``[{"at", "actor", "action", "detail"}]`` (docs/CONTRACTS.md section 6).
Exit codes:
0 printed (an empty trail too), 2 a bad filter or settings.
"""

from __future__ import annotations

import argparse
import json

from bot import cli_database
from bot.bridge.audit_trail import (
    AuditEntry,
    AuditFilterError,
    AuditQuery,
    check_action,
    check_station,
    read_audit,
)
from bot.cli import CliError, _settings
from bot.storage.store import Store


def _query(args: argparse.Namespace) -> AuditQuery:
    try:
        action = check_action(args.action) if args.action else None
        station = check_station(args.site) if args.site else None
    except AuditFilterError as error:
        raise CliError(str(error)) from None
    if args.limit is not None and args.limit < 1:
        raise CliError("--limit must be at least 1")
    return AuditQuery(since=args.since, action=action, station=station, limit=args.limit)


def _table(entries: list[AuditEntry]) -> str:
    rows = [[f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.headline] for e in entries]
    headers = ["at (UTC)", "actor", "action", "detail"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers[:-1], widths, strict=True)) + "  detail"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] for r in rows]
    return "\n".join(lines)


def cmd_audit(args: argparse.Namespace) -> int:
    query = _query(args)

    async def work(store: Store) -> list[AuditEntry]:
        async with store.read() as connection:
            return await read_audit(connection, query)

    entries = cli_database.run(_settings(), args.state_dir, work)
    if args.format == "json":
        print(json.dumps([entry.as_json() for entry in entries], indent=2, ensure_ascii=False))
    elif entries:
        print(_table(entries))
    else:
        print("No audit entries.")
    return 0
