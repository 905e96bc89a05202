"""The app factory: every layer of the sandbox, added here in the order a request meets it.

The request path, outer to inner (``create_app`` builds exactly this list; each
layer is a module of ``pipeline/``)::

    (request span)     --traces: one OpenTelemetry span a request (observability/tracing.py)
    Observing          /healthz, /readyz, /metrics answered first (no Host check, token
                       or rate limit); every other request timed and counted (--metrics)
    Journal            each answer to a known client into its request journal, after it
                       has gone (pipeline/journal.py; no layer at all with --journal-size 0)
    RequestId          X-Request-Id on every answer below, 429s included
    AllowedHosts       a Host the sandbox does not answer to: 400 (DNS rebinding; only
                       when --allowed-hosts lists names)
    Cors               CORS (preflights answered here); no Basic challenge to scripts
    Authentication     the Authorization header parsed and verified once
    RateLimit          per-client budget; X-RateLimit-*, no-store, nosniff on every
                       /v1 answer, or 429
    BodyDeadline       a body that has not arrived in time: 408
    ServerError        a bug still answers PIN's 500 envelope, never plain text
    Exception          error handlers: every error becomes PIN's envelope
    TokenGuard         malformed token requests: their own budget per address
    RequestBounds      header count and size, one Authorization, body size (413)
    DocsPage           the /docs page (Swagger UI titled and set up for the sandbox)
    SwaggerUI          /docs assets (Connexion's own spec copy turned off)
    Routing            finds the operation (of the sandbox's view: /v1 and /_sandbox);
                       404 and 405 for what it lacks
    OperationLabel     --metrics or --traces: tells Observing the operationId
    Chaos              faults on demand: Prefer: fault=, and the client's chaos setting
                       (/_sandbox/chaos): delays, resets, broken bodies (chaos.py)
    Prefer             Prefer: code= / example= / delay= scenarios (scenarios.py)
    Operation          scopes, parameters, body, handler call, answer
    Lifespan           starts and stops the background workers
    (routes)           /openapi.yaml, /openapi.json as written, /reference (routes/);
                       /_sandbox/inspector, the live page of a client's journal;
                       /_sandbox/openapi.json, the sandbox's view (routes/sandbox_spec.py)

Connexion's role: it loads and validates the spec, routes, answers 404/405
(rendered by our handlers), serves the docs and runs the lifespan. Its
security, validation and context layers are not in the list: the operation
layer does that work from operations compiled once (``pipeline/operations.py``).
The services come from ``wiring.build_services``; each layer gets only what it
uses of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import AsyncIterator, Callable
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import yaml
from connexion import AsyncApp
from connexion.json_schema import resolve_refs
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions

from pin_mock.server.domain.journal.reasons import Reasons
from pin_mock.server.errors import ConfigError
from pin_mock.server.pipeline.allowed_hosts import AllowedHostsMiddleware, allowed_names
from pin_mock.server.pipeline.authentication import AuthenticationMiddleware
from pin_mock.server.pipeline.body_deadline import BodyDeadlineMiddleware, InFlight
from pin_mock.server.pipeline.chaos import ChaosMiddleware
from pin_mock.server.pipeline.cors import CorsMiddleware
from pin_mock.server.pipeline.docs_page import DocsPageMiddleware, oauth_defaults
from pin_mock.server.pipeline.exception_handlers import register_error_handlers
from pin_mock.server.pipeline.journal import JournalMiddleware, documented
from pin_mock.server.pipeline.observing import PROBE_PATHS, observing_layers
from pin_mock.server.pipeline.operations import OperationMiddleware, compile_operations
from pin_mock.server.pipeline.rate_limits import RateLimitMiddleware
from pin_mock.server.pipeline.request_bounds import RequestBoundsMiddleware
from pin_mock.server.pipeline.request_ids import RequestIdMiddleware
from pin_mock.server.pipeline.routing import AllowedMethods, OperationIdResolver
from pin_mock.server.pipeline.scenarios import PreferMiddleware
from pin_mock.server.pipeline.server_errors import ServerErrorMiddleware
from pin_mock.server.pipeline.token_guard import TokenGuardMiddleware
from pin_mock.server.routes.inspector import add_inspector_route
from pin_mock.server.routes.sandbox_spec import sandbox_view
from pin_mock.server.routes.spec_files import add_docs_routes
from pin_mock.server.services import Services
from pin_mock.server.settings import Settings
from pin_mock.server.wiring import build_services

try:  # libyaml's parser is ~10x faster than the pure-Python one
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _YamlLoader = yaml.SafeLoader


def load_spec(path: Path) -> dict[str, Any]:
    """The spec at ``path``, read once per process; a broken file stops start-up.

    Returns a fresh copy each time: Connexion and the compilers get their own.
    """
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read the OpenAPI spec {path}: {exc}") from exc
    return copy.deepcopy(_parse_spec(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=8)
def _parse_spec(path: Path, _mtime_ns: int, _size: int) -> dict[str, Any]:
    # Keyed by modification time and size too, so an edited spec is read again.
    try:
        spec = yaml.load(path.read_text(encoding="utf-8"), Loader=_YamlLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the OpenAPI spec {path}: {exc}") from exc
    if not isinstance(spec, dict) or not str(spec.get("openapi", "")).startswith("3.0"):
        raise ConfigError(f"{path}: pin-mock serves OpenAPI 3.0.x documents only")
    return spec


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    in_flight: InFlight | None = None,
) -> AsyncApp:
    """Build the sandbox ASGI app for ``settings`` (or the defaults).

    ``services``: built by ``wiring.build_services`` unless given (tests give their
    own, with a clock of theirs). ``in_flight``: where the app records its requests
    in flight (``transport/uvicorn_config.py`` logs those a shutdown abandons).
    """
    settings = settings or Settings()
    services = services or build_services(settings)
    # PIN's contract plus the sandbox's overlays: what is routed, validated and documented.
    spec = sandbox_view(settings.spec, load_spec(settings.spec))
    resolver = OperationIdResolver(spec)
    # /healthz, /readyz and /metrics are documented in the view and answered by the
    # observing layer before anything else: routing never sees them.
    routed = {**spec, "paths": {p: v for p, v in spec["paths"].items() if p not in PROBE_PATHS}}
    resolved = resolve_refs(routed)
    operations = compile_operations(resolved, resolver)
    observing, after_routing = observing_layers(services.observability, routed)
    # What chaos may cover: PIN's own operations (never the token endpoint or /_sandbox).
    services.chaos.cover(op for op, o in operations.items() if o.path_template.startswith("/v1/"))

    app = AsyncApp(
        "pin_mock",
        lifespan=_lifespan(services),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs", serve_spec=False),
        middlewares=[
            *observing,
            *_journal(services, resolved, operations),
            RequestIdMiddleware,
            *_allowed_hosts(settings),
            partial(CorsMiddleware, cors_origins=settings.cors_origins),
            partial(AuthenticationMiddleware, tokens=services.tokens, clocks=services.clocks),
            # /v1 and the sandbox's operations (not its clock: below): counted like /v1.
            partial(RateLimitMiddleware, limiter=services.limiter),
            # The clock's controls count on a budget of their own (same size), so a client
            # whose /v1 budget is spent can still advance its clock past the window's end.
            partial(
                RateLimitMiddleware,
                limiter=services.limiter,
                prefix=("/_sandbox/clock",),
                free=(),
                namespace="sandbox:",
            ),
            partial(BodyDeadlineMiddleware, timeout=settings.body_timeout, in_flight=in_flight),
            ServerErrorMiddleware,
            ExceptionMiddleware,
            partial(TokenGuardMiddleware, throttle=services.token_throttle),
            partial(
                RequestBoundsMiddleware,
                max_body_bytes=settings.max_body_bytes,
                max_header_fields=settings.max_header_fields,
                max_header_bytes=settings.max_header_bytes,
                max_form_bytes=settings.max_form_bytes,
            ),
            partial(DocsPageMiddleware, oauth=_docs_oauth(settings, services)),
            SwaggerUIMiddleware,
            RoutingMiddleware,
            *after_routing,
            partial(
                ChaosMiddleware,
                operations=operations,
                chaos=services.chaos,
                max_delay_ms=settings.max_prefer_delay_ms,
                send_timeout=settings.send_timeout,
            ),
            partial(
                PreferMiddleware,
                operations=operations,
                max_delay_ms=settings.max_prefer_delay_ms,
            ),
            partial(
                OperationMiddleware, operations=operations, dependencies=_dependencies(services)
            ),
            LifespanMiddleware,
        ],
    )
    app.add_api(routed, resolver=resolver)
    register_error_handlers(app, AllowedMethods(routed))
    add_docs_routes(app, settings.spec.read_bytes(), load_spec(settings.spec), spec)
    oauth = _docs_oauth(settings, services)  # the inspector signs in like /docs' Authorize
    add_inspector_route(app, oauth["clientId"], oauth.get("clientSecret"))
    # A broken spec has already stopped us (``add_api`` validates it) and so has a
    # missing handler (``compile_operations``); Connexion wires the layers above
    # on the first request.
    services.warm()
    services.observability.readiness.seeded = True
    return app


def _dependencies(services: Services) -> dict[str, Any]:
    """What a handler may name as a parameter: each service, and ``today``."""
    return {**vars(services), "today": services.today}


def _journal(services: Services, spec: dict[str, Any], operations: Any) -> list[Any]:
    # No layer at all with --journal-size 0: a request pays nothing for a journal it lacks.
    if not services.journal.enabled:
        return []
    reasons = Reasons(documented(spec, operations))
    layer = partial(JournalMiddleware, journal=services.journal, reasons=reasons)
    return [partial(layer, clock=services.clock)]


def _allowed_hosts(settings: Settings) -> list[Any]:
    # No layer at all when any Host will do: a request pays only for what is checked.
    names = allowed_names(settings.allowed_hosts, settings.host)
    return [] if names is None else [partial(AllowedHostsMiddleware, names=names)]


def _docs_oauth(settings: Settings, services: Services) -> dict[str, Any]:
    # The first sandbox client; its secret only if it is the bundled, public one.
    client = next(iter(services.clients))
    return oauth_defaults(client.client_id, None if settings.clients else client.client_secret)


#: Seconds past the graceful shutdown a worker may take to stop before it is abandoned.
STOP_MARGIN = 15.0
logger = logging.getLogger(__name__)


def _lifespan(services: Services) -> Callable[[Any], contextlib.AbstractAsyncContextManager]:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[dict[str, Any]]:
        readiness = services.observability.readiness
        for worker in services.workers:
            await worker.start()
        readiness.begin()
        try:
            yield {}
        finally:
            readiness.end()  # /readyz says 503 while the workers stop
            # Stop in reverse order; workers flush or log what they could not finish.
            bound = services.settings.graceful_shutdown_timeout + STOP_MARGIN
            for worker in reversed(services.workers):
                try:
                    async with asyncio.timeout(bound):  # (not wait_for: state/stopping.py)
                        await worker.aclose()
                except TimeoutError:
                    # A shutdown always ends: a worker that has not stopped by then is
                    # abandoned, and says so (its work is on the engine's queue on Redis).
                    logger.warning("%s did not stop within %.0f s", type(worker).__name__, bound)
            services.observability.shutdown()  # the last spans exported

    return lifespan
