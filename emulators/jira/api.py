"""The emulated Jira Cloud REST v3 subset.

``POST /rest/api/3/issue`` (201 ``{id, key, self}``), ``GET /rest/api/3/issue/{idOrKey}``,
``GET|POST /rest/api/3/search/jql`` (the enhanced search: ``nextPageToken`` paging, ``isLast``,
only issue ids unless ``fields`` are asked for, unbounded JQL refused) and
``GET /rest/api/3/myself``. The old ``/rest/api/{2,3}/search`` answers 410 Gone with Atlassian's
migration message, as Jira Cloud does since the endpoint was removed (CHANGE-2046).

Credentials are HTTP basic ``email:api_token``; anything else is 401 with Jira's plain-text
"Client must be authenticated to access this resource.". Refusals use the ErrorCollection
``{"errorMessages": [...], "errors": {field: message}}``; a refused create lists every bad field.

Errors: handlers raise :class:`JiraError`; the middleware renders it. Nothing a caller sends
produces a 5xx unless a ``status`` fault asks for one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from emulators.injected_faults import CallLog, InjectedFaults
from emulators.jira.config import PRIORITIES
from emulators.jira.jql import JqlError, parse_jql
from emulators.jira.render import Site
from emulators.jira.store import JiraStore

__all__ = [
    "ACCOUNT_KEY",
    "CALLS_KEY",
    "FAULTS_KEY",
    "STORE_KEY",
    "JiraError",
    "add_api_routes",
    "api_middleware",
]

log = logging.getLogger("emulators.jira")

STORE_KEY = web.AppKey("jira_store", JiraStore)
FAULTS_KEY = web.AppKey("jira_faults", InjectedFaults)
CALLS_KEY = web.AppKey("jira_calls", CallLog)
ACCOUNT_KEY = web.RequestKey("jira_account", str)

UNAUTHENTICATED = "Client must be authenticated to access this resource."
NOT_FOUND = "Issue does not exist or you do not have permission to see it."
REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
MAX_SUMMARY = 255
MAX_RESULTS_IDS = 5000
MAX_RESULTS_FIELDS = 100
DEFAULT_RESULTS = 50
_ALLOWED_FIELDS = frozenset(
    {"project", "issuetype", "summary", "description", "labels", "assignee", "reporter", "priority"}
)


class JiraError(Exception):
    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(status)
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = {"errorMessages": self.messages, "errors": self.errors}
        return web.json_response(body, status=self.status, headers=self.headers)


def _unauthenticated(reason: str) -> web.Response:
    return web.Response(
        status=401,
        text=UNAUTHENTICATED,
        content_type="text/plain",
        headers={
            "WWW-Authenticate": 'OAuth realm="https%3A%2F%2Fgolive.atlassian.net"',
            "X-Seraph-LoginReason": reason,
        },
    )


def _account(request: web.Request) -> str | None:
    """The email of valid basic-auth credentials, or None."""
    scheme, _, encoded = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        email, sep, token = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    store = request.app[STORE_KEY]
    expected = next((t for e, t in store.config.accounts.items() if e.lower() == email.lower()), None)
    if not sep or expected is None or not hmac.compare_digest(expected.encode(), token.encode()):
        return None
    if request.app[FAULTS_KEY].refuses_token(token):
        return None
    return email


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/rest/"):
        return await handler(request)
    status = 0
    try:
        response = await _guarded(request, handler)
        status = response.status
        return response
    finally:
        request.app[CALLS_KEY].record(request.method, request.path, status)


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    faults = request.app[FAULTS_KEY]
    if faults.latency_s > 0:
        await asyncio.sleep(faults.latency_s)
    forced = faults.take_status()
    if forced is not None:
        return JiraError(forced, [f"The server answered {forced} (injected fault)."]).response()
    email = _account(request)
    if email is None:
        has_credentials = bool(request.headers.get("Authorization"))
        return _unauthenticated("AUTHENTICATED_FAILED" if has_credentials else "AUTHENTICATION_DENIED")
    request[ACCOUNT_KEY] = email
    refusal = faults.take_rate_limit()
    if refusal is not None:
        reset = datetime.now(UTC) + timedelta(seconds=refusal.retry_after)
        headers = {
            "Retry-After": str(refusal.retry_after),
            "X-RateLimit-Limit": "350",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
            "RateLimit-Reason": "jira-burst-based",
        }
        return JiraError(429, ["Rate limit exceeded."], headers=headers).response()
    try:
        response = await handler(request)
    except JiraError as exc:
        return exc.response()
    except web.HTTPNotFound:
        return JiraError(404, ["null for uri: " + request.path[:200]]).response()
    except web.HTTPMethodNotAllowed:
        return JiraError(405, ["Method Not Allowed"]).response()
    if response.status < 400:
        delay = faults.take_drop(request.method)
        if delay is not None:
            # The write is committed; now lose the reply, as a proxy timeout or a reset would.
            if delay > 0:
                await asyncio.sleep(delay)
            log.info("emulator: dropping the reply of a committed %s (fault)", request.method)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
    return response


# ---- helpers ----------------------------------------------------------------------------------


def _site(request: web.Request) -> Site:
    store = request.app[STORE_KEY]
    return Site(store, store.config.public_base_url or f"{request.scheme}://{request.host}")


def _viewer_id(request: web.Request) -> str:
    store = request.app[STORE_KEY]
    user = store.user_by_email(request[ACCOUNT_KEY])
    assert user is not None  # config.check() guarantees a user for every account
    return user.account_id


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise JiraError(
            400, ["Invalid request payload. Refer to the REST API documentation and try again."]
        ) from exc
    if not isinstance(body, dict):
        raise JiraError(400, ["Invalid request payload. Refer to the REST API documentation and try again."])
    return body


def _is_adf(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


def _user_ref(store: JiraStore, value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    account_id = value.get("accountId") or value.get("id")
    if isinstance(account_id, str) and account_id in store.users:
        return account_id
    return None


# ---- handlers ---------------------------------------------------------------------------------


async def create_issue(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    body = await _json_object(request)
    fields = body.get("fields")
    if not isinstance(fields, dict):
        fields = {}
    errors: dict[str, str] = {}
    project = store.project(fields.get("project"))
    if project is None:
        errors["project"] = "Specify a valid project ID or key"
    issuetype = store.issue_type(fields.get("issuetype"))
    if issuetype is None:
        errors["issuetype"] = "Specify an issue type"
    summary = fields.get("summary")
    if summary is None or (isinstance(summary, str) and not summary.strip()):
        errors["summary"] = "You must specify a summary of the issue."
    elif not isinstance(summary, str):
        errors["summary"] = "Operation value must be a string"
    elif len(summary) > MAX_SUMMARY:
        errors["summary"] = "Summary must be less than 255 characters."
    description = fields.get("description")
    if description is not None and not _is_adf(description):
        errors["description"] = ADF_REQUIRED
    labels = fields.get("labels", [])
    if labels is None:
        labels = []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        errors["labels"] = "Operation value must be an array of strings"
    else:
        for label in labels:
            if not label or any(c.isspace() for c in label) or len(label) > 255:
                errors["labels"] = f"The label '{label[:60]}' contains spaces which is invalid."
                break
    assignee = None
    if fields.get("assignee") is not None:
        assignee = _user_ref(store, fields["assignee"])
        if assignee is None:
            errors["assignee"] = "Specify a valid value for assignee"
    reporter = _viewer_id(request)
    if fields.get("reporter") is not None:
        chosen = _user_ref(store, fields["reporter"])
        if chosen is None:
            errors["reporter"] = "Specify a valid value for reporter"
        else:
            reporter = chosen
    priority = "Medium"
    if fields.get("priority") is not None:
        ref = fields["priority"]
        name = ref.get("name") if isinstance(ref, dict) else None
        by_id = ref.get("id") if isinstance(ref, dict) else None
        match = next((p for i, p in enumerate(PRIORITIES, 1) if p == name or str(i) == str(by_id)), None)
        if match is None:
            errors["priority"] = "Specify a valid priority"
        else:
            priority = match
    for name in sorted(set(fields) - _ALLOWED_FIELDS):
        errors[name[:80]] = (
            f"Field '{name[:80]}' cannot be set. It is not on the appropriate screen, or unknown."
        )
    if errors:
        raise JiraError(400, [], errors)
    assert project is not None and issuetype is not None and isinstance(summary, str)
    issue = store.create(project, issuetype, summary, description, labels, reporter, assignee, priority)
    site = _site(request)
    return web.json_response(
        {"id": str(issue.id), "key": issue.key, "self": f"{site.api}/issue/{issue.id}"}, status=201
    )


def _wanted(value: Any) -> list[str] | None:
    """The ``fields`` a caller asked for: a comma list (GET) or a list of names (POST)."""
    if value is None:
        return None
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise JiraError(400, ["The fields parameter must be a list of field names."])
    return [n.strip() for n in names if n.strip()]


async def get_issue(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    issue = store.get(request.match_info["key"])
    if issue is None:
        raise JiraError(404, [NOT_FOUND])
    wanted = _wanted(request.query.get("fields"))
    return web.json_response(_site(request).issue(issue, wanted or None))


async def myself(request: web.Request) -> web.Response:
    return web.json_response(_site(request).user(_viewer_id(request)))


def _max_results(value: Any, wanted: list[str] | None) -> int:
    if value is None or value == "":
        return DEFAULT_RESULTS
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise JiraError(400, ["The maxResults parameter must be a number."]) from exc
    if isinstance(value, bool) or number < 0:
        raise JiraError(400, ["The maxResults parameter must be a non-negative number."])
    return min(number, MAX_RESULTS_FIELDS if wanted else MAX_RESULTS_IDS)


def _offset(token: Any) -> int:
    if token is None or token == "":
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(str(token).encode()).decode().removeprefix("offset:"))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise JiraError(400, ["The nextPageToken is invalid."]) from exc
    if offset < 0:
        raise JiraError(400, ["The nextPageToken is invalid."])
    return offset


def _search(request: web.Request, jql: Any, token: Any, max_results: Any, fields: Any) -> web.Response:
    store = request.app[STORE_KEY]
    if jql is None:
        jql = ""
    if not isinstance(jql, str):
        raise JiraError(400, ["The jql parameter must be a string."])
    wanted = _wanted(fields)
    limit = _max_results(max_results, wanted)
    offset = _offset(token)
    try:
        query = parse_jql(jql, store, _viewer_id(request))
    except JqlError as exc:
        raise JiraError(400, [str(exc)]) from exc
    if query.predicate is None:
        raise JiraError(
            400,
            ["Unbounded JQL queries are not allowed here. Please add a search restriction to your query."],
        )
    found = query.run(store.issues)
    page = found[offset : offset + limit] if limit else []
    site = _site(request)
    issues = [site.issue(i, wanted) if wanted else {"id": str(i.id)} for i in page]
    body: dict[str, Any] = {"issues": issues}
    if offset + limit < len(found) and limit:
        body["nextPageToken"] = base64.urlsafe_b64encode(f"offset:{offset + limit}".encode()).decode()
    body["isLast"] = "nextPageToken" not in body
    return web.json_response(body)


async def search_get(request: web.Request) -> web.Response:
    q = request.query
    return _search(request, q.get("jql"), q.get("nextPageToken"), q.get("maxResults"), q.get("fields"))


async def search_post(request: web.Request) -> web.Response:
    body = await _json_object(request)
    return _search(
        request, body.get("jql"), body.get("nextPageToken"), body.get("maxResults"), body.get("fields")
    )


async def removed_search(request: web.Request) -> web.Response:
    raise JiraError(410, [REMOVED])


def add_api_routes(app: web.Application) -> None:
    app.router.add_post("/rest/api/3/issue", create_issue)
    app.router.add_get("/rest/api/3/issue/{key}", get_issue)
    app.router.add_get("/rest/api/3/myself", myself)
    app.router.add_get("/rest/api/3/search/jql", search_get)
    app.router.add_post("/rest/api/3/search/jql", search_post)
    for version in ("2", "3", "latest"):
        app.router.add_get(f"/rest/api/{version}/search", removed_search)
        app.router.add_post(f"/rest/api/{version}/search", removed_search)
