"""Slack's v0 request signature, as Slack computes it for events, interactivity and slash commands.

`X-Slack-Signature: v0=<hex HMAC-SHA256(signing_secret, "v0:{timestamp}:{raw body}")>` with
`X-Slack-Request-Timestamp: {timestamp}` (epoch seconds). The body is signed byte for byte as sent;
the timestamp is the wall clock, never the simulated one.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

__all__ = ["signature", "signed_headers"]


def signature(signing_secret: str, timestamp: str, body: bytes | str) -> str:
    """The `X-Slack-Signature` value for `body` sent at `timestamp`."""
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    signing_secret: str,
    body: bytes,
    *,
    skew_s: int = 0,
    valid: bool = True,
    wall: Callable[[], float] = time.time,
) -> dict[str, str]:
    """Signature headers for one delivery. `skew_s` shifts the timestamp (to test the window);
    `valid=False` signs with a wrong secret (to test rejection)."""
    timestamp = str(int(wall()) + skew_s)
    secret = signing_secret if valid else signing_secret + "-wrong"
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature(secret, timestamp, body)}
