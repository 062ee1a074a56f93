"""A delivery manager changes the plan from a Teams personal chat, through the Teams emulator: every
change is a preview card first; Cancel changes nothing, Confirm applies exactly what was shown, and
a pull that would close a live channel is refused unless forced (then the card says so)."""

from __future__ import annotations

from typing import Any

from testkit.stack import Stack, start_stack, wait_for

from bot import views
from bot.bridge import records
from bot.storage import tables
from emulators.teams import Person

MORGAN = Person("Morgan Manager", "a1b2c3d4-0000-4000-8000-000000000004", "manager")


async def say(stack: Stack, text: str) -> None:
    body = {"from": {"name": MORGAN.name, "aadObjectId": MORGAN.aad_object_id}, "text": text}
    async with stack.http.post(f"{stack.teams}/_emulator/personal/messages", json=body) as response:
        assert response.status == 200


async def bot_messages(stack: Stack) -> list[dict[str, Any]]:
    async with stack.http.get(f"{stack.teams}/_emulator/personal/{MORGAN.aad_object_id}") as response:
        return [m for m in (await response.json())["messages"] if m.get("fromBot")]


async def next_answer(stack: Stack, seen: int) -> dict[str, Any]:
    async def arrived() -> dict[str, Any] | None:
        messages = await bot_messages(stack)
        return messages[seen] if len(messages) > seen else None

    return await wait_for(arrived)


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    card = message["attachments"][0]["content"]
    return {action["title"]: action for action in card.get("actions", [])}


async def planned(stack: Stack, station: str) -> Any:
    async with stack.runtime.store.read() as connection:
        return (await records.load_plan(connection)).get(station)


async def test_plan_change_from_teams_is_previewed_dropped_on_cancel_and_applied_on_confirm(tmp_path):
    stack = await start_stack(tmp_path, manager_aad_ids=MORGAN.aad_object_id)
    try:
        atlanta_channel = await stack.channel_of("508")

        # A move: the preview card, then Cancel; nothing changes.
        await say(stack, "site move 509 2022-05-16")
        preview = await next_answer(stack, 0)
        card_text = str(preview["attachments"][0]["content"])
        assert "move 509 Augusta: week 2022-05-09 -> 2022-05-16" in card_text
        cancel = buttons(preview)["Cancel"]
        pressed = await stack.press(preview["id"], cancel["verb"], cancel["data"], MORGAN)
        assert pressed["body"]["statusCode"] == 200
        assert "Cancelled" in str(pressed["body"]["value"])
        assert str((await planned(stack, "509")).week_start) == "2022-05-09"
        confirm_after_cancel = await stack.press(
            preview["id"], views.VERB_PLAN_CONFIRM, cancel["data"], MORGAN
        )
        assert confirm_after_cancel["body"]["statusCode"] == 409

        # A pull of a site whose channel is open is refused, naming it.
        await say(stack, "site pull 508")
        refused = await next_answer(stack, 1)
        assert "508 Atlanta is open" in refused["text"] and "site pull 508 force" in refused["text"]
        assert not (await planned(stack, "508")).pulled

        # Forced, the preview says the channel closes; only Confirm closes it.
        await say(stack, "site pull 508 force")
        forced = await next_answer(stack, 2)
        assert "cancel 508 Atlanta" in str(forced["attachments"][0]["content"])
        confirm = buttons(forced)["Confirm"]
        assert not (await planned(stack, "508")).pulled
        pressed = await stack.press(forced["id"], confirm["verb"], confirm["data"], MORGAN)
        assert pressed["body"]["statusCode"] == 200
        assert (await planned(stack, "508")).pulled

        async def archived() -> bool:
            return any(
                c["id"] == atlanta_channel and c["state"] == "archived" for c in await stack.channels()
            )

        await wait_for(archived)
        async with stack.runtime.store.read() as connection:
            actions = [row.action for row in (await connection.execute(tables.audit_log.select())).all()]
        assert actions.count("site.pull") == 1 and "site.move" not in actions
    finally:
        await stack.close()
