"""End to end through the real servers: signed vendor deliveries to the bot's endpoint become one
ServiceNow incident (emulator, over pysnow) and one card in the Teams emulator's "APM Alerts"
channel (created by the bot through Graph), updated in place, acknowledged from the card."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alertflow_support import ALERT_SETTINGS, SECRETS
from testkit.stack import ENGINEERS, Person, Stack, start_stack, wait_for

from bot.alerts.samples import sample_payload


async def send(stack: Stack, source: str, **options: Any) -> int:
    headers, body, query = sample_payload(source, secret=SECRETS[source], now=datetime.now(UTC), **options)  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{stack.bot_port}/alerts/{source}"
    async with stack.http.post(url, data=body, headers=headers, params=query) as response:
        return response.status


async def alert_card(stack: Stack) -> tuple[str, dict[str, Any]] | None:
    for channel in await stack.channels():
        if channel["name"] == "APM Alerts":
            threads = await stack.threads(channel["id"])
            if threads and threads[0]["attachments"]:
                return channel["id"], threads[0]
    return None


async def test_alerts_become_one_incident_and_one_card_updated_in_place(tmp_path: Path) -> None:
    stack = await start_stack(tmp_path, **ALERT_SETTINGS)
    try:
        assert await send(stack, "datadog", group="e2e-cycle") == 202

        async def incident() -> dict[str, Any] | None:
            found = await stack.incidents("correlation_id=datadog:e2e-cycle")
            return found[0] if found else None

        record = await wait_for(incident)
        assert record["assignment_group"]
        channel_id, thread = await wait_for(lambda: alert_card(stack))
        card = thread["attachments"][0]["content"]
        assert record["number"] in str(card)

        for _ in range(4):
            assert await send(stack, "datadog", group="e2e-cycle") == 202
        assert await send(stack, "datadog", group="e2e-cycle", state="recovered") == 202

        async def recovered() -> bool:
            current = await stack.thread(channel_id, thread["id"])
            text = str(current["attachments"][0]["content"])
            return "Recovered" in text and "'value': '6'" in text

        await wait_for(recovered)
        assert len(await stack.incidents("correlation_id=datadog:e2e-cycle")) == 1
        assert len(await stack.threads(channel_id)) == 1

        engineer = ENGINEERS[0]
        answer = await stack.press(
            thread["id"],
            "acknowledge",
            {"alert": "datadog:e2e-cycle"},
            Person(engineer.name, engineer.aad_object_id, "engineer"),
        )
        assert answer["status"] == 200 and answer["body"]["statusCode"] == 200

        async def handled() -> bool:
            current = await stack.thread(channel_id, thread["id"])
            return any("being handled" in (reply["text"] or "") for reply in current["replies"])

        await wait_for(handled)
        journal = await stack.journal(record["sys_id"])
        assert any("being handled" in entry["value"] for entry in journal)
    finally:
        await stack.close()
