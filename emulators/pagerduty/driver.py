"""The driver API under ``/_emulator`` (no auth): what tests and the sandbox use to steer the account.

``GET /_emulator/state``            users, schedules (with layers), policies, the on-call source
``PUT /_emulator/oncalls``          ``{"oncalls": [{"user": id-or-email, "schedule": id|null,
                                    "escalation_level": 1, "escalation_policy": id (optional),
                                    "start": ISO|null, "end": ISO|null}, ...]}`` replaces the on-calls
``DELETE /_emulator/oncalls``       back to the configured source (the rotation by default)
``GET|DELETE /_emulator/calls``     method, path and status of recent API calls
``POST /_emulator/reset``           faults, on-calls and the call log back to their start
``GET|POST|DELETE /_emulator/faults`` see :mod:`emulators.injected_faults`
"""

from __future__ import annotations

import json

from aiohttp import web

from emulators.injected_faults import add_fault_routes
from emulators.pagerduty.account import AccountError
from emulators.pagerduty.api import ACCOUNT_KEY, CALLS_KEY, FAULTS_KEY

__all__ = ["add_driver_routes"]


async def get_state(request: web.Request) -> web.Response:
    view = request.app[ACCOUNT_KEY].view()
    view["faults"] = request.app[FAULTS_KEY].active
    return web.json_response(view)


async def put_oncalls(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT_KEY]
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.json_response({"error": "body must be a JSON object"}, status=400)
    if not isinstance(body, dict) or "oncalls" not in body:
        return web.json_response({"error": 'body must be {"oncalls": [...]}'}, status=400)
    try:
        account.replace_oncalls(body["oncalls"])
    except AccountError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(account.view())


async def delete_oncalls(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT_KEY]
    account.restore_oncalls()
    return web.json_response(account.view())


async def get_calls(request: web.Request) -> web.Response:
    return web.json_response(request.app[CALLS_KEY].view())


async def delete_calls(request: web.Request) -> web.Response:
    request.app[CALLS_KEY].clear()
    return web.json_response([])


async def reset(request: web.Request) -> web.Response:
    request.app[FAULTS_KEY].clear()
    request.app[CALLS_KEY].clear()
    request.app[ACCOUNT_KEY].restore_oncalls()
    return web.json_response({})


def add_driver_routes(app: web.Application) -> None:
    app.router.add_get("/_emulator/state", get_state)
    app.router.add_put("/_emulator/oncalls", put_oncalls)
    app.router.add_delete("/_emulator/oncalls", delete_oncalls)
    app.router.add_get("/_emulator/calls", get_calls)
    app.router.add_delete("/_emulator/calls", delete_calls)
    app.router.add_post("/_emulator/reset", reset)
    add_fault_routes(app, FAULTS_KEY)
