"""Issue 7, routing round trips: card buttons and thread commands move the incident in ServiceNow;
a move made in ServiceNow moves the card; strangers and bad presses get a 4xx in the invoke body."""

from __future__ import annotations

from testkit.stack import ROSTER, SAMPLE_NOW, STAFF, wait_for
from testkit.sync import Inquiry, card_of, count_containing, incident, inquiry_row, new_inquiry

from emulators.teams import Person
from schedule.roster import duty_at

TIER2 = "Scheduling Support"
PRODUCT = "eCheck-in Vet Facing Apps"
DUTY = duty_at(ROSTER, SAMPLE_NOW)
assert DUTY.primary is not None and DUTY.backup is not None
BACKUP = Person(DUTY.backup.name, DUTY.backup.aad_object_id, "engineer")


async def card(stack, inquiry: Inquiry) -> dict:
    thread = await stack.thread(inquiry.channel, inquiry.root)
    return card_of(next(reply for reply in thread["replies"] if reply["id"] == inquiry.card_id))


def button(card_content: dict, title: str) -> dict:
    return next(a for a in card_content["actions"] if a["title"] == title)


def group_fact(card_content: dict) -> str:
    for fact_set in _find(card_content, "FactSet"):
        for fact in fact_set["facts"]:
            if fact["title"].rstrip(":") == "Group":
                return fact["value"]
    raise AssertionError("the card shows no Group")


def _find(node, kind: str):
    if isinstance(node, dict):
        if node.get("type") == kind:
            yield node
        for value in node.values():
            yield from _find(value, kind)
    elif isinstance(node, list):
        for value in node:
            yield from _find(value, kind)


async def group_in_servicenow(stack, inquiry: Inquiry) -> str:
    return (await incident(stack, inquiry.sys_id))["assignment_group"]["display_value"]


async def test_pressing_the_product_group_button_moves_the_incident(stack):
    inquiry = await new_inquiry(stack, "Pre-Check-in page shows a spinner forever")
    product = button(await card(stack, inquiry), PRODUCT)

    answer = await stack.press(inquiry.card_id, product["verb"], product["data"], BACKUP)
    assert answer["status"] == 200
    assert answer["body"]["statusCode"] == 200
    # The invoke answers with a message; the card follows once ServiceNow has moved (issue 17).
    assert answer["body"]["type"] == "application/vnd.microsoft.activity.message"

    async def moved():
        return await group_in_servicenow(stack, inquiry) == PRODUCT

    await wait_for(moved)

    async def card_moved():
        return group_fact(await card(stack, inquiry)) == PRODUCT

    await wait_for(card_moved)
    row = await inquiry_row(stack, inquiry)
    assert row.re_routes == 1
    # The bridge's own move is not announced back as if someone had made it in ServiceNow: once
    # its jobs are done, a complete pass of the change feed that sees the move posts nothing.
    await stack.settled()
    await stack.runtime.sync.poll()
    await stack.settled()
    assert await count_containing(stack, inquiry, "moved from") == 0
    assert await count_containing(stack, inquiry, "is now assigned to") == 0
    assert (await inquiry_row(stack, inquiry)).re_routes == 1

    # And back to Tier 2 with the other button: a second re-route.
    tier2 = button(await card(stack, inquiry), TIER2)
    answer = await stack.press(inquiry.card_id, tier2["verb"], tier2["data"], BACKUP)
    assert (answer["status"], answer["body"]["statusCode"]) == (200, 200)

    async def back():
        return await group_in_servicenow(stack, inquiry) == TIER2

    await wait_for(back)
    await stack.settled()
    assert (await inquiry_row(stack, inquiry)).re_routes == 2


async def test_assign_to_me_assigns_the_engineers_servicenow_user(stack):
    inquiry = await new_inquiry(stack, "Kiosk printer jams on every ticket")
    assign = button(await card(stack, inquiry), "Assign to me")
    answer = await stack.press(inquiry.card_id, assign["verb"], assign["data"], BACKUP)
    assert (answer["status"], answer["body"]["statusCode"]) == (200, 200)

    async def assigned():
        record = await incident(stack, inquiry.sys_id)
        return record["assigned_to"]["display_value"] == BACKUP.name

    await wait_for(assigned)
    assert (await inquiry_row(stack, inquiry)).assigned_to == DUTY.backup.servicenow_user


async def test_bad_presses_answer_200_with_a_4xx_status_code(stack):
    inquiry = await new_inquiry(stack, "Check-in QR code will not scan")
    product = button(await card(stack, inquiry), PRODUCT)

    unknown_verb = await stack.press(inquiry.card_id, "teleport", product["data"], BACKUP)
    unknown_incident = await stack.press(
        inquiry.card_id, product["verb"], {**product["data"], "inquiry": "teams-no-such-inquiry"}, BACKUP
    )
    unknown_group = await stack.press(
        inquiry.card_id, product["verb"], {**product["data"], "group": "Pharmacy"}, BACKUP
    )
    stranger = await stack.press(inquiry.card_id, product["verb"], product["data"], STAFF)

    for answer in (unknown_verb, unknown_incident, unknown_group, stranger):
        assert answer["status"] == 200
        assert 400 <= answer["body"]["statusCode"] < 500, answer
    assert unknown_incident["body"]["statusCode"] == 404
    assert stranger["body"]["statusCode"] == 403

    await stack.settled()  # a press that moved anything would have left a job in the outbox
    assert await group_in_servicenow(stack, inquiry) == TIER2
    assert (await inquiry_row(stack, inquiry)).re_routes == 0
    assert group_fact(await card(stack, inquiry)) == TIER2


async def test_thread_command_by_an_engineer_routes_the_incident(stack):
    inquiry = await new_inquiry(stack, "Vets-api returns 500 for appointments")
    await stack.post(inquiry.channel, "<at>Go Live Bridge</at> route product", BACKUP, reply_to=inquiry.root)

    async def moved():
        return await group_in_servicenow(stack, inquiry) == PRODUCT

    await wait_for(moved)
    await wait_for(lambda: count_containing(stack, inquiry, f"Routed to {PRODUCT} by {BACKUP.name}"))

    async def card_moved():
        return group_fact(await card(stack, inquiry)) == PRODUCT

    await wait_for(card_moved)
    await stack.settled()
    assert (await inquiry_row(stack, inquiry)).re_routes == 1


async def test_thread_command_by_site_staff_changes_nothing(stack):
    inquiry = await new_inquiry(stack, "Staff tries to route their own inquiry")
    await stack.post(inquiry.channel, "<at>Go Live Bridge</at> route product", STAFF, reply_to=inquiry.root)
    await wait_for(lambda: count_containing(stack, inquiry, "Only engineers"))
    await stack.settled()
    assert await group_in_servicenow(stack, inquiry) == TIER2
    assert (await inquiry_row(stack, inquiry)).re_routes == 0
