"""The Slack emulator's one error tree; each HTTP face renders it in its own wire shape.

SlackEmulatorError
├── ApiError      a Web API failure: HTTP 200 {"ok": false, "error": code, ...extra}
└── DriverError   a mistake in a driver API call: HTTP 4xx {"error": {"code", "message"}}
"""

from __future__ import annotations

from typing import Any


class SlackEmulatorError(Exception):
    pass


class ApiError(SlackEmulatorError):
    """`code` is Slack's error string (channel_not_found, not_in_channel, ...)."""

    def __init__(self, code: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = dict(extra)
        if message:
            self.extra["response_metadata"] = {"messages": [f"[ERROR] {message}"]}

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.code, **self.extra}


class DriverError(SlackEmulatorError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def code(self) -> str:
        return {400: "BadRequest", 404: "NotFound", 409: "Conflict"}.get(self.status, "Error")
