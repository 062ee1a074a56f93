"""servicenow/ never imports bot/ or schedule/ (the composition root wires them)."""

from __future__ import annotations

import ast
from pathlib import Path

import servicenow

FORBIDDEN = ("bot", "schedule")


def test_servicenow_never_imports_bot_or_schedule() -> None:
    root = Path(servicenow.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_routing_rules_ship_as_package_data() -> None:
    assert (Path(servicenow.__file__).parent / "routing_rules.toml").is_file()
