"""Logs in two formats, never with message bodies.

``json`` (production's default): one JSON object per line, for a log pipeline. ``text`` (the
sandbox's and development's default): one short line per record for a person watching a terminal,
``15:00:03 INFO  bot.bridge.jobs  inquiry 12 -> incident INC0010001``. ``GOLIVE_LOG_FORMAT``
chooses.

Log calls pass identifiers (inquiry ids, incident numbers, statuses) and never the text site staff
posted; ``redact`` is a last line of defence for bearer tokens and passwords in exception strings.
Both formats show an exception by type and place only: exception messages can carry payloads.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import TextIO

_SECRETS = re.compile(r"(Bearer\s+)[A-Za-z0-9\-_.=]+|(password=)[^&\s]+", re.IGNORECASE)


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def redact(text: str) -> str:
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


def _failure(record: logging.LogRecord) -> tuple[str, str] | None:
    """The exception's type and where it was logged, or None when the record carries none."""
    if record.exc_info and record.exc_info[0] is not None:
        return record.exc_info[0].__name__, f"{record.pathname}:{record.lineno}"
    return None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        failure = _failure(record)
        if failure is not None:
            entry["error"], entry["where"] = failure
        return json.dumps(entry)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS LEVEL logger  message`` in local time; an exception adds `` [Type at file:line]``."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{at} {record.levelname:<5} {record.name}  {redact(record.getMessage())}"
        failure = _failure(record)
        if failure is not None:
            line += f" [{failure[0]} at {failure[1]}]"
        return line


FORMATTERS: dict[LogFormat, type[logging.Formatter]] = {
    LogFormat.TEXT: TextFormatter,
    LogFormat.JSON: JsonFormatter,
}

# Libraries that log SQL parameters or HTTP bodies at debug level: those carry what staff posted.
PAYLOAD_LOGGERS = (
    "aiosqlite",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "asyncpg",
    "msrest",
    "urllib3",
    "requests_oauthlib",
    "botbuilder",
    "botframework",
    "pysnow",
    "msal",
    "alembic",
    "slack_sdk",
)


def quiet_payload_loggers() -> None:
    """Keep payload-logging libraries at warning whatever the configured level."""
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def configure_logging(
    level: str = "INFO", log_format: LogFormat = LogFormat.JSON, stream: TextIO | None = None
) -> None:
    """Send every record to ``stream`` (standard error by default) in ``log_format``."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(FORMATTERS[LogFormat(log_format)]())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_payload_loggers()
    # aiohttp's access log line holds only method, path and status; keep it at warning to stay quiet.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler logs every run of every job at info level.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
