"""``POST /servicenow/events``: signed business-rule callbacks from ServiceNow.

The body names an incident (``sys_id``, ``sys_mod_count``); the signature is
``X-Golive-Signature: t=<unix>,v1=<HMAC-SHA256(secret, "t.body")>`` (``servicenow.callback``). A
verified, new callback is recorded once and answered 202; the incident is fetched after the answer
(``SyncBack.spawn``), and the poller catches up whatever a callback misses.
"""

from __future__ import annotations

import json
import time

from aiohttp import web

from bot.bridge import records
from bot.bridge.syncback import SyncBack
from bot.clock import Clock
from bot.storage.store import Store
from servicenow.callback import SIGNATURE_HEADER, SignatureError, verify_signature


def make_servicenow_events_handler(sync: SyncBack, secrets: list[str], store: Store, clock: Clock):  # type: ignore[no-untyped-def]
    async def events(request: web.Request) -> web.Response:
        if not secrets:
            return web.json_response({"error": "callbacks are not configured"}, status=404)
        body = await request.read()
        try:
            verify_signature(request.headers.get(SIGNATURE_HEADER), body, secrets, now=time.time())
        except SignatureError as error:
            return web.json_response({"error": "signature rejected", "reason": error.reason}, status=401)
        try:
            payload = json.loads(body)
            sys_id = str(payload["sys_id"])
            mod_count = int(payload.get("sys_mod_count", -1))
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "body must be JSON with sys_id and sys_mod_count"}, status=400)
        async with store.write() as connection:
            first = await records.first_sight(
                store, connection, f"snevent|{sys_id}|{mod_count}", "servicenow_event", clock.now()
            )
        if not first:
            return web.json_response({"status": "duplicate"}, status=200)
        sync.spawn(sys_id)
        return web.json_response({"status": "accepted"}, status=202)

    return events
