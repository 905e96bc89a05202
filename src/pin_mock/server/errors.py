"""The error tree, and the one place errors become PIN's envelope.

::

    PinMockError                  anything pin-mock raises on purpose
    ├── ConfigError               bad settings, spec or fixtures: stops start-up
    └── ApiError                  an API answer: {"error": {"code", "message", "details"}}
        ├── InvalidParameter      400 INVALID_PARAMETER (names the parameter)
        ├── InvalidRequest        400 INVALID_REQUEST (malformed body)
        ├── Unauthorized          401 UNAUTHORIZED (+ WWW-Authenticate)
        ├── Forbidden             403 FORBIDDEN (+ details.required_scope)
        ├── NotFound              404 NOT_FOUND
        ├── MethodNotAllowed      405 METHOD_NOT_ALLOWED (+ Allow)
        ├── RequestTimeout        408 REQUEST_TIMEOUT (head or body not in time)
        ├── Conflict              409 CONFLICT / REPORT_NOT_READY / QUOTA_EXCEEDED
        ├── PayloadTooLarge       413 PAYLOAD_TOO_LARGE
        ├── UnsupportedMediaType  415 UNSUPPORTED_MEDIA_TYPE
        ├── HeadersTooLarge       431 HEADERS_TOO_LARGE
        ├── RateLimited           429 RATE_LIMIT_EXCEEDED (+ Retry-After)
        ├── InternalError         500 INTERNAL_ERROR
        └── ServiceUnavailable    503 SERVICE_UNAVAILABLE (+ Retry-After: the state engine is down)

``OAuthError`` is apart: the token endpoint answers RFC 6749 section 5.2
bodies (``{"error", "error_description"}``) because OAuth libraries parse that.

``render(error, path)`` is the one place an error becomes an answer: the
error handlers, the rate limiter (which sits outside them) and every other
layer call it, so the envelope, its headers and its encoding cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pin_mock.server.encoding import encode

ENVELOPE_MEDIA_TYPE = "application/json"
#: The one path whose errors take the RFC 6749 shape.
TOKEN_PATH = "/oauth/token"


class PinMockError(Exception):
    """Base of every exception pin-mock raises on purpose."""


class ConfigError(PinMockError):
    """The sandbox cannot start: bad settings, spec or fixtures."""


class ApiError(PinMockError):
    """An error answer in PIN's envelope."""

    status = 500
    code = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The envelope ``{"error": {"code", "message", "details"}}``."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def render(self) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and encoded body of this error."""
        headers = {"content-type": ENVELOPE_MEDIA_TYPE, **self.headers}
        # details echo the client's input, which may hold integers beyond 64 bits
        return self.status, headers, encode(self.body())


#: The longest offending value an error quotes back (longer ones are cut, with their length).
QUOTE_CHARS = 100


def quote(value: Any) -> tuple[Any, dict[str, int]]:
    """``value`` as an error may quote it: short text whole, long text cut to a prefix.

    Echoing a client's value whole would let a 100 MB field come back as a
    100 MB error; containers are not quoted at all (the message names the field).
    """
    if isinstance(value, str) and len(value) > QUOTE_CHARS:
        return value[:QUOTE_CHARS], {"value_length": len(value)}
    if isinstance(value, dict | list):
        # A short container (repeated query values) is quoted whole, a long one not at all.
        return (value, {}) if len(repr(value)) <= QUOTE_CHARS else (None, {})
    return value, {}


class InvalidParameter(ApiError):
    status, code = 400, "INVALID_PARAMETER"

    def __init__(self, parameter: str, value: Any, message: str | None = None) -> None:
        quoted, extra = quote(value)
        super().__init__(
            message or f"Invalid value for parameter '{parameter}'.",
            {"parameter": parameter, "value": quoted, **extra},
        )


class InvalidRequest(ApiError):
    status, code = 400, "INVALID_REQUEST"


class Unauthorized(ApiError):
    status, code = 401, "UNAUTHORIZED"

    def __init__(self, message: str, *, error: str | None = "invalid_token") -> None:
        # RFC 6750 section 3: no error code when no credentials were sent at all.
        challenge = 'Bearer realm="pin"' + (f', error="{error}"' if error else "")
        super().__init__(message, headers={"WWW-Authenticate": challenge})


class Forbidden(ApiError):
    status, code = 403, "FORBIDDEN"

    def __init__(self, required_scopes: list[str]) -> None:
        scope = " ".join(required_scopes)
        if not scope:
            super().__init__("You do not have permission to do this.")
            return
        super().__init__(
            f"This operation requires the scope {scope}.",
            {"required_scope": scope},
            headers={
                "WWW-Authenticate": f'Bearer realm="pin", error="insufficient_scope", '
                f'scope="{scope}"'
            },
        )


class NotFound(ApiError):
    status, code = 404, "NOT_FOUND"

    @classmethod
    def resource(cls, kind: str, parameter: str, value: str) -> NotFound:
        """A missing resource named by its path parameter."""
        return cls(f"{kind} {value} not found.", {"parameter": parameter, "value": value})


class MethodNotAllowed(ApiError):
    status, code = 405, "METHOD_NOT_ALLOWED"


class RequestTimeout(ApiError):
    """The request did not arrive in time (its head: ``connections``; its body: ``timeouts``)."""

    status, code = 408, "REQUEST_TIMEOUT"


class Conflict(ApiError):
    status, code = 409, "CONFLICT"


class PayloadTooLarge(ApiError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(ApiError):
    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"


class HeadersTooLarge(ApiError):
    status, code = 431, "HEADERS_TOO_LARGE"


class RateLimited(ApiError):
    status, code = 429, "RATE_LIMIT_EXCEEDED"


class InternalError(ApiError):
    status, code = 500, "INTERNAL_ERROR"


class ServiceUnavailable(ApiError):
    """The shared state (Redis) cannot be reached: nothing was changed, try again."""

    status, code = 503, "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message, {"retry_after": retry_after})
        self.headers["Retry-After"] = str(retry_after)


class OAuthError(PinMockError):
    """An RFC 6749 section 5.2 token-endpoint error."""

    def __init__(
        self, error: str, description: str, *, status: int = 400, basic_challenge: bool = False
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if basic_challenge:
            self.headers["WWW-Authenticate"] = 'Basic realm="pin"'

    def render(self) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and encoded RFC 6749 body."""
        body = {"error": self.error, "error_description": self.description}
        return self.status, {"content-type": "application/json", **self.headers}, encode(body)


def for_token_endpoint(error: ApiError) -> OAuthError:
    """The token endpoint's view of a generic error (RFC 6749 section 5.2)."""
    if error.status == 503:
        oauth = OAuthError("temporarily_unavailable", error.message, status=503)
        oauth.headers.update({k: v for k, v in error.headers.items() if k == "Retry-After"})
        return oauth
    if error.status >= 500:
        return OAuthError("server_error", error.message, status=500)
    if error.status in (405, 408, 413, 415, 431):
        oauth = OAuthError("invalid_request", error.message, status=error.status)
        oauth.headers.update({k: v for k, v in error.headers.items() if k == "Allow"})
        return oauth
    return OAuthError("invalid_request", error.message, status=400)


def render(error: ApiError | OAuthError, path: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of ``error`` as answered on ``path``."""
    if isinstance(error, ApiError) and path == TOKEN_PATH:
        error = for_token_endpoint(error)
    return error.render()


def render_raw(
    error: ApiError | OAuthError, path: str
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """``render`` for ASGI layers that send the answer themselves (with Content-Length)."""
    status, headers, body = render(error, path)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", b"%d" % len(body)))
    return status, raw, body
