"""The composition root: every service of one sandbox, built once from the settings.

The order of the set-up is the order of the dependencies: the clients and the
seeded data, the state engine (``state/engine.py``: ``--state`` picks memory or
Redis; nothing else ever asks which), the domain over its ports, and the
background workers, each given only what it uses. Nothing built here is
changed afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from pin_mock.server.background.report_jobs import ReportJobs
from pin_mock.server.background.sandbox_expiry import SandboxExpiry
from pin_mock.server.background.webhooks.dispatcher import WebhookDispatcher
from pin_mock.server.domain.auth import ClientRegistry, TokenService
from pin_mock.server.domain.chaos import Chaos
from pin_mock.server.domain.clocks import ClientClocks
from pin_mock.server.domain.events import Events
from pin_mock.server.domain.ids import IdFactory
from pin_mock.server.domain.journal.service import Journal
from pin_mock.server.domain.keys import KeyRing
from pin_mock.server.domain.rate_limiter import RateLimiter
from pin_mock.server.domain.reports.service import Reports
from pin_mock.server.domain.seed.generator import SeedData, generate
from pin_mock.server.domain.store import Store
from pin_mock.server.domain.token_throttle import TokenThrottle
from pin_mock.server.observability import Observability
from pin_mock.server.services import Services
from pin_mock.server.settings import Settings
from pin_mock.server.state.engine import open_state
from pin_mock.server.state.journal_port import JournalLimits


def build_services(settings: Settings, clock: Callable[[], float] = time.time) -> Services:
    """Load fixtures and clients, open the state engine, build the services; fails fast.

    On Redis, an unreachable server is a ``ConfigError`` with one line of reason.
    """
    clients = ClientRegistry.from_file(settings.clients_file, settings.tier_limits)
    seed = _seed(settings.fixtures, settings.seed, settings.patients)
    engine = open_state(
        settings.state,
        clock=clock,
        claim_timeout=settings.job_claim_timeout,
        sandbox_ttl=settings.sandbox_ttl,
    )
    keys = KeyRing(
        engine.keys,
        rotation=settings.key_rotation,
        grace=settings.key_grace or settings.token_ttl,
        static=settings.signing_key,
        clock=clock,
    )
    # Created ids: random per process in memory; unique across workers and restarts on Redis.
    ids = IdFactory(engine.ids)
    # Each client's clock over ``clock`` (the sandbox's): what everything below dates and
    # waits by is the clock of the client served (``domain/clocks.py``); the engine's own
    # book-keeping (activity, leases, retry sets) and the signing keys stay on ``clock``.
    clocks = ClientClocks(engine.clocks, clock)
    now = clocks.now
    limiter = RateLimiter(
        settings.tier_limits, settings.rate_limit_window, engine.counters("limits"), clocks.offset
    )
    store = Store(seed, ids, engine.tenants, settings)
    events = Events(engine.webhooks, ids, now, settings.quota_pending_deliveries, engine.archive)
    observability = Observability.build(settings, engine.health)
    report_jobs = ReportJobs(
        engine.report_jobs,
        engine.reports,
        store,
        events,
        clocks,
        settings.report_delay,
        observability=observability,
    )
    # The request journal: each client's last exchanges, bounded per client and in all.
    limits = JournalLimits(settings.journal_size, settings.journal_clients, settings.sandbox_ttl)
    journal = Journal(engine.journal(limits), settings.journal_size, settings.journal_body_bytes)
    deliveries = WebhookDispatcher(
        engine.deliveries,
        engine.webhooks,
        ids,
        clocks,
        settings,
        journal=journal,
        observability=observability,
    )
    return Services(
        settings=settings,
        clock=now,
        clocks=clocks,
        clients=clients,
        tokens=TokenService(ttl=settings.token_ttl, issuer=settings.issuer, clock=now, keys=keys),
        limiter=limiter,
        token_throttle=TokenThrottle(settings, engine.counters("throttle")),
        store=store,
        events=events,
        reports=Reports(store, engine.reports, now, settings),
        webhooks=engine.webhooks,
        # The engine's expiry first, so it stops last (the others may write while stopping);
        # webhooks before reports, so they stop after them and hear reports' last events.
        # The journal before the dispatcher, so it stops after it and keeps its last attempts.
        workers=(
            SandboxExpiry(engine, settings.sandbox_ttl),
            journal,
            deliveries,
            report_jobs,
        ),
        report_jobs=report_jobs,
        deliveries=deliveries,
        journal=journal,
        chaos=Chaos(engine.chaos),
        observability=observability,
    )


@lru_cache(maxsize=4)
def _seed(fixtures: Path, seed: int, patients: int) -> SeedData:
    # The seeded data is a pure function of these three and is only read (tenants
    # hold what clients create), so sandboxes built in one process share it: a test
    # session or a benchmark generates it once.
    return generate(fixtures, seed=seed, patients=patients)
