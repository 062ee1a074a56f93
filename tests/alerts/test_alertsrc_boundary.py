"""bot/alerts stays pure: it imports only the standard library, msgspec and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import bot.alerts

PACKAGE = Path(bot.alerts.__file__).parent
ALLOWED_THIRD_PARTY = {"msgspec"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module)
    return roots


def test_the_alerts_package_imports_nothing_of_the_product_web_or_database():
    offenders = {}
    for path in sorted(PACKAGE.glob("*.py")):
        for name in imported_roots(path):
            top = name.split(".")[0]
            own = name == "bot.alerts" or name.startswith("bot.alerts.")
            if not (
                own or top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY or top == "__future__"
            ):
                offenders.setdefault(path.name, []).append(name)
    assert offenders == {}
