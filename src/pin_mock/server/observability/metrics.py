"""Prometheus metrics of one sandbox (``--metrics``), with ``prometheus-client``.

Recorded where they happen: the requests by the observing layer
(``pipeline/observing.py``), deliveries by the webhook dispatcher, reports by
the report jobs; the queues' depths and whether the state engine answers are
read when ``/metrics`` is scraped (``exposition.py``), so they are the shared
state's, whichever worker or replica answers.

Across workers (``pin-mock serve --workers N --metrics``): ``prometheus-client``'s
multiprocess mode. ``transport/uvicorn_config.py`` makes one directory per run
and names it in ``PROMETHEUS_MULTIPROC_DIR`` before the workers start (the mode is
chosen when ``prometheus_client`` is imported); every worker writes its samples
there and the one that answers ``/metrics`` reads them all
(``MultiProcessCollector``). In one process the samples stay in this object's
own registry (so tests can build many sandboxes in one process).

Label values are bounded: operations are the spec's ``operationId`` (or ``other``
for anything unrouted: a path a scanner makes up is not a new series), tiers are
the three tiers or ``none``; no client id, path or request id is a label.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    values,
)

#: Request latency buckets (seconds): the sandbox answers in well under a millisecond
#: to tens of milliseconds; ``Prefer: delay=`` answers can take up to 10 s.
REQUEST_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
#: Delivery attempt buckets (seconds): an attempt lasts at most ``--webhook-timeout``.
DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess_dir() -> str | None:
    """The directory every worker writes to, or None in one process.

    ``prometheus_client`` decided at import time from ``PROMETHEUS_MULTIPROC_DIR``;
    its value class says which (the variable is read here only to find the files).
    """
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


class Metrics:
    """The sandbox's instruments; each ``record`` method costs a dict look-up and an add."""

    def __init__(self) -> None:
        # No ``*_created`` series (a timestamp per label set; not kept across workers anyway).
        disable_created_metrics()
        self.directory = multiprocess_dir()
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self.requests = Counter(
            "pin_mock_http_requests",
            "HTTP requests answered, by operationId, status and client tier.",
            ["operation", "status", "tier"],
            registry=r,
        )
        self.latency = Histogram(
            "pin_mock_http_request_duration_seconds",
            "Time from the request's arrival to the end of its answer, by operationId.",
            ["operation"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.rate_limited = Counter(
            "pin_mock_rate_limited",
            "/v1 requests refused 429 by the per-client rate limit, by client tier.",
            ["tier"],
            registry=r,
        )
        self.token_throttled = Counter(
            "pin_mock_token_throttled",
            "POST /oauth/token requests refused 429 by the token endpoint's throttle.",
            registry=r,
        )
        self.unavailable = Counter(
            "pin_mock_state_unavailable",
            "Requests answered 503 because the state engine (Redis) was lost, read-only or full.",
            registry=r,
        )
        self.state_errors = Counter(
            "pin_mock_state_errors",
            "Background jobs interrupted by a lost, read-only or full state engine (Redis), "
            "by queue; the job stays queued and runs again.",
            ["queue"],
            registry=r,
        )
        self.deliveries = Counter(
            "pin_mock_webhook_deliveries",
            "Webhook delivery attempts, by outcome (succeeded, failed, blocked, not_delivered).",
            ["outcome"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "pin_mock_webhook_delivery_duration_seconds",
            "Time of one webhook delivery attempt on the wire, by outcome.",
            ["outcome"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.reports = Counter(
            "pin_mock_reports",
            "Reports that reached a state (processing, completed, failed, abandoned).",
            ["state"],
            registry=r,
        )
        # labels() takes a lock and builds a tuple: done once per label set, then cached.
        self._request_children: dict[tuple[str, int, str], tuple[Counter, Histogram]] = {}

    def request(self, operation: str, status: int, tier: str, seconds: float) -> None:
        """One answered request."""
        key = (operation, status, tier)
        children = self._request_children.get(key)
        if children is None:
            children = (
                self.requests.labels(operation, str(status), tier),
                self.latency.labels(operation),
            )
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def delivery(self, outcome: str, seconds: float) -> None:
        """One webhook delivery attempt, logged with ``outcome``."""
        self.deliveries.labels(outcome).inc()
        self.delivery_latency.labels(outcome).observe(seconds)

    def report(self, state: str) -> None:
        """A report moved to ``state``."""
        self.reports.labels(state).inc()
