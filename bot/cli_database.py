"""The database a ``golive`` command reads or changes, opened the way the bot opens it.

``--state-dir DIR`` means ``DIR/golive.db`` (the file ``golive sandbox --state-dir DIR`` keeps);
without it, ``GOLIVE_DATABASE_URL`` (default ``./golive.db``). The database is created or migrated
like the bot does, and when it did not exist before, or holds no rollout plan, roster or audit
trail, a warning on stderr names it: an empty report from the wrong database must never look like a
quiet week. Warnings go to stderr so ``--format json`` output stays clean.

Errors: ``bot.cli.CliError`` (exit code 2) for a database URL the product cannot use or a
``--state-dir`` that does not exist.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.bridge.records import ROSTER_DOCUMENT
from bot.cli import CliError
from bot.settings import DEFAULT_SQLITE_FILE, Settings
from bot.storage import tables
from bot.storage.database import DatabaseUrlError, create_engine, migrate
from bot.storage.store import Store

T = TypeVar("T")


def database_url(settings: Settings, state_dir: str | None) -> str:
    """``sqlite:///DIR/golive.db`` for ``--state-dir DIR``, else the configured URL."""
    if not state_dir:
        return settings.database_url
    directory = Path(state_dir).expanduser()
    if not directory.is_dir():
        raise CliError(f"--state-dir {state_dir}: no such directory")
    return f"sqlite:///{(directory / DEFAULT_SQLITE_FILE).resolve()}"


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def where(url: str) -> str:
    """The database for people: a file's path, or the URL without its password."""
    path = _sqlite_file(url)
    return str(path.resolve()) if path is not None else make_url(url).render_as_string(hide_password=True)


async def _is_empty(store: Store) -> bool:
    async with store.read() as connection:
        for table in (tables.sites, tables.audit_log):
            if await connection.scalar(select(func.count()).select_from(table)):
                return False
        return await store.get_document(connection, ROSTER_DOCUMENT) is None


def run(settings: Settings, state_dir: str | None, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open (create or migrate) the database, warn when it is new or empty, run ``work``, close."""
    url = database_url(settings, state_dir)
    try:
        path = _sqlite_file(url)
    except ArgumentError:  # not a URL at all: create_engine below says so
        path = None
    existed = path is None or (path.exists() and path.stat().st_size > 0)

    async def main() -> T:
        try:
            engine = create_engine(url)
        except (DatabaseUrlError, ArgumentError) as error:
            raise CliError(f"GOLIVE_DATABASE_URL: {error}") from None
        try:
            await migrate(engine)
            store = Store(engine)
            if not existed:
                warn(
                    f"{where(url)} did not exist; a new, empty database was created there "
                    "(use --state-dir DIR or GOLIVE_DATABASE_URL for the database you meant)"
                )
            elif await _is_empty(store):
                warn(
                    f"the database {where(url)} is empty: no rollout plan, roster or audit trail "
                    "(use --state-dir DIR or GOLIVE_DATABASE_URL for the database you meant)"
                )
            return await work(store)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def warn(message: str) -> None:
    print(f"golive: warning: {message}", file=sys.stderr)
