"""The emulated REST API subset for issues.

``GET /user``, ``GET /rate_limit``, ``GET /repos/{owner}/{repo}``,
``GET|POST /repos/{owner}/{repo}/issues``, ``GET|PATCH /repos/{owner}/{repo}/issues/{number}``,
``POST /repos/{owner}/{repo}/issues/{number}/comments`` and ``GET /search/issues``.

Validation answers as GitHub does: a body that is not a JSON object is 400 "Problems parsing JSON";
a missing or mistyped parameter is 422 "Invalid request." with the reason; a well-formed value
GitHub refuses (an assignee who is not a collaborator, an empty title) is 422 "Validation Failed"
with ``errors: [{resource, field, code, value?}]``. Labels and assignees from a caller without push
access are dropped silently; labels that do not exist yet are created. Lists page with
``per_page`` (at most 100) and ``page`` and a ``Link`` header.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from emulators.github.config import GitHubRepo
from emulators.github.gateway import LOGIN_KEY, RATES_KEY, STORE_KEY, GitHubError
from emulators.github.render import Links
from emulators.github.search import parse_query
from emulators.github.store import Issue

__all__ = ["add_api_routes"]

ISSUES_DOCS = "https://docs.github.com/rest/issues/issues"
DOC_CREATE = f"{ISSUES_DOCS}#create-an-issue"
DOC_GET = f"{ISSUES_DOCS}#get-an-issue"
DOC_UPDATE = f"{ISSUES_DOCS}#update-an-issue"
DOC_LIST = f"{ISSUES_DOCS}#list-repository-issues"
DOC_COMMENT = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
DOC_SEARCH = "https://docs.github.com/rest/search/search#search-issues-and-pull-requests"
DOC_REPO = "https://docs.github.com/rest/repos/repos#get-a-repository"
DOC_USER = "https://docs.github.com/rest/users/users#get-the-authenticated-user"

MAX_TITLE = 256
MAX_BODY = 65_536
MAX_LABEL = 50
SEARCH_WINDOW = 1000


# ---- helpers ----------------------------------------------------------------------------------


def _viewer(request: web.Request) -> str | None:
    return request.get(LOGIN_KEY)


def _links(request: web.Request) -> Links:
    store = request.app[STORE_KEY]
    here = f"{request.scheme}://{request.host}"
    return Links(store, store.config.public_api_url or here, store.config.html_base_url or here)


def _repo(request: web.Request, doc: str) -> GitHubRepo:
    """The repository of the path, if the caller may see it (a private one is 404 to others)."""
    repo = request.app[STORE_KEY].repo(request.match_info["owner"], request.match_info["repo"])
    viewer = _viewer(request)
    if repo is None or (repo.private and viewer not in repo.collaborators):
        raise GitHubError(404, "Not Found", doc)
    return repo


def _writer(request: web.Request, doc: str) -> str:
    viewer = _viewer(request)
    if viewer is None:
        raise GitHubError(401, "Requires authentication", doc)
    return viewer


def _issue(request: web.Request, repo: GitHubRepo, doc: str) -> Issue:
    try:
        number = int(request.match_info["number"])
    except ValueError as exc:
        raise GitHubError(404, "Not Found", doc) from exc
    issue = request.app[STORE_KEY].get(repo, number)
    if issue is None:
        raise GitHubError(404, "Not Found", doc)
    return issue


async def _object(request: web.Request, doc: str) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GitHubError(400, "Problems parsing JSON", doc) from exc
    if not isinstance(body, dict):
        raise GitHubError(400, "Problems parsing JSON", doc)
    return body


def _invalid(doc: str, reason: str) -> GitHubError:
    return GitHubError(422, f"Invalid request.\n\n{reason}", doc)


def _shown(value: Any) -> str:
    return json.dumps(value)[:80]


def _title(value: Any, doc: str, field: str = "title") -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _invalid(doc, f"For 'properties/{field}', {_shown(value)} is not a string or integer.")
    title = str(value)
    if not title.strip():
        raise GitHubError(
            422, "Validation Failed", doc, [{"resource": "Issue", "code": "missing_field", "field": "title"}]
        )
    if len(title) > MAX_TITLE:
        raise GitHubError(
            422,
            "Validation Failed",
            doc,
            [
                {
                    "resource": "Issue",
                    "code": "custom",
                    "field": "title",
                    "message": "title is too long (maximum is 256 characters)",
                }
            ],
        )
    return title


def _body_text(value: Any, doc: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(doc, f"For 'properties/body', {_shown(value)} is not a string or null.")
    if len(value) > MAX_BODY:
        raise GitHubError(
            422,
            "Validation Failed",
            doc,
            [
                {
                    "resource": "Issue",
                    "code": "custom",
                    "field": "body",
                    "message": "body is too long (maximum is 65536 characters)",
                }
            ],
        )
    return value


def _label_names(value: Any, doc: str) -> list[str]:
    if not isinstance(value, list):
        raise _invalid(doc, f"For 'properties/labels', {_shown(value)} is not an array.")
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise _invalid(doc, f"For 'items', {_shown(item)} is not a string or object.")
        if not name.strip() or len(name) > MAX_LABEL:
            raise GitHubError(
                422,
                "Validation Failed",
                doc,
                [{"resource": "Label", "code": "invalid", "field": "name", "value": name[:80]}],
            )
        names.append(name.strip())
    return names


def _logins(value: Any, doc: str, field: str = "assignees") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(doc, f"For 'properties/{field}', {_shown(value)} is not an array of strings.")
    return list(value)


def _check_assignees(repo: GitHubRepo, logins: list[str], doc: str) -> list[str]:
    members = {m.lower(): m for m in repo.collaborators}
    for login in logins:
        if login.lower() not in members:
            raise GitHubError(
                422,
                "Validation Failed",
                doc,
                [{"value": login[:80], "resource": "Issue", "field": "assignees", "code": "invalid"}],
            )
    return [members[login.lower()] for login in logins]


def _number_param(request: web.Request, name: str, default: int, high: int | None = None) -> int:
    try:
        value = int(request.query.get(name, ""))
    except ValueError:
        return default
    if value < 1:
        return default
    return min(value, high) if high is not None else value


def _link_header(request: web.Request, page: int, per_page: int, total: int) -> str | None:
    last = max(1, -(-total // per_page))
    if last == 1 and page == 1:
        return None
    store = request.app[STORE_KEY]
    base = (store.config.public_api_url or f"{request.scheme}://{request.host}").rstrip("/") + request.path

    def url(at: int) -> str:
        params = [(k, v) for k, v in request.query.items() if k not in ("page", "per_page")]
        params += [("per_page", str(per_page)), ("page", str(at))]
        return f"<{base}?{urlencode(params)}>"

    links = []
    if page > 1:
        links += [f'{url(page - 1)}; rel="prev"']
    if page < last:
        links += [f'{url(page + 1)}; rel="next"', f'{url(last)}; rel="last"']
    if page > 1:
        links += [f'{url(1)}; rel="first"']
    return ", ".join(links) if links else None


def _paged(request: web.Request, items: list[Issue], body: Callable[[list[Issue]], Any]) -> web.Response:
    page = _number_param(request, "page", 1)
    per_page = _number_param(request, "per_page", 30, 100)
    headers = {}
    link = _link_header(request, page, per_page, len(items))
    if link:
        headers["Link"] = link
    return web.json_response(body(items[(page - 1) * per_page : page * per_page]), headers=headers)


# ---- handlers ---------------------------------------------------------------------------------


async def get_authenticated_user(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    if viewer is None:
        raise GitHubError(401, "Requires authentication", DOC_USER)
    return web.json_response(_links(request).private_user(viewer))


async def get_rate_limit(request: web.Request) -> web.Response:
    rates = request.app[RATES_KEY]
    viewer = _viewer(request)

    def resource(name: str) -> dict[str, int]:
        h = rates.peek(viewer, name)
        return {
            "limit": int(h["x-ratelimit-limit"]),
            "remaining": int(h["x-ratelimit-remaining"]),
            "reset": int(h["x-ratelimit-reset"]),
            "used": int(h["x-ratelimit-used"]),
        }

    core = resource("core")
    return web.json_response({"resources": {"core": core, "search": resource("search")}, "rate": core})


async def get_repository(request: web.Request) -> web.Response:
    repo = _repo(request, DOC_REPO)
    return web.json_response(_links(request).repo(repo, _viewer(request)))


async def list_issues(request: web.Request) -> web.Response:
    repo = _repo(request, DOC_LIST)
    state = request.query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise GitHubError(
            422, "Validation Failed", DOC_LIST, [{"resource": "Issue", "field": "state", "code": "invalid"}]
        )
    wanted = [name.strip().lower() for name in request.query.get("labels", "").split(",") if name.strip()]
    issues = [
        i
        for i in request.app[STORE_KEY].in_repo(repo)
        if (state == "all" or i.state == state) and all(w in {x.lower() for x in i.labels} for w in wanted)
    ]
    _sort(issues, request.query.get("sort", "created"), request.query.get("direction", "desc"))
    links = _links(request)
    return _paged(request, issues, lambda page: [links.issue(repo, i) for i in page])


def _sort(issues: list[Issue], sort: str, direction: str) -> None:
    def key(issue: Issue) -> tuple[Any, int]:
        if sort == "updated":
            return issue.updated_at, issue.id
        if sort == "comments":
            return len(issue.comments), issue.id
        return issue.created_at, issue.id

    issues.sort(key=key, reverse=direction != "asc")


async def create_issue(request: web.Request) -> web.Response:
    repo = _repo(request, DOC_CREATE)
    author = _writer(request, DOC_CREATE)
    body = await _object(request, DOC_CREATE)
    if "title" not in body or body["title"] is None:
        raise _invalid(DOC_CREATE, '"title" wasn\'t supplied.')
    title = _title(body["title"], DOC_CREATE)
    text = _body_text(body.get("body"), DOC_CREATE)
    labels = _label_names(body["labels"], DOC_CREATE) if body.get("labels") is not None else []
    assignees = _logins(body["assignees"], DOC_CREATE) if body.get("assignees") is not None else []
    if isinstance(body.get("assignee"), str):
        assignees.append(body["assignee"])
    if author in repo.collaborators:
        assignees = _check_assignees(repo, assignees, DOC_CREATE)
        if body.get("milestone") is not None:
            value = body["milestone"]
            raise GitHubError(
                422,
                "Validation Failed",
                DOC_CREATE,
                [
                    {
                        "value": value if isinstance(value, int | str) else None,
                        "resource": "Issue",
                        "field": "milestone",
                        "code": "invalid",
                    }
                ],
            )
    else:
        labels, assignees = [], []  # dropped silently without push access
    store = request.app[STORE_KEY]
    issue = store.create(repo, title, text, labels, assignees, author)
    rendered = _links(request).issue(repo, issue)
    return web.json_response(rendered, status=201, headers={"Location": rendered["url"]})


async def get_issue(request: web.Request) -> web.Response:
    repo = _repo(request, DOC_GET)
    issue = _issue(request, repo, DOC_GET)
    return web.json_response(_links(request).issue(repo, issue))


async def update_issue(request: web.Request) -> web.Response:
    repo = _repo(request, DOC_UPDATE)
    actor = _writer(request, DOC_UPDATE)
    issue = _issue(request, repo, DOC_UPDATE)
    body = await _object(request, DOC_UPDATE)
    pusher = actor in repo.collaborators
    if not pusher and actor != issue.user:
        raise GitHubError(403, "Must have admin rights to Repository.", DOC_UPDATE)
    changes: dict[str, Any] = {}
    if body.get("title") is not None:
        changes["title"] = _title(body["title"], DOC_UPDATE)
    if "body" in body:
        changes["body"] = _body_text(body["body"], DOC_UPDATE)
    if "state" in body:
        if body["state"] not in ("open", "closed"):
            raise GitHubError(
                422,
                "Validation Failed",
                DOC_UPDATE,
                [{"resource": "Issue", "field": "state", "code": "invalid"}],
            )
        changes["state"] = body["state"]
    if "state_reason" in body:
        if body["state_reason"] not in ("completed", "not_planned", "duplicate", "reopened", None):
            raise _invalid(
                DOC_UPDATE,
                f"For 'properties/state_reason', {_shown(body['state_reason'])} is not a valid value.",
            )
        changes["state_reason"] = body["state_reason"]
    if pusher and body.get("labels") is not None:
        changes["labels"] = _label_names(body["labels"], DOC_UPDATE)
    if pusher and body.get("assignees") is not None:
        changes["assignees"] = _check_assignees(repo, _logins(body["assignees"], DOC_UPDATE), DOC_UPDATE)
    issue = request.app[STORE_KEY].update(repo, issue, changes, actor)
    return web.json_response(_links(request).issue(repo, issue))


async def create_comment(request: web.Request) -> web.Response:
    repo = _repo(request, DOC_COMMENT)
    author = _writer(request, DOC_COMMENT)
    issue = _issue(request, repo, DOC_COMMENT)
    body = await _object(request, DOC_COMMENT)
    if body.get("body") is None:
        raise _invalid(DOC_COMMENT, '"body" wasn\'t supplied.')
    if not isinstance(body["body"], str):
        raise _invalid(DOC_COMMENT, f"For 'properties/body', {_shown(body['body'])} is not a string.")
    if not body["body"].strip():
        raise GitHubError(
            422,
            "Validation Failed",
            DOC_COMMENT,
            [{"resource": "IssueComment", "code": "missing_field", "field": "body"}],
        )
    if len(body["body"]) > MAX_BODY:
        raise GitHubError(
            422,
            "Validation Failed",
            DOC_COMMENT,
            [
                {
                    "resource": "IssueComment",
                    "code": "custom",
                    "field": "body",
                    "message": "body is too long (maximum is 65536 characters)",
                }
            ],
        )
    comment = request.app[STORE_KEY].add_comment(issue, body["body"], author)
    rendered = _links(request).comment(repo, issue, comment)
    return web.json_response(rendered, status=201, headers={"Location": rendered["url"]})


async def search_issues(request: web.Request) -> web.Response:
    q = request.query.get("q", "")
    if not q.strip():
        raise GitHubError(
            422, "Validation Failed", DOC_SEARCH, [{"resource": "Search", "field": "q", "code": "missing"}]
        )
    page = _number_param(request, "page", 1)
    per_page = _number_param(request, "per_page", 30, 100)
    if (page - 1) * per_page >= SEARCH_WINDOW:
        raise GitHubError(422, "Only the first 1000 search results are available", DOC_SEARCH)
    store = request.app[STORE_KEY]
    viewer = _viewer(request)
    query = parse_query(q)
    found = []
    for issue in store.issues:
        repo = store.repos[issue.repo.lower()]
        if repo.private and viewer not in repo.collaborators:
            continue
        if query.matches(issue):
            found.append(issue)
    sort = request.query.get("sort")
    _sort(found, sort if sort in ("updated", "comments") else "created", request.query.get("order", "desc"))
    links = _links(request)

    def render(page_items: list[Issue]) -> dict[str, Any]:
        items = []
        for issue in page_items:
            item = links.issue(store.repos[issue.repo.lower()], issue)
            item["score"] = 1.0
            items.append(item)
        return {"total_count": len(found), "incomplete_results": False, "items": items}

    return _paged(request, found, render)


def add_api_routes(app: web.Application) -> None:
    app.router.add_get("/user", get_authenticated_user)
    app.router.add_get("/rate_limit", get_rate_limit)
    app.router.add_get("/repos/{owner}/{repo}", get_repository)
    app.router.add_get("/repos/{owner}/{repo}/issues", list_issues)
    app.router.add_post("/repos/{owner}/{repo}/issues", create_issue)
    app.router.add_get("/repos/{owner}/{repo}/issues/{number}", get_issue)
    app.router.add_patch("/repos/{owner}/{repo}/issues/{number}", update_issue)
    app.router.add_post("/repos/{owner}/{repo}/issues/{number}/comments", create_comment)
    app.router.add_get("/search/issues", search_issues)
