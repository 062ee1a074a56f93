"""Slack's v0 request signature, checked on the raw body.

``X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:{X-Slack-Request-Timestamp}:{body}")>``
over the exact bytes Slack sent (re-encoding the form or JSON would break it). The timestamp must be
within :data:`WINDOW_S` of the wall clock, both ways: an old request is a replay, a future one is
forged or from a broken clock. The wall clock, whatever the product's simulated clock says.

Error tree::

    SignatureRejected     missing or malformed headers, stale or future timestamp, wrong signature
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

WINDOW_S = 300
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


class SignatureRejected(Exception):
    """The request is not provably from Slack; ``reason`` names why (never the secret or body)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + digest.hexdigest()


class SignatureVerifier:
    """Checks requests against one signing secret (or several while it is rotated)."""

    def __init__(self, secrets: tuple[str, ...], clock: Callable[[], float] = time.time) -> None:
        self._secrets = tuple(secret for secret in secrets if secret)
        self._clock = clock

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Return if the request is signed by Slack now; raise :class:`SignatureRejected` otherwise."""
        timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
        signature = headers.get(SIGNATURE_HEADER, "").strip()
        if not timestamp or not signature:
            raise SignatureRejected("missing Slack signature headers")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise SignatureRejected("malformed request timestamp")
        if abs(self._clock() - int(timestamp)) > WINDOW_S:
            raise SignatureRejected("request timestamp outside the 5 minute window")
        if not self._secrets:
            raise SignatureRejected("no signing secret configured")
        given = signature.encode("ascii", "replace")
        if not any(
            hmac.compare_digest(signature_of(secret, timestamp, body).encode(), given)
            for secret in self._secrets
        ):
            raise SignatureRejected("signature does not match")
