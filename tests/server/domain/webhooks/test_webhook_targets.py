"""Webhook targets: URL checks at registration, the target policy and pinning at delivery."""

from __future__ import annotations

import asyncio

import pytest

from harness import Sandbox
from pin_mock.server.domain.webhooks import targets
from pin_mock.server.domain.webhooks.targets import (
    TargetRefused,
    allowed,
    classify,
    reserved,
    routes,
)
from pin_mock.server.errors import ConfigError
from pin_mock.server.settings import Settings


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


@pytest.mark.parametrize("policy", ["local", "public", "hosted"])
def test_any_well_formed_url_is_accepted_under_every_policy(sandbox_factory, policy) -> None:
    """Schema-valid URLs are never a 400: the policy applies at delivery (``blocked``)."""
    sb = sandbox_factory(webhook_targets=policy)
    for url in ("https://your-app.com/webhook", "http://127.0.0.1:9/hook", "https://0.com"):
        response = sb.post("/v1/webhooks", json={"url": url, "events": ["patient.created"]})
        assert response.status_code == 201, (url, response.text)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "local"),
        ("10.1.2.3", "local"),
        ("172.16.0.1", "local"),
        ("192.168.1.1", "local"),
        ("100.64.0.1", "local"),
        ("::1", "local"),
        ("fd00::1", "local"),
        ("::ffff:127.0.0.1", "local"),
        ("::127.0.0.1", "local"),
        ("::ffff:0:7f00:1", "local"),
        ("64:ff9b::7f00:1", "local"),
        ("2002:7f00:1::", "local"),
        ("2002:c0a8:101::1", "local"),
        ("93.184.215.14", "public"),
        ("2606:4700::1111", "public"),
        ("64:ff9b::5db8:d70e", "public"),
        ("::ffff:93.184.215.14", "public"),
        ("169.254.169.254", "forbidden"),
        ("::ffff:169.254.169.254", "forbidden"),
        ("fe80::1%lo", "forbidden"),
        ("0.0.0.0", "forbidden"),
        ("::", "forbidden"),
        ("224.0.0.1", "forbidden"),
        ("255.255.255.255", "forbidden"),
        ("2001::1", "forbidden"),  # Teredo: the real peer is hidden
        ("64:ff9b:1::7f00:1", "forbidden"),  # local-use NAT64
    ],
)
def test_addresses_are_classified_by_what_they_reach(address: str, kind: str) -> None:
    assert classify(address) == kind
    assert allowed("local", address) is (kind == "local")
    assert allowed("public", address) is (kind != "forbidden")
    assert allowed("hosted", address) is (kind == "public")


def test_routes_pin_the_checked_address_and_keep_the_name() -> None:
    (route,) = asyncio.run(routes("https://93.184.215.14:8443/hook?x=1", "public", 2.0))
    assert route.url == "https://93.184.215.14:8443/hook?x=1"
    assert route.host_header == "93.184.215.14:8443"
    assert route.extensions == {"sni_hostname": "93.184.215.14"}
    by_name = asyncio.run(routes("http://localhost:9/hook", "local", 2.0))
    assert by_name and all(r.host_header == "localhost:9" for r in by_name)
    assert {r.url for r in by_name} <= {"http://127.0.0.1:9/hook", "http://[::1]:9/hook"}


def test_routes_refuse_addresses_outside_the_policy() -> None:
    for policy, url in (
        ("local", "https://93.184.215.14/"),
        ("hosted", "http://localhost:9/hook"),
        ("hosted", "http://[fd00::1]/"),
        ("hosted", "http://[::127.0.0.1]/"),
        ("public", "http://169.254.169.254/latest/meta-data"),
        ("public", "http://0.0.0.0/"),
    ):
        with pytest.raises(TargetRefused, match=f"webhook_targets={policy}"):
            asyncio.run(routes(url, policy, 2.0))


def test_the_old_private_targets_variable_names_its_replacement() -> None:
    with pytest.raises(ConfigError, match="PIN_MOCK_WEBHOOK_TARGETS"):
        Settings.from_env({"PIN_MOCK_WEBHOOK_ALLOW_PRIVATE_TARGETS": "false"})
    with pytest.raises(ConfigError, match="webhook_targets"):
        Settings(webhook_targets="everywhere")
    assert Settings.from_env({"PIN_MOCK_WEBHOOK_TARGETS": "hosted"}).webhook_targets == "hosted"


@pytest.mark.parametrize(
    "url",
    [
        "https://pin-contract-receiver.invalid/webhook",
        "http://hooks.test/x",
        "https://your-app.example/webhook",
        "http://api.localhost:9/hook",
        "https://INVALID./",
    ],
)
def test_reserved_names_are_refused_without_a_lookup(url: str, monkeypatch) -> None:
    """RFC 6761 names never resolve; a resolver may take seconds to say so (issue 21)."""
    looked_up: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(targets, "_resolve", resolve)
    for policy in ("local", "public", "hosted"):
        with pytest.raises(TargetRefused, match="reserved name"):
            asyncio.run(routes(url, policy, 2.0))
    assert looked_up == []
    assert reserved("localhost") is False  # answered by the hosts file: a loopback target
