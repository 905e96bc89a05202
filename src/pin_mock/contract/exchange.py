"""One request and its response, in the plain shape every PIN rule reads.

Schemathesis responses (inside checks) and httpx responses (inside the kit's
own probes) are both turned into an ``Exchange``, so each rule is a pure
function that can be tested against a hand-made exchange.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_UNSET: Any = object()


class ContractViolation(AssertionError):
    """A PIN rule does not hold (Schemathesis reports ``AssertionError`` as a failure)."""


def shown(value: Any, limit: int = 200) -> str:
    """A value as a message shows it: JSON (``null``, ``"text"``, ``{"a": 1}``), never a Python repr."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    except (TypeError, ValueError):
        text = json.dumps(str(value), ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def fail(message: str) -> None:
    """Raise a ``ContractViolation`` with ``message``."""
    raise ContractViolation(message)


@dataclass
class Exchange:
    """A request/response pair; header names are lower-case, values are lists."""

    method: str
    url: str
    status: int
    headers: Mapping[str, list[str]]
    body: bytes = b""
    #: The operation's path template (``/v1/patients/{patient_id}``), or the raw path.
    template: str = ""
    path_params: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] | None = None
    request_headers: Mapping[str, str] = field(default_factory=dict)
    #: Seconds the request took (used to tell which requests were sent after which).
    elapsed: float = 0.0
    request_body: bytes | None = None
    _json: Any = field(default=_UNSET, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.headers = {k.lower(): list(v) for k, v in self.headers.items()}
        self.request_headers = {k.lower(): v for k, v in self.request_headers.items()}
        if not self.template:
            self.template = self.path
        if self.query is None:
            self.query = dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    @property
    def path(self) -> str:
        """The request's URL path."""
        return urlsplit(self.url).path or "/"

    def header(self, name: str) -> str | None:
        """The first value of response header ``name``, or ``None``."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        """Every value of response header ``name``."""
        return list(self.headers.get(name.lower(), []))

    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is not JSON."""
        if self._json is _UNSET:
            try:
                self._json = json.loads(self.body) if self.body else None
            except (ValueError, UnicodeDecodeError):
                self._json = None
        return self._json

    def snippet(self, limit: int = 200) -> str:
        """The start of the body, for messages."""
        text = self.body.decode("utf-8", "replace")
        return text if len(text) <= limit else text[:limit] + "..."

    @classmethod
    def from_httpx(cls, response: Any, template: str = "", **extra: Any) -> Exchange:
        """Build from an ``httpx.Response`` (the kit's probes)."""
        headers: dict[str, list[str]] = {}
        for key, value in response.headers.multi_items():
            headers.setdefault(key.lower(), []).append(value)
        request = response.request
        return cls(
            method=request.method,
            url=str(request.url),
            status=response.status_code,
            headers=headers,
            body=response.content,
            template=template,
            request_headers=dict(request.headers),
            elapsed=response.elapsed.total_seconds() if _has_elapsed(response) else 0.0,
            request_body=request.content or None,
            **extra,
        )

    @classmethod
    def from_schemathesis(cls, response: Any, case: Any) -> Exchange:
        """Build from a Schemathesis ``Response`` and its ``Case`` (the custom checks)."""
        request = response.request
        return cls(
            method=request.method or case.method,
            url=request.url or "",
            status=response.status_code,
            headers=response.headers,
            body=response.content or b"",
            template=case.operation.path,
            path_params=dict(case.path_parameters or {}),
            query=dict(case.query or {}),
            request_headers={k: str(v) for k, v in (request.headers or {}).items()},
            elapsed=response.elapsed,
            request_body=_as_bytes(request.body),
        )


def _has_elapsed(response: Any) -> bool:
    try:
        response.elapsed  # noqa: B018 - httpx raises until the body is read
    except RuntimeError:
        return False
    return True


def _as_bytes(body: Any) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return None
