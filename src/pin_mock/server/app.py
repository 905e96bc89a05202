"""The app factory: the spec, the middleware, the lifespan and the error handlers.

How a request flows (outer to inner)::

    ServerError -> Services -> RequestId -> RateLimit -> Exception (error_handlers)
      -> SwaggerUI -> Routing (404, 405) -> Operation (pipeline: auth, validation,
      handler call, serialisation)
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import yaml
from connexion import AsyncApp
from connexion.json_schema import resolve_refs
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from pin_mock.server import sandbox_reset as sandbox_admin
from pin_mock.server.encoding import OrjsonJsonifier
from pin_mock.server.error_handlers import register_error_handlers
from pin_mock.server.errors import ConfigError
from pin_mock.server.operations import OperationMiddleware, compile_operations
from pin_mock.server.rate_limits import RateLimitMiddleware
from pin_mock.server.request_ids import RequestIdMiddleware
from pin_mock.server.routing import AllowedMethods, OperationIdResolver
from pin_mock.server.services import Services, build_services
from pin_mock.server.settings import Settings

logger = logging.getLogger("pin_mock")


def load_spec(settings: Settings) -> dict[str, Any]:
    """Read the spec once; a broken file stops start-up with its path in the message."""
    try:
        spec = yaml.safe_load(settings.spec.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the OpenAPI spec {settings.spec}: {exc}") from exc
    if not isinstance(spec, dict) or not str(spec.get("openapi", "")).startswith("3.0"):
        raise ConfigError(f"{settings.spec}: pin-mock serves OpenAPI 3.0.x documents only")
    return spec


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> AsyncApp:
    """Build the sandbox ASGI app for ``settings`` (or the defaults)."""
    settings = settings or Settings()
    services = services or build_services(settings)
    spec = load_spec(settings)

    app = AsyncApp(
        "pin_mock",
        lifespan=_lifespan(services),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"),
        jsonifier=OrjsonJsonifier(),
    )
    # Outside the exception layer, so they also see the error handlers' answers.
    app.add_middleware(
        RateLimitMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        limiter=services.limiter,
        tokens=services.tokens,
    )
    app.add_middleware(RequestIdMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(
        ServicesMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, services=services
    )
    resolver = OperationIdResolver()
    # Right after routing: compiled auth, validation and handler calls (see pipeline.py).
    app.add_middleware(
        OperationMiddleware,
        position=MiddlewarePosition.BEFORE_SECURITY,
        operations=compile_operations(resolve_refs(spec), resolver),
        tokens=services.tokens,
    )
    app.add_api(spec, resolver=resolver, strict_validation=True)
    register_error_handlers(app, AllowedMethods(spec))
    sandbox_admin.install(app, services)  # mock-only: /_sandbox/reset, Prefer scenarios
    # Connexion builds its stack on the first request; build it now so a broken
    # spec or a missing handler stops start-up instead of answering 500 later.
    middleware = app.middleware
    middleware.app, middleware.middleware_stack = middleware._build_middleware_stack()
    return app


class ServicesMiddleware:
    """Expose the services as ``request.state.services`` on every request.

    Done per request rather than through lifespan state, so the app also works
    under servers and test transports that run no lifespan.
    """

    def __init__(self, app: Any, *, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["services"] = self.services
        await self.app(scope, receive, send)


def _lifespan(services: Services) -> Callable[[Any], contextlib.AbstractAsyncContextManager]:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[dict[str, Any]]:
        for worker in services.workers:
            await worker.start()
        try:
            yield {}
        finally:
            # Stop in reverse order; workers flush or log what they could not finish.
            for worker in reversed(services.workers):
                await worker.aclose()

    return lifespan
