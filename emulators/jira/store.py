"""Issues of the emulated Jira site.

Kept in memory and, when the config names a state directory, written through to
``{state_dir}/jira.json`` after every change. Ids are global and numeric (as strings on the wire);
keys are ``{PROJECT}-{n}`` numbered per project.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from emulators.jira.config import JiraEmulatorConfig, JiraIssueType, JiraProject, JiraUser
from emulators.state_file import JsonStateFile

__all__ = ["JiraIssue", "JiraStore"]


@dataclass
class JiraIssue:
    id: int
    key: str
    project: str
    issuetype: str
    summary: str
    description: dict[str, Any] | None
    reporter: str
    created: str
    updated: str
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    priority: str = "Medium"
    status: str = "To Do"

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])


class JiraStore:
    def __init__(self, config: JiraEmulatorConfig):
        self.config = config
        self.projects = {p.key.upper(): p for p in config.projects}
        self.users = {u.account_id: u for u in config.users}
        self.issue_types = {t.id: t for t in config.issue_types}
        self._file = JsonStateFile(config.state_dir, "jira.json")
        self.issues: list[JiraIssue] = []
        self._next_id = 10001
        saved = self._file.load()
        if saved is not None:
            self._next_id = int(saved.get("next_id") or self._next_id)
            self.issues = [
                JiraIssue(**item) for item in saved.get("issues", []) if item.get("project") in self.projects
            ]

    def reset(self) -> None:
        self.issues = []
        self._next_id = 10001
        self.save()

    def save(self) -> None:
        self._file.save({"next_id": self._next_id, "issues": [asdict(i) for i in self.issues]})

    # ---- lookups ------------------------------------------------------------------------------

    def project(self, ref: Any) -> JiraProject | None:
        if not isinstance(ref, dict):
            return None
        key, pid = ref.get("key"), ref.get("id")
        if isinstance(key, str):
            return self.projects.get(key.upper())
        if isinstance(pid, str | int) and not isinstance(pid, bool):
            return next((p for p in self.projects.values() if p.id == str(pid)), None)
        return None

    def issue_type(self, ref: Any) -> JiraIssueType | None:
        if not isinstance(ref, dict):
            return None
        name, tid = ref.get("name"), ref.get("id")
        if isinstance(name, str):
            return next((t for t in self.issue_types.values() if t.name.lower() == name.lower()), None)
        if isinstance(tid, str | int) and not isinstance(tid, bool):
            return self.issue_types.get(str(tid))
        return None

    def user_by_email(self, email: str) -> JiraUser | None:
        return next((u for u in self.users.values() if u.email.lower() == email.lower()), None)

    def get(self, id_or_key: str) -> JiraIssue | None:
        wanted = id_or_key.upper()
        return next((i for i in self.issues if i.key == wanted or str(i.id) == id_or_key), None)

    # ---- writes -------------------------------------------------------------------------------

    def stamp(self) -> str:
        """Jira's timestamp form (``2022-05-03T15:00:00.000+0000``) from the configured clock."""
        moment: datetime = self.config.now()
        return (
            moment.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{moment.microsecond // 1000:03d}"
            + moment.strftime("%z")
        )

    def create(
        self,
        project: JiraProject,
        issuetype: JiraIssueType,
        summary: str,
        description: dict[str, Any] | None,
        labels: list[str],
        reporter: str,
        assignee: str | None,
        priority: str,
    ) -> JiraIssue:
        number = 1 + max((i.number for i in self.issues if i.project == project.key.upper()), default=0)
        now = self.stamp()
        issue = JiraIssue(
            id=self._next_id,
            key=f"{project.key.upper()}-{number}",
            project=project.key.upper(),
            issuetype=issuetype.id,
            summary=summary,
            description=description,
            reporter=reporter,
            created=now,
            updated=now,
            labels=list(dict.fromkeys(labels)),
            assignee=assignee,
            priority=priority,
        )
        self._next_id += 1
        self.issues.append(issue)
        self.save()
        return issue
