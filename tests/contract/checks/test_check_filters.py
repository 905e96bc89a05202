"""The documented filters of list answers, against crafted list answers."""

from __future__ import annotations

import pytest

from kit_helpers import SPEC
from pin_mock.contract.checks import filters
from pin_mock.contract.exchange import ContractViolation


def test_search_results_must_contain_the_term(make_exchange):
    body = {
        "data": [
            {"id": "patient_1", "name": "John Doe"},
            {"id": "patient_2", "name": "Mary JOHNSON"},
        ],
        "pagination": {},
    }
    filters.patient_search(make_exchange(200, body, query={"search": "john"}), SPEC)
    filters.patient_search(
        make_exchange(
            200,
            {"data": [{"id": "patient_12", "name": "A"}], "pagination": {}},
            query={"search": "T_1"},
        ),
        SPEC,
    )
    with pytest.raises(ContractViolation, match="does not match"):
        filters.patient_search(make_exchange(200, body, query={"search": "doe"}), SPEC)


def test_search_accepts_a_trimmed_term(make_exchange):
    body = {"data": [{"id": "patient_1", "name": "John Doe"}], "pagination": {}}
    filters.patient_search(make_exchange(200, body, query={"search": " john "}), SPEC)


CLINICAL = "/v1/patients/{patient_id}/clinical-data"


def entry(ident, when, data_type="pain_scores", patient="patient_1"):
    return {
        "id": ident,
        "patient_id": patient,
        "data_type": data_type,
        "recorded_at": when,
        "value": {},
    }


def entries(*items):
    return {"data": list(items), "pagination": {"page": 1, "limit": 50, "total": len(items)}}


def clinical(make_exchange, body, **query):
    return make_exchange(
        200, body, template=CLINICAL, path_params={"patient_id": "patient_1"}, query=query
    )


def test_clinical_filters_accept_matching_entries(make_exchange):
    body = entries(entry("a", "2024-03-01T00:00:00Z"), entry("b", "2024-03-31T23:59:59Z"))
    filters.clinical_data_filters(
        clinical(
            make_exchange,
            body,
            start_date="2024-03-01",
            end_date="2024-03-31",
            data_type="pain_scores",
        ),
        SPEC,
    )


@pytest.mark.parametrize(
    ("body", "query", "expected"),
    [
        (
            entries(entry("a", "2024-02-29T23:00:00Z")),
            {"start_date": "2024-03-01"},
            "before start_date",
        ),
        (entries(entry("a", "2024-04-01T00:00:00Z")), {"end_date": "2024-03-31"}, "after end_date"),
        (
            entries(entry("a", "2024-03-01T00:00:00Z", "vitals")),
            {"data_type": "pain_scores"},
            "of type 'vitals'",
        ),
        (
            entries(entry("a", "2024-03-01T00:00:00Z", patient="patient_2")),
            {},
            'of patient "patient_2"',
        ),
        (
            entries(entry("a", "2024-03-02T00:00:00Z"), entry("b", "2024-03-01T00:00:00Z")),
            {},
            "not oldest first",
        ),
    ],
)
def test_clinical_filters_reject_entries_outside_the_filter(make_exchange, body, query, expected):
    with pytest.raises(ContractViolation, match=expected):
        filters.clinical_data_filters(clinical(make_exchange, body, **query), SPEC)


def test_clinical_dates_accept_either_reading_of_an_offset_time(make_exchange):
    # 23:30 at -02:00 is 01:30 UTC the next day: both calendar dates are defensible.
    body = entries(entry("a", "2024-03-01T23:30:00-02:00"))
    filters.clinical_data_filters(clinical(make_exchange, body, start_date="2024-03-02"), SPEC)
    filters.clinical_data_filters(clinical(make_exchange, body, end_date="2024-03-01"), SPEC)


def test_report_status_filter(make_exchange):
    body = {
        "data": [{"id": "r1", "status": "pending"}, {"id": "r2", "status": "completed"}],
        "pagination": {},
    }
    filters.report_status_filter(make_exchange(200, body, template="/v1/reports", query={}), SPEC)
    with pytest.raises(ContractViolation, match="in status 'completed'"):
        filters.report_status_filter(
            make_exchange(200, body, template="/v1/reports", query={"status": "pending"}), SPEC
        )
