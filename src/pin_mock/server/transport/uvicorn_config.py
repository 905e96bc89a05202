"""How ``pin-mock serve`` runs the app: uvicorn with the sandbox's connection policy.

One place turns ``Settings`` into a uvicorn configuration (``SandboxConfig``),
so the CLI, the tests and the soak all serve the app the same way:

- **forwarding headers** (``X-Forwarded-For``/``-Proto``) are believed only
  from the peers named by ``forwarded_allow_ips``; by default from nobody.
  uvicorn's own default trusts 127.0.0.1, which let any local caller pick the
  address the rate limiter counts against, a fresh one per request;
- **timeouts**: idle keep-alive connections close after ``keep_alive_timeout``;
  the request head and body have deadlines (``guarded_protocol.py``, and
  ``pipeline/body_deadline.py`` for the body's 408); the head's size and field count are
  bounded while it streams in; an answer nobody reads closes its connection
  after ``send_timeout``;
- **caps**: at most ``max_connections`` connections, ``max_connections_per_address``
  from one peer (trusted proxies excepted), else 503 (``connection_limits.py``);
- **shutdown**: on SIGTERM, requests still running after
  ``graceful_shutdown_timeout`` seconds are cancelled and logged as abandoned
  (``body_deadline.InFlight``); the workers then log what they abandon;
- **metrics across workers**: with ``--metrics`` and several workers, one fresh
  directory for this run, named in ``PROMETHEUS_MULTIPROC_DIR`` before the workers
  start (prometheus-client's multiprocess mode: each worker writes its samples
  there, ``/metrics`` reads them all) and removed when the server stops; under
  the operator's own ``PROMETHEUS_MULTIPROC_DIR`` if set, so no run reads another's;
- **workers**: with ``workers > 1`` (Redis state only: ``Settings`` refuses it
  in memory) uvicorn's supervisor starts that many processes on one socket and
  replaces one that dies. A fresh directory named in ``ROLL_ENV`` before they
  start is where each says it serves (``observability/roll.py``): ``/readyz``
  waits for all of them, and the directory goes when the server stops. Each builds its own app (seeded data, spec,
  connection protocol) from the pickled settings in ``SandboxConfig.load``:
  nothing built at run time crosses the process boundary.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.lifespan.on import LifespanOn
from uvicorn.supervisors import Multiprocess

from pin_mock.server.errors import ConfigError
from pin_mock.server.observability.roll import ROLL_ENV
from pin_mock.server.pipeline.body_deadline import InFlight
from pin_mock.server.settings import Settings
from pin_mock.server.state.engine import check_reachable, redacted
from pin_mock.server.transport import logs
from pin_mock.server.transport.connection_limits import ConnectionPolicy, descriptor_bound
from pin_mock.server.transport.guarded_protocol import guarded_protocol

log = logging.getLogger(__name__)

#: ``create_app`` (the CLI hands it over: nothing in the server imports the app factory).
AppFactory = Callable[..., Any]

#: The settings the start-up line names (the rest are in ``pin-mock serve --help``).
_NAMED = (
    "host",
    "port",
    "workers",
    "state",
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
    "max_form_bytes",
    "max_connections",
    "max_connections_per_address",
    "send_timeout",
    "allowed_hosts",
    "webhook_targets",
)


class _Lifespan(LifespanOn):
    """uvicorn's lifespan, first logging the requests a shutdown abandoned.

    uvicorn starts the app's lifespan shutdown right after it cancels the
    requests still running past ``timeout_graceful_shutdown``, before those
    cancelled tasks run again: what is in flight at that moment was abandoned.
    (After a shutdown in time nothing is in flight and nothing is logged.)
    """

    def __init__(self, config: uvicorn.Config, in_flight: InFlight) -> None:
        super().__init__(config)
        self.in_flight = in_flight

    async def shutdown(self) -> None:
        self.in_flight.log_abandoned()
        await super().shutdown()


class SandboxConfig(uvicorn.Config):
    """uvicorn's ``Config`` for a sandbox under ``settings``; the app built where it is served.

    Give ``app`` (built already, with ``in_flight``) to serve in this process,
    or ``create_app`` to have each worker process build its own in ``load``.
    The connection protocol class is made in ``load`` too: a class made at run
    time cannot be pickled to a worker. ``freeze``: move everything built so
    far out of the garbage collector's full passes (``pin-mock serve`` only: a
    test process serving many apps would never free them).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        app: Any = None,
        create_app: AppFactory | None = None,
        in_flight: InFlight | None = None,
        freeze: bool = False,
        **overrides: Any,
    ) -> None:
        if (app is None) == (create_app is None):
            raise TypeError("give exactly one of app and create_app")
        trusted = [e.strip() for e in settings.forwarded_allow_ips.split(",") if e.strip()]
        options: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "workers": settings.workers,
            "log_level": settings.log_level,
            "log_config": None,  # logs.configure, once per process
            "proxy_headers": bool(trusted),
            # Never None: uvicorn would then read $FORWARDED_ALLOW_IPS or trust 127.0.0.1.
            "forwarded_allow_ips": trusted or [],
            "timeout_keep_alive": settings.keep_alive_timeout,
            "timeout_graceful_shutdown": settings.graceful_shutdown_timeout,
            "server_header": False,  # no version banner for scanners
            # The supervisor pings each worker; one that does not answer in this long
            # is killed and replaced. Generous: a worker seeding 100,000 patients on a
            # busy machine is slow, not hung.
            "timeout_worker_healthcheck": 30,
        }
        options.update(overrides)
        super().__init__(app if app is not None else create_app, **options)
        self.settings = settings
        self.create_app = create_app
        self.in_flight = in_flight if in_flight is not None else InFlight()
        self.freeze = freeze
        #: This run's directory of metrics samples (several workers), removed by ``run``.
        self.metrics_dir: str | None = None
        #: This run's roll of serving workers (several workers), removed by ``run``.
        self.roll_dir: str | None = None

    def load(self) -> None:
        settings = self.settings
        trusted = tuple(e.strip() for e in settings.forwarded_allow_ips.split(",") if e.strip())
        self.http = guarded_protocol(
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            max_header_bytes=settings.max_header_bytes,
            max_header_fields=settings.max_header_fields,
            policy=ConnectionPolicy(
                max_connections=descriptor_bound(settings.max_connections),
                max_per_address=settings.max_connections_per_address,
                send_timeout=settings.send_timeout,
                trusted=trusted,
            ),
        )
        if self.create_app is not None:  # a worker process: build this process's app
            logs.configure(settings.log_level, settings.log_format)
            try:
                self.app = self.create_app(settings, in_flight=self.in_flight)
            except ConfigError as exc:
                log.error("pin-mock worker cannot start: %s", exc)
                sys.exit(STARTUP_FAILURE)  # the supervisor stops instead of retrying
            except Exception:  # a bug: each replacement would fail the same way
                log.exception("pin-mock worker cannot start")
                sys.exit(STARTUP_FAILURE)
        super().load()
        if self.lifespan_class is LifespanOn:
            self.lifespan_class = partial(_Lifespan, in_flight=self.in_flight)
        if self.freeze:
            # Everything built so far (the spec and its compiled validators, the
            # seeded data) lives as long as the server: keep it out of the garbage
            # collector's full passes, which otherwise rescan it every few thousand
            # requests (p99 of POST /v1/patients under load: 57 ms without, 11 ms
            # with; bench/README.md).
            gc.collect()
            gc.freeze()


