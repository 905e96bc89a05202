"""Webhook targets: URL checks at registration and the SSRF policy of a hosted sandbox."""

from __future__ import annotations

import asyncio

import pytest

from harness import Sandbox
from pin_mock.server.webhooks.dispatcher import WebhookDispatcher, dispatcher_of
from pin_mock.server.webhooks.targets import TargetRefused


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "http://",
        "https:///no-host",
        "example.com/hook",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "javascript:alert(1)",
        "https://\u00ff\u00fb\u0011\u0087",  # control characters in the host (found by the kit)
    ],
)
def test_create_rejects_urls_without_http_scheme_and_host(sandbox: Sandbox, url: str) -> None:
    response = sandbox.post("/v1/webhooks", json={"url": url, "events": ["patient.created"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_PARAMETER"
    assert error["details"]["parameter"] == "url"


def test_hosted_mode_refuses_private_and_local_targets(sandbox_factory) -> None:
    sb = sandbox_factory(webhook_allow_private_targets=False)
    for url in (
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://[::ffff:192.168.0.1]/",
    ):
        response = sb.post("/v1/webhooks", json={"url": url, "events": ["patient.created"]})
        assert response.status_code == 400, url
        assert response.json()["error"]["details"]["parameter"] == "url"


def test_hosted_mode_pins_deliveries_to_the_checked_address(sandbox_factory) -> None:
    sb = sandbox_factory(webhook_allow_private_targets=False)
    dispatcher = dispatcher_of(sb.services)
    assert isinstance(dispatcher, WebhookDispatcher)

    async def target(url: str) -> tuple[str, dict, dict]:
        headers: dict[str, str] = {}
        pinned, extensions = await dispatcher._target(url, headers)
        return pinned, extensions, headers

    pinned, extensions, headers = asyncio.run(target("https://93.184.215.14:8443/hook?x=1"))
    assert pinned == "https://93.184.215.14:8443/hook?x=1"
    assert headers["host"] == "93.184.215.14:8443"
    assert extensions == {"sni_hostname": "93.184.215.14"}
    for url in ("http://localhost:9/hook", "http://[fd00::1]/", "http://0.0.0.0/"):
        with pytest.raises(TargetRefused, match="private or local"):
            asyncio.run(target(url))
