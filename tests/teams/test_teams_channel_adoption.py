"""A channel named like a go-live channel that the bot did not create is taken on: posts in it
become incidents too."""

from __future__ import annotations

from testkit.stack import start_stack, wait_for

from bot.bridge.service import station_in_channel_name


def test_station_is_read_from_the_channel_name_template():
    template = "Go Live - {station} {name}"
    assert station_in_channel_name("Go Live - 528A7 Syracuse", template) == "528A7"
    assert station_in_channel_name("Go Live - 999 Test Site", template) == "999"
    assert station_in_channel_name("General", template) is None
    assert station_in_channel_name("Go Live 508", template) is None


async def test_posts_in_a_hand_made_go_live_channel_become_incidents(tmp_path):
    stack = await start_stack(tmp_path)
    try:
        await stack.channel_of("508")
        async with stack.http.post(
            f"{stack.teams}/v1.0/teams/{stack.settings.team_id}/channels",
            json={"displayName": "Go Live - 999 Test Site", "membershipType": "standard"},
        ) as response:
            assert response.status == 201
            channel = (await response.json())["id"]

        async def adopted():
            from sqlalchemy import select

            from bot.storage import tables

            async with stack.components.store.read() as connection:
                return (
                    await connection.execute(
                        select(tables.channels).where(tables.channels.c.channel_id == channel)
                    )
                ).first()

        await wait_for(adopted)
        posted = await stack.post(channel, "Hand-made channel question")
        assert posted["status"] == 201

        async def incident():
            return await stack.incidents("short_descriptionSTARTSWITHHand-made channel question")

        assert len(await wait_for(incident)) == 1
        channels = [c for c in await stack.channels() if c.get("station") == "508"]
        assert len(channels) == 1  # the bot's own channels are not adopted twice
    finally:
        await stack.close()
