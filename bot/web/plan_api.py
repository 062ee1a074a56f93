"""The rollout plan over HTTP, for delivery managers' scripts and flows (Power Automate, CI jobs).

Routes (JSON unless said otherwise; the OpenAPI 3 description is served at ``/api/openapi.json``):

=======================================  =========================================================
``GET  /api/plan``                       the plan (``schedule show --format json`` rows, with
                                         ``status``); ``Accept: text/csv`` gives the rollout CSV
``POST /api/plan/import``                a rollout CSV body; ``?mode=merge|replace``,
                                         ``?dry_run=true``, ``?force=true`` (the CLI's rules)
``GET  /api/plan/preview?from=&to=``     the channel actions the plan implies (preview JSON)
``GET  /api/audit``                      the audit trail, newest first; ``?since=&action=&site=&limit=``
``GET  /api/openapi.json``               this API's description (no token needed)
=======================================  =========================================================

Every route but the description needs ``Authorization: Bearer <token>`` with a token of
``GOLIVE_API_TOKENS`` (``name:token,...``); the token's name is the audit trail's actor
(``api:<name>``). Without a configured token every call is refused: the API is never open.

Answers to bad input, never a 5xx (imports go through ``bot.bridge.plan_changes``, like the CLI):

====  ======================================================================================
400   a query parameter is missing or malformed: ``{"error"}``
401   no or unknown bearer token: ``{"error"}`` and ``WWW-Authenticate: Bearer``
406   ``Accept`` asks for neither JSON nor CSV
409   the import would pull sites whose channel is open: ``{"error", "open_sites", ...}``
413   the body is larger than 1 MiB
422   the CSV has bad rows: ``{"errors": [{"line", "reason"}]}`` (the header is line 1)
====  ======================================================================================
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.bridge import plan_changes
from bot.bridge.audit_trail import AuditFilterError, AuditQuery, check_action, check_station, read_audit
from bot.clock import Clock
from bot.inbound import MAX_BODY_BYTES, BodyRejected, read_body
from bot.storage.store import Store
from schedule.csvio import export_rollout_csv, parse_rollout_csv
from schedule.errors import CsvImportError
from schedule.preview import preview, preview_json

AUDIT_LIMIT = 100
MAX_AUDIT_LIMIT = 1000
CSV = "text/csv"
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", ""})


@dataclass(frozen=True)
class PlanApi:
    """What the routes need, built once by the composition root."""

    store: Store
    clock: Clock
    rules: plan_changes.PlanRules
    tokens: Mapping[str, str]  # token -> name


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _error(status: int, message: str) -> ApiError:
    return ApiError(status, {"error": message})


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


# --- request pieces ----------------------------------------------------------------------------------


def caller(request: web.Request, tokens: Mapping[str, str]) -> str:
    """The name of the bearer token, or a 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    given = given.strip()
    name = None
    if scheme.lower() == "bearer" and given:
        for token, token_name in tokens.items():
            # Compare every token, so the time taken says nothing about which one nearly matched.
            if hmac.compare_digest(given.encode(), token.encode()):
                name = token_name
    if name is None:
        raise ApiError(
            401,
            {"error": "a valid bearer token is required (GOLIVE_API_TOKENS)"},
            {"WWW-Authenticate": 'Bearer realm="golive-plan-api"'},
        )
    return name


