"""At the first-response threshold the backup is @mentioned in the thread and told directly."""

from __future__ import annotations

from testkit.stack import ROSTER, start_stack, wait_for

from schedule.roster import duty_at


async def test_unanswered_inquiry_mentions_the_backup_and_messages_them_directly(tmp_path):
    stack = await start_stack(tmp_path)
    try:
        channel = await stack.channel_of("508")
        posted = await stack.post(channel, "Nobody answers this one")
        backup = duty_at(ROSTER, stack.clock.now()).backup
        stack.clock.advance(minutes=5, seconds=1)

        async def escalated():
            thread = await stack.thread(channel, posted["id"])
            return [r for r in thread["replies"] if r.get("fromBot") and "<at>" in (r.get("text") or "")]

        replies = await wait_for(escalated)
        assert len(replies) == 1
        assert f"<at>{backup.name}</at>" in replies[0]["text"]
        assert replies[0]["mentions"][0]["mentioned"]["id"] == backup.aad_object_id

        async def direct():
            async with stack.http.get(f"{stack.teams}/_emulator/personal/{backup.aad_object_id}") as response:
                if response.status != 200:
                    return None
                transcript = await response.json()
            messages = transcript.get("messages", transcript) if isinstance(transcript, dict) else transcript
            return [m for m in messages if "no response" in (m.get("text") or "")]

        assert len(await wait_for(direct)) == 1
    finally:
        await stack.close()
