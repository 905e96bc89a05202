"""Connexion's error families mapped onto PIN's envelope, registered in one place.

What reaches Connexion's exception layer: our ``ApiError``s and ``OAuthError``s
(raised by the operation layer, handlers and the sandbox-reset layer),
Starlette ``HTTPException``s (the router's 404 and 405) and anything else (a
bug: 500, logged). Connexion's own security and validation layers are not in
the stack (``app.py``), so its ``ProblemException`` family never occurs.
Every answer is rendered by ``errors.render``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from connexion import AsyncApp
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

import pin_mock.server.errors as errors
from pin_mock.server.pipeline.faults import ConnectionFault
from pin_mock.server.state.outages import unavailable

logger = logging.getLogger("pin_mock.errors")


def register_error_handlers(app: AsyncApp, allowed: Callable[[str], list[str]]) -> None:
    """Install the handlers for every family, most specific first.

    ``allowed`` gives the documented methods of a path, for 405's ``Allow``.
    """

    async def on_api_error(
        request: ConnexionRequest, exc: errors.ApiError | errors.OAuthError
    ) -> ConnexionResponse:
        return _response(*errors.render(exc, request.url.path))

    async def on_http_exception(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        error = from_http_exception(request.method, request.url.path, exc, allowed)
        return _response(*errors.render(error, request.url.path))

    async def on_unhandled(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        if isinstance(exc, ConnectionFault):
            raise exc  # an asked-for fault without a connection to end (pipeline/faults.py)
        problem = unavailable(exc)  # Redis lost: 503 + Retry-After, no traceback
        if problem is not None:
            logger.warning(
                "state engine unavailable on %s %s: %s", request.method, request.url.path, exc
            )
            return _response(*errors.render(problem, request.url.path))
        # Log the traceback for the operator; the client gets no internals.
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        error = errors.InternalError("An internal error occurred.")
        return _response(*errors.render(error, request.url.path))

    app.add_error_handler(errors.ApiError, on_api_error)
    app.add_error_handler(errors.OAuthError, on_api_error)
    app.add_error_handler(HTTPException, on_http_exception)
    app.add_error_handler(Exception, on_unhandled)


def _response(status: int, headers: dict[str, str], body: bytes) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        content_type="application/json",
        body=body,
        headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
    )


def from_http_exception(
    method: str, path: str, exc: HTTPException, allowed: Callable[[str], list[str]]
) -> errors.ApiError:
    """Translate Starlette's routing errors to our tree."""
    if exc.status_code == 404:
        return errors.NotFound(f"No route for {path}.", {"path": path})
    if exc.status_code == 405:
        methods = allowed(path)
        return errors.MethodNotAllowed(
            f"Method {method} is not allowed on {path}.",
            {"method": method, "allowed": methods},
            headers={"Allow": ", ".join(methods)} if methods else None,
        )
    if 400 <= exc.status_code < 500:
        return errors.InvalidRequest(str(exc.detail))
    return errors.InternalError("An internal error occurred.")