def uvicorn_config(app: Any, settings: Settings, **overrides: Any) -> SandboxConfig:
    """The configuration serving a built ``app`` under ``settings`` (``overrides`` win).

    For tests that serve in a thread: logging stays theirs, nothing is frozen.
    """
    return SandboxConfig(settings, app=app, **overrides)


def prepare(settings: Settings, create_app: AppFactory) -> SandboxConfig:
    """What ``run`` serves; a ``ConfigError`` (one line) if the sandbox cannot start.

    One worker: the app is built here, so a problem stops the command before it
    binds a port. Several: each worker builds its own; here the state engine is
    only checked to be reachable, so an unreachable Redis is one line, not N
    workers failing one after another.
    """
    metrics_dir = _metrics_directory(settings)
    if settings.workers == 1:
        in_flight = InFlight()
        app = create_app(settings, in_flight=in_flight)
        config = SandboxConfig(settings, app=app, in_flight=in_flight, freeze=True)
    else:
        check_reachable(settings.state)  # pings Redis: ConfigError if unreachable
        config = SandboxConfig(settings, create_app=create_app, freeze=True)
        # Named before the workers are spawned: each inherits it (observability/roll.py).
        config.roll_dir = os.environ[ROLL_ENV] = tempfile.mkdtemp(prefix="pin-mock-workers-")
    config.metrics_dir = metrics_dir
    return config


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _metrics_directory(settings: Settings) -> str | None:
    """This run's directory for every worker's samples, named in the environment.

    Several workers: always (they are spawned after this, so prometheus-client starts in
    multiprocess mode in each). One: only if the operator set the variable (then this
    process is in that mode already and must not read an earlier run's files).
    """
    if not settings.metrics or (settings.workers == 1 and MULTIPROC_ENV not in os.environ):
        return None
    parent = os.environ.get(MULTIPROC_ENV) or None
    if parent is not None:
        os.makedirs(parent, exist_ok=True)
    directory = tempfile.mkdtemp(prefix="pin-mock-metrics-", dir=parent)
    os.environ[MULTIPROC_ENV] = directory
    return directory


def run(config: SandboxConfig) -> None:
    """Serve until SIGINT/SIGTERM (logging already configured by the caller)."""
    settings = config.settings
    named = {k: v for k, v in asdict(settings).items() if k in _NAMED}
    if "state" in named:
        named["state"] = redacted(str(named["state"]))
    summary = ", ".join(f"{k}={v}" for k, v in named.items())
    log.info("pin-mock sandbox starting: %s", summary, extra=named)
    try:
        if config.workers == 1:
            uvicorn.Server(config).run()
            return
        supervisor = Multiprocess(config, sockets=[config.bind_socket()])
        supervisor.run()
        if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
            raise SystemExit(STARTUP_FAILURE)
    finally:
        for directory in (config.metrics_dir, config.roll_dir):  # this run's, gone with it
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
