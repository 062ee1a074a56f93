"""Structured logs: one JSON object per line, never with message bodies.

Log calls pass identifiers (inquiry ids, incident numbers, statuses) and never the text site staff
posted; ``redact`` is a last line of defence for bearer tokens and passwords in exception strings.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_SECRETS = re.compile(r"(Bearer\s+)[A-Za-z0-9\-_.=]+|(password=)[^&\s]+", re.IGNORECASE)


def redact(text: str) -> str:
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type and where it happened; exception messages can carry payloads.
            entry["error"] = record.exc_info[0].__name__
            entry["where"] = f"{record.pathname}:{record.lineno}"
        return json.dumps(entry)


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


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_payload_loggers()
    # aiohttp's access log line holds only method, path and status; keep it at warning to stay quiet.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler logs every run of every job at info level.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
