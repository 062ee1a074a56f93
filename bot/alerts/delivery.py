"""Reading one webhook delivery, the same way for every source.

Headers are looked up case-insensitively (a plain dict in tests, a ``CIMultiDictProxy`` from aiohttp
later); secrets and signatures are compared in constant time on bytes; the body goes through
``jsonsafety`` and then ``msgspec.convert`` into the source's own typed view, and every failure
becomes an ``AlertRejected`` whose reason names a field path, never a value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import msgspec

from bot.alerts.errors import AlertRejected
from bot.alerts.jsonsafety import UnsafeJson, load_json_object
from bot.alerts.model import is_plain_key

T = TypeVar("T")

# msgspec names the failing field as ``$.data.issue.id`` or ``$.tags[3]``; we quote only such paths.
_FIELD_PATH: Final = re.compile(r"- at `\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)`$")
_MISSING_FIELD: Final = re.compile(r"^Object missing required field `([A-Za-z_][A-Za-z0-9_]*)`")
_EPOCH: Final = re.compile(r"\d{1,16}(?:\.\d{1,9})?")
# Sender ids are short; the bound leaves room for prefixes such as ``metric_alert:`` within KEY_MAX.
ID_MAX: Final = 120
_OLDEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
_NEWEST: Final = datetime(2200, 1, 1, tzinfo=UTC)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` whatever its case, or None."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality of a received token or signature with the expected one."""
    return hmac.compare_digest(_utf8(given), _utf8(expected))


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(_utf8(secret), body, hashlib.sha256).hexdigest()


def _utf8(text: str) -> bytes:
    # A header, query value or misconfigured secret may hold characters UTF-8 cannot encode
    # (lone surrogates); escaping them keeps the comparison total instead of raising.
    return text.encode("utf-8", "backslashreplace")


def body_digest(raw: bytes) -> str:
    """A delivery id for a body that carries none: the same bytes redelivered get the same id."""
    return "body:" + hashlib.sha256(raw).hexdigest()


def read_body(raw: bytes, shape: type[T]) -> tuple[dict[str, Any], T]:
    """The body as a safe JSON object and as ``shape`` (a msgspec Struct of the fields we read)."""
    try:
        document = load_json_object(raw)
    except UnsafeJson as error:
        raise AlertRejected(error.reason) from None
    return document, read_part(document, shape, "")


def read_part(value: object, shape: type[T], at: str) -> T:
    """``value`` (found at field path ``at``) converted to ``shape``, or ``AlertRejected``."""
    try:
        return msgspec.convert(value, shape)
    except msgspec.ValidationError as error:
        raise AlertRejected(_validation_reason(str(error), at)) from None


def _validation_reason(message: str, at: str) -> str:
    path_match = _FIELD_PATH.search(message)
    path = (at + (path_match.group(1) if path_match else "")).lstrip(".")
    missing = _MISSING_FIELD.match(message)
    if missing:
        return f"field {(path + '.' if path else '') + missing.group(1)} is missing"
    if path_match is None and not at:
        return "a field has the wrong type"
    return f"field {path or '(top level)'} has the wrong type"


def plain_id(value: str | int | None) -> str | None:
    """An identifier from the payload as text, or None when absent, empty or not a plain id."""
    if value is None:
        return None
    text = str(value).strip()
    return text if text and len(text) <= ID_MAX and is_plain_key(text) else None


def required_id(value: str | int, path: str) -> str:
    """A group identifier the payload must carry as a plain id, else ``AlertRejected``."""
    text = plain_id(value)
    if text is None:
        raise AlertRejected(f"field {path} is not a plain identifier")
    return text


def iso_time(value: str | None) -> datetime | None:
    """An ISO 8601 instant as an aware UTC datetime; a zone-less one is read as UTC; else None."""
    if not value or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return _sane(parsed.astimezone(UTC))
    except (ValueError, OverflowError):  # not ISO 8601, or an offset that leaves the calendar
        return None


def epoch_time(value: str | int | float | None) -> datetime | None:
    """Epoch seconds or milliseconds (told apart by size) as an aware UTC datetime, else None."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not _EPOCH.fullmatch(text):
        return None
    number = float(text)
    if number >= 100_000_000_000:  # later than the year 5138 in seconds: it must be milliseconds
        number /= 1000
    try:
        return _sane(datetime.fromtimestamp(number, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _sane(instant: datetime) -> datetime | None:
    return instant if _OLDEST <= instant < _NEWEST else None
