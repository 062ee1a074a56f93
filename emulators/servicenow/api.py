"""The emulated Table API: ``/api/now/table/{table}[/{sys_id}]`` (and ``/api/now/v1|v2/table/...``).

Follows the documented behaviour the bridge, pysnow and pysnc depend on: string values,
``{link, value}`` reference objects, the three ``sysparm_display_value`` modes (``all`` gives every
field as ``{"display_value", "value"}``, references also ``link`` unless
``sysparm_exclude_reference_link=true``), ``sysparm_fields`` (dot-walks included),
``sysparm_limit``/``sysparm_offset`` paging with ``X-Total-Count`` and ``Link`` headers (``Link``
dropped by ``sysparm_suppress_pagination_header``, the count by ``sysparm_no_count``), 201 +
``Location`` on create, 204 on delete and the ``{"error": {...}, "status": "failure"}`` envelope.
Query-ish parameters (``sysparm_query``, limit, offset, name/value filters) only mean something on
GET list: pysnow sends the previous GET's parameters along with POST and PUT.

Every Table API call is a :class:`TableCall` served by :func:`serve_table_call`, a plain function
of the request's parts, so the Batch API (:mod:`emulators.servicenow.batch`) serves its embedded
requests through exactly the same code as direct ones.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiMapping

from emulators.servicenow.config import EmulatorConfig
from emulators.servicenow.encoded_query import Condition, matches, parse_encoded_query, sort_rows
from emulators.servicenow.faults import FaultError, FaultState
from emulators.servicenow.store import (
    CHOICES,
    COLUMNS,
    JOURNAL_FIELDS,
    REFERENCES,
    TableStore,
    UnknownTable,
    as_text,
)

__all__ = [
    "CONFIG_KEY",
    "FAULTS_KEY",
    "STORE_KEY",
    "USER_KEY",
    "TableCall",
    "add_table_api_routes",
    "base_url",
    "error_response",
    "header_problem",
    "serve_table_call",
    "table_api_middleware",
]

log = logging.getLogger("emulators.servicenow")

STORE_KEY = web.AppKey("servicenow_store", TableStore)
FAULTS_KEY = web.AppKey("servicenow_faults", FaultState)
CONFIG_KEY = web.AppKey("servicenow_config", EmulatorConfig)
USER_KEY = web.RequestKey("servicenow_user", str)

DEFAULT_LIMIT = 10000
_MESSAGES: dict[int, tuple[str, str | None]] = {
    400: ("Bad Request", "The request could not be processed"),
    401: ("User Not Authenticated", "Required to provide Auth information"),
    403: ("Operation Failed", "ACL Exception {verb} Failed due to security constraints"),
    404: ("No Record found", "Record doesn't exist or ACL restricts the record retrieval"),
    405: ("Method not Supported", None),
    406: ("Requested response format not supported", "Accept header must allow application/json"),
    415: ("Unsupported Media Type", "Content-Type must be application/json"),
    429: ("Rate limit exceeded", "Rate limit of {limit} requests per hour for Table API exceeded"),
    500: ("Internal Server Error", None),
    502: ("Bad Gateway", None),
    503: ("Service Unavailable", "The instance is temporarily unavailable"),
    504: ("Gateway Timeout", None),
}
_VERBS = {"GET": "Read", "POST": "Insert", "PUT": "Update", "PATCH": "Update", "DELETE": "Delete"}


def error_response(
    status: int,
    message: str | None = None,
    detail: str | None = None,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    limit: str = "",
) -> web.Response:
    default_message, default_detail = _MESSAGES.get(status, ("Request failed", None))
    if message is None:
        message = default_message
        if default_detail is not None:
            detail = default_detail.format(verb=_VERBS.get(method, "Read"), limit=limit or "N")
    body = {"error": {"message": message, "detail": detail}, "status": "failure"}
    return web.json_response(body, status=status, headers=headers)


def base_url(request: web.Request) -> str:
    configured = request.app[CONFIG_KEY].public_base_url.rstrip("/")
    return configured or f"{request.scheme}://{request.host}"


@dataclass(frozen=True)
class TableCall:
    """One Table API request, from the wire or from a Batch API item."""

    method: str
    table: str
    sys_id: str | None
    path: str
    query: MultiMapping[str]
    headers: Mapping[str, str]
    body: bytes
    user: str
    base_url: str
    store: TableStore
    faults: FaultState

    def flag(self, name: str) -> bool:
        # pysnow sends "True"/"False", pysnc "true"/"false"; empty values mean the default (false).
        return self.query.get(name, "").strip().lower() == "true"

    @property
    def display_mode(self) -> str:
        value = self.query.get("sysparm_display_value", "").strip().lower()
        return value if value in ("true", "all") else "false"


# ---- authentication, headers and fault middleware -------------------------------------------


def _authenticated_user(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not sep:
        return None
    expected = request.app[CONFIG_KEY].logins.get(user)
    if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
        return None
    return user


def _accepts_json(accept: str) -> bool:
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ("application/json", "*/*", "application/*", "application/x-www-form-urlencoded"):
            return True
    return False


def header_problem(method: str, headers: Mapping[str, str], has_body: bool) -> web.Response | None:
    """The 400/406/415 a call's Accept and Content-Type earn, or None when they are fine."""
    accept = headers.get("Accept")
    if accept is None:
        return error_response(400, "Accept header is required", "Send Accept: application/json")
    if not _accepts_json(accept):
        return error_response(406)
    if method in ("POST", "PUT", "PATCH") and has_body:
        content_type = headers.get("Content-Type")
        if content_type is None:
            return error_response(400, "Content-Type header is required", "Send application/json")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return error_response(415)
    return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def table_api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/now/"):
        return await handler(request)
    faults = request.app[FAULTS_KEY]
    faults.requests += 1
    faults.in_flight += 1
    faults.max_in_flight = max(faults.max_in_flight, faults.in_flight)
    started = faults.now()
    status = 0
    try:
        response = await _guarded(request, handler, faults)
        status = response.status
        return response
    finally:
        faults.in_flight -= 1
        faults.calls.append((started, request.method, request.path, status))


