"""Map every error family Connexion and Starlette raise onto PIN's envelope.

Connexion raises three unrelated families (its ``ProblemException``s,
Starlette ``HTTPException``s and anything else); a handler for one does not
catch the others, so all three are registered here, with ours, in one place.
On ``/oauth/token`` errors take the RFC 6749 shape instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from connexion import AsyncApp
from connexion.exceptions import (
    ExtraParameterProblem,
    OAuthProblem,
    OAuthScopeProblem,
    ProblemException,
)
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from pin_mock.server import errors

logger = logging.getLogger("pin_mock.server.errors")

TOKEN_PATH = "/oauth/token"


def register_error_handlers(app: AsyncApp, allowed: Callable[[str], list[str]]) -> None:
    """Install the handlers for every family, most specific first.

    ``allowed`` gives the documented methods of a path, for 405's ``Allow``.
    """

    async def http_exception(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
        return _render(request, from_http_exception(request, exc, allowed))

    app.add_error_handler(errors.ApiError, _api_error)
    app.add_error_handler(errors.OAuthError, _oauth_error)
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(HTTPException, http_exception)
    app.add_error_handler(Exception, _unhandled)


def _response(status: int, headers: dict[str, str], body: bytes) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        content_type="application/json",
        body=body,
        headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
    )


def _render(request: ConnexionRequest, error: errors.ApiError) -> ConnexionResponse:
    if request.url.path == TOKEN_PATH:
        return _response(*_as_oauth(error).render())
    return _response(*error.render())


def _as_oauth(error: errors.ApiError) -> errors.OAuthError:
    """The token endpoint's view of a generic error (RFC 6749 section 5.2)."""
    if error.status >= 500:
        return errors.OAuthError("server_error", error.message, status=500)
    if error.status in (405, 415):
        oauth = errors.OAuthError("invalid_request", error.message, status=error.status)
        oauth.headers.update({k: v for k, v in error.headers.items() if k == "Allow"})
        return oauth
    return errors.OAuthError("invalid_request", error.message, status=400)


async def _api_error(request: ConnexionRequest, exc: errors.ApiError) -> ConnexionResponse:
    return _render(request, exc)


async def _oauth_error(request: ConnexionRequest, exc: errors.OAuthError) -> ConnexionResponse:
    return _response(*exc.render())


async def _problem(request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
    if exc.status >= 500:
        # e.g. a response that does not conform to the spec (validate_responses)
        logger.error("%s %s: %s %s", request.method, request.url.path, exc.title, exc.detail)
    return _render(request, from_problem(exc))


async def _unhandled(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    # Log the traceback for the operator; the client gets no internals.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _render(request, errors.InternalError("An internal error occurred."))


def from_problem(exc: ProblemException) -> errors.ApiError:
    """Translate a Connexion problem (validation, security, media type) to our tree."""
    detail = str(exc.detail or exc.title or "")
    if isinstance(exc, ExtraParameterProblem):
        # Connexion keeps the names only in the text: "Extra formData parameter(s) a, b not in spec"
        found = re.search(r"parameter\(s\) (.+) not in spec", detail)
        names = found.group(1) if found else "?"
        return errors.InvalidParameter(
            names.split(",")[0].strip(), None, f"Unknown field(s): {names}."
        )
    if isinstance(exc, OAuthProblem):
        if "No authorization token" in detail:
            return errors.Unauthorized("An access token is required.", error=None)
        return errors.Unauthorized("The access token is missing, malformed or expired.")
    if exc.status == 415:
        return errors.UnsupportedMediaType(
            "Unsupported media type: send the body as application/json.",
            {"detail": detail} if detail else None,
        )
    if exc.status == 404:
        return errors.NotFound(detail or "Not found.")
    if exc.status and 400 <= exc.status < 500:
        return errors.InvalidRequest(detail or "Invalid request.")
    return errors.InternalError("An internal error occurred.")


def from_http_exception(
    request: ConnexionRequest,
    exc: HTTPException,
    allowed: Callable[[str], list[str]],
) -> errors.ApiError:
    """Translate Starlette's routing and scope errors to our tree."""
    if isinstance(exc, OAuthScopeProblem):
        return errors.Forbidden(sorted(exc.required_scopes or []))
    if exc.status_code == 404:
        return errors.NotFound(f"No route for {request.url.path}.", {"path": request.url.path})
    if exc.status_code == 405:
        methods = allowed(request.url.path) or [
            m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip()
        ]
        return errors.MethodNotAllowed(
            f"Method {request.method} is not allowed on {request.url.path}.",
            {"method": request.method, "allowed": methods},
            headers={"Allow": ", ".join(methods)} if methods else None,
        )
    if exc.status_code == 403:
        return errors.Forbidden([])
    if 400 <= exc.status_code < 500:
        return errors.InvalidRequest(str(exc.detail))
    return errors.InternalError("An internal error occurred.")
