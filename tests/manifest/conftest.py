"""Validators for the vendored Microsoft schemas (tests/fixtures/schemas, see its README).

``manifest_errors(obj)`` / ``card_errors(obj)`` return readable schema errors, so a failing test
shows every problem as ``path: message`` rather than one bare ``ValidationError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft6Validator, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"
TEAMS_MANIFEST_SCHEMA = SCHEMAS / "teams-manifest-v1.22.schema.json"
ADAPTIVE_CARD_SCHEMA = SCHEMAS / "adaptive-card-1.5.schema.json"

# The Teams manifest schema declares Draft 4 but uses `const` (a Draft 6 keyword) for manifestVersion.
Draft4WithConst = validators.extend(Draft4Validator, {"const": Draft6Validator.VALIDATORS["const"]})

Errors = Callable[[object], list[str]]


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _error_lister(validator: Validator) -> Errors:
    def errors(instance: object) -> list[str]:
        found = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
        # best_match descends into anyOf branches, so the message names the element that is wrong.
        leaves = [best_match([error]) for error in found]
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in leaves if e]

    return errors


@pytest.fixture(scope="session")
def manifest_errors() -> Errors:
    schema = _load(TEAMS_MANIFEST_SCHEMA)
    Draft4WithConst.check_schema(schema)
    return _error_lister(Draft4WithConst(schema))


@pytest.fixture(scope="session")
def card_errors() -> Errors:
    schema = _load(ADAPTIVE_CARD_SCHEMA)
    Draft6Validator.check_schema(schema)
    return _error_lister(Draft6Validator(schema))
