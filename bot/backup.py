"""``golive backup`` and ``golive restore`` for the SQLite database (PostgreSQL uses ``pg_dump``).

Backup uses SQLite's online backup API, which copies one consistent snapshot while the bot keeps
writing (WAL mode: the copy reads a snapshot and never blocks the writer). The copy is written
beside its destination, checked, switched to a rollback journal so it is one self-contained file,
fsynced and renamed into place: a crash leaves the old file or the new one, never half of one.

Restore refuses a database in use: a scheduler heartbeat in it that is fresh and whose process is
alive, or any other open connection (SQLite's exclusive lock cannot be taken). It refuses a file
that is not a Go Live Bridge database or whose schema is newer than this code. Then it copies the
backup beside the database, checks and fsyncs the copy, removes the old database's ``-wal`` and
``-shm`` and renames the copy over it. An older schema is fine: the bot migrates it at start.

Errors: ``BackupError`` with ``DatabaseInUse`` and ``NotAGoLiveDatabase``; ``SchemaTooNew``
(from ``bot.storage.database``) for a file made by a newer release. Messages name files and
revisions, never content.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.scheduling import LEADER_DOCUMENT, leader_is_live
from bot.storage.database import check_revision_known

# Tables every Go Live Bridge schema has had since the first migration.
CORE_TABLES = frozenset({"alembic_version", "inquiries", "outbox", "documents", "sites", "channels"})
BUSY_TIMEOUT_S = 30.0


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


class DatabaseInUse(BackupError):
    """A running bot (or another process) has the database open."""


class NotAGoLiveDatabase(BackupError):
    """The file is missing, not SQLite, damaged, or not a Go Live Bridge database."""


@dataclass(frozen=True)
class Copied:
    """A backup written or a database restored: where, at which schema revision, how big."""

    path: Path
    revision: str
    size: int


def backup_database(database: Path, out: Path) -> Copied:
    """Copy ``database`` to ``out`` consistently, even while the bot writes to it."""
    if not database.is_file():
        raise NotAGoLiveDatabase(f"{database}: no such database")
    if out.resolve() == database.resolve():
        raise BackupError(f"{out}: is the database itself; choose another file")
    out.parent.mkdir(parents=True, exist_ok=True)
    with _beside(out) as partial:
        with contextlib.closing(_connect(database)) as source:
            _golive_revision(source, database)  # a newer schema is backed up all the same
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)  # all pages in one step: one snapshot, no restarts
        revision = _finish_copy(partial, database)
        _replace(partial, out)
    return Copied(out, revision, out.stat().st_size)


def restore_database(backup: Path, database: Path) -> Copied:
    """Replace ``database`` with ``backup``; refuses while anything has ``database`` open."""
    if not backup.is_file():
        raise NotAGoLiveDatabase(f"{backup}: no such file")
    if backup.resolve() == database.resolve():
        raise BackupError(f"{backup}: is the database itself")
    reason = database_in_use(database)
    if reason is not None:
        raise DatabaseInUse(f"{database} is in use ({reason}): stop Go Live Bridge first")
    database.parent.mkdir(parents=True, exist_ok=True)
    with _beside(database) as partial:
        with contextlib.closing(_connect(backup, read_only=True)) as source:
            check_revision_known(_golive_revision(source, backup))
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)
        revision = _finish_copy(partial, backup)
        # Checked again just before the switch: a bot started meanwhile must not lose its writes.
        reason = database_in_use(database)
        if reason is not None:
            raise DatabaseInUse(f"{database} is in use ({reason}): stop Go Live Bridge first")
        for stale in _sidecars(database):
            stale.unlink(missing_ok=True)
        _replace(partial, database)
    return Copied(database, revision, database.stat().st_size)


def database_in_use(database: Path, now: datetime | None = None) -> str | None:
    """Why ``database`` counts as in use by a running bot or another process, or None."""
    if not database.exists():
        return None
    try:
        # Read-write although it only reads: a read-only connection would leave a -shm file behind.
        with contextlib.closing(_connect(database)) as connection:
            leader = _leader_document(connection)
    except sqlite3.DatabaseError:
        leader = None  # not readable as a Go Live Bridge database: nothing to say about a leader
    if leader is not None and leader_is_live(leader, now or datetime.now(UTC)):
        return f"scheduler {leader.get('owner')} is running"
    # Any other connection, even idle, holds a shared lock in WAL mode, so this fails at once.
    probe = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        probe.execute("PRAGMA locking_mode=EXCLUSIVE")
        probe.execute("BEGIN EXCLUSIVE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return "another process has it open"
    except sqlite3.DatabaseError:
        return None  # not a database at all: nothing can be using it as one
    finally:
        probe.close()
    return None


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)


def _golive_revision(connection: sqlite3.Connection, path: Path) -> str:
    """The file's schema revision after checking it is a Go Live Bridge database."""
    try:
        found = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    except sqlite3.DatabaseError as error:
        if "no such table" in str(error):
            raise NotAGoLiveDatabase(f"{path}: not a Go Live Bridge database (no schema revision)") from None
        raise NotAGoLiveDatabase(f"{path}: not a SQLite database ({type(error).__name__})") from None
    missing = CORE_TABLES - found
    if missing or len(revisions) != 1:
        raise NotAGoLiveDatabase(
            f"{path}: not a Go Live Bridge database (missing tables: {', '.join(sorted(missing)) or 'none'}; "
            f"{len(revisions)} schema revisions)"
        )
    return str(revisions[0])


def _finish_copy(partial: Path, origin: Path) -> str:
    """Check the copy, make it one self-contained file and flush it to disk; its revision."""
    with contextlib.closing(sqlite3.connect(partial, isolation_level=None)) as copy:
        if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise NotAGoLiveDatabase(f"{origin}: the copy failed SQLite's integrity check")
        revision = _golive_revision(copy, origin)
        copy.execute("PRAGMA journal_mode=DELETE")
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    return revision


def _leader_document(connection: sqlite3.Connection) -> dict[str, str] | None:
    try:
        row = connection.execute("SELECT value FROM documents WHERE key = ?", (LEADER_DOCUMENT,)).fetchone()
    except sqlite3.OperationalError:  # no documents table: not (yet) a bot's database
        return None
    if row is None:
        return None
    value = json.loads(row[0]) if isinstance(row[0], str | bytes) else row[0]
    return value if isinstance(value, dict) else None


@contextlib.contextmanager
def _beside(target: Path) -> Iterator[Path]:
    """A temporary file in ``target``'s directory (so the final rename is atomic), removed on failure."""
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        yield partial
    finally:
        for leftover in (partial, *_sidecars(partial)):
            leftover.unlink(missing_ok=True)


def _sidecars(database: Path) -> tuple[Path, ...]:
    return tuple(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal"))


def _replace(partial: Path, target: Path) -> None:
    os.replace(partial, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
