"""One contract for each port, run against the in-memory fake and the real adapter (talking to its
emulator over loopback), so the fakes the use-case tests rely on cannot drift from the truth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from testkit.fakes import FakeChat, FakeTracker
from testkit.stack import reserve_port, serve

from bot.ports import ChatPlatform, IncidentDraft, IncidentTracker, Mention, Message, Permanent, ThreadRef
from bot.servicenow_tracker import ServiceNowTracker
from bot.slack.api import Pacer, SlackApi
from bot.slack.platform import SlackChat
from bot.slack.workspace import SlackWorkspace
from bot.storage.database import create_engine, migrate
from bot.storage.store import Store
from bot.teams.messenger import Credentials, TeamsMessenger
from bot.teams.places import TeamsPlace, TeamsPlaces
from bot.teams.platform import TeamsChat
from bot.views import DutyPerson, DutyView
from emulators.servicenow import (
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    EmulatorConfig,
    create_servicenow_emulator,
)
from emulators.slack import SlackEmulatorConfig, create_slack_emulator
from emulators.slack.config import sample_people as slack_sample_people
from emulators.teams import TeamsEmulatorConfig, create_teams_emulator
from emulators.teams.config import sample_people
from servicenow.gateway import ServiceNowConfig, ServiceNowGateway
from servicenow.model import STATE_IN_PROGRESS, STATE_RESOLVED

NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)


def draft(correlation_id: str = "teams-contract-1") -> IncidentDraft:
    return IncidentDraft(
        correlation_id=correlation_id,
        short_description="Kiosk shows error E42",
        description="Kiosk shows error E42\n--\nPosted in Microsoft Teams",
        caller_name="Pat Frontdesk",
        caller_aad_id="a1b2",
        assignment_group="Scheduling Support",
        correlation_display="eCheck-in Go Live",
    )


@pytest.fixture(params=["fake", "servicenow"])
async def tracker(request: Any, aiohttp_server: Any) -> AsyncIterator[IncidentTracker]:
    if request.param == "fake":
        yield FakeTracker()
        return
    server = await aiohttp_server(create_servicenow_emulator(EmulatorConfig()))
    gateway = ServiceNowGateway(
        ServiceNowConfig(
            str(server.make_url("")).rstrip("/"), INTEGRATION_USER, INTEGRATION_PASSWORD, timeout_s=5
        )
    )
    tracker = ServiceNowTracker(gateway)
    yield tracker
    await tracker.close()


async def test_tracker_creates_once_per_correlation_id(tracker: IncidentTracker):
    first = await tracker.create_incident(draft(), known_new=True)
    again = await tracker.create_incident(draft())
    assert again.sys_id == first.sys_id and again.number == first.number
    assert first.assignment_group == "Scheduling Support" and first.state_label == "New"
    found = await tracker.find_by_correlation_id("teams-contract-1")
    assert found is not None and found.sys_id == first.sys_id
    assert await tracker.find_by_correlation_id("teams-nobody") is None


async def test_tracker_writes_return_the_incident_as_it_is_after_the_write(tracker: IncidentTracker):
    record = await tracker.create_incident(draft(), known_new=True)
    moved = await tracker.set_assignment_group(record.sys_id, "eCheck-in Vet Facing Apps")
    assert (
        moved.assignment_group == "eCheck-in Vet Facing Apps" and moved.sys_mod_count > record.sys_mod_count
    )
    working = await tracker.set_state(record.sys_id, STATE_IN_PROGRESS)
    assert working.state == STATE_IN_PROGRESS and working.state_label == "In Progress"
    resolved = await tracker.resolve(record.sys_id, "Solution provided", "restarted the kiosk")
    assert resolved.state == STATE_RESOLVED and resolved.close_code == "Solution provided"
    assert resolved.close_notes == "restarted the kiosk"
    assert (await tracker.get_incident(record.sys_id)).state == STATE_RESOLVED


async def test_tracker_journal_keeps_comments_and_work_notes_apart(tracker: IncidentTracker):
    record = await tracker.create_incident(draft(), known_new=True)
    await tracker.add_comment(record.sys_id, "a public comment")
    await tracker.add_work_note(record.sys_id, "an internal note")
    entries = await tracker.journal_since([record.sys_id], NOW - timedelta(days=3650))
    assert {(e.element, e.value) for e in entries} == {
        ("comments", "a public comment"),
        ("work_notes", "an internal note"),
    }
    updated = await tracker.incidents_updated_since(NOW - timedelta(days=3650), "eCheck-in Go Live")
    assert record.sys_id in {r.sys_id for r in updated}


async def test_tracker_unknown_incident_is_permanent(tracker: IncidentTracker):
    with pytest.raises(Permanent):
        await tracker.get_incident("0" * 32)


TEAMS_PERSON = sample_people()[0]
SLACK_PERSON = slack_sample_people()[0]


@pytest.fixture(params=["fake", "teams", "fake-slack", "slack"])
async def chat(
    request: Any, tmp_path: Any, aiohttp_server: Any
) -> AsyncIterator[tuple[ChatPlatform, str, Mention]]:
    """A chat platform, a channel of it to post in, and a person of it to message directly."""
    if request.param == "fake":
        yield FakeChat(), "19:contract@thread.tacv2", Mention(TEAMS_PERSON.name, TEAMS_PERSON.aad_object_id)
        return
    if request.param == "fake-slack":
        yield FakeChat("slack"), "C0CONTRACT", Mention(SLACK_PERSON.name, email=SLACK_PERSON.email)
        return
    if request.param == "slack":
        config = SlackEmulatorConfig(bot_token="xoxb-contract", now=lambda: NOW)
        server = await aiohttp_server(create_slack_emulator(config))
        api = SlackApi("xoxb-contract", str(server.make_url("/api/")), pacer=Pacer(interval_s=0.01))
        try:
            yield (
                SlackChat(api, SlackWorkspace(api)),
                config.channel_id("check-in-go-live"),
                Mention(SLACK_PERSON.name, email=SLACK_PERSON.email),
            )
        finally:
            await api.close()
        return
    sock = reserve_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    config = TeamsEmulatorConfig(bot_url="http://127.0.0.1:9/api/messages", public_url=url, now=lambda: NOW)
    runner = await serve(create_teams_emulator(config), sock)
    engine = create_engine(f"sqlite:///{tmp_path / 'contract.db'}")
    await migrate(engine)
    places = TeamsPlaces(Store(engine))
    await places.remember(
        TeamsPlace(url, "tenant", "19:team@thread.tacv2", None, "28:bot", "Go Live Bridge"), NOW
    )
    messenger = TeamsMessenger(Credentials("", "", "", development=True))
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}_emulator/channels") as response:
            team = await response.json()
        async with http.post(
            f"{url}v1.0/teams/{team['teamId']}/channels", json={"displayName": "Contract"}
        ) as response:
            channel = (await response.json())["id"]
    try:
        yield TeamsChat(messenger, places), channel, Mention(TEAMS_PERSON.name, TEAMS_PERSON.aad_object_id)
    finally:
        await messenger.close()
        await runner.cleanup()
        await engine.dispose()


async def test_chat_threads_replies_and_updates(chat: tuple[ChatPlatform, str, Mention]):
    platform, channel, _ = chat
    thread = await platform.start_thread(channel, Message(text="A notice"))
    assert isinstance(thread, ThreadRef) and thread.channel_id == channel and thread.root_id
    view = DutyView("Tue 03 May", DutyPerson("Jane Doe"), DutyPerson("Marcus Lee"))
    reply_id = await platform.post_in_thread(
        thread,
        Message(
            text="<at>Jane Doe</at>, please look",
            view=view,
            mentions=(Mention("Jane Doe", "5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01"),),
        ),
    )
    assert reply_id
    await platform.update_message(thread, reply_id, Message(view=DutyView("Tue 03 May", None, None)))


async def test_chat_direct_message_reaches_a_person_of_the_tenant(chat: tuple[ChatPlatform, str, Mention]):
    platform, _, person = chat
    await platform.send_direct(person, Message(text="hello"))
    with pytest.raises(Permanent):
        await platform.send_direct(Mention("Nobody"), Message(text="hello"))


async def test_chat_updating_an_unknown_message_is_permanent(chat: tuple[ChatPlatform, str, Mention]):
    platform, channel, _ = chat
    thread = await platform.start_thread(channel, Message(text="A notice"))
    with pytest.raises(Permanent):
        await platform.update_message(thread, "no-such-message", Message(text="x"))


async def test_chat_finds_an_earlier_post_in_a_thread_by_its_key(chat: tuple[ChatPlatform, str, Mention]):
    platform, channel, _ = chat
    if platform.platform == "teams":
        pytest.skip("Teams cannot list a thread's replies to look for the bot's post")
    thread = await platform.start_thread(channel, Message(text="An inquiry"))
    reply_id = await platform.post_in_thread(
        thread, Message(text="Logged", view=DutyView("Tue", None, None), key="k1")
    )
    await platform.post_in_thread(thread, Message(text="Something else"))
    assert await platform.find_posted(thread, "k1") == reply_id
    assert await platform.find_posted(thread, "k2") is None


async def test_chat_a_start_thread_returns_a_thread_of_its_platform(chat: tuple[ChatPlatform, str, Mention]):
    platform, channel, _ = chat
    thread = await platform.start_thread(channel, Message(text="A notice"))
    assert thread.platform == platform.platform and thread.channel_id == channel
