"""Nothing is lost, nothing is doubled: ServiceNow outages, throttling, slowness and a bot killed
with SIGKILL mid-stream all end with exactly one incident and one thread reply per inquiry."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

import pytest
from testkit.settle import pending_work, store_of
from testkit.stack import SAMPLE_NOW, Stack, start_stack, wait_for

from bot.storage.store import Store
from emulators.servicenow.api import FAULTS_KEY


def bot_replies(thread: dict) -> list[dict]:
    return [reply for reply in thread["replies"] if reply.get("fromBot")]


async def post_many(stack: Stack, channel: str, prefix: str, count: int) -> list[dict]:
    posted = []
    for index in range(count):
        result = await stack.post(channel, f"{prefix} {index:03d} kiosk question")
        assert result["status"] == 201, result
        posted.append(result)
    return posted


async def assert_exactly_one_incident_and_reply_each(
    stack: Stack, channel: str, prefix: str, posted: list[dict], store: Store | None = None
):
    """Each post has its incident and its reply; then, the bot settled, still exactly one each.
    ``store``: the database of a bot in another process."""

    async def all_done():
        rows = await stack.incidents(f"short_descriptionSTARTSWITH{prefix} ")
        if len(rows) < len(posted):
            return None
        threads = {t["id"]: t for t in await stack.threads(channel)}
        if any(not bot_replies(threads[p["id"]]) for p in posted):
            return None
        return rows, threads

    await wait_for(all_done, timeout=60)
    await stack.settled(timeout=60, store=store)
    rows, threads = await all_done()
    descriptions = Counter(row["short_description"] for row in rows)
    assert len(rows) == len(posted)
    assert all(count == 1 for count in descriptions.values()), descriptions
    assert len({row["correlation_id"] for row in rows}) == len(posted)
    for item in posted:
        replies = bot_replies(threads[item["id"]])
        assert len(replies) == 1, replies
        assert any(row["number"] in replies[0]["text"] for row in rows)


async def create_jobs(stack: Stack) -> list:
    """The bot's outbox jobs that create incidents: attempts so far and whether each is done."""
    from sqlalchemy import select

    from bot.bridge import jobkinds
    from bot.storage import tables

    outbox = tables.outbox
    async with stack.components.store.read() as connection:
        return (
            await connection.execute(
                select(outbox.c.attempts, outbox.c.done_at).where(
                    outbox.c.kind == jobkinds.CREATE_INCIDENT.name
                )
            )
        ).all()


async def linked_incidents(stack: Stack) -> int:
    from sqlalchemy import func, select

    from bot.storage import tables

    async with stack.components.store.read() as connection:
        return await connection.scalar(
            select(func.count()).select_from(tables.inquiries).where(tables.inquiries.c.sys_id.is_not(None))
        )


@pytest.fixture
async def stack(tmp_path):
    stack = await start_stack(tmp_path)
    yield stack
    await stack.close()


async def test_servicenow_outage_then_recovery_gives_each_acknowledged_inquiry_one_incident(stack):
    channel = await stack.channel_of("508")
    await stack.servicenow_faults({"outage": True})
    posted = await post_many(stack, channel, "Outage", 12)

    servicenow = next(runner.app[FAULTS_KEY] for runner in stack.runners if FAULTS_KEY in runner.app)

    async def stored_and_tried():
        jobs = await create_jobs(stack)
        refused = [call for call in servicenow.calls if call[3] == 503]
        return len(jobs) == len(posted) and len(refused) >= 3 and jobs

    # Acknowledged and stored (a create job for each), ServiceNow tried and found down; every create
    # still waiting for it.
    jobs = await wait_for(stored_and_tried, timeout=30)
    assert all(job.done_at is None for job in jobs)
    assert await linked_incidents(stack) == 0
    await stack.servicenow_faults(None)
    await assert_exactly_one_incident_and_reply_each(stack, channel, "Outage", posted)


async def test_rate_limited_servicenow_is_waited_out(stack):
    channel = await stack.channel_of("508")
    await stack.servicenow_faults({"rate_limit": {"limit": 5, "retry_after": 1}})
    posted = await post_many(stack, channel, "Throttled", 8)

    async def all_linked():
        return await linked_incidents(stack) == len(posted)

    await wait_for(all_linked, timeout=60, interval=0.3)  # read the bot's side: our reads would spend quota
    await stack.servicenow_faults(None)
    await assert_exactly_one_incident_and_reply_each(stack, channel, "Throttled", posted)


