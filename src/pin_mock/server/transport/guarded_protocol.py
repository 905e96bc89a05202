"""Connection guards uvicorn lacks: head and body deadlines, and a bound on the head.

uvicorn closes a connection only when it has been idle *after* a response
(``timeout_keep_alive``); a socket that never sends, sends its headers a byte
at a time, or never finishes its body stays open for as long as the client
likes, and httptools buffers a header of any size. This protocol (a subclass
of uvicorn's httptools one, chosen by ``uvicorn_config.py``) adds:

- a **head deadline**: the request line and headers must arrive within
  ``header_timeout`` seconds of the connection opening or of the request's
  first byte. A head left half-sent is answered ``408 REQUEST_TIMEOUT``; a
  connection that sent nothing at all is just closed (like nginx, so browsers'
  pre-connects are not answered with errors);
- a **head bound**: more than ``max_header_fields`` fields or more than
  ``max_header_bytes`` of them is ``431 HEADERS_TOO_LARGE``, counted as
  ``pipeline/request_bounds.py`` counts them but while the head streams in, so a 20 MB
  header is refused after its first 24 KiB instead of being buffered whole;
- a **body backstop**: a body still incomplete ``body_timeout`` + 1 s after its
  head closes the connection. The answer itself (408 with the envelope) comes
  from ``pipeline/body_deadline.py`` at ``body_timeout``, inside the app,
  where the request id is known; this timer catches bodies nobody reads;
- the **caps and send deadline** of ``connection_limits.py``: too many
  connections (in all, or from one address) are answered 503; an answer its
  reader stopped reading for ``send_timeout`` seconds closes the connection;
- **one write per answer**: its head and body leave together (``coalescing.py``).

Only the head in progress is counted against the head bound: a chunk of
pipelined requests is fed to the parser in pieces cut after each blank line
(``\r\n\r\n``), so the bytes of the requests before it never count (80
small pipelined requests sent with the start of an 81st are not "a large head").
A client that closes its connection before its answers are complete is one
INFO line, and the requests still queued behind it (pipelined) are marked
disconnected, so nothing writes to the closed socket.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from pin_mock.server.errors import ApiError, HeadersTooLarge, RequestTimeout, ServiceUnavailable
from pin_mock.server.pipeline.faults import CONNECTION
from pin_mock.server.transport.coalescing import CoalescingTransport
from pin_mock.server.transport.connection_limits import REFUSED_GRACE, ConnectionPolicy, counts_for
from pin_mock.server.transport.fault_connection import FaultConnection

log = logging.getLogger(__name__)

#: Room for the request line on top of ``max_header_bytes`` while the head streams in.
REQUEST_LINE_ALLOWANCE = 8_192
#: The body backstop fires this long after the app's own 408 would have.
BODY_BACKSTOP_GRACE = 1.0


class _HeadRefused(Exception):
    """Raised from a parser callback to stop reading a head that is too large."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head/body deadlines and a head bound.

    The limits are class attributes: ``guarded_protocol`` makes a subclass per server.
    """

    header_timeout: ClassVar[float] = 10.0
    body_timeout: ClassVar[float] = 30.0
    max_header_bytes: ClassVar[int] = 16_384
    max_header_fields: ClassVar[int] = 100
    policy: ClassVar[ConnectionPolicy] = ConnectionPolicy()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self._in_head = False  # between a request's first byte and its last header
        self._head_bytes = 0  # raw bytes of the head in progress
        self._header_bytes = 0  # names and values of the fields parsed so far
        self._piece_body = 0  # body bytes the parser gave while it read the current piece
        self._body_at_begin: int | None = None  # ... when a request began in that piece
        self._cycles: list[Any] = []  # requests of this connection not yet answered
        self._peer = ""  # the address counted against the caps (``connection_limits``)
        self._counted = False
        self._over_cap = False
        self._we_closed = False  # the sandbox, not the client, ended the connection
        self._fault_connection = FaultConnection(self)  # offered to the app (faults)

    # connection ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # One write per answer, not one for its head and one for its body (coalescing.py).
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
        address = self.client[0] if self.client else ""
        if counts_for(self.server_state).admit(address, self.policy):
            self._peer, self._counted = address, True
            self._arm_head_timer()
        else:  # answered 503 when it speaks; closed unanswered if it does not, soon
            self._over_cap = True
            self._head_timer = self.loop.call_later(REFUSED_GRACE, self._close_silently)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self._counted:
            counts_for(self.server_state).release(self._peer)
            self._counted = False
        unanswered = [cycle for cycle in self._cycles if not cycle.response_complete]
        for cycle in unanswered:
            # uvicorn marks only the newest request; one queued behind it (pipelined)
            # would then write to the closed socket (a traceback per request).
            cycle.disconnected = True
            cycle.message_event.set()
        self._cycles = []
        if unanswered and not self._we_closed:
            log.info(
                "The client closed the connection before %d answer(s) were complete",
                len(unanswered),
                extra={"client": _peer(self.client), "unanswered": len(unanswered)},
            )
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._over_cap:
            policy = self.policy
            error = ServiceUnavailable(
                f"Too many connections: at most {policy.max_connections} in all and "
                f"{policy.max_per_address} from one address; retry shortly."
            )
            self._refuse(error, quiet=True)  # connection_limits logs refusals, in summary
            return
        # Feed the chunk in pieces, each ending after a blank line, so that the
        # bytes of the head in progress are known exactly (see the module's doc).
        start, end = 0, len(data)
        while start < end:
            cut = data.find(b"\r\n\r\n", start)
            stop = end if cut < 0 else cut + 4
            if not self._feed(data if start == 0 and stop == end else data[start:stop]):
                return
            start = stop

    def _feed(self, piece: bytes) -> bool:
        """Feed one piece to the parser; False once the connection is being refused."""
        self._piece_body, self._body_at_begin = 0, None
        try:
            self.parser.feed_data(piece)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadRefused):
                self._refuse(exc.__context__.error)
                return False
            self._invalid_request()
            return False
        except httptools.HttpParserError:
            self._invalid_request()
            return False
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return False
        if self._in_head:
            if self._body_at_begin is None:  # the head began in an earlier piece
                self._head_bytes += len(piece)
            else:  # it began in this one, after the previous request's last body bytes
                self._head_bytes = len(piece) - self._body_at_begin
            if self._head_bytes > self.max_header_bytes + REQUEST_LINE_ALLOWANCE:
                # A head still incomplete after this much: refuse before buffering more.
                self._refuse(HeadersTooLarge(_too_large(self.max_header_bytes), _limit(self)))
                return False
        return not self.transport.is_closing()

    # flow control: the send deadline ----------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.policy.send_timeout, self._send_deadline)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _send_deadline(self) -> None:
        self._send_timer = None
        if self.transport.is_closing():
            return
        log.info(
            "Closed a connection whose client stopped reading its answer",
            extra={"client": _peer(self.client), "timeout": self.policy.send_timeout},
        )
        self._we_closed = True
        self.transport.abort()

    # parser callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._body_at_begin = self._piece_body
        if not self._in_head:
            self._in_head = True
            self._header_bytes = 0
            if self._head_timer is None:  # a keep-alive connection's next request
                self._arm_head_timer()

    def on_body(self, body: bytes) -> None:
        self._piece_body += len(body)
        super().on_body(body)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4  # ": " and CRLF, as request_bounds
        if len(self.headers) >= self.max_header_fields:
            raise _HeadRefused(
                HeadersTooLarge(
                    f"The request has more than {self.max_header_fields} header fields.",
                    {"limit": self.max_header_fields},
                )
            )
        if self._header_bytes > self.max_header_bytes:
            raise _HeadRefused(HeadersTooLarge(_too_large(self.max_header_bytes), _limit(self)))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        self._body_timer = self.loop.call_later(
            self.body_timeout + BODY_BACKSTOP_GRACE, self._body_backstop
        )
        self._head_bytes = 0
        super().on_headers_complete()
        self._cycles = [c for c in self._cycles if not c.response_complete]
        self._cycles.append(self.cycle)
        self.scope.setdefault("extensions", {})[CONNECTION] = self._fault_connection

    def ended_on_purpose(self) -> None:
        """A fault ends the connection: its requests are answered (nothing more is sent)."""
        self._we_closed = True
        self._cancel_timers()
        for cycle in self._cycles:
            cycle.disconnected = True
            cycle.message_event.set()

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self.transport.flush()  # the answer's head and body, in one write
        super().on_response_complete()

    # timers ----------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_deadline)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        for timer in (self._body_timer, self._send_timer):
            if timer is not None:
                timer.cancel()
        self._body_timer = self._send_timer = None

    def _close_silently(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self._we_closed = True
            self.transport.close()

    def _head_deadline(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head stalled behind a request being answered: answering
            # now would interleave two responses, so close after that one instead.
            self.cycle.keep_alive = False
            return
        if self._head_bytes == 0 and not self._in_head:
            self._close_silently()  # nothing was asked: nothing to answer
            return
        seconds = f"{self.header_timeout:g}"
        self._refuse(
            RequestTimeout(
                f"The request headers did not arrive within {seconds} s.",
                {"timeout_seconds": self.header_timeout},
            )
        )

    def _body_backstop(self) -> None:
        self._body_timer = None
        if not self.transport.is_closing():
            log.info(
                "Closed a connection whose request body was still incomplete",
                extra={"client": _peer(self.client), "timeout": self.body_timeout},
            )
            self._we_closed = True
            self.transport.close()

    # answers written before any app runs ----------------------------------------

    def _refuse(self, error: ApiError, *, quiet: bool = False) -> None:
        """Answer ``error`` in PIN's envelope and close: the head was never complete."""
        self._cancel_timers()
        status, headers, body = error.render()
        lines = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            lines += [name, b": ", value, b"\r\n"]
        for name, value in headers.items():
            lines += [name.lower().encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n"]
        lines += [b"content-length: %d\r\n" % len(body), b"connection: close\r\n\r\n", body]
        if not quiet:
            log.info(
                "Refused a request head: %s",
                error.message,
                extra={"client": _peer(self.client), "status": status, "code": error.code},
            )
        self._we_closed = True
        self.transport.write(b"".join(lines))
        self.transport.close()

    def _invalid_request(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self._cancel_timers()
        self.send_400_response(msg)


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else ""


def _too_large(limit: int) -> str:
    return f"The request's header fields exceed {limit} bytes."


def _limit(protocol: GuardedHttpToolsProtocol) -> dict[str, int]:
    return {"limit_bytes": protocol.max_header_bytes}


def guarded_protocol(
    *,
    header_timeout: float,
    body_timeout: float,
    max_header_bytes: int,
    max_header_fields: int,
    policy: ConnectionPolicy | None = None,
) -> type[GuardedHttpToolsProtocol]:
    """A protocol class with these limits, for ``uvicorn.Config(http=...)``."""
    return type(
        "PinMockHttpProtocol",
        (GuardedHttpToolsProtocol,),
        {
            "header_timeout": header_timeout,
            "body_timeout": body_timeout,
            "max_header_bytes": max_header_bytes,
            "max_header_fields": max_header_fields,
            "policy": policy or ConnectionPolicy(),
        },
    )
