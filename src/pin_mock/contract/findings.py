"""What a run found: failures with their exchange, and how to reproduce each.

A ``Finding`` is the same whether Schemathesis or one of the kit's probes
produced it, so the summary, the JUnit XML and the HAR file treat both alike.
Credentials never appear: the ``Authorization`` header is replaced by a
``$PIN_TOKEN`` placeholder in reproductions and by ``[Filtered]`` in files.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

FILTERED = "[Filtered]"
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True)
class RecordedRequest:
    """A request as sent (headers with secrets filtered)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    @classmethod
    def build(
        cls, method: str, url: str, headers: dict[str, Any], body: bytes | None
    ) -> RecordedRequest:
        """A request whose secret headers are replaced by ``[Filtered]``."""
        clean = {}
        for name, value in headers.items():
            value = value[0] if isinstance(value, list) and value else value
            clean[name] = FILTERED if name.lower() in _SECRET_HEADERS else str(value)
        return cls(method.upper(), url, clean, body or None)


@dataclass(frozen=True)
class RecordedResponse:
    """A response as received."""

    status: int
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    elapsed: float = 0.0


@dataclass(frozen=True)
class Finding:
    """One failed check on one operation, with the exchange that shows it."""

    operation: str
    check: str
    message: str
    request: RecordedRequest | None = None
    response: RecordedResponse | None = None
    #: "schemathesis" (a check during st run) or "probe" (the kit's own probes).
    source: str = "schemathesis"
    code: str | None = None
    case_id: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """Findings with the same key are one problem (first line of the message)."""
        return (
            self.operation,
            self.check,
            self.message.strip().splitlines()[0] if self.message else "",
        )

    def curl(self) -> str | None:
        """A shell command that replays the request (token as ``$PIN_TOKEN``)."""
        return curl_command(self.request) if self.request else None


def curl_command(request: RecordedRequest) -> str:
    """``curl`` for a recorded request; a filtered bearer token becomes ``$PIN_TOKEN``."""
    parts = ["curl", "-i", "-X", request.method]
    for name, value in request.headers.items():
        lower = name.lower()
        if lower in {"content-length", "user-agent", "accept-encoding", "connection", "accept"}:
            continue
        if lower.startswith("x-schemathesis"):
            continue
        if lower == "authorization" and value == FILTERED:
            parts += ["-H", '"Authorization: Bearer $PIN_TOKEN"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    prefix = ""
    if request.body:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and text.isprintable():
            parts += ["--data-binary", shlex.quote(text)]
        else:
            # Bytes a shell string cannot hold (invalid UTF-8, NUL): pipe them through printf.
            escaped = "".join(f"\\x{b:02x}" for b in request.body)
            prefix = f"printf '{escaped}' | "
            parts += ["--data-binary", "@-"]
    parts.append(shlex.quote(request.url))
    return prefix + " ".join(parts)


def token_command(token_url: str, client_id: str) -> str:
    """The command that fills ``$PIN_TOKEN`` for the reproductions."""
    url = token_url
    return (
        "export PIN_TOKEN=$(curl -s -X POST "
        f"{shlex.quote(url)} -d grant_type=client_credentials "
        f'-d client_id={shlex.quote(client_id)} -d client_secret="$PIN_CLIENT_SECRET" '
        "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
    )


def dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per key, keeping the smallest reproduction (closest to a shrunk example)."""
    best: dict[tuple[str, str, str], Finding] = {}
    for finding in findings:
        current = best.get(finding.key)
        if current is None or _size(finding) < _size(current):
            best[finding.key] = finding
    return sorted(best.values(), key=lambda f: (f.operation, f.check, f.message))


def _size(finding: Finding) -> int:
    if finding.request is None:
        return 0
    return len(finding.request.url) + len(finding.request.body or b"")