async def _guarded(request: web.Request, handler: Handler, faults: FaultState) -> web.StreamResponse:
    if faults.latency_s > 0:
        await asyncio.sleep(faults.latency_s)
    if faults.outage:
        return error_response(503, method=request.method)
    status = faults.take_status()
    if status is not None:
        return error_response(status, method=request.method)
    user = _authenticated_user(request)
    if user is None:
        return error_response(401, headers={"WWW-Authenticate": 'Basic realm="Service-now"'})
    request[USER_KEY] = user
    decision = faults.check_rate_limit()
    if decision is not None and not decision.allowed:
        headers = dict(decision.headers)
        return error_response(429, method=request.method, headers=headers, limit=headers["X-RateLimit-Limit"])
    problem = header_problem(request.method, request.headers, request.can_read_body)
    if problem is not None:
        return problem
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        return error_response(400, "Requested URI does not represent any resource", None)
    except web.HTTPMethodNotAllowed:
        return error_response(405, method=request.method)
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "Request entity too large", None)
    if decision is not None:
        response.headers.update(decision.headers)
    delay = faults.take_drop(request.method) if response.status < 400 else None
    if delay is not None:
        # The write is committed; now lose the reply, as a proxy timeout or a reset would.
        if delay > 0:
            await asyncio.sleep(delay)
        log.info("emulator: dropping the reply of a committed %s (fault)", request.method)
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    return response


# ---- rendering -----------------------------------------------------------------------------


class _Renderer:
    def __init__(self, call: TableCall):
        self.store = call.store
        self.table = call.table
        self.base = call.base_url
        self.display = call.display_mode
        self.exclude_links = call.flag("sysparm_exclude_reference_link")
        requested = [f.strip() for f in call.query.get("sysparm_fields", "").split(",") if f.strip()]
        self.fields = [f for f in dict.fromkeys(requested) if self._known_path(call.table, f)] or None

    def _known_path(self, table: str, path: str) -> bool:
        head, _, rest = path.partition(".")
        if not self.store.has_field(table, head):
            return False
        if not rest:
            return True
        target = REFERENCES[table].get(head)
        return target is not None and self._known_path(target, rest)

    def _walk(
        self, table: str, row: dict[str, str] | None, path: str
    ) -> tuple[str, dict[str, str] | None, str]:
        head, _, rest = path.partition(".")
        if not rest:
            return table, row, head
        target = REFERENCES[table][head]
        referenced = None if row is None else self.store.get(target, row.get(head, ""))
        return self._walk(target, referenced, rest)

    def field(self, row: dict[str, str], path: str) -> Any:
        table, target_row, name = self._walk(self.table, row, path)
        value = "" if target_row is None else target_row.get(name, "")
        if table == "incident" and name in JOURNAL_FIELDS:
            value = ""  # journal fields are write-only through the Table API
        reference = REFERENCES[table].get(name)
        if reference is not None:
            if not value:
                return {"display_value": "", "value": ""} if self.display == "all" else ""
            link = f"{self.base}/api/now/table/{reference}/{value}"
            shown = self.store.display_of(reference, value)
            if self.display == "false":
                return value if self.exclude_links else {"link": link, "value": value}
            if self.display == "true":
                return shown if self.exclude_links else {"display_value": shown, "link": link}
            out = {"display_value": shown, "value": value}
            if not self.exclude_links:
                out["link"] = link
            return out
        if self.display == "false":
            return value
        shown = CHOICES.get(table, {}).get(name, {}).get(value, value)
        if self.display == "true":
            return shown
        return {"display_value": shown, "value": value}

    def record(self, row: dict[str, str]) -> dict[str, Any]:
        names = self.fields
        if names is None:
            names = list(COLUMNS[self.table]) + sorted(k for k in row if k.startswith("u_"))
        return {name: self.field(row, name) for name in names}


