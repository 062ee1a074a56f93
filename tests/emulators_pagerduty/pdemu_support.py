"""Helpers for the PagerDuty emulator tests (a uniquely named module: test dirs have no __init__)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["AUTH", "FIXTURES", "NOW", "TOKEN", "recorded", "shape_mismatches"]

TOKEN = "pd-test-token"
AUTH = {"Authorization": f"Token token={TOKEN}", "Accept": "application/vnd.pagerduty+json;version=2"}
# Tuesday of the first sample week: Jane is primary and Marcus backup.
NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pagerduty"


def recorded(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_mismatches(recorded_value: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``actual`` lacks the structure of the recorded answer: every recorded key must be
    there; lists compare their first items; null on either side matches anything (nullable)."""
    if recorded_value is None or actual is None:
        return []
    if isinstance(recorded_value, dict):
        if not isinstance(actual, dict):
            return [f"{path}: object expected, got {_kind(actual)}"]
        problems = [f"{path}.{key}: missing" for key in recorded_value if key not in actual]
        for key, value in recorded_value.items():
            if key in actual:
                problems += shape_mismatches(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(recorded_value, list):
        if not isinstance(actual, list):
            return [f"{path}: array expected, got {_kind(actual)}"]
        if recorded_value and actual:
            return shape_mismatches(recorded_value[0], actual[0], f"{path}[0]")
        return []
    if _kind(recorded_value) != _kind(actual):
        return [f"{path}: {_kind(recorded_value)} expected, got {_kind(actual)}"]
    return []
