"""``/metrics``: the Prometheus text exposition of what ``Metrics`` recorded.

In one process, this object's registry; across workers, every worker's samples
from the run's directory (``MultiProcessCollector``). Read at scrape time from
the shared state, so the same whichever worker or replica answers:
``pin_mock_queue_jobs{queue, state}`` (reports and deliveries waiting or under
way, and retries scheduled) and ``pin_mock_state_up`` (1 when the state engine
took the readiness probe's write). A scrape while Redis is lost still answers,
with ``pin_mock_state_up 0`` and no queue depths.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from pin_mock.server.observability.metrics import Metrics
from pin_mock.server.observability.readiness import OK, Readiness

#: The exposition's media type (text format 0.0.4), what Prometheus asks for.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Snapshot:
    """A collector of values read once, at this scrape."""

    def __init__(self, depths: dict[tuple[str, str], int] | None, up: bool) -> None:
        self.depths, self.up = depths, up

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "pin_mock_state_up",
            "1 when the state engine took a small write at this scrape, else 0.",
            value=1 if self.up else 0,
        )
        if self.depths is not None:
            family = GaugeMetricFamily(
                "pin_mock_queue_jobs",
                "Jobs in the shared queues: queued (waiting or under way) or scheduled (retries).",
                labels=["queue", "state"],
            )
            for (queue, state), count in sorted(self.depths.items()):
                family.add_metric([queue, state], count)
            yield family


async def scrape(metrics: Metrics, readiness: Readiness) -> bytes:
    """The exposition text: recorded samples, then the state's gauges read now."""
    up = await readiness.state() == OK
    depths = None
    if up:
        try:
            async with asyncio.timeout(readiness.timeout):
                depths = await readiness.health.depths()
        except Exception:  # lost since the probe: the gauge says so at the next scrape
            depths = None
    if metrics.directory is not None:
        recorded = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(recorded, path=metrics.directory)
    else:
        recorded = metrics.registry
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Snapshot(depths, up))
    return generate_latest(recorded) + generate_latest(snapshot)
