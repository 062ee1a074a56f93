"""Issues, labels and comments of the emulated repositories.

Kept in memory and, when the config names a state directory, written through to
``{state_dir}/github.json`` after every change so a restarted emulator keeps its issues. Numbers
are per repository (as in GitHub URLs); ids are global. Timestamps are GitHub's
``YYYY-MM-DDTHH:MM:SSZ`` from the configured clock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC
from typing import Any

from emulators.github.config import GitHubEmulatorConfig, GitHubRepo
from emulators.state_file import JsonStateFile

__all__ = ["Comment", "Issue", "IssueStore", "Label"]


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class Comment:
    id: int
    body: str
    user: str
    created_at: str
    updated_at: str


@dataclass
class Issue:
    repo: str
    number: int
    id: int
    title: str
    body: str | None
    user: str
    created_at: str
    updated_at: str
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    closed_at: str | None = None
    closed_by: str | None = None
    comments: list[Comment] = field(default_factory=list)


class IssueStore:
    def __init__(self, config: GitHubEmulatorConfig):
        self.config = config
        self.repos: dict[str, GitHubRepo] = {r.full_name.lower(): r for r in config.repos}
        self._file = JsonStateFile(config.state_dir, "github.json")
        self.reset(save=False)
        saved = self._file.load()
        if saved is not None:
            self._restore(saved)

    def reset(self, *, save: bool = True) -> None:
        self.issues: list[Issue] = []
        self.labels: dict[str, dict[str, Label]] = {name: {} for name in self.repos}
        self._next_id = 1001
        if save:
            self.save()

    # ---- persistence --------------------------------------------------------------------------

    def save(self) -> None:
        self._file.save(
            {
                "next_id": self._next_id,
                "issues": [asdict(i) for i in self.issues],
                "labels": {
                    repo: [asdict(label) for label in labels.values()] for repo, labels in self.labels.items()
                },
            }
        )

    def _restore(self, saved: dict[str, Any]) -> None:
        self._next_id = int(saved.get("next_id", self._next_id))
        for item in saved.get("issues", []):
            comments = [Comment(**c) for c in item.pop("comments", [])]
            issue = Issue(**item, comments=comments)
            if issue.repo.lower() in self.repos:
                self.issues.append(issue)
        for repo, labels in saved.get("labels", {}).items():
            if repo in self.repos:
                self.labels[repo] = {label["name"].lower(): Label(**label) for label in labels}

    # ---- reads --------------------------------------------------------------------------------

    def repo(self, owner: str, name: str) -> GitHubRepo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def get(self, repo: GitHubRepo, number: int) -> Issue | None:
        key = repo.full_name.lower()
        return next((i for i in self.issues if i.repo.lower() == key and i.number == number), None)

    def in_repo(self, repo: GitHubRepo) -> list[Issue]:
        key = repo.full_name.lower()
        return [i for i in self.issues if i.repo.lower() == key]

    def label(self, repo: GitHubRepo, name: str) -> Label:
        return self.labels[repo.full_name.lower()][name.lower()]

    # ---- writes -------------------------------------------------------------------------------

    def now(self) -> str:
        return self.config.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _labels(self, repo: GitHubRepo, names: list[str]) -> list[str]:
        """Label names as the repository spells them; unknown labels are created (GitHub does)."""
        known = self.labels[repo.full_name.lower()]
        chosen: list[str] = []
        for name in names:
            label = known.get(name.lower())
            if label is None:
                label = known[name.lower()] = Label(self._take_id(), name)
            if label.name not in chosen:
                chosen.append(label.name)
        return chosen

    def create(
        self,
        repo: GitHubRepo,
        title: str,
        body: str | None,
        labels: list[str],
        assignees: list[str],
        author: str,
    ) -> Issue:
        now = self.now()
        number = 1 + max((i.number for i in self.in_repo(repo)), default=0)
        issue = Issue(
            repo=repo.full_name,
            number=number,
            id=self._take_id(),
            title=title,
            body=body,
            user=author,
            created_at=now,
            updated_at=now,
            labels=self._labels(repo, labels),
            assignees=list(dict.fromkeys(assignees)),
        )
        self.issues.append(issue)
        self.save()
        return issue

    def update(self, repo: GitHubRepo, issue: Issue, changes: dict[str, Any], actor: str) -> Issue:
        if "title" in changes:
            issue.title = changes["title"]
        if "body" in changes:
            issue.body = changes["body"]
        if "labels" in changes:
            issue.labels = self._labels(repo, changes["labels"])
        if "assignees" in changes:
            issue.assignees = list(dict.fromkeys(changes["assignees"]))
        now = self.now()
        state = changes.get("state")
        if state == "closed" and issue.state != "closed":
            issue.state, issue.closed_at, issue.closed_by = "closed", now, actor
            issue.state_reason = changes.get("state_reason") or "completed"
        elif state == "open" and issue.state != "open":
            issue.state, issue.closed_at, issue.closed_by = "open", None, None
            issue.state_reason = "reopened"
        elif "state_reason" in changes:
            issue.state_reason = changes["state_reason"]
        issue.updated_at = now
        self.save()
        return issue

    def add_comment(self, issue: Issue, body: str, author: str) -> Comment:
        now = self.now()
        comment = Comment(self._take_id(), body, author, now, now)
        issue.comments.append(comment)
        issue.updated_at = now
        self.save()
        return comment
