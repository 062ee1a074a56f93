"""Recorded Teams payloads of every kind the bot handles are accepted with the right status and
mean the right thing (tests/fixtures/teams, shapes per Microsoft's documentation)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import RUNTIME, Overrides, create_app
from bot.clock import FrozenClock
from bot.settings import Environment, Settings
from bot.storage import tables

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "teams"
CHANNEL = "19:4a1b3c6e2f7d4e8a9b0c1d2e3f4a5b6c@thread.tacv2"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
async def client(aiohttp_client, tmp_path):
    settings = Settings(
        env=Environment.DEVELOPMENT,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        servicenow_url="http://127.0.0.1:9",
    )
    app = create_app(
        settings, Overrides(clock=FrozenClock(datetime(2022, 5, 3, 15, tzinfo=UTC)), run_background=False)
    )
    client = await aiohttp_client(app)
    store = app[RUNTIME].store
    async with store.write() as connection:
        await connection.execute(
            tables.channels.insert().values(
                station="508", channel_id=CHANNEL, display_name="Go Live - 508 Atlanta", status="open"
            )
        )
    return client


async def send(client, name: str):
    response = await client.post("/api/messages", json=fixture(name))
    body = await response.read()
    # The activity is stored before the answer; its turn runs afterwards (here: now).
    await client.app[RUNTIME].processor.drain()
    return response.status, (json.loads(body) if body else None)


async def rows(client, table):
    async with client.app[RUNTIME].store.read() as connection:
        return (await connection.execute(select(table))).all()


NON_INVOKE = sorted(p.stem for p in FIXTURES.glob("*.json") if not p.stem.startswith("card_action"))


@pytest.mark.parametrize("name", NON_INVOKE)
async def test_every_recorded_activity_kind_is_accepted(client, name):
    status, _ = await send(client, name)
    assert status == 201


async def test_root_post_reply_and_reply_without_reply_to_id_make_one_inquiry(client):
    for name in ("channel_message_root", "channel_thread_reply", "channel_reply_without_reply_to_id"):
        assert (await send(client, name))[0] == 201
    inquiries = await rows(client, tables.inquiries)
    assert len(inquiries) == 1
    assert inquiries[0].root_message_id == "1651590000001"
    assert inquiries[0].text == "Kiosk shows error E42 when a veteran checks in"
    assert inquiries[0].station == "508"
    kinds = sorted(job.kind for job in await rows(client, tables.outbox))
    assert kinds == ["comment", "comment", "create_incident"]


async def test_mention_with_log_command_logs_the_rest_of_the_text(client):
    await send(client, "channel_message_mention")
    inquiry = (await rows(client, tables.inquiries))[0]
    assert inquiry.text == "the printer is jammed"


async def test_an_edit_replaces_the_incident_text_and_a_soft_delete_becomes_a_work_note(client):
    await send(client, "channel_message_root")
    await send(client, "message_edit")
    await send(client, "message_soft_delete")
    jobs = await rows(client, tables.outbox)
    # Issue 17: the root's edit replaces the inquiry's text and queues the incident's new text;
    # no job carries the text (the job reads the inquiry when it runs).
    [inquiry] = await rows(client, tables.inquiries)
    assert "(edited)" in inquiry.text
    [update] = [job for job in jobs if job.kind == "update_description"]
    assert "(edited)" not in str(update.payload)
    [note] = [job for job in jobs if job.kind == "work_note"]
    assert "deleted" in note.payload["text"]


async def test_a_post_without_a_timestamp_is_dated_by_the_product_clock_not_the_wall_clock(client):
    # The first-response timer starts at the post's time, so a missing timestamp must not be the
    # wall clock while the product runs on a simulated one.
    clock = client.app[RUNTIME].clock
    clock.set(datetime(2022, 5, 3, 16, 30, tzinfo=UTC))
    activity = fixture("channel_message_root")
    activity.pop("timestamp")
    activity.pop("localTimestamp", None)
    response = await client.post("/api/messages", json=activity)
    assert response.status == 201
    await client.app[RUNTIME].processor.drain()
    [inquiry] = await rows(client, tables.inquiries)
    assert inquiry.posted_at.replace(tzinfo=UTC) == datetime(2022, 5, 3, 16, 30, tzinfo=UTC)


async def test_repeated_delivery_is_acknowledged_without_effect(client):
    for _ in range(3):
        assert (await send(client, "channel_message_root"))[0] == 201
    assert len(await rows(client, tables.inquiries)) == 1
    assert len(await rows(client, tables.outbox)) == 1


async def test_install_event_remembers_service_url_and_graph_team(client):
    await send(client, "bot_installed_in_team")
    context = (await rows(client, tables.teams_context))[0]
    assert context.service_url == "https://smba.trafficmanager.net/amer/"
    assert context.graph_team_id == "02bd9fd6-8f93-4758-87c3-1fb73740a315"
    assert context.tenant_id == "72f988bf-86f1-41af-91ab-2d7cd011db47"


async def test_reaction_is_ignored(client):
    await send(client, "reaction_added")
    assert await rows(client, tables.inquiries) == []


async def test_card_action_for_unknown_incident_answers_200_with_404_in_body(client):
    status, body = await send(client, "card_action_execute_unknown_incident")
    assert status == 200
    assert body["statusCode"] == 404
    assert body["type"] == "application/vnd.microsoft.error"


async def test_card_action_with_unknown_verb_answers_200_with_400_in_body(client):
    status, body = await send(client, "card_action_unknown_verb")
    assert status == 200
    assert body["statusCode"] == 400


async def test_an_unknown_invoke_name_is_refused_in_the_invoke_answer_never_with_a_5xx(client):
    activity = fixture("card_action_unknown_verb")
    activity["name"] = "composeExtension/query"
    response = await client.post("/api/messages", json=activity)
    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 400 and body["value"]["code"] == "NotSupported"


async def test_without_a_roster_nobody_may_press_the_group_button_and_the_refusal_is_audited(client):
    await send(client, "channel_message_root")
    inquiry = (await rows(client, tables.inquiries))[0]
    press = fixture("card_action_unknown_verb")
    press["value"]["action"] = {
        "type": "Action.Execute",
        "verb": "route",
        "data": {"inquiry": inquiry.correlation_id, "group": "eCheck-in Vet Facing Apps"},
    }
    response = await client.post("/api/messages", json=press)
    body = await response.json()
    assert response.status == 200 and body["statusCode"] == 403
    assert "No duty roster is loaded" in body["value"]["message"]
    assert (await rows(client, tables.inquiries))[0].assignment_group == "Scheduling Support"
    assert "set_group" not in [job.kind for job in await rows(client, tables.outbox)]
    [audit] = await rows(client, tables.audit_log)
    assert audit.action == "action.refused" and "route" in audit.detail
