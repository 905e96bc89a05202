"""Hostile input: every malformed, oversized or poisoned request is a clear 4xx that
changes nothing, and no stored value can make a later read fail.

OWASP API Security Top 10 (2023):
- API4:2023 Unrestricted Resource Consumption: body and header limits, JSON depth,
  numbers beyond their type, analytics periods bounded by the date range;
- API8:2023 Security Misconfiguration: never a 500 or a plain-text answer for a
  client's mistake, errors that do not echo the input whole, no-store/nosniff, no
  redirect built from the Host header;
- API3:2023 Broken Object Property Level Authorization (what is stored): text that
  cannot be served back (lone surrogates, control characters) is refused, so one
  stored value cannot poison a tenant.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness import Sandbox

PATIENT = {"name": "Ann Lee", "date_of_birth": "1990-02-03"}
ENTRY = "/v1/patients/patient_123/clinical-data"

#: Every write operation with a body, and a valid body for it.
WRITES: dict[str, tuple[str, dict[str, Any]]] = {
    "createPatient": ("/v1/patients", PATIENT),
    "addClinicalData": (
        ENTRY,
        {"data_type": "vitals", "value": {"name": "pulse", "value": 70, "unit": "/min"}},
    ),
    "createReport": ("/v1/reports", {"type": "population_health", "format": "json"}),
    "createWebhook": (
        "/v1/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": ["patient.created"]},
    ),
}


def raw_post(sandbox: Sandbox, url: str, content: bytes, **headers: str):
    return sandbox.post(
        url, content=content, headers={"Content-Type": "application/json", **headers}
    )


def snapshot(sandbox: Sandbox, client_id: str = "sandbox-enterprise") -> tuple:
    """What the client holds, on either engine (the store's counts and version, the API's lists)."""
    store = sandbox.services.store

    async def held() -> tuple:
        return await store.usage(client_id), await store.tenants.version(client_id)

    usage, version = sandbox.http.portal.call(held)
    reports = sandbox.get("/v1/reports?limit=1", as_client=client_id).json()
    webhooks = sandbox.get("/v1/webhooks?limit=100", as_client=client_id).json()
    return (
        usage["patients"],
        usage["entries"],
        reports["pagination"]["total"],
        len(webhooks["data"]),
        version,
    )


def poisoned_bodies(valid: dict[str, Any]) -> list[bytes]:
    """Variants of a valid body that must each be refused."""
    text = json.dumps(valid)
    first_key = next(iter(valid))
    return [
        text.replace("{", '{"x": "\\ud800", ', 1).encode(),  # a lone surrogate in a key's value
        json.dumps({**valid, first_key: "\ud800"}, ensure_ascii=True).encode(),
        json.dumps({**valid, first_key: "A\u0000B"}).encode(),  # a control character
        b"[" * 40 + b"]" * 40,  # nested beyond the depth limit
        b'{"a": ' + b"1" * 5000 + b"}",  # a 5,000-digit number
        b'{"a": NaN}',
        b'{"a": 1e400}',
        b"\xff\xfe",  # not UTF-8
    ]


@pytest.mark.parametrize("operation", sorted(WRITES))
def test_a_refused_write_changes_nothing_and_announces_nothing(
    sandbox: Sandbox, operation: str
) -> None:
    url, valid = WRITES[operation]
    events: list[tuple] = []
    sandbox.services.events.subscribe(lambda *event: events.append(event))
    before = snapshot(sandbox)
    for content in poisoned_bodies(valid):
        response = raw_post(sandbox, url, content)
        assert 400 <= response.status_code < 500, (content[:60], response.text[:200])
        assert response.json()["error"]["code"] in {"INVALID_REQUEST", "INVALID_PARAMETER"}
    assert snapshot(sandbox) == before
    assert events == []
    # and the valid body still works afterwards
    assert raw_post(sandbox, url, json.dumps(valid).encode()).status_code in (201, 202)


def test_a_lone_surrogate_in_a_name_is_400_and_the_tenant_stays_readable(
    sandbox: Sandbox,
) -> None:
    content = json.dumps({**PATIENT, "name": "\ud800"}, ensure_ascii=True).encode()
    assert raw_post(sandbox, "/v1/patients", content).status_code == 400
    assert sandbox.get("/v1/patients?limit=100&page=2").status_code == 200
    assert sandbox.get("/v1/patients?search=%ED%A0%80").status_code == 200


def test_an_unencodable_value_still_answers_the_envelope_not_plain_text(
    sandbox: Sandbox,
) -> None:
    response = raw_post(sandbox, "/v1/patients", b'{"gender": "\\udc00"}')
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] and response.headers["x-ratelimit-limit"]


@pytest.mark.parametrize("charset", ["punycode", "undefined", "utf-16", '"utf-32"'])
def test_a_charset_other_than_utf8_is_415(sandbox: Sandbox, charset: str) -> None:
    response = sandbox.post(
        "/v1/patients",
        content=json.dumps(PATIENT).encode(),
        headers={"Content-Type": f"application/json; charset={charset}"},
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_utf8_named_in_any_spelling_is_accepted(sandbox: Sandbox) -> None:
    for charset in ("UTF-8", "utf8", '"utf-8"'):
        response = sandbox.post(
            "/v1/patients",
            content=json.dumps(PATIENT).encode(),
            headers={"Content-Type": f"application/json; charset={charset}; q=1"},
        )
        assert response.status_code == 201, charset


def test_a_body_over_the_limit_is_413_from_its_length_before_it_is_read(
    sandbox_factory,
) -> None:
    sandbox = sandbox_factory(max_body_bytes=1000)
    before = snapshot(sandbox)
    big = json.dumps({**PATIENT, "name": "x" * 5000}).encode()
    response = raw_post(sandbox, "/v1/patients", big)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE" and error["details"] == {"limit_bytes": 1000}
    assert len(response.content) < 300  # the body is not echoed
    assert snapshot(sandbox) == before


def test_a_streamed_body_over_the_limit_is_413_too(sandbox_factory) -> None:
    sandbox = sandbox_factory(max_body_bytes=1000)

    def chunks():  # no Content-Length: the body streams in pieces
        yield b'{"name": "'
        for _ in range(50):
            yield b"x" * 100
        yield b'", "date_of_birth": "1990-02-03"}'

    response = sandbox.post(
        "/v1/patients", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_the_token_form_has_the_same_limit(sandbox_factory) -> None:
    sandbox = sandbox_factory(max_body_bytes=1000)
    response = sandbox.http.post("/oauth/token", data={"grant_type": "x" * 5000})
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


def test_an_oversized_value_is_quoted_short_with_its_length(sandbox: Sandbox) -> None:
    response = sandbox.post("/v1/patients", json={**PATIENT, "name": "y" * 500_000})
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details["parameter"] == "name"
    assert details["value"] == "y" * 100 and details["value_length"] == 500_000
    assert len(response.content) < 1000


def test_too_many_or_too_large_headers_are_431(sandbox_factory) -> None:
    sandbox = sandbox_factory(max_header_fields=20, max_header_bytes=2000)
    many = [(f"x-h{i}", "1") for i in range(30)]
    response = sandbox.get("/v1/patients", as_client=None, headers=many)
    assert response.status_code == 431
    assert response.json()["error"]["code"] == "HEADERS_TOO_LARGE"
    large = sandbox.get("/v1/patients", as_client=None, headers={"x-big": "z" * 3000})
    assert large.status_code == 431


@pytest.mark.parametrize("limit", ["%2010", "10%20", "%D9%A1%D9%A0", "1_0", "+10"])
def test_integers_are_plain_ascii_digits(sandbox: Sandbox, limit: str) -> None:
    response = sandbox.get(f"/v1/patients?limit={limit}")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["parameter"] == "limit"


def test_a_repeated_query_parameter_is_400(sandbox: Sandbox) -> None:
    response = sandbox.get("/v1/patients?limit=1&limit=100")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["parameter"] == "limit"


def test_a_repeated_token_form_field_is_400(sandbox: Sandbox) -> None:
    form = (
        "grant_type=client_credentials&client_id=sandbox-standard"
        "&client_secret=sandbox-standard-secret&client_secret=other"
    )
    response = sandbox.http.post(
        "/oauth/token",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({**PATIENT, "date_of_birth": "1899-12-31"}, "date_of_birth"),
        ({**PATIENT, "date_of_birth": "2101-01-01"}, "date_of_birth"),
    ],
)
def test_dates_outside_the_documented_range_are_400(
    sandbox: Sandbox, body: dict, parameter: str
) -> None:
    response = sandbox.post("/v1/patients", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["parameter"] == parameter


def test_a_far_future_entry_cannot_poison_the_tenants_analytics(sandbox: Sandbox) -> None:
    far = {
        "data_type": "pain_scores",
        "recorded_at": "9999-12-01T00:00:00Z",
        "value": {"score": 5},
    }
    assert sandbox.post(ENTRY, json=far).status_code == 400
    edge = {**far, "recorded_at": "2100-12-31T00:00:00Z"}
    old = {**far, "recorded_at": "1900-01-01T00:00:00Z"}
    assert sandbox.post(ENTRY, json=edge).status_code == 201
    assert sandbox.post(ENTRY, json=old).status_code == 201
    # The widest trend the date range allows stays bounded (about 10,500 weeks).
    weekly = sandbox.get("/v1/analytics/outcomes?interval=week")
    assert weekly.status_code == 200
    assert len(weekly.json()["trend"]) <= 10_500
    assert len(weekly.content) < 2_000_000
    report = sandbox.post("/v1/reports", json={"type": "outcomes", "format": "csv"})
    assert report.status_code == 202


def test_api_answers_are_not_cached_or_sniffed(sandbox: Sandbox) -> None:
    for response in (
        sandbox.get("/v1/patients?limit=1"),
        sandbox.get("/v1/patients/nobody"),
        sandbox.get("/v1/patients", as_client=None),
    ):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_a_trailing_slash_is_served_not_redirected_from_the_host_header(
    sandbox: Sandbox,
) -> None:
    response = sandbox.get(
        "/v1/patients/",
        headers={"Host": "evil.example"},
        follow_redirects=False,
        check=False,  # the harness finds no spec path with the slash; the answer is listPatients'
    )
    assert response.status_code == 200
    assert "location" not in response.headers
    assert response.json()["pagination"]["total"] == 150


def test_a_bug_in_a_handler_still_answers_the_envelope(sandbox: Sandbox, monkeypatch) -> None:
    import pin_mock.server.handlers.patients as patients

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    # list_patients calls summary() per row at request time, so patching it breaks the handler.
    monkeypatch.setattr(patients, "summary", broken)
    response = sandbox.get("/v1/patients?limit=1")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "INTERNAL_ERROR", "message": "An internal error occurred.", "details": {}}
    }
    assert response.headers["x-request-id"] and response.headers["x-ratelimit-remaining"]
    assert "a bug" not in response.text


def test_a_bug_in_the_error_layer_still_answers_the_envelope(sandbox: Sandbox, monkeypatch) -> None:
    import pin_mock.server.pipeline.exception_handlers as error_handlers

    def broken(*args, **kwargs):
        raise RuntimeError("the error layer itself fails")

    monkeypatch.setattr(error_handlers, "_response", broken)
    response = sandbox.get("/v1/patients/nobody")  # a 404, rendered by the broken layer
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert response.headers["x-request-id"]


def test_a_lone_surrogate_in_a_webhook_description_is_400_and_the_list_stays_readable(
    sandbox: Sandbox,
) -> None:
    body = {
        "url": "http://127.0.0.1:9/hook",
        "events": ["patient.created"],
        "description": "\ud800",
    }
    response = raw_post(sandbox, "/v1/webhooks", json.dumps(body, ensure_ascii=True).encode())
    assert response.status_code == 400
    assert sandbox.get("/v1/webhooks").status_code == 200
    assert sandbox.get("/v1/webhooks").json()["data"] == []


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"a": 1e400}', "infinity"),
        (b'{"a": -1e400}', "infinity"),
        (b'{"a": NaN}', "not valid JSON"),
        (b'{"a": Infinity}', "not valid JSON"),
        (b'{"a": ' + b"1" * 5000 + b"}", "not valid JSON"),
        (b'{"a": ' + b"[" * 33 + b"]" * 33 + b"}", "deeper than 32"),
        (b'{"a": "\\ud800"}', "not valid JSON"),
    ],
)
def test_the_body_parser_refuses_what_json_cannot_carry_back(content: bytes, fragment: str) -> None:
    # Unit-level: each refusal is the parser's own, not an unknown-field error.
    from pin_mock.server.errors import ApiError
    from pin_mock.server.pipeline.validation import parse_json_body

    with pytest.raises(ApiError) as refused:
        parse_json_body(content)
    assert refused.value.status == 400
    assert fragment in refused.value.message
