"""The kit follows the spec it is given: a revised ``pin.yaml`` changes what it judges, unchanged.

Each test feeds a modified copy of the bundled spec (an extra enum value, a
larger page, a new error code, a new scope) and sees the kit's rules, its
Schemathesis checks and its probes follow it.
"""

from __future__ import annotations

import base64
import json
import time

import requests
import schemathesis

from kit_helpers import SPEC, rate_headers, revised_spec
from pin_mock.contract.checks import envelope, filters, paging
from pin_mock.contract.checks.schemathesis_checks import SCHEMATHESIS_CHECKS
from pin_mock.contract.exchange import ContractViolation, Exchange
from pin_mock.contract.probes.auth import forged_token
from pin_mock.contract.spec import Spec


def _schemas(spec):
    return spec["components"]["schemas"]


def with_archived_reports(spec):
    _schemas(spec)["ReportStatus"]["enum"].append("archived")


def with_pages_of_200(spec):
    spec["components"]["parameters"]["Limit"]["schema"]["maximum"] = 200


def with_a_teapot(spec):
    _schemas(spec)["ErrorCode"]["enum"].append("TEAPOT")  # Error -> ErrorBody -> ErrorCode
    spec["paths"]["/v1/patients"]["get"]["responses"]["418"] = {
        "description": "A teapot.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "example": {"error": {"code": "TEAPOT", "message": "short and stout"}},
            }
        },
    }


def with_an_audit_scope(spec):
    flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]
    flows["clientCredentials"]["scopes"]["audit:read"] = "Read the audit log."


def reports(status, *items):
    body = {"data": list(items), "pagination": {"page": 1, "limit": 50, "total": len(items)}}
    return Exchange("GET", f"http://pin.test/v1/reports?status={status}", 200, rate_headers(),
                    json.dumps(body).encode(), template="/v1/reports")  # fmt: skip


def violates(rule, ex, spec) -> bool:
    try:
        rule(ex, spec)
    except ContractViolation:
        return True
    return False


def test_a_new_enum_value_is_judged_by_the_filter(tmp_path):
    revised = Spec.load(revised_spec(tmp_path, with_archived_reports))
    wrong = reports("archived", {"id": "r1", "status": "completed"})
    assert not violates(filters.report_status_filter, wrong, SPEC)  # not a value of PIN's spec
    assert violates(filters.report_status_filter, wrong, revised)


def test_a_larger_maximum_is_judged_by_paging(tmp_path):
    revised = Spec.load(revised_spec(tmp_path, with_pages_of_200))
    body = {"data": [{"id": f"p{i}"} for i in range(150)], "pagination": {"page": 1, "limit": 100, "total": 400}}  # fmt: skip
    ex = Exchange("GET", "http://pin.test/v1/patients?limit=150", 200, rate_headers(),
                  json.dumps(body).encode(), template="/v1/patients")  # fmt: skip
    assert not violates(paging.paging, ex, SPEC)  # limit=150 is invalid there: not paging's call
    assert violates(paging.paging, ex, revised)


def test_a_new_error_code_and_its_status_are_accepted(tmp_path):
    revised = Spec.load(revised_spec(tmp_path, with_a_teapot))
    body = {"error": {"code": "TEAPOT", "message": "short and stout"}}
    ex = Exchange("GET", "http://pin.test/v1/patients", 418, rate_headers(),
                  json.dumps(body).encode(), template="/v1/patients")  # fmt: skip
    assert violates(envelope.error_envelope, ex, SPEC)
    envelope.error_envelope(ex, revised)
    assert envelope.codes_for_status(revised, 418) == {"TEAPOT"}


def test_forged_tokens_claim_the_revised_scopes(tmp_path):
    revised = Spec.load(revised_spec(tmp_path, with_an_audit_scope))
    assert "audit:read" in revised.scopes and "audit:read" not in SPEC.scopes
    claims = forged_token("client", revised.scopes).split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert "audit:read" in decoded["scope"].split()


def test_the_schemathesis_check_reads_the_spec_schemathesis_loaded(tmp_path):
    path = revised_spec(tmp_path, with_archived_reports)
    schema = schemathesis.openapi.from_path(
        path, config=schemathesis.Config.from_dict({"base-url": "http://pin.test"})
    )
    case = schema["/v1/reports"]["GET"].Case(query={"status": "archived"})
    request = requests.Request("GET", "http://pin.test/v1/reports", params=case.query).prepare()
    body = {"data": [{"id": "r1", "status": "completed"}], "pagination": {"page": 1, "limit": 50, "total": 1}}  # fmt: skip
    headers = {"content-type": ["application/json"]} | rate_headers(reset=int(time.time()) + 3600)
    response = schemathesis.Response(200, headers, json.dumps(body).encode(), request, 0.01, True)
    check = SCHEMATHESIS_CHECKS["pin_report_status_filter"]
    try:
        check(None, response, case)
    except AssertionError as exc:
        assert "status=archived listed report 'r1'" in str(exc)
    else:
        raise AssertionError("the check ignored the revised spec's status")
