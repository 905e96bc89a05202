"""OAuth 2.0 client credentials, JWT verification and scopes."""

from __future__ import annotations

import base64
import time

import jwt
import pytest

from harness import Sandbox

FORM = {
    "grant_type": "client_credentials",
    "client_id": "sandbox-standard",
    "client_secret": "sandbox-standard-secret",
}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_token_with_form_credentials(sandbox: Sandbox) -> None:
    response = sandbox.http.post("/oauth/token", data=FORM)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert "patients:write" in body["scope"].split()
    assert response.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "sandbox-standard" and claims["tier"] == "standard"
    assert claims["exp"] - claims["iat"] == 3600 and claims["jti"]


def test_token_with_http_basic(sandbox: Sandbox) -> None:
    response = sandbox.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic("sandbox-readonly", "sandbox-readonly-secret")},
    )
    assert response.status_code == 200
    assert "patients:write" not in response.json()["scope"].split()


def test_token_scope_subset_is_granted(sandbox: Sandbox) -> None:
    response = sandbox.http.post("/oauth/token", data={**FORM, "scope": "patients:read"})
    assert response.json()["scope"] == "patients:read"


@pytest.mark.parametrize(
    ("form", "headers", "status", "error"),
    [
        ({**FORM, "client_secret": "wrong"}, {}, 401, "invalid_client"),
        ({**FORM, "client_id": "nobody"}, {}, 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, {}, 401, "invalid_client"),
        ({k: v for k, v in FORM.items() if k != "grant_type"}, {}, 400, "invalid_request"),
        ({**FORM, "grant_type": "password"}, {}, 400, "unsupported_grant_type"),
        ({**FORM, "scope": "patients:read admin"}, {}, 400, "invalid_scope"),
        (
            FORM,
            {"Authorization": basic("sandbox-standard", "sandbox-standard-secret")},
            400,
            "invalid_request",
        ),
        ({**FORM, "unexpected": "1"}, {}, 400, "invalid_request"),
    ],
    ids=[
        "bad-secret",
        "unknown-client",
        "no-credentials",
        "no-grant-type",
        "unsupported-grant",
        "scope-beyond-client",
        "two-auth-methods",
        "extra-field",
    ],
)
def test_token_errors_follow_rfc6749(
    sandbox: Sandbox, form: dict, headers: dict, status: int, error: str
) -> None:
    response = sandbox.http.post("/oauth/token", data=form, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


@pytest.mark.parametrize("client_id", ["\u008c\u00c6\x00\u00e6", "sandbox-standard"])
def test_non_ascii_credentials_are_invalid_client_not_500(sandbox: Sandbox, client_id: str) -> None:
    # found by the contract kit: the constant-time compare refused non-ASCII str
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "\u00f9q9"}
    response = sandbox.http.post("/oauth/token", data=form)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_invalid_client_over_basic_is_401_with_basic_challenge(sandbox: Sandbox) -> None:
    response = sandbox.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic("sandbox-standard", "nope")},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


def test_token_endpoint_refuses_json_body(sandbox: Sandbox) -> None:
    response = sandbox.http.post("/oauth/token", json=FORM)
    assert response.status_code == 415
    assert response.json()["error"] == "invalid_request"


def test_missing_token_is_401_with_bare_bearer_challenge(sandbox: Sandbox) -> None:
    response = sandbox.get("/v1/patients", as_client=None)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"] == 'Bearer realm="pin"'


def _forged(sandbox: Sandbox, **changes: object) -> str:
    claims = jwt.decode(sandbox.token(), options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, "another-key-entirely-32-bytes-long!", algorithm="HS256")


@pytest.mark.parametrize("kind", ["garbage", "forged", "alg-none", "expired-signed-elsewhere"])
def test_bad_token_is_401_with_invalid_token_challenge(sandbox: Sandbox, kind: str) -> None:
    claims = jwt.decode(sandbox.token(), options={"verify_signature": False})
    token = {
        "garbage": "not-a-jwt",
        "forged": _forged(sandbox),
        "alg-none": jwt.encode(claims, None, algorithm="none"),
        "expired-signed-elsewhere": _forged(sandbox, exp=int(time.time()) - 10),
    }[kind]
    response = sandbox.get(
        "/v1/patients", as_client=None, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_expired_token_is_401_with_www_authenticate(sandbox_factory) -> None:
    offset = [0.0]
    sandbox = sandbox_factory(clock=lambda: time.time() + offset[0], token_ttl=60)
    token = sandbox.token("sandbox-standard")
    assert sandbox.get("/v1/patients", as_client="sandbox-standard").status_code == 200
    offset[0] = 61.0  # the sandbox's clock moves past the token's exp
    response = sandbox.get(
        "/v1/patients", as_client=None, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_missing_scope_is_403_naming_required_scope(sandbox: Sandbox) -> None:
    response = sandbox.post(
        "/v1/patients",
        as_client="sandbox-readonly",
        json={"name": "Jane Smith", "date_of_birth": "1985-05-20"},
    )
    assert response.status_code == 403
    body = response.json()["error"]
    assert body["code"] == "FORBIDDEN"
    assert body["details"]["required_scope"] == "patients:write"


def test_token_restricted_by_scope_cannot_use_other_operations(sandbox: Sandbox) -> None:
    token = sandbox.token("sandbox-enterprise", scope="patients:read")
    response = sandbox.get(
        "/v1/analytics/population-health",
        as_client=None,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_scope"] == "analytics:read"
