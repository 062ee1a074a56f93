"""Upgrades: replicas starting together on PostgreSQL migrate once (advisory lock), and code older
than the database's schema refuses to start, changing nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from ops_support import eventually, free_port
from sqlalchemy import text

from bot.cli import main
from bot.storage.database import (
    MIGRATION_LOCK_KEY,
    SchemaTooNew,
    create_engine,
    current_revision,
    head_revision,
    migrate,
)

NEWER = "9999_from_a_newer_release"
TOO_NEW = (
    f"the database schema (revision {NEWER}) is newer than this release of Go Live Bridge "
    f"(knows up to {head_revision()}): upgrade the code, or restore a backup"
)


def plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def waiting_for_migration_lock(dsn: str) -> int:
    """How many sessions wait for the migration lock (a bigint advisory lock: classid/objid halves)."""
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND classid = $1 AND objid = $2 AND objsubid = 1",
                MIGRATION_LOCK_KEY >> 32,
                MIGRATION_LOCK_KEY & 0xFFFFFFFF,
            )
        )
    finally:
        await connection.close()


async def migration_run_count(dsn: str) -> int:
    """Tables created by migration 0001 exist once and alembic_version has exactly one row."""
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM alembic_version"))
    finally:
        await connection.close()


async def set_revision(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_two_replicas_migrating_a_fresh_postgres_at_once_apply_the_migrations_once(postgres_url):
    dsn = plain_dsn(postgres_url)
    # Hold the migration lock so both replicas are provably waiting at the same point, then let go.
    holder = await asyncpg.connect(dsn)
    await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    engines = [create_engine(postgres_url) for _ in range(2)]
    try:
        replicas = [asyncio.create_task(migrate(engine)) for engine in engines]

        async def both_waiting() -> bool:
            return await waiting_for_migration_lock(dsn) == 2

        assert await eventually(both_waiting), "the replicas did not wait for the migration lock"
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        outcomes = await asyncio.wait_for(asyncio.gather(*replicas), 60)
        assert sorted(outcome.applied for outcome in outcomes) == [False, True]
        assert {outcome.found for outcome in outcomes} == {None, head_revision()}
        for engine in engines:
            assert await current_revision(engine) == head_revision()
        assert await migration_run_count(dsn) == 1
    finally:
        await holder.close()
        for engine in engines:
            await engine.dispose()


def start_replica(database_url: str, port: int, cwd: Path) -> subprocess.Popen[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GOLIVE_")}
    environment.update(
        GOLIVE_ENV="development",
        GOLIVE_DATABASE_URL=database_url,
        GOLIVE_LOG_FORMAT="json",
        GOLIVE_TICK_SECONDS="3600",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        cwd=cwd,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_golive_serve_replicas_starting_together_both_come_up_after_one_migration_run(
    postgres_url, tmp_path
):
    dsn = plain_dsn(postgres_url)
    holder = await asyncpg.connect(dsn)
    await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    ports = [free_port(), free_port()]
    replicas = [start_replica(postgres_url, port, tmp_path) for port in ports]
    try:

        async def both_waiting() -> bool:
            return await waiting_for_migration_lock(dsn) == 2

        assert await eventually(both_waiting, 60), "the replicas did not both wait for the migration lock"
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        async with aiohttp.ClientSession() as http:

            async def ready(port: int) -> bool:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            for port, replica in zip(ports, replicas, strict=True):
                assert await eventually(lambda port=port: ready(port), 60), (
                    f"replica on {port} not ready (exit {replica.poll()})"
                )
        assert await migration_run_count(dsn) == 1
    finally:
        await holder.close()
        for replica in replicas:
            replica.send_signal(signal.SIGINT)
        logs = [replica.communicate(timeout=30)[1] for replica in replicas]
    records = [json.loads(line) for log in logs for line in log.splitlines() if line.startswith("{")]
    migrated = [r for r in records if r["msg"].startswith("database schema migrated from empty")]
    current = [r for r in records if r["msg"].endswith("(current)")]
    assert len(migrated) == 1, logs
    assert len(current) == 1, logs


async def test_code_older_than_the_schema_refuses_to_migrate_and_changes_nothing(database_url):
    await set_revision(database_url, NEWER)
    engine = create_engine(database_url)
    try:
        with pytest.raises(SchemaTooNew) as refused:
            await migrate(engine)
        assert str(refused.value) == TOO_NEW
        assert await current_revision(engine) == NEWER
    finally:
        await engine.dispose()


async def test_cli_on_a_newer_schema_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'golive.db'}"
    await set_revision(url, NEWER)
    monkeypatch.setenv("GOLIVE_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    code = await asyncio.to_thread(main, ["report", "rotation", "--week", "2022-05-02"])
    assert code == 2
    assert capsys.readouterr().err == f"golive: {TOO_NEW}\n"


@pytest.mark.slow
async def test_serve_on_a_newer_schema_refuses_to_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'golive.db'}"
    await set_revision(url, NEWER)
    replica = start_replica(url, free_port(), tmp_path)
    _, stderr = await asyncio.to_thread(replica.communicate, timeout=60)
    assert replica.returncode == 2
    assert stderr.splitlines()[-1] == f"golive: {TOO_NEW}"
