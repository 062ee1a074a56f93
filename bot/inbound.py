"""Reading inbound request bodies safely, for every endpoint (Teams, Slack, alert webhooks, callbacks).

A body is refused now, with a 4xx and a reason, when the product could not process it later: more
than :data:`MAX_BODY_BYTES`, not JSON, a number out of range (NaN and Infinity are not JSON),
nesting deeper than :data:`MAX_DEPTH`, a lone surrogate or a NUL character in any string (PostgreSQL
refuses to store both). Reasons name the problem and where, never the content.

Error tree::

    BodyRejected         the body cannot be accepted; ``status`` (400 or 413) and ``reason``
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from aiohttp import web

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 64

T = TypeVar("T")

_decoder = msgspec.json.Decoder()


class BodyRejected(Exception):
    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, however it arrives (chunked, slow, in many packets), up to ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyRejected(f"request body exceeds {limit // 1024} KiB", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise BodyRejected(f"request body exceeds {limit // 1024} KiB", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(body: bytes) -> Any:
    """Parse a JSON body and check it can be stored and processed (see the module docstring)."""
    try:
        value = _decoder.decode(body)
    except RecursionError:
        raise BodyRejected(f"JSON is nested deeper than {MAX_DEPTH} levels") from None
    except msgspec.ValidationError as error:
        raise BodyRejected(f"body is not valid JSON: {_short(error)}") from None
    except msgspec.DecodeError as error:
        reason = "a string holds a lone surrogate" if "truncated" in str(error) else "body is not valid JSON"
        if reason.startswith("a string") and not _has_surrogate_escape(body):
            reason = "body is not valid JSON"
        raise BodyRejected(reason) from None
    # msgspec already refused lone surrogates and numbers out of range. A NUL can only arrive
    # escaped, and the depth is at most the count of brackets: most bodies need no walk.
    if b"\\u0000" in body or body.count(b"{") + body.count(b"[") > MAX_DEPTH:
        check_storable(value)
    return value


def check_storable(value: Any) -> None:
    """Depth at most :data:`MAX_DEPTH`, no NUL and no lone surrogate in any key or string."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_DEPTH:
                raise BodyRejected(f"JSON is nested deeper than {MAX_DEPTH} levels")
            for key, child in item.items():
                _check_string(key)
                if isinstance(child, (dict, list)):
                    stack.append((child, depth + 1))
                elif isinstance(child, str):
                    _check_string(child)
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                raise BodyRejected(f"JSON is nested deeper than {MAX_DEPTH} levels")
            for child in item:
                if isinstance(child, (dict, list)):
                    stack.append((child, depth + 1))
                elif isinstance(child, str):
                    _check_string(child)
        elif isinstance(item, str):
            _check_string(item)


def _check_string(text: str) -> None:
    if "\x00" in text:
        raise BodyRejected("a string holds a NUL character")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BodyRejected("a string holds a lone surrogate") from None


def _has_surrogate_escape(body: bytes) -> bool:
    lowered = body.lower()
    return (
        b"\\ud8" in lowered
        or b"\\ud9" in lowered
        or b"\\uda" in lowered
        or b"\\udb" in lowered
        or (b"\\udc" in lowered or b"\\udd" in lowered or b"\\ude" in lowered or b"\\udf" in lowered)
    )


def convert(value: Any, model: type[T]) -> T:
    """``value`` as the typed model of what the product reads; 400 naming the field when it is not."""
    try:
        return msgspec.convert(value, model)
    except msgspec.ValidationError as error:
        raise BodyRejected(_short(error)) from None


def _short(error: Exception) -> str:
    """msgspec's messages name the expected type and the path (``$.conversation.id``), not values."""
    return str(error).splitlines()[0][:200]
