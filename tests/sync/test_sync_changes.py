"""Issue 8, sync back: what engineers do in ServiceNow shows in the site's Teams thread once each,
within one poll interval plus a second; work notes and the bridge's own writes never do."""

from __future__ import annotations

import time

from testkit.stack import ENGINEERS, STAFF, wait_for
from testkit.sync import (
    appears_once,
    card_of,
    change_in_servicenow,
    count_containing,
    incident,
    inquiry_row,
    new_inquiry,
    texts,
)

from emulators.teams import Person

ENGINEER = ENGINEERS[1]


async def test_state_changes_in_servicenow_show_in_the_thread_once_each(stack):
    inquiry = await new_inquiry(stack, "Check-in kiosk keeps rebooting")

    since = await change_in_servicenow(stack, inquiry.sys_id, {"state": "2"})
    await appears_once(stack, inquiry, f"{inquiry.number} is now In Progress", since=since)

    since = await change_in_servicenow(stack, inquiry.sys_id, {"state": "3", "hold_reason": "1"})
    await appears_once(stack, inquiry, f"{inquiry.number} is On Hold", since=since)

    since = await change_in_servicenow(
        stack,
        inquiry.sys_id,
        {"state": "6", "close_code": "Solution provided", "close_notes": "Replaced the power supply."},
    )
    await appears_once(stack, inquiry, f"{inquiry.number} is Resolved", since=since)
    assert await count_containing(stack, inquiry, "Replaced the power supply.") == 1

    since = await change_in_servicenow(
        stack, inquiry.sys_id, {"close_notes": "Replaced the power supply and the cable."}
    )
    await appears_once(stack, inquiry, "Replaced the power supply and the cable.", since=since)

    since = await change_in_servicenow(stack, inquiry.sys_id, {"state": "7"})
    await appears_once(stack, inquiry, f"{inquiry.number} is now Closed", since=since)


async def test_on_hold_shows_the_reason_by_its_name(stack):
    inquiry = await new_inquiry(stack, "Kiosk waits on a vendor patch")
    since = await change_in_servicenow(stack, inquiry.sys_id, {"state": "3", "hold_reason": "4"})
    await appears_once(stack, inquiry, f"{inquiry.number} is On Hold (Awaiting Vendor)", since=since)


async def test_cancelled_incident_shows_in_the_thread(stack):
    inquiry = await new_inquiry(stack, "Duplicate of the kiosk question")
    since = await change_in_servicenow(stack, inquiry.sys_id, {"state": "8"})
    await appears_once(stack, inquiry, f"{inquiry.number} is now Canceled", since=since)


async def test_group_and_assignee_changes_show_in_the_thread(stack):
    inquiry = await new_inquiry(stack, "Pre-Check-in link opens a blank page")

    since = await change_in_servicenow(
        stack, inquiry.sys_id, {"assignment_group": "eCheck-in Vet Facing Apps"}
    )
    await appears_once(
        stack, inquiry, "moved from Scheduling Support to eCheck-in Vet Facing Apps", since=since
    )

    since = await change_in_servicenow(stack, inquiry.sys_id, {"assigned_to": ENGINEER.servicenow_user})
    await appears_once(stack, inquiry, f"is now assigned to {ENGINEER.name}", since=since)


async def test_public_comment_shows_once_and_work_note_never(stack):
    inquiry = await new_inquiry(stack, "Appointment list is empty this morning")

    await change_in_servicenow(stack, inquiry.sys_id, {"work_notes": "Internal: suspect VistA sync lag"})
    since = await change_in_servicenow(
        stack, inquiry.sys_id, {"comments": "Please refresh the page and retry."}
    )
    await appears_once(stack, inquiry, "Please refresh the page and retry.", since=since)
    replies = await texts(stack, inquiry)
    assert not any("VistA sync lag" in text for text in replies), replies
    assert any("commented in ServiceNow" in text for text in replies)


async def test_comment_by_a_seeded_engineer_login_shows_with_their_name(stack):
    inquiry = await new_inquiry(stack, "Wristband printer prints blank labels")
    # The engineer acts through the queue page (no password of their own in the emulator).
    since = await _form_post(
        stack,
        inquiry.sys_id,
        {
            "as": ENGINEER.servicenow_user,
            "action": "post",
            "journal_type": "comments",
            "journal_text": "Swap the label roll, please.",
        },
    )
    await appears_once(stack, inquiry, "Swap the label roll, please.", since=since)
    assert await count_containing(stack, inquiry, f"{ENGINEER.name} commented in ServiceNow") == 1


async def test_the_bridges_own_comments_never_come_back_to_teams(stack):
    inquiry = await new_inquiry(stack, "Veteran cannot see travel pay option")
    await stack.post(inquiry.channel, "It happens for every veteran today", STAFF, reply_to=inquiry.root)

    async def commented():
        entries = [e for e in await stack.journal(inquiry.sys_id) if e["element"] == "comments"]
        return entries

    entries = await wait_for(commented)
    assert entries[0]["sys_created_by"] == stack.settings.servicenow_user
    # A complete pass of the change feed that sees the comment, then nothing left to post.
    await stack.runtime.sync.poll()
    await stack.settled()
    replies = await texts(stack, inquiry)
    assert not any("every veteran today" in text for text in replies), replies
    assert not any("commented in ServiceNow" in text for text in replies), replies


