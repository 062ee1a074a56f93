"""``golive inbox dead-letters | retry | drop`` on a state directory, as an operator runs them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from bot.cli import main
from bot.storage import tables
from bot.storage.database import create_engine, migrate


async def _seed(directory) -> None:
    engine = create_engine(f"sqlite:///{directory / 'golive.db'}")
    await migrate(engine)
    now = datetime(2022, 5, 3, 15, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.execute(
            tables.received_activities.insert().values(
                dedupe_key="k1",
                source="teams",
                payload={"text": "patient 123-45-6789"},
                received_at=now,
                attempts=8,
                dead_at=now,
                last_error="RuntimeError",
            )
        )
        await connection.execute(
            tables.outbox.insert().values(
                kind="create_incident",
                payload={},
                inquiry_id=1,
                created_at=now,
                next_attempt_at=now,
                attempts=1,
                starts=1,
                dead_at=now,
                last_error="gave up: ServiceNow rejected the request (status 403)",
            )
        )
    await engine.dispose()


def test_an_operator_lists_retries_and_drops_dead_letters(tmp_path, capsys):
    asyncio.run(_seed(tmp_path))
    state = ["--state-dir", str(tmp_path)]
    assert main(["inbox", "dead-letters", "--format", "json", *state]) == 1
    listed = json.loads(capsys.readouterr().out)
    assert [(x["id"], x["source"], x["attempts"]) for x in listed] == [
        ("activity-1", "teams", 8),
        ("job-1", "outbox:create_incident", 1),
    ]
    assert "123-45" not in json.dumps(listed)
    assert main(["inbox", "retry", "job-1", *state]) == 0
    assert main(["inbox", "drop", "activity-1", *state]) == 0
    capsys.readouterr()
    assert main(["inbox", "dead-letters", *state]) == 0
    assert "No dead letters" in capsys.readouterr().out
    assert main(["inbox", "drop", "activity-1", *state]) == 2
    assert "no dead letter 'activity-1'" in capsys.readouterr().err
    assert main(["inbox", "retry", *state]) == 2


def test_purge_prints_counts_never_text_and_dry_run_changes_nothing(tmp_path, capsys):
    asyncio.run(_seed(tmp_path))
    state = ["--state-dir", str(tmp_path)]
    assert main(["purge", "--dry-run", *state]) == 0
    out = capsys.readouterr().out
    assert "would erase" in out and "inquiry texts erased: 0" in out and "123-45" not in out
    assert main(["purge", *state]) == 0
    assert "Retention 30 day(s); erased:" in capsys.readouterr().out


def test_purge_judges_the_retention_period_by_the_clock_the_database_keeps(tmp_path, capsys):
    # A sandbox's database keeps its simulated clock: an inquiry resolved a week ago on that clock
    # is inside a 30-day retention period, however far the wall clock is ahead of it.
    from bot.clock import SimulatedClock
    from bot.shared_clock import share_clock_at

    async def seed() -> None:
        url = f"sqlite:///{tmp_path / 'golive.db'}"
        await share_clock_at(url, SimulatedClock(datetime(2022, 5, 10, 15, tzinfo=UTC)))
        engine = create_engine(url)
        resolved = datetime(2022, 5, 3, 15, tzinfo=UTC)
        async with engine.begin() as connection:
            await connection.execute(
                tables.inquiries.insert().values(
                    correlation_id="slack:C1:1.1",
                    platform="slack",
                    channel_id="C1",
                    root_message_id="1.1",
                    conversation_id="C1;messageid=1.1",
                    author_name="Pat",
                    text="the kiosk is frozen",
                    posted_at=resolved,
                    received_at=resolved,
                    resolved_at=resolved,
                )
            )
        await engine.dispose()

    asyncio.run(seed())
    assert main(["purge", "--dry-run", "--state-dir", str(tmp_path)]) == 0
    assert "inquiry texts erased: 0" in capsys.readouterr().out


def test_golive_purge_erases_alert_titles_as_the_leaders_daily_run_does(tmp_path, capsys):
    long_ago = datetime(2022, 3, 1, 15, tzinfo=UTC)  # quiet far longer than 30 days before the wall clock

    async def seed() -> None:
        engine = create_engine(f"sqlite:///{tmp_path / 'golive.db'}")
        await migrate(engine)
        async with engine.begin() as connection:
            await connection.execute(
                tables.alerts.insert().values(
                    kind="group", source="sentry", group_key="1", correlation_id="sentry:1",
                    title="ValueError: patient Jane Roe", level="error", state="triggered", links=[],
                    tags=[], count=1, first_seen=long_ago, last_seen=long_ago, received_at=long_ago,
                    updated_at=long_ago,
                )
            )  # fmt: skip
        await engine.dispose()

    async def titles() -> list[str]:
        engine = create_engine(f"sqlite:///{tmp_path / 'golive.db'}")
        async with engine.connect() as connection:
            found = (await connection.execute(tables.alerts.select())).all()
        await engine.dispose()
        return [row.title for row in found]

    asyncio.run(seed())
    assert main(["purge", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "alert titles erased: 1" in out and "Jane Roe" not in out
    assert all("Jane Roe" not in title for title in asyncio.run(titles()))
