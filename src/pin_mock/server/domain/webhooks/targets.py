"""Where a webhook may point: URL checks at registration, the target policy at delivery.

Registration only checks the form of a URL (http or https, a host): any
well-formed URL is accepted, so a client (or a fuzzer sending schema-valid
bodies) never sees a 400 for a URL the spec allows. The policy
(``Settings.webhook_targets``) is applied at every delivery, to the addresses
the host resolves to at that moment:

- ``local`` (default): loopback and private addresses only, so a sandbox on a
  CI runner never sends signed requests to the internet;
- ``public``: those and public (global) addresses;
- ``hosted``: public addresses only, for a sandbox serving many integrators.

Link-local (cloud metadata at 169.254.169.254), unspecified, multicast and
reserved addresses are refused under every policy, and so are the names
RFC 6761 reserves (``x.invalid``, ``x.test``, ``x.example``, ``x.localhost``):
they are refused before any lookup, because a resolver may take seconds to
say that such a name does not exist (a fuzzer registers many of them).
``localhost`` itself stays a loopback target (the hosts file answers it). An IPv6 address that
carries an IPv4 one (mapped ``::ffff:a.b.c.d``, compatible ``::a.b.c.d``,
translated, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) is judged by the IPv4
address it carries; Teredo and local-use NAT64 are refused. A host is
resolved once per attempt and the connection pinned to the checked address
(``Host`` header and TLS SNI keep the name), so a DNS answer that changes
between the check and the connect (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from pin_mock.server.errors import InvalidParameter

Policy = Literal["local", "public", "hosted"]
#: The values of ``Settings.webhook_targets``.
POLICIES: tuple[str, ...] = ("local", "public", "hosted")
Kind = Literal["local", "public", "forbidden"]

_IPv4 = ipaddress.IPv4Address
_LOCAL_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
_LOCAL_V6 = (ipaddress.IPv6Network("::1/128"), ipaddress.IPv6Network("fc00::/7"))
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated IPv4-compatible ::a.b.c.d
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT ::ffff:0:a.b.c.d
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_TEREDO = ipaddress.IPv6Network("2001::/32")
_ALLOWED: dict[str, frozenset[str]] = {
    "local": frozenset({"local"}),
    "public": frozenset({"local", "public"}),
    "hosted": frozenset({"public"}),
}
#: Top-level names RFC 6761 (and RFC 2606) reserve: never delivered to, never looked up.
RESERVED_NAMES = ("invalid", "test", "example", "localhost")
_WHAT = {
    "local": "loopback and private addresses",
    "public": "loopback, private and public addresses",
    "hosted": "public addresses",
}


class TargetRefused(Exception):
    """The target is outside the policy: the attempt is logged ``blocked``, never retried."""


class TargetReserved(TargetRefused):
    """The host is a name RFC 6761 reserves: it can never resolve, so it is not looked up
    (a resolver may take seconds to say so) and the delivery is ``not_delivered``."""


class TargetUnresolved(Exception):
    """The host did not resolve: a failed attempt, retried like a refused connection."""


@dataclass(frozen=True)
class Route:
    """One way to reach a webhook: the URL with its host pinned, and httpx extensions."""

    url: str
    extensions: dict[str, Any]
    host_header: str


def check_url(url: str) -> str:
    """The webhook URL if well-formed (http or https, a host), else ``InvalidParameter``."""
    try:
        urlsplit(url).port  # noqa: B018 (raises on a bad port)
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise InvalidParameter("url", url, "The webhook URL is not a valid URL.") from None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not _valid_host(parts.hostname):
        raise InvalidParameter("url", url, "The webhook URL must be http or https with a host.")
    return url


def classify(address: str) -> Kind:
    """``local`` (loopback, private), ``public`` (global) or ``forbidden`` (everything else)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        carried = _carried_ipv4(ip)
        if carried is False:
            return "forbidden"
        if carried is not None:
            ip = carried
        elif any(ip in net for net in _LOCAL_V6):
            return "local"
    if isinstance(ip, _IPv4) and any(ip in net for net in _LOCAL_V4):
        return "local"
    if ip.is_global and not ip.is_multicast:
        return "public"
    return "forbidden"


def allowed(policy: str, address: str) -> bool:
    """Whether ``policy`` lets a delivery connect to ``address``."""
    return classify(address) in _ALLOWED[policy]


async def routes(url: str, policy: str, timeout: float) -> list[Route]:
    """The pinned routes to ``url`` under ``policy``, in the resolver's order.

    Raises ``TargetUnresolved`` if the host does not resolve within ``timeout``,
    ``TargetRefused`` if any address it resolves to is outside the policy, and
    ``TargetReserved`` (without a look-up) for a name RFC 6761 reserves.
    """
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")  # IDNs as xn--, IPv6 without brackets
    if reserved(host):
        raise TargetReserved(
            f"{host} is a reserved name (RFC 6761) that never resolves: not looked up"
        )
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        async with asyncio.timeout(timeout):  # (not wait_for: it can swallow a cancel)
            addresses = await _resolve(host, port)
    except (OSError, TimeoutError) as exc:
        raise TargetUnresolved(f"cannot resolve {host}: {exc or 'timeout'}") from None
    refused = [a for a in addresses if not allowed(policy, a)]
    if refused or not addresses:
        raise TargetRefused(
            f"{host} resolves to {', '.join(refused) or 'nothing'}; "
            f"webhook_targets={policy} delivers only to {_WHAT[policy]}"
        )
    netloc = parsed.netloc.decode("ascii")
    return [
        Route(str(parsed.copy_with(host=a.split("%", 1)[0])), {"sni_hostname": host}, netloc)
        for a in dict.fromkeys(addresses)
    ]


def reserved(host: str) -> bool:
    """Whether ``host`` is a name RFC 6761 reserves: under ``invalid``, ``test``, ``example``,
    or ``localhost`` (but not ``localhost`` itself, which the hosts file answers)."""
    name = host.rstrip(".").lower()
    if name == "localhost":
        return False
    return name.rsplit(".", 1)[-1] in RESERVED_NAMES


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None | Literal[False]:
    """The IPv4 address an IPv6 transition form carries; None if none; False if refused."""
    if ip in _TEREDO or ip in _NAT64_LOCAL:
        return False  # the real peer is hidden or local to some network: never a target
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _TRANSLATED or (ip in _COMPATIBLE and int(ip) > 1):
        return _IPv4(int(ip) & 0xFFFFFFFF)
    return None


def _valid_host(host: str | None) -> bool:
    """An IP address, or a DNS name (IDN allowed; ``_`` too, as in compose service names)."""
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?", name) is not None


async def _resolve(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host.split("%", 1)[0]))]  # a literal: no resolver
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]
