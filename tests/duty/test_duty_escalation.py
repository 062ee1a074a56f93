"""Issue 7, first-response escalation with a controlled clock: an inquiry unanswered for five
simulated minutes gets exactly one reply that @mentions the backup; a first response stops the clock."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from testkit.stack import ROSTER, SAMPLE_NOW, wait_for
from testkit.sync import (
    Inquiry,
    bot_replies,
    change_in_servicenow,
    count_containing,
    inquiry_row,
    new_inquiry,
)

from bot.storage import tables
from emulators.teams import EMULATOR, Person
from schedule.roster import duty_at

DUTY = duty_at(ROSTER, SAMPLE_NOW)  # week one: Jane Doe primary, Marcus Lee backup
ESCALATION = "has had no response for 5 minutes"


def engineer_person(engineer) -> Person:
    return Person(engineer.name, engineer.aad_object_id, "engineer")


async def escalations(stack, inquiry: Inquiry) -> list[dict]:
    thread = await stack.thread(inquiry.channel, inquiry.root)
    return [reply for reply in bot_replies(thread) if ESCALATION in (reply.get("text") or "")]


def stored_post(stack, post_id: str):
    emulator = next(runner.app[EMULATOR] for runner in stack.runners if EMULATOR in runner.app)
    return emulator.state.posts[post_id]


async def escalation_rows(stack, inquiry: Inquiry) -> list:
    row = await inquiry_row(stack, inquiry)
    async with stack.components.store.read() as connection:
        return (
            await connection.execute(
                select(tables.escalations).where(tables.escalations.c.inquiry_id == row.id)
            )
        ).all()


async def test_escalation_comes_at_five_minutes_and_not_before_and_mentions_the_backup(stack):
    assert DUTY.backup is not None and DUTY.primary is not None
    inquiry = await new_inquiry(stack, "Nobody answers about the kiosk error")

    stack.clock.advance(minutes=4, seconds=59)
    # A tick at 4:59 raises nothing (nor did any background tick: its reply would be in the
    # outbox, and the outbox is drained).
    assert await stack.components.escalation.tick() == 0
    await stack.settled()
    assert await escalations(stack, inquiry) == []
    assert await escalation_rows(stack, inquiry) == []

    stack.clock.advance(seconds=1)
    replies = await wait_for(lambda: escalations(stack, inquiry))
    assert len(replies) == 1
    text = replies[0]["text"]
    assert f"<at>{DUTY.backup.name}</at>" in text
    assert DUTY.primary.name in text
    expected = [(DUTY.backup.aad_object_id, DUTY.backup.name, f"<at>{DUTY.backup.name}</at>")]
    # What the driver's /threads shows, and the entity the emulator stored from the bot's activity.
    shown = replies[0].get("mentions", [])
    assert [(m["mentioned"]["id"], m["mentioned"]["name"], m["text"]) for m in shown] == expected
    stored = [e for e in stored_post(stack, replies[0]["id"]).entities if e.get("type") == "mention"]
    assert [(m["mentioned"]["id"], m["mentioned"]["name"], m["text"]) for m in stored] == expected


async def test_exactly_one_escalation_across_many_ticks_and_a_restart(stack):
    inquiry = await new_inquiry(stack, "Escalate me only once please")
    stack.clock.advance(minutes=5, seconds=30)
    await wait_for(lambda: escalations(stack, inquiry))

    for _ in range(5):
        assert await stack.components.escalation.tick() == 0
    stack.clock.advance(minutes=3)  # still before the second (15 minute) level
    # Restart once the bot is idle: an activity claimed by a stopped bot waits out its 60 s lease.
    await stack.settled()
    await stack.stop_bot()
    await stack.start_bot()
    # The restarted bot's tick finds the level already claimed.
    assert await stack.components.escalation.tick() == 0
    await stack.settled()

    assert len(await escalations(stack, inquiry)) == 1
    assert [row.level for row in await escalation_rows(stack, inquiry)] == [1]


async def test_escalation_due_while_the_bot_was_down_comes_once_after_restart(stack):
    inquiry = await new_inquiry(stack, "Posted just before the bot went down")
    await stack.settled()  # restart once the bot is idle (see above)
    await stack.stop_bot()
    stack.clock.advance(minutes=7)
    await stack.start_bot()
    await wait_for(lambda: escalations(stack, inquiry))
    assert await stack.components.escalation.tick() == 0
    await stack.settled()
    assert len(await escalations(stack, inquiry)) == 1
    assert [row.level for row in await escalation_rows(stack, inquiry)] == [1]


@pytest.mark.parametrize("first_response", ["engineer_reply", "acknowledge", "servicenow_comment"])
async def test_no_escalation_after_a_first_response(stack, first_response):
    inquiry = await new_inquiry(stack, f"Answered in time by {first_response}")
    engineer = DUTY.primary
    assert engineer is not None
    stack.clock.advance(minutes=2)
    if first_response == "engineer_reply":
        await stack.post(inquiry.channel, "Looking into it", engineer_person(engineer), reply_to=inquiry.root)
    elif first_response == "acknowledge":
        card = await _card_post(stack, inquiry)
        action = next(a for a in card["actions"] if a["title"] == "Acknowledge")
        answer = await stack.press(inquiry.card_id, action["verb"], action["data"], engineer_person(engineer))
        assert (answer["status"], answer["body"]["statusCode"]) == (200, 200)
    else:
        await change_in_servicenow(stack, inquiry.sys_id, {"comments": "We are looking into it."})

    async def answered():
        row = await inquiry_row(stack, inquiry)
        return row.first_response_at is not None and row

    row = await wait_for(answered)
    assert (
        row.first_response_source
        == {
            "engineer_reply": "teams_reply",
            "acknowledge": "acknowledge",
            "servicenow_comment": "servicenow_comment",
        }[first_response]
    )

    stack.clock.advance(minutes=14)  # past both escalation levels
    assert await stack.components.escalation.tick() == 0
    await stack.settled()
    assert await escalations(stack, inquiry) == []
    assert await count_containing(stack, inquiry, "no response") == 0
    assert await escalation_rows(stack, inquiry) == []


async def _card_post(stack, inquiry: Inquiry) -> dict:
    thread = await stack.thread(inquiry.channel, inquiry.root)
    post = next(reply for reply in thread["replies"] if reply["id"] == inquiry.card_id)
    return next(a["content"] for a in post["attachments"] if a["contentType"].endswith("card.adaptive"))


async def test_second_escalation_without_a_delivery_lead_does_not_claim_nobody_is_on_duty(stack):
    inquiry = await new_inquiry(stack, "Still unanswered after a quarter hour")
    stack.clock.advance(minutes=16)

    async def second():
        return await count_containing(stack, inquiry, "no response for 15 minutes")

    await wait_for(second)
    await stack.settled()
    assert await count_containing(stack, inquiry, "nobody is on duty") == 0
    assert await count_containing(stack, inquiry, "<at>") == 2  # the backup at 5 min, the primary at 15