# ---- handlers ------------------------------------------------------------------------------


def _int_param(call: TableCall, name: str, default: int) -> int:
    try:
        value = int(call.query.get(name, ""))
    except ValueError:
        return default
    return value if value >= 0 else default


def list_records(call: TableCall) -> web.Response:
    store = call.store
    table = call.table
    parsed = parse_encoded_query(call.query.get("sysparm_query", ""))
    # Name/value filters (&active=true) are AND-ed into every OR-ed part of the query.
    filters = [
        [Condition(name, "=", value)]
        for name, value in call.query.items()
        if not name.startswith("sysparm_") and store.has_field(table, name.partition(".")[0])
    ]
    if filters:
        parsed.groups = [group + filters for group in parsed.groups] or [filters]
    rows = [
        row for row in store.rows(table) if matches(parsed, functools.partial(_value_of, store, table, row))
    ]
    rows = sort_rows(rows, parsed.order, lambda row, path: store.value_at(table, row, path) or "")
    total = len(rows)
    limit = _int_param(call, "sysparm_limit", DEFAULT_LIMIT) or DEFAULT_LIMIT
    offset = _int_param(call, "sysparm_offset", 0)
    page = rows[offset : offset + limit]
    renderer = _Renderer(call)
    headers: dict[str, str] = {}
    if not call.flag("sysparm_no_count"):
        headers["X-Total-Count"] = str(total)
    if not call.flag("sysparm_suppress_pagination_header"):
        headers["Link"] = _link_header(call, total, limit, offset)
    return web.json_response({"result": [renderer.record(r) for r in page]}, headers=headers)


