"""Fault injection shared by the PagerDuty, GitHub and Jira emulators (``/_emulator/faults``).

Active faults are one JSON object; ``POST /_emulator/faults`` merges its keys in (a ``null`` value
removes a key) and ``DELETE`` clears everything. Each emulator renders the refusals in its vendor's
own envelope and headers; this module only decides *whether* a call is refused and how:

``latency_ms: N``
    every API call waits N ms before it is handled.
``status: N`` (optional ``count: K`` calls, then it clears; ``rate: 0..1`` probability)
    answer N (400-599) in the vendor's error envelope instead of handling the call.
``rate_limit: {"after": N, "count": K, "retry_after": S, ...}``
    N calls pass (default 0), then K calls (default 1; -1 = until cleared) are refused as the
    vendor refuses an exhausted rate limit, telling the caller to wait S seconds (default 60).
    Counting calls rather than seconds keeps tests free of sleeps. An emulator may accept more keys
    (GitHub: ``kind`` primary|secondary, ``status`` 403|429).
``reject_auth: true``
    every credential is refused as expired or revoked (the vendor's 401).
``revoked_tokens: ["tok", ...]``
    only these tokens are refused.
``drop_reply: {"count": K, "methods": ["POST"], "delay_ms": D}`` (or ``true``)
    a successful write is committed, then the connection is aborted without a reply: the caller
    cannot know whether its write happened (the case an idempotent "create once" must survive).

Errors: :class:`FaultError` (a fault object that cannot be applied; its message is safe to return).
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = ["CallLog", "FaultError", "InjectedFaults", "RateLimitRefusal", "add_fault_routes"]

_COMMON_KEYS = frozenset(
    {"latency_ms", "status", "count", "rate", "rate_limit", "reject_auth", "revoked_tokens", "drop_reply"}
)
_RATE_LIMIT_KEYS = frozenset({"after", "count", "retry_after"})


class FaultError(ValueError):
    """A fault object that cannot be applied; the message is safe to return to the caller."""


@dataclass(frozen=True)
class RateLimitRefusal:
    """One refused call: how long the caller is told to wait, plus the emulator-specific options."""

    retry_after: int
    options: Mapping[str, Any]


def _integer(value: Any, name: str, *, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultError(f"{name} must be an integer")
    if value < low or (high is not None and value > high):
        raise FaultError(f"{name} out of range")
    return value


def _number(value: Any, name: str, *, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"{name} must be a number")
    if value < low or (high is not None and value > high):
        raise FaultError(f"{name} out of range")
    return float(value)


class InjectedFaults:
    """The active faults of one emulator plus the counters they need.

    ``rate_limit_keys`` maps the extra ``rate_limit`` keys an emulator accepts to their allowed
    values (e.g. GitHub's ``{"kind": {"primary", "secondary"}, "status": {403, 429}}``).
    """

    def __init__(
        self,
        *,
        rate_limit_keys: Mapping[str, Iterable[Any]] | None = None,
        rng: random.Random | None = None,
    ):
        self._extra_rate_keys = {k: frozenset(v) for k, v in (rate_limit_keys or {}).items()}
        self._rng = rng or random.Random()
        self.active: dict[str, Any] = {}
        self._rl_seen = 0
        self._rl_refused = 0

    # ---- configuration ------------------------------------------------------------------------

    def merge(self, patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise FaultError("faults must be a JSON object")
        merged = {k: v for k, v in {**self.active, **patch}.items() if v is not None}
        self._validate(merged)
        if "rate_limit" in patch:
            self._rl_seen = self._rl_refused = 0
        self.active = merged
        return dict(self.active)

    def clear(self) -> None:
        self.active = {}
        self._rl_seen = self._rl_refused = 0

    def _validate(self, faults: Mapping[str, Any]) -> None:
        unknown = set(faults) - _COMMON_KEYS
        if unknown:
            raise FaultError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        if "latency_ms" in faults:
            _number(faults["latency_ms"], "latency_ms", high=60_000)
        if "status" in faults:
            _integer(faults["status"], "status", low=400, high=599)
        if "count" in faults:
            _integer(faults["count"], "count")
        if "rate" in faults:
            _number(faults["rate"], "rate", high=1.0)
        if "rate_limit" in faults:
            self._validate_rate_limit(faults["rate_limit"])
        if "reject_auth" in faults and not isinstance(faults["reject_auth"], bool):
            raise FaultError("reject_auth must be true or false")
        if "revoked_tokens" in faults:
            tokens = faults["revoked_tokens"]
            if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
                raise FaultError("revoked_tokens must be a list of strings")
        if "drop_reply" in faults:
            self._validate_drop(faults["drop_reply"])

    def _validate_rate_limit(self, rule: Any) -> None:
        if not isinstance(rule, dict):
            raise FaultError('rate_limit must be an object like {"count": 1, "retry_after": 60}')
        unknown = set(rule) - _RATE_LIMIT_KEYS - set(self._extra_rate_keys)
        if unknown:
            raise FaultError(f"unknown rate_limit key(s): {', '.join(sorted(unknown))}")
        if "after" in rule:
            _integer(rule["after"], "rate_limit.after")
        if "count" in rule:
            _integer(rule["count"], "rate_limit.count", low=-1)
        if "retry_after" in rule:
            _integer(rule["retry_after"], "rate_limit.retry_after", high=86_400)
        for key, allowed in self._extra_rate_keys.items():
            if key in rule and rule[key] not in allowed:
                shown = ", ".join(sorted(str(a) for a in allowed))
                raise FaultError(f"rate_limit.{key} must be one of: {shown}")

    @staticmethod
    def _validate_drop(drop: Any) -> None:
        if isinstance(drop, bool):
            return
        if not isinstance(drop, dict):
            raise FaultError("drop_reply must be true, false or an object")
        if "count" in drop:
            _integer(drop["count"], "drop_reply.count")
        if "delay_ms" in drop:
            _number(drop["delay_ms"], "drop_reply.delay_ms", high=60_000)
        methods = drop.get("methods", ["POST"])
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise FaultError("drop_reply.methods must be a list of HTTP methods")

    # ---- decisions ----------------------------------------------------------------------------

    @property
    def latency_s(self) -> float:
        return float(self.active.get("latency_ms", 0)) / 1000.0

    def refuses_token(self, token: str) -> bool:
        """Whether a credential that would otherwise be valid is refused (expired or revoked)."""
        if self.active.get("reject_auth"):
            return True
        return token in self.active.get("revoked_tokens", ())

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

    def take_rate_limit(self) -> RateLimitRefusal | None:
        """A refusal if the ``rate_limit`` fault refuses this call, else None (the call passes)."""
        rule = self.active.get("rate_limit")
        if rule is None:
            return None
        self._rl_seen += 1
        if self._rl_seen <= int(rule.get("after", 0)):
            return None
        count = int(rule.get("count", 1))
        if count >= 0 and self._rl_refused >= count:
            self.active.pop("rate_limit", None)
            self._rl_seen = self._rl_refused = 0
            return None
        self._rl_refused += 1
        options = {k: v for k, v in rule.items() if k not in _RATE_LIMIT_KEYS}
        return RateLimitRefusal(int(rule.get("retry_after", 60)), options)

    def take_drop(self, method: str) -> float | None:
        """Seconds to wait before aborting the reply of a committed write, or None to reply."""
        drop = self.active.get("drop_reply")
        if not drop:
            return None
        spec: dict[str, Any] = drop if isinstance(drop, dict) else {}
        if method.upper() not in [m.upper() for m in spec.get("methods", ["POST"])]:
            return None
        if "count" in spec:
            remaining = int(spec["count"]) - 1
            if remaining < 0:
                return None
            if remaining == 0:
                self.active.pop("drop_reply", None)
            else:
                self.active["drop_reply"] = {**spec, "count": remaining}
        return float(spec.get("delay_ms", 0)) / 1000.0


class CallLog:
    """Method, path and status of recent API calls (never bodies: they may hold personal data)."""

    def __init__(self, maxlen: int = 2000):
        self.entries: deque[dict[str, Any]] = deque(maxlen=maxlen)

    def record(self, method: str, path: str, status: int) -> None:
        self.entries.append({"method": method, "path": path, "status": status})

    def clear(self) -> None:
        self.entries.clear()

    def view(self) -> list[dict[str, Any]]:
        return list(self.entries)


def add_fault_routes(app: web.Application, key: web.AppKey[InjectedFaults]) -> None:
    """``GET/POST/DELETE /_emulator/faults`` for the faults stored under ``app[key]`` (no auth)."""

    async def get_faults(request: web.Request) -> web.Response:
        return web.json_response(request.app[key].active)

    async def post_faults(request: web.Request) -> web.Response:
        try:
            active = request.app[key].merge(await request.json())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        except FaultError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(active)

    async def delete_faults(request: web.Request) -> web.Response:
        request.app[key].clear()
        return web.json_response({})

    app.router.add_get("/_emulator/faults", get_faults)
    app.router.add_post("/_emulator/faults", post_faults)
    app.router.add_delete("/_emulator/faults", delete_faults)
