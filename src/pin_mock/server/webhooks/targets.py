"""Where a webhook may point: URL checks and the SSRF policy.

A local sandbox must reach receivers on ``localhost``, so private targets are
allowed by default. With ``webhook_allow_private_targets=False`` (a hosted
sandbox) a URL whose host is or resolves to a loopback, private, link-local or
otherwise non-global address is refused twice: at registration
(``check_url``), and at each delivery (``pinned``), where the host is resolved
once, checked, and the connection pinned to that address so a DNS answer that
changes between the check and the connect (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx

from pin_mock.server.errors import InvalidParameter


class TargetRefused(Exception):
    """The target was refused before connecting (SSRF guard)."""


async def check_url(url: str, *, allow_private: bool) -> str:
    """The webhook URL if deliverable, else ``InvalidParameter('url')``."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise InvalidParameter("url", url, "The webhook URL is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not _valid_host(parts.hostname):
        raise InvalidParameter("url", url, "The webhook URL must be http or https with a host.")
    if not allow_private:
        port = port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = await _resolve(parts.hostname, port)
        except OSError:
            raise InvalidParameter("url", url, "The webhook URL's host does not resolve.") from None
        if any(_blocked(a) for a in addresses):
            raise InvalidParameter(
                "url", url, "The webhook URL points to a private or local address."
            )
    return url


async def pinned(url: str, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """``url`` with its host replaced by a checked public address, and httpx extensions.

    Sets ``headers["host"]`` to the original host, and the TLS SNI name through
    the returned extensions, so the receiver sees the request it was sent.
    Raises ``TargetRefused`` when the host does not resolve or resolves to an
    address that is not public.
    """
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")  # IDNs as xn--, IPv6 without brackets
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = await _resolve(host, port)
    except OSError as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc}") from None
    if not addresses or any(_blocked(a) for a in addresses):
        raise TargetRefused(f"{host} resolves to a private or local address")
    headers["host"] = parsed.netloc.decode("ascii")
    return str(parsed.copy_with(host=addresses[0])), {"sni_hostname": host}


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


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
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]
