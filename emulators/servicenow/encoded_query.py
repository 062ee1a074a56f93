"""The emulator's reading of ServiceNow encoded queries (``sysparm_query``).

Grammar, as documented: ``^NQ`` separates OR-ed queries; inside one, ``^`` joins conditions with AND
and ``^OR`` joins a condition with OR to the one before it; ``ORDERBY<field>`` / ``ORDERBYDESC<field>``
sort. A condition is ``<field><op><value>`` with a lowercase (possibly dot-walked) field name.
Parts that cannot be read are ignored, as ServiceNow does by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Condition", "ParsedQuery", "matches", "parse_encoded_query", "sort_key"]

# Longest first, so "NOT LIKE" wins over nothing and "ISNOTEMPTY" over "IN".
OPERATORS = (
    "ISNOTEMPTY",
    "ISEMPTY",
    "EMPTYSTRING",
    "ANYTHING",
    "NOT LIKE",
    "NOT IN",
    "STARTSWITH",
    "ENDSWITH",
    "NSAMEAS",
    "SAMEAS",
    "BETWEEN",
    "LIKE",
    "IN",
    "!=",
    "<=",
    ">=",
    "=",
    "<",
    ">",
)
_VALUELESS = frozenset({"ISNOTEMPTY", "ISEMPTY", "EMPTYSTRING", "ANYTHING"})
_FIELD = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str


@dataclass
class ParsedQuery:
    # OR of groups; each group is an AND of clauses; each clause is an OR of conditions.
    groups: list[list[list[Condition]]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)


def _parse_condition(term: str) -> Condition | None:
    m = _FIELD.match(term)
    if not m:
        return None
    name, rest = m.group(0), term[m.end() :]
    for op in OPERATORS:
        if rest.startswith(op):
            value = rest[len(op) :]
            if op in _VALUELESS and value:
                return None
            return Condition(name, op, value)
    return None


def parse_encoded_query(text: str) -> ParsedQuery:
    parsed = ParsedQuery()
    if not text:
        return parsed
    for chunk in text.split("^NQ"):
        group: list[list[Condition]] = []
        for index, term in enumerate(chunk.split("^")):
            if not term or term == "EQ":
                continue
            if term.startswith("ORDERBYDESC"):
                parsed.order.append((term[len("ORDERBYDESC") :], True))
                continue
            if term.startswith("ORDERBY"):
                parsed.order.append((term[len("ORDERBY") :], False))
                continue
            is_or = index > 0 and term.startswith("OR")
            cond = _parse_condition(term[2:] if is_or else term)
            if cond is None:
                continue  # unreadable parts are ignored, like ServiceNow does
            if is_or and group:
                group[-1].append(cond)
            else:
                group.append([cond])
        if group:
            parsed.groups.append(group)
    return parsed


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(left: str, right: str) -> int:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    return (left > right) - (left < right)


Resolver = Callable[[str], str | None]  # field path -> stored value, None when the field is unknown


def _holds(cond: Condition, get: Resolver) -> bool | None:
    actual = get(cond.field)
    if actual is None:
        return None  # unknown field: the condition is ignored
    op, value = cond.op, cond.value
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    if op == "LIKE":
        return value in actual
    if op == "NOT LIKE":
        return value not in actual
    if op == "STARTSWITH":
        return actual.startswith(value)
    if op == "ENDSWITH":
        return actual.endswith(value)
    if op == "IN":
        return actual in value.split(",")
    if op == "NOT IN":
        return actual not in value.split(",")
    if op in ("ISEMPTY", "EMPTYSTRING"):
        return actual == ""
    if op == "ISNOTEMPTY":
        return actual != ""
    if op == "ANYTHING":
        return True
    if op in ("<", "<=", ">", ">="):
        if actual == "":
            return False
        c = _compare(actual, value)
        return {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]
    if op == "BETWEEN":
        low, _, high = value.partition("@")
        return actual != "" and _compare(actual, low) >= 0 and _compare(actual, high) <= 0
    if op in ("SAMEAS", "NSAMEAS"):
        other = get(value)
        if other is None:
            return None
        return (actual == other) == (op == "SAMEAS")
    return None


def matches(parsed: ParsedQuery, get: Resolver) -> bool:
    if not parsed.groups:
        return True
    for group in parsed.groups:
        ok = True
        for clause in group:
            results = [_holds(c, get) for c in clause]
            known = [r for r in results if r is not None]
            if known and not any(known):
                ok = False
                break
        if ok:
            return True
    return False


def sort_key(value: str) -> tuple[int, float, str]:
    number = _number(value)
    if number is not None:
        return (0, number, "")
    return (1, 0.0, value)


def sort_rows(rows: Sequence[dict], order: list[tuple[str, bool]], get: Callable[[dict, str], str]) -> list:
    result = list(rows)
    for name, descending in reversed(order):

        def key(row: Any, n: str = name) -> Any:
            return sort_key(get(row, n))

        result.sort(key=key, reverse=descending)
    return result
