"""Bounded requests: refused before any work is done, with PIN's envelope.

Inside the exception layer (so refusals get the envelope, the request id and
the rate-limit headers), before the sandbox-reset layer and routing:

- at most ``max_header_fields`` header fields and ``max_header_bytes`` of them
  (431 ``HEADERS_TOO_LARGE``);
- exactly one ``Authorization`` header (400): two would let different layers
  judge different credentials;
- a body of at most ``max_body_bytes`` (413 ``PAYLOAD_TOO_LARGE``): refused from
  ``Content-Length`` before a byte is read, and counted while it streams when
  there is no length (chunked), so no layer ever holds more than the limit; a
  form body (``application/x-www-form-urlencoded``: the token request, four
  short fields) at most ``max_form_bytes``, so parsing one never blocks the loop;
- a trailing slash is dropped from API paths before routing (``/v1/patients/``
  is ``/v1/patients``), so the router never answers with a redirect, which it
  would build from the client's ``Host`` header. (``/docs`` keeps its own
  relative redirect to ``/docs/``.)
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pin_mock.server.digits import too_long, whole_number
from pin_mock.server.errors import HeadersTooLarge, InvalidRequest, PayloadTooLarge

#: A form body's media type (what ``max_form_bytes`` bounds), as a lower-case prefix.
FORM = b"application/x-www-form-urlencoded"
#: Paths of the API proper, whose trailing slashes are dropped.
API_PREFIXES = ("/v1/", "/oauth/", "/_sandbox/")


class RequestBoundsMiddleware:
    """Refuse oversized or ambiguous requests early; count streamed bodies."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_header_fields: int,
        max_header_bytes: int,
        max_form_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_form_bytes = min(max_body_bytes, max_form_bytes or max_body_bytes)
        self.max_header_fields = max_header_fields
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if len(headers) > self.max_header_fields:
            raise HeadersTooLarge(
                f"The request has more than {self.max_header_fields} header fields.",
                {"limit": self.max_header_fields, "count": len(headers)},
            )
        size = sum(len(name) + len(value) + 4 for name, value in headers)  # ": " and CRLF
        if size > self.max_header_bytes:
            raise HeadersTooLarge(
                f"The request's header fields exceed {self.max_header_bytes} bytes.",
                {"limit_bytes": self.max_header_bytes, "size_bytes": size},
            )
        authorizations = sum(1 for name, _ in headers if name == b"authorization")
        if authorizations > 1:
            raise InvalidRequest(
                "Send exactly one Authorization header.",
                {"header": "Authorization", "count": authorizations},
            )
        limit = self._check_declared_length(headers)
        path = scope["path"]
        if path.endswith("/") and path.startswith(API_PREFIXES):
            stripped = path.rstrip("/")
            scope = {**scope, "path": stripped, "raw_path": stripped.encode("latin-1")}
        await self.app(scope, self._counting(receive, limit), send)

    def _check_declared_length(self, headers: list[tuple[bytes, bytes]]) -> int:
        """The body's limit (smaller for a form); 413 now if its declared length is over it."""
        limit, declared = self.max_body_bytes, []
        for name, value in headers:
            if name == b"content-length":
                declared.append(value)
            elif name == b"content-type" and value[:33].lower() == FORM:
                limit = self.max_form_bytes
        for value in declared:
            length = whole_number(value)
            if length is None:
                if too_long(value):  # more digits than any body could have bytes
                    raise _too_large(limit)
                raise InvalidRequest("Content-Length must be a number of bytes.")
            if length > limit:
                raise _too_large(limit)
        return limit

    def _counting(self, receive: Receive, limit: int) -> Receive:
        seen = 0

        async def receive_counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _too_large(limit)
            return message

        return receive_counted


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than {limit} bytes.", {"limit_bytes": limit}
    )
