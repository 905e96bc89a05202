"""The services one sandbox runs on: a plain container, filled once by ``wiring.py``.

Nothing here builds anything and nothing below the app factory holds the
container: the app factory hands each layer what it uses (the token service to
the authentication layer, the limiter to the rate-limit layer, the store to
the sandbox routes), the operation layer hands each handler the services it
names as parameters (``store``, ``events``, ``reports``...), and each
background worker got its narrow dependencies when it was built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from pin_mock.server.background.report_jobs import ReportJobs
from pin_mock.server.background.webhooks.dispatcher import WebhookDispatcher
from pin_mock.server.domain import analytics
from pin_mock.server.domain.auth import ClientRegistry, TokenService
from pin_mock.server.domain.chaos import Chaos
from pin_mock.server.domain.clocks import ClientClocks
from pin_mock.server.domain.events import Events
from pin_mock.server.domain.journal.service import Journal
from pin_mock.server.domain.rate_limiter import RateLimiter
from pin_mock.server.domain.reports.service import Reports
from pin_mock.server.domain.store import Store
from pin_mock.server.domain.token_throttle import TokenThrottle
from pin_mock.server.observability import Observability
from pin_mock.server.settings import Settings
from pin_mock.server.state.ports import WebhookStore


class Worker(Protocol):
    """Background work the app's lifespan starts, and stops in reverse order."""

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Services:
    """Everything one sandbox runs on; a handler takes any of these by its name."""

    settings: Settings
    #: The clock of the client served (``clocks.now``): what handlers date things by.
    clock: Callable[[], float]
    clocks: ClientClocks
    clients: ClientRegistry
    tokens: TokenService
    limiter: RateLimiter
    token_throttle: TokenThrottle
    store: Store
    events: Events
    reports: Reports
    webhooks: WebhookStore
    #: The background workers, in the order they start (they stop in reverse).
    workers: tuple[Worker, ...]
    report_jobs: ReportJobs
    deliveries: WebhookDispatcher
    #: Each client's last exchanges (``GET /_sandbox/requests``); recorded by the journal layer.
    journal: Journal
    chaos: Chaos  # /_sandbox/chaos and the chaos layer
    #: /healthz, /readyz, metrics and traces (``observability/``).
    observability: Observability

    def today(self) -> date:
        """The sandbox clock's date (UTC): ages and "latest" figures are computed on it."""
        return datetime.fromtimestamp(self.clock(), UTC).date()

    def warm(self) -> None:
        """Compute the seeded data's analytics now, so the first request does not wait."""
        analytics.warm(self.store, self.today())
