"""RFC 6750 challenges on 401s, the named missing scope on 403s, X-Request-Id on errors."""

from __future__ import annotations

import pytest

from kit_helpers import SPEC, rate_headers, revised_spec
from pin_mock.contract.checks.challenges import bearer_error, challenge_error, forbidden_scope
from pin_mock.contract.checks.tracing import documents_request_id, error_request_id
from pin_mock.contract.exchange import ContractViolation
from pin_mock.contract.spec import Spec

UNAUTHORIZED = {"error": {"code": "UNAUTHORIZED", "message": "x", "details": {}}}


def forbidden(required: str | None) -> dict:
    details = {"required_scope": required} if required else {}
    return {"error": {"code": "FORBIDDEN", "message": "x", "details": details}}


@pytest.mark.parametrize(
    ("challenge", "error"),
    [('Bearer realm="pin", error="invalid_token"', "invalid_token"), ('Bearer realm="pin"', None),
     ("Bearer error=insufficient_scope, scope=x", "insufficient_scope")],
)  # fmt: skip
def test_challenge_error_reads_the_attribute(challenge, error):
    assert challenge_error(challenge) == error


def challenged(make_exchange, challenge, sent):
    headers = {**rate_headers(), "www-authenticate": [challenge]}
    request = {"authorization": sent} if sent else {}
    return make_exchange(401, UNAUTHORIZED, headers=headers, request_headers=request)


def test_a_bad_token_is_named_and_a_missing_one_is_not(make_exchange):
    bearer_error(
        challenged(make_exchange, 'Bearer realm="pin", error="invalid_token"', "Bearer x"), SPEC
    )
    bearer_error(challenged(make_exchange, 'Bearer realm="pin"', None), SPEC)
    with pytest.raises(ContractViolation, match="invalid_token"):
        bearer_error(challenged(make_exchange, 'Bearer realm="pin"', "Bearer x"), SPEC)
    with pytest.raises(ContractViolation, match="no error code"):
        bearer_error(challenged(make_exchange, 'Bearer error="invalid_token"', None), SPEC)


def test_a_403_names_the_operations_scope(make_exchange):
    good = {**rate_headers(), "www-authenticate": ['Bearer error="insufficient_scope"']}
    make = lambda body, headers=good: make_exchange(403, body, method="POST", headers=headers)  # noqa: E731
    forbidden_scope(make(forbidden("patients:write")), SPEC)
    with pytest.raises(ContractViolation, match="without details.required_scope"):
        forbidden_scope(make(forbidden(None)), SPEC)
    with pytest.raises(ContractViolation, match="requires patients:write"):
        forbidden_scope(make(forbidden("patients:read")), SPEC)
    with pytest.raises(ContractViolation, match="insufficient_scope"):
        forbidden_scope(make(forbidden("patients:write"), rate_headers()), SPEC)


def test_errors_carry_x_request_id_where_the_spec_documents_it(make_exchange, tmp_path):
    def document(spec: dict) -> None:
        spec["components"]["headers"]["X-Request-Id"] = {"schema": {"type": "string"}}

    revised = Spec.load(revised_spec(tmp_path, document))
    assert documents_request_id(revised) and not documents_request_id(SPEC)
    bare = make_exchange(404, {"error": {"code": "NOT_FOUND", "message": "x", "details": {}}})
    error_request_id(bare, SPEC)  # the bundled spec does not name the header
    with pytest.raises(ContractViolation, match="X-Request-Id"):
        error_request_id(bare, revised)
    traced = {**rate_headers(), "x-request-id": ["req_1"]}
    error_request_id(make_exchange(404, {"error": {}}, headers=traced), revised)
