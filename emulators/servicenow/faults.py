"""Fault injection for the emulated Table API (``POST/DELETE /_emulator/faults``).

Active faults are one JSON object; a POST merges its keys in (a ``null`` value removes a key) and
DELETE clears everything. Faults touch only ``/api/now/...``:

``latency_ms: N``
    every call waits N ms before it is handled.
``outage: true``
    503 with the error envelope.
``status: N`` (with optional ``rate: 0..1`` probability and ``count: K`` calls, then it clears)
    answers N with the error envelope instead of handling the call.
``rate_limit: {"limit": N, "retry_after": S}``
    N calls pass; the next is refused with 429, ``Retry-After: S``, ``X-RateLimit-Limit``,
    ``X-RateLimit-Reset`` and ``X-RateLimit-Rule``, and calls stay refused until S seconds after
    that first refusal, when the count starts again. Passed calls carry the X-RateLimit headers too.
``drop_reply_after_commit: true | {"count": K, "delay_ms": D, "methods": ["POST"]}``
    the call is handled and committed, then (after D ms) the connection is aborted without a reply:
    the client sees a reset or its own read timeout and cannot know whether the write happened.
``refuse_fields: ["resolved_by", ...] | {"fields": [...], "status": 403|400, "silent": false}``
    an instance that guards these fields (a field ACL, a data policy): a write (POST, PUT, PATCH,
    also inside a batch) that gives one of them a non-empty value is answered ``status`` (403 by
    default) with the error envelope and changes nothing; with ``"silent": true`` the write goes
    through and only those fields are left out, as a field-level write ACL does.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FaultError", "FaultState", "FieldRefusal", "RateDecision"]

RATE_LIMIT_RULE_SYS_ID = "5f0a7c2e1b9d4e3f8a6b2c1d0e9f8a7b"
_KEYS = frozenset(
    {
        "latency_ms",
        "outage",
        "status",
        "rate",
        "count",
        "rate_limit",
        "drop_reply_after_commit",
        "refuse_fields",
    }
)


class FaultError(ValueError):
    """A fault object that cannot be applied; the message is safe to return to the caller."""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    headers: Mapping[str, str]


def _number(value: Any, name: str, *, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"{name} must be a number")
    if value < low or (high is not None and value > high):
        raise FaultError(f"{name} out of range")
    return float(value)


def _validate(faults: Mapping[str, Any]) -> None:
    unknown = set(faults) - _KEYS
    if unknown:
        raise FaultError(f"unknown fault(s): {', '.join(sorted(unknown))}")
    if "latency_ms" in faults:
        _number(faults["latency_ms"], "latency_ms")
    if "outage" in faults and not isinstance(faults["outage"], bool):
        raise FaultError("outage must be true or false")
    if "status" in faults:
        status = faults["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultError("status must be an HTTP error status (400-599)")
    if "rate" in faults:
        _number(faults["rate"], "rate", high=1.0)
    if "count" in faults:
        count = faults["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise FaultError("count must be a non-negative integer")
    if "rate_limit" in faults:
        rule = faults["rate_limit"]
        if not isinstance(rule, dict):
            raise FaultError('rate_limit must be {"limit": N, "retry_after": S}')
        limit = rule.get("limit")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise FaultError("rate_limit.limit must be a non-negative integer")
        _number(rule.get("retry_after", 60), "rate_limit.retry_after", low=0.001)
    if "drop_reply_after_commit" in faults:
        drop = faults["drop_reply_after_commit"]
        if isinstance(drop, dict):
            if "count" in drop:
                _number(drop["count"], "drop_reply_after_commit.count")
            if "delay_ms" in drop:
                _number(drop["delay_ms"], "drop_reply_after_commit.delay_ms")
            methods = drop.get("methods", ["POST"])
            if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
                raise FaultError("drop_reply_after_commit.methods must be a list of HTTP methods")
        elif not isinstance(drop, bool):
            raise FaultError("drop_reply_after_commit must be true, false or an object")
    if "refuse_fields" in faults:
        _refusal_spec(faults["refuse_fields"])


@dataclass(frozen=True)
class FieldRefusal:
    """Which written fields the instance refuses, and how (see ``refuse_fields``)."""

    fields: frozenset[str]
    status: int = 403
    silent: bool = False


def _refusal_spec(spec: Any) -> FieldRefusal:
    if isinstance(spec, list):
        spec = {"fields": spec}
    if not isinstance(spec, dict) or set(spec) - {"fields", "status", "silent"}:
        raise FaultError('refuse_fields must be a list of field names or {"fields", "status", "silent"}')
    names = spec.get("fields")
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise FaultError("refuse_fields.fields must be a list of field names")
    status = spec.get("status", 403)
    if status not in (400, 403):
        raise FaultError("refuse_fields.status must be 400 or 403")
    silent = spec.get("silent", False)
    if not isinstance(silent, bool):
        raise FaultError("refuse_fields.silent must be true or false")
    return FieldRefusal(frozenset(names), status, silent)


class FaultState:
    """The active faults plus the counters they need. Lives in the app, one per emulator."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ):
        self._monotonic = monotonic
        self._wall = wall
        self._rng = rng or random.Random()
        self.active: dict[str, Any] = {}
        self._rl_used = 0
        self._rl_blocked_until: float | None = None
        # Observability for tests: how many Table API calls are being handled at once.
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests = 0
        # (monotonic start, method, path, status) of recent calls; 0 = reply dropped.
        self.calls: deque[tuple[float, str, str, int]] = deque(maxlen=2000)

    def now(self) -> float:
        return self._monotonic()

    def merge(self, patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise FaultError("faults must be a JSON object")
        merged = {**self.active, **patch}
        merged = {k: v for k, v in merged.items() if v is not None}
        _validate(merged)
        if "rate_limit" in patch:
            self._rl_used, self._rl_blocked_until = 0, None
        self.active = merged
        return dict(self.active)

    def clear(self) -> None:
        self.active = {}
        self._rl_used, self._rl_blocked_until = 0, None

    @property
    def latency_s(self) -> float:
        return float(self.active.get("latency_ms", 0)) / 1000.0

    @property
    def outage(self) -> bool:
        return bool(self.active.get("outage"))

    def take_status(self) -> int | None:
        """The status to answer instead of handling the call, if the ``status`` fault fires."""
        status = self.active.get("status")
        if status is None:
            return None
        if self._rng.random() >= float(self.active.get("rate", 1.0)):
            return None
        if "count" in self.active:
            remaining = int(self.active["count"]) - 1
            if remaining <= 0:
                for key in ("status", "rate", "count"):
                    self.active.pop(key, None)
            else:
                self.active["count"] = remaining
        return int(status)

    def check_rate_limit(self) -> RateDecision | None:
        rule = self.active.get("rate_limit")
        if rule is None:
            return None
        limit = int(rule["limit"])
        retry_after = float(rule.get("retry_after", 60))
        now = self._monotonic()
        if self._rl_blocked_until is not None and now >= self._rl_blocked_until:
            self._rl_used, self._rl_blocked_until = 0, None
        if self._rl_blocked_until is None and self._rl_used < limit:
            self._rl_used += 1
            reset = self._wall() + retry_after
            return RateDecision(True, self._headers(limit, reset))
        if self._rl_blocked_until is None:
            self._rl_blocked_until = now + retry_after
        remaining = self._rl_blocked_until - now
        shown = str(math.ceil(remaining)) if retry_after.is_integer() else f"{remaining:.3f}"
        headers = dict(self._headers(limit, self._wall() + remaining))
        headers["Retry-After"] = shown
        return RateDecision(False, headers)

    @staticmethod
    def _headers(limit: int, reset: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Reset": str(math.ceil(reset)),
            "X-RateLimit-Rule": RATE_LIMIT_RULE_SYS_ID,
        }

    @property
    def field_refusal(self) -> FieldRefusal | None:
        spec = self.active.get("refuse_fields")
        return None if spec is None else _refusal_spec(spec)

    def take_drop(self, method: str) -> float | None:
        """Seconds to wait before aborting the reply of a committed call, or None to reply."""
        drop = self.active.get("drop_reply_after_commit")
        if not drop:
            return None
        spec = drop if isinstance(drop, dict) else {}
        if method.upper() not in [m.upper() for m in spec.get("methods", ["POST"])]:
            return None
        if "count" in spec:
            remaining = int(spec["count"]) - 1
            if remaining < 0:
                return None
            if remaining == 0:
                self.active.pop("drop_reply_after_commit", None)
            else:
                self.active["drop_reply_after_commit"] = {**spec, "count": remaining}
        return float(spec.get("delay_ms", 0)) / 1000.0
