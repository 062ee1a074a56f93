"""Go-live channels open and retire on the right local day and hour, survive restarts, and never
twice: the bot drives the Teams emulator's Graph API from the stored plan."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from testkit.sandbox import running_sandbox
from testkit.stack import start_stack, wait_for

from bot.clock import FrozenClock

BEFORE_FIRST_WEEK = datetime(2022, 5, 2, 10, 0, tzinfo=UTC)  # 06:00 in Atlanta, Monday of week 1


def go_live_channels(channels: list[dict], station: str) -> list[dict]:
    return [c for c in channels if c.get("station") == station]


def bot_root_posts(threads: list[dict]) -> list[dict]:
    return [t for t in threads if t.get("fromBot")]


async def test_channel_opens_at_local_opening_hour_once_across_restarts(tmp_path):
    stack = await start_stack(tmp_path, clock=FrozenClock(BEFORE_FIRST_WEEK))
    try:
        # A lifecycle pass at 06:00 local, and every job it (or a background tick) queued, done.
        await stack.runtime.lifecycle.tick()
        await stack.settled()
        assert go_live_channels(await stack.channels(), "508") == []  # 06:00 local: not yet

        stack.clock.set(datetime(2022, 5, 2, 11, 0, tzinfo=UTC))  # 07:00 EDT in Atlanta
        channel_id = await stack.channel_of("508")
        assert go_live_channels(await stack.channels(), "459") == []  # 01:00 in Honolulu

        async def welcomed():
            return bot_root_posts(await stack.threads(channel_id))

        await wait_for(welcomed)
        # Restart once the bot is idle: this test is about what a restart remembers, not about a
        # turn cut short (an activity claimed by a stopped bot waits out its 60 s lease).
        await stack.settled()
        await stack.stop_bot()
        await stack.start_bot()
        await stack.runtime.lifecycle.tick()  # a pass after the restart, its jobs done
        await stack.settled()
        channels = go_live_channels(await stack.channels(), "508")
        assert len(channels) == 1
        assert len(bot_root_posts(await stack.threads(channel_id))) == 1
    finally:
        await stack.close()


async def test_channel_retires_after_its_window_once_with_a_summary(tmp_path):
    stack = await start_stack(tmp_path, clock=FrozenClock(datetime(2022, 5, 3, 15, 0, tzinfo=UTC)))
    try:
        channel_id = await stack.channel_of("508")
        posted = await stack.post(channel_id, "Kiosk will not print")
        assert posted["status"] == 201
        await stack.settled()  # the inquiry has its incident before the window ends
        stack.clock.set(datetime(2022, 5, 9, 21, 1, tzinfo=UTC))  # 17:01 EDT, day 8: the window is over

        async def archived():
            found = go_live_channels(await stack.channels(), "508")
            return found and found[0]["state"] == "archived"

        await wait_for(archived)
        await stack.settled()  # restart once the bot is idle (see above)
        await stack.stop_bot()
        await stack.start_bot()
        await stack.runtime.lifecycle.tick()  # a pass after the restart, its jobs done
        await stack.settled()
        posts = bot_root_posts(await stack.threads(channel_id))
        assert len(posts) == 2  # the welcome and one retirement notice
        notice = str(posts[-1]["attachments"])
        assert "ServiceNow" in notice
        assert len(go_live_channels(await stack.channels(), "508")) == 1
    finally:
        await stack.close()


@pytest.mark.slow
async def test_sandbox_with_speed_retires_the_channel_on_time_in_the_emulator(tmp_path):
    """16:58 in Atlanta at 60x: two simulated minutes later the 508 channel retires."""
    async with running_sandbox(tmp_path, now=datetime(2022, 5, 9, 20, 58, tzinfo=UTC), speed=60.0) as urls:
        teams = urls.teams
        async with aiohttp.ClientSession() as http:

            async def channel_state():
                async with http.get(f"{teams}/_emulator/channels") as response:
                    channels = (await response.json())["channels"]
                found = go_live_channels(channels, "508")
                return found[0] if found else None

            opened = await wait_for(channel_state, timeout=10)
            assert opened["state"] == "open"

            async def retired():
                channel = await channel_state()
                return channel if channel and channel["state"] == "archived" else None

            channel = await wait_for(retired, timeout=20)
            async with http.get(f"{teams}/_emulator/channels/{channel['id']}/threads") as response:
                notice = bot_root_posts(await response.json())[-1]
        at = datetime.fromisoformat(notice["timestamp"].replace("Z", "+00:00")).astimezone(
            ZoneInfo("America/New_York")
        )
        assert (at.hour, at.minute) in {(17, 0), (17, 1)}


async def test_late_post_in_a_retired_channel_still_becomes_an_incident_and_is_redirected(tmp_path):
    stack = await start_stack(tmp_path, clock=FrozenClock(datetime(2022, 5, 3, 15, 0, tzinfo=UTC)))
    try:
        channel_id = await stack.channel_of("508")
        stack.clock.set(datetime(2022, 5, 10, 14, 0, tzinfo=UTC))  # the day after the window

        async def archived():
            found = go_live_channels(await stack.channels(), "508")
            return found and found[0]["state"] == "archived"

        await wait_for(archived)
        posted = await stack.post(channel_id, "Late question about kiosk badges")
        assert posted["status"] == 201

        async def incident():
            rows = await stack.incidents("short_descriptionSTARTSWITHLate question")
            return rows[0] if rows else None

        row = await wait_for(incident)

        async def redirected():
            thread = await stack.thread(channel_id, posted["id"])
            return [r for r in thread["replies"] if r.get("fromBot")]

        reply = (await wait_for(redirected))[0]
        assert row["number"] in reply["text"]
        assert "ServiceNow" in reply["text"] and stack.servicenow in reply["text"]
    finally:
        await stack.close()
