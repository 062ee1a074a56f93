"""The sandbox is complete for a delivery manager: Morgan Manager (``manager`` in ``/_emulator/people``)
adds a week from a personal chat (form, preview, Confirm), the plan API shows it, and at the end of
the simulated week the rotation report card appears in the "Go Live Management" channel, at
``--speed 3600`` (a simulated hour per real second)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from testkit.sandbox import running_sandbox
from testkit.stack import wait_for

from bot import views
from bot.sandbox import MANAGEMENT_CHANNEL, SANDBOX_API_TOKEN

# Three simulated hours before the first week's last channel (Manila, 17:00 PHT) retires.
BEFORE_FIRST_ROTATION_ENDS = datetime(2022, 5, 11, 6, 0, tzinfo=UTC)


def card_actions(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        action
        for attachment in message.get("attachments", [])
        for action in (attachment.get("content") or {}).get("actions", [])
    ]


@pytest.mark.slow
async def test_sandbox_manager_adds_a_week_from_a_personal_chat_and_reads_the_report_in_the_management_channel(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("GOLIVE_API_TOKENS", raising=False)
    monkeypatch.delenv("GOLIVE_MANAGER_AAD_IDS", raising=False)
    async with running_sandbox(tmp_path, now=BEFORE_FIRST_ROTATION_ENDS, speed=3600.0) as urls:
        async with aiohttp.ClientSession() as http:

            async def get(url: str, **kwargs: Any) -> Any:
                async with http.get(url, **kwargs) as response:
                    assert response.status == 200, await response.text()
                    return await response.json()

            async def post(url: str, body: dict[str, Any]) -> Any:
                async with http.post(url, json=body) as response:
                    assert response.status == 200, await response.text()
                    return await response.json()

            [manager] = [p for p in await get(f"{urls.teams}/_emulator/people") if p["role"] == "manager"]
            assert manager["name"] == "Morgan Manager"
            sender = {"name": manager["name"], "aadObjectId": manager["aadObjectId"]}
            channels = (await get(f"{urls.teams}/_emulator/channels"))["channels"]
            [management] = [c for c in channels if c["name"] == MANAGEMENT_CHANNEL]
            assert management["goLive"] is False

            # The manager asks for the add-week form in a personal chat.
            await post(
                f"{urls.teams}/_emulator/personal/messages", {"from": sender, "text": "week add 2022-09-05"}
            )

            async def form() -> dict[str, Any] | None:
                chat = await get(f"{urls.teams}/_emulator/personal/{manager['aadObjectId']}")
                return next(
                    (
                        m
                        for m in chat["messages"]
                        if m.get("fromBot")
                        and any(a.get("verb") == views.VERB_ADD_WEEK for a in card_actions(m))
                    ),
                    None,
                )

            card = await wait_for(form)
            submitted = await post(
                f"{urls.teams}/_emulator/actions",
                {
                    "activityId": card["id"],
                    "verb": views.VERB_ADD_WEEK,
                    "data": {
                        "form": views.VERB_ADD_WEEK,
                        views.WEEK_START_INPUT: "2022-09-05",
                        views.SITES_INPUT: "701,Reno,America/Los_Angeles\n702,Boise,America/Boise,2022-09-06",
                    },
                    "from": sender,
                },
            )
            preview = submitted["body"]
            assert preview["statusCode"] == 200, preview
            buttons = {a["title"]: a for a in preview["value"]["actions"]}
            assert set(buttons) == {"Confirm", "Cancel"}
            assert "add 701 Reno" in str(preview["value"]["body"])

            plan_url = f"{urls.bot}/api/plan"
            token = {"Authorization": f"Bearer {SANDBOX_API_TOKEN}"}
            assert "701" not in {row["station"] for row in await get(plan_url, headers=token)}
            confirmed = await post(
                f"{urls.teams}/_emulator/actions",
                {
                    "activityId": card["id"],
                    "verb": views.VERB_PLAN_CONFIRM,
                    "data": buttons["Confirm"]["data"],
                    "from": sender,
                },
            )
            assert confirmed["body"]["statusCode"] == 200, confirmed
            added = {row["station"]: row for row in await get(plan_url, headers=token)}
            assert added["701"]["week_start"] == "2022-09-05" and added["702"]["go_live_date"] == "2022-09-06"
            audit = await get(f"{urls.bot}/api/audit", headers=token, params={"action": "plan.week_add"})
            assert [entry["actor"].split(" (")[0] for entry in audit] == ["Morgan Manager"]

            # A few real seconds later the first week's rotation has ended: its card is in the channel.
            async def report() -> list[dict[str, Any]]:
                threads = await get(f"{urls.teams}/_emulator/channels/{management['id']}/threads")
                return [
                    t for t in threads if t.get("fromBot") and "Rotation report: week of 2022-05-02" in str(t)
                ]

            [posted] = await wait_for(report, timeout=30)
            assert posted["attachments"][0]["content"]["type"] == "AdaptiveCard"
