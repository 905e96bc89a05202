"""What a run found: failures with their exchange, and how to reproduce each.

A ``Finding`` is the same whether Schemathesis or one of the kit's probes
produced it, so the summary, the JUnit XML and the HAR file treat both alike.

Only real credentials are hidden: the client secrets and the access tokens the
kit really uses (``SECRETS``, filled by the runner and the probes' client), and
any ``access_token`` a response hands out. They become ``[Filtered]`` in files
and ``$PIN_TOKEN``/``$PIN_CLIENT_SECRET`` in reproductions. A garbage, forged
or expired token a probe sends on purpose is what failed, so it is shown as sent.
Schemathesis filters its own ``Authorization`` headers (always the real token).
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FILTERED = "[Filtered]"
_AUTH_HEADERS = frozenset({"authorization", "proxy-authorization"})
_ACCESS_TOKEN = re.compile(rb'("access_token"\s*:\s*")([^"\\]*)(")')
#: Shorter values are not redacted (they would mangle ordinary text).
_MIN_SECRET = 6


class SecretRegistry:
    """The run's real credentials (thread-safe): redacted wherever they appear."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        with self._lock:
            self._values.update(v for v in values if v and len(v) >= _MIN_SECRET)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def known(self, value: str) -> bool:
        return value in self._values

    def redact(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``[Filtered]``."""
        for secret in sorted(self._values, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, FILTERED)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        for secret in sorted(self._values, key=len, reverse=True):
            raw = secret.encode()
            if raw in data:
                data = data.replace(raw, FILTERED.encode())
        return data


#: The process's real credentials (the CLI run's, or the pytest plugin's).
SECRETS = SecretRegistry()


def _auth_value(value: str) -> str:
    """An ``Authorization`` value: the real token filtered whole; anything else as sent."""
    scheme, _, credential = value.partition(" ")
    if SECRETS.known(credential.strip()) or value == FILTERED:
        return (
            FILTERED if scheme.lower() == "bearer" or value == FILTERED else f"{scheme} {FILTERED}"
        )
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credential.strip(), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return value
        if SECRETS.redact(decoded) != decoded:
            return f"Basic {FILTERED}"
    return SECRETS.redact(value)


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
        """A request with its real credentials replaced by ``[Filtered]`` (nothing else)."""
        clean = {}
        for name, value in headers.items():
            value = str(value[0] if isinstance(value, list) and value else value)
            clean[name] = (
                _auth_value(value) if name.lower() in _AUTH_HEADERS else SECRETS.redact(value)
            )
        return cls(
            method.upper(), SECRETS.redact(url), clean, SECRETS.redact_bytes(body) if body else None
        )


@dataclass(frozen=True)
class RecordedResponse:
    """A response as received."""

    status: int
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    elapsed: float = 0.0

    @classmethod
    def build(
        cls, status: int, headers: dict[str, list[str]], body: bytes, elapsed: float
    ) -> RecordedResponse:
        """A response with real credentials and handed-out access tokens filtered."""
        clean = {k: [SECRETS.redact(str(v)) for v in values] for k, values in headers.items()}
        body = _ACCESS_TOKEN.sub(
            rb"\1" + FILTERED.encode() + rb"\3", SECRETS.redact_bytes(body or b"")
        )
        return cls(status, clean, body, elapsed)


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
    #: The probe that found it (``None``: Schemathesis or the run itself).
    probe: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """Findings with the same key are one problem (first line of the message)."""
        return (
            self.operation,
            self.check,
            self.message.strip().splitlines()[0] if self.message else "",
        )

    @property
    def cause(self) -> tuple[str, str]:
        """(check, normalised first message line): findings with one cause, across operations."""
        return (self.check, normalise(self.message))

    def curl(self) -> str | None:
        """A shell command that replays the request (token as ``$PIN_TOKEN``)."""
        return curl_command(self.request) if self.request else None


def curl_command(request: RecordedRequest) -> str:
    """``curl`` for a recorded request; a filtered bearer token becomes ``$PIN_TOKEN``."""
    parts = ["curl", "-i", "-X", request.method]
    for name, value in request.headers.items():
        lower = name.lower()
        if lower in {
            "content-length",
            "user-agent",
            "accept-encoding",
            "connection",
            "accept",
            "host",
        }:
            continue
        if lower.startswith("x-schemathesis"):
            continue
        if lower == "authorization" and value == FILTERED:
            parts += ["-H", '"Authorization: Bearer $PIN_TOKEN"']
            continue
        if lower == "authorization" and value == f"Basic {FILTERED}":
            parts += ["-u", '"$PIN_CLIENT_ID:$PIN_CLIENT_SECRET"']
            continue
        if FILTERED in value:
            parts += ["-H", _with_placeholder(f"{name}: {value}", "$PIN_TOKEN")]
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    prefix = ""
    if request.body:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and text.isprintable() and FILTERED in text:
            parts += ["--data-binary", _with_placeholder(text, "$PIN_CLIENT_SECRET")]
        elif text is not None and text.isprintable():
            parts += ["--data-binary", shlex.quote(text)]
        else:
            # Bytes a shell string cannot hold (invalid UTF-8, NUL): pipe them through printf.
            escaped = "".join(f"\\x{b:02x}" for b in request.body)
            prefix = f"printf '{escaped}' | "
            parts += ["--data-binary", "@-"]
    parts.append(shlex.quote(request.url))
    return prefix + " ".join(parts)


def _with_placeholder(text: str, variable: str) -> str:
    """``text`` quoted for a shell with each ``[Filtered]`` expanded from ``variable``."""
    return f'"{variable}"'.join(shlex.quote(part) for part in text.split(FILTERED))


_VOLATILE = (
    (re.compile(r"'[^']*'|\"[^\"]*\""), "'...'"),
    # One cause hits many operations: "GET /v1/patients answered 200" is one problem.
    (re.compile(r"\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|TRACE|QUERY) /\S*"), "<operation>"),
    (re.compile(r"(?<![\w.:/])/[\w{}.~-]+(?:/[\w{}.~-]*)*"), "<path>"),
    (re.compile(r"\b[a-z]+_id\b"), "<param>"),
    (re.compile(r"\b[a-z]+_[0-9a-f]{6,}\b"), "<id>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<id>"),
    (re.compile(r"-?\d+(\.\d+)?"), "N"),
)


def normalise(message: str) -> str:
    """A message's first line with its values (quoted text, ids, numbers) blanked out."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    for pattern, replacement in _VOLATILE:
        line = pattern.sub(replacement, line)
    return line


@dataclass
class Cause:
    """Findings that share a check and a normalised message: one root cause."""

    check: str
    message: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def operations(self) -> list[str]:
        return sorted({f.operation for f in self.findings})

    @property
    def example(self) -> Finding:
        """The smallest reproduction of the cause."""
        return min(self.findings, key=_size)


def group_causes(findings: Iterable[Finding]) -> list[Cause]:
    """Findings grouped by root cause, the most frequent first."""
    causes: dict[tuple[str, str], Cause] = {}
    for finding in findings:
        check, message = finding.cause
        causes.setdefault((check, message), Cause(check, message)).findings.append(finding)
    return sorted(causes.values(), key=lambda c: (-len(c.findings), c.check, c.message))


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
