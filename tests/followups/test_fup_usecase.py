"""The "Follow-up issue" button (``bot.bridge.followups``) on the fakes: one issue per incident however
often it is pressed or retried, engineers only, its link in the thread, a work note, the card."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from testkit.bridge import ROSTER, STAFF, fake_bridge, person_of

from bot import views
from bot.ports import CardAction, Permanent, Transient
from bot.storage import tables
from bot.teams.cards import render_card

JANE = person_of(ROSTER.engineers["jane"])
MARCUS = person_of(ROSTER.engineers["marcus"])


@pytest.fixture
async def bridge(tmp_path):
    async with fake_bridge(tmp_path, followup_labels="go-live, follow-up") as bridge:
        yield bridge


async def incident(bridge, text: str = "Kiosk shows error E42\nsince 9am"):
    post = await bridge.post("508", text)
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    return post, inquiry


async def press(bridge, inquiry, who=JANE, card: str = "card"):
    return await bridge.press(views.VERB_FOLLOWUP, {views.DATA_INQUIRY: inquiry.correlation_id}, who, card)


async def count(bridge, table, **where) -> int:
    statement = select(func.count()).select_from(table)
    for column, value in where.items():
        statement = statement.where(table.c[column] == value)
    async with bridge.runtime.store.read() as connection:
        return int(await connection.scalar(statement) or 0)


async def test_three_presses_two_of_them_at_once_make_one_follow_up(tmp_path, database_url):
    """On SQLite and on PostgreSQL (``database_url`` is both)."""
    async with fake_bridge(tmp_path, database_url=database_url) as bridge:
        _, inquiry = await incident(bridge)
        first, second = await asyncio.gather(
            press(bridge, inquiry, JANE, "card-a"), press(bridge, inquiry, MARCUS, "card-b")
        )
        assert {first.status, second.status} == {200}
        assert sorted([first.message, second.message]) == [
            "Filing a follow-up issue in GitHub.",
            "The follow-up issue is being filed.",
        ]
        await bridge.drain()
        third = await press(bridge, inquiry, JANE, "card-c")
        await bridge.drain()
        assert (
            third.status == 200
            and third.message == "The follow-up issue is #1: https://github.example/issues/1"
        )
        assert bridge.followups.creates == 1 and list(bridge.followups.issues) == ["#1"]
        assert await count(bridge, tables.followups) == 1
        assert await count(bridge, tables.outbox, kind="file_followup") == 1
        assert await count(bridge, tables.audit_log, action="incident.followup") == 1


async def test_the_issue_names_the_incident_links_it_and_the_thread_and_is_labelled_and_assigned(bridge):
    post, inquiry = await incident(bridge)
    await press(bridge, inquiry)
    await bridge.drain()
    [(request, issue)] = bridge.followups.issues.values()
    assert request.title == f"{inquiry.number}: Kiosk shows error E42"
    assert request.marker == f"golive-followup: {inquiry.number}"
    lines = request.body.splitlines()
    assert lines[0] == f"Follow-up of ServiceNow incident {inquiry.number}: {inquiry.incident_url}"
    assert lines[1] == "Site: 508 Atlanta"
    assert lines[2] == f"Teams thread: {inquiry.thread_url or await bridge.chat.thread_link(post.thread)}"
    assert lines[-1] == request.marker and lines[-2] == ""
    assert "since 9am" not in request.body  # the post itself stays out of the tracker
    assert request.labels == ("go-live", "follow-up")
    assert request.assignee == "jane-doe"  # the presser's github_login from the roster
    assert issue.assignee == "jane-doe"


async def test_the_link_goes_to_the_thread_and_a_work_note_and_the_card_shows_the_issue(bridge):
    post, inquiry = await incident(bridge)
    outcome = await press(bridge, inquiry)
    assert outcome.status == 200 and outcome.message == "Filing a follow-up issue in GitHub."
    await bridge.drain()
    card, reply = bridge.chat.in_thread(post.thread)
    assert (
        reply.message.text
        == "Follow-up issue #1 (GitHub, assigned to jane-doe): https://github.example/issues/1"
    )
    assert reply.message.key == f"followup:{inquiry.correlation_id}"
    [note] = [n for n in bridge.tracker.notes(inquiry.sys_id) if "Follow-up" in n]
    assert (
        note == "Follow-up issue #1 filed in GitHub (asked for by Jane Doe): https://github.example/issues/1"
    )
    view = card.current.view
    assert view.followup == views.FollowUpRef("GitHub", "#1", "https://github.example/issues/1", "open")
    rendered = render_card(view)
    facts = {f["title"]: f["value"] for f in rendered["body"][1]["facts"]}
    assert facts["Follow-up"] == "[#1](https://github.example/issues/1) (open)"
    assert "followup" not in str(rendered)  # no button once the issue exists


async def test_the_card_offers_the_button_until_pressed_then_says_it_is_being_filed(bridge):
    post, inquiry = await incident(bridge)
    [card] = bridge.chat.in_thread(post.thread)
    buttons = [
        action
        for element in render_card(card.current.view)["body"]
        if element.get("type") == "ActionSet"
        for action in element["actions"]
    ]
    assert buttons == [
        {
            "type": "Action.Execute",
            "title": "Follow-up issue",
            "verb": "followup",
            "data": {"inquiry": inquiry.correlation_id},
        }
    ]
    bridge.followups.failures.fail_next(Permanent("GOLIVE_GITHUB_TOKEN was refused (401): Bad credentials"))
    await press(bridge, inquiry)
    await bridge.drain()
    # The tracker refused: the job is a dead letter, the thread says why, the card that it is not filed.
    assert bridge.followups.issues == {}
    facts = {f["title"]: f["value"] for f in render_card(card.current.view)["body"][1]["facts"]}
    assert facts["Follow-up"] == "Not filed in GitHub (see the thread)"
    async with bridge.runtime.store.read() as connection:
        dead = (
            await connection.execute(select(tables.outbox).where(tables.outbox.c.kind == "file_followup"))
        ).one()
    assert dead.dead_at is not None and "GOLIVE_GITHUB_TOKEN" in dead.last_error
    [told] = [p for p in bridge.chat.in_thread(post.thread) if p is not card]
    assert told.message.text == (
        "The follow-up issue could not be filed in GitHub: GOLIVE_GITHUB_TOKEN was refused (401): "
        f"Bad credentials. It is kept for an operator as dead letter job-{dead.id}."
    )
    # Other work of the inquiry goes on meanwhile: a reply still becomes a comment.
    await bridge.post("508", "Any news?", reply_to=post.thread)
    await bridge.drain()
    assert bridge.tracker.notes(inquiry.sys_id, "comments")
    # An operator retries the dead letter once the token is fixed: the issue is filed, once.
    await bridge.runtime.dead_letters.retry(f"job-{dead.id}", "operator")
    await bridge.drain()
    assert list(bridge.followups.issues) == ["#1"]
    facts = {f["title"]: f["value"] for f in render_card(card.current.view)["body"][1]["facts"]}
    assert facts["Follow-up"] == "[#1](https://github.example/issues/1) (open)"


async def test_a_lost_create_answer_is_retried_by_finding_the_issue_so_one_exists(bridge):
    post, inquiry = await incident(bridge)
    bridge.followups.lose_next_replies(1)
    await press(bridge, inquiry)
    await bridge.drain()
    assert bridge.followups.creates == 1 and len(bridge.followups.issues) == 1
    replies = [
        p
        for p in bridge.chat.in_thread(post.thread)
        if p.message.text and "Follow-up issue" in p.message.text
    ]
    assert len(replies) == 1


async def test_a_throttled_tracker_is_retried_and_files_once(bridge):
    _, inquiry = await incident(bridge)
    bridge.followups.failures.fail_next(Transient("GitHub rate limit reached (403)", retry_after=0), times=2)
    await press(bridge, inquiry)
    await bridge.drain()
    assert bridge.followups.creates == 1


async def test_site_staff_cannot_file_a_follow_up_and_the_refusal_is_audited(bridge):
    _, inquiry = await incident(bridge)
    outcome = await press(bridge, inquiry, STAFF)
    assert (outcome.status, outcome.message) == (
        403,
        "Only engineers on the duty roster can file follow-up issues.",
    )
    await bridge.drain()
    assert bridge.followups.issues == {} and await count(bridge, tables.followups) == 0
    assert await count(bridge, tables.audit_log, action="action.refused") == 1


async def test_an_unknown_incident_or_a_button_without_one_is_refused_with_a_reason(bridge):
    outcome = await bridge.press(views.VERB_FOLLOWUP, {views.DATA_INQUIRY: "teams:nope"}, JANE)
    assert (outcome.status, outcome.message) == (404, "That incident is not known to Go Live Bridge.")
    outcome = await bridge.press(views.VERB_FOLLOWUP, {}, JANE)
    assert outcome.status == 400


async def test_without_a_tracker_the_card_has_no_button_and_a_press_is_told_why(tmp_path):
    async with fake_bridge(tmp_path) as bridge:
        bridge.runtime.followups._tracker = None  # as when GOLIVE_GITHUB_TOKEN is empty
        _, inquiry = await incident(bridge)
        outcome = await press(bridge, inquiry)
        assert (outcome.status, outcome.message) == (
            400,
            "Follow-up issues are not set up here (GOLIVE_FOLLOWUP_TRACKER).",
        )
    async with fake_bridge(tmp_path / "plain") as bridge:
        assert bridge.runtime.config.followup_tracker == "GitHub"
    from testkit.bridge import settings_for

    from bot.app import bridge_config

    assert bridge_config(settings_for(tmp_path)).followup_tracker == ""


async def test_a_resolved_incident_still_offers_the_follow_up(bridge):
    post, inquiry = await incident(bridge)
    outcome = await bridge.press(
        views.VERB_RESOLVE,
        {
            views.DATA_INQUIRY: inquiry.correlation_id,
            "close_code": "Solution provided",
            "close_notes": "restarted",
        },
        JANE,
    )
    assert outcome.status == 200
    await bridge.drain()
    card = bridge.chat.in_thread(post.thread)[0]
    rendered = render_card(card.current.view)
    assert card.current.view.resolved and "actions" not in rendered
    assert [e["actions"][0]["title"] for e in rendered["body"] if e.get("type") == "ActionSet"] == [
        "Follow-up issue"
    ]
    await press(bridge, inquiry)
    await bridge.drain()
    assert len(bridge.followups.issues) == 1


async def test_the_leader_reads_issue_states_again_and_the_card_follows(bridge):
    post, inquiry = await incident(bridge)
    await press(bridge, inquiry)
    await bridge.drain()
    assert await bridge.runtime.followups.refresh_states() == 0
    bridge.followups.set_state("#1", "closed")
    assert await bridge.runtime.followups.refresh_states() == 1
    await bridge.drain()
    [card, _] = bridge.chat.in_thread(post.thread)
    assert card.current.view.followup.state == "closed"
    bridge.followups.failures.fail_next(Transient("GitHub rate limit reached (403)", retry_after=60))
    assert await bridge.runtime.followups.refresh_states() == 0  # waits for the next tick


_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=300), st.lists(st.text(max_size=5), max_size=3)
)


@settings(
    derandomize=True,
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.dictionaries(st.sampled_from(["inquiry", "alert", "group", "x"]), _values, max_size=3),
    who=st.sampled_from(["jane", "staff", "nobody"]),
)
async def test_any_press_data_gets_a_reason_and_never_a_second_follow_up(bridge, data, who):
    if not hasattr(bridge, "known"):
        _, bridge.known = await incident(bridge)
    if data.get("inquiry") is True:
        data["inquiry"] = bridge.known.correlation_id
    actor = {"jane": JANE, "staff": STAFF, "nobody": None}[who]
    outcome = await bridge.runtime.service.on_card_action(
        CardAction("teams", "conversation", "card", views.VERB_FOLLOWUP, data, actor, bridge.clock.now())
    )
    assert outcome.status in {200, 400, 403, 404} and outcome.message
    assert await count(bridge, tables.followups) <= 1
