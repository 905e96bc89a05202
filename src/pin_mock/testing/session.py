"""A running sandbox for tests: ``sandbox()`` starts one, ``Sandbox`` is the handle on it.

The server runs in a thread of this process (uvicorn with ``pin-mock serve``'s
configuration, ``loop="asyncio"``), on a free port of 127.0.0.1, with the
default settings unless told otherwise (``sandbox(patients=20)``, or a
``Settings`` field by name). Its handle gives what a test of an app needs:

- ``base_url``, ``client_id``, ``client_secret``: what to configure the app with;
- ``client``: an ``httpx.Client`` on the sandbox with a token (renewed when it
  expires); ``client_for(client_id)`` for another client (tests of isolation);
- ``reset()``: every client handed out back to the seeded state, its clock back on
  the real clock (``POST /_sandbox/reset``);
- ``journal(**filters)``: ``GET /_sandbox/requests`` (what the app sent);
- ``clock``: ``freeze()``, ``advance(seconds)``, ``resume()``, ``now()`` over
  ``/_sandbox/clock``;
- ``trigger(event_type, data=None)`` and ``resend(event_id)``: ``/_sandbox/events``.

A sandbox answering an error raises ``SandboxError`` with its envelope.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID
from pin_mock.testing.spec_check import validated_once

#: How long the server may take to start or stop before it is an error.
START_TIMEOUT = 30.0


class SandboxError(Exception):
    """The sandbox refused a helper's request: ``status`` and PIN's ``error`` envelope."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        try:
            self.error = response.json().get("error")
        except ValueError:
            self.error = response.text
        super().__init__(
            f"{response.request.method} {response.request.url.path}: {self.status} {self.error}"
        )


def _checked(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise SandboxError(response)
    return response.json() if response.content else None


class Clock:
    """The caller's sandbox clock (``/_sandbox/clock``): freeze, advance, resume, read."""

    def __init__(self, owner: Sandbox) -> None:
        self._owner = owner

    def _post(self, action: str, body: dict[str, Any] | None = None) -> Any:
        return _checked(self._owner.client.post(f"/_sandbox/clock/{action}", json=body))

    def now(self) -> Any:
        """``GET /_sandbox/clock``: the clock as the sandbox reports it."""
        return _checked(self._owner.client.get("/_sandbox/clock"))

    def freeze(self) -> Any:
        """Stop the clock where it is (``POST /_sandbox/clock/freeze``)."""
        return self._post("freeze")

    def advance(self, seconds: float) -> Any:
        """Move it ``seconds`` forward at once; what falls due happens in order."""
        return self._post("advance", {"seconds": seconds})

    def resume(self) -> Any:
        """Let it run again (``POST /_sandbox/clock/resume``)."""
        return self._post("resume")


class Sandbox:
    """A running sandbox and an authenticated client of it (see the module)."""

    def __init__(
        self, base_url: str, client_id: str = DEFAULT_CLIENT_ID, client_secret: str | None = None
    ) -> None:
        from pin_mock.sandbox_cli.connection import connect

        self.base_url = base_url
        self.client_id = client_id
        self.client_secret = client_secret or f"{client_id}-secret"
        self.client = connect(base_url, client_id=client_id, client_secret=self.client_secret)
        self.clock = Clock(self)
        self._clients: dict[str, httpx.Client] = {client_id: self.client}

    def client_for(self, client_id: str, client_secret: str | None = None) -> httpx.Client:
        """An authenticated client of another sandbox client (reset with the rest)."""
        from pin_mock.sandbox_cli.connection import connect

        if client_id not in self._clients:
            secret = client_secret or f"{client_id}-secret"
            self._clients[client_id] = connect(
                self.base_url, client_id=client_id, client_secret=secret
            )
        return self._clients[client_id]

    def reset(self) -> None:
        """Every client handed out back to the seeded state (``POST /_sandbox/reset``,
        which also puts each one's clock back on the real clock)."""
        for client in self._clients.values():
            _checked(client.post("/_sandbox/reset"))

    def journal(self, **filters: Any) -> Any:
        """``GET /_sandbox/requests`` with ``filters`` as its query (``operation=``,
        ``status=``, ``since=``, ``limit=``...): the client's recorded exchanges (the
        answer's ``data``)."""
        params = {k: v for k, v in filters.items() if v is not None}
        body = _checked(self.client.get("/_sandbox/requests", params=params))
        return body["data"] if isinstance(body, dict) and "data" in body else body

    def count(self, **filters: Any) -> int:
        """How many recorded exchanges match ``filters`` (the journal's ``matched``, its
        ``limit`` aside): a verification count, as WireMock's ``verify`` reads one."""
        params = {k: v for k, v in filters.items() if v is not None}
        params.setdefault("limit", 1)
        return int(_checked(self.client.get("/_sandbox/requests", params=params))["matched"])

    def trigger(self, event_type: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """``POST /_sandbox/events``: the event (``id``, ``data``...) and its ``webhook_ids``."""
        body: dict[str, Any] = {"type": event_type}
        if data is not None:
            body["data"] = data
        return _checked(self.client.post("/_sandbox/events", json=body))

    def resend(
        self, event_id: str, webhook_id: str | None = None, *, wait: float = 5.0
    ) -> dict[str, Any]:
        """``POST /_sandbox/events/{event_id}/resend``: the same event again.

        A delivery still under way is not queued twice (409): an app's receiver
        may have the event before the sandbox has logged its answer, so this waits
        up to ``wait`` seconds for the deliveries under way to end.
        """
        body = {"webhook_id": webhook_id} if webhook_id else None
        path = f"/_sandbox/events/{quote(event_id, safe='')}/resend"
        deadline = time.monotonic() + wait
        while True:
            response = self.client.post(path, json=body)
            still_pending = "webhook_ids" in (
                response.json().get("error", {}).get("details", {})
                if response.status_code == 409
                else {}
            )
            if not still_pending or time.monotonic() >= deadline:
                return _checked(response)
            time.sleep(0.02)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


@contextmanager
def sandbox(
    settings: Any = None, *, client_id: str = DEFAULT_CLIENT_ID, **overrides: Any
) -> Iterator[Sandbox]:
    """A sandbox on a free loopback port for the block (``Settings`` fields as keywords).

    ``settings``: a ``pin_mock.server.Settings`` (else the defaults, with
    ``overrides``); ``client_id``: whose sandbox ``client`` and the helpers use.
    """
    try:
        with warnings.catch_warnings():
            # Connexion's imports warn about its own dependencies: nothing a test can act on.
            warnings.simplefilter("ignore", DeprecationWarning)
            from pin_mock.server.app import create_app
            from pin_mock.server.settings import Settings
            from pin_mock.server.transport.uvicorn_config import uvicorn_config
    except ImportError as exc:  # pragma: no cover - a kit-only install
        raise RuntimeError(
            f"pin_mock.testing needs the sandbox: pip install 'pin-mock[server]' ({exc})"
        ) from exc
    import uvicorn

    chosen = settings or Settings(**overrides)
    with validated_once():
        app = create_app(chosen)
    # Loopback and a free port whatever the settings say: one sandbox per test session.
    config = uvicorn_config(app, chosen, host="127.0.0.1", port=0, loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="pin-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the pin-mock sandbox did not start")
        time.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    handle = Sandbox(f"http://127.0.0.1:{port}", client_id)
    try:
        yield handle
    finally:
        handle.close()
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT)
