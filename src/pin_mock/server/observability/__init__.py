"""Observability: what an operator sees of a running sandbox.

- ``readiness.py``: ``/readyz`` (state engine reachable and writable, workers
  started, seeded data built, every worker process serving: ``roll.py``);
  ``/healthz`` needs nothing;
- ``metrics.py``, ``exposition.py``: Prometheus metrics at ``/metrics``
  (``--metrics``, off by default);
- ``tracing.py``: OpenTelemetry spans per request and per background job
  (``--traces``, off by default; the ``traces`` extra).

The observing layer (``pipeline/observing.py``) answers the three paths and
records each request; the background workers record their jobs through
``Observability``. Everything here is a no-op when switched off: a request then
pays one dictionary look-up of its path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pin_mock.server.observability.metrics import Metrics
from pin_mock.server.observability.readiness import Readiness
from pin_mock.server.observability.roll import ProcessRoll
from pin_mock.server.observability.tracing import Tracing
from pin_mock.server.origins import ORIGIN_FIELD
from pin_mock.server.settings import Settings
from pin_mock.server.state.health_port import EngineHealth

__all__ = ["UNOBSERVED", "Metrics", "Observability", "Readiness", "Tracing"]


@dataclass(frozen=True)
class Observability:
    """The sandbox's readiness, metrics (or None) and tracing (or None)."""

    readiness: Readiness
    metrics: Metrics | None = None
    tracing: Tracing | None = None

    @classmethod
    def build(cls, settings: Settings, health: EngineHealth) -> Observability:
        return cls(
            Readiness(health, roll=ProcessRoll.from_environment(settings.workers)),
            Metrics() if settings.metrics else None,
            Tracing.from_environment() if settings.traces else None,
        )

    @contextmanager
    def job(
        self, name: str, job: Mapping[str, Any], attributes: Mapping[str, Any]
    ) -> Iterator[None]:
        """A span around one background job, linked to what queued it, when traces are on."""
        if self.tracing is None:
            yield
            return
        with self.tracing.job(name, attributes, job.get(ORIGIN_FIELD)):
            yield

    def delivery(self, outcome: str, seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.delivery(outcome, seconds)

    def state_error(self, queue: str) -> None:
        """A job of ``queue`` met a lost state engine (it stays queued)."""
        if self.metrics is not None:
            self.metrics.state_errors.labels(queue).inc()

    def report(self, state: str) -> None:
        if self.metrics is not None:
            self.metrics.report(state)

    def shutdown(self) -> None:
        if self.tracing is not None:
            self.tracing.shutdown()


class _NoHealth:
    async def check(self) -> None:
        return None

    async def depths(self) -> dict[tuple[str, str], int]:
        return {}


#: Nothing recorded: for a worker built without observability (tests that build one by hand).
UNOBSERVED = Observability(Readiness(_NoHealth()))
