"""Logging for ``pin-mock serve``: the ``pin_mock`` logger next to uvicorn's, text or JSON.

Configured once, by ``configure`` (from the serve path, before the app is
built), so every ``pin_mock.*`` logger is shown at the chosen level with the
same handler and format as uvicorn's own lines. All log lines go to stderr;
stdout carries only the human start-up banner.

- ``text``: ``2026-11-28T01:02:03.456Z INFO    pin_mock.webhooks: message key=value``
  (the record's ``extra`` fields after the message, so grep finds them);
- ``json``: one object per line, ``{"time", "level", "logger", "message",
  ...extra fields}``, plus ``exception`` when there is one. uvicorn's access
  lines also get ``client``, ``method``, ``path``, ``http_version``, ``status``.
"""

from __future__ import annotations

import json
import logging
import logging.config
import time
from typing import Any

#: Attributes every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller passed with ``extra=`` (and uvicorn's access-line fields)."""
    fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
    if record.name == "uvicorn.access" and isinstance(record.args, tuple):
        if len(record.args) == len(_ACCESS_FIELDS):
            fields = {**dict(zip(_ACCESS_FIELDS, record.args, strict=True)), **fields}
    return fields


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    """One readable line: UTC time, level, logger, message, then ``key=value`` extras."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        extras = extra_fields(record)
        if extras and record.name != "uvicorn.access":  # access fields are the message
            line += " " + " ".join(f"{k}={_text(v)}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)  # the four fields above are never overwritten
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if (not text or " " in text or '"' in text) else text


def logging_config(level: str = "info", log_format: str = "text") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` for these settings."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    upper = level.upper()
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "pin_mock",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"pin_mock": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {"stderr": handler},
        "loggers": {
            "pin_mock": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": ["stderr"], "level": upper, "propagate": False},
        },
    }


def configure(level: str = "info", log_format: str = "text") -> None:
    """Apply ``logging_config`` to this process (``pin-mock serve`` does it once)."""
    logging.config.dictConfig(logging_config(level, log_format))
