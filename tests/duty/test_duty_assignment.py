"""Issue 7, on-duty assignment: a new incident goes to the primary when they are working, else to the
backup, else it stays unassigned in the Tier 2 queue with a note of when someone picks it up."""

from __future__ import annotations

from datetime import UTC, datetime

from testkit.stack import ROSTER
from testkit.sync import bot_replies, incident, inquiry_row, new_inquiry

from schedule.roster import duty_at, is_working

# Week one of the sample roster: Jane Doe (New York, 08-17) primary, Marcus Lee (Chicago, 08-17) backup.
TUESDAY_MORNING_NY = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)  # 11:00 New York, 10:00 Chicago
TUESDAY_EVENING_NY = datetime(2022, 5, 3, 21, 30, tzinfo=UTC)  # 17:30 New York, 16:30 Chicago
WEDNESDAY_NIGHT = datetime(2022, 5, 4, 7, 0, tzinfo=UTC)  # 03:00 New York, 02:00 Chicago


def test_the_chosen_instants_mean_what_the_tests_say():
    morning, evening, night = (
        duty_at(ROSTER, at) for at in (TUESDAY_MORNING_NY, TUESDAY_EVENING_NY, WEDNESDAY_NIGHT)
    )
    assert morning.primary is not None and morning.backup is not None
    assert morning.who == evening.who == night.who
    assert is_working(morning.primary, TUESDAY_MORNING_NY)
    assert not is_working(evening.primary, TUESDAY_EVENING_NY) and is_working(
        evening.backup, TUESDAY_EVENING_NY
    )
    assert not any(is_working(e, WEDNESDAY_NIGHT) for e in night.chain)


async def _assignee(stack, inquiry) -> str:
    return (await incident(stack, inquiry.sys_id))["assigned_to"]["display_value"]


async def test_incident_goes_to_the_primary_in_their_working_hours(stack):
    stack.clock.set(TUESDAY_MORNING_NY)
    inquiry = await new_inquiry(stack, "Morning question about kiosk sign-in")
    duty = duty_at(ROSTER, TUESDAY_MORNING_NY)
    assert await _assignee(stack, inquiry) == duty.primary.name
    assert (await inquiry_row(stack, inquiry)).assigned_to == duty.primary.servicenow_user


async def test_incident_goes_to_the_backup_when_only_the_backup_is_working(stack):
    await stack.channel_of("508")
    stack.clock.set(TUESDAY_EVENING_NY)
    inquiry = await new_inquiry(stack, "Evening question about kiosk sign-in")
    duty = duty_at(ROSTER, TUESDAY_EVENING_NY)
    assert await _assignee(stack, inquiry) == duty.backup.name


async def test_at_night_the_incident_stays_unassigned_with_a_pickup_note(stack):
    await stack.channel_of("508")
    stack.clock.set(WEDNESDAY_NIGHT)
    inquiry = await new_inquiry(stack, "Night shift question about the kiosk")
    record = await incident(stack, inquiry.sys_id)
    assert record["assigned_to"]["value"] == ""
    assert record["assignment_group"]["display_value"] == "Scheduling Support"

    thread = await stack.thread(inquiry.channel, inquiry.root)
    card_reply = next(reply for reply in bot_replies(thread) if reply["id"] == inquiry.card_id)
    # Jane Doe starts first: 08:00 in New York on Wednesday.
    assert "No engineer is working right now" in card_reply["text"]
    assert "pick it up at Wed 04 May 08:00 EDT" in card_reply["text"]
