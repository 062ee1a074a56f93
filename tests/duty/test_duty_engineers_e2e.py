"""Issue 17 end to end through the emulators (the real Bot Connector client and pysnow): the card after
Acknowledge and after a route is ServiceNow's record field by field; the incident names the caller
and the engineer who acted; a resolve from the card posts its notes; the thread is linked from the
incident; an edit leaves no old text behind; and a swap moves duty everywhere, /_emulator/people
included."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from testkit.stack import ROSTER, SAMPLE_NOW, STAFF, wait_for
from testkit.sync import Inquiry, bot_replies, card_of, count_containing, incident, new_inquiry

from emulators.teams import Person, TeamsEmulatorConfig
from schedule.roster import duty_at

DUTY = duty_at(ROSTER, SAMPLE_NOW)  # Jane Doe primary, Marcus Lee backup
assert DUTY.primary is not None and DUTY.backup is not None
JANE = Person(DUTY.primary.name, DUTY.primary.aad_object_id, "engineer", DUTY.primary.email)
MARCUS = Person(DUTY.backup.name, DUTY.backup.aad_object_id, "engineer", DUTY.backup.email)
PRODUCT = "eCheck-in Vet Facing Apps"


async def card(stack, inquiry: Inquiry) -> dict:
    thread = await stack.thread(inquiry.channel, inquiry.root)
    return card_of(next(reply for reply in thread["replies"] if reply["id"] == inquiry.card_id))


def facts(card_content: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in card_content["body"]:
        if item.get("type") == "FactSet":
            found.update({fact["title"]: fact["value"] for fact in item["facts"]})
    return found


def button(card_content: dict, title: str) -> dict:
    return next(a for a in card_content["actions"] if a["title"] == title)


def shown(record: dict, name: str) -> str:
    return record[name]["display_value"] if isinstance(record[name], dict) else record[name]


async def card_matches_servicenow(stack, inquiry: Inquiry) -> dict | None:
    """The card's State, Group and Assigned to, when they are ServiceNow's display values."""
    record = await incident(stack, inquiry.sys_id)
    on_card = facts(await card(stack, inquiry))
    expected = {
        "State": shown(record, "state"),
        "Group": shown(record, "assignment_group"),
        "Assigned to": shown(record, "assigned_to") or "Unassigned",
    }
    actual = {title: on_card.get(title) for title in expected}
    return record if actual == expected else None


async def test_the_card_after_acknowledge_and_after_a_route_matches_servicenow(stack):
    inquiry = await new_inquiry(stack, "Kiosk prints blank tickets")
    ack = button(await card(stack, inquiry), "Acknowledge")
    answer = await stack.press(inquiry.card_id, ack["verb"], ack["data"], MARCUS)
    assert (answer["status"], answer["body"]["statusCode"]) == (200, 200)

    async def acknowledged():
        record = await card_matches_servicenow(stack, inquiry)
        return record if record and shown(record, "state") == "In Progress" else None

    record = await wait_for(acknowledged, timeout=10)
    assert shown(record, "assigned_to") == "Jane Doe"  # a name on the card, never jane.doe
    assert facts(await card(stack, inquiry))["Assigned to"] == "Jane Doe"

    route = button(await card(stack, inquiry), PRODUCT)
    await stack.press(inquiry.card_id, route["verb"], route["data"], MARCUS)

    async def routed():
        record = await card_matches_servicenow(stack, inquiry)
        return record if record and shown(record, "assignment_group") == PRODUCT else None

    record = await wait_for(routed, timeout=10)
    assert shown(record, "assigned_to") == "Jane Doe"  # ServiceNow kept her; so does the card
    notes = [e["value"] for e in await stack.journal(inquiry.sys_id) if e["element"] == "work_notes"]
    assert any("Acknowledged in Teams by Marcus Lee (marcus.lee)" in note for note in notes)
    assert any(f"Routed to {PRODUCT} from Teams by Marcus Lee (marcus.lee)" in note for note in notes)


async def test_the_incident_names_the_caller_and_the_engineer_who_resolved_it(stack):
    inquiry = await new_inquiry(stack, "Pre-check-in link expired for a veteran")
    record = await incident(stack, inquiry.sys_id)
    assert shown(record, "caller_id") == STAFF.name  # the poster's sys_user, found by e-mail

    resolve = button(await card(stack, inquiry), "Resolve")
    data = {**resolve["card"]["actions"][0]["data"], "close_code": "Solution provided"}
    data["close_notes"] = "Sent a new pre-check-in link"
    answer = await stack.press(inquiry.card_id, "resolve", data, MARCUS)
    assert answer["body"]["statusCode"] == 200

    async def resolved():
        record = await incident(stack, inquiry.sys_id)
        return record if shown(record, "state") == "Resolved" else None

    record = await wait_for(resolved, timeout=10)
    assert shown(record, "resolved_by") == "Marcus Lee"

    async def noted():
        notes = [e["value"] for e in await stack.journal(inquiry.sys_id) if e["element"] == "work_notes"]
        return any("Resolved in Teams by Marcus Lee (marcus.lee)." in note for note in notes)

    await wait_for(noted, timeout=10)

    async def notes_in_thread():
        return await count_containing(stack, inquiry, "Sent a new pre-check-in link")

    await wait_for(notes_in_thread, timeout=10)
    texts = [r.get("text") or "" for r in bot_replies(await stack.thread(inquiry.channel, inquiry.root))]
    [reply] = [t for t in texts if "Sent a new pre-check-in link" in t]
    assert "reply in this thread and the incident reopens" in reply
    assert "resolved by Marcus Lee" in str(await card(stack, inquiry))


async def test_the_incident_links_its_teams_thread(stack):
    inquiry = await new_inquiry(stack, "Tablet shows the wrong clinic")
    record = await incident(stack, inquiry.sys_id)
    description = shown(record, "description")
    link = next(line for line in description.splitlines() if line.startswith("Thread: ")).removeprefix(
        "Thread: "
    )
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc) == ("https", "teams.microsoft.com")
    assert parts.path.endswith(f"/{inquiry.root}") and parts.path.startswith("/l/message/19%3A")
    query = parse_qs(parts.query)
    config = TeamsEmulatorConfig()
    assert query["tenantId"] == [config.tenant_id] and query["groupId"] == [config.team_id]
    assert query["parentMessageId"] == [inquiry.root] and query["channelName"][0].startswith("Go Live - 508")
    assert ";messageid=" not in description


async def test_an_edited_post_with_an_ssn_leaves_no_copy_in_servicenow(stack):
    ssn = "123-45-6789"
    inquiry = await new_inquiry(stack, f"Veteran {ssn} cannot check in")

    async def warned():
        return await count_containing(stack, inquiry, "personal data")

    await wait_for(warned)
    async with stack.http.patch(
        f"{stack.teams}/_emulator/channels/{inquiry.channel}/messages/{inquiry.root}",
        json={"text": "A veteran cannot check in"},
    ) as response:
        assert response.status == 200

    async def replaced():
        record = await incident(stack, inquiry.sys_id)
        return record if shown(record, "short_description") == "A veteran cannot check in" else None

    record = await wait_for(replaced, timeout=10)
    assert ssn not in shown(record, "description") and "A veteran cannot check in" in shown(
        record, "description"
    )

    async def noted():
        journal = await stack.journal(inquiry.sys_id)
        return journal if any("edited the original post" in entry["value"] for entry in journal) else None

    journal = await wait_for(noted, timeout=10)
    assert not any(ssn in entry["value"] for entry in journal)

    async def thanked():
        return await count_containing(stack, inquiry, "Thank you for editing")

    assert await wait_for(thanked) == 1


async def test_a_swap_moves_duty_in_people_assignment_and_escalation(stack):
    async def people() -> dict[str, str | None]:
        async with stack.http.get(f"{stack.teams}/_emulator/people") as response:
            return {p["name"]: p.get("duty") for p in await response.json()}

    assert (await people())["Jane Doe"] == "primary"
    body = {"from": {"name": JANE.name, "aadObjectId": JANE.aad_object_id}, "text": "swap"}
    async with stack.http.post(f"{stack.teams}/_emulator/personal/messages", json=body) as response:
        assert response.status == 200

    async def swapped():
        now = await people()
        return now if (now["Jane Doe"], now["Marcus Lee"]) == ("backup", "primary") else None

    await wait_for(swapped, timeout=10)
    inquiry = await new_inquiry(stack, "Kiosk shows E42 after the swap")
    assert (await incident(stack, inquiry.sys_id))["assigned_to"]["display_value"] == "Marcus Lee"
    stack.clock.advance(minutes=5)

    async def escalated():
        thread = await stack.thread(inquiry.channel, inquiry.root)
        return [r for r in bot_replies(thread) if "has had no response" in (r.get("text") or "")]

    [reply] = await wait_for(escalated, timeout=10)
    assert "<at>Jane Doe</at>" in reply["text"] and "Marcus Lee (primary)" in reply["text"]
