"""One journal entry: an exchange (or a webhook attempt) made safe to keep, shown on demand.

The pipeline's journal layer (``pipeline/journal.py``) hands over what it saw
of an exchange, raw and already bounded (``Exchange``: at most ``window``
bytes of each body). Keeping it costs the request little: ``Exchange.guard``
replaces the credentials (and every secret, for the operations that answer
with one), and the rest of the work waits until someone reads the journal
(memory) or it is written (Redis, in batches): ``as_dict`` redacts the rest
(``redaction.py``), decodes the text, cuts each body at the journal's
``body_bytes`` (``truncated`` says so; ``size`` is the whole body's) and
formats the entry.
A 4xx's reason in the words of the spec comes from the layer (``reasons.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pin_mock.server.domain.journal.redaction import redact, redact_credentials, redact_headers
from pin_mock.server.timestamps import iso_millis

#: Extra bytes read past the kept size, so a secret cut by the size limit is still found.
REDACTION_MARGIN = 2_048
#: Headers shown per message, and characters of each value.
MAX_HEADERS = 40
MAX_HEADER_CHARS = 512
#: Media types shown as text; any other body is only counted.
TEXT_TYPES = ("json", "text/", "x-www-form-urlencoded", "xml", "csv", "event-stream")


@dataclass(slots=True)
class Exchange:
    """What the journal layer saw of one request and its answer (bodies bounded)."""

    started: float  # the sandbox clock, seconds
    duration_ms: float
    method: str
    path: str
    query: bytes
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
    keep: int = 4_096
    #: Redaction of the bodies, query and other headers still to do (``guard``).
    pending: bool = False

    def guard(self, eager: bool) -> Exchange:
        """Make this exchange fit to keep; ``eager``: redact everything now.

        The credential every request carries (``Authorization``, cookies) is
        replaced at once, and so is everything when the operation answers with a
        secret (a token, a webhook's secret: ``SECRET_OPERATIONS``); the rest, where
        a secret would only be one the client sent itself, is redacted before it is
        first formatted (read, or written to Redis), which a request does not wait for.
        """
        self.request_headers = redact_credentials(self.request_headers)
        if eager:
            self._redact()
        else:
            self.pending = True
        return self

    def _redact(self) -> None:
        # Redacted on the longer window, then cut to what is shown: nothing more is held.
        self.query = redact(self.query)
        self.request_headers = redact_headers(self.request_headers[:MAX_HEADERS])
        self.response_headers = redact_headers(self.response_headers[:MAX_HEADERS])
        self.request_body = redact(self.request_body)[: self.keep]
        self.response_body = redact(self.response_body)[: self.keep]
        self.pending = False

    def as_dict(self) -> dict[str, Any]:
        """The entry as the journal shows it (``id`` aside: the engine's); redacted first."""
        if self.pending:
            self._redact()
        return {
            "kind": "request",
            "time": iso_millis(self.started),
            "method": self.method,
            "path": self.path,
            "query": self.query.decode("latin-1") or None,
            "operation": self.operation,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 2),
            "request_id": self.request_id,
            "fault": self.fault,
            "request": _message(
                self.request_headers, self.request_body, self.request_size, self.keep
            ),
            "response": _message(
                self.response_headers, self.response_body, self.response_size, self.keep
            ),
            "reason": self.reason,
            "webhook": None,
        }


class Built:
    """An entry already made (a webhook attempt): ``as_dict`` gives it back."""

    __slots__ = ("entry",)

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry

    def as_dict(self) -> dict[str, Any]:
        return self.entry


def _message(
    headers: list[tuple[bytes, bytes]], body: bytes, size: int, keep: int
) -> dict[str, Any]:
    shown: dict[str, str] = {}
    content_type = ""
    for name_bytes, value_bytes in headers:
        name = name_bytes.decode("latin-1")
        value = value_bytes.decode("latin-1")[:MAX_HEADER_CHARS]
        shown[name] = f"{shown[name]}, {value}" if name in shown else value
        if name == "content-type":
            content_type = value.lower()
    return {"headers": shown, **body_of(body, size, content_type, keep)}


def body_of(raw: bytes, size: int, content_type: str, keep: int) -> dict[str, Any]:
    """A body as the journal shows it: text (already redacted) cut at ``keep`` bytes."""
    if not raw or (content_type and not any(kind in content_type for kind in TEXT_TYPES)):
        return {"size": size, "truncated": False, "body": None}  # empty, or not text
    return {
        "size": size,
        "truncated": size > keep,
        "body": raw[:keep].decode("utf-8", "ignore" if size > keep else "replace"),
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
        "path": redact(url.encode()).decode(),
        "query": None,
        "operation": None,
        "status": status,
        "duration_ms": round(duration_ms, 2),
        "request_id": None,
        "fault": None,
        "request": {
            "headers": {"content-type": "application/json"},
            **body_of(redact(body[: keep + REDACTION_MARGIN]), len(body), "application/json", keep),
        },
        "response": None,
        "reason": None,
        "webhook": webhook,
    }