def _link_header(call: TableCall, total: int, limit: int, offset: int) -> str:
    base = f"{call.base_url}{call.path}"

    def url(at: int) -> str:
        params = {k: v for k, v in call.query.items() if k not in ("sysparm_offset", "sysparm_limit")}
        params.update(sysparm_offset=str(at), sysparm_limit=str(limit))
        # A query string may carry lone surrogates (undecodable %-escapes); keep them as escapes.
        return f"<{base}?{urlencode(params, errors='surrogatepass')}>"

    last = max(0, (total - 1) // limit * limit)
    links = [f'{url(0)};rel="first"']
    if offset > 0:
        links.append(f'{url(max(0, offset - limit))};rel="prev"')
    if offset + limit < total:
        links.append(f'{url(offset + limit)};rel="next"')
    links.append(f'{url(last)};rel="last"')
    return ",".join(links)


def get_record(call: TableCall) -> web.Response:
    row = call.store.get(call.table, call.sys_id or "")
    if row is None:
        return error_response(404)
    return web.json_response({"result": _Renderer(call).record(row)})


def _json_body(call: TableCall) -> dict[str, Any] | web.Response:
    try:
        body = json.loads(call.body.decode("utf-8")) if call.body.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return error_response(400, "Exception while reading request", "The payload is not valid JSON.")
    if not isinstance(body, dict):
        return error_response(400, "Exception while reading request", "The payload must be a JSON object.")
    return body


def _guarded_fields(call: TableCall, body: dict[str, Any]) -> dict[str, Any] | web.Response:
    """Apply the ``refuse_fields`` fault: refuse the write, or leave the guarded fields out."""
    refusal = call.faults.field_refusal
    if refusal is None:
        return body
    hit = sorted(name for name in refusal.fields if name in body and as_text(body[name]).strip())
    if not hit:
        return body
    if refusal.silent:
        return {name: value for name, value in body.items() if name not in hit}
    if refusal.status == 400:
        return error_response(
            400, "Data Policy Exception", f"The following fields are read only: {', '.join(hit)}"
        )
    return error_response(403, method=call.method)


def _write_answer(call: TableCall, row: dict[str, str], status: int) -> web.Response:
    headers = {}
    if status == 201:
        headers["Location"] = f"{call.base_url}/api/now/table/{call.table}/{row['sys_id']}"
    if call.headers.get("X-no-response-body", "").lower() == "true":
        return web.Response(status=status, headers=headers)
    return web.json_response({"result": _Renderer(call).record(row)}, status=status, headers=headers)


def create_record(call: TableCall) -> web.Response:
    body = _json_body(call)
    if isinstance(body, dict):
        body = _guarded_fields(call, body)
    if isinstance(body, web.Response):
        return body
    row = call.store.insert(
        call.table, body, user=call.user, input_display_value=call.flag("sysparm_input_display_value")
    )
    if call.table == "incident":
        log.info("emulator: created %s %s", row["number"], row["sys_id"])
    return _write_answer(call, row, 201)


def update_record(call: TableCall) -> web.Response:
    body = _json_body(call)
    if isinstance(body, dict):
        body = _guarded_fields(call, body)
    if isinstance(body, web.Response):
        return body
    row = call.store.update(
        call.table,
        call.sys_id or "",
        body,
        user=call.user,
        input_display_value=call.flag("sysparm_input_display_value"),
    )
    if row is None:
        return error_response(404)
    return _write_answer(call, row, 200)


def delete_record(call: TableCall) -> web.Response:
    try:
        deleted = call.store.delete(call.table, call.sys_id or "")
    except UnknownTable:
        deleted = False
    if not deleted:
        return error_response(404)
    return web.Response(status=204)


_COLLECTION = {"GET": list_records, "POST": create_record}
_RECORD = {"GET": get_record, "PUT": update_record, "PATCH": update_record, "DELETE": delete_record}


def serve_table_call(call: TableCall) -> web.Response:
    """Answer one authenticated Table API call whose headers have been checked."""
    if call.table not in COLUMNS:
        return error_response(400, f"Invalid table {call.table}", None)
    handlers = _COLLECTION if call.sys_id is None else _RECORD
    handler = handlers.get(call.method)
    if handler is None:
        return error_response(405, method=call.method)
    return handler(call)


async def table_endpoint(request: web.Request) -> web.Response:
    call = TableCall(
        method=request.method,
        table=request.match_info["table"],
        sys_id=request.match_info.get("sys_id"),
        path=request.path,
        query=request.query,
        headers=request.headers,
        body=await request.read() if request.can_read_body else b"",
        user=request[USER_KEY],
        base_url=base_url(request),
        store=request.app[STORE_KEY],
        faults=request.app[FAULTS_KEY],
    )
    return serve_table_call(call)


# ---- fault injection endpoints (no auth) ----------------------------------------------------


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[FAULTS_KEY].active)


async def post_faults(request: web.Request) -> web.Response:
    try:
        patch = await request.json()
        active = request.app[FAULTS_KEY].merge(patch)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.json_response({"error": "body must be a JSON object"}, status=400)
    except FaultError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    log.info("emulator: faults now %s", sorted(active))
    return web.json_response(active)


async def delete_faults(request: web.Request) -> web.Response:
    request.app[FAULTS_KEY].clear()
    return web.json_response({})


async def get_stats(request: web.Request) -> web.Response:
    faults = request.app[FAULTS_KEY]
    return web.json_response(
        {"requests": faults.requests, "in_flight": faults.in_flight, "max_in_flight": faults.max_in_flight}
    )


async def reset_stats(request: web.Request) -> web.Response:
    faults = request.app[FAULTS_KEY]
    faults.requests = faults.max_in_flight = 0
    return web.json_response({})


def add_table_api_routes(app: web.Application) -> None:
    for prefix in ("/api/now/table", "/api/now/{version:v[0-9]+}/table"):
        app.router.add_get(prefix + "/{table}", table_endpoint)
        app.router.add_post(prefix + "/{table}", table_endpoint)
        app.router.add_get(prefix + "/{table}/{sys_id}", table_endpoint)
        app.router.add_put(prefix + "/{table}/{sys_id}", table_endpoint)
        app.router.add_patch(prefix + "/{table}/{sys_id}", table_endpoint)
        app.router.add_delete(prefix + "/{table}/{sys_id}", table_endpoint)
    app.router.add_get("/_emulator/faults", get_faults)
    app.router.add_post("/_emulator/faults", post_faults)
    app.router.add_delete("/_emulator/faults", delete_faults)
    app.router.add_get("/_emulator/stats", get_stats)
    app.router.add_delete("/_emulator/stats", reset_stats)


def _value_of(store: Any, table: str, row: Any, path: str) -> Any:
    """One row's value at a dotted path (the encoded-query matcher's accessor)."""
    return store.value_at(table, row, path)
