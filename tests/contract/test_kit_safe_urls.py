"""Safe against any target: every URL the kit sends for the target to call is the receiver or ``.invalid``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from kit_helpers import SEED
from kit_mutants import Mutant, Proxy, Request
from kit_servers import reset_sandbox, serve
from pin_mock.contract.output.summary import render
from pin_mock.contract.safe_urls import INVALID_URL, is_safe, rewrite, safe_url

RECEIVER = "http://127.0.0.1:9911/hooks"


@pytest.mark.parametrize(
    "value",
    ["https://your-app.com/webhook", "0.com", "http://10.0.0.1:8080/x", "HTTPS://Example.ORG"],
)
def test_a_positive_case_gets_the_receiver_or_an_invalid_host(value):
    assert safe_url(value, negative=False) == INVALID_URL
    assert safe_url(value, negative=False, receiver=RECEIVER) == RECEIVER
    assert not is_safe(value)


def test_a_negative_case_keeps_what_makes_it_invalid():
    too_long = "https://your-app.com/" + "a" * 200
    twin = safe_url(too_long, negative=True)
    assert len(twin) == len(too_long) and urlsplit(twin).hostname.endswith(".invalid")
    assert safe_url("ftp://files.example.com/x", negative=True).startswith("ftp://")
    for not_a_url in ("", "   ", 42, None, ["x"]):
        assert safe_url(not_a_url, negative=True) == not_a_url


def test_safe_values_and_the_receiver_pass_unchanged():
    assert is_safe("https://pin-contract.invalid/webhook") and is_safe("http://x.invalid:1/a")
    assert is_safe(RECEIVER + "/more", RECEIVER)
    assert not is_safe("http://127.0.0.1:9911@evil.example/", RECEIVER)
    assert not is_safe("http://127.0.0.1:9912/", RECEIVER)


def test_every_url_field_of_a_body_is_rewritten_at_any_depth():
    body = {
        "url": "https://your-app.com/webhook",
        "events": ["patient.created"],
        "nested": [{"callback_url": "http://0.com"}],
        "description": "https://not-a-url-field.example",
    }
    safe = rewrite(body, negative=False)
    assert safe["url"] == INVALID_URL and safe["nested"][0]["callback_url"] == INVALID_URL
    assert safe["events"] == ["patient.created"] and safe["description"] == body["description"]


def urls_in(value: Any, key: str = "") -> list[str]:
    """Every string a body gives under a URL-like key, and every absolute http(s) URL."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += urls_in(v, str(k))
    elif isinstance(value, list):
        for item in value:
            found += urls_in(item, key)
    elif isinstance(value, str):
        lowered = key.lower()
        if lowered == "url" or lowered.endswith("_url") or "://" in value:
            found.append(value)
    return found


def recorder(bodies: list[tuple[str, str, Any]]) -> Mutant:
    async def record(proxy: Proxy, request: Request) -> None:
        try:
            parsed: Any = json.loads(request.body) if request.body else None
        except ValueError:
            parsed = dict(parse_qsl(request.body.decode("latin-1")))
        bodies.append((request.method, request.path, parsed))
        return None

    return Mutant("recorder", "nothing: it records", frozenset(), {}, on_request=record)


def is_loopback_receiver(value: str) -> bool:
    """The kit's own receiver for a local target listens on loopback (the webhook probe)."""
    return urlsplit(value.strip()).hostname in ("127.0.0.1", "localhost", "::1")


def test_no_request_of_a_run_carries_a_url_outside_the_receiver_or_invalid(sandbox_url, run_kit):
    reset_sandbox(sandbox_url)
    bodies: list[tuple[str, str, Any]] = []
    with serve(Proxy(sandbox_url, recorder(bodies))) as url:
        result = run_kit(
            url,
            include=("createWebhook", "listWebhooks", "getWebhook", "deleteWebhook"),
            max_examples=15,
            seed=SEED,
        )
    webhook_bodies = [b for m, p, b in bodies if m == "POST" and p.startswith("/v1/webhooks")]
    assert len(webhook_bodies) > 50, render(result)  # examples, coverage, fuzzing, stateful
    sent = [value for _, _, body in bodies for value in urls_in(body)]
    assert sent, "no URL at all was sent: the run did not exercise webhooks"
    unsafe = [v for v in sent if not is_safe(v) and not is_loopback_receiver(v)]
    assert unsafe == [], f"{len(unsafe)} unsafe URLs, e.g. {unsafe[:5]}"


def test_a_configured_receiver_url_is_what_generated_webhooks_get(sandbox_url, run_kit):
    reset_sandbox(sandbox_url)
    bodies: list[tuple[str, str, Any]] = []
    receiver = "http://127.0.0.1:9/pin-receiver"  # port 9 (discard): nothing is delivered
    with serve(Proxy(sandbox_url, recorder(bodies))) as url:
        run_kit(
            url,
            include=("createWebhook",),
            phases=("examples", "fuzzing"),
            webhook_receiver_url=receiver,
        )
    sent = [v for m, p, b in bodies if p == "/v1/webhooks" and m == "POST" for v in urls_in(b)]
    assert f"{receiver}/pin-contract/fuzzed" in sent  # a path of the receiver's own
    assert all(is_safe(v, receiver) for v in sent), sorted(set(sent))[:5]
