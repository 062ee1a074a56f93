"""`golive` from a shell: help lists the commands; production refuses to run without authentication."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str, env: dict[str, str] | None = None, cwd=None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GOLIVE_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=60,
        cwd=cwd,
    )


def test_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("sandbox", "serve", "emulate", "schedule", "roster", "report", "manifest", "check"):
        assert command in result.stdout


def test_production_serve_without_app_id_exits_non_zero_naming_the_setting(tmp_path):
    result = run_cli("serve", env={"GOLIVE_ENV": "production"}, cwd=tmp_path)
    assert result.returncode != 0
    assert "GOLIVE_MICROSOFT_APP_ID" in result.stderr


def test_production_serve_with_multitenant_type_is_refused(tmp_path):
    result = run_cli(
        "serve",
        env={
            "GOLIVE_ENV": "production",
            "GOLIVE_MICROSOFT_APP_ID": "x",
            "GOLIVE_MICROSOFT_APP_TYPE": "MultiTenant",
        },
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "MultiTenant" in result.stderr


def test_serve_is_production_by_default(tmp_path):
    result = run_cli("serve", cwd=tmp_path)
    assert result.returncode != 0
    assert "GOLIVE_MICROSOFT_APP_ID" in result.stderr
