"""The ``Host`` names the sandbox answers to: no web page may drive a local sandbox.

DNS rebinding: a page on ``http://attacker.example`` re-points its own name to
127.0.0.1 and then, being "same origin" with itself, reads every answer of a
sandbox on the developer's machine (the sandbox clients' secrets are public,
and under ``--webhook-targets local`` deliveries reach the LAN). The browser
still sends ``Host: attacker.example``, so refusing names the sandbox was not
told about stops it, as current dev servers do (Vite's ``server.allowedHosts``,
webpack-dev-server's ``allowedHosts``).

``--allowed-hosts`` (``Settings.allowed_hosts``) is a comma-separated list of
``*`` (any Host), ``local`` (``localhost``, ``127.0.0.1``, ``[::1]``), host
names and addresses (``.example.org``: that name and its subdomains); any
port. ``auto``, what ``pin-mock serve`` uses unless told otherwise, is
``local`` when the sandbox is bound to a loopback address and ``*`` otherwise
(bound to a LAN or public address, the operator names the hosts). The
library default (``create_app(Settings())``, the in-process tests) is ``*``.

A request whose ``Host`` is not allowed (or missing, while a list is in force)
is answered ``400 INVALID_REQUEST`` in the envelope (RFC 6749's
``invalid_request`` on the token endpoint) before any other layer sees it: no
token is verified and no budget is spent. 400, not 421, because every
operation documents 400 with the envelope.
"""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

from pin_mock.server.errors import InvalidRequest, quote, render_raw

#: ``local``: the loopback names a developer's browser and tools use.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def is_loopback(bind_host: str) -> bool:
    """Whether the sandbox bound to ``bind_host`` is reachable from this machine only."""
    if bind_host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind_host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_names(setting: str, bind_host: str) -> tuple[str, ...] | None:
    """The names of ``--allowed-hosts`` (lower case), or None for any host."""
    entries = [e.strip().lower() for e in setting.split(",") if e.strip()]
    if "auto" in entries:
        entries.remove("auto")
        entries.append("local" if is_loopback(bind_host) else "*")
    if "*" in entries:
        return None
    names: list[str] = []
    for entry in entries:
        names.extend(LOCAL_HOSTS if entry == "local" else (entry.rstrip("."),))
    return tuple(dict.fromkeys(names))


def host_name(value: str) -> str:
    """The name part of a ``Host`` value (``[::1]:8080`` -> ``[::1]``), in lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.partition(":")[0].rstrip(".")


def is_allowed(value: str, names: tuple[str, ...]) -> bool:
    """Whether the ``Host`` header ``value`` names one of ``names`` (any port)."""
    name = host_name(value)
    if not name:
        return False
    for allowed in names:
        if allowed.startswith("."):
            if name == allowed[1:] or name.endswith(allowed):
                return True
        elif name == allowed:
            return True
    return False


#: Host values judged, remembered (a client sends the same one on every request).
_SEEN_MAX = 256


class AllowedHostsMiddleware:
    """Answer 400 to a request whose ``Host`` is not one the sandbox answers to.

    ``create_app`` adds it only when a list is in force (not for ``*``).
    """

    def __init__(self, app: ASGIApp, *, names: tuple[str, ...] | None) -> None:
        self.app = app
        self.names = names
        self._seen: dict[bytes, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.names is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = b""
        for name, value in scope["headers"]:
            if name == b"host":
                raw = value
                break
        allowed = self._seen.get(raw)
        if allowed is None:
            allowed = is_allowed(raw.decode("latin-1"), self.names)
            if len(self._seen) >= _SEEN_MAX:  # a rotating Host: bounded, and still cheap
                self._seen.clear()
            self._seen[raw] = allowed
        if allowed:
            await self.app(scope, receive, send)
            return
        host = raw.decode("latin-1")
        shown, extra = quote(host)
        error = InvalidRequest(
            f"This sandbox does not answer to the host {shown!r}: it answers to "
            f"{', '.join(self.names)} (see --allowed-hosts).",
            {"header": "Host", "value": shown, **extra, "allowed_hosts": list(self.names)},
        )
        status, headers, body = render_raw(error, scope["path"])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
