"""The pure parts of the blind-spot probes: URLs made safe, token claims, media types, callbacks."""

from __future__ import annotations

import base64
import json

import pytest

from kit_helpers import SPEC
from pin_mock.contract.probes.deliveries import callback_schemas, schema_errors
from pin_mock.contract.probes.framework import safe
from pin_mock.contract.probes.reports import media_type_for
from pin_mock.contract.probes.scopes import jwt_claims
from pin_mock.contract.probes.webhooks import is_local
from pin_mock.contract.safe_urls import INVALID_URL as SAFE_URL


def _jwt(claims: dict) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{part}.c2ln"


def test_every_url_a_probe_sends_is_reserved():
    body = {
        "url": "https://your-app.com/webhook",
        "nested": [{"url": "http://0.com"}],
        "events": ["a"],
    }
    made = safe(body)
    assert made == {"url": SAFE_URL, "nested": [{"url": SAFE_URL}], "events": ["a"]}
    assert SAFE_URL.split("/")[2].endswith(".invalid")  # RFC 2606: never resolves


def test_jwt_claims_are_read_without_verification():
    assert jwt_claims(_jwt({"exp": 10, "iat": 4}))["exp"] == 10
    assert jwt_claims("opaque") is None and jwt_claims("a.!!!.c") is None


@pytest.mark.parametrize(("fmt", "media_type"), [("pdf", "application/pdf"), ("csv", "text/csv"),
                                                 ("json", "application/json"), ("xml", None)])  # fmt: skip
def test_a_formats_media_type_comes_from_the_spec(fmt, media_type):
    assert media_type_for(SPEC.by_id("downloadReport"), fmt) == media_type


def test_local_targets_are_loopback_only():
    assert (
        is_local("http://127.0.0.1:8080")
        and is_local("http://localhost")
        and is_local("http://[::1]:1")
    )
    assert not is_local("https://staging.example.com") and not is_local("http://10.0.0.5")


def test_callback_payloads_are_judged_by_the_spec():
    schemas = callback_schemas(SPEC)
    assert {"patient.created", "clinical_data.updated", "report.completed", "report.failed"} <= set(
        schemas
    )
    good = {"id": "msg_1", "type": "patient.created", "created_at": "2024-01-01T00:00:00Z",
            "data": {"patient_id": "patient_1", "links": {"self": "/v1/patients/patient_1"}}}  # fmt: skip
    assert schema_errors(schemas["patient.created"], good) == []
    broken = {**good, "data": {"links": {}}}
    assert any("patient_id" in e for e in schema_errors(schemas["patient.created"], broken))
