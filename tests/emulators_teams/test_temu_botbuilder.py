"""A real botbuilder CloudAdapter bot, pointed at the emulator, talks to it through the real connector client.

Anonymous mode (empty app id, MultiTenant): no token either way. Only tests import botbuilder here.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from testkit.teams_emulator import STAFF, create_channel, general_channel, post_as, threads


class AnonymousConfig:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):
    def __init__(self) -> None:
        self.channel_for_new_thread: str | None = None
        self.new_thread: Any = None

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text
        sent = await turn_context.send_activity(f"echo: {text}")
        edited = MessageFactory.text(f"echo (edited): {text}")
        edited.id = sent.id
        await turn_context.update_activity(edited)
        if self.channel_for_new_thread:
            self.new_thread = await TeamsInfo.send_message_to_teams_channel(
                turn_context,
                MessageFactory.text("a new thread"),
                self.channel_for_new_thread,
                bot_app_id="any",
            )


async def test_botbuilder_echo_bot_replies_into_the_thread_through_the_connector(
    aiohttp_server, make_emulator
):
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(AnonymousConfig()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    bot_server = await aiohttp_server(app)
    client = await make_emulator(str(bot_server.make_url("/api/messages")))
    channel = await create_channel(client, "Go Live - 508 Atlanta")
    bot.channel_for_new_thread = channel

    answer = await post_as(client, channel, STAFF, "kiosk down")

    assert answer["status"] in (200, 201)
    posts = await threads(client, channel)
    assert [p["text"] for p in posts] == ["kiosk down", "a new thread"]
    [reply] = posts[0]["replies"]
    assert reply["text"] == "echo (edited): kiosk down" and reply["lastModified"]
    reference, activity_id = bot.new_thread
    assert reference.conversation.id == f"{channel};messageid={activity_id}"
    assert posts[1]["id"] == activity_id


async def test_botbuilder_bot_answers_install_and_general_channel_posts(aiohttp_server, make_emulator):
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(AnonymousConfig()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    bot_server = await aiohttp_server(app)
    client = await make_emulator(str(bot_server.make_url("/api/messages")))
    install = await (await client.post("/_emulator/install", json={})).json()
    assert install["status"] in (200, 201)
    general = await general_channel(client)
    await post_as(client, general, STAFF, "hello")
    [post] = await threads(client, general)
    assert [r["text"] for r in post["replies"]] == ["echo (edited): hello"]
