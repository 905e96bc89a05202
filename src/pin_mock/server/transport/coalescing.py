"""One write per answer: a connection's writes held until its answer is complete.

uvicorn writes an answer's head when the app sends ``http.response.start`` and its
body when the app sends ``http.response.body``: two writes, two ``send`` system
calls. On loopback a ``send`` also runs the receiving side's TCP work and wakes
its reader, so each costs the server about 25 µs of CPU, measured in the served
process (bench/README.md), a tenth of a GET's cost. Here the writes of one
connection are held and go out together in one ``send``:

- when the answer is complete (``guarded_protocol.py`` calls ``flush`` from uvicorn's
  ``on_response_complete``, in the same call as the body's write: no delay);
- at the end of the event loop's current pass otherwise (``call_soon``), so a
  streamed answer's head and chunks (the journal's stream, a large download) leave
  as soon as they would have, one pass later at most;
- at once, before anything that ends the connection (``close``), in order;
- at once when what is held would pass ``HOLD_BYTES``: a large body is written
  as it comes, not copied into one buffer with its head.

``abort`` drops what is held, as it drops the transport's own buffer. Everything
else (``is_closing``, ``get_extra_info``, ``pause_reading``, ...) is the transport's.
"""

from __future__ import annotations

import asyncio
from typing import Any

#: Writes held together up to this many bytes; a larger one goes out at once.
HOLD_BYTES = 65_536


class CoalescingTransport:
    """``transport`` with its writes held and sent together (see the module)."""

    __slots__ = ("_transport", "_loop", "_held", "_size", "_scheduled")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._size = 0
        self._scheduled = False

    def write(self, data: bytes) -> None:
        if self._size + len(data) > HOLD_BYTES:
            self.flush()
            self._transport.write(data)
            return
        self._held.append(data)
        self._size += len(data)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush_soon)

    def flush(self) -> None:
        """Send what is held, in one write."""
        if self._held:
            held = self._held
            self._held, self._size = [], 0
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def _flush_soon(self) -> None:
        self._scheduled = False
        if not self._transport.is_closing():
            self.flush()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held, self._size = [], 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:  # the rest of the transport's interface
        return getattr(self._transport, name)
