"""Building ServiceNow encoded queries from untrusted values, safely.

An encoded query is ``field<op>value`` conditions joined by ``^`` (AND), ``^OR`` and ``^NQ`` (a new
OR-ed query). ServiceNow has **no escape syntax**: a value holding ``^NQactive=true`` silently turns
one condition into two queries, and a value starting with ``javascript:`` is evaluated on the
server. pysnow's ``QueryBuilder`` passes such values through unchanged.

So this module refuses them instead of trying to quote them: :func:`condition` raises
:class:`~servicenow.errors.UnsafeQueryValue` for any value containing ``^`` or a line break, or
starting with ``javascript:``; list operators also refuse ``,`` inside an item. Every value that is
accepted reaches the server as exactly one condition with exactly that value (a Hypothesis property
in the tests holds this against the emulator's parser). Callers that must match arbitrary text
(a comment body, say) fetch by a safe key and compare in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from servicenow.errors import UnsafeQueryValue

__all__ = ["EncodedQuery", "condition", "format_sn_datetime", "parse_sn_datetime"]

_FIELD = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_SCALAR_OPS = frozenset({"=", "!=", "LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH", "<", "<=", ">", ">="})
_LIST_OPS = frozenset({"IN", "NOT IN"})
_UNARY_OPS = frozenset({"ISEMPTY", "ISNOTEMPTY"})

SN_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_sn_datetime(moment: datetime) -> str:
    """An aware datetime as ServiceNow's UTC ``YYYY-MM-DD HH:MM:SS``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return moment.astimezone(UTC).strftime(SN_DATETIME_FORMAT)


def parse_sn_datetime(text: str) -> datetime:
    """ServiceNow's UTC ``YYYY-MM-DD HH:MM:SS`` as an aware UTC datetime."""
    return datetime.strptime(text, SN_DATETIME_FORMAT).replace(tzinfo=UTC)


def _check_value(field: str, value: str) -> str:
    if not isinstance(value, str):
        raise UnsafeQueryValue(field, "not a string")
    if "^" in value:
        raise UnsafeQueryValue(field, "contains '^', which would start a new condition")
    if "\r" in value or "\n" in value:
        raise UnsafeQueryValue(field, "contains a line break")
    if value.lstrip().lower().startswith("javascript:"):
        raise UnsafeQueryValue(field, "starts with 'javascript:', which the server would evaluate")
    return value


def condition(field: str, op: str, value: str | Iterable[str] | None = None) -> str:
    """One encoded-query condition, or :class:`UnsafeQueryValue` if it cannot be expressed safely."""
    if not _FIELD.match(field):
        raise UnsafeQueryValue(field, "not a field name")
    if op in _UNARY_OPS:
        return f"{field}{op}"
    if op in _SCALAR_OPS:
        if not isinstance(value, str):
            raise UnsafeQueryValue(field, f"operator {op} needs one string value")
        _check_value(field, value)
        if op in ("<", ">") and value.startswith("="):
            raise UnsafeQueryValue(field, f"'{op}' followed by '=' would read as '{op}='")
        return f"{field}{op}{value}"
    if op in _LIST_OPS:
        if value is None or isinstance(value, str):
            raise UnsafeQueryValue(field, f"operator {op} needs a list of values")
        items = [_check_value(field, item) for item in value]
        if not items:
            raise UnsafeQueryValue(field, f"operator {op} needs at least one value")
        if any("," in item for item in items):
            raise UnsafeQueryValue(field, "a list item contains ','")
        return f"{field}{op}{','.join(items)}"
    raise UnsafeQueryValue(field, f"unsupported operator {op!r}")


class EncodedQuery:
    """A conjunction of safe conditions plus ordering: ``a=1^b>2^ORDERBYc``."""

    def __init__(self) -> None:
        self._conditions: list[str] = []
        self._order: list[str] = []

    def where(self, field: str, op: str, value: str | Iterable[str] | None = None) -> EncodedQuery:
        self._conditions.append(condition(field, op, value))
        return self

    def order_by(self, field: str, *, descending: bool = False) -> EncodedQuery:
        if not _FIELD.match(field):
            raise UnsafeQueryValue(field, "not a field name")
        self._order.append(("ORDERBYDESC" if descending else "ORDERBY") + field)
        return self

    def build(self) -> str:
        return "^".join(self._conditions + self._order)

    def __str__(self) -> str:
        return self.build()
