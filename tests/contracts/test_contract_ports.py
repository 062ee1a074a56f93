"""One contract for each port, run against the in-memory fake and the real adapter (talking to its
emulator over loopback), so the fakes the use-case tests rely on cannot drift from the truth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from testkit.fakes import FakeChat, FakeFollowUps, FakeRosterSource, FakeTracker
from testkit.stack import reserve_port, serve

from bot.followups.github import GitHubConfig, GitHubFollowUps
from bot.followups.jira import JiraConfig, JiraFollowUps
from bot.pagerduty import PagerDutyConfig, PagerDutyRoster
from bot.ports import (
    ChatPlatform,
    FollowUpRequest,
    FollowUpTracker,
    IncidentDraft,
    IncidentTracker,
    Mention,
    Message,
    OnCallEntry,
    Permanent,
    Person,
    PersonContact,
    RosterSource,
    ThreadRef,
    Transient,
)
from bot.servicenow_tracker import ServiceNowTracker, translate
from bot.slack.api import Pacer, SlackApi
from bot.slack.platform import SlackChat
from bot.slack.workspace import SlackWorkspace
from bot.storage.database import create_engine, migrate
from bot.storage.store import Store
from bot.teams.directory import TeamsChannelDirectory
from bot.teams.graph import GraphChannelClient, StaticTokenProvider
from bot.teams.messenger import Credentials, TeamsMessenger
from bot.teams.places import TeamsPlace, TeamsPlaces
from bot.teams.platform import TeamsChat
from bot.views import DutyPerson, DutyView
from emulators import github, jira, pagerduty
from emulators.pagerduty.config import BACKUP_SCHEDULE_ID, PRIMARY_SCHEDULE_ID
from emulators.servicenow import (
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    EmulatorConfig,
    create_servicenow_emulator,
)
from emulators.slack import Person as SlackPerson
from emulators.slack import SlackEmulatorConfig, create_slack_emulator
from emulators.slack.config import sample_people as slack_sample_people
from emulators.teams import TeamsEmulatorConfig, create_teams_emulator
from emulators.teams.config import sample_people
from schedule.sample import sample_roster
from servicenow.errors import (
    GatewayClosed,
    IncidentNotFound,
    ServiceNowRejected,
    ServiceNowUnavailable,
    UnexpectedFailure,
    UnsafeQueryValue,
)
from servicenow.gateway import ServiceNowConfig, ServiceNowGateway
from servicenow.model import STATE_IN_PROGRESS, STATE_RESOLVED

NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
# (user name, name, e-mail): the people both trackers know.
PEOPLE = (
    ("pat.frontdesk", "Pat Frontdesk", "pat.frontdesk@example.org"),
    ("jane.doe", "Jane Doe", "jane.doe@example.va.gov"),
    ("marcus.lee", "Marcus Lee", "marcus.lee@example.va.gov"),
)


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
        fake = FakeTracker()
        for user_name, name, email in PEOPLE:
            fake.add_user(user_name, name, email)
        yield fake
        return
    server = await aiohttp_server(create_servicenow_emulator(EmulatorConfig(people=PEOPLE)))
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


async def test_tracker_finds_people_by_email_then_user_name(tracker: IncidentTracker):
    by_email = await tracker.find_user(email="PAT.FRONTDESK@example.org".lower())
    assert by_email is not None and (by_email.user_name, by_email.name) == ("pat.frontdesk", "Pat Frontdesk")
    by_name = await tracker.find_user(email="nobody@example.org", user_name="jane.doe")
    assert by_name is not None and by_name.name == "Jane Doe"
    assert await tracker.find_user(email="nobody@example.org", user_name="nobody") is None


async def test_tracker_incident_names_its_caller(tracker: IncidentTracker):
    pat = await tracker.find_user(email="pat.frontdesk@example.org")
    assert pat is not None
    record = await tracker.create_incident(replace(draft(), caller_sys_id=pat.sys_id), known_new=True)
    assert (record.caller_sys_id, record.caller_name) == (pat.sys_id, "Pat Frontdesk")
    anonymous = await tracker.create_incident(draft("teams-contract-2"), known_new=True)
    assert anonymous.caller_sys_id == "" and anonymous.caller_name == "Pat Frontdesk"  # the name written


async def test_tracker_records_the_engineer_who_acted_by_name(tracker: IncidentTracker):
    record = await tracker.create_incident(draft(), known_new=True)
    taken = await tracker.assign_to(record.sys_id, "jane.doe", actor="jane.doe")
    assert (taken.assigned_to, taken.assigned_to_name, taken.refused_fields) == (
        "jane.doe",
        "Jane Doe",
        frozenset(),
    )
    # A move to another group keeps the assignee (no assignment rule on the instance).
    moved = await tracker.set_assignment_group(record.sys_id, "eCheck-in Vet Facing Apps", actor="marcus.lee")
    assert (moved.assignment_group, moved.assigned_to, moved.assigned_to_name) == (
        "eCheck-in Vet Facing Apps",
        "jane.doe",
        "Jane Doe",
    )
    resolved = await tracker.resolve(
        record.sys_id, "Solution provided", "restarted", resolved_by="marcus.lee"
    )
    assert (resolved.resolved_by, resolved.resolved_by_name) == ("marcus.lee", "Marcus Lee")
    assert not resolved.refused


async def test_tracker_resolves_all_the_same_when_the_engineer_is_not_a_user(tracker: IncidentTracker):
    record = await tracker.create_incident(draft(), known_new=True)
    resolved = await tracker.resolve(
        record.sys_id, "Solution provided", "restarted", resolved_by="ghost.user"
    )
    assert resolved.state == STATE_RESOLVED and "resolved_by" in resolved.refused_fields


async def test_tracker_replaces_the_text_of_an_edited_post(tracker: IncidentTracker):
    record = await tracker.create_incident(draft(), known_new=True)
    edited = await tracker.update_description(
        record.sys_id, "Kiosk shows error E43", "Kiosk shows error E43\n--"
    )
    assert edited.short_description == "Kiosk shows error E43" and edited.sys_mod_count > record.sys_mod_count
    assert (await tracker.get_incident(record.sys_id)).short_description == "Kiosk shows error E43"


TEAMS_PERSON = sample_people()[0]
SLACK_PERSON = slack_sample_people()[0]


@dataclass(frozen=True)
class ChatCase:
    """A chat platform under contract: a channel of it, someone to message directly, a poster it
    can tell about and one it cannot, and how its thread links begin."""

    platform: ChatPlatform
    channel: str
    someone: Mention
    known: Person
    unknown: Person
    link_prefix: str = "https://"


def teams_case(platform: ChatPlatform, channel: str) -> ChatCase:
    return ChatCase(
        platform,
        channel,
        Mention(TEAMS_PERSON.name, TEAMS_PERSON.aad_object_id),
        Person("29:x", TEAMS_PERSON.name, TEAMS_PERSON.aad_object_id),
        Person("29:y", "Nobody", "00000000-dead-4000-8000-000000000000"),
    )


def slack_case(platform: ChatPlatform, channel: str, link_prefix: str = "https://") -> ChatCase:
    return ChatCase(
        platform,
        channel,
        Mention(SLACK_PERSON.name, email=SLACK_PERSON.email),
        Person(SLACK_PERSON.user_id, SLACK_PERSON.name, platform="slack"),
        Person("U0NOBODY00", "Nobody", platform="slack"),
        link_prefix,
    )


@pytest.fixture(params=["fake", "teams", "fake-slack", "slack"])
async def chat(request: Any, tmp_path: Any) -> AsyncIterator[ChatCase]:
    """A chat platform and what the cases need of it."""
    if request.param in ("fake", "fake-slack"):
        slack = request.param == "fake-slack"
        fake = FakeChat("slack" if slack else "teams")
        for person in slack_sample_people() if slack else sample_people():
            email = ".".join(person.name.lower().split()) + "@example.org"
            key = person.user_id if isinstance(person, SlackPerson) else person.aad_object_id
            fake.contacts[key] = PersonContact(email, "" if slack else email)
        fake.link_base = "https://slack.example/archives/" if slack else "https://teams.example/l/message/"
        yield slack_case(fake, "C0CONTRACT") if slack else teams_case(fake, "19:contract@thread.tacv2")
        return
    if request.param == "slack":
        sock = reserve_port()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        config = SlackEmulatorConfig(bot_token="xoxb-contract", public_url=url, now=lambda: NOW)
        runner = await serve(create_slack_emulator(config), sock)
        api = SlackApi("xoxb-contract", f"{url}api/", pacer=Pacer(interval_s=0.01))
        try:
            yield slack_case(SlackChat(api, SlackWorkspace(api)), config.channel_id("check-in-go-live"), url)
        finally:
            await api.close()
            await runner.cleanup()
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
    http = aiohttp.ClientSession()
    async with http.get(f"{url}_emulator/channels") as response:
        team = await response.json()
    async with http.post(
        f"{url}v1.0/teams/{team['teamId']}/channels", json={"displayName": "Contract"}
    ) as response:
        channel = (await response.json())["id"]
    tokens = StaticTokenProvider("development")
    history = TeamsChannelDirectory(
        lambda team_id: GraphChannelClient(http, f"{url}v1.0", team_id, tokens), team["teamId"], places
    )
    try:
        yield teams_case(TeamsChat(messenger, places, history=history), channel)
    finally:
        await messenger.close()
        await http.close()
        await runner.cleanup()
        await engine.dispose()


async def test_chat_threads_replies_and_updates(chat: ChatCase):
    platform, channel = chat.platform, chat.channel
    thread = await platform.start_thread(channel, Message(text="A notice"))
    assert isinstance(thread, ThreadRef) and thread.channel_id == channel and thread.root_id
    assert thread.platform == platform.platform
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


async def test_chat_direct_message_reaches_a_person_of_the_tenant(chat: ChatCase):
    await chat.platform.send_direct(chat.someone, Message(text="hello"))
    with pytest.raises(Permanent):
        await chat.platform.send_direct(Mention("Nobody"), Message(text="hello"))


async def test_chat_links_a_thread_and_knows_its_people(chat: ChatCase):
    platform, channel = chat.platform, chat.channel
    thread = await platform.start_thread(channel, Message(text="A notice"))
    link = await platform.thread_link(thread, "Go Live - 508 Atlanta")
    assert link is not None and link.startswith(chat.link_prefix)
    assert quote(thread.channel_id, safe="") in link
    assert thread.root_id.replace(".", "") in link.replace(".", "")
    contact = await platform.person_contact(thread, chat.known)
    assert contact is not None and contact.email.endswith("@example.org")
    assert await platform.person_contact(thread, chat.unknown) is None


async def test_chat_updating_an_unknown_message_is_permanent(chat: ChatCase):
    thread = await chat.platform.start_thread(chat.channel, Message(text="A notice"))
    with pytest.raises(Permanent):
        await chat.platform.update_message(thread, "no-such-message", Message(text="x"))


async def test_chat_finds_its_own_earlier_post_by_key_or_text(chat: ChatCase):
    platform, channel = chat.platform, chat.channel
    notice = Message(view=DutyView("Tue 03 May", DutyPerson("Jane Doe"), None), key="job:41")
    thread = await platform.start_thread(channel, notice)
    assert await platform.find_posted(channel, None, notice) == thread.root_id
    reply = Message(text="Routed to eCheck-in Vet Facing Apps by Jane Doe.", key="job:42")
    reply_id = await platform.post_in_thread(thread, reply)
    assert await platform.find_posted(channel, thread.root_id, reply) == reply_id
    assert (
        await platform.find_posted(channel, thread.root_id, Message(text="never posted", key="job:43"))
        is None
    )
    other_card = Message(view=DutyView("Tue 03 May", None, None), key="job:44")
    assert await platform.find_posted(channel, None, other_card) is None


@pytest.mark.parametrize(
    ("error", "port_error"),
    [
        (ServiceNowUnavailable("x", status=503, retry_after=7.0), Transient),
        (GatewayClosed("op"), Transient),
        (ServiceNowRejected("x", status=403), Permanent),
        (IncidentNotFound("0" * 32), Permanent),
        (UnsafeQueryValue("email", "holds ^"), Permanent),
        (UnexpectedFailure("op: unexpected KeyError"), Permanent),
    ],
)
def test_the_tracker_translates_gateway_errors_by_their_transient_mark(error, port_error):
    translated = translate(error)
    assert type(translated) is port_error and error.transient == (port_error is Transient)
    if isinstance(error, ServiceNowUnavailable):
        assert translated.retry_after == error.retry_after  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------
# RosterSource: the fake with the sample rota, and PagerDuty's adapter against its emulator
# --------------------------------------------------------------------------------------------------

SCHEDULES = (PRIMARY_SCHEDULE_ID, BACKUP_SCHEDULE_ID)
FIRST_MONDAY = datetime(2022, 5, 2, tzinfo=UTC)


def sample_rota() -> list[OnCallEntry]:
    """The sample roster's weeks as weekly on-calls (what the PagerDuty emulator's account holds)."""
    roster = sample_roster()
    entries = []
    for week in roster.weeks:
        start = datetime(week.week_start.year, week.week_start.month, week.week_start.day, tzinfo=UTC)
        for schedule, key in zip(SCHEDULES, (week.primary, week.backup), strict=True):
            engineer = roster.engineers[key]
            entries.append(
                OnCallEntry(engineer.email, engineer.name, schedule, start, start + timedelta(days=7))
            )
    return entries


@pytest.fixture(params=["fake", "pagerduty"])
async def roster_source(request: Any, aiohttp_server: Any) -> AsyncIterator[RosterSource]:
    if request.param == "fake":
        yield FakeRosterSource(sample_rota())
        return
    server = await aiohttp_server(
        pagerduty.create_pagerduty_emulator(pagerduty.PagerDutyEmulatorConfig(now=lambda: NOW))
    )
    adapter = PagerDutyRoster(
        PagerDutyConfig(str(server.make_url("")).rstrip("/"), pagerduty.DEFAULT_TOKEN, SCHEDULES, page_size=2)
    )
    yield adapter
    await adapter.close()


async def test_roster_source_lists_each_schedules_on_call_clamped_to_the_window(roster_source: RosterSource):
    since = FIRST_MONDAY + timedelta(days=8)  # Tuesday of the second week ...
    until = since + timedelta(days=7)  # ... to Tuesday of the third
    entries = await roster_source.on_call(since, until)
    assert sorted((e.schedule_id, e.email, e.start, e.end) for e in entries) == sorted(
        [
            (SCHEDULES[0], "marcus.lee@example.va.gov", since, FIRST_MONDAY + timedelta(days=14)),
            (SCHEDULES[1], "priya.shah@example.va.gov", since, FIRST_MONDAY + timedelta(days=14)),
            (SCHEDULES[0], "tom.nguyen@example.va.gov", FIRST_MONDAY + timedelta(days=14), until),
            (SCHEDULES[1], "jane.doe@example.va.gov", FIRST_MONDAY + timedelta(days=14), until),
        ]
    )
    assert {e.name for e in entries} == {"Marcus Lee", "Priya Shah", "Tom Nguyen", "Jane Doe"}


async def test_roster_source_before_the_rota_begins_lists_nobody(roster_source: RosterSource):
    assert await roster_source.on_call(FIRST_MONDAY - timedelta(days=30), FIRST_MONDAY) == []


# --------------------------------------------------------------------------------------------------
# FollowUpTracker: the fake, GitHub's adapter and Jira's adapter against their emulators
# --------------------------------------------------------------------------------------------------


@pytest.fixture(params=["fake", "github", "jira"])
async def follow_ups(request: Any, aiohttp_server: Any) -> AsyncIterator[tuple[FollowUpTracker, str]]:
    """A follow-up tracker and a key no issue of it has."""
    if request.param == "fake":
        yield FakeFollowUps(), "#999"
        return
    if request.param == "github":
        server = await aiohttp_server(github.create_github_emulator(github.GitHubEmulatorConfig()))
        tracker: GitHubFollowUps | JiraFollowUps = GitHubFollowUps(
            GitHubConfig(str(server.make_url("")).rstrip("/"), github.DEFAULT_TOKEN, github.DEFAULT_REPO)
        )
        unknown = "#999"
    else:
        server = await aiohttp_server(jira.create_jira_emulator(jira.JiraEmulatorConfig()))
        tracker = JiraFollowUps(
            JiraConfig(
                str(server.make_url("")).rstrip("/"),
                jira.DEFAULT_PROJECT,
                jira.BOT_EMAIL,
                jira.DEFAULT_API_TOKEN,
            )
        )
        unknown = f"{jira.DEFAULT_PROJECT}-999"
    yield tracker, unknown
    await tracker.close()


def follow_up_request(number: str) -> FollowUpRequest:
    marker = f"golive-followup: {number}"
    return FollowUpRequest(
        marker=marker,
        title=f"{number}: Kiosk shows error E42",
        body=f"Follow-up of ServiceNow incident {number}: https://sn.example/{number}\n\n{marker}",
        labels=("go-live",),
        assignee="jane-doe",
    )


async def test_follow_up_tracker_finds_a_created_issue_by_its_marker(follow_ups: tuple[FollowUpTracker, str]):
    tracker, _ = follow_ups
    wanted = follow_up_request("INC0010001")
    assert await tracker.find(wanted.marker) is None
    created = await tracker.create(wanted)
    assert created.key and created.url and created.state
    found = await tracker.find(wanted.marker)
    assert found is not None and (found.key, found.url) == (created.key, created.url)
    again = await tracker.get(created.key)
    assert (again.key, again.url) == (created.key, created.url) and again.state


async def test_follow_up_tracker_marker_matches_a_whole_line_only(follow_ups: tuple[FollowUpTracker, str]):
    tracker, _ = follow_ups
    await tracker.create(follow_up_request("INC0010001"))
    assert await tracker.find("golive-followup: INC001000") is None
    second = await tracker.create(follow_up_request("INC0010002"))
    found = await tracker.find("golive-followup: INC0010002")
    assert found is not None and found.key == second.key


async def test_follow_up_tracker_unknown_issue_is_permanent(follow_ups: tuple[FollowUpTracker, str]):
    tracker, unknown = follow_ups
    with pytest.raises(Permanent):
        await tracker.get(unknown)
