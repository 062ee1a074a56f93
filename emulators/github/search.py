"""The ``q`` of ``GET /search/issues``: qualifiers and text, parsed and matched against issues.

Supported, as GitHub documents them: ``repo:owner/name``, ``is:issue|pr|open|closed``,
``type:issue|pr``, ``state:open|closed``, ``in:title|body|comments`` (several widen the search),
``label:NAME`` (quoted names allowed; several must all match), ``author:``, ``assignee:``,
``no:label|assignee``, a leading ``-`` to negate ``label:``, quoted phrases and bare words. Text
matches case-insensitively as a substring of title, body or comments (all words must match):
simpler than GitHub's tokenizer, and enough to find an issue again by a marker string.
Anything else that looks like ``word:value`` is searched as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from emulators.github.store import Issue

__all__ = ["IssueQuery", "parse_query"]

_TOKEN = re.compile(r'(-?)(?:([A-Za-z_]+):)?(?:"([^"]*)"|(\S+))')
_FIELDS = frozenset({"title", "body", "comments"})


@dataclass
class IssueQuery:
    repos: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    state: str | None = None
    fields: set[str] = field(default_factory=set)
    labels: list[str] = field(default_factory=list)
    without_labels: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    no: set[str] = field(default_factory=set)
    terms: list[str] = field(default_factory=list)

    def matches(self, issue: Issue) -> bool:
        if self.repos and issue.repo.lower() not in self.repos:
            return False
        if "pr" in self.kinds and "issue" not in self.kinds:
            return False  # the emulator has no pull requests
        if self.state is not None and issue.state != self.state:
            return False
        labels = {label.lower() for label in issue.labels}
        if any(label not in labels for label in self.labels):
            return False
        if any(label in labels for label in self.without_labels):
            return False
        if ("label" in self.no and labels) or ("assignee" in self.no and issue.assignees):
            return False
        if self.authors and issue.user.lower() not in self.authors:
            return False
        if any(a not in {x.lower() for x in issue.assignees} for a in self.assignees):
            return False
        return all(term in self._haystack(issue) for term in self.terms)

    def _haystack(self, issue: Issue) -> str:
        fields = self.fields or _FIELDS
        parts = []
        if "title" in fields:
            parts.append(issue.title)
        if "body" in fields and issue.body:
            parts.append(issue.body)
        if "comments" in fields:
            parts.extend(c.body for c in issue.comments)
        return "\n".join(parts).lower()


def parse_query(q: str) -> IssueQuery:
    query = IssueQuery()
    for match in _TOKEN.finditer(q):
        negated, qualifier, quoted, bare = match.groups()
        value = (quoted if quoted is not None else bare or "").strip()
        key = (qualifier or "").lower()
        lowered = value.lower()
        if key == "repo":
            query.repos.append(lowered)
        elif key in ("is", "type") and lowered in ("issue", "pr", "pull-request"):
            query.kinds.add("pr" if lowered != "issue" else "issue")
        elif key in ("is", "state") and lowered in ("open", "closed"):
            query.state = lowered
        elif key == "in" and set(lowered.split(",")) <= _FIELDS:
            query.fields.update(lowered.split(","))
        elif key == "label":
            (query.without_labels if negated else query.labels).append(lowered)
        elif key == "author":
            query.authors.append(lowered)
        elif key == "assignee":
            query.assignees.append(lowered)
        elif key == "no" and lowered in ("label", "assignee"):
            query.no.add(lowered)
        elif qualifier:
            query.terms.append(f"{qualifier}:{value}".lower())
        elif lowered:
            query.terms.append(f"-{lowered}" if negated else lowered)
    return query
