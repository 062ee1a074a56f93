"""Generated requests at POST /slack/events: thousands of bodies (mutated recordings, random JSON,
forms and bytes; signed, unsigned, stale, wrongly signed) get a 2xx or a 4xx, never a 5xx; and a
valid event sent alongside each one is stored, whatever its neighbour was. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_support import FORM, JSON, SECRET, SlackBot, fixture, message_event, signed, start_bot
from sqlalchemy import select

from bot.storage import tables

EVENTS = [
    fixture(name)
    for name in (
        "event_message_channel.json",
        "event_message_thread_reply.json",
        "event_message_changed.json",
        "event_message_deleted.json",
        "event_app_mention.json",
        "event_message_app_bot.json",
        "event_message_classic_bot_message.json",
        "event_message_channel_join.json",
        "event_url_verification.json",
    )
]
ACTIONS = fixture("interactivity_block_actions.json")["payload"]
SLASH = dict(pair.split("=", 1) for pair in fixture("slash_command.json")["body"].split("&"))
KEYS = [
    "type", "event_id", "event", "challenge", "authorizations", "subtype", "channel", "user", "text", "ts",
    "thread_ts", "bot_id", "message", "previous_message", "deleted_ts", "channel_type", "actions",
    "container", "response_url", "trigger_id", "command", "user_id", "channel_id",
]  # fmt: skip
SAMPLES = ["C111", "W111", "1651590000.000100", "message", "app_mention", "event_callback", "block_actions",
           "message_changed", "message_deleted", "bot_message", "im", "", "\u0000", "1e999", "Ev1"]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and Infinity included: the edge must refuse them
    st.text(max_size=30),
    st.sampled_from(SAMPLES),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
RAW_SNIPPETS = [b'{"type":"event_callback","event_id":"Ev1","event":{"type":"message","text":"\\ud800"}}',
                b'{"type": "url_verification", "challenge": "\\udfff"}', b"[" * 70 + b"]" * 70, b"", b"{}",
                b'{"type":"event_callback"', b"\xef\xbb\xbf{}", b'{"type":"event_callback","event_id":"Ev1",'
                b'"event":' + b'{"a":' * 70 + b"1" + b"}" * 70 + b"}"]  # fmt: skip


def mutate(base: dict[str, Any], draw: Any) -> dict[str, Any]:
    body = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, 3))):
        inner = body.get("event")
        target = inner if isinstance(inner, dict) and draw(st.booleans()) else body
        key = draw(st.sampled_from(KEYS) | st.text(max_size=6))
        if draw(st.integers(0, 3)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(json_values)
    return body


@st.composite
def requests(draw: Any) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["event", "event", "json", "action", "slash", "form", "raw", "snippet"]))
    if kind == "event":
        body = json.dumps(mutate(draw(st.sampled_from(EVENTS)), draw))
        return body.encode(), JSON
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), JSON
    if kind == "action":
        payload = json.dumps(mutate(ACTIONS, draw))
        return ("payload=" + quote(payload)).encode(), FORM
    if kind == "slash":
        fields = {k: v for k, v in SLASH.items() if draw(st.integers(0, 5))}
        fields |= draw(
            st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), st.text(max_size=30), max_size=3)
        )
        return urlencode(fields).encode(), FORM
    if kind == "form":
        return draw(st.binary(max_size=120)), FORM
    if kind == "raw":
        return draw(st.binary(max_size=200)), draw(st.sampled_from([JSON, FORM, "text/plain", ""]))
    return draw(st.sampled_from(RAW_SNIPPETS)), JSON


signings = st.sampled_from(["valid"] * 6 + ["missing", "wrong", "stale", "future"])
NEIGHBOURS = itertools.count(1)


async def send(bot: SlackBot, raw: bytes, content_type: str, signing: str) -> int:
    if signing == "missing":
        headers = {"Content-Type": content_type} if content_type else {}
    else:
        shift = {"stale": -400, "future": 400}.get(signing, 0)
        headers = signed(
            raw, content_type, secret="wrong" if signing == "wrong" else SECRET, at=time.time() + shift
        )
        if not content_type:
            headers.pop("Content-Type")
    response = await bot.client.post("/slack/events", data=raw, headers=headers)
    await response.read()
    return response.status


async def neighbour(bot: SlackBot) -> str:
    """A valid event with a fresh id; it must be stored whatever arrived beside it."""
    number = next(NEIGHBOURS)
    event_id = f"EvNeighbour{number}"
    body = message_event(f"Kiosk {number} at 508", ts=f"1651590000.{number:06d}", event_id=event_id)
    assert await send(bot, json.dumps(body).encode(), JSON, "valid") == 200
    return f"slack:event:{event_id}"


#: Bodies sent together in one example, with one valid neighbour: 520 examples, 5,200 bodies.
BATCH = 10
EXAMPLES = 520


@pytest.fixture
async def fuzz_bot(aiohttp_client: Any, database_url: str) -> AsyncIterator[SlackBot]:
    bot = await start_bot(aiohttp_client, database_url, "http://127.0.0.1:9/api/")
    bot.runtime.inbox.start()  # the group-committing writer, as in production: a batch shares commits
    yield bot
    await bot.runtime.inbox.close()


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(batch=st.lists(st.tuples(requests(), signings), min_size=BATCH, max_size=BATCH))
async def test_generated_requests_never_get_a_5xx_and_never_harm_a_valid_neighbour(
    fuzz_bot: SlackBot, batch: list[tuple[tuple[bytes, str], str]]
) -> None:
    *statuses, key = await asyncio.gather(
        *(send(fuzz_bot, raw, content_type, signing) for (raw, content_type), signing in batch),
        neighbour(fuzz_bot),
    )
    for ((raw, _), signing), status in zip(batch, statuses, strict=True):
        assert status in (200, 400, 401, 413, 415), (status, raw[:200])
        if signing != "valid":
            assert status == 401
    async with fuzz_bot.runtime.store.read() as connection:
        received = tables.received_activities
        found = (await connection.execute(select(received.c.id).where(received.c.dedupe_key == key))).first()
    assert found is not None, "a valid neighbour was not stored"
