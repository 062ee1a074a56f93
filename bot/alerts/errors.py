"""The one error tree of the monitoring-alert edge.

```
AlertError                 base; ``reason`` is a short English sentence safe to log and to answer
├── AlertUnauthorized      signature, token or timestamp check failed      -> HTTP 401
└── AlertRejected          the body cannot be read as this source's JSON   -> HTTP 400
```

A ``reason`` never holds payload text (posts, titles and error messages may hold personal data): it
names only header names, field paths and limits, so the endpoint may answer it and log it as it is.
Anything else escaping ``authenticate`` or ``parse`` is a bug in this package, not bad input.
"""

from __future__ import annotations


class AlertError(Exception):
    """Base of the alert edge's errors; ``reason`` is safe to show and log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AlertUnauthorized(AlertError):
    """The delivery did not prove it comes from the configured sender (answer 401)."""


class AlertRejected(AlertError):
    """The delivery's body is not something this source sends, or not safe to keep (answer 400)."""
