"""schedule/ stays pure: it never imports bot or servicenow, never reads the clock, never uses pytz."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "schedule"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_there_are_sources_to_check():
    assert len(SOURCES) >= 8


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_schedule_never_imports_bot_servicenow_or_pytz(path):
    roots = {module.split(".")[0] for module in imported_modules(path)}
    assert not roots & {"bot", "servicenow", "pytz", "requests", "aiohttp", "sqlalchemy"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_schedule_never_reads_the_clock(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"now", "utcnow", "today", "time", "monotonic"}:
            base = node.value
            name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
            assert name not in {"datetime", "date", "time"}, (
                f"{path.name} reads the clock: {name}.{node.attr}"
            )
