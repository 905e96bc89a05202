"""The error envelope and the Bearer challenge, against crafted exchanges."""

from __future__ import annotations

import pytest

from kit_helpers import SPEC
from pin_mock.contract.checks import envelope
from pin_mock.contract.exchange import ContractViolation

ENVELOPE_404 = {"error": {"code": "NOT_FOUND", "message": "Patient x not found.", "details": {}}}


def test_error_envelope_accepts_pins_envelope(make_exchange):
    envelope.error_envelope(
        make_exchange(404, ENVELOPE_404, template="/v1/patients/{patient_id}"), SPEC
    )


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
        envelope.error_envelope(make_exchange(status, body), SPEC)


def test_error_envelope_ignores_successes_and_the_token_endpoint(make_exchange):
    envelope.error_envelope(make_exchange(200, {"message": "fine"}), SPEC)
    envelope.error_envelope(
        make_exchange(400, {"error": "invalid_request"}, method="POST", template="/oauth/token"),
        SPEC,
    )


def test_unauthorized_needs_a_bearer_challenge(make_exchange):
    body = {"error": {"code": "UNAUTHORIZED", "message": "x"}}
    with pytest.raises(ContractViolation, match="without a WWW-Authenticate"):
        envelope.unauthorized_challenge(make_exchange(401, body), SPEC)
    ex = make_exchange(401, body)
    ex.headers["www-authenticate"] = ['Basic realm="pin"']
    with pytest.raises(ContractViolation, match="Bearer challenge"):
        envelope.unauthorized_challenge(ex, SPEC)
    ex.headers["www-authenticate"] = ['Bearer realm="pin"']
    envelope.unauthorized_challenge(ex, SPEC)
