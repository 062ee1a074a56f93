"""The "Follow-up issue" button on alert posts (``ALERT_SUBJECT``), on the fakes: one issue per alert
incident however often it is pressed, engineers only, its link in the post's thread and a work note,
the post showing it; a storm's groups share the storm's follow-up; the state refresh follows."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from testkit.bridge import ROSTER, STAFF, FakeBridge, fake_bridge, person_of

from bot import views
from bot.bridge.alerts import Alert
from bot.ports import Permanent, Person, ThreadRef
from bot.slack.blocks import render_blocks
from bot.storage import tables
from bot.teams.cards import render_card

JANE = person_of(ROSTER.engineers["jane"])
MARCUS = person_of(ROSTER.engineers["marcus"])
ISSUE_URL = "https://github.example/issues/1"


@pytest.fixture
async def bridge(tmp_path):
    async with fake_bridge(tmp_path, followup_labels="go-live") as bridge:
        yield bridge


async def open_alert(bridge: FakeBridge, group: str = "PQ1", title: str = "Checkout API 5xx rate") -> str:
    """A new PagerDuty alert group: its incident and its post in the alert channel."""
    alert = Alert(
        source="pagerduty",
        group_key=group,
        delivery_id=f"d-{group}-{bridge.next_id()}",
        title=title,
        level="critical",
        state="triggered",
        service="checkout-api",
    )
    await bridge.runtime.alerts.apply(alert, bridge.clock.now())
    await bridge.drain()
    return alert.correlation_id


async def alert_row(bridge: FakeBridge, key: str) -> Any:
    async with bridge.runtime.store.read() as connection:
        return (
            await connection.execute(select(tables.alerts).where(tables.alerts.c.correlation_id == key))
        ).one()


def alert_post(bridge: FakeBridge, key: str, chat: Any = None) -> Any:
    [post] = [
        p
        for p in (chat or bridge.chat).new_threads()
        if isinstance(p.current.view, views.AlertCardView) and p.current.view.alert_key == key
    ]
    return post


def thread_of(post: Any) -> ThreadRef:
    """The thread under a Teams alert post."""
    return ThreadRef("teams", post.channel_id, post.id)


def teams_button(card: dict[str, Any], title: str = "Follow-up issue") -> dict[str, Any] | None:
    return next((a for a in card.get("actions", ()) if a["title"] == title), None)


def teams_fact(card: dict[str, Any], title: str) -> str | None:
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    return facts.get(title)


async def press_button(bridge: FakeBridge, key: str, who: Person, card: str) -> Any:
    """Press "Follow-up issue" as the Teams card renders it (its verb and data)."""
    button = teams_button(render_card(alert_post(bridge, key).current.view))
    assert button is not None, "the post offers no Follow-up issue button"
    return await bridge.press(button["verb"], button["data"], who, card)


async def count(bridge: FakeBridge, table: Any, **where: Any) -> int:
    statement = select(func.count()).select_from(table)
    for column, value in where.items():
        statement = statement.where(table.c[column] == value)
    async with bridge.runtime.store.read() as connection:
        return int(await connection.scalar(statement) or 0)


async def test_three_presses_on_an_alert_post_two_at_once_make_one_issue_one_link_one_note(
    tmp_path, database_url
):
    """On SQLite and on PostgreSQL (``database_url`` is both)."""
    async with fake_bridge(tmp_path, database_url=database_url) as bridge:
        key = await open_alert(bridge)
        first, second = await asyncio.gather(
            press_button(bridge, key, JANE, "card-a"), press_button(bridge, key, MARCUS, "card-b")
        )
        assert [first.status, second.status] == [200, 200]
        assert sorted([first.message, second.message]) == [
            "Filing a follow-up issue in GitHub.",
            "The follow-up issue is being filed.",
        ]
        await bridge.drain()
        third = await bridge.press(views.VERB_FOLLOWUP, {views.DATA_ALERT: key}, JANE, "card-c")
        await bridge.drain()
        assert (third.status, third.message) == (200, f"The follow-up issue is #1: {ISSUE_URL}")

        row = await alert_row(bridge, key)
        assert bridge.followups.creates == 1 and list(bridge.followups.issues) == ["#1"]
        post = alert_post(bridge, key)
        links = [
            p for p in bridge.chat.in_thread(thread_of(post)) if "Follow-up issue" in (p.message.text or "")
        ]
        # Assigned to whoever's press claimed it (the one told "Filing ...").
        claimer = "jane-doe" if first.message.startswith("Filing") else "marcus-lee"
        assert [p.message.text for p in links] == [
            f"Follow-up issue #1 (GitHub, assigned to {claimer}): {ISSUE_URL}"
        ]
        notes = [n for n in bridge.tracker.notes(row.sys_id) if "Follow-up issue" in n]
        assert len(notes) == 1 and ISSUE_URL in notes[0]
        assert await count(bridge, tables.followups) == 1
        assert await count(bridge, tables.followups, correlation_id=key, subject="alert") == 1
        assert await count(bridge, tables.outbox, kind="file_followup") == 1
        assert await count(bridge, tables.audit_log, action="incident.followup") == 1
        # The post shows the issue and no longer offers the button.
        card = render_card(post.current.view)
        assert teams_fact(card, "Follow-up") == f"[#1]({ISSUE_URL}) (open)"
        assert teams_button(card) is None


async def test_the_alert_issue_names_the_incident_the_alert_and_the_thread(bridge):
    key = await open_alert(bridge)
    await press_button(bridge, key, JANE, "card")
    await bridge.drain()
    row = await alert_row(bridge, key)
    [(request, issue)] = bridge.followups.issues.values()
    assert request.title == f"{row.number}: [PagerDuty] Checkout API 5xx rate"
    post = alert_post(bridge, key)
    assert request.body.splitlines() == [
        f"Follow-up of ServiceNow incident {row.number}: {row.incident_url}",
        "Monitoring alert: PagerDuty PQ1 (critical)",
        "Service: checkout-api",
        f"Teams thread: {await bridge.chat.thread_link(thread_of(post))}",
        f"Asked for by Jane Doe on {bridge.clock.now():%Y-%m-%d %H:%M} UTC.",
        "",
        f"golive-followup: {row.number}",
    ]
    assert request.labels == ("go-live",) and issue.assignee == "jane-doe"
    [note] = [n for n in bridge.tracker.notes(row.sys_id) if "Follow-up" in n]
    assert note == f"Follow-up issue #1 filed in GitHub (asked for by Jane Doe): {ISSUE_URL}"


async def test_site_staff_pressing_on_an_alert_post_is_refused_and_audited(bridge):
    key = await open_alert(bridge)
    outcome = await press_button(bridge, key, STAFF, "card")
    assert (outcome.status, outcome.message) == (
        403,
        "Only engineers on the duty roster can file follow-up issues.",
    )
    await bridge.drain()
    assert bridge.followups.issues == {} and await count(bridge, tables.followups) == 0
    async with bridge.runtime.store.read() as connection:
        [refusal] = (
            await connection.execute(
                select(tables.audit_log).where(tables.audit_log.c.action == "action.refused")
            )
        ).all()
    row = await alert_row(bridge, key)
    assert refusal.actor.startswith("Pat Frontdesk") and row.number in refusal.detail
    assert "teams card" in refusal.detail
    # The post still offers the button to engineers.
    assert teams_button(render_card(alert_post(bridge, key).current.view)) is not None


async def test_the_follow_up_verb_reaches_follow_ups_not_the_alert_actions(bridge):
    """An alert card's data names an alert, yet "followup" must not be answered as an unknown alert
    action; acknowledging still goes to the alert actions and keeps the follow-up on its card."""
    key = await open_alert(bridge)
    outcome = await bridge.press(views.VERB_FOLLOWUP, {views.DATA_ALERT: key}, JANE)
    assert (outcome.status, outcome.message) == (200, "Filing a follow-up issue in GitHub.")
    await bridge.drain()
    acknowledged = await bridge.press(views.VERB_ACKNOWLEDGE, {views.DATA_ALERT: key}, JANE, "card-2")
    assert acknowledged.status == 200
    assert acknowledged.view.followup == views.FollowUpRef("GitHub", "#1", ISSUE_URL, "open")
    unknown = await bridge.press(views.VERB_FOLLOWUP, {views.DATA_ALERT: "sentry:nope"}, JANE)
    assert (unknown.status, unknown.message) == (404, "That incident is not known to Go Live Bridge.")


async def test_a_refused_alert_issue_says_so_on_the_post_and_in_its_thread(bridge):
    key = await open_alert(bridge)
    bridge.followups.failures.fail_next(Permanent("GOLIVE_GITHUB_REPO was not found (404)"))
    await press_button(bridge, key, JANE, "card")
    await bridge.drain()
    post = alert_post(bridge, key)
    assert teams_fact(render_card(post.current.view), "Follow-up") == "Not filed in GitHub (see the thread)"
    [told] = [
        p for p in bridge.chat.in_thread(thread_of(post)) if "could not be filed" in (p.message.text or "")
    ]
    assert "GOLIVE_GITHUB_REPO" in (told.message.text or "")


async def test_a_storm_and_its_groups_share_one_follow_up_on_the_storm_incident(tmp_path):
    async with fake_bridge(tmp_path, alert_max_new_per_minute=1) as bridge:
        await open_alert(bridge, "G1", "first")
        await open_alert(bridge, "G2", "second")  # beyond the limit: starts a storm
        await open_alert(bridge, "G3", "third")
        async with bridge.runtime.store.read() as connection:
            storm = (
                await connection.execute(select(tables.alerts).where(tables.alerts.c.kind == "storm"))
            ).one()
        assert storm.number and storm.members == 2
        on_storm = await press_button(bridge, storm.correlation_id, JANE, "card-a")
        on_group = await bridge.press(
            views.VERB_FOLLOWUP, {views.DATA_ALERT: "pagerduty:G3"}, MARCUS, "card-b"
        )
        await bridge.drain()
        assert on_storm.message == "Filing a follow-up issue in GitHub."
        assert on_group.status == 200 and on_group.message != on_storm.message
        assert bridge.followups.creates == 1
        async with bridge.runtime.store.read() as connection:
            [followup] = (await connection.execute(select(tables.followups))).all()
        assert followup.correlation_id == storm.correlation_id
        [(request, _)] = bridge.followups.issues.values()
        assert request.title.startswith(f"{storm.number}: Alert storm: ")
        assert "Alert storm: 2 alert groups" in request.body.splitlines()
        facts = teams_fact(render_card(alert_post(bridge, storm.correlation_id).current.view), "Follow-up")
        assert facts == f"[#1]({ISSUE_URL}) (open)"
        # The first group has its own incident, so its own (separate) follow-up.
        await press_button(bridge, "pagerduty:G1", JANE, "card-c")
        await bridge.drain()
        assert bridge.followups.creates == 2


async def test_the_state_refresh_updates_alert_posts_too(bridge):
    key = await open_alert(bridge)
    await press_button(bridge, key, JANE, "card")
    await bridge.drain()
    bridge.followups.set_state("#1", "closed")
    assert await bridge.runtime.followups.refresh_states() == 1
    await bridge.drain()
    post = alert_post(bridge, key)
    assert post.current.view.followup == views.FollowUpRef("GitHub", "#1", ISSUE_URL, "closed")
    assert teams_fact(render_card(post.current.view), "Follow-up") == f"[#1]({ISSUE_URL}) (closed)"
    assert await bridge.runtime.followups.refresh_states() == 0  # nothing changed since


async def test_an_alert_on_teams_and_slack_gets_the_link_in_both_threads_and_one_issue(tmp_path):
    async with fake_bridge(tmp_path, slack=True) as bridge:
        assert bridge.slack is not None
        key = await open_alert(bridge)
        slack_post = alert_post(bridge, key, bridge.slack)
        data = next(
            element["value"]
            for block in render_blocks(slack_post.current.view)[0]
            if block["type"] == "actions"
            for element in block["elements"]
            if element["action_id"] == views.VERB_FOLLOWUP
        )
        assert data == f'{{"alert":"{key}"}}'
        await bridge.press(views.VERB_FOLLOWUP, {views.DATA_ALERT: key}, JANE)
        await bridge.press(views.VERB_FOLLOWUP, {views.DATA_ALERT: key}, JANE, "again")
        await bridge.drain()
        assert bridge.followups.creates == 1
        teams_post = alert_post(bridge, key)
        for chat, post, platform in ((bridge.chat, teams_post, "teams"), (bridge.slack, slack_post, "slack")):
            thread = ThreadRef(platform, post.channel_id, post.id)
            texts = [
                p.message.text for p in chat.in_thread(thread) if "Follow-up issue" in (p.message.text or "")
            ]
            assert texts == [f"Follow-up issue #1 (GitHub, assigned to jane-doe): {ISSUE_URL}"], platform
            assert post.current.view.followup == views.FollowUpRef("GitHub", "#1", ISSUE_URL, "open")
        [(request, _)] = bridge.followups.issues.values()
        lines = request.body.splitlines()
        assert any(line.startswith("Teams thread: ") for line in lines)
        assert any(line.startswith("Slack thread: ") for line in lines)
        row = await alert_row(bridge, key)
        assert len([n for n in bridge.tracker.notes(row.sys_id) if "Follow-up issue" in n]) == 1
