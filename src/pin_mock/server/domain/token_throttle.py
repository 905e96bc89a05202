"""Throttling of ``POST /oauth/token``: failed client authentications and token grants.

Without it, one address could try 400 secrets a second. Five budgets, each a
fixed window (``token_throttle_window``, 60 s by default) counted by the
``limits`` library like the API's rate limits (``rate_limiter.py``):

* failed client authentications per **(client id, address)** (default 10):
  guessing one client's secret from one place. Only that address is locked
  out of that client id: a stranger's wrong guesses cannot lock a team out of
  its shared sandbox client;
* failed client authentications per **client id** from all addresses
  (default 1,000), a ceiling against a brute force spread over many
  addresses. It is above what one address may fail in all (next budget), so
  no single address can lock anyone else out;
* failed client authentications per peer **address** (default 100), so one
  address cannot guess across many client ids;
* **malformed** token requests per address (default 600: generous, so a
  fuzzing run never locks a developer out of their own sandbox, but a peer
  sending junk as fast as it can is stopped; counted by ``token_guard.py``);
* tokens requested per authenticated **client** (default 60): a client with
  the right secret still cannot mint tokens at 400/s (a token lasts an hour).

A request over a budget is answered ``429`` with ``Retry-After`` (seconds to
the window's end) and an RFC 6749 body whose ``error`` is
``temporarily_unavailable``. A locked (client id, address), client id or
address is refused whatever the secret it sent, so the lock also stops a
guess that would have been right: the secret is compared (in this process)
before the counters are read, but a refused request never learns the outcome.

A granted token request reads the (client id, address) and address budgets and
counts its grant in one call to the engine (``admit``: one round trip on
Redis); a failed one reads the same two budgets first, then counts. The
per-client-id ceiling and the malformed budget are read on the failure path
only (a failure or a malformed request is counted anyway, and the count says
whether the budget is spent), and what they lock is remembered by this process
until the window ends (``_locks``). In memory that is exact; on Redis, where
the counts are shared, another worker learns of a lock at its own next
failure or malformed request for that client id or address, so a lock spread
over N workers may let N - 1 more attempts through per window: a ceiling
against brute force from many addresses, not one request more.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond

from pin_mock.server.errors import OAuthError
from pin_mock.server.settings import Settings
from pin_mock.server.state.counters_port import Counters

#: The RFC 6749 error code of a throttled token request. RFC 6749 defines none
#: for rate limits; this one (section 4.1.2.1: "temporarily unable to handle the
#: request") is the closest registered code, and OAuth libraries pass it through.
ERROR = "temporarily_unavailable"
#: Locks remembered per process before the expired ones are swept.
_LOCKS_MAX = 10_000


#: Why each budget refuses, as the 429's description says it.
WHY = {
    "address_failures": "Too many failed client authentications from this address",
    "pair_failures": "Too many failed authentications for this client from this address",
    "client_failures": "Too many failed authentications for this client",
    "malformed": "Too many malformed token requests from this address",
}


def _pair(client_id: str, address: str) -> str:
    return f"pair:{client_id}|{address}"


class TokenThrottle:
    """The token endpoint's budgets, counted by the engine's ``Counters``.

    In memory they are atomic within the event loop, on Redis across workers.
    """

    def __init__(self, settings: Settings, counters: Counters) -> None:
        window = settings.token_throttle_window
        self._items = {
            "pair_failures": RateLimitItemPerSecond(
                settings.token_failures_per_client_address, window
            ),
            "client_failures": RateLimitItemPerSecond(settings.token_failures_per_client, window),
            "address_failures": RateLimitItemPerSecond(settings.token_failures_per_address, window),
            "malformed": RateLimitItemPerSecond(settings.token_malformed_per_address, window),
            "grants": RateLimitItemPerSecond(settings.token_grants_per_client, window),
        }
        self._counters = counters
        #: Budgets this process saw spent, by key: when their window ends.
        self._locks: dict[str, float] = {}

    # -- before the secret is checked -------------------------------------------

    async def check_address(self, address: str) -> None:
        """429 if ``address`` has used up its failed-authentication budget."""
        await self._refuse_if_spent("address_failures", "address:" + address)

    async def check_client(self, client_id: str, address: str) -> None:
        """429 if ``client_id`` from ``address``, or from everywhere, used up its budget."""
        await self._refuse_if_spent("pair_failures", _pair(client_id, address))
        self._refuse_if_locked("client_failures", "client:" + client_id)

    def check_malformed(self, address: str) -> None:
        """429 if ``address`` has sent its budget of malformed token requests."""
        self._refuse_if_locked("malformed", "malformed:" + address)

    # -- after it -----------------------------------------------------------------

    async def failed(self, address: str) -> None:
        """Count one failed client authentication (401) from ``address``."""
        await self._counters.hit(self._items["address_failures"], "address:" + address)

    async def failed_login(self, client_id: str, address: str) -> None:
        """Count one failed authentication of the registered client ``client_id``."""
        await self._counters.hit(self._items["pair_failures"], _pair(client_id, address))
        await self._hit_and_lock("client_failures", "client:" + client_id)

    async def malformed(self, address: str) -> None:
        """Count one malformed token request (400, 413, 415...) from ``address``."""
        await self._hit_and_lock("malformed", "malformed:" + address)

    async def admit(self, client_id: str, address: str) -> None:
        """A client that gave its right secret: the checks of ``check_address`` and
        ``check_client``, then count one token request (429 past its budget); on Redis
        one round trip for the lot (``Counters.gate``)."""
        self._refuse_if_locked("client_failures", "client:" + client_id)
        tested = [
            ("address_failures", "address:" + address),
            ("pair_failures", _pair(client_id, address)),
        ]
        grants = self._items["grants"], "grants:" + client_id
        refused = await self._counters.gate(
            [(self._items[budget], key) for budget, key in tested], *grants
        )
        if refused == len(tested):
            why = f"Too many token requests for client {client_id}"
            raise await self._throttled(*grants, why)
        if refused >= 0:
            budget, key = tested[refused]
            raise await self._throttled(self._items[budget], key, WHY[budget])

    # -- helpers ------------------------------------------------------------------

    async def _hit_and_lock(self, budget: str, key: str) -> None:
        """Count one for ``key``; once that spends the budget, remember the lock here."""
        item = self._items[budget]
        _, reset_at, remaining = await self._counters.count(item, key)
        if remaining <= 0:  # this one spent the budget: the next is refused
            if len(self._locks) >= _LOCKS_MAX:
                now = time.time()
                self._locks = {k: t for k, t in self._locks.items() if t > now}
            self._locks[key] = reset_at

    def _refuse_if_locked(self, budget: str, key: str) -> None:
        until = self._locks.get(key)
        if until is None:
            return
        if until <= time.time():
            del self._locks[key]
            return
        raise _error(self._items[budget], until, WHY[budget])

    async def _refuse_if_spent(self, budget: str, key: str) -> None:
        item = self._items[budget]
        if not await self._counters.test(item, key):
            raise await self._throttled(item, key, WHY[budget])

    async def _throttled(self, item: RateLimitItemPerSecond, key: str, why: str) -> OAuthError:
        reset_at, _ = await self._counters.stats(item, key)
        return _error(item, reset_at, why)


def _error(item: RateLimitItemPerSecond, reset_at: float, why: str) -> OAuthError:
    retry_after = max(1, math.ceil(reset_at - time.time()))
    error = OAuthError(
        ERROR,
        f"{why} (at most {item.amount} per {item.get_expiry()} s); retry in {retry_after} s.",
        status=429,
    )
    error.headers["Retry-After"] = str(retry_after)
    return error
