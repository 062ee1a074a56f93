"""The dependency lock: `tools/lockfile.sh check` passes on the repository as committed and fails,
saying to run `make lock`, when pyproject.toml's dependencies or the bootstrap file drift from
uv.lock. Run on a temporary copy, offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from ops_support import ROOT

LOCK_FILES = (
    "pyproject.toml",
    "uv.lock",
    "README.md",
    "tools/lockfile.sh",
    "tools/bootstrap-requirements.txt",
)


def uv_binary() -> str:
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed (make install installs it)")
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in LOCK_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def check(project: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "UV": uv_binary(), "UV_OFFLINE": "1", "UV_NO_PROGRESS": "1"}
    return subprocess.run(
        ["bash", str(project / "tools/lockfile.sh"), "check", str(project)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_the_committed_lock_matches_pyproject(project):
    result = check(project)
    assert result.returncode == 0, result.stderr
    assert "match pyproject.toml" in result.stdout


def test_a_changed_dependency_range_without_make_lock_fails_the_check(project):
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    changed = re.sub(r'"aiohttp>=[^"]*"', '"aiohttp>=3.10.1,<4"', text, count=1)
    assert changed != text
    pyproject.write_text(changed)
    result = check(project)
    assert result.returncode == 1
    assert "uv.lock does not match the dependencies in pyproject.toml" in result.stderr
    assert "Run `make lock`" in result.stderr


def test_a_new_test_dependency_without_make_lock_fails_the_check(project):
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    test_extra = tomllib.loads(text)["project"]["optional-dependencies"]["test"]
    changed = text.replace(f'"{test_extra[-1]}",', f'"{test_extra[-1]}",\n    "msgspec>=0.18",', 1)
    assert changed != text
    pyproject.write_text(changed)
    result = check(project)
    assert result.returncode == 1
    assert "Run `make lock`" in result.stderr


def test_an_edited_bootstrap_file_fails_the_check(project):
    bootstrap = project / "tools/bootstrap-requirements.txt"
    bootstrap.write_text(bootstrap.read_text().replace("uv==", "uv>=", 1))
    result = check(project)
    assert result.returncode == 1
    assert "tools/bootstrap-requirements.txt does not match uv.lock" in result.stderr


def test_every_locked_package_has_hashes():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    unhashed = [
        package["name"]
        for package in lock["package"]
        if package.get("source", {}).get("registry")
        and not all(
            "hash" in file for file in [*package.get("wheels", []), package.get("sdist", {"hash": 1})]
        )
    ]
    assert unhashed == []
    names = {package["name"] for package in lock["package"]}
    assert {"uv", "pytest", "mypy", "botbuilder-core"} <= names
