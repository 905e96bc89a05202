"""The probes never ask a target to call the internet: every URL they send is safe.

A recording proxy in front of the sandbox notes every ``url`` in every JSON body
the kit's probes send: each is the kit's own loopback receiver or a host under
``.invalid`` (RFC 2606), which can never resolve.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from kit_mutants import Mutant, Proxy, Request
from kit_servers import reset_sandbox, serve


def urls_in(value) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "url" and isinstance(v, str)] + [
            u for v in value.values() for u in urls_in(v)
        ]
    if isinstance(value, list):
        return [u for v in value for u in urls_in(v)]
    return []


def test_every_url_the_probes_send_is_the_receiver_or_invalid(sandbox_url, run_kit):
    sent: list[str] = []

    async def record(proxy: Proxy, request: Request) -> None:
        try:
            sent.extend(urls_in(json.loads(request.body or b"null")))
        except ValueError:
            pass

    reset_sandbox(sandbox_url)
    with serve(
        Proxy(sandbox_url, Mutant("recorder", "", frozenset(), {}, on_request=record))
    ) as url:
        result = run_kit(url, phases=("probes",))
    assert result.exit_code == 0
    hosts = {urlsplit(u).hostname or "" for u in sent}
    assert sent and any(h == "127.0.0.1" for h in hosts)  # the receiver was used
    assert all(h == "127.0.0.1" or h.endswith(".invalid") for h in hosts), hosts