async def test_poster_reply_after_resolution_reopens_the_incident(stack):
    inquiry = await new_inquiry(stack, "Kiosk touch screen unresponsive")
    since = await change_in_servicenow(
        stack,
        inquiry.sys_id,
        {"state": "6", "close_code": "Solution provided", "close_notes": "Recalibrated."},
    )
    await appears_once(stack, inquiry, "is Resolved", since=since)

    await stack.post(inquiry.channel, "Still not working after recalibration", STAFF, reply_to=inquiry.root)

    async def reopened():
        return (await incident(stack, inquiry.sys_id))["state"]["value"] == "2"

    await wait_for(reopened)

    async def recorded():  # the bot records the reopened state right after ServiceNow answers
        row = await inquiry_row(stack, inquiry)
        return row if row.state == 2 else None

    row = await wait_for(recorded)
    assert row.resolved_at is None


async def test_engineer_reply_after_resolution_does_not_reopen(stack):
    inquiry = await new_inquiry(stack, "Tablet battery drains in an hour")
    since = await change_in_servicenow(
        stack, inquiry.sys_id, {"state": "6", "close_code": "Solution provided", "close_notes": "New tablet."}
    )
    await appears_once(stack, inquiry, "is Resolved", since=since)
    engineer = Person(ENGINEER.name, ENGINEER.aad_object_id, "engineer")
    await stack.post(inquiry.channel, "Glad it is sorted", engineer, reply_to=inquiry.root)

    async def commented():
        return [e for e in await stack.journal(inquiry.sys_id) if "Glad it is sorted" in e["value"]]

    await wait_for(commented)
    await stack.settled()  # the reply's every job has run: a reopen would have been one of them
    assert (await incident(stack, inquiry.sys_id))["state"]["value"] == "6"
    assert (await inquiry_row(stack, inquiry)).state == 6


async def test_changes_made_on_the_queue_page_sync_too(stack):
    inquiry = await new_inquiry(stack, "Check-in text message never arrives")
    groups = await stack.servicenow_as(
        "admin",
        "admin",
        "GET",
        "/api/now/table/sys_user_group?sysparm_query=name=eCheck-in Vet Facing Apps",
        {},
    )
    product = groups["result"][0]["sys_id"]

    since = await _form_post(
        stack, inquiry.sys_id, {"as": "admin", "action": "update", "assignment_group": product}
    )
    await appears_once(
        stack, inquiry, "moved from Scheduling Support to eCheck-in Vet Facing Apps", since=since
    )

    since = await _form_post(
        stack, inquiry.sys_id, {"as": "admin", "action": "update", "state": "3", "hold_reason": "4"}
    )
    await appears_once(stack, inquiry, "is On Hold", since=since)

    since = await _form_post(
        stack,
        inquiry.sys_id,
        {
            "as": "admin",
            "action": "post",
            "journal_type": "work_notes",
            "journal_text": "Vendor ticket 4411 opened",
        },
    )
    since = await _form_post(
        stack,
        inquiry.sys_id,
        {
            "as": "admin",
            "action": "post",
            "journal_type": "comments",
            "journal_text": "We asked the SMS vendor.",
        },
    )
    await appears_once(stack, inquiry, "We asked the SMS vendor.", since=since)

    since = await _form_post(
        stack,
        inquiry.sys_id,
        {
            "as": "admin",
            "action": "resolve",
            "close_code": "Solution provided",
            "close_notes": "Vendor fixed the SMS gateway.",
        },
    )
    await appears_once(stack, inquiry, "Vendor fixed the SMS gateway.", since=since)
    assert not any("4411" in text for text in await texts(stack, inquiry))


async def test_group_change_in_servicenow_updates_the_card_and_counts_a_re_route(stack):
    inquiry = await new_inquiry(stack, "Kiosk language switch does nothing")
    since = await change_in_servicenow(
        stack, inquiry.sys_id, {"assignment_group": "eCheck-in Vet Facing Apps"}
    )
    await appears_once(stack, inquiry, "moved from", since=since)

    async def card_shows_product_group():
        thread = await stack.thread(inquiry.channel, inquiry.root)
        card = next(r for r in thread["replies"] if r["id"] == inquiry.card_id)
        return "eCheck-in Vet Facing Apps" in _facts(card_of(card)).get("Group", "")

    await wait_for(card_shows_product_group)
    await stack.settled()
    row = await inquiry_row(stack, inquiry)
    assert row.re_routes == 1
    assert row.assignment_group == "eCheck-in Vet Facing Apps"


async def _form_post(stack, sys_id: str, form: dict) -> float:
    async with stack.http.post(
        f"{stack.servicenow}/incident.do", params={"sys_id": sys_id}, data=form, allow_redirects=False
    ) as response:
        assert response.status == 303, await response.text()
    return time.monotonic()


def _facts(card: dict) -> dict[str, str]:
    facts: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "FactSet":
                facts.update({f["title"].rstrip(":"): f["value"] for f in node["facts"]})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return facts
