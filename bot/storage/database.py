"""Database access: the async engine from ``GOLIVE_DATABASE_URL`` and Alembic migrations at start-up.

Plain ``sqlite:///PATH`` and ``postgresql://...`` URLs are accepted; the async driver (aiosqlite,
asyncpg) is chosen here. SQLite runs in WAL mode with a busy timeout so readers never block the
single writer for long.

Every replica migrates at start. On PostgreSQL the upgrade runs in one transaction that first
takes a transaction-level advisory lock (``MIGRATION_LOCK_KEY``), so replicas starting together
apply each migration once: the others wait, then find the schema current. A database whose schema
is newer than the code (a newer release ran against it) is never touched: ``migrate`` raises
``SchemaTooNew``, which the CLI turns into a one-line message and exit code 2.

Errors: ``DatabaseUrlError`` (a backend the product does not support), ``SchemaTooNew``.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Held while migrating; not the scheduler's leader lock (bot.scheduling.ADVISORY_LOCK_KEY).
MIGRATION_LOCK_KEY = 0x60_11_7E_B2


class DatabaseUrlError(ValueError):
    """The database URL names a backend the product does not support."""


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer release than this code; nothing was changed."""

    def __init__(self, revision: str, known: str) -> None:
        super().__init__(
            f"the database schema (revision {revision}) is newer than this release of Go Live Bridge "
            f"(knows up to {known}): upgrade the code, or restore a backup"
        )
        self.revision = revision
        self.known = known


@dataclass(frozen=True)
class Migration:
    """What ``migrate`` did: the revision it found (None: an empty database) and the one it left."""

    found: str | None
    head: str

    @property
    def applied(self) -> bool:
        return self.found != self.head


def async_url(url: str) -> str:
    """Map a plain URL to its async-driver form (``sqlite`` -> aiosqlite, ``postgresql`` -> asyncpg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise DatabaseUrlError(f"unsupported database backend {backend!r}: use sqlite:/// or postgresql://")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = create_async_engine(
        async_url(url),
        echo=echo,
        # A server connection can drop between uses; a SQLite file cannot (one round trip less).
        pool_pre_ping=not sqlite,
        # JSON columns (activities, job payloads) with msgspec: the same text, several times faster.
        json_serializer=_json_text,
        json_deserializer=msgspec.json.decode,
    )
    if is_sqlite(engine):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def sqlite_sync_twin(engine: AsyncEngine) -> Engine | None:
    """A synchronous engine on the same SQLite file, set up as ``create_engine``'s (pragmas, JSON),
    for work that runs whole on a worker thread; None for anything but a SQLite file."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    twin = create_sync_engine(
        url.set(drivername="sqlite"), json_serializer=_json_text, json_deserializer=msgspec.json.decode
    )
    event.listen(twin, "connect", _sqlite_pragmas)
    return twin


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Freed space is zeroed, so text erased by the retention purge leaves no copy in the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@functools.cache  # the migrations ship with the code: reading them once per process is enough
def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def check_revision_known(revision: str | None) -> None:
    """Raise ``SchemaTooNew`` when ``revision`` is not one this code ships (a newer release made it)."""
    if revision is None:
        return
    try:
        known = _scripts().get_revision(revision) is not None
    except CommandError:  # alembic's "Can't locate revision"
        known = False
    if not known:
        raise SchemaTooNew(revision, head_revision())


def _upgrade(connection: Connection) -> Migration:
    if connection.dialect.name == "postgresql":
        # Released when this transaction ends; a replica that waited finds the schema current.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    found = MigrationContext.configure(connection).get_current_revision()
    check_revision_known(found)
    head = head_revision()
    if found != head:
        command.upgrade(_alembic_config(connection), "head")
    return Migration(found, head)


async def migrate(engine: AsyncEngine) -> Migration:
    """Create or upgrade the schema to the newest migration, once however many replicas start.

    Raises ``SchemaTooNew`` (and changes nothing) when the database is ahead of the code.
    """
    async with engine.begin() as connection:
        migration = await connection.run_sync(_upgrade)
    if migration.applied:
        log.info("database schema migrated from %s to %s", migration.found or "empty", migration.head)
    else:
        log.info("database schema at revision %s (current)", migration.head)
    return migration


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def is_ready(engine: AsyncEngine) -> tuple[bool, str]:
    """Readiness: the database answers and its schema is at the newest migration."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        revision = await current_revision(engine)
    except Exception as error:  # readiness reports any failure instead of raising
        return False, f"database unreachable: {type(error).__name__}"
    if revision != head_revision():
        return False, f"schema at {revision}, expected {head_revision()}"
    return True, "ok"
