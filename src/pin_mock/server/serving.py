"""How ``pin-mock serve`` runs the app: uvicorn with the sandbox's connection policy.

One place turns ``Settings`` into a ``uvicorn.Config``, so the CLI, the tests
and the soak all serve the app the same way:

- **forwarding headers** (``X-Forwarded-For``/``-Proto``) are believed only
  from the peers named by ``forwarded_allow_ips``; by default from nobody.
  uvicorn's own default trusts 127.0.0.1, which let any local caller pick the
  address the rate limiter counts against, a fresh one per request;
- **timeouts**: idle keep-alive connections close after ``keep_alive_timeout``;
  the request head and body have deadlines (``connections.py``, and
  ``timeouts.py`` for the body's 408); the head's size and field count are
  bounded while it streams in;
- **shutdown**: on SIGTERM, requests still running after
  ``graceful_shutdown_timeout`` seconds are cancelled and logged as abandoned
  (``timeouts.py``); the workers then log what they abandon.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import asdict
from typing import Any

import uvicorn

from pin_mock.server.connections import guarded_protocol
from pin_mock.server.settings import Settings
from pin_mock.server.timeouts import log_abandoned

log = logging.getLogger(__name__)

#: The settings the start-up line names (the rest are in ``pin-mock serve --help``).
_NAMED = (
    "host",
    "port",
    "seed",
    "patients",
    "log_level",
    "log_format",
    "forwarded_allow_ips",
    "keep_alive_timeout",
    "header_timeout",
    "body_timeout",
    "graceful_shutdown_timeout",
    "max_body_bytes",
    "max_header_bytes",
    "max_header_fields",
    "webhook_targets",
)


def uvicorn_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The ``uvicorn.Config`` serving ``app`` under ``settings`` (``overrides`` win).

    ``log_config=None``: logging is configured once by ``logs.configure`` in the
    serve path; tests that serve in a thread keep their own.
    """
    trusted = [e.strip() for e in settings.forwarded_allow_ips.split(",") if e.strip()]
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": None,
        "proxy_headers": bool(trusted),
        # Never None: uvicorn would then read $FORWARDED_ALLOW_IPS or trust 127.0.0.1.
        "forwarded_allow_ips": trusted or [],
        "timeout_keep_alive": settings.keep_alive_timeout,
        "timeout_graceful_shutdown": settings.graceful_shutdown_timeout,
        "http": guarded_protocol(
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            max_header_bytes=settings.max_header_bytes,
            max_header_fields=settings.max_header_fields,
        ),
        "server_header": False,  # no version banner for scanners
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


class SandboxServer(uvicorn.Server):
    """uvicorn's server, saying which requests a graceful shutdown abandons."""

    async def _wait_tasks_to_complete(self) -> None:
        # uvicorn runs this under ``wait_for(timeout_graceful_shutdown)``: being
        # cancelled here means the time is up and the requests left are abandoned.
        try:
            await super()._wait_tasks_to_complete()
        except asyncio.CancelledError:
            log_abandoned()
            raise


def run(app: Any, settings: Settings) -> None:
    """Serve ``app`` until SIGINT/SIGTERM (logging already configured by the caller)."""
    named = {k: v for k, v in asdict(settings).items() if k in _NAMED}
    summary = ", ".join(f"{k}={v}" for k, v in named.items())
    log.info("pin-mock sandbox starting: %s", summary, extra=named)
    # Everything built so far (the spec and its compiled validators, the seeded
    # data) lives as long as the server: keep it out of the garbage collector's
    # full passes, which otherwise rescan it every few thousand requests (p99 of
    # POST /v1/patients under load: 57 ms without, 11 ms with; bench/README.md).
    gc.collect()
    gc.freeze()
    SandboxServer(uvicorn_config(app, settings)).run()
