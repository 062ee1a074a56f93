"""``golive serve`` as a real subprocess against the loopback stack, to kill it with SIGKILL."""

from __future__ import annotations

import os
import subprocess
import sys

from testkit.stack import SAMPLE_NOW, Stack, wait_for


def serve_env(stack: Stack, **extra: str) -> dict[str, str]:
    settings = stack.settings
    env = {key: value for key, value in os.environ.items() if not key.startswith("GOLIVE_")}
    env.update(
        {
            "GOLIVE_ENV": "development",
            "GOLIVE_LOG_FORMAT": "json",
            "GOLIVE_DATABASE_URL": settings.database_url,
            "GOLIVE_SERVICENOW_URL": settings.servicenow_url,
            "GOLIVE_SERVICENOW_USER": settings.servicenow_user,
            "GOLIVE_SERVICENOW_PASSWORD": settings.servicenow_password.get_secret_value(),
            "GOLIVE_SERVICENOW_TIMEOUT_S": "3",
            "GOLIVE_GRAPH_URL": settings.graph_url,
            "GOLIVE_TEAM_ID": settings.team_id,
            "GOLIVE_TICK_SECONDS": "1",
            "GOLIVE_SIMULATED_NOW": SAMPLE_NOW.isoformat(),
            **extra,
        }
    )
    return env


async def start_serve(stack: Stack, **extra: str) -> subprocess.Popen[bytes]:
    """Start ``golive serve`` on the stack's bot port; return once it answers /readyz."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(stack.bot_port)],
        env=serve_env(stack, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    async def up() -> bool:
        try:
            async with stack.http.get(f"http://127.0.0.1:{stack.bot_port}/readyz") as response:
                return response.status == 200
        except OSError:
            return False

    await wait_for(up, timeout=60)
    return process


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """Stop gracefully (SIGTERM); a process that has not ended within 20 s is killed."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
