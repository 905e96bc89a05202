"""The kit's own HTTP client for its probes: paced, authenticated, every answer checked.

Every response a probe receives also goes through every registered PIN check
the run selected (envelope, RFC 6749 errors, rate-limit headers, ...:
``checks/catalogue.py``), so a probe that creates a patient also proves the
rate-limit headers of that answer. Every exchange is also noted for the
coverage (``Observations``) and for the cleanup (``Ledger``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import httpx

from pin_mock.contract.checks.catalogue import ALL_CHECKS
from pin_mock.contract.checks.registry import Check, Rule
from pin_mock.contract.cleanup import Ledger
from pin_mock.contract.coverage import Observations
from pin_mock.contract.exchange import ContractViolation, Exchange
from pin_mock.contract.findings import SECRETS, Finding, RecordedRequest, RecordedResponse
from pin_mock.contract.selection import CheckSelection
from pin_mock.contract.spec import Spec
from pin_mock.contract.tokens import (
    MAX_RETRY_AFTER,
    THROTTLE_RETRIES,
    TokenSource,
)
from pin_mock.contract.tokens import (
    retry_after as _retry_after,
)

USE_TOKEN: Any = object()


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
        spec: Spec,
        *,
        pacer: Pacer | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        checks: CheckSelection | None = None,
        observations: Observations | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._sleep = sleep
        self.tokens = tokens
        self.pacer = pacer or Pacer(None)
        self.client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)
        self.findings: list[Finding] = []
        self.requests = 0
        #: Answers 429: a run whose probes were mostly refused proved nothing (summary.verdict).
        self.limited = 0
        self.spec = spec
        #: The rate-limit headers of the latest API answer, and when it came (the budget).
        self.last_headers: dict[str, list[str]] = {}
        self.last_at = 0.0
        self.checks = checks or CheckSelection()
        self.observations = observations
        self.ledger = ledger
        # Every selected check, each answer: one rule per check for this target's life
        # (a per-run check, the rate-limit window, remembers earlier answers).
        self.ambient: tuple[tuple[Check, Rule], ...] = tuple(
            (check, check.new_rule()) for check in ALL_CHECKS if self.checks.enabled(check.name)
        )

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
        judge: bool = True,
        **kwargs: Any,
    ) -> Exchange:
        """Send one request; its answer is checked by the ambient rules (findings kept).

        ``judge=False``: neither checked nor counted for coverage (the first pass
        that finds which operations are implemented).
        """
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is USE_TOKEN and self.tokens is not None:
            real = self.tokens.token()
            SECRETS.add(real)  # the run's own credential: redacted in every report
            headers["Authorization"] = f"Bearer {real}"
        elif isinstance(token, str):
            headers["Authorization"] = token
        response = self._send(method, path, headers, kwargs)
        if self.spec.is_token_endpoint(template or path):
            # A throttled token endpoint (its brute-force guard may count the probes'
            # deliberately wrong secrets of earlier runs) is waited for as it asks.
            for _ in range(THROTTLE_RETRIES):
                wait = _retry_after(response)
                if wait is None or wait > MAX_RETRY_AFTER:
                    break
                self._sleep(wait)
                response = self._send(method, path, headers, kwargs)
        ex = Exchange.from_httpx(response, template=template, path_params=path_params or {})
        operation = (
            f"{method.upper()} {template}" if template else self.spec.label_of(method, ex.path)
        )
        if self.ledger is not None:
            self.ledger.observe(ex.method, ex.url, ex.status, ex.json())
        if not judge:
            return ex
        label = None
        if self.observations is not None:
            label = self.observations.exchange(
                ex.method, ex.url, ex.status, list(ex.request_headers)
            )
        # Only the run's own client's answers tell its budget (not a second client's).
        if (
            token is USE_TOKEN
            and self.spec.in_api(ex.template)
            and "x-ratelimit-remaining" in ex.headers
        ):
            self.last_headers, self.last_at = dict(ex.headers), time.time()
        for check, rule in self.ambient:
            if not check.applies_to(ex, self.spec):
                continue
            try:
                rule(ex, self.spec)
            except ContractViolation as exc:
                self.findings.append(finding(operation, check.name, str(exc), ex))
                held = False
            else:
                held = True
            if label is not None and self.observations is not None:
                self.observations.check(label, check.name, held)
        return ex

    def observe_check(self, operation: str, check: str, held: bool) -> None:
        """A probe's own check judged ``operation`` (for the coverage)."""
        if self.observations is not None:
            method, _, path = operation.partition(" ")
            label = self.observations.label(method, path) if path.startswith("/") else None
            if label is not None:
                self.observations.check(label, check, held)

    def _send(
        self, method: str, path: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> httpx.Response:
        self.pacer.wait()
        self.requests += 1
        response = self.client.request(method, self.url(path), headers=headers, **kwargs)
        self.limited += response.status_code == 429
        return response


def finding(operation: str, check: str, message: str, ex: Exchange | None) -> Finding:
    """A probe finding with its exchange (the run's real credentials filtered)."""
    if ex is None:
        return Finding(operation, check, message, source="probe")
    return Finding(
        operation=operation,
        check=check,
        message=message,
        request=RecordedRequest.build(ex.method, ex.url, dict(ex.request_headers), ex.request_body),
        response=RecordedResponse.build(ex.status, dict(ex.headers), ex.body, ex.elapsed),
        source="probe",
    )
