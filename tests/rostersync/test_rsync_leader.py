"""The leader syncs the roster from PagerDuty on its own (at start, then hourly), and ``/metrics``
shows a failing sync."""

from __future__ import annotations

import aiohttp
from rsync_support import NOW, SCHEDULES
from testkit.stack import start_stack, wait_for

from bot.bridge.roster_sync import ROSTER_SYNC_DOCUMENT
from emulators.pagerduty import DEFAULT_TOKEN, PagerDutyEmulatorConfig, create_pagerduty_emulator


async def test_the_leader_syncs_from_pagerduty_and_metrics_show_a_failing_sync(tmp_path, aiohttp_server):
    pagerduty = await aiohttp_server(
        create_pagerduty_emulator(PagerDutyEmulatorConfig(tokens=(DEFAULT_TOKEN,), now=lambda: NOW))
    )
    stack = await start_stack(
        tmp_path,
        pagerduty_api_url=str(pagerduty.make_url("")).rstrip("/"),
        pagerduty_token=DEFAULT_TOKEN,
        pagerduty_schedule_ids=",".join(SCHEDULES),
    )
    try:
        store = stack.runtime.store

        async def status() -> dict | None:
            async with store.read() as connection:
                return await store.get_document(connection, ROSTER_SYNC_DOCUMENT)

        synced = await wait_for(status)
        assert synced["source"] == "pagerduty" and synced["failing"] is False
        async with aiohttp.ClientSession() as http:
            async with http.post(
                str(pagerduty.make_url("/_emulator/faults")), json={"reject_auth": True}
            ) as r:
                assert r.status == 200
            await stack.runtime.roster_sync.tick()  # what the next hourly tick does
            async with http.get(f"http://127.0.0.1:{stack.bot_port}/metrics") as response:
                metrics = await response.text()
        assert "golive_roster_sync_failing 1.0" in metrics
        assert "golive_roster_sync_last_success_timestamp_seconds" in metrics
        assert (await status())["last_failure"].startswith("GOLIVE_PAGERDUTY_TOKEN was refused (401)")
    finally:
        await stack.close()
