"""The kit's own HTTP client for its probes: paced, authenticated, every answer checked.

Every response a probe receives also goes through the per-response PIN rules
(envelope, RFC 6749 errors, rate-limit headers, ...), so a probe that creates
a patient also proves the rate-limit headers of that answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import httpx

from pin_mock.contract import listing, ratelimits, rules
from pin_mock.contract.auth import TokenSource
from pin_mock.contract.exchange import ContractViolation, Exchange
from pin_mock.contract.findings import Finding, RecordedRequest, RecordedResponse

USE_TOKEN: Any = object()

#: Rules every probe answer must satisfy, by check name (as in checks.py).
AMBIENT_RULES: tuple[tuple[str, Callable[[Exchange], None]], ...] = (
    ("pin_error_envelope", rules.error_envelope),
    ("pin_oauth_error", rules.oauth_error),
    ("pin_token_response", rules.token_response),
    ("pin_unauthorized_challenge", rules.unauthorized_challenge),
    ("pin_rate_limit_headers", ratelimits.rate_limit_headers),
    ("pin_retry_after", ratelimits.retry_after),
    ("pin_resource_identity", rules.resource_identity),
    ("pin_created_location", rules.created_location),
    ("pin_paging", listing.paging),
    ("pin_search_filter", listing.patient_search),
    ("pin_clinical_data_filters", listing.clinical_data_filters),
)


class Pacer:
    """At most ``rate`` requests per second across threads (``None``: unpaced)."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


class Target:
    """The implementation under test, as the probes see it."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource | None,
        *,
        pacer: Pacer | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.pacer = pacer or Pacer(None)
        self.client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)
        self.findings: list[Finding] = []
        self.requests = 0
        self.windows = ratelimits.WindowTracker(margin=0.0)

    def close(self) -> None:
        self.client.close()

    def url(self, path: str) -> str:
        """An absolute URL for a path (or a ``Location`` header, resolved like a browser)."""
        if "://" in path:
            return path
        if path.startswith("/"):
            return self.base_url + path
        return urljoin(self.base_url + "/", path)

    def request(
        self,
        method: str,
        path: str,
        *,
        template: str = "",
        token: Any = USE_TOKEN,
        path_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Exchange:
        """Send one request; its answer is checked by the ambient rules (findings kept)."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is USE_TOKEN and self.tokens is not None:
            headers["Authorization"] = f"Bearer {self.tokens.token()}"
        elif isinstance(token, str):
            headers["Authorization"] = token
        self.pacer.wait()
        response = self.client.request(method, self.url(path), headers=headers, **kwargs)
        self.requests += 1
        ex = Exchange.from_httpx(response, template=template, path_params=path_params or {})
        operation = f"{method.upper()} {template or ex.path}"
        for check, rule in AMBIENT_RULES:
            self._apply(check, operation, ex, rule)
        self._apply("PinRateLimitWindow", operation, ex, self.windows.observe)
        return ex

    def _apply(
        self, check: str, operation: str, ex: Exchange, rule: Callable[[Exchange], None]
    ) -> None:
        try:
            rule(ex)
        except ContractViolation as exc:
            self.findings.append(finding(operation, check, str(exc), ex))


def finding(operation: str, check: str, message: str, ex: Exchange | None) -> Finding:
    """A probe finding with its exchange (credentials filtered)."""
    if ex is None:
        return Finding(operation, check, message, source="probe")
    return Finding(
        operation=operation,
        check=check,
        message=message,
        request=RecordedRequest.build(ex.method, ex.url, dict(ex.request_headers), ex.request_body),
        response=RecordedResponse(ex.status, dict(ex.headers), ex.body, ex.elapsed),
        source="probe",
    )
