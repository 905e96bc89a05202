"""The services one sandbox instance runs on, built once from the settings."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import pin_mock.server.background.report_jobs as report_jobs
import pin_mock.server.background.webhooks.dispatcher as webhook_dispatcher
import pin_mock.server.domain.analytics as analytics
from pin_mock.server.background.sandbox_expiry import StateWorker
from pin_mock.server.domain.auth import ClientRegistry, TokenService
from pin_mock.server.domain.keys import KeyRing
from pin_mock.server.domain.seed.generator import SeedData, generate
from pin_mock.server.domain.store import IdFactory, Store
from pin_mock.server.domain.token_throttle import TokenThrottle
from pin_mock.server.pipeline.rate_limits import Counters, RateLimiter
from pin_mock.server.settings import Settings
from pin_mock.server.state.engine import StateEngine, open_state
from pin_mock.server.state.memory.tenants import MemoryTenants
from pin_mock.server.state.ports import Then
from pin_mock.server.state.redis.tenants import RedisTenants

T = TypeVar("T")


@dataclass
class Services:
    """Everything handlers and middleware use; handed to them by the app factory."""

    settings: Settings
    clients: ClientRegistry
    tokens: TokenService
    limiter: RateLimiter
    store: Store
    token_throttle: TokenThrottle
    clock: Callable[[], float] = time.time
    # Where what clients change lives: memory (this process) or Redis (state/engine.py).
    state: StateEngine = field(default_factory=lambda: StateEngine("memory://"))
    # Background workers (reports, webhooks) register here to hear about events.
    # A listener answers None, or an awaitable that ``emit`` awaits (the Redis dispatcher).
    listeners: list[Callable[[str, str, dict[str, Any]], Awaitable[None] | None]] = field(
        default_factory=list
    )
    # Objects with ``async start()`` and ``async aclose()``, run by the app's lifespan.
    workers: list[Any] = field(default_factory=list)

    def today(self) -> date:
        """The sandbox clock's date (UTC): ages and "latest" figures are computed on it."""
        return datetime.fromtimestamp(self.clock(), UTC).date()

    def warm(self) -> None:
        """Compute the seeded data's analytics now, so the first request does not wait."""
        analytics.warm(self.store, self.today())

    async def emit(self, client_id: str, event_type: str, data: dict[str, Any]) -> None:
        """Announce a domain event (``patient.created`` ...) for ``client_id``.

        Awaited before the client is answered: a listener that queues the event
        elsewhere (Redis) does it inside this await, so a 201 means the event is
        queued, and a failure (Redis lost or full) is the request's 503. The memory
        engine's listeners are plain functions and cost no more than before.
        """
        for listener in self.listeners:
            done = listener(client_id, event_type, data)
            if done is not None:
                await done

    async def emit_with(
        self,
        client_id: str,
        event_type: str,
        data: dict[str, Any],
        write: Callable[[Then | None], Awaitable[T]],
    ) -> T:
        """Run ``write`` (a create) and announce its event, atomically where the engine can.

        A listener with ``prepare`` (the Redis dispatcher) hands a step that ``write``
        runs in the create's own Lua script, so the resource and its queued event are
        stored together or not at all (a lost or full Redis: 503, nothing written).
        The other listeners hear the event after the write, as ``emit`` does; a
        refused write (404, 409) announces nothing.
        """
        staged, step = None, None
        for listener in self.listeners:
            prepare = getattr(listener, "prepare", None)
            if prepare is not None:
                staged, step = listener, await prepare(client_id, event_type, data)
                break
        result = await write(step)
        for listener in self.listeners:
            if listener is staged:
                if step is not None:
                    await listener.settle(client_id, step)
                continue
            done = listener(client_id, event_type, data)
            if done is not None:
                await done
        return result


def build_services(settings: Settings, clock: Callable[[], float] = time.time) -> Services:
    """Load fixtures and clients and create the services; fails fast on bad input.

    On Redis, an unreachable server is a ``ConfigError`` with one line of reason.
    """
    clients = ClientRegistry.from_file(settings.clients_file, settings.tier_limits)
    seed = _seed(settings.fixtures, settings.seed, settings.patients)
    engine = open_state(settings.state)
    keys = KeyRing(
        rotation=settings.key_rotation,
        grace=settings.key_grace or settings.token_ttl,
        static=settings.signing_key,
        client=engine.sync,
        name=engine.key("keys"),
        clock=clock,
    )
    if engine.sync is not None:
        # Created ids unique across workers, replicas and restarts (state/ids.py).
        ids = IdFactory.shared(engine.sync, engine.namespace)
        tenants: MemoryTenants | RedisTenants = RedisTenants(
            engine, ttl=settings.sandbox_ttl, clock=clock
        )
    else:
        # Created ids are random per sandbox; only seeded data follows the seed.
        ids, tenants = IdFactory(), MemoryTenants()
    services = Services(
        settings=settings,
        clients=clients,
        tokens=TokenService(ttl=settings.token_ttl, issuer=settings.issuer, clock=clock, keys=keys),
        limiter=RateLimiter(
            settings.tier_limits, settings.rate_limit_window, Counters(engine, "limits")
        ),
        token_throttle=TokenThrottle(settings, Counters(engine, "throttle")),
        store=Store(seed, ids, tenants, settings),
        clock=clock,
        state=engine,
    )
    # The engine's worker first, so it stops last (the others may write while stopping).
    services.workers.append(StateWorker(engine, tenants, settings.sandbox_ttl))
    # Background workers; webhooks first, so they stop last and hear reports' last events.
    webhook_dispatcher.install(services)
    report_jobs.install(services)
    return services


@lru_cache(maxsize=4)
def _seed(fixtures: Path, seed: int, patients: int) -> SeedData:
    # The seeded data is a pure function of these three and is only read (tenants
    # hold what clients create), so sandboxes built in one process share it: a test
    # session or a benchmark generates it once.
    return generate(fixtures, seed=seed, patients=patients)
