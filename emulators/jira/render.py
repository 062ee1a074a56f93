"""Jira Cloud's JSON for users and issues (REST API v3).

The shapes follow a recorded ``GET /rest/api/3/issue/{key}`` answer (``tests/fixtures/jira/``):
``{expand, id, self, key, fields}`` with ``project``, ``issuetype``, ``status`` (with its
``statusCategory``), ``priority``, users as ``{self, accountId, emailAddress, avatarUrls,
displayName, active, timeZone, accountType}`` and ``description`` in Atlassian Document Format.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from emulators.jira.store import JiraIssue, JiraStore

__all__ = ["ALL_FIELDS", "Site"]

EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
_PRIORITY_IDS = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}


class Site:
    """Renders objects with the site base URL of one answer."""

    def __init__(self, store: JiraStore, base: str):
        self.store = store
        self.base = base.rstrip("/")
        self.api = f"{self.base}/rest/api/3"

    def _avatars(self, kind: str, ident: str) -> dict[str, str]:
        url = f"{self.api}/universal_avatar/view/type/{kind}/avatar/{ident}"
        return {
            "48x48": url,
            "24x24": f"{url}?size=small",
            "16x16": f"{url}?size=xsmall",
            "32x32": f"{url}?size=medium",
        }

    def user(self, account_id: str) -> dict[str, Any]:
        user = self.store.users[account_id]
        return {
            "self": f"{self.api}/user?accountId={user.account_id}",
            "accountId": user.account_id,
            "emailAddress": user.email,
            "avatarUrls": self._avatars("user", "10122"),
            "displayName": user.display_name,
            "active": True,
            "timeZone": user.time_zone,
            "accountType": "atlassian",
        }

    def _status_category(self) -> dict[str, Any]:
        return {
            "self": f"{self.api}/statuscategory/2",
            "id": 2,
            "key": "new",
            "colorName": "blue-gray",
            "name": "To Do",
        }

    def fields(self, issue: JiraIssue, wanted: Collection[str] | None) -> dict[str, Any]:
        project = self.store.projects[issue.project]
        kind = self.store.issue_types[issue.issuetype]
        everything: dict[str, Any] = {
            "statuscategorychangedate": issue.created,
            "issuetype": {
                "self": f"{self.api}/issuetype/{kind.id}",
                "id": kind.id,
                "description": kind.description,
                "iconUrl": f"{self.api}/universal_avatar/view/type/issuetype/avatar/10318?size=medium",
                "name": kind.name,
                "subtask": kind.subtask,
                "avatarId": 10318,
                "hierarchyLevel": 0,
            },
            "project": {
                "self": f"{self.api}/project/{project.id}",
                "id": project.id,
                "key": project.key,
                "name": project.name,
                "projectTypeKey": "software",
                "simplified": False,
                "avatarUrls": self._avatars("project", "10203"),
            },
            "statusCategory": self._status_category(),
            "resolution": None,
            "resolutiondate": None,
            "labels": list(issue.labels),
            "assignee": None if issue.assignee is None else self.user(issue.assignee),
            "reporter": self.user(issue.reporter),
            "creator": self.user(issue.reporter),
            "priority": {
                "self": f"{self.api}/priority/{_PRIORITY_IDS.get(issue.priority, '3')}",
                "iconUrl": f"{self.base}/images/icons/priorities/{issue.priority.lower()}_new.svg",
                "name": issue.priority,
                "id": _PRIORITY_IDS.get(issue.priority, "3"),
            },
            "status": {
                "self": f"{self.api}/status/10000",
                "description": "",
                "iconUrl": f"{self.base}/images/icons/statuses/open.png",
                "name": issue.status,
                "id": "10000",
                "statusCategory": self._status_category(),
            },
            "summary": issue.summary,
            "description": issue.description,
            "created": issue.created,
            "updated": issue.updated,
            "components": [],
            "fixVersions": [],
            "versions": [],
            "issuelinks": [],
            "subtasks": [],
            "environment": None,
            "duedate": None,
            "timetracking": {},
            "votes": {"self": f"{self.api}/issue/{issue.key}/votes", "votes": 0, "hasVoted": False},
            "watches": {
                "self": f"{self.api}/issue/{issue.key}/watchers",
                "watchCount": 1,
                "isWatching": True,
            },
            "comment": {
                "comments": [],
                "self": f"{self.api}/issue/{issue.id}/comment",
                "maxResults": 0,
                "total": 0,
                "startAt": 0,
            },
        }
        if wanted is None or "*all" in wanted or "*navigable" in wanted:
            return everything
        return {name: value for name, value in everything.items() if name in wanted}

    def issue(self, issue: JiraIssue, wanted: Collection[str] | None = None) -> dict[str, Any]:
        return {
            "expand": EXPAND,
            "id": str(issue.id),
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
            "fields": self.fields(issue, wanted),
        }


ALL_FIELDS = frozenset({"*all", "*navigable"})
