"""A job that can never succeed ends visibly: a dead letter, a note in the thread, nothing retried in
a loop; an operator's retry finishes the work and the inquiry's other jobs follow in order."""

from __future__ import annotations

import pytest
from testkit.bridge import fake_bridge

from bot.ports import Permanent, Transient


@pytest.fixture
async def bridge(tmp_path):
    async with fake_bridge(tmp_path) as bridge:
        yield bridge


async def test_a_permanent_error_makes_one_dead_letter_and_tells_the_thread(bridge):
    bridge.tracker.failures.fail_next(
        Permanent("ServiceNow rejected the request (status 403)"), op="create_incident"
    )
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.post("508", "Still broken", reply_to=post.thread)
    await bridge.drain()
    [letter] = await bridge.runtime.dead_letters.list()
    assert letter.source == "outbox:create_incident" and "403" in letter.error
    notes = [p.message.text or "" for p in bridge.chat.in_thread(post.thread)]
    assert any(f"dead letter {letter.id}" in n for n in notes)
    assert bridge.tracker.creates == 0  # not retried in a loop

    await bridge.runtime.dead_letters.retry(letter.id, "operator")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert bridge.tracker.notes(record.sys_id, "comments"), "the follow-up comment ran after the create"
    assert await bridge.runtime.dead_letters.list() == []


async def test_an_outage_is_retried_for_as_long_as_it_lasts_and_never_dead_lettered(bridge):
    bridge.tracker.failures.fail_next(
        Transient("ServiceNow unavailable", retry_after=0), times=20, op="create_incident"
    )
    await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain(rounds=40)
    assert bridge.tracker.creates == 1
    assert await bridge.runtime.dead_letters.list() == []


async def test_dropping_a_dead_create_ends_the_inquirys_later_jobs_visibly_too(bridge):
    bridge.tracker.failures.fail_next(
        Permanent("ServiceNow rejected the request (status 400)"), op="create_incident"
    )
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.post("508", "Still broken", reply_to=post.thread)
    await bridge.drain()
    [letter] = await bridge.runtime.dead_letters.list()
    await bridge.runtime.dead_letters.drop(letter.id, "operator")
    await bridge.drain()
    [comment] = await bridge.runtime.dead_letters.list()
    assert comment.source == "outbox:comment" and "no incident" in comment.error
