"""One journal entry: an exchange (or a webhook attempt) made safe to keep and to show.

The pipeline's journal layer (``pipeline/journal.py``) hands over what it saw
of an exchange, raw and already bounded (``Exchange``: at most ``window``
bytes of each body); ``request_entry`` turns it into the JSON-ready entry the
journal keeps: secrets redacted (``redaction.py``), each body cut at the
journal's ``body_bytes`` (``truncated`` says so; ``size`` is the whole body's),
and for a 4xx the reason in the words of the spec the layer found (``reasons.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pin_mock.server.domain.journal.redaction import redact, redact_header
from pin_mock.server.timestamps import iso_millis

#: Extra bytes read past the kept size, so a secret cut by the size limit is still found.
REDACTION_MARGIN = 2_048
#: Headers kept per message, and characters of each value.
MAX_HEADERS = 40
MAX_HEADER_CHARS = 512
#: Media types shown as text; any other body is only counted.
TEXT_TYPES = ("json", "text/", "x-www-form-urlencoded", "xml", "csv", "event-stream")


@dataclass
class Exchange:
    """What the journal layer saw of one request and its answer (bodies bounded)."""

    started: float  # the sandbox clock, seconds
    duration_ms: float
    method: str
    path: str
    query: str
    operation: str | None
    status: int
    request_id: str | None
    request_headers: list[tuple[bytes, bytes]]
    response_headers: list[tuple[bytes, bytes]]
    request_body: bytes = b""
    request_size: int = 0
    response_body: bytes = b""
    response_size: int = 0
    fault: str | None = None
    #: Why a 4xx was refused (``reasons.Reasons.reason``), None otherwise.
    reason: dict[str, Any] | None = None


def headers_of(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers as the journal shows them: lower-case names, credentials redacted."""
    shown: dict[str, str] = {}
    for name_bytes, value_bytes in raw[:MAX_HEADERS]:
        name = name_bytes.decode("latin-1").lower()
        value = redact_header(name, value_bytes.decode("latin-1")[:MAX_HEADER_CHARS])
        shown[name] = f"{shown[name]}, {value}" if name in shown else value
    return shown


def body_of(raw: bytes, size: int, content_type: str, keep: int) -> dict[str, Any]:
    """A body as the journal keeps it: text redacted and cut at ``keep`` bytes."""
    shown: dict[str, Any] = {"size": size, "truncated": size > keep, "body": None}
    if not raw:
        shown["truncated"] = False
        return shown
    if content_type and not any(kind in content_type for kind in TEXT_TYPES):
        shown["truncated"] = False  # not text: counted, not kept
        return shown
    text = redact(raw[: keep + REDACTION_MARGIN].decode("utf-8", "replace"))
    encoded = text.encode()
    if len(encoded) > keep:
        text = encoded[:keep].decode("utf-8", "ignore")
    shown["body"] = text
    return shown


def _content_type(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.decode("latin-1").lower()
    return ""


def request_entry(exchange: Exchange, keep: int) -> dict[str, Any]:
    """The journal entry of one exchange."""
    request = headers_of(exchange.request_headers)
    response = headers_of(exchange.response_headers)
    return {
        "kind": "request",
        "time": iso_millis(exchange.started),
        "method": exchange.method,
        "path": exchange.path,
        "query": redact(exchange.query) or None,
        "operation": exchange.operation,
        "status": exchange.status,
        "duration_ms": round(exchange.duration_ms, 2),
        "request_id": exchange.request_id,
        "fault": exchange.fault,
        "request": {
            "headers": request,
            **body_of(
                exchange.request_body,
                exchange.request_size,
                _content_type(exchange.request_headers),
                keep,
            ),
        },
        "response": {
            "headers": response,
            **body_of(
                exchange.response_body,
                exchange.response_size,
                _content_type(exchange.response_headers),
                keep,
            ),
        },
        "reason": exchange.reason,
        "webhook": None,
    }


def webhook_entry(
    *,
    started: float,
    duration_ms: float,
    url: str,
    status: int | None,
    body: bytes,
    keep: int,
    webhook: dict[str, Any],
) -> dict[str, Any]:
    """The journal entry of one webhook delivery attempt (the sandbox calling out)."""
    return {
        "kind": "webhook",
        "time": iso_millis(started),
        "method": "POST",
        "path": redact(url),
        "query": None,
        "operation": None,
        "status": status,
        "duration_ms": round(duration_ms, 2),
        "request_id": None,
        "fault": None,
        "request": {
            "headers": {"content-type": "application/json"},
            **body_of(body, len(body), "application/json", keep),
        },
        "response": None,
        "reason": None,
        "webhook": webhook,
    }
