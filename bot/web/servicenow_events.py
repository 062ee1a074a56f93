"""``POST /servicenow/events``: signed business-rule callbacks from ServiceNow.

The body names an incident (``sys_id``, ``sys_mod_count``); the signature is
``X-Golive-Signature: t=<unix>,v1=<HMAC-SHA256(secret, "t.body")>`` (``servicenow.callback``). A
verified, new callback is recorded once and answered 202; the incident is fetched after the answer
(``SyncBack.spawn``), and the poller catches up whatever a callback misses.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from aiohttp import web

from bot.bridge import records
from bot.bridge.syncback import SyncBack
from bot.clock import Clock
from bot.inbound import BodyRejected, convert, decode_json, read_body
from bot.storage.store import Store
from servicenow.callback import SIGNATURE_HEADER, SignatureError, verify_signature


class Callback(msgspec.Struct):
    """What the product reads from a callback body."""

    sys_id: str
    sys_mod_count: int | None = None


def make_servicenow_events_handler(sync: SyncBack, secrets: list[str], store: Store, clock: Clock) -> Any:
    async def events(request: web.Request) -> web.Response:
        if not secrets:
            return web.json_response({"error": "callbacks are not configured"}, status=404)
        try:
            body = await read_body(request)
        except BodyRejected as rejected:
            return web.json_response({"error": rejected.reason}, status=rejected.status)
        try:
            verify_signature(request.headers.get(SIGNATURE_HEADER), body, secrets, now=time.time())
        except SignatureError as error:
            return web.json_response({"error": "signature rejected", "reason": error.reason}, status=401)
        try:
            callback = convert(decode_json(body), Callback)
            if not callback.sys_id or len(callback.sys_id) > 32 or not callback.sys_id.isalnum():
                raise BodyRejected("sys_id must be a ServiceNow sys_id (32 letters and digits)")
        except BodyRejected as rejected:
            return web.json_response(
                {"error": f"body must be JSON with sys_id: {rejected.reason}"}, status=400
            )
        if callback.sys_mod_count is not None:
            # The same change told twice is looked at once; without a count every callback is looked
            # at (the sync is idempotent: it compares sys_mod_count with what it saw).
            async with store.write() as connection:
                first = await records.first_sight(
                    store,
                    connection,
                    f"snevent|{callback.sys_id}|{callback.sys_mod_count}",
                    "servicenow_event",
                    clock.now(),
                )
            if not first:
                return web.json_response({"status": "duplicate"}, status=200)
        sync.spawn(callback.sys_id)
        return web.json_response({"status": "accepted"}, status=202)

    return events
