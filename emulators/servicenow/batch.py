"""The emulated Batch API: ``POST /api/now/v1/batch`` (any ``/api/now/v{N}/batch``, and unversioned).

pysnc sends its batched updates and deletes (``update_multiple``, ``delete_multiple``) and very long
queries this way. The request is ``{"batch_request_id", "rest_requests": [{"id", "method", "url",
"headers": [{"name", "value"}], "body": <base64>, "exclude_response_headers"}]}``; the answer is
``{"batch_request_id": <as a string>, "serviced_requests": [{"id", "status_code", "status_text",
"headers", "body": <base64>, "execution_time"}], "unserviced_requests": [<id>, ...]}``.

Each item is served by the same code as a direct Table API call (:func:`serve_table_call`), as
the user who sent the batch. The batch itself passes the authentication, fault and header checks
once; an item without ``Accept`` is read as ``application/json`` (pysnc prepares its items outside
its session, so they carry no ``Accept``). A malformed item with a usable ``id`` is answered in its
own ``serviced_requests`` entry (400), never by failing its neighbours; a batch whose shape cannot
be read at all is a 400 with the error envelope. ``EmulatorConfig.batch_max_requests`` makes the
emulator stop early and list the rest as unserviced, as a real instance does at its size or time
limits.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from emulators.servicenow.api import (
    CONFIG_KEY,
    FAULTS_KEY,
    STORE_KEY,
    USER_KEY,
    TableCall,
    base_url,
    error_response,
    header_problem,
    serve_table_call,
)

__all__ = ["add_batch_routes", "batch_endpoint"]

_TABLE_PATH = re.compile(r"/api/now(?:/v[0-9]+)?/table/([^/]+)(?:/([^/]+))?/?")
_BATCH_PATH = re.compile(r"/api/now(?:/v[0-9]+)?/batch/?")
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class BatchError(ValueError):
    """The batch (or one item of it) cannot be read; the message is safe to return."""


@dataclass(frozen=True)
class BatchItem:
    id: str
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str | None
    exclude_response_headers: bool


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise BatchError(f"{what} must be a string")
    return value


def _item(index: int, raw: Any) -> BatchItem | tuple[str, str]:
    """One ``rest_requests`` entry; (id, reason) when it has an id but is otherwise unusable."""
    where = f"rest_requests[{index}]"
    if not isinstance(raw, dict):
        raise BatchError(f"{where} must be an object")
    item_id = raw.get("id")
    if isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)
    if not isinstance(item_id, str) or not item_id:
        raise BatchError(f"{where}.id is required and must be a string")
    try:
        method = _text(raw.get("method"), "method").upper()
        if method not in _METHODS:
            raise BatchError("method must be GET, POST, PUT, PATCH or DELETE")
        url = _text(raw.get("url"), "url")
        headers_raw = raw.get("headers", [])
        if not isinstance(headers_raw, list):
            raise BatchError("headers must be a list of {name, value}")
        headers = []
        for header in headers_raw:
            if not isinstance(header, dict):
                raise BatchError("headers must be a list of {name, value}")
            headers.append(
                (_text(header.get("name"), "header name"), _text(header.get("value"), "header value"))
            )
        body = raw.get("body")
        if body is not None:
            _text(body, "body")
        exclude = raw.get("exclude_response_headers", False)
        if not isinstance(exclude, bool):
            raise BatchError("exclude_response_headers must be true or false")
    except BatchError as exc:
        return item_id, str(exc)
    return BatchItem(item_id, method, url, tuple(headers), body, exclude)


def _parse(body: bytes) -> tuple[str, list[BatchItem | tuple[str, str]]]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BatchError("The payload is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BatchError("The payload must be a JSON object.")
    batch_id = data.get("batch_request_id")
    if batch_id is None:
        batch_id = ""
    if isinstance(batch_id, dict | list):
        raise BatchError("batch_request_id must be a string")
    requests = data.get("rest_requests")
    if not isinstance(requests, list):
        raise BatchError("rest_requests is required and must be a list")
    # pysnc sends the id as a number and compares the answer with str(id).
    shown = batch_id if isinstance(batch_id, str) else json.dumps(batch_id)
    return shown, [_item(index, raw) for index, raw in enumerate(requests)]


def _serve(request: web.Request, item: BatchItem) -> web.Response:
    try:
        url = URL(item.url)
    except (ValueError, TypeError):
        return error_response(400, "Invalid URL", "rest_requests.url must be a relative URL")
    if url.is_absolute() or not url.path.startswith("/"):
        return error_response(400, "Invalid URL", "rest_requests.url must be a relative URL")
    if _BATCH_PATH.fullmatch(url.path):
        return error_response(400, "Invalid URL", "A batch cannot contain another batch")
    match = _TABLE_PATH.fullmatch(url.path)
    if match is None:
        return error_response(400, "Requested URI does not represent any resource", None)
    headers: CIMultiDict[str] = CIMultiDict(item.headers)
    headers.setdefault("Accept", "application/json")
    try:
        body = base64.b64decode(item.body, validate=True) if item.body else b""
    except (binascii.Error, ValueError):
        return error_response(400, "Exception while reading request", "rest_requests.body must be base64")
    problem = header_problem(item.method, headers, bool(body))
    if problem is not None:
        return problem
    call = TableCall(
        method=item.method,
        table=match.group(1),
        sys_id=match.group(2),
        path=url.path,
        query=url.query,
        headers=headers,
        body=body,
        user=request[USER_KEY],
        base_url=base_url(request),
        store=request.app[STORE_KEY],
        faults=request.app[FAULTS_KEY],
    )
    return serve_table_call(call)


def _serviced(item_id: str, response: web.Response, elapsed_ms: int, exclude_headers: bool) -> dict[str, Any]:
    raw = response.body
    body = bytes(raw) if isinstance(raw, bytes | bytearray) else b""
    headers = [] if exclude_headers else [{"name": k, "value": v} for k, v in response.headers.items()]
    if not exclude_headers and body and "Content-Type" not in response.headers:
        headers.append({"name": "Content-Type", "value": response.content_type})
    serviced: dict[str, Any] = {
        "id": item_id,
        "body": base64.b64encode(body).decode("ascii"),
        "status_code": response.status,
        "status_text": response.reason,
        "headers": headers,
        "execution_time": elapsed_ms,
    }
    if response.status >= 400 and body:
        error = json.loads(body).get("error") or {}
        serviced["error_message"] = str(error.get("message", ""))
    return serviced


async def batch_endpoint(request: web.Request) -> web.Response:
    try:
        batch_id, items = _parse(await request.read())
    except BatchError as exc:
        return error_response(400, "Exception while reading request", str(exc))
    cap = request.app[CONFIG_KEY].batch_max_requests
    serviced: list[dict[str, Any]] = []
    unserviced: list[str] = []
    for item in items:
        item_id = item.id if isinstance(item, BatchItem) else item[0]
        if cap and len(serviced) >= cap:
            unserviced.append(item_id)
            continue
        started = time.perf_counter()
        if isinstance(item, BatchItem):
            response = _serve(request, item)
            exclude = item.exclude_response_headers
        else:
            response = error_response(400, "Exception while reading request", item[1])
            exclude = False
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        serviced.append(_serviced(item_id, response, elapsed_ms, exclude))
    return web.json_response(
        {"batch_request_id": batch_id, "serviced_requests": serviced, "unserviced_requests": unserviced}
    )


def add_batch_routes(app: web.Application) -> None:
    app.router.add_post("/api/now/batch", batch_endpoint)
    app.router.add_post("/api/now/{version:v[0-9]+}/batch", batch_endpoint)
