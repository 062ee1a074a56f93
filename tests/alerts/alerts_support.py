"""Recorded alert deliveries and generators shared by the tests/alerts modules.

A recorded fixture is ``{"_source": ..., "headers": {...}, "query": {...}?, "body": {...}}``; the raw
body is the compact serialization the fixtures' signatures were computed over (see their _source).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from bot.alerts import RECEIVERS, Source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alerts"
SECRETS: dict[Source, str] = {
    "sentry": "test-sentry-client-secret",
    "datadog": "test-datadog-token",
    "pagerduty": "test-pagerduty-webhook-secret",
    "bugsnag": "test-bugsnag-token",
}
# Any instant serves the sources without a timestamp check.
SOME_TIME = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
# A string no parser may ever echo in a reason: it stands for personal data in a payload.
MARKER = "Patient Jane Doe 0471"


def raw_body(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Recorded:
    source: Source
    name: str
    headers: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]

    @property
    def raw(self) -> bytes:
        return raw_body(self.body)

    @property
    def now(self) -> datetime:
        """The instant the delivery was sent (Sentry's timestamp header), for ``authenticate``."""
        stamp = self.headers.get("Sentry-Hook-Timestamp")
        return datetime.fromtimestamp(int(stamp), UTC) if stamp else SOME_TIME

    def authenticate(self, *, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        RECEIVERS[self.source].authenticate(
            self.headers if headers is None else headers,
            self.raw if raw is None else raw,
            self.query,
            SECRETS[self.source],
            self.now,
        )

    def parse(self, raw: bytes | None = None) -> Any:
        return RECEIVERS[self.source].parse(self.headers, self.raw if raw is None else raw)


@cache
def _fixture_text(source: Source, name: str) -> str:
    return (FIXTURES / source / f"{name}.json").read_text()


def recorded(source: Source, name: str) -> Recorded:
    """A fresh copy of a recorded delivery (tests may change its body)."""
    document = json.loads(_fixture_text(source, name))
    return Recorded(source, name, document["headers"], document.get("query", {}), document["body"])


@cache
def recorded_names(source: Source) -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in (FIXTURES / source).glob("*.json")))


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every object key's path (``data.issue.id``; list items as ``[]``)."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, f"{prefix}[]")
    return paths


# ---- generators -------------------------------------------------------------------------------

_texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "$ALERT_ID", "https://x.example/a", "http://x", MARKER, "9" * 130, "critical"]),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    _texts,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any]) -> Any:
    """``body`` with one to three values replaced, removed or given a new sibling."""
    document = json.loads(json.dumps(body))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        replacement = draw(json_values)
        if not path:
            return replacement
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = replacement
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = replacement
        else:
            parent.append(replacement)
    return document
