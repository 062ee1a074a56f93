"""Issue 8, the signed callback ``POST /servicenow/events``: only a fresh signature over the exact
body with a configured secret is accepted, and a repeated event is applied once.

The poller is slowed to once an hour here, so whatever reaches the thread came through the callback.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import select
from testkit.stack import start_stack, wait_for
from testkit.sync import appears_once, change_in_servicenow, count_containing, new_inquiry

from bot.storage import tables
from servicenow.callback import SIGNATURE_HEADER, sign

SECRET = "callback-secret-1"
MOVED = "moved from Scheduling Support to eCheck-in Vet Facing Apps"


@pytest.fixture
async def stack(tmp_path):
    stack = await start_stack(
        tmp_path, servicenow_callback_secret=f"old-secret, {SECRET}", servicenow_poll_interval_s=3600
    )
    yield stack
    await stack.close()


async def _send(stack, body: bytes, header: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers[SIGNATURE_HEADER] = header
    async with stack.http.post(
        f"http://127.0.0.1:{stack.bot_port}/servicenow/events", data=body, headers=headers
    ) as response:
        return response.status, await response.json()


async def _moved_in_servicenow(stack):
    inquiry = await new_inquiry(stack, "Kiosk camera does not scan cards")

    async def first_poll_done():  # the poller's pass at start-up; the next one is an hour away
        return stack.runtime.sync.last_poll_at is not None

    await wait_for(first_poll_done)
    await change_in_servicenow(stack, inquiry.sys_id, {"assignment_group": "eCheck-in Vet Facing Apps"})
    current = await stack.servicenow_as(
        "admin", "admin", "GET", f"/api/now/table/incident/{inquiry.sys_id}", {}
    )
    body = json.dumps({"sys_id": inquiry.sys_id, "sys_mod_count": int(current["result"]["sys_mod_count"])})
    return inquiry, body.encode()


async def _recorded_events(stack) -> list[str]:
    """The callbacks the bot accepted (each is recorded once, before it is answered 202)."""
    inbox = tables.inbox
    async with stack.runtime.store.read() as connection:
        rows = await connection.execute(select(inbox.c.dedupe_key).where(inbox.c.kind == "servicenow_event"))
        return [row.dedupe_key for row in rows]


async def test_good_signature_is_accepted_and_applied_once_even_when_repeated(stack):
    inquiry, body = await _moved_in_servicenow(stack)
    await stack.settled()
    assert await count_containing(stack, inquiry, MOVED) == 0  # the poller is not doing the work

    status, answer = await _send(stack, body, sign(SECRET, body, int(time.time())))
    accepted_at = time.monotonic()
    assert status == 202, answer
    # The same event again (a retry with a fresh signature, and a straight replay), also at once.
    again = [
        _send(stack, body, sign(SECRET, body, int(time.time()) + 1)),
        _send(stack, body, sign(SECRET, body, int(time.time()), encoding="base64")),
        _send(stack, body, sign("old-secret", body, int(time.time()))),  # a secret being rotated out
    ]
    for status, answer in await asyncio.gather(*again):
        assert status == 200, answer
        assert answer["status"] == "duplicate"
    assert len(await _recorded_events(stack)) == 1

    await appears_once(stack, inquiry, MOVED, since=accepted_at)


BAD_SIGNATURES = (
    ("missing", "missing"),
    ("empty", "missing"),
    ("no_mac", "malformed"),
    ("garbage", "malformed"),
    ("bad_timestamp", "malformed"),
    ("tampered_body", "mismatch"),
    ("wrong_secret", "mismatch"),
    ("stale", "stale"),
    ("future", "stale"),
    ("stale_replay", "stale"),
)


async def test_bad_signatures_get_401_and_change_nothing(stack):
    inquiry, body = await _moved_in_servicenow(stack)
    now = int(time.time())
    good = sign(SECRET, body, now)
    headers: dict[str, str | None] = {
        "missing": None,
        "empty": "",
        "no_mac": f"t={now}",
        "garbage": "this is not a signature",
        "bad_timestamp": good.replace(f"t={now}", "t=soon"),
        "tampered_body": good,
        "wrong_secret": sign("not-the-secret", body, now),
        "stale": sign(SECRET, body, now - 301),
        "future": sign(SECRET, body, now + 400),
        # A captured request (header and body) sent again after the tolerance window.
        "stale_replay": sign(SECRET, body, now - 3600),
    }
    tampered = body.replace(b'"sys_mod_count": ', b'"sys_mod_count": 1')
    for case, reason in BAD_SIGNATURES:
        sent = tampered if case == "tampered_body" else body
        status, answer = await _send(stack, sent, headers[case])
        assert (status, answer.get("reason")) == (401, reason), case
    # A refused callback is never recorded, so nothing is fetched or posted for it.
    assert await _recorded_events(stack) == []
    await stack.settled()
    assert await count_containing(stack, inquiry, MOVED) == 0


async def test_callbacks_are_refused_when_no_secret_is_configured(tmp_path):
    stack = await start_stack(tmp_path)
    try:
        body = b'{"sys_id": "0123456789abcdef0123456789abcdef", "sys_mod_count": 1}'
        status, _ = await _send(stack, body, sign("anything", body, int(time.time())))
        assert status == 404
    finally:
        await stack.close()
