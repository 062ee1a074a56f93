"""Every incident action and every refusal is audited with who did it; text written in ServiceNow
reaches the thread without markup, mentions or unsafe links."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from testkit.bridge import ROSTER, STAFF, fake_bridge, person_of

from bot import views
from bot.bridge.untrusted import safe_text
from bot.storage import tables

JANE = person_of(next(e for e in ROSTER.engineers.values() if e.name == "Jane Doe"))


@pytest.fixture
async def bridge(tmp_path):
    async with fake_bridge(tmp_path) as bridge:
        yield bridge


async def audit(bridge) -> list[tuple[str, str, str]]:
    async with bridge.runtime.store.read() as connection:
        rows = (await connection.execute(select(tables.audit_log).order_by(tables.audit_log.c.id))).all()
    return [(row.actor, row.action, row.detail) for row in rows]


async def test_acknowledge_route_resolve_and_refusals_are_audited_with_the_actor(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    key = {views.DATA_INQUIRY: (await bridge.inquiry(post.thread)).correlation_id}
    await bridge.press(views.VERB_ACKNOWLEDGE, key, JANE, "c1")
    await bridge.press(views.VERB_ROUTE, {**key, views.DATA_GROUP: "eCheck-in Vet Facing Apps"}, JANE, "c2")
    await bridge.press(views.VERB_ROUTE, {**key, views.DATA_GROUP: "Scheduling Support"}, STAFF, "c3")
    await bridge.post(
        "508", "resolve Solution provided | kiosk restarted", JANE, reply_to=post.thread, mentions_bot=True
    )
    await bridge.post("508", "ack", STAFF, reply_to=post.thread, mentions_bot=True)
    entries = await audit(bridge)
    actions = [action for _, action, _ in entries]
    assert actions == [
        "incident.acknowledge",
        "incident.route",
        "action.refused",
        "incident.resolve",
        "action.refused",
    ]
    assert all(JANE.aad_object_id in actor for actor, action, _ in entries if action.startswith("incident."))
    assert all(
        STAFF.aad_object_id in actor and "Pat Frontdesk" in actor
        for actor, action, _ in entries
        if action == "action.refused"
    )


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("<b>Restart</b> the kiosk", "Restart the kiosk"),
        ("<at>Jane Doe</at> please look", "Jane Doe please look"),
        ("see [the fix](https://kb.example.gov/fix?id=1)", "see the fix (kb.example.gov)"),
        ("see [the fix](http://evil.example/x)", "see the fix"),
        ("[click](javascript:alert(1))", "click"),
        ("<!channel> <@U123ABC> hello", "hello"),
    ],
)
def test_text_from_servicenow_is_made_safe_for_a_chat(written, shown):
    assert safe_text(written).strip() == shown


async def test_a_servicenow_comment_with_markup_reaches_the_thread_safely(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    bridge.tracker._journal(
        record.sys_id, "comments", "<at>Everyone</at> [login here](http://phish.example/x)"
    )
    entry = bridge.tracker.journal[-1]
    bridge.tracker.journal[-1] = type(entry)(
        entry.sys_id, entry.incident_sys_id, entry.element, entry.value, "admin", entry.created_at
    )
    await bridge.runtime.sync.poll()
    await bridge.drain()
    [comment] = [
        p.message.text
        for p in bridge.chat.in_thread(post.thread)
        if "commented in ServiceNow" in (p.message.text or "")
    ]
    assert "<at>" not in comment and "http" not in comment and "login here" in comment
