"""``pin-mock serve`` logs what an operator needs, as text or one JSON object per line.

OWASP API Security Top 10 2023:
- API8:2023 Security Misconfiguration / API10:2023 Unsafe Consumption of APIs: before
  issue 10 (finding 9) the ``pin_mock`` logger was never shown, so deliveries and what
  shutdown abandoned went unrecorded. Now the serve path configures it once, at the
  chosen level, next to uvicorn's lines, with the records' ``extra`` fields.
"""

from __future__ import annotations

import json
import logging

import pytest

from pin_mock.server.transport.logs import JsonFormatter, TextFormatter
from sec_servers import CliServer


def _served_lines(*args: str) -> list[str]:
    server = CliServer(*args)
    try:
        server.wait_ready()
    finally:
        server.stop()
    return server.lines


@pytest.mark.parametrize("level", ["info", "debug"])
def test_serve_shows_pin_mock_lines_as_text(level: str) -> None:
    lines = _served_lines("--log-level", level)
    start = [line for line in lines if " pin_mock.server.transport.uvicorn_config: " in line]
    assert start and "body_timeout=30.0" in start[0] and "forwarded_allow_ips=" in start[0]
    assert any(" uvicorn.error: " in line for line in lines)


def test_serve_logs_one_json_object_per_line() -> None:
    lines = _served_lines("--log-format", "json", "--header-timeout", "7")
    records = [json.loads(line) for line in lines if line.strip()]
    start = next(r for r in records if r["logger"] == "pin_mock.server.transport.uvicorn_config")
    assert {"time", "level", "logger", "message"} <= set(start)
    assert start["level"] == "info" and start["header_timeout"] == 7.0
    assert any(r["logger"] == "uvicorn.access" and r["status"] == 200 for r in records)


def _record(**extra: object) -> logging.LogRecord:
    record = logging.getLogger("pin_mock.webhooks").makeRecord(
        "pin_mock.webhooks", logging.INFO, __file__, 1, "delivery %s", ("ok",), None, extra=extra
    )
    return record


def test_extra_fields_reach_both_formats() -> None:
    """What the webhook dispatcher logs with ``extra=`` is in the line, either way."""
    record = _record(webhook_id="wh_1", attempt=2, outcome="delivered", duration_ms=12.5)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "delivery ok" and entry["logger"] == "pin_mock.webhooks"
    assert (entry["webhook_id"], entry["attempt"], entry["outcome"]) == ("wh_1", 2, "delivered")
    text = TextFormatter().format(record)
    assert "pin_mock.webhooks: delivery ok webhook_id=wh_1 attempt=2" in text


def test_an_extra_cannot_overwrite_the_four_fields() -> None:
    entry = json.loads(JsonFormatter().format(_record(level="spoofed", time="x")))
    assert entry["level"] == "info" and entry["time"] != "x"