def _flag(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _error(400, f"{name} must be true or false")


def _instant(request: web.Request, name: str, required: bool) -> datetime | None:
    value = request.query.get(name, "").strip()
    if not value:
        if required:
            raise _error(400, f"{name} is required (an ISO 8601 instant, e.g. 2022-05-02T00:00:00Z)")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise _error(400, f"{name} is not an ISO 8601 instant (e.g. 2022-05-02T00:00:00Z)") from None


def _wants_csv(request: web.Request) -> bool:
    """True when ``Accept`` prefers ``text/csv``; JSON otherwise; 406 when it accepts neither."""
    accept = request.headers.get("Accept", "")
    if not accept.strip():
        return False
    best, best_q = None, 0.0
    for part in accept.split(","):
        media, *params = (piece.strip().lower() for piece in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = min(1.0, max(0.0, float(param[2:])))
                except ValueError:
                    q = 0.0
        kind = {"text/csv": "csv", "text/*": "csv", "application/json": "json", "application/*": "json"}.get(
            media, "json" if media == "*/*" else None
        )
        if kind is not None and q > best_q:  # the first of equally preferred types wins
            best, best_q = kind, q
    if best is None:
        raise _error(406, "this resource is served as application/json or text/csv")
    return best == "csv"


# --- handlers ---------------------------------------------------------------------------------------


Handler = Callable[[web.Request], Any]


def routes(api: PlanApi) -> list[web.RouteDef]:
    def guarded(handler: Callable[[web.Request, str], Any], *, open_: bool = False) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                name = "" if open_ else caller(request, api.tokens)
                response: web.StreamResponse = await handler(request, name)
                return response
            except ApiError as error:
                response = _json(error.body, error.status)
                response.headers.update(error.headers)
                return response

        return run

    async def get_plan(request: web.Request, name: str) -> web.Response:
        wants_csv = _wants_csv(request)
        async with api.store.read() as connection:
            plan, states = await plan_changes.load_state(connection)
        if wants_csv:
            return web.Response(
                text=export_rollout_csv(plan),
                content_type=CSV,
                charset="utf-8",
                headers={"Cache-Control": "no-store"},
            )
        return _json(plan_changes.plan_rows(plan, api.rules.window, states))

    async def import_csv(request: web.Request, name: str) -> web.Response:
        mode_text = request.query.get("mode", "merge").strip().lower() or "merge"
        if mode_text not in plan_changes.IMPORT_MODES:
            raise _error(400, "mode must be merge or replace")
        mode: plan_changes.ImportMode = "replace" if mode_text == "replace" else "merge"
        dry_run, force = _flag(request, "dry_run"), _flag(request, "force")
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyRejected as rejected:
            raise _error(rejected.status, rejected.reason) from None
        try:
            incoming = parse_rollout_csv(body)
        except CsvImportError as error:
            raise ApiError(
                422, {"errors": [{"line": e.line, "reason": e.reason} for e in error.errors]}
            ) from None
        try:
            result = await plan_changes.import_plan(
                api.store,
                incoming,
                mode=mode,
                force=force,
                dry_run=dry_run,
                actor=f"api:{name}",
                source="an API upload",
                now=api.clock.now(),
                rules=api.rules,
            )
        except plan_changes.OpenSitesPulled as refusal:
            body_out = {
                "error": f"nothing was changed: {refusal} (add force=true to pull them anyway)",
                "open_sites": [{"station": s.station, "name": s.name} for s in refusal.sites],
                "mode": mode,
                "dry_run": dry_run,
                "applied": False,
                **refusal.proposal.as_json(),
            }
            raise ApiError(409, body_out) from None
        return _json(result.as_json())

    async def get_preview(request: web.Request, name: str) -> web.Response:
        start, end = _instant(request, "from", True), _instant(request, "to", True)
        assert start is not None and end is not None
        async with api.store.read() as connection:
            plan, _ = await plan_changes.load_state(connection)
        return web.Response(
            text=preview_json(preview(plan, api.rules.window, start, end)),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    async def get_audit(request: web.Request, name: str) -> web.Response:
        since = _instant(request, "since", False)
        try:
            action = check_action(request.query["action"]) if request.query.get("action") else None
            station = check_station(request.query["site"]) if request.query.get("site") else None
        except AuditFilterError as error:
            raise _error(400, str(error)) from None
        limit_text = request.query.get("limit", "").strip()
        if limit_text and not (limit_text.isdigit() and 1 <= int(limit_text) <= MAX_AUDIT_LIMIT):
            raise _error(400, f"limit must be a whole number from 1 to {MAX_AUDIT_LIMIT}")
        query = AuditQuery(since, action, station, int(limit_text) if limit_text else AUDIT_LIMIT)
        async with api.store.read() as connection:
            entries = await read_audit(connection, query)
        return _json([entry.as_json() for entry in entries])

    async def openapi(request: web.Request, name: str) -> web.Response:
        return _json(openapi_description())

    return [
        web.get("/api/plan", guarded(get_plan)),
        web.post("/api/plan/import", guarded(import_csv)),
        web.get("/api/plan/preview", guarded(get_preview)),
        web.get("/api/audit", guarded(get_audit)),
        web.get("/api/openapi.json", guarded(openapi, open_=True)),
    ]


def install(app: web.Application, api: PlanApi) -> None:
    app.router.add_routes(routes(api))


# --- the OpenAPI description -----------------------------------------------------------------------


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


_UNAUTHORIZED = {"401": _error_response("No or unknown bearer token")}
_BAD_QUERY = {"400": _error_response("A query parameter is missing or malformed")}
_INSTANT = {"type": "string", "format": "date-time"}


def openapi_description() -> dict[str, Any]:
    """The OpenAPI 3.0 description of this API (built by hand: five routes do not need a framework)."""
    change = {
        "type": "object",
        "required": ["kind", "station", "name", "text"],
        "properties": {
            "kind": {"type": "string", "enum": ["add", "restore", "pull", "move", "update"]},
            "station": {"type": "string"},
            "name": {"type": "string"},
            "changes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string"},
                        "old": {"type": "string"},
                        "new": {"type": "string"},
                    },
                },
            },
            "text": {"type": "string", "example": "add 600 Chicago (week 2022-06-06, go-live 2022-06-06)"},
        },
    }
    channel = {
        "type": "object",
        "required": ["kind", "station", "text"],
        "properties": {
            "kind": {"type": "string", "enum": ["open", "retire", "cancel", "rename", "move"]},
            "station": {"type": "string"},
            "name": {"type": "string"},
            "status": {"type": "string", "enum": ["planned", "open", "retired", "cancelled"]},
            "reason": {"type": "string"},
            "text": {"type": "string"},
        },
    }
    site = {"type": "object", "properties": {"station": {"type": "string"}, "name": {"type": "string"}}}
    import_result = {
        "type": "object",
        "required": ["mode", "dry_run", "applied", "summary", "changes", "channels"],
        "properties": {
            "mode": {"type": "string", "enum": ["merge", "replace"]},
            "dry_run": {"type": "boolean"},
            "applied": {
                "type": "boolean",
                "description": "false for a dry run or a file that changes nothing",
            },
            "action": {"type": "string", "example": "plan.import"},
            "summary": {"type": "string"},
            "changes": {"type": "array", "items": {"$ref": "#/components/schemas/PlanChange"}},
            "channels": {"type": "array", "items": {"$ref": "#/components/schemas/ChannelImpact"}},
            "open_sites_pulled": {"type": "array", "items": {"$ref": "#/components/schemas/Site"}},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Go Live Bridge plan API",
            "version": "1.0.0",
            "description": (
                "The rollout plan for delivery managers' scripts and flows. Imports follow the same rules "
                "as `golive schedule import`: merge by default, `mode=replace` makes the plan exactly the "
                "file and refuses to pull a site whose go-live channel is open unless `force=true`. Every "
                "change is audited under the name of the bearer token."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerToken": []}],
        "paths": {
            "/api/plan": {
                "get": {
                    "summary": "The rollout plan",
                    "operationId": "getPlan",
                    "responses": {
                        "200": {
                            "description": "Every planned and pulled site (JSON), or the rollout CSV of the planned sites",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/PlannedSite"},
                                    }
                                },
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        },
                        "406": _error_response("Accept asks for neither JSON nor CSV"),
                        **_UNAUTHORIZED,
                    },
                }
            },
            "/api/plan/import": {
                "post": {
                    "summary": "Import a rollout CSV (all or nothing)",
                    "operationId": "importPlan",
                    "parameters": [
                        _query(
                            "mode",
                            "merge (default) or replace",
                            {"type": "string", "enum": ["merge", "replace"], "default": "merge"},
                        ),
                        _query(
                            "dry_run",
                            "say what would change, change nothing",
                            {"type": "boolean", "default": False},
                        ),
                        _query(
                            "force",
                            "with mode=replace: pull sites whose channel is open",
                            {"type": "boolean", "default": False},
                        ),
                    ],
                    "requestBody": {
                        "required": True,
                        "description": "UTF-8 CSV: week_start,station,name,time_zone[,go_live_date]",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "Imported (or, for a dry run, what would change)",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/ImportResult"}}
                            },
                        },
                        "409": {
                            "description": "The import would pull sites whose go-live channel is open; nothing changed",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "allOf": [
                                            {"$ref": "#/components/schemas/ImportResult"},
                                            {
                                                "type": "object",
                                                "required": ["error", "open_sites"],
                                                "properties": {
                                                    "error": {"type": "string"},
                                                    "open_sites": {
                                                        "type": "array",
                                                        "items": {"$ref": "#/components/schemas/Site"},
                                                    },
                                                },
                                            },
                                        ]
                                    }
                                }
                            },
                        },
                        "413": _error_response("The body is larger than 1 MiB"),
                        "422": {
                            "description": "The CSV has bad rows; nothing changed",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/LineErrors"}}
                            },
                        },
                        **_BAD_QUERY,
                        **_UNAUTHORIZED,
                    },
                }
            },
            "/api/plan/preview": {
                "get": {
                    "summary": "The channel actions the plan implies in [from, to)",
                    "operationId": "previewPlan",
                    "parameters": [
                        _query("from", "start instant (ISO 8601)", _INSTANT, required=True),
                        _query("to", "end instant (ISO 8601, exclusive)", _INSTANT, required=True),
                    ],
                    "responses": {
                        "200": {
                            "description": "Channel actions sorted by instant",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/ChannelAction"},
                                    }
                                }
                            },
                        },
                        **_BAD_QUERY,
                        **_UNAUTHORIZED,
                    },
                }
            },
            "/api/audit": {
                "get": {
                    "summary": "The audit trail, newest first",
                    "operationId": "getAudit",
                    "parameters": [
                        _query("since", "only entries at or after this instant", _INSTANT),
                        _query("action", "an action (site.pull) or a family (site.*)", {"type": "string"}),
                        _query("site", "only entries about this station", {"type": "string"}),
                        _query(
                            "limit",
                            "at most this many entries",
                            {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_AUDIT_LIMIT,
                                "default": AUDIT_LIMIT,
                            },
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "Audit entries",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/AuditEntry"},
                                    }
                                }
                            },
                        },
                        **_BAD_QUERY,
                        **_UNAUTHORIZED,
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This description",
                    "operationId": "getOpenApi",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.0 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token of GOLIVE_API_TOKENS (name:token,...); the name is the audit actor",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "LineErrors": {
                    "type": "object",
                    "required": ["errors"],
                    "properties": {
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["line", "reason"],
                                "properties": {
                                    "line": {"type": "integer", "minimum": 1},
                                    "reason": {"type": "string"},
                                },
                            },
                        }
                    },
                },
                "PlannedSite": {
                    "type": "object",
                    "required": [
                        "week_start",
                        "station",
                        "name",
                        "time_zone",
                        "go_live_date",
                        "status",
                        "pulled",
                    ],
                    "properties": {
                        "week_start": {"type": "string", "format": "date"},
                        "station": {"type": "string"},
                        "name": {"type": "string"},
                        "time_zone": {"type": "string"},
                        "go_live_date": {"type": "string", "format": "date"},
                        "status": {
                            "type": "string",
                            "enum": ["planned", "open", "retired", "pulled", "cancelled"],
                        },
                        "pulled": {"type": "boolean"},
                        "opens_at": {"type": "string", "format": "date-time", "nullable": True},
                        "retires_at": {"type": "string", "format": "date-time", "nullable": True},
                    },
                },
                "PlanChange": change,
                "ChannelImpact": channel,
                "Site": site,
                "ImportResult": import_result,
                "ChannelAction": {
                    "type": "object",
                    "required": ["at", "action", "station", "name"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "action": {"type": "string", "enum": ["open", "retire"]},
                        "station": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
                "AuditEntry": {
                    "type": "object",
                    "required": ["at", "actor", "action", "detail"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "actor": {"type": "string"},
                        "action": {"type": "string", "example": "plan.import"},
                        "detail": {"type": "string"},
                    },
                },
            },
        },
    }
