"""The probes' HTTP client: a throttled token endpoint is waited for, nothing else is."""

from __future__ import annotations

import httpx

from kit_helpers import SPEC
from pin_mock.contract.target import Target


def serve(answers: list[httpx.Response]) -> tuple[httpx.MockTransport, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return answers.pop(0)

    return httpx.MockTransport(handler), seen


def throttled(seconds: str) -> httpx.Response:
    body = {"error": "temporarily_unavailable", "error_description": "later"}
    return httpx.Response(429, headers={"Retry-After": seconds}, json=body)


def test_a_throttled_token_request_is_retried_after_the_wait_it_asks_for() -> None:
    granted = {"access_token": "t", "token_type": "Bearer", "expires_in": 60, "scope": "a"}
    transport, seen = serve([throttled("3"), httpx.Response(200, json=granted)])
    slept: list[float] = []
    target = Target("http://pin.test", None, SPEC, transport=transport, sleep=slept.append)
    try:
        ex = target.request("POST", "/oauth/token", template="/oauth/token", token=None, data={})
    finally:
        target.close()
    assert ex.status == 200 and slept == [3.0] and seen == ["/oauth/token"] * 2
    assert target.requests == 2


def test_other_429s_and_long_waits_are_not_retried() -> None:
    transport, seen = serve([throttled("3"), throttled("3600")])
    slept: list[float] = []
    target = Target("http://pin.test", None, SPEC, transport=transport, sleep=slept.append)
    try:
        api = target.request("GET", "/v1/patients", template="/v1/patients", token=None)
        token = target.request("POST", "/oauth/token", template="/oauth/token", token=None)
    finally:
        target.close()
    assert (api.status, token.status) == (429, 429)
    assert slept == [] and len(seen) == 2


class FixedTokens:
    """A token source that always hands out the run's real token."""

    def token(self) -> str:
        return "the-real-access-token"


def test_findings_hide_the_real_token_and_show_the_forged_one() -> None:
    from pin_mock.contract.findings import SECRETS
    from pin_mock.contract.target import finding

    refused = {"error": {"code": "UNAUTHORIZED", "message": "no", "details": {}}}
    answers = [httpx.Response(200, json={"data": []}), httpx.Response(200, json=refused)]
    transport, _ = serve(answers)
    target = Target("http://pin.test", FixedTokens(), SPEC, transport=transport)  # type: ignore[arg-type]
    try:
        real = target.request("GET", "/v1/patients", template="/v1/patients")
        forged = target.request(
            "GET", "/v1/patients", template="/v1/patients", token="Bearer forged.jwt.value"
        )
    finally:
        target.close()
        shown = (
            finding("GET /v1/patients", "c", "m", real),
            finding("GET /v1/patients", "c", "m", forged),
        )
        SECRETS.clear()
    assert shown[0].request.headers["authorization"] == "[Filtered]"
    assert "Bearer $PIN_TOKEN" in shown[0].curl() and "the-real-access-token" not in shown[0].curl()
    assert shown[1].request.headers["authorization"] == "Bearer forged.jwt.value"
    assert "Bearer forged.jwt.value" in shown[1].curl()
