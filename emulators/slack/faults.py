"""Fault injection for the emulated Web API (``POST/DELETE /_emulator/faults``).

Active faults are one JSON object; a POST merges its keys in (a ``null`` value removes a key) and
DELETE clears everything. Faults touch only ``/api/{method}``:

``latency_ms: N``
    every call waits N ms first.
``status: N`` (400-599)
    answers HTTP N with ``{"ok": false, "error": ...}`` instead of handling the call.
``error: "<slack error>"``
    answers HTTP 200 ``{"ok": false, "error": "<slack error>"}`` instead of handling the call.
``count: K``
    ``status`` / ``error`` fire for the next K matching calls, then clear themselves.
``methods: ["chat.postMessage", ...]``
    ``status`` / ``error`` fire only for these methods (default: every method).
``rate_limit: {"limit": N, "retry_after": S, "methods"?: [...]}``
    counted per rate-limit tier, as Slack does (chat.postMessage has its own bucket): N calls of a
    tier pass, the next gets HTTP 429 with ``Retry-After: S`` and ``{"ok": false, "error":
    "ratelimited"}``, and that tier stays refused until S seconds after its first refusal, when
    its count starts again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["TIERS", "FaultError", "FaultState", "tier_of"]

# Slack's published tiers for the methods the emulator serves ("special" = chat.postMessage's own).
TIERS: dict[str, str] = {
    "api.test": "tier4",
    "auth.test": "tier4",
    "chat.postMessage": "special",
    "chat.update": "tier3",
    "chat.delete": "tier3",
    "chat.postEphemeral": "tier4",
    "chat.getPermalink": "tier4",
    "conversations.archive": "tier2",
    "conversations.create": "tier2",
    "conversations.history": "tier3",
    "conversations.info": "tier3",
    "conversations.join": "tier3",
    "conversations.list": "tier2",
    "conversations.open": "tier3",
    "conversations.replies": "tier3",
    "users.info": "tier4",
    "users.lookupByEmail": "tier3",
    "views.open": "tier4",
}
_KEYS = frozenset({"latency_ms", "status", "error", "count", "methods", "rate_limit"})


def tier_of(method: str) -> str:
    return TIERS.get(method, "tier3")


class FaultError(ValueError):
    """A fault object that cannot be applied; the message is safe to return to the caller."""


@dataclass(frozen=True)
class Refusal:
    """What to answer instead of handling a call."""

    status: int
    error: str
    headers: Mapping[str, str]


def _methods(value: Any, name: str) -> None:
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise FaultError(f"{name} must be a list of method names")


def _validate(faults: Mapping[str, Any]) -> None:
    unknown = set(faults) - _KEYS
    if unknown:
        raise FaultError(f"unknown fault(s): {', '.join(sorted(unknown))}")
    latency = faults.get("latency_ms", 0)
    if isinstance(latency, bool) or not isinstance(latency, int | float) or not 0 <= latency <= 60_000:
        raise FaultError("latency_ms must be a number from 0 to 60000")
    if "status" in faults:
        status = faults["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultError("status must be an HTTP error status (400-599)")
    if "error" in faults and (not isinstance(faults["error"], str) or not faults["error"]):
        raise FaultError("error must be a Slack error code such as channel_not_found")
    if "count" in faults:
        count = faults["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FaultError("count must be a positive integer")
    if "methods" in faults:
        _methods(faults["methods"], "methods")
    if "rate_limit" in faults:
        rule = faults["rate_limit"]
        if not isinstance(rule, dict) or set(rule) - {"limit", "retry_after", "methods"}:
            raise FaultError('rate_limit must be {"limit": N, "retry_after": S, "methods"?: [...]}')
        limit = rule.get("limit")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise FaultError("rate_limit.limit must be a non-negative integer")
        retry_after = rule.get("retry_after", 30)
        if isinstance(retry_after, bool) or not isinstance(retry_after, int | float) or retry_after <= 0:
            raise FaultError("rate_limit.retry_after must be a positive number of seconds")
        if "methods" in rule:
            _methods(rule["methods"], "rate_limit.methods")


class FaultState:
    """The active faults plus the per-tier counters they need. One per emulator."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self.active: dict[str, Any] = {}
        self._used: dict[str, int] = {}
        self._blocked_until: dict[str, float] = {}

    def merge(self, patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise FaultError("faults must be a JSON object")
        merged = {k: v for k, v in {**self.active, **patch}.items() if v is not None}
        _validate(merged)
        if "rate_limit" in patch:
            self._used, self._blocked_until = {}, {}
        self.active = merged
        return dict(self.active)

    def clear(self) -> None:
        self.active = {}
        self._used, self._blocked_until = {}, {}

    @property
    def latency_s(self) -> float:
        return float(self.active.get("latency_ms", 0)) / 1000.0

    def check(self, method: str) -> Refusal | None:
        """The refusal for this call, if a fault fires; counts the call against its tier."""
        limited = self._rate_limit(method)
        if limited is not None:
            return limited
        if "status" not in self.active and "error" not in self.active:
            return None
        methods = self.active.get("methods")
        if methods is not None and method not in methods:
            return None
        status = int(self.active.get("status", 200))
        error = str(self.active.get("error") or ("service_unavailable" if status == 503 else "fatal_error"))
        if "count" in self.active:
            remaining = int(self.active["count"]) - 1
            if remaining <= 0:
                for key in ("status", "error", "count", "methods"):
                    self.active.pop(key, None)
            else:
                self.active["count"] = remaining
        return Refusal(status, error, {})

    def _rate_limit(self, method: str) -> Refusal | None:
        rule = self.active.get("rate_limit")
        if rule is None or ("methods" in rule and method not in rule["methods"]):
            return None
        tier = tier_of(method)
        limit, retry_after = int(rule["limit"]), float(rule.get("retry_after", 30))
        now = self._monotonic()
        blocked_until = self._blocked_until.get(tier)
        if blocked_until is not None and now >= blocked_until:
            self._used[tier], blocked_until = 0, None
            del self._blocked_until[tier]
        if blocked_until is None and self._used.get(tier, 0) < limit:
            self._used[tier] = self._used.get(tier, 0) + 1
            return None
        if blocked_until is None:
            blocked_until = self._blocked_until[tier] = now + retry_after
        remaining = max(blocked_until - now, 0.0)
        return Refusal(429, "ratelimited", {"Retry-After": str(max(1, math.ceil(remaining)))})
