"""The services one sandbox instance runs on, built once from the settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pin_mock.server import reports, webhooks
from pin_mock.server import seed_data as fixtures
from pin_mock.server.auth import ClientRegistry, TokenService
from pin_mock.server.rate_limits import RateLimiter
from pin_mock.server.settings import Settings
from pin_mock.server.store import IdFactory, Store


@dataclass
class Services:
    """Everything handlers and middleware use; reached as ``request.state.services``."""

    settings: Settings
    clients: ClientRegistry
    tokens: TokenService
    limiter: RateLimiter
    store: Store
    clock: Callable[[], float] = time.time
    # Background workers (reports, webhooks) register here to hear about events.
    listeners: list[Callable[[str, str, dict[str, Any]], None]] = field(default_factory=list)
    # Objects with ``async start()`` and ``async aclose()``, run by the app's lifespan.
    workers: list[Any] = field(default_factory=list)

    def today(self) -> date:
        """The sandbox clock's date (UTC): ages and "latest" figures are computed on it."""
        return datetime.fromtimestamp(self.clock(), UTC).date()

    def emit(self, client_id: str, event_type: str, data: dict[str, Any]) -> None:
        """Announce a domain event (``patient.created`` ...) for ``client_id``."""
        for listener in self.listeners:
            listener(client_id, event_type, data)


def build_services(settings: Settings, clock: Callable[[], float] = time.time) -> Services:
    """Load fixtures and clients and create the services; fails fast on bad input."""
    seed = fixtures.generate(settings.fixtures, seed=settings.seed, patients=settings.patients)
    services = Services(
        settings=settings,
        clients=ClientRegistry.from_file(settings.clients_file, settings.tier_limits),
        tokens=TokenService(
            ttl=settings.token_ttl, issuer=settings.issuer, key=settings.signing_key, clock=clock
        ),
        limiter=RateLimiter(settings.tier_limits, settings.rate_limit_window, clock=clock),
        store=Store(seed, IdFactory(settings.seed)),
        clock=clock,
    )
    # Background workers; webhooks first, so they stop last and hear reports' last events.
    webhooks.install(services)
    reports.install(services)
    return services
