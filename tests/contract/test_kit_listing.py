"""Paging invariants and the documented filters, against crafted list answers."""

from __future__ import annotations

import pytest

from pin_mock.contract import listing
from pin_mock.contract.exchange import ContractViolation


def page(items, page=1, limit=10, total=None):
    data = [{"id": f"p{i}", "name": f"Name {i}"} for i in items]
    return {
        "data": data,
        "pagination": {
            "page": page,
            "limit": limit,
            "total": len(data) if total is None else total,
        },
    }


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ({"page": 1, "limit": 10}, page(range(10), total=25)),
        ({"page": "3", "limit": "10"}, page(range(20, 25), page=3, total=25)),
        ({"page": 4, "limit": 10}, page([], page=4, total=25)),
        ({}, page(range(50), limit=50, total=150)),
    ],
)
def test_paging_accepts_consistent_pages(make_exchange, query, body):
    listing.paging(make_exchange(200, body, query=query))


@pytest.mark.parametrize(
    ("query", "body", "expected"),
    [
        ({"limit": 5}, page(range(10), limit=5, total=25), "10 items on a page of limit 5"),
        ({"limit": 5}, page(range(5), limit=10, total=25), "pagination.limit is 10"),
        (
            {"page": 2, "limit": 5},
            page(range(5), page=1, limit=5, total=25),
            "pagination.page is 1",
        ),
        ({"page": 2, "limit": 5}, page([], page=2, limit=5, total=25), "before the end"),
        ({"page": 1, "limit": 10}, page(range(3), total=25), "should hold 10 items, got 3"),
        ({"page": 1, "limit": 10}, page(range(5), total=2), "total 2 is less than"),
        ({"page": 1, "limit": 10}, page(range(2), total=-1), "non-negative integer"),
        (
            {"page": 1, "limit": 10},
            {
                "data": [{"id": "a"}, {"id": "a"}],
                "pagination": {"page": 1, "limit": 10, "total": 2},
            },
            "twice",
        ),
    ],
)
def test_paging_rejects_inconsistent_pages(make_exchange, query, body, expected):
    with pytest.raises(ContractViolation, match=expected):
        listing.paging(make_exchange(200, body, query=query))


def test_paging_leaves_invalid_requests_to_the_negative_data_check(make_exchange):
    wrong = page(range(100), limit=100, total=150)
    for query in ({"limit": 500}, {"limit": "abc"}, {"page": 0}, {"page": ["1", "2"]}):
        listing.paging(make_exchange(200, wrong, query=query))


def test_paging_uses_the_operations_default_limit(make_exchange):
    listing.paging(
        make_exchange(200, page(range(20), limit=20, total=30), query={}), default_limit=20
    )
    with pytest.raises(ContractViolation, match="pagination.limit is 20"):
        listing.paging(make_exchange(200, page(range(20), limit=20, total=30), query={}))


def test_search_results_must_contain_the_term(make_exchange):
    body = {
        "data": [
            {"id": "patient_1", "name": "John Doe"},
            {"id": "patient_2", "name": "Mary JOHNSON"},
        ],
        "pagination": {},
    }
    listing.patient_search(make_exchange(200, body, query={"search": "john"}))
    listing.patient_search(
        make_exchange(
            200,
            {"data": [{"id": "patient_12", "name": "A"}], "pagination": {}},
            query={"search": "T_1"},
        )
    )
    with pytest.raises(ContractViolation, match="does not match"):
        listing.patient_search(make_exchange(200, body, query={"search": "doe"}))


def test_search_accepts_a_trimmed_term(make_exchange):
    body = {"data": [{"id": "patient_1", "name": "John Doe"}], "pagination": {}}
    listing.patient_search(make_exchange(200, body, query={"search": " john "}))


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
    listing.clinical_data_filters(
        clinical(
            make_exchange,
            body,
            start_date="2024-03-01",
            end_date="2024-03-31",
            data_type="pain_scores",
        )
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
            "of patient 'patient_2'",
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
        listing.clinical_data_filters(clinical(make_exchange, body, **query))


def test_clinical_dates_accept_either_reading_of_an_offset_time(make_exchange):
    # 23:30 at -02:00 is 01:30 UTC the next day: both calendar dates are defensible.
    body = entries(entry("a", "2024-03-01T23:30:00-02:00"))
    listing.clinical_data_filters(clinical(make_exchange, body, start_date="2024-03-02"))
    listing.clinical_data_filters(clinical(make_exchange, body, end_date="2024-03-01"))


def test_report_status_filter(make_exchange):
    body = {
        "data": [{"id": "r1", "status": "pending"}, {"id": "r2", "status": "completed"}],
        "pagination": {},
    }
    listing.report_status_filter(make_exchange(200, body, template="/v1/reports", query={}))
    with pytest.raises(ContractViolation, match="in status 'completed'"):
        listing.report_status_filter(
            make_exchange(200, body, template="/v1/reports", query={"status": "pending"})
        )
