"""``GOLIVE_LOG_FORMAT``: short text lines for a terminal, JSON lines for a pipeline, neither ever
with message text; text by default in development and the sandbox, JSON in production."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_support import STAFF, eventually
from pydantic import ValidationError
from testkit.sandbox import running_sandbox

from bot.logs import JsonFormatter, LogFormat, TextFormatter, configure_logging
from bot.settings import Settings

TEXT_LINE = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO |WARNING|ERROR|CRITICAL) \S+  .*$")
SECRET_POST = "Patient Jane Roe DOB 1950-01-02 cannot check in at kiosk 7"


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(
        "bot.bridge.jobs", logging.INFO, "/app/bot/bridge/jobs.py", 138, message, args, exc_info
    )


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_text_line_is_time_level_logger_and_message():
    line = TextFormatter().format(record("inquiry %s -> incident %s", 12, "INC0010001"))
    assert re.fullmatch(r"\d\d:\d\d:\d\d INFO  bot\.bridge\.jobs  inquiry 12 -> incident INC0010001", line)


def test_both_formats_show_an_exception_by_type_and_place_never_its_message():
    try:
        raise ValueError(SECRET_POST)
    except ValueError as error:
        failing = record("job %s failed", 3, exc=error)
    text = TextFormatter().format(failing)
    entry = json.loads(JsonFormatter().format(failing))
    assert text.endswith("job 3 failed [ValueError at /app/bot/bridge/jobs.py:138]")
    assert entry["error"] == "ValueError" and entry["where"] == "/app/bot/bridge/jobs.py:138"
    assert SECRET_POST not in text and SECRET_POST not in json.dumps(entry)


@settings(derandomize=True, max_examples=60)
@given(
    token=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=8)
)
def test_both_formats_mask_bearer_tokens(token):
    failing = record("upstream said %s", f"Authorization: Bearer {token}")
    for formatted in (TextFormatter().format(failing), JsonFormatter().format(failing)):
        assert token not in formatted
        assert "Bearer ***" in formatted


@pytest.mark.parametrize(
    ("environment", "log_format", "expected"),
    [
        ("production", None, LogFormat.JSON),
        ("development", None, LogFormat.TEXT),
        ("production", "", LogFormat.JSON),
        ("production", "text", LogFormat.TEXT),
        ("development", "JSON", LogFormat.JSON),
    ],
)
def test_log_format_defaults_to_json_in_production_and_text_in_development(
    monkeypatch, environment, log_format, expected
):
    monkeypatch.setenv("GOLIVE_ENV", environment)
    if log_format is None:
        monkeypatch.delenv("GOLIVE_LOG_FORMAT", raising=False)
    else:
        monkeypatch.setenv("GOLIVE_LOG_FORMAT", log_format)
    assert Settings(_env_file=None).effective_log_format is expected


def test_an_unknown_log_format_is_refused_naming_the_choices(monkeypatch):
    monkeypatch.setenv("GOLIVE_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="'text' or 'json'"):
        Settings(_env_file=None)


@pytest.mark.slow
async def test_the_sandbox_logs_an_inquiry_in_both_formats_without_its_text(tmp_path, restore_logging):
    text_stream, json_stream = io.StringIO(), io.StringIO()
    configure_logging("INFO", LogFormat.TEXT, stream=text_stream)
    json_handler = logging.StreamHandler(json_stream)
    json_handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(json_handler)
    async with running_sandbox(tmp_path) as urls:
        teams = urls.teams
        async with aiohttp.ClientSession() as http:

            async def open_channel() -> str | None:
                async with http.get(f"{teams}/_emulator/channels") as response:
                    channels = (await response.json())["channels"]
                return next((c["id"] for c in channels if c["goLive"] and c["state"] == "open"), None)

            channel = await eventually(open_channel)
            assert channel, "no go-live channel opened in the sandbox"
            async with http.post(
                f"{teams}/_emulator/channels/{channel}/messages", json={"from": STAFF, "text": SECRET_POST}
            ) as response:
                assert response.status == 200

            async def incident_logged() -> bool:
                return "-> incident INC" in text_stream.getvalue()

            assert await eventually(incident_logged), "no incident was logged"
    text_lines = text_stream.getvalue().splitlines()
    entries = [json.loads(line) for line in json_stream.getvalue().splitlines()]
    assert len(text_lines) == len(entries) > 0
    assert all(TEXT_LINE.match(line) for line in text_lines), text_lines
    assert any(
        re.search(r" INFO  bot\.bridge\.jobs  inquiry \d+ -> incident INC\d+( \(caller \w+\))?$", line)
        for line in text_lines
    )
    assert {"ts", "level", "logger", "msg"} <= set(entries[0])
    for fragment in ("Jane Roe", "1950-01-02", "cannot check in"):
        assert fragment not in text_stream.getvalue()
        assert fragment not in json_stream.getvalue()
