"""A JQL subset: enough to find an issue again by project, label, key or a marker in its text.

Grammar: clauses joined with ``AND``/``OR``/``NOT`` and parentheses, then an optional
``ORDER BY field [ASC|DESC], ...``. Fields: ``project``, ``key``/``issuekey``/``id``,
``summary``/``description``/``text`` (``~``, ``!~``, ``IS [NOT] EMPTY``), ``labels``, ``status``,
``statusCategory``, ``issuetype``/``type``, ``priority``, ``reporter``/``assignee``/``creator``
(account id, email or ``currentUser()``), ``created``/``updated`` (``> >= < <=`` a date).
Operators ``= != IN NOT IN ~ !~ IS IS NOT`` as Jira allows them per field.

Text search (``~``) is word based and case-insensitive: every word of the value must be a word of
the field (``*`` at the end of a word matches a prefix); a value that is itself in double quotes
(``summary ~ "\\"exact phrase\\""``) must appear as a phrase. Jira also stems words; this does not.

Errors: :class:`JqlError`, whose message is what Jira puts in ``errorMessages``.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from emulators.jira.store import JiraIssue, JiraStore

__all__ = ["JqlError", "JqlQuery", "adf_text", "parse_jql"]

Predicate = Callable[[JiraIssue], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<punct>[(),])
      | (?P<op>!=|!~|>=|<=|=|~|>|<)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<word>[^\s(),=!~<>"']+)
      | (?P<bad>["'])
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"})
_TEXT_FIELDS = frozenset({"summary", "description", "text"})
_FIELD_OPS = {
    "project": {"=", "!=", "in", "not in"},
    "key": {"=", "!=", "in", "not in"},
    "labels": {"=", "!=", "in", "not in", "is", "is not"},
    "status": {"=", "!=", "in", "not in"},
    "statuscategory": {"=", "!=", "in", "not in"},
    "issuetype": {"=", "!=", "in", "not in"},
    "priority": {"=", "!=", "in", "not in"},
    "reporter": {"=", "!=", "in", "not in", "is", "is not"},
    "assignee": {"=", "!=", "in", "not in", "is", "is not"},
    "created": {"=", "!=", ">", ">=", "<", "<="},
    "updated": {"=", "!=", ">", ">=", "<", "<="},
    **{name: {"~", "!~", "is", "is not"} for name in _TEXT_FIELDS},
}
_ALIASES = {"issuekey": "key", "id": "key", "type": "issuetype", "creator": "reporter"}
_ORDERABLE = frozenset({"created", "updated", "key", "priority", "summary", "id", "issuekey"})
_PRIORITY_RANK = {"highest": 0, "high": 1, "medium": 2, "low": 3, "lowest": 4}


class JqlError(ValueError):
    """JQL Jira would refuse; the message is what Jira puts in ``errorMessages``."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: int

    @property
    def keyword(self) -> str | None:
        lowered = self.text.lower()
        return lowered if self.kind == "word" and lowered in _KEYWORDS else None


@dataclass(frozen=True)
class JqlQuery:
    predicate: Predicate | None
    order: tuple[tuple[str, bool], ...]

    def run(self, issues: list[JiraIssue]) -> list[JiraIssue]:
        found = [i for i in issues if self.predicate is None or self.predicate(i)]
        found.sort(key=lambda i: -i.id)
        for field, descending in reversed(self.order):
            found.sort(key=functools.partial(_sort_key, field=field), reverse=descending)
        return found


def _sort_key(issue: JiraIssue, field: str) -> Any:
    if field in ("key", "id", "issuekey"):
        return (issue.project, issue.number)
    if field == "priority":
        return _PRIORITY_RANK.get(issue.priority.lower(), 9)
    if field == "summary":
        return issue.summary.lower()
    return getattr(issue, field)


def _syntax(detail: str, at: int) -> JqlError:
    return JqlError(f"Error in the JQL Query: {detail} (line 1, character {at + 1})")


