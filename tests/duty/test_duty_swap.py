"""`swap` in a personal chat: today's backup takes over as first contact, the roster records it,
the change is audited and every open go-live channel gets a hand-off notice."""

from __future__ import annotations

from sqlalchemy import select
from testkit.stack import ROSTER, start_stack, wait_for

from bot.bridge import records
from bot.storage import tables
from schedule.roster import duty_at, pick_assignee


async def personal(stack, person, text: str) -> dict:
    body = {"from": {"name": person.name, "aadObjectId": person.aad_object_id}, "text": text}
    async with stack.http.post(f"{stack.teams}/_emulator/personal/messages", json=body) as response:
        assert response.status == 200
        return await response.json()


async def transcript(stack, person) -> list[dict]:
    async with stack.http.get(f"{stack.teams}/_emulator/personal/{person.aad_object_id}") as response:
        data = await response.json()
    return data.get("messages", data) if isinstance(data, dict) else data


async def test_primary_swaps_and_the_backup_is_first_on_duty_with_notices_in_open_channels(tmp_path):
    stack = await start_stack(tmp_path)
    try:
        await stack.channel_of("508")

        async def all_welcomed():  # every channel the plan opens now exists and has its welcome
            channels = [c for c in await stack.channels() if c.get("goLive") and c["state"] == "open"]
            for channel in channels:
                if not [t for t in await stack.threads(channel["id"]) if t.get("fromBot")]:
                    return None
            return channels if len(channels) >= 6 else None

        open_channels = await wait_for(all_welcomed)
        before = duty_at(ROSTER, stack.clock.now())
        await personal(stack, before.primary, "swap")

        async def replied():
            return [m for m in await transcript(stack, before.primary) if "Done:" in (m.get("text") or "")]

        assert await wait_for(replied)
        async with stack.components.store.read() as connection:
            roster = await records.load_roster(stack.components.store, connection)
            audit = (
                await connection.execute(
                    select(tables.audit_log).where(tables.audit_log.c.action == "duty.swap")
                )
            ).all()
        after = duty_at(roster, stack.clock.now())
        # Today's primary and backup exchange roles everywhere (and nobody becomes a "fallback").
        assert (after.primary.key, after.backup.key, after.fallback) == (
            before.backup.key,
            before.primary.key,
            None,
        )
        assert pick_assignee(after, stack.clock.now()).key == before.backup.key
        assert len(audit) == 1

        async def notices():
            counts = []
            for channel in open_channels:
                threads = await stack.threads(channel["id"])
                counts.append(
                    sum(1 for t in threads if t.get("fromBot") and "handed over to" in str(t["attachments"]))
                )
            return counts if all(counts) else None

        assert await wait_for(notices) == [1] * len(open_channels)  # one hand-off notice per open channel
    finally:
        await stack.close()


async def test_swap_by_someone_not_on_the_roster_is_refused(tmp_path):
    from testkit.stack import STAFF

    stack = await start_stack(tmp_path)
    try:
        await personal(stack, STAFF, "swap")

        async def replied():
            return [m for m in await transcript(stack, STAFF) if "only engineers" in (m.get("text") or "")]

        assert await wait_for(replied)
    finally:
        await stack.close()
