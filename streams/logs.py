"""Structured logs: one JSON object per line (``khabar worker --log-format json``).

Secrets never reach a log: Khabar logs URLs, ids, stages and reasons, never page bodies,
headers or connection credentials, and this formatter also masks ``user:password@`` in
any URL that a library message might carry.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import orjson

_CREDENTIALS_IN_URL = re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@")


def redact(text: str) -> str:
    return _CREDENTIALS_IN_URL.sub("***:***@", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            "process": record.process,
        }
        if record.exc_info:
            document["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(document).decode()


def json_logging_config(level: str) -> dict[str, Any]:
    """A logging.config.dictConfig that writes JSON lines to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }
