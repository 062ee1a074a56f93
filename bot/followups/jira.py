"""Follow-ups as Jira Cloud issues: the ``FollowUpTracker`` port over REST v3 (aiohttp directly).

What it sends and reads (Jira Cloud REST v3,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/):

- HTTP basic auth ``GOLIVE_JIRA_USER:GOLIVE_JIRA_TOKEN`` (an Atlassian account email and API token);
- create: ``POST /rest/api/3/issue`` ``{"fields": {project, issuetype, summary, description,
  labels}}`` -> 201 ``{id, key, self}``. In v3 the description must be Atlassian Document Format:
  one paragraph per line, URLs as links. Labels may not hold spaces, so such a label is refused here
  before anything is sent (naming ``GOLIVE_FOLLOWUP_LABELS``);
- find: the enhanced search ``POST /rest/api/3/search/jql`` (the old ``/search`` is gone: 410)
  with ``project = KEY AND description ~ "\\"<marker>\\""``; the marker must be a whole line of
  the description found;
- get: ``GET /rest/api/3/issue/{key}?fields=status,created,assignee`` (state = the status name).

The issue is not assigned: a GitHub login means nothing to Jira, and the roster has no Atlassian
account id.

Errors (the ports'), naming the setting at fault::

    Permanent   401 "GOLIVE_JIRA_USER / GOLIVE_JIRA_TOKEN were refused (401)"; 403; 400 with the
                refused fields mapped to their settings (project -> GOLIVE_JIRA_PROJECT, issuetype ->
                GOLIVE_JIRA_ISSUE_TYPE, labels -> GOLIVE_FOLLOWUP_LABELS); 404; 410
    Transient   429 (``Retry-After`` seconds), 5xx, unreachable or timed out
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import aiohttp

from bot.followups.body import carries_marker
from bot.ports import FollowUp, FollowUpRequest, Permanent, PortError, Transient
from bot.restapi import ApiAnswer, RestApi

__all__ = ["JiraConfig", "JiraFollowUps", "adf_document", "adf_text"]

CREDENTIALS = "GOLIVE_JIRA_USER / GOLIVE_JIRA_TOKEN"
FIELD_SETTINGS = {
    "project": "GOLIVE_JIRA_PROJECT",
    "issuetype": "GOLIVE_JIRA_ISSUE_TYPE",
    "labels": "GOLIVE_FOLLOWUP_LABELS",
}
SUMMARY_LIMIT = 255
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class JiraConfig:
    url: str  # the site, e.g. https://example.atlassian.net
    project: str
    user: str
    token: str = field(repr=False)
    issue_type: str = "Task"
    timeout_s: float = 15.0


class JiraFollowUps:
    """Follow-up issues in one Jira project."""

    def __init__(self, config: JiraConfig) -> None:
        self._config = config
        self._site = config.url.rstrip("/")
        self._api = RestApi(
            self._site,
            {
                "Accept": "application/json",
                "Authorization": aiohttp.encode_basic_auth(config.user, config.token),
            },
            service="Jira",
            url_setting="GOLIVE_JIRA_URL",
            timeout_s=config.timeout_s,
        )

    async def close(self) -> None:
        await self._api.close()

    async def find(self, marker: str) -> FollowUp | None:
        jql = f"project = {_quoted(self._config.project)} AND description ~ {_quoted(_quoted(marker))}"
        answer = await self._api.call(
            "POST",
            "/rest/api/3/search/jql",
            json_body={
                "jql": jql + " ORDER BY created DESC",
                "fields": ["status", "created", "assignee", "description"],
                "maxResults": 20,
            },
        )
        if not answer.ok:
            raise self._refusal(answer, "search issues")
        issues = answer.body.get("issues") if isinstance(answer.body, dict) else None
        for issue in issues if isinstance(issues, list) else []:
            fields = issue.get("fields") if isinstance(issue, dict) else None
            if isinstance(fields, dict) and carries_marker(adf_text(fields.get("description")), marker):
                return self._follow_up(issue)
        return None

    async def create(self, request: FollowUpRequest) -> FollowUp:
        spaced = [label for label in request.labels if not label or any(c.isspace() for c in label)]
        if spaced:
            raise Permanent(f"GOLIVE_FOLLOWUP_LABELS: Jira labels cannot contain spaces ({spaced[0][:40]!r})")
        summary = (
            request.title if len(request.title) <= SUMMARY_LIMIT else request.title[: SUMMARY_LIMIT - 1] + "…"
        )
        fields = {
            "project": {"key": self._config.project},
            "issuetype": {"name": self._config.issue_type},
            "summary": summary,
            "description": adf_document(request.body),
            "labels": list(request.labels),
        }
        answer = await self._api.call("POST", "/rest/api/3/issue", json_body={"fields": fields})
        key = answer.body.get("key") if isinstance(answer.body, dict) else None
        if answer.status != 201 or not isinstance(key, str):
            raise self._refusal(answer, "create issues")
        return FollowUp(key=key, url=self._browse(key), state="open")

    async def get(self, key: str) -> FollowUp:
        answer = await self._api.call(
            "GET", f"/rest/api/3/issue/{key}", params={"fields": "status,created,assignee"}
        )
        if answer.status == 404:
            raise Permanent(f"Jira issue {key} was not found (404)")
        if not answer.ok or not isinstance(answer.body, dict):
            raise self._refusal(answer, "read issues")
        return self._follow_up(answer.body)

    async def check(self) -> str:
        """Who the credentials are (``GET /rest/api/3/myself``), for ``golive check``."""
        answer = await self._api.call("GET", "/rest/api/3/myself")
        if not answer.ok:
            raise self._refusal(answer, "read its own account")
        name = answer.body.get("displayName") if isinstance(answer.body, dict) else None
        return f"signed in as {name or self._config.user}; issues go to project {self._config.project}"

    def _browse(self, key: str) -> str:
        return f"{self._site}/browse/{key}"

    def _follow_up(self, issue: dict[str, Any]) -> FollowUp:
        key = issue.get("key")
        if not isinstance(key, str):
            raise Permanent("Jira answered without an issue key")
        raw = issue.get("fields")
        fields: dict[str, Any] = raw if isinstance(raw, dict) else {}
        status = fields.get("status")
        assignee = fields.get("assignee")
        return FollowUp(
            key=key,
            url=self._browse(key),
            state=str(status.get("name")) if isinstance(status, dict) and status.get("name") else "open",
            opened_on=_day(fields.get("created")),
            assignee=str(assignee.get("displayName")) if isinstance(assignee, dict) else None,
        )

    def _refusal(self, answer: ApiAnswer, what: str) -> PortError:
        status = answer.status
        said = _messages(answer)
        said = f": {said}" if said else ""
        if status == 401:
            return Permanent(f"{CREDENTIALS} were refused ({status})")
        if status == 403:
            return Permanent(
                f"{CREDENTIALS} may not {what} in GOLIVE_JIRA_PROJECT {self._config.project} ({status})"
            )
        if status == 429:
            retry_after = answer.header("retry-after")
            delay = float(retry_after) if retry_after.isdigit() else None
            return Transient(f"Jira rate limit reached ({status})", retry_after=delay)
        if status >= 500:
            return Transient(f"Jira is unavailable ({status})")
        errors = answer.body.get("errors") if isinstance(answer.body, dict) else None
        refused = errors if isinstance(errors, dict) else {}
        settings = sorted({FIELD_SETTINGS[name] for name in refused if name in FIELD_SETTINGS})
        named = f" (check {', '.join(settings)})" if settings else ""
        return Permanent(f"Jira refused to {what} ({status}){said}{named}")


def adf_document(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document: one paragraph per non-empty line, URLs as links."""
    paragraphs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        nodes: list[dict[str, Any]] = []
        at = 0
        for match in _URL.finditer(line):
            if match.start() > at:
                nodes.append({"type": "text", "text": line[at : match.start()]})
            url = match.group(0)
            nodes.append({"type": "text", "text": url, "marks": [{"type": "link", "attrs": {"href": url}}]})
            at = match.end()
        if at < len(line):
            nodes.append({"type": "text", "text": line[at:]})
        paragraphs.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_text(node: Any) -> str:
    """The text of an Atlassian Document, a line per paragraph (empty for anything else)."""
    if isinstance(node, list):
        return "".join(adf_text(child) for child in node)
    if not isinstance(node, dict):
        return ""
    own = node.get("text") if isinstance(node.get("text"), str) else ""
    inner = adf_text(node.get("content") or [])
    block = node.get("type") in {"paragraph", "heading", "codeBlock", "listItem"}
    return f"{own}{inner}\n" if block else f"{own}{inner}"


def _quoted(value: str) -> str:
    """A JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _messages(answer: ApiAnswer) -> str:
    if not isinstance(answer.body, dict):
        return ""
    words = [str(m) for m in answer.body.get("errorMessages") or () if m]
    errors = answer.body.get("errors")
    if isinstance(errors, dict):
        words += [f"{name}: {message}" for name, message in errors.items()]
    return "; ".join(words)[:240]


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("+0000", "+00:00")).date()
    except ValueError:
        return None
