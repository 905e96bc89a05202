"""The token source: fetched from /oauth/token, cached, refreshed before expiry, thread-safe."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from pin_mock.contract.tokens import Credentials, TokenError, TokenSource

CREDS = Credentials("http://pin.test/oauth/token", "client", "secret")


class FakeTokenEndpoint:
    """A token endpoint that counts calls and issues numbered tokens."""

    def __init__(self, expires_in=3600, status=200, body=None, delay=0.0):
        self.calls = 0
        self.forms = []
        self.expires_in, self.status, self.body, self.delay = expires_in, status, body, delay

    def post(self, url, data, headers=None):
        self.calls += 1
        self.forms.append(data)
        self.headers = headers
        time.sleep(self.delay)
        body = self.body if self.body is not None else {
            "access_token": f"token-{self.calls}", "token_type": "Bearer", "expires_in": self.expires_in, "scope": "a"
        }  # fmt: skip
        return httpx.Response(self.status, json=body, request=httpx.Request("POST", url))


def test_credentials_resolve_a_relative_token_url_against_the_base_url():
    assert (
        Credentials.for_target("http://h:1/pin/", "/oauth/token", "a", "b").token_url
        == "http://h:1/pin/oauth/token"
    )
    assert (
        Credentials.for_target("http://h:1", "https://idp/token", "a", "b").token_url
        == "https://idp/token"
    )


def test_token_is_fetched_once_with_client_credentials_and_cached():
    endpoint = FakeTokenEndpoint()
    source = TokenSource(CREDS, post=endpoint.post)
    assert source.token() == source.token() == "token-1"
    assert endpoint.calls == 1
    assert endpoint.forms[0] == {
        "grant_type": "client_credentials",
        "client_id": "client",
        "client_secret": "secret",
    }


def test_token_is_refreshed_before_expires_in_runs_out():
    now = [0.0]
    endpoint = FakeTokenEndpoint(expires_in=100)
    source = TokenSource(CREDS, post=endpoint.post, clock=lambda: now[0])
    assert source.token() == "token-1"
    now[0] = 80.0  # 20 s left of 100: still more than the 10 s headroom
    assert source.token() == "token-1"
    now[0] = 91.0  # inside the headroom: refresh before the target would answer 401
    assert source.token() == "token-2"


def test_concurrent_workers_share_one_fetch():
    endpoint = FakeTokenEndpoint(delay=0.05)
    source = TokenSource(CREDS, post=endpoint.post)
    tokens = []
    threads = [threading.Thread(target=lambda: tokens.append(source.token())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert endpoint.calls == 1 and set(tokens) == {"token-1"}


def test_refused_credentials_are_a_usage_problem():
    endpoint = FakeTokenEndpoint(status=401, body={"error": "invalid_client"})
    with pytest.raises(TokenError, match="refused client 'client'") as info:
        TokenSource(CREDS, post=endpoint.post).token()
    assert info.value.usage
    assert endpoint.calls == 2  # the form body, then HTTP Basic: both refused


def test_a_target_that_refuses_the_form_body_is_asked_with_http_basic():
    """The contract offers both methods; a run still gets a token (the probe reports the gap)."""

    def post(url, data, headers=None):
        if headers and headers.get("Authorization", "").startswith("Basic "):
            body, status = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600}, 200
        else:
            body, status = {"error": "invalid_client"}, 401
        return httpx.Response(status, json=body, request=httpx.Request("POST", url))

    source = TokenSource(CREDS, post=post)
    assert source.token() == "t" and source.method == "basic"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, {"error": "server_error"}, "answered 500"),
        (200, {"token_type": "Bearer"}, "without an access_token"),
        (200, {"access_token": "t", "expires_in": "soon"}, "bad expires_in"),
    ],
)
def test_a_broken_token_endpoint_is_a_contract_failure(status, body, expected):
    with pytest.raises(TokenError, match=expected) as info:
        TokenSource(CREDS, post=FakeTokenEndpoint(status=status, body=body).post).token()
    assert not info.value.usage


def test_an_unreachable_token_endpoint_is_a_usage_problem():
    def refuse(url, data):
        raise httpx.ConnectError("connection refused")

    with pytest.raises(TokenError, match="cannot reach") as info:
        TokenSource(CREDS, post=refuse).token()
    assert info.value.usage


def test_a_throttled_token_endpoint_is_waited_for_as_it_asks():
    answers = [
        httpx.Response(
            429, headers={"Retry-After": "7"}, json={"error": "temporarily_unavailable"}
        ),
        httpx.Response(
            200, json={"access_token": "late", "token_type": "Bearer", "expires_in": 60}
        ),
    ]
    slept = []

    def post(url, data):
        return answers.pop(0)

    source = TokenSource(CREDS, post=post, sleep=slept.append)
    assert source.token() == "late"
    assert slept == [7.0]


def test_a_throttle_asking_for_too_long_is_reported_not_waited_for():
    slept = []

    def post(url, data):
        return httpx.Response(429, headers={"Retry-After": "3600"}, json={"error": "x"})

    source = TokenSource(CREDS, post=post, sleep=slept.append)
    with pytest.raises(TokenError, match="429"):
        source.token()
    assert slept == []


def test_the_token_source_remembers_the_granted_scopes():
    endpoint = FakeTokenEndpoint(body={"access_token": "t", "token_type": "Bearer", "expires_in": 60,
                                       "scope": "patients:read reports:read"})  # fmt: skip
    source = TokenSource(CREDS, post=endpoint.post)
    assert source.granted is None
    source.token()
    assert source.granted == {"patients:read", "reports:read"}
