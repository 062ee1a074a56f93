"""``golive report rotation --week YYYY-MM-DD [--format md|csv|json] [--state-dir DIR]`` (delegated
from ``bot.cli``).

Reads ``DIR/golive.db`` or the database named by ``GOLIVE_DATABASE_URL`` (``bot.cli_database``:
created or migrated like the bot does, with a warning on stderr when it is new or empty, so an empty
report is never mistaken for a quiet week). Exit codes: 0 printed, 2 a bad ``--week`` or settings.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.reporting.queries import load_rotation_data
from bot.reporting.rotation import (
    RENDERERS,
    InvalidWeek,
    RotationData,
    RotationReport,
    compute_rotation_report,
    parse_week,
)

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.storage.store import Store


async def build_report(settings, week) -> RotationReport:
    from bot.storage.database import create_engine, migrate

    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            data = await load_rotation_data(connection, week)
    finally:
        await engine.dispose()
    return report_of(settings, data)


def report_of(settings: Settings, data: RotationData) -> RotationReport:
    return compute_rotation_report(
        data, window_days=settings.window_days, first_response_s=settings.first_response_minutes * 60
    )


def _load_settings():
    from pydantic import ValidationError

    from bot.cli import CliError
    from bot.settings import Settings

    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise CliError(f"invalid settings: {problems}") from None


def cmd_rotation(args: argparse.Namespace) -> int:
    try:
        week = parse_week(args.week)
    except InvalidWeek as error:
        print(f"golive report rotation: {error}", file=sys.stderr)
        return 2
    from bot import cli_database

    settings = _load_settings()

    async def work(store: Store) -> RotationReport:
        async with store.read() as connection:
            return report_of(settings, await load_rotation_data(connection, week))

    report = cli_database.run(settings, getattr(args, "state_dir", None), work)
    sys.stdout.write(RENDERERS[args.format](report))
    return 0
