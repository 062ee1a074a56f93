"""Verifying signed callbacks from a ServiceNow business rule (pure; no web framework here).

The business rule sends the raw JSON body with the header::

    X-Golive-Signature: t=<unix seconds>,v1=<HMAC-SHA256(secret, f"{t}.{raw_body}")>

The MAC may be hex (64 characters) or Base64, which is what ``GlideCertificateEncryption
.generateMac(key, "HmacSHA256", data)`` returns (give it the secret Base64-encoded as its key).
Several ``v1=`` parts and several secrets are accepted so a secret can be rotated without downtime.
Verify over the **raw** body before parsing it. A timestamp more than ``tolerance_s`` (300 s) from
``now`` is refused; a replay inside that window is caught downstream by the
``(sys_id, sys_mod_count)`` dedup. Every refusal is a :class:`SignatureError` whose ``reason`` is
one of ``missing``, ``malformed``, ``mismatch`` or ``stale`` (answer 401 with it; never 5xx).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Literal

__all__ = [
    "SIGNATURE_HEADER",
    "MalformedSignature",
    "MissingSignature",
    "SignatureError",
    "SignatureMismatch",
    "StaleSignature",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Golive-Signature"
DEFAULT_TOLERANCE_S = 300
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")

Reason = Literal["missing", "malformed", "mismatch", "stale"]


class SignatureError(ValueError):
    reason: Reason = "malformed"

    def __init__(self, detail: str):
        super().__init__(f"{self.reason}: {detail}")
        self.detail = detail


class MissingSignature(SignatureError):
    reason: Reason = "missing"


class MalformedSignature(SignatureError):
    reason: Reason = "malformed"


class SignatureMismatch(SignatureError):
    reason: Reason = "mismatch"


class StaleSignature(SignatureError):
    reason: Reason = "stale"


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _mac(secret: str | bytes, timestamp: int, body: bytes) -> bytes:
    return hmac.new(_key(secret), f"{timestamp}.".encode() + body, hashlib.sha256).digest()


def sign(secret: str | bytes, body: bytes, t: int, *, encoding: Literal["hex", "base64"] = "hex") -> str:
    """The header value a sender puts on ``body`` at unix time ``t``."""
    digest = _mac(secret, t, body)
    mac = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")
    return f"t={t},v1={mac}"


def _decode_mac(text: str) -> bytes | None:
    if _HEX.match(text):
        return bytes.fromhex(text)
    try:
        raw = base64.b64decode(
            text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None
        )
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == hashlib.sha256().digest_size else None


def verify_signature(
    header: str | None,
    body: bytes,
    secrets: Sequence[str | bytes],
    *,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> int:
    """Check ``header`` against ``body``; return the signed timestamp or raise SignatureError."""
    if not secrets:
        raise ValueError("no callback secret configured")
    if header is None or not header.strip():
        raise MissingSignature(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    macs: list[bytes] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise MalformedSignature("expected comma-separated key=value parts")
        if key == "t":
            if timestamp is not None or not (value.isascii() and value.isdigit()) or len(value) > 12:
                raise MalformedSignature("bad or repeated t=")
            timestamp = int(value)
        elif key == "v1":
            decoded = _decode_mac(value.strip())
            if decoded is None:
                raise MalformedSignature("v1= is neither a hex nor a Base64 SHA-256 MAC")
            macs.append(decoded)
        # Unknown keys (future schemes) are ignored, as Stripe does.
    if timestamp is None or not macs:
        raise MalformedSignature("t= and at least one v1= are required")
    if abs(now - timestamp) > tolerance_s:
        raise StaleSignature(f"timestamp is {abs(now - timestamp):.0f}s away from now")
    matched = False
    for secret in secrets:
        expected = _mac(secret, timestamp, body)
        for mac in macs:
            # Compare every pair so the time taken does not depend on which one matched.
            matched |= hmac.compare_digest(expected, mac)
    if not matched:
        raise SignatureMismatch("no signature matches a configured secret")
    return timestamp
