"""Site staff may paste personal data: no log line holds message text, whatever path it takes."""

from __future__ import annotations

import logging

from testkit.stack import ENGINEERS, start_stack, wait_for

from emulators.teams import Person

SECRET_TEXT = "Veteran Zanzibar-Quokka 078-05-1120 born 01/02/1950 cannot check in"


async def test_no_log_record_contains_what_staff_posted(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    stack = await start_stack(tmp_path)
    try:
        channel = await stack.channel_of("508")
        posted = await stack.post(channel, SECRET_TEXT)

        async def incident():
            rows = await stack.incidents("short_descriptionLIKEZanzibar-Quokka")
            return rows[0] if rows else None

        await wait_for(incident)
        await stack.post(channel, "Follow-up Zanzibar-Quokka detail", reply_to=posted["id"])
        engineer = ENGINEERS[0]
        await stack.post(
            channel,
            "Engineer Zanzibar-Quokka answer",
            Person(engineer.name, engineer.aad_object_id, "engineer"),
            reply_to=posted["id"],
        )
        async with stack.http.patch(
            f"{stack.teams}/_emulator/channels/{channel}/messages/{posted['id']}",
            json={"text": "Edited Zanzibar-Quokka text"},
        ) as response:
            assert response.status == 200

        async def comments():
            incident_row = (await stack.incidents("short_descriptionLIKEZanzibar-Quokka"))[0]
            return len(await stack.journal(incident_row["sys_id"])) >= 3

        await wait_for(comments)
    finally:
        await stack.close()
    leaked = [
        record
        for record in caplog.records
        if "Zanzibar" in record.getMessage() or "078-05" in record.getMessage()
    ]
    assert leaked == []
    assert len(caplog.records) > 0  # the run did log; it just never logged the text
