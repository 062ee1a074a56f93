"""Retention: text holding a unique marker is posted, replied to, edited and resolved; after the
retention period the purge leaves the marker in no database file (SQLite and PostgreSQL), while the
rotation report still counts the inquiry."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import asyncpg
from sqlalchemy import select
from testkit.bridge import ROSTER, fake_bridge, person_of

from bot import views
from bot.storage import tables

JANE = person_of(next(e for e in ROSTER.engineers.values() if e.name == "Jane Doe"))


async def database_files(database_url: str, tmp_path: Path) -> list[Path]:
    if database_url.startswith("sqlite"):
        base = tmp_path / "golive.db"
        return [p for p in (base, Path(f"{base}-wal"), Path(f"{base}-shm")) if p.exists()]
    connection = await asyncpg.connect(database_url)
    try:
        data_dir = await connection.fetchval("SHOW data_directory")
        # Every table, index and TOAST relation of the database (not only the ones purged).
        paths = await connection.fetch(
            "SELECT pg_relation_filepath(c.oid) AS path FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't', 'i')"
        )
        files = [Path(data_dir) / row["path"] for row in paths if row["path"]]
    finally:
        await connection.close()
    return [f for f in files if f.exists()]


async def test_purged_text_is_in_no_database_file_and_the_report_still_counts_it(tmp_path, database_url):
    marker = f"SSN-MARKER-{uuid.uuid4().hex}"
    async with fake_bridge(tmp_path, database_url=database_url, retention_days=30) as bridge:
        post = await bridge.post("508", f"Veteran {marker} cannot check in")
        await bridge.post("508", f"Still failing for {marker}", reply_to=post.thread)
        await bridge.drain()
        await bridge.edit(post, f"Veteran {marker} cannot check in (edited)")
        key = {views.DATA_INQUIRY: (await bridge.inquiry(post.thread)).correlation_id}
        await bridge.press(
            views.VERB_RESOLVE,
            {**key, "close_code": "Solution provided", "close_notes": f"told {marker}"},
            JANE,
        )
        await bridge.drain()
        assert (await bridge.inquiry(post.thread)).resolved_at is not None
        bridge.clock.advance(days=7)  # the 508 channel retires
        await bridge.runtime.lifecycle.tick()
        await bridge.drain()

        early = await bridge.runtime.retention.purge(bridge.clock.now(), actor="test")
        assert early.inquiries == 0  # resolved and retired, but not 30 days ago yet
        bridge.clock.advance(days=31)
        dry = await bridge.runtime.retention.purge(bridge.clock.now(), actor="test", dry_run=True)
        assert dry.inquiries == 1 and dry.jobs > 0
        result = await bridge.runtime.retention.purge(bridge.clock.now(), actor="test")
        assert result.inquiries == 1

        async with bridge.runtime.store.read() as connection:
            row = (await connection.execute(select(tables.inquiries))).one()
            actions = (await connection.execute(select(tables.audit_log.c.action))).scalars().all()
        assert row.text == "" and row.number and row.purged_at is not None and "retention.purge" in actions
        report = await bridge.runtime.reports.compute(date(2022, 5, 2))
        assert report.to_dict()["inquiries"] == 1

    files = await database_files(database_url, tmp_path)
    assert files, "no database file found to check"
    for path in files:
        assert marker.encode() not in path.read_bytes(), path


async def test_an_alert_quiet_for_the_retention_period_loses_its_title(tmp_path):
    from bot.bridge.alerts import ERASED_TITLE
    from bot.storage import tables as t

    async with fake_bridge(tmp_path, retention_days=30) as bridge:
        now = bridge.clock.now()
        async with bridge.runtime.store.write() as connection:
            await connection.execute(
                t.alerts.insert().values(
                    kind="group", source="sentry", group_key="1", correlation_id="sentry:1",
                    title="ValueError: patient Jane Roe", level="error", state="triggered", links=[], tags=[],
                    count=1, first_seen=now, last_seen=now, received_at=now, updated_at=now,
                )
            )  # fmt: skip
        assert (await bridge.runtime.retention.purge(now, actor="test")).extra["alert titles erased"] == 0
        bridge.clock.advance(days=31)
        result = await bridge.runtime.retention.purge(bridge.clock.now(), actor="test")
        assert result.extra["alert titles erased"] == 1
        async with bridge.runtime.store.read() as connection:
            assert (await connection.execute(select(t.alerts.c.title))).scalar_one() == ERASED_TITLE
