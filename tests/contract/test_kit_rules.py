"""PIN's per-response rules, as pure functions against crafted exchanges."""

from __future__ import annotations

import pytest

from pin_mock.contract import rules
from pin_mock.contract.exchange import ContractViolation

ENVELOPE_404 = {"error": {"code": "NOT_FOUND", "message": "Patient x not found.", "details": {}}}


def test_error_envelope_accepts_pins_envelope(make_exchange):
    rules.error_envelope(make_exchange(404, ENVELOPE_404, template="/v1/patients/{patient_id}"))


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, {"message": "not found"}, "not PIN's error envelope"),
        (400, {"error": "INVALID_PARAMETER"}, "not PIN's error envelope"),
        (500, None, "not PIN's error envelope"),
        (404, {"error": {"code": 404, "message": "x"}}, "must be strings"),
        (404, {"error": {"code": "NOT_FOUND"}}, "must be strings"),
        (
            404,
            {"error": {"code": "NOT_FOUND", "message": "x", "details": ["a"]}},
            "details must be an object",
        ),
        (404, {"error": {"code": "MISSING", "message": "x"}}, "not one of PIN's codes"),
        (
            400,
            {"error": {"code": "NOT_FOUND", "message": "x"}},
            "expected INVALID_PARAMETER or INVALID_REQUEST",
        ),
        (401, {"error": {"code": "FORBIDDEN", "message": "x"}}, "expected UNAUTHORIZED"),
    ],
)
def test_error_envelope_rejects_broken_envelopes(make_exchange, status, body, expected):
    with pytest.raises(ContractViolation, match=expected):
        rules.error_envelope(make_exchange(status, body))


def test_error_envelope_ignores_successes_and_the_token_endpoint(make_exchange):
    rules.error_envelope(make_exchange(200, {"message": "fine"}))
    rules.error_envelope(
        make_exchange(400, {"error": "invalid_request"}, method="POST", template="/oauth/token")
    )


def test_oauth_error_accepts_rfc6749_errors(make_exchange):
    rules.oauth_error(
        make_exchange(
            400,
            {"error": "unsupported_grant_type", "error_description": "x"},
            method="POST",
            template="/oauth/token",
        )
    )
    rules.oauth_error(
        make_exchange(401, {"error": "invalid_client"}, method="POST", template="/oauth/token")
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
        rules.oauth_error(make_exchange(status, body, method="POST", template="/oauth/token"))


def test_oauth_error_wants_a_challenge_after_failed_basic_auth(make_exchange):
    ex = make_exchange(401, {"error": "invalid_client"}, method="POST", template="/oauth/token",
                       request_headers={"Authorization": "Basic eDp5"})  # fmt: skip
    with pytest.raises(ContractViolation, match="WWW-Authenticate"):
        rules.oauth_error(ex)
    ex.headers["www-authenticate"] = ['Basic realm="pin"']
    rules.oauth_error(ex)


def test_token_response_must_not_be_cached(make_exchange):
    token = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600, "scope": "a"}
    good = {"cache-control": ["no-store"], "pragma": ["no-cache"]}
    rules.token_response(
        make_exchange(200, token, method="POST", template="/oauth/token", headers=good)
    )
    with pytest.raises(ContractViolation, match="no-store"):
        rules.token_response(
            make_exchange(200, token, method="POST", template="/oauth/token", headers={})
        )
    with pytest.raises(ContractViolation, match="Pragma"):
        rules.token_response(
            make_exchange(
                200,
                token,
                method="POST",
                template="/oauth/token",
                headers={"cache-control": ["no-store"]},
            )
        )
    with pytest.raises(ContractViolation, match="Bearer"):
        rules.token_response(
            make_exchange(
                200,
                {**token, "token_type": "mac"},
                method="POST",
                template="/oauth/token",
                headers=good,
            )
        )


def test_unauthorized_needs_a_bearer_challenge(make_exchange):
    body = {"error": {"code": "UNAUTHORIZED", "message": "x"}}
    with pytest.raises(ContractViolation, match="without a WWW-Authenticate"):
        rules.unauthorized_challenge(make_exchange(401, body))
    ex = make_exchange(401, body)
    ex.headers["www-authenticate"] = ['Basic realm="pin"']
    with pytest.raises(ContractViolation, match="Bearer challenge"):
        rules.unauthorized_challenge(ex)
    ex.headers["www-authenticate"] = ['Bearer realm="pin"']
    rules.unauthorized_challenge(ex)


def test_resource_identity_wants_the_resource_asked_for(make_exchange):
    template = "/v1/patients/{patient_id}"
    rules.resource_identity(
        make_exchange(
            200, {"id": "patient_1"}, template=template, path_params={"patient_id": "patient_1"}
        )
    )
    with pytest.raises(ContractViolation, match="asked for patient_id='patient_2'"):
        rules.resource_identity(
            make_exchange(
                200, {"id": "patient_1"}, template=template, path_params={"patient_id": "patient_2"}
            )
        )


def test_resource_identity_keeps_entries_under_their_patient(make_exchange):
    template = "/v1/patients/{patient_id}/clinical-data/{entry_id}"
    params = {"patient_id": "patient_1", "entry_id": "cd_1"}
    with pytest.raises(ContractViolation, match="served under"):
        rules.resource_identity(
            make_exchange(
                200,
                {"id": "cd_1", "patient_id": "patient_9"},
                template=template,
                path_params=params,
            )
        )


@pytest.mark.parametrize(
    ("template", "body"),
    [
        ("/v1/webhooks/{webhook_id}", {"id": "wh_1", "secret": "whsec_x"}),
        ("/v1/webhooks", {"data": [{"id": "wh_1", "secret": "whsec_x"}], "pagination": {}}),
    ],
)
def test_webhook_secrets_are_never_shown_again(make_exchange, template, body):
    with pytest.raises(ContractViolation, match="secret"):
        rules.resource_identity(
            make_exchange(200, body, template=template, path_params={"webhook_id": "wh_1"})
        )


def test_created_location_names_the_new_resource(make_exchange):
    headers = {"location": ["/v1/patients/patient_9"]}
    rules.created_location(make_exchange(201, {"id": "patient_9"}, method="POST", headers=headers))
    with pytest.raises(ContractViolation, match="without a Location"):
        rules.created_location(make_exchange(201, {"id": "patient_9"}, method="POST", headers={}))
    with pytest.raises(ContractViolation, match="does not point"):
        rules.created_location(
            make_exchange(201, {"id": "patient_8"}, method="POST", headers=headers)
        )
