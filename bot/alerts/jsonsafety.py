"""Decode an inbound JSON body only if the product can keep and process it later.

The inbound-edge rule (docs/CONTRACTS.md section 5): a body the product could not process later is
refused now, with a reason.
``load_json`` refuses, with ``UnsafeJson(reason)``:

- a body over ``max_bytes`` (default 1 MiB), empty, or not UTF-8 (a byte-order mark included);
- nesting deeper than ``max_depth`` (default 64; the top-level object or array is depth 1);
- ``NaN``, ``Infinity`` and numbers out of range (``1e400`` would become infinity; integers of more
  than 4,300 digits are past Python's conversion limit);
- lone UTF-16 surrogate escapes (``"\\ud800"``) and NUL characters (``"\\u0000"``): PostgreSQL text
  refuses both, and a lone surrogate cannot be encoded back to UTF-8;
- anything else that is not JSON (RFC 8259, as msgspec reads it; duplicate keys keep the last value).

``load_json_object`` also requires a top-level object. Both return plain Python values (dict, list,
str, int, float, bool, None); validate the fields you read with ``msgspec.convert`` afterwards.

Cost: the checks are C-level bytes operations (replace, split, translate, one regular expression)
plus one msgspec decode, a few tens of milliseconds for a 1 MiB body; deep nesting is refused before
the decoder could recurse.
The module depends only on the standard library and msgspec, so every inbound endpoint (Teams, Slack,
ServiceNow callbacks, alerts) can reuse it; ``reason`` never contains body text.
"""

from __future__ import annotations

import operator
import re
from functools import partial
from itertools import accumulate, count
from typing import Any, Final

import msgspec

MAX_BYTES: Final = 1024 * 1024
MAX_DEPTH: Final = 64

# Brackets only matter for depth: opening ones become 2, closing ones 0, everything else goes.
_BRACKETS_ONLY: Final = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS: Final = bytes(set(range(256)) - set(b"[]{}"))
_INNERMOST_PAIR: Final = b"\x02\x00"
# Once escaped backslashes and quotes are masked, every backslash left starts a real escape.
_SUSPECT_ESCAPE: Final = re.compile(rb"\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_NON_FINITE: Final = re.compile(rb"(?<![A-Za-z0-9_])-?(?:NaN|Infinity)(?![A-Za-z0-9_])")

_decoder: Final = msgspec.json.Decoder()


class UnsafeJson(ValueError):
    """The body cannot be accepted; ``reason`` says why without quoting it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def load_json(raw: bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Decode ``raw`` after the safety checks above; raises ``UnsafeJson``."""
    if len(raw) > max_bytes:
        raise UnsafeJson(f"body is larger than {max_bytes} bytes")
    if not raw.strip():
        raise UnsafeJson("body is empty")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise UnsafeJson("body starts with a byte-order mark")
    # Same length as raw: an escaped backslash or quote becomes "__", so string literals are exactly
    # what lies between the remaining quotes, and positions still line up for the escape check.
    masked = raw.replace(b"\\\\", b"__").replace(b'\\"', b"__")
    outside_strings = b"".join(masked.split(b'"')[::2])
    if _deeper_than(outside_strings, max_depth):
        raise UnsafeJson(f"JSON is nested deeper than {max_depth} levels")
    if b"\\u" in masked:
        _check_escapes(masked)
    try:
        return _decoder.decode(raw)
    except msgspec.ValidationError as error:  # msgspec's only ones here: numbers it cannot represent
        raise UnsafeJson("JSON has a number out of range") from error
    except msgspec.DecodeError as error:
        if _NON_FINITE.search(outside_strings):
            raise UnsafeJson("JSON has NaN or Infinity, which JSON does not allow") from error
        if b"\x00" in raw:
            raise UnsafeJson("body has a NUL byte") from error
        if _has_bad_utf8(raw):
            raise UnsafeJson("body is not UTF-8") from error
        raise UnsafeJson("body is not valid JSON") from error


def load_json_object(raw: bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Like ``load_json``, and the top level must be an object."""
    value = load_json(raw, max_bytes=max_bytes, max_depth=max_depth)
    if not isinstance(value, dict):
        raise UnsafeJson("JSON top level is not an object")
    return value


def nesting_depth(outside_strings: bytes) -> int:
    """Deepest bracket nesting of JSON text with its string literals removed (exact, for any size)."""
    steps = outside_strings.translate(_BRACKETS_ONLY, _NOT_BRACKETS)
    if not steps:
        return 0
    # Running sum of (2 or 0) minus the number of brackets seen = depth after each bracket.
    return int(max(map(operator.sub, accumulate(steps), range(1, len(steps) + 1))))


def _deeper_than(outside_strings: bytes, max_depth: int) -> bool:
    """Whether nesting exceeds ``max_depth``, in C-level bytes operations for ordinary bodies.

    Removing every adjacent open-close pair strips the innermost containers, so a balanced text is
    empty after ``max_depth`` rounds exactly when it nests no deeper; ordinary bodies shrink to
    nothing in a few rounds. A round that removes little means a deep, narrow text: then (as when
    something is left, a deep or unbalanced text) the depth is measured bracket by bracket, stopping
    at the first one past the limit, so a hostile megabyte of brackets costs milliseconds.
    """
    steps = outside_strings.translate(_BRACKETS_ONLY, _NOT_BRACKETS)
    if steps.count(2) <= max_depth:
        return False
    rest = steps
    for _ in range(max_depth):
        shorter = rest.replace(_INNERMOST_PAIR, b"")
        if not shorter:
            return False
        if len(shorter) > len(rest) * 7 // 8:
            break
        rest = shorter
    depths = map(operator.sub, accumulate(steps), count(1))
    return any(map(partial(operator.lt, max_depth), depths))


def _check_escapes(raw: bytes) -> None:
    expect_low_at: int | None = None
    for match in _SUSPECT_ESCAPE.finditer(raw):
        unit = int(match.group(1), 16)
        starts_at = match.end() - 6
        if expect_low_at is not None:
            if starts_at == expect_low_at and 0xDC00 <= unit <= 0xDFFF:
                expect_low_at = None
                continue
            raise UnsafeJson("JSON has a lone UTF-16 surrogate escape")
        if unit == 0:
            raise UnsafeJson("JSON has a NUL character (\\u0000)")
        if unit >= 0xDC00:
            raise UnsafeJson("JSON has a lone UTF-16 surrogate escape")
        expect_low_at = match.end()
    if expect_low_at is not None:
        raise UnsafeJson("JSON has a lone UTF-16 surrogate escape")


def _has_bad_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
