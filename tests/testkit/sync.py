"""Helpers for the sync-back tests: make an inquiry, act as an engineer in ServiceNow, watch the thread."""

from __future__ import annotations

import time
from dataclasses import dataclass

from emulators.teams import Person
from testkit.stack import STAFF, Stack, wait_for

# The stack polls ServiceNow every 0.3 s; a change must show in Teams within one interval plus 1 s.
SYNC_DEADLINE_S = 0.3 + 1.0


@dataclass
class Inquiry:
    channel: str
    root: str
    sys_id: str
    number: str
    card_id: str


def bot_replies(thread: dict) -> list[dict]:
    return [reply for reply in thread["replies"] if reply.get("fromBot")]


def card_of(post: dict) -> dict:
    return next(a["content"] for a in post["attachments"] if a["contentType"].endswith("card.adaptive"))


async def new_inquiry(stack: Stack, text: str, station: str = "508", person: Person = STAFF) -> Inquiry:
    """Post an inquiry and wait for its incident and its card in the thread."""
    channel = await stack.channel_of(station)
    posted = await stack.post(channel, text, person)

    async def card_posted():
        replies = [r for r in bot_replies(await stack.thread(channel, posted["id"])) if r["attachments"]]
        return replies[0] if replies else None

    card = await wait_for(card_posted)
    rows = await stack.incidents(f"short_descriptionSTARTSWITH{text.splitlines()[0]}")
    assert len(rows) == 1, rows
    return Inquiry(channel, posted["id"], rows[0]["sys_id"], rows[0]["number"], card["id"])


async def texts(stack: Stack, inquiry: Inquiry) -> list[str]:
    return [r.get("text") or "" for r in bot_replies(await stack.thread(inquiry.channel, inquiry.root))]


async def count_containing(stack: Stack, inquiry: Inquiry, needle: str) -> int:
    return sum(needle in text for text in await texts(stack, inquiry))


async def appears_once(stack: Stack, inquiry: Inquiry, needle: str, *, since: float) -> None:
    """``needle`` shows in one bot reply within the sync deadline (counted from ``since``), and is
    still one after another complete pass of the change feed over the same changes and a settled
    outbox."""

    async def shown():
        return await count_containing(stack, inquiry, needle)

    await wait_for(shown, timeout=max(0.05, since + SYNC_DEADLINE_S - time.monotonic()), interval=0.03)
    await stack.runtime.sync.poll()
    await stack.settled()
    assert await shown() == 1, await texts(stack, inquiry)


async def change_in_servicenow(
    stack: Stack, sys_id: str, values: dict, user: str = "admin", password: str = "admin"
) -> float:
    """PATCH the incident as a person (display values allowed); returns when it was done."""
    await stack.servicenow_as(
        user, password, "PATCH", f"/api/now/table/incident/{sys_id}?sysparm_input_display_value=true", values
    )
    return time.monotonic()


async def incident(stack: Stack, sys_id: str) -> dict:
    answer = await stack.servicenow_as(
        "admin", "admin", "GET", f"/api/now/table/incident/{sys_id}?sysparm_display_value=all", {}
    )
    return answer["result"]


async def inquiry_row(stack: Stack, inquiry: Inquiry):
    from sqlalchemy import select

    from bot.storage import tables

    async with stack.components.store.read() as connection:
        return (
            await connection.execute(
                select(tables.inquiries).where(tables.inquiries.c.sys_id == inquiry.sys_id)
            )
        ).first()
