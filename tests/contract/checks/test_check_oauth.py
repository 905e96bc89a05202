"""The token endpoint's RFC 6749 errors and uncacheable answers, against crafted exchanges."""

from __future__ import annotations

import pytest

from kit_helpers import SPEC
from pin_mock.contract.checks import oauth
from pin_mock.contract.exchange import ContractViolation


def test_oauth_error_accepts_rfc6749_errors(make_exchange):
    oauth.oauth_error(
        make_exchange(
            400,
            {"error": "unsupported_grant_type", "error_description": "x"},
            method="POST",
            template="/oauth/token",
        ),
        SPEC,
    )
    oauth.oauth_error(
        make_exchange(401, {"error": "invalid_client"}, method="POST", template="/oauth/token"),
        SPEC,
    )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"error": {"code": "UNAUTHORIZED", "message": "x"}}, "not an RFC 6749 error"),
        (400, {"error": "bad_thing"}, "not an RFC 6749 code"),
        (400, {"error": "invalid_request", "error_description": 3}, "must be a string"),
        (401, {"error": "invalid_request"}, "must be invalid_client"),
        (403, {"error": "invalid_client"}, "400 or 401"),
        (500, {"error": "invalid_request"}, "must say server_error"),
    ],
)
def test_oauth_error_rejects_non_rfc6749_errors(make_exchange, status, body, expected):
    with pytest.raises(ContractViolation, match=expected):
        oauth.oauth_error(make_exchange(status, body, method="POST", template="/oauth/token"), SPEC)


def test_oauth_error_wants_a_challenge_after_failed_basic_auth(make_exchange):
    ex = make_exchange(401, {"error": "invalid_client"}, method="POST", template="/oauth/token",
                       request_headers={"Authorization": "Basic eDp5"})  # fmt: skip
    with pytest.raises(ContractViolation, match="WWW-Authenticate"):
        oauth.oauth_error(ex, SPEC)
    ex.headers["www-authenticate"] = ['Basic realm="pin"']
    oauth.oauth_error(ex, SPEC)


def test_token_response_must_not_be_cached(make_exchange):
    token = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600, "scope": "a"}
    good = {"cache-control": ["no-store"], "pragma": ["no-cache"]}
    oauth.token_response(
        make_exchange(200, token, method="POST", template="/oauth/token", headers=good), SPEC
    )
    with pytest.raises(ContractViolation, match="no-store"):
        oauth.token_response(
            make_exchange(200, token, method="POST", template="/oauth/token", headers={}), SPEC
        )
    with pytest.raises(ContractViolation, match="Pragma"):
        oauth.token_response(
            make_exchange(
                200,
                token,
                method="POST",
                template="/oauth/token",
                headers={"cache-control": ["no-store"]},
            ),
            SPEC,
        )
    with pytest.raises(ContractViolation, match="Bearer"):
        oauth.token_response(
            make_exchange(
                200,
                {**token, "token_type": "mac"},
                method="POST",
                template="/oauth/token",
                headers=good,
            ),
            SPEC,
        )
