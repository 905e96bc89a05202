"""The caller: the Authorization header parsed and verified once per request."""

from __future__ import annotations

import jwt
import pytest

import pin_mock.server.domain.auth as auth
from harness import Sandbox
from pin_mock.server.errors import Forbidden, Unauthorized
from pin_mock.server.pipeline.authentication import ANONYMOUS, identify


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token PyJWT is asked to verify, in order."""
    seen: list[str] = []
    real = jwt.decode

    def counting(token: str, *args, **kwargs):
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(auth.jwt, "decode", counting)
    return seen


def test_a_request_verifies_its_token_once_and_later_requests_not_at_all(
    sandbox: Sandbox, decodes: list[str]
) -> None:
    token = sandbox.token("sandbox-standard")
    headers = {"Authorization": f"Bearer {token}", "Prefer": "delay=0"}
    # Rate limiter, Prefer layer and operation layer all need the caller.
    assert sandbox.get("/v1/patients?limit=1", as_client=None, headers=headers).status_code == 200
    assert sandbox.get("/v1/patients?limit=1", as_client=None, headers=headers).status_code == 200
    assert decodes == [token]


def test_a_refused_token_is_remembered_too(sandbox: Sandbox, decodes: list[str]) -> None:
    forged = jwt.encode(
        {"sub": "sandbox-standard"},
        "not-the-sandbox-signing-key-but-long-enough",
        algorithm="HS256",
        headers={"kid": "0"},  # the sandbox's current key (never rotated), so it is checked
    )
    for _ in range(3):
        response = sandbox.get(
            "/v1/patients", as_client=None, headers={"Authorization": f"Bearer {forged}"}
        )
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert decodes == [forged]


def test_two_authorization_headers_are_refused_and_charged_to_one_caller(
    sandbox_factory,
) -> None:
    # Two Authorization headers are 400; the limiter and every other layer judge
    # the same (last) one, so a spent budget cannot be dodged with a junk header first.
    sandbox = sandbox_factory(tier_limits={"standard": 2, "professional": 2, "enterprise": 2})
    token = sandbox.token("sandbox-standard")
    headers = [("Authorization", "Bearer junk"), ("Authorization", f"Bearer {token}")]
    answers = [sandbox.get("/v1/patients?limit=1", headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert answers[0].json()["error"]["details"] == {"header": "Authorization", "count": 2}
    plain = sandbox.get("/v1/patients?limit=1", as_client="sandbox-standard")
    assert plain.status_code == 429  # the same client's budget was spent


def test_identify_and_require(sandbox: Sandbox) -> None:
    tokens = sandbox.services.tokens
    assert identify("", tokens) is ANONYMOUS
    with pytest.raises(Unauthorized) as missing:
        ANONYMOUS.require(["patients:read"])
    assert missing.value.headers["WWW-Authenticate"] == 'Bearer realm="pin"'
    basic = identify("Basic Zm9vOmJhcg==", tokens)
    assert basic.authorization == "Basic Zm9vOmJhcg==" and basic.client_id is None
    assert ANONYMOUS.require(None) == {}  # a public operation
    empty = identify("Bearer ", tokens)
    with pytest.raises(Unauthorized, match="missing, malformed"):
        empty.require([])
    good = identify(f"Bearer {sandbox.token('sandbox-readonly')}", tokens)
    assert good.client_id == "sandbox-readonly" and good.tier == "standard"
    assert good.require(["patients:read"])["sub"] == "sandbox-readonly"
    with pytest.raises(Forbidden):
        good.require(["patients:write"])