def _tokens(jql: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(jql):
        if jql[position:].strip() == "":
            break
        match = _TOKEN.match(jql, position)
        if match is None or match.lastgroup is None:
            raise _syntax(f"The character '{jql[position]}' is a reserved JQL character.", position)
        start = match.start(match.lastgroup)
        if match.lastgroup == "bad":
            raise _syntax(f"The quoted string '{jql[start:][:30]}' has not been completed.", start)
        tokens.append(Token(match.lastgroup, match.group(match.lastgroup), start))
        position = match.end()
    return tokens


def _unquote(token: Token) -> str:
    if token.kind != "string":
        return token.text
    return re.sub(r"\\(.)", r"\1", token.text[1:-1])


def adf_text(node: Any) -> str:
    """The plain text of an Atlassian Document Format node (empty for anything else)."""
    if isinstance(node, dict):
        own = node.get("text") if isinstance(node.get("text"), str) else ""
        return " ".join(filter(None, [own, *(adf_text(child) for child in node.get("content") or [])]))
    if isinstance(node, list):
        return " ".join(adf_text(child) for child in node)
    return ""


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _text_matches(haystack: str, value: str) -> bool:
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        phrase = " ".join(_words(value[1:-1]))
        return bool(phrase) and f" {phrase} " in f" {' '.join(_words(haystack))} "
    words = set(_words(haystack))
    terms = re.findall(r"[\w*]+", value.lower())
    if not terms:
        return False
    for term in terms:
        if term.endswith("*"):
            stem = term.rstrip("*")
            if not any(w.startswith(stem) for w in words):
                return False
        elif term.replace("*", "") not in words:
            return False
    return True


class _Parser:
    def __init__(self, jql: str, store: JiraStore, viewer: str):
        self.jql = jql
        self.tokens = _tokens(jql)
        self.index = 0
        self.store = store
        self.viewer = viewer

    # ---- token helpers ------------------------------------------------------------------------

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise _syntax(
                "Expecting either a value, list or function but got the end of the query.", len(self.jql)
            )
        self.index += 1
        return token

    def accept(self, keyword: str) -> bool:
        token = self.peek()
        if token is not None and token.keyword == keyword:
            self.index += 1
            return True
        return False

    # ---- grammar ------------------------------------------------------------------------------

    def query(self) -> JqlQuery:
        predicate = None
        token = self.peek()
        if token is not None and token.keyword != "order":
            predicate = self.or_expr()
        order = self.order_by()
        extra = self.peek()
        if extra is not None:
            raise _syntax(f"Expecting either 'OR' or 'AND' but got '{extra.text[:30]}'.", extra.at)
        return JqlQuery(predicate, order)

    def order_by(self) -> tuple[tuple[str, bool], ...]:
        if not self.accept("order"):
            return ()
        if not self.accept("by"):
            token = self.peek()
            raise _syntax("Expecting 'BY' after 'ORDER'.", token.at if token else len(self.jql))
        order = []
        while True:
            token = self.take()
            name = _unquote(token).lower()
            if name not in _ORDERABLE:
                raise JqlError(
                    f"Field '{_unquote(token)[:60]}' does not exist or you do not have permission to view it."
                )
            descending = False
            if self.accept("desc"):
                descending = True
            else:
                self.accept("asc")
            order.append((_ALIASES.get(name, name) if name != "id" else "key", descending))
            following = self.peek()
            if following is None or following.text != ",":
                return tuple(order)
            self.index += 1

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.accept("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda i: any(p(i) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.accept("and"):
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda i: all(p(i) for p in parts))

    def not_expr(self) -> Predicate:
        if self.accept("not"):
            inner = self.not_expr()
            return lambda i: not inner(i)
        token = self.peek()
        if token is not None and token.text == "(":
            self.index += 1
            inner = self.or_expr()
            closing = self.peek()
            if closing is None or closing.text != ")":
                raise _syntax(
                    "Expecting ')' but got the end of the query.",
                    len(self.jql) if closing is None else closing.at,
                )
            self.index += 1
            return inner
        return self.clause()

    def operator(self) -> str:
        token = self.take()
        if token.kind == "op":
            return token.text
        keyword = token.keyword
        if keyword == "in":
            return "in"
        if keyword == "not" and self.accept("in"):
            return "not in"
        if keyword == "is":
            return "is not" if self.accept("not") else "is"
        raise _syntax(f"Expecting operator but got '{token.text[:30]}'.", token.at)

    def values(self) -> list[str]:
        token = self.take()
        if token.text == "(":
            found = [self.single()]
            while True:
                token = self.take()
                if token.text == ")":
                    return found
                if token.text != ",":
                    raise _syntax(f"Expecting ',' or ')' but got '{token.text[:30]}'.", token.at)
                found.append(self.single())
        self.index -= 1
        return [self.single()]

    def single(self) -> str:
        token = self.take()
        if token.kind == "string":
            return _unquote(token)
        if token.kind != "word" or (token.keyword is not None and token.keyword not in ("empty", "null")):
            raise _syntax(
                f"Expecting either a value, list or function but got '{token.text[:30]}'.", token.at
            )
        following = self.peek()
        if following is not None and following.text == "(":
            # A function call such as currentUser(); only argument-less functions are supported.
            self.index += 1
            closing = self.take()
            if closing.text != ")":
                raise _syntax("Expecting ')' after the function arguments.", closing.at)
            if token.text.lower() == "currentuser":
                return self.viewer
            raise JqlError(f"Unable to find JQL function '{token.text[:40]}()'.")
        return token.text

    def clause(self) -> Predicate:
        token = self.take()
        if token.kind not in ("word", "string") or token.keyword is not None:
            raise _syntax(f"Expecting a field name but got '{token.text[:30]}'.", token.at)
        shown = _unquote(token)
        name = _ALIASES.get(shown.lower(), shown.lower())
        if name not in _FIELD_OPS:
            raise JqlError(f"Field '{shown[:60]}' does not exist or you do not have permission to view it.")
        op = self.operator()
        if op not in _FIELD_OPS[name]:
            raise JqlError(f"The operator '{op.upper()}' is not supported by the '{shown[:60]}' field.")
        if op in ("is", "is not"):
            value = self.single()
            if value.lower() not in ("empty", "null"):
                raise JqlError(f"The operator '{op.upper()}' can only be used with EMPTY or NULL.")
            present = self._presence(name)
            return (lambda i: not present(i)) if op == "is" else present
        values = self.values()
        if op in ("=", "!=", "~", "!~", ">", ">=", "<", "<=") and len(values) != 1:
            raise JqlError(f"The operator '{op}' does not support the list value.")
        return self._compare(name, shown, op, values)

    # ---- field semantics ----------------------------------------------------------------------

    def _presence(self, name: str) -> Predicate:
        if name == "labels":
            return lambda i: bool(i.labels)
        if name == "assignee":
            return lambda i: i.assignee is not None
        if name == "reporter":
            return lambda i: bool(i.reporter)
        if name == "description":
            return lambda i: bool(adf_text(i.description).strip())
        return lambda i: bool(self._text(i, name).strip())

    def _text(self, issue: JiraIssue, name: str) -> str:
        if name == "summary":
            return issue.summary
        if name == "description":
            return adf_text(issue.description)
        return f"{issue.summary}\n{adf_text(issue.description)}"

    def _compare(self, name: str, shown: str, op: str, values: list[str]) -> Predicate:
        if name in _TEXT_FIELDS:
            value = values[0]
            if not re.search(r"\w", value):
                raise JqlError(
                    f"The value '{value[:60]}' is not a valid text search for the field '{shown[:60]}'."
                )
            matches: Predicate = lambda i: _text_matches(self._text(i, name), value)  # noqa: E731
            return matches if op == "~" else (lambda i: not matches(i))
        if name in ("created", "updated"):
            return self._dates(name, shown, op, values[0])
        accepted = [self._canonical(name, shown, v) for v in values]
        member: Predicate = lambda i: self._field(i, name) & set(accepted) != set()  # noqa: E731
        return member if op in ("=", "in") else (lambda i: not member(i))

    def _field(self, issue: JiraIssue, name: str) -> set[str]:
        if name == "labels":
            return {label.lower() for label in issue.labels}
        if name == "project":
            return {issue.project.lower()}
        if name == "key":
            return {issue.key.lower(), str(issue.id)}
        if name == "status":
            return {issue.status.lower()}
        if name == "statuscategory":
            return {"to do", "new", "2"}
        if name == "issuetype":
            return {issue.issuetype}
        if name == "priority":
            return {issue.priority.lower()}
        if name == "assignee":
            return {issue.assignee} if issue.assignee else set()
        return {issue.reporter}

    def _canonical(self, name: str, shown: str, value: str) -> str:
        lowered = value.lower()
        unknown = JqlError(f"The value '{value[:60]}' does not exist for the field '{shown[:60]}'.")
        if name == "project":
            for project in self.store.projects.values():
                if lowered in (project.key.lower(), project.id, project.name.lower()):
                    return project.key.lower()
            raise unknown
        if name == "issuetype":
            for kind in self.store.issue_types.values():
                if lowered in (kind.name.lower(), kind.id):
                    return kind.id
            raise unknown
        if name == "status" and lowered not in ("to do",):
            raise unknown
        if name in ("assignee", "reporter"):
            if value in self.store.users:
                return value
            user = self.store.user_by_email(value)
            if user is None:
                raise unknown
            return user.account_id
        return lowered

    def _dates(self, name: str, shown: str, op: str, value: str) -> Predicate:
        try:
            moment = datetime.strptime(
                value.replace("/", "-"), "%Y-%m-%d %H:%M" if " " in value else "%Y-%m-%d"
            )
        except ValueError as exc:
            raise JqlError(f"Date value '{value[:40]}' for field '{shown[:60]}' is invalid.") from exc
        bound = moment.strftime("%Y-%m-%dT%H:%M")
        compare: Callable[[str, str], bool] = {
            "=": operator.eq,
            "!=": operator.ne,
            ">": operator.gt,
            ">=": operator.ge,
            "<": operator.lt,
            "<=": operator.le,
        }[op]
        # Jira compares to the minute; stored stamps start "YYYY-MM-DDTHH:MM".
        return lambda i: compare(str(getattr(i, name))[:16], bound)


def parse_jql(jql: str, store: JiraStore, viewer: str) -> JqlQuery:
    """Parse JQL against the site's projects, types and users; ``viewer`` is ``currentUser()``."""
    return _Parser(jql, store, viewer).query()
