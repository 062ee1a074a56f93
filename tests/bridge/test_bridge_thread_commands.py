"""Engineers can drive the incident from its thread: assign, triage, resolve, status."""

from __future__ import annotations

from testkit.stack import ENGINEERS, basic, start_stack, wait_for

from emulators.teams import Person

ENGINEER = ENGINEERS[0]
AS_ENGINEER = Person(ENGINEER.name, ENGINEER.aad_object_id, "engineer")


async def incident_view(stack, sys_id: str) -> dict:
    async with stack.http.get(
        f"{stack.servicenow}/api/now/table/incident/{sys_id}",
        params={"sysparm_display_value": "all", "sysparm_fields": "state,assigned_to,close_code,close_notes"},
        headers=basic("admin", "admin"),
    ) as response:
        return (await response.json())["result"]


async def test_assign_triage_and_resolve_from_thread_commands(tmp_path):
    stack = await start_stack(tmp_path)
    try:
        channel = await stack.channel_of("508")
        posted = await stack.post(channel, "Check-in screen freezes on step 2")

        async def created():
            rows = await stack.incidents("short_descriptionSTARTSWITHCheck-in screen freezes")
            return rows[0] if rows else None

        sys_id = (await wait_for(created))["sys_id"]
        await stack.post(channel, "<at>Go Live Bridge</at> assign me", AS_ENGINEER, reply_to=posted["id"])

        async def assigned():
            view = await incident_view(stack, sys_id)
            return view if view["assigned_to"]["display_value"] == ENGINEER.name else None

        await wait_for(assigned)
        await stack.post(channel, "<at>Go Live Bridge</at> triage Bug", AS_ENGINEER, reply_to=posted["id"])
        await stack.post(
            channel,
            "<at>Go Live Bridge</at> resolve Workaround provided | Restarted the kiosk app",
            AS_ENGINEER,
            reply_to=posted["id"],
        )

        async def resolved():
            view = await incident_view(stack, sys_id)
            return view if view["state"]["value"] == "6" else None

        view = await wait_for(resolved)
        assert view["close_code"]["value"] == "Workaround provided"
        assert view["close_notes"]["value"] == "Restarted the kiosk app"
        notes = [e["value"] for e in await stack.journal(sys_id) if e["element"] == "work_notes"]
        assert any("Triage: Bug" in note for note in notes)
        comments = [e["value"] for e in await stack.journal(sys_id) if e["element"] == "comments"]
        assert not any("assign me" in comment for comment in comments)  # commands are not comments
    finally:
        await stack.close()


async def test_staff_cannot_resolve_from_the_thread(tmp_path):
    stack = await start_stack(tmp_path)
    try:
        channel = await stack.channel_of("508")
        posted = await stack.post(channel, "Badge printer offline")

        async def created():
            rows = await stack.incidents("short_descriptionSTARTSWITHBadge printer offline")
            return rows[0] if rows else None

        sys_id = (await wait_for(created))["sys_id"]
        await stack.post(
            channel, "<at>Go Live Bridge</at> resolve Solution provided | done", reply_to=posted["id"]
        )

        async def refused():
            thread = await stack.thread(channel, posted["id"])
            return [
                r for r in thread["replies"] if r.get("fromBot") and "Only engineers" in (r.get("text") or "")
            ]

        assert await wait_for(refused)
        assert (await incident_view(stack, sys_id))["state"]["value"] != "6"
    finally:
        await stack.close()


async def test_triage_from_the_card_is_recorded_on_the_incident(tmp_path):
    stack = await start_stack(tmp_path)
    try:
        channel = await stack.channel_of("508")
        posted = await stack.post(channel, "How do I reprint a wristband")

        async def card_reply():
            thread = await stack.thread(channel, posted["id"])
            return next((r for r in thread["replies"] if r.get("fromBot") and r["attachments"]), None)

        reply = await wait_for(card_reply)
        card = reply["attachments"][0]["content"]
        acknowledge = next(a for a in card["actions"] if a.get("verb") == "acknowledge")
        key = acknowledge["data"]["inquiry"]
        answer = await stack.press(
            reply["id"], "triage", {"inquiry": key, "category": "Training need"}, AS_ENGINEER
        )
        assert answer["status"] == 200
        assert answer["body"]["statusCode"] == 200
        rejected = await stack.press(
            reply["id"], "triage", {"inquiry": key, "category": "Astrology"}, AS_ENGINEER
        )
        assert rejected["body"]["statusCode"] == 400
        sys_id = (await stack.incidents("short_descriptionSTARTSWITHHow do I reprint"))[0]["sys_id"]

        async def noted():
            notes = [e["value"] for e in await stack.journal(sys_id) if e["element"] == "work_notes"]
            return [n for n in notes if "Triage: Training need" in n]

        assert len(await wait_for(noted)) == 1
    finally:
        await stack.close()
