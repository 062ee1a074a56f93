"""GitHub's JSON for users, labels, repositories, issues and comments (REST API 2022-11-28).

Shapes follow octokit's recorded responses (octokit/fixtures ``add-labels-to-issue``,
``paginate-issues``, ``search-issues``) recorded in ``tests/fixtures/github/``, plus the keys newer
API versions add (``state_reason``, ``timeline_url``, ``reactions``, ``type``...).
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

from emulators.github.config import GitHubRepo
from emulators.github.store import Comment, Issue, IssueStore

__all__ = ["Links", "node_id", "user_number"]


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0:{kind}{number}".encode()).decode()


def user_number(login: str) -> int:
    return 1_000_000 + zlib.crc32(login.lower().encode()) % 9_000_000


class Links:
    """Renders objects with the API and web bases of one answer."""

    def __init__(self, store: IssueStore, api_base: str, html_base: str):
        self.store = store
        self.api = api_base.rstrip("/")
        self.html = html_base.rstrip("/")

    # ---- users --------------------------------------------------------------------------------

    def user(self, login: str) -> dict[str, Any]:
        api = f"{self.api}/users/{login}"
        number = user_number(login)
        return {
            "login": login,
            "id": number,
            "node_id": node_id("User", number),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.html}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "User",
            "user_view_type": "public",
            "site_admin": False,
        }

    def private_user(self, login: str) -> dict[str, Any]:
        person = next((u for u in self.store.config.users if u.login == login), None)
        body = self.user(login)
        body.update(
            {
                "name": person.name if person else login,
                "company": None,
                "blog": "",
                "location": None,
                "email": (person.email or None) if person else None,
                "hireable": None,
                "bio": None,
                "twitter_username": None,
                "notification_email": (person.email or None) if person else None,
                "public_repos": 0,
                "public_gists": 0,
                "followers": 0,
                "following": 0,
                "created_at": "2022-01-03T15:00:00Z",
                "updated_at": "2022-01-03T15:00:00Z",
            }
        )
        return body

    # ---- repositories -------------------------------------------------------------------------

    def repo(self, repo: GitHubRepo, viewer: str | None) -> dict[str, Any]:
        api = f"{self.api}/repos/{repo.full_name}"
        number = user_number(repo.full_name)
        push = viewer in repo.collaborators
        open_issues = sum(1 for i in self.store.in_repo(repo) if i.state == "open")
        body: dict[str, Any] = {
            "id": number,
            "node_id": node_id("Repository", number),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": f"{self.html}/{repo.full_name}",
            "description": repo.description or None,
            "fork": False,
            "url": api,
            "issues_url": f"{api}/issues{{/number}}",
            "labels_url": f"{api}/labels{{/name}}",
            "created_at": "2022-01-03T15:00:00Z",
            "updated_at": "2022-01-03T15:00:00Z",
            "pushed_at": "2022-01-03T15:00:00Z",
            "has_issues": True,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "open_issues": open_issues,
            "visibility": "private" if repo.private else "public",
            "default_branch": "main",
        }
        if viewer is not None:
            body["permissions"] = {
                "admin": False,
                "maintain": False,
                "push": push,
                "triage": push,
                "pull": True,
            }
        return body

    # ---- issues -------------------------------------------------------------------------------

    def label(self, repo: GitHubRepo, name: str) -> dict[str, Any]:
        label = self.store.label(repo, name)
        return {
            "id": label.id,
            "node_id": node_id("Label", label.id),
            "url": f"{self.api}/repos/{repo.full_name}/labels/{label.name}",
            "name": label.name,
            "color": label.color,
            "default": False,
            "description": label.description,
        }

    def issue_html_url(self, issue: Issue) -> str:
        return f"{self.html}/{issue.repo}/issues/{issue.number}"

    def issue(self, repo: GitHubRepo, issue: Issue) -> dict[str, Any]:
        api = f"{self.api}/repos/{issue.repo}/issues/{issue.number}"
        assignees = [self.user(login) for login in issue.assignees]
        return {
            "url": api,
            "repository_url": f"{self.api}/repos/{issue.repo}",
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": self.issue_html_url(issue),
            "id": issue.id,
            "node_id": node_id("Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.user(issue.user),
            "labels": [self.label(repo, name) for name in issue.labels],
            "state": issue.state,
            "locked": False,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": None,
            "comments": len(issue.comments),
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "author_association": "MEMBER" if issue.user in repo.collaborators else "NONE",
            "type": None,
            "active_lock_reason": None,
            "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
            "body": issue.body,
            "closed_by": None if issue.closed_by is None else self.user(issue.closed_by),
            "reactions": self._reactions(f"{api}/reactions"),
            "timeline_url": f"{api}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }

    def comment(self, repo: GitHubRepo, issue: Issue, comment: Comment) -> dict[str, Any]:
        api = f"{self.api}/repos/{issue.repo}/issues/comments/{comment.id}"
        return {
            "url": api,
            "html_url": f"{self.issue_html_url(issue)}#issuecomment-{comment.id}",
            "issue_url": f"{self.api}/repos/{issue.repo}/issues/{issue.number}",
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "user": self.user(comment.user),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "author_association": "MEMBER" if comment.user in repo.collaborators else "NONE",
            "body": comment.body,
            "reactions": self._reactions(f"{api}/reactions"),
            "performed_via_github_app": None,
        }

    @staticmethod
    def _reactions(url: str) -> dict[str, Any]:
        return {
            "url": url,
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        }