async def test_answer_to_teams_does_not_wait_for_a_slow_servicenow(stack):
    channel = await stack.channel_of("508")
    await stack.servicenow_faults({"latency_ms": 3000})
    posted = await stack.post(channel, "Slowpath one kiosk question")
    # Teams got its 201 while the incident could not exist yet: the create takes 3 s on its own.
    assert posted["status"] == 201
    assert await linked_incidents(stack) == 0
    await stack.servicenow_faults(None)
    await assert_exactly_one_incident_and_reply_each(stack, channel, "Slowpath", [posted])


async def test_lost_servicenow_reply_after_commit_makes_no_second_incident(stack):
    channel = await stack.channel_of("508")
    await stack.servicenow_faults({"drop_reply_after_commit": {"count": 2}})
    posted = await post_many(stack, channel, "Lostreply", 3)
    await assert_exactly_one_incident_and_reply_each(stack, channel, "Lostreply", posted)


def serve_env(stack: Stack) -> dict[str, str]:
    settings = stack.settings
    env = {key: value for key, value in os.environ.items() if not key.startswith("GOLIVE_")}
    env.update(
        {
            "GOLIVE_ENV": "development",
            "GOLIVE_DATABASE_URL": settings.database_url,
            "GOLIVE_SERVICENOW_URL": settings.servicenow_url,
            "GOLIVE_SERVICENOW_USER": settings.servicenow_user,
            "GOLIVE_SERVICENOW_PASSWORD": settings.servicenow_password.get_secret_value(),
            "GOLIVE_SERVICENOW_TIMEOUT_S": "3",
            "GOLIVE_GRAPH_URL": settings.graph_url,
            "GOLIVE_TEAM_ID": settings.team_id,
            "GOLIVE_TICK_SECONDS": "1",
            "GOLIVE_SIMULATED_NOW": SAMPLE_NOW.isoformat(),
        }
    )
    return env


async def start_serve(stack: Stack) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(stack.bot_port)],
        env=serve_env(stack),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    async def up():
        try:
            async with stack.http.get(f"http://127.0.0.1:{stack.bot_port}/readyz") as response:
                return response.status == 200
        except OSError:
            return False

    await wait_for(up, timeout=30)
    return process


async def test_bot_killed_mid_stream_and_restarted_loses_and_duplicates_nothing(tmp_path):
    stack = await start_stack(tmp_path)
    process = None
    try:
        channel = await stack.channel_of("508")
        # Hand over once the in-process bot is idle: an activity it claimed and did not finish would
        # wait out its 60 s lease before `golive serve` could take it.
        await stack.settled()
        await stack.stop_bot()
        # `golive serve` binds the port itself: the one server in the tests on a port released first.
        stack.release_bot_port()
        process = await start_serve(stack)
        # Teams throttles every post while ServiceNow is slow: at the kill, incidents are being
        # created (some committed in ServiceNow but not yet recorded by the bot) and no reply is out.
        async with stack.http.post(
            f"{stack.teams}/_emulator/faults", json={"connector_throttle": {"count": -1, "retry_after": 1}}
        ) as response:
            assert response.status == 200
        await stack.servicenow_faults({"latency_ms": 400})
        posted = await post_many(stack, channel, "Killed", 20)

        async def some_created():
            # The kill comes amid the outbox's work, not amid a turn: every post is processed (an
            # activity claimed by the killed process would wait out its 60 s lease).
            async with store_of(stack.settings.database_url) as store:
                unprocessed, _ = await pending_work(store)
            return unprocessed == 0 and len(await stack.incidents("short_descriptionSTARTSWITHKilled ")) >= 3

        await wait_for(some_created, timeout=30)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        await stack.servicenow_faults(None)
        async with stack.http.delete(f"{stack.teams}/_emulator/faults") as response:
            assert response.status in (200, 204)
        process = await start_serve(stack)
        async with store_of(stack.settings.database_url) as store:
            await assert_exactly_one_incident_and_reply_each(stack, channel, "Killed", posted, store)
    finally:
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        await stack.close()
