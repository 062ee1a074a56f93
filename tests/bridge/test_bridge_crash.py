"""The bot killed with SIGKILL at random moments while Teams answers slowly: nothing is lost, no
incident is made twice, and no post appears twice in any thread (a job that may have posted before
the kill looks for its post through Graph before posting again)."""

from __future__ import annotations

import asyncio
import json
import random
import signal
from collections import Counter

import pytest
from testkit.processes import start_serve, stop
from testkit.stack import start_stack, wait_for

pytestmark = pytest.mark.slow

KILLS = 12
POSTS_PER_ROUND = 3


def bot_posts_key(post: dict) -> str:
    """What makes two bot posts the same post: their text and cards."""
    return json.dumps({"text": post.get("text"), "attachments": post.get("attachments")}, sort_keys=True)


async def test_sigkill_at_random_moments_loses_and_doubles_nothing(tmp_path):
    stack = await start_stack(tmp_path)
    process = None
    rng = random.Random(20221129)
    try:
        channel = await stack.channel_of("508")
        await stack.stop_bot()
        process = await start_serve(stack)
        async with stack.http.post(
            f"{stack.teams}/_emulator/faults", json={"connector_latency_ms": 800}
        ) as response:
            assert response.status == 200
        await stack.servicenow_faults({"latency_ms": 150})
        posted: list[dict] = []
        for round_number in range(KILLS):
            for index in range(POSTS_PER_ROUND):
                result = await stack.post(channel, f"Crash {round_number:02d}-{index} kiosk question")
                assert result["status"] == 201, result
                posted.append(result)
            await asyncio.sleep(rng.uniform(0.2, 2.5))  # a random moment: the kill itself is the test
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            process = await start_serve(stack)
        await stack.servicenow_faults(None)

        async def settled():
            rows = await stack.incidents("short_descriptionSTARTSWITHCrash ")
            threads = {t["id"]: t for t in await stack.threads(channel)}
            done = len(rows) >= len(posted) and all(
                any(r.get("fromBot") and r.get("attachments") for r in threads[p["id"]]["replies"])
                for p in posted
            )
            return (rows, threads) if done else None

        rows, threads = await wait_for(settled, timeout=180)
        descriptions = Counter(row["short_description"] for row in rows)
        assert len(rows) == len(posted) and set(descriptions.values()) == {1}, descriptions
        duplicates = {}
        for item in posted:
            bot_replies = [r for r in threads[item["id"]]["replies"] if r.get("fromBot")]
            counts = Counter(bot_posts_key(r) for r in bot_replies)
            if any(count > 1 for count in counts.values()):
                duplicates[item["id"]] = counts
            assert sum(1 for r in bot_replies if r.get("attachments")) == 1, bot_replies
        assert duplicates == {}
        roots = Counter(bot_posts_key(t) for t in threads.values() if t.get("fromBot"))
        assert all(count == 1 for count in roots.values()), roots
    finally:
        stop(process)
        await stack.close()
