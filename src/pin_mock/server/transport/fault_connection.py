"""The connection as ``pipeline/faults.py`` may end it: reset (RST) or closed (FIN), or
closed after bytes that are no HTTP answer (written to the socket, past uvicorn).

ASGI gives an app no way to drop its connection; a transport fault needs one.
The connection protocol (``guarded_protocol.py``) makes one ``FaultConnection``
per connection and offers it to the app in every request's scope, under
``scope["extensions"]["pin_mock.connection"]`` (``faults.CONNECTION``).
"""

from __future__ import annotations

import socket
import struct
from typing import Any


class FaultConnection:
    """Ends one connection on purpose (the ``faults.Connection`` protocol)."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    def reset(self) -> None:
        self._end(reset=True)

    def close(self, garbage: bytes = b"") -> None:
        self._end(reset=False, garbage=garbage)

    def _end(self, *, reset: bool, garbage: bytes = b"") -> None:
        protocol = self._protocol
        transport = protocol.transport
        if transport is None or transport.is_closing():
            return
        # The sandbox ended it (no "the client left" line), and uvicorn must neither
        # answer 500 for a request left unanswered nor write anything more.
        protocol.ended_on_purpose()
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # Linger on, for 0 s: closing sends RST instead of FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            if garbage:
                transport.write(garbage)  # sent before the FIN: close() flushes the buffer
            transport.close()
