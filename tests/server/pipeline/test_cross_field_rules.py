"""The spec's ``x-cross-field-rules``, enforced by the sandbox (``validation.check_cross_field``)."""

from __future__ import annotations

import pytest

from pin_mock.server.errors import InvalidParameter
from pin_mock.server.pipeline.validation import check_cross_field
from spec_conformance import spec

RULES = {
    op["operationId"]: op.get("x-cross-field-rules", [])
    for item in spec()["paths"].values()
    for op in item.values()
    if isinstance(op, dict) and "operationId" in op
}


def _refusal(rules: list, query: dict, body: object) -> InvalidParameter | None:
    try:
        check_cross_field(rules, query, body)
    except InvalidParameter as error:
        return error
    return None


@pytest.mark.parametrize("operation", ["listClinicalData", "getOutcomes"])
def test_a_backwards_query_range_names_start_date(operation: str) -> None:
    error = _refusal(RULES[operation], {"start_date": "2024-06-30", "end_date": "2024-01-01"}, None)
    assert error is not None and error.details["parameter"] == "start_date"
    assert (
        _refusal(RULES[operation], {"start_date": "2024-01-01", "end_date": "2024-01-01"}, None)
        is None
    )
    assert _refusal(RULES[operation], {"start_date": "2024-06-30"}, None) is None


def test_a_medication_that_ends_before_it_starts_names_its_end() -> None:
    value = {"start_date": "2024-03-01", "end_date": "2024-02-01"}
    error = _refusal(RULES["addClinicalData"], {}, {"data_type": "medications", "value": value})
    assert error is not None and error.details["parameter"] == "value.end_date"
    # The rule applies to medications only.
    assert _refusal(RULES["addClinicalData"], {}, {"data_type": "vitals", "value": value}) is None


def test_report_rules() -> None:
    rules = RULES["createReport"]
    error = _refusal(rules, {}, {"type": "patient_summary", "format": "pdf"})
    assert error is not None and error.details["parameter"] == "parameters.patient_id"
    assert "needs parameters.patient_id" in error.message
    population = {"type": "population_health", "format": "csv", "parameters": {"patient_id": "p"}}
    error = _refusal(rules, {}, population)
    assert error is not None and error.details["value"] == "p"
    backwards = {"start_date": "2024-06-30", "end_date": "2024-01-01"}
    error = _refusal(rules, {}, {"type": "outcomes", "format": "pdf", "parameters": backwards})
    assert error is not None and error.details["parameter"] == "parameters.start_date"
    assert _refusal(rules, {}, {"type": "outcomes", "format": "pdf"}) is None
