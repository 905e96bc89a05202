"""Callers that are web pages (``browsers.py``): CORS and the token endpoint's Basic challenge."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable

import pytest
from starlette.middleware.cors import CORSMiddleware

from harness import Sandbox
from pin_mock.server.errors import ConfigError
from pin_mock.server.pipeline.cors import CorsMiddleware, cors_options
from pin_mock.server.settings import Settings

LOCAL_APP = "http://localhost:5173"


def preflight(sandbox: Sandbox, path: str, origin: str, method: str = "GET", headers: str = ""):
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    return sandbox.http.options(path, headers=request_headers)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.mark.parametrize(
    "origin",
    [LOCAL_APP, "http://127.0.0.1:3000", "https://localhost", "http://[::1]:8081"],
)
def test_default_lets_local_web_apps_preflight_the_api(sandbox: Sandbox, origin: str) -> None:
    response = preflight(sandbox, "/v1/patients", origin, "GET", "authorization, prefer")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-headers"] == "authorization, prefer"
    assert "GET" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["x-request-id"]  # the outer layer still names every answer


def test_token_endpoint_preflight_is_answered(sandbox: Sandbox) -> None:
    response = preflight(sandbox, "/oauth/token", LOCAL_APP, "POST", "authorization")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == LOCAL_APP
    assert "POST" in response.headers["access-control-allow-methods"]


def test_preflights_spend_no_rate_limit_budget(sandbox: Sandbox) -> None:
    def remaining() -> int:
        return int(sandbox.get("/v1/patients?limit=1").headers["x-ratelimit-remaining"])

    before = remaining()
    for _ in range(5):
        assert preflight(sandbox, "/v1/patients", LOCAL_APP).status_code == 200
    assert remaining() == before - 1


def test_answers_are_readable_by_the_local_app(sandbox: Sandbox) -> None:
    response = sandbox.get("/v1/patients?limit=1", headers={"Origin": LOCAL_APP})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == LOCAL_APP
    assert "Origin" in response.headers["vary"]
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    for header in (
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "Retry-After",
        "X-Request-Id",
        "Location",
    ):
        assert header in exposed
    assert "access-control-allow-credentials" not in response.headers  # tokens, not cookies


def test_a_429_is_readable_too(sandbox_factory: Callable[..., Sandbox]) -> None:
    # The rate limiter answers 429 itself; the page must still be able to read it.
    sandbox = sandbox_factory(tier_limits={"standard": 1, "professional": 1, "enterprise": 1})
    first = sandbox.get("/v1/patients?limit=1", headers={"Origin": LOCAL_APP})
    second = sandbox.get("/v1/patients?limit=1", headers={"Origin": LOCAL_APP})
    assert (first.status_code, second.status_code) == (200, 429)
    assert second.headers["access-control-allow-origin"] == LOCAL_APP
    assert "Retry-After" in second.headers["access-control-expose-headers"]


def test_other_origins_get_no_cors_answer(sandbox: Sandbox) -> None:
    refused = preflight(sandbox, "/v1/patients", "https://elsewhere.example")
    assert refused.status_code == 405  # the router's answer, in PIN's envelope
    assert refused.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "access-control-allow-origin" not in refused.headers
    # A simple request is served (the browser, not the server, withholds it).
    served = sandbox.get("/v1/patients?limit=1", headers={"Origin": "https://elsewhere.example"})
    assert served.status_code == 200
    assert "access-control-allow-origin" not in served.headers


def test_exact_origins_replace_the_default(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(cors_origins="https://app.example, https://admin.example/")
    assert preflight(sandbox, "/v1/patients", "https://app.example").status_code == 200
    assert preflight(sandbox, "/v1/patients", "https://admin.example").status_code == 200
    assert preflight(sandbox, "/v1/patients", LOCAL_APP).status_code == 405


def test_star_allows_any_origin(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(cors_origins="*")
    response = preflight(sandbox, "/v1/patients", "https://elsewhere.example")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


def test_none_turns_cors_off(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(cors_origins="none")
    assert preflight(sandbox, "/v1/patients", LOCAL_APP).status_code == 405
    response = sandbox.get("/v1/patients?limit=1", headers={"Origin": LOCAL_APP})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "value", ["localhost:3000", "https://app.example/path", "https://", "http://a b"]
)
def test_settings_refuse_what_is_not_an_origin(value: str) -> None:
    with pytest.raises(ConfigError, match="cors_origins"):
        Settings(cors_origins=value)


def test_cors_origins_from_the_environment() -> None:
    settings = Settings.from_env({"PIN_MOCK_CORS_ORIGINS": "local,https://app.example"})
    assert settings.cors_origins == "local,https://app.example"


@pytest.mark.parametrize(
    "browser_headers",
    [
        {"Sec-Fetch-Mode": "cors", "Origin": LOCAL_APP},
        {"Sec-Fetch-Mode": "same-origin"},
        {"X-Requested-With": "XMLHttpRequest"},  # what Swagger UI's Authorize sends
    ],
)
def test_a_script_with_a_wrong_secret_gets_no_basic_challenge(
    sandbox: Sandbox, browser_headers: dict[str, str]
) -> None:
    response = sandbox.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic("sandbox-standard", "wrong"), **browser_headers},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize("extra", [{}, {"Sec-Fetch-Mode": "navigate"}])
def test_other_callers_keep_rfc_6749s_challenge(sandbox: Sandbox, extra: dict[str, str]) -> None:
    # curl, httpx, generated clients; and a browser's own navigation (a form post),
    # where the browser's dialog is the right answer.
    response = sandbox.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic("sandbox-standard", "wrong"), **extra},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="pin"'


def test_bearer_challenges_reach_scripts(sandbox: Sandbox) -> None:
    response = sandbox.get(
        "/v1/patients", as_client=None, headers={"Sec-Fetch-Mode": "cors", "Origin": LOCAL_APP}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="pin"'


def test_the_serve_flag_reaches_the_settings() -> None:
    from click.testing import CliRunner

    from pin_mock.cli import main

    result = CliRunner().invoke(main, ["serve", "--cors-origins", "local,app.example"])
    assert result.exit_code == 2  # refused before anything starts
    assert "cors_origins: 'app.example' is not an origin" in result.output


@pytest.mark.parametrize(
    "vary",
    [[], [b"Accept-Encoding"], [b"Accept", b"Accept-Encoding"]],
    ids=["none", "one", "two"],
)
def test_an_answer_to_no_origin_varies_on_origin_as_starlettes_layer_makes_it(
    vary: list[bytes],
) -> None:
    """Without an Origin the layer skips Starlette's and adds ``Vary: Origin`` itself:
    the same headers, in the same order, as Starlette's ``CORSMiddleware`` answers."""

    async def app(scope, receive, send) -> None:
        headers = [(b"content-type", b"application/json")]
        headers += [(b"vary", value) for value in vary] + [(b"x-request-id", b"req_1")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    def answer(layer) -> list:
        sent: list = []

        async def receive() -> dict:
            return {"type": "http.request", "body": b""}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/v1/patients", "headers": []}
        asyncio.run(layer(scope, receive, send))
        return sent[0]["headers"]

    ours = answer(CorsMiddleware(app, cors_origins="local"))
    starlettes = answer(CORSMiddleware(app, **cors_options("local")))
    assert ours == starlettes
    assert ours[-1 if not vary else 1][0] == b"vary"
    assert [v for n, v in ours if n == b"vary"] == [b", ".join([*vary, b"Origin"])]


def test_an_api_answer_without_an_origin_varies_on_origin(sandbox: Sandbox) -> None:
    response = sandbox.get("/v1/patients?limit=1")
    assert response.status_code == 200
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in response.headers
