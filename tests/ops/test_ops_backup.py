"""``golive backup`` and ``golive restore``: a backup taken while the sandbox handles posts is
consistent and restores to a database that reports the same; restore refuses a database in use, a
file that is not a Go Live Bridge database and a schema newer than the code."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops_support import STAFF, eventually
from testkit.sandbox import running_sandbox

from bot.backup import DatabaseInUse, NotAGoLiveDatabase, backup_database, restore_database
from bot.cli import main
from bot.storage.database import SchemaTooNew, create_engine, head_revision, migrate

POSTS = 24


def counts(database: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("inquiries", "outbox", "inbox", "sites", "audit_log")
        }


def assert_consistent(backup: Path) -> None:
    """An intact file in which every inquiry has the create job written in its transaction."""
    with contextlib.closing(sqlite3.connect(backup)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        orphans = connection.execute(
            "SELECT count(*) FROM inquiries i WHERE NOT EXISTS "
            "(SELECT 1 FROM outbox o WHERE o.dedupe_key = 'create:' || i.id)"
        ).fetchone()[0]
        assert orphans == 0


async def cli(*argv: str) -> int:
    # the CLI runs its own event loop, so it runs in a thread here as it would in a shell
    return await asyncio.to_thread(main, list(argv))


async def rotation_report(database: Path, monkeypatch, capsys) -> dict:
    capsys.readouterr()
    monkeypatch.setenv("GOLIVE_DATABASE_URL", f"sqlite:///{database}")
    assert await cli("report", "rotation", "--week", "2022-05-02", "--format", "json") == 0
    return json.loads(capsys.readouterr().out)


def stored_golive_database(path: Path, revision: str | None = None) -> Path:
    async def build() -> None:
        engine = create_engine(f"sqlite:///{path}")
        try:
            await migrate(engine)
            if revision is not None:
                async with engine.begin() as connection:
                    await connection.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{revision}'")
        finally:
            await engine.dispose()

    asyncio.run(build())
    return path


@pytest.mark.slow
async def test_backup_while_the_sandbox_handles_posts_restores_to_a_database_that_reports_the_same(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    state_dir = tmp_path / "sandbox"
    database = state_dir / "golive.db"
    async with running_sandbox(tmp_path, state_dir=state_dir) as urls:
        teams = urls.teams
        async with aiohttp.ClientSession() as http:

            async def open_channel() -> str | None:
                async with http.get(f"{teams}/_emulator/channels") as response:
                    channels = (await response.json())["channels"]
                return next((c["id"] for c in channels if c["goLive"] and c["state"] == "open"), None)

            channel = await eventually(open_channel)
            assert channel, "no go-live channel opened in the sandbox"

            async def post_all() -> None:
                for n in range(POSTS):
                    async with http.post(
                        f"{teams}/_emulator/channels/{channel}/messages",
                        json={"from": STAFF, "text": f"Kiosk {n} shows error E42"},
                    ) as response:
                        assert response.status == 200

            def incidents_made() -> int:
                with contextlib.closing(sqlite3.connect(database)) as connection:
                    made = connection.execute("SELECT count(*) FROM inquiries WHERE number IS NOT NULL")
                    return int(made.fetchone()[0])

            # Backups one after another while posts arrive, become inquiries and then incidents.
            posting = asyncio.create_task(post_all())
            mid_stream: list[tuple[int, Path, int]] = []
            deadline = time.monotonic() + 90
            while not posting.done() or incidents_made() < POSTS:
                assert time.monotonic() < deadline, "the incidents were not all made"
                before = counts(database)["inquiries"]
                out = tmp_path / f"mid-{len(mid_stream)}.db"
                assert await cli("backup", "--state-dir", str(state_dir), "--out", str(out)) == 0
                mid_stream.append((before, out, counts(database)["inquiries"]))
            await posting
            for before, out, after in mid_stream:
                assert_consistent(out)
                assert before <= counts(out)["inquiries"] <= after

            final = tmp_path / "final.db"
            assert await cli("backup", "--state-dir", str(state_dir), "--out", str(final)) == 0
            live_report = await rotation_report(database, monkeypatch, capsys)
            live_counts = counts(database)

            # The bot is running: restoring over its database is refused and changes nothing.
            assert await cli("restore", str(final), "--state-dir", str(state_dir)) == 2
            assert "in use" in capsys.readouterr().err
            assert counts(database)["inquiries"] == POSTS

    assert_consistent(final)
    assert live_report["inquiries"] == POSTS
    elsewhere = tmp_path / "elsewhere"
    assert await cli("restore", str(final), "--state-dir", str(elsewhere)) == 0
    assert await rotation_report(elsewhere / "golive.db", monkeypatch, capsys) == live_report
    assert counts(elsewhere / "golive.db") == live_counts
    # Stopped, the sandbox's own database can be restored in place; no stale WAL is left beside it.
    assert await cli("restore", str(mid_stream[0][1]), "--state-dir", str(state_dir)) == 0
    assert counts(database) == counts(mid_stream[0][1])
    assert not database.with_name("golive.db-wal").exists()
    assert not database.with_name("golive.db-shm").exists()


def test_restore_refuses_a_database_another_process_has_open(tmp_path):
    database = stored_golive_database(tmp_path / "golive.db")
    backup = backup_database(database, tmp_path / "backup.db").path
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT 1 FROM sites');"
            " print('open', flush=True); sys.stdin.read()",
            str(database),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        with pytest.raises(DatabaseInUse, match="another process has it open"):
            restore_database(backup, database)
    finally:
        holder.communicate("", timeout=30)
    assert restore_database(backup, database).revision == head_revision()


def test_restore_refuses_a_sqlite_file_that_is_not_a_golive_database(tmp_path, capsys):
    database = stored_golive_database(tmp_path / "state" / "golive.db")
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.commit()
    before = database.read_bytes()
    with pytest.raises(NotAGoLiveDatabase):
        restore_database(other, database)
    assert main(["restore", str(other), "--state-dir", str(tmp_path / "state")]) == 2
    assert "not a Go Live Bridge database" in capsys.readouterr().err
    assert database.read_bytes() == before


def test_restore_refuses_a_backup_from_a_newer_release(tmp_path, capsys):
    newer = stored_golive_database(tmp_path / "newer.db", revision="9999_newer")
    state = tmp_path / "state"
    with pytest.raises(SchemaTooNew):
        restore_database(newer, state / "golive.db")
    assert main(["restore", str(newer), "--state-dir", str(state)]) == 2
    assert "is newer than this release of Go Live Bridge" in capsys.readouterr().err
    assert not (state / "golive.db").exists()


def test_backup_of_postgres_points_to_pg_dump(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GOLIVE_DATABASE_URL", "postgresql://golive@127.0.0.1:5432/golive")
    assert main(["backup", "--out", str(tmp_path / "x.db")]) == 2
    assert "pg_dump" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


def test_backup_of_a_missing_database_writes_nothing(tmp_path, capsys):
    assert main(["backup", "--state-dir", str(tmp_path / "none"), "--out", str(tmp_path / "b.db")]) == 2
    assert "no such database" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@settings(derandomize=True, max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.binary(max_size=4096) | st.just(b"SQLite format 3\x00" + bytes(84)))
def test_any_other_file_is_refused_and_the_database_is_untouched(content):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        database = stored_golive_database(root / "golive.db")
        before = database.read_bytes()
        candidate = root / "candidate"
        candidate.write_bytes(content)
        with pytest.raises(NotAGoLiveDatabase):
            restore_database(candidate, database)
        assert database.read_bytes() == before
        assert sorted(p.name for p in root.iterdir()) == ["candidate", "golive.db"]
