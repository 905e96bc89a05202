"""How many connections the sandbox holds, and how long an answer may wait for its reader.

uvicorn accepts every connection and waits for ever on a peer that stops
reading (it has no write timeout): a socket that pipelines requests and never
reads held its connection past every other deadline, and a few hundred of
them used up the process's file descriptors. The connection protocol
(``connections.py``) applies a ``ConnectionPolicy``:

- at most ``max_connections`` open connections in all and
  ``max_per_address`` from one peer address; one more is answered
  ``503 SERVICE_UNAVAILABLE`` (with ``Retry-After`` and ``Connection: close``)
  as soon as it sends something, or closed after ``REFUSED_GRACE`` seconds if
  it sends nothing. Peers named by ``--forwarded-allow-ips`` (a proxy speaks
  for many clients) are held only to the total;
- an answer the peer stops reading (the socket's send buffer stays full) is
  given ``send_timeout`` seconds to drain, counted afresh each time it does,
  and the connection is then closed.

The counts are per server (uvicorn's ``ServerState``), so tests serving
several sandboxes in one process do not share them.
"""

from __future__ import annotations

import ipaddress
import logging
import resource
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: Seconds a refused connection may take to send something before it is closed unanswered.
REFUSED_GRACE = 1.0
#: File descriptors kept for everything but client connections (Redis, receivers, files).
RESERVED_DESCRIPTORS = 64
#: At most one log line per this many seconds about refused connections.
REFUSAL_LOG_INTERVAL = 10.0


@dataclass(frozen=True)
class ConnectionPolicy:
    """The connection caps and the send deadline of one server."""

    max_connections: int = 1_000
    max_per_address: int = 100
    send_timeout: float = 10.0
    #: Peers held only to the total: the trusted proxies of ``--forwarded-allow-ips``.
    trusted: tuple[str, ...] = ()
    _networks: tuple[Any, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        networks = tuple(
            ipaddress.ip_network(entry, strict=False) for entry in self.trusted if entry != "*"
        )
        object.__setattr__(self, "_networks", networks)

    def is_trusted(self, address: str) -> bool:
        """Whether ``address`` is a proxy the operator named (no per-address cap)."""
        if "*" in self.trusted:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)


def descriptor_bound(max_connections: int) -> int:
    """``max_connections``, lowered so that connections leave descriptors for the rest."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return max_connections
    room = max(1, soft - RESERVED_DESCRIPTORS)
    if room < max_connections:  # common: many systems allow 1,024 files by default
        log.info(
            "max_connections lowered from %d to %d: this process may open only %d files",
            max_connections,
            room,
            soft,
            extra={"max_connections": room, "open_files_limit": soft},
        )
    return min(max_connections, room)


class ConnectionCounts:
    """Open connections of one server, in all and per peer address."""

    def __init__(self) -> None:
        self.by_address: Counter[str] = Counter()
        self.total = 0
        self._refused = 0
        self._last_log = 0.0

    def admit(self, address: str, policy: ConnectionPolicy) -> bool:
        """Count a new connection from ``address``; False if it is over a cap (not counted)."""
        if self.total >= policy.max_connections or (
            self.by_address[address] >= policy.max_per_address and not policy.is_trusted(address)
        ):
            self._note_refusal(address, policy)
            return False
        self.total += 1
        self.by_address[address] += 1
        return True

    def release(self, address: str) -> None:
        """Forget one counted connection from ``address``."""
        self.total -= 1
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]

    def _note_refusal(self, address: str, policy: ConnectionPolicy) -> None:
        # A flood of refusals must not become a flood of log lines.
        self._refused += 1
        now = time.monotonic()
        if now - self._last_log >= REFUSAL_LOG_INTERVAL:
            log.warning(
                "Refused %d connection(s) over the caps (last from %s): at most %d in all, "
                "%d per address",
                self._refused,
                address,
                policy.max_connections,
                policy.max_per_address,
                extra={"client": address, "refused": self._refused},
            )
            self._refused = 0
            self._last_log = now


_COUNTS: weakref.WeakKeyDictionary[Any, ConnectionCounts] = weakref.WeakKeyDictionary()


def counts_for(server_state: Any) -> ConnectionCounts:
    """The connection counts of the server that owns ``server_state`` (uvicorn's)."""
    counts = _COUNTS.get(server_state)
    if counts is None:
        counts = _COUNTS[server_state] = ConnectionCounts()
    return counts
