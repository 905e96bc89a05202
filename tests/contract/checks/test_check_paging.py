"""Paging invariants, against crafted list answers."""

from __future__ import annotations

import pytest

from kit_helpers import SPEC, revised_spec
from pin_mock.contract.checks import paging
from pin_mock.contract.exchange import ContractViolation
from pin_mock.contract.spec import Spec


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
    paging.paging(make_exchange(200, body, query=query), SPEC)


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
        paging.paging(make_exchange(200, body, query=query), SPEC)


def test_paging_leaves_invalid_requests_to_the_negative_data_check(make_exchange):
    wrong = page(range(100), limit=100, total=150)
    for query in ({"limit": 500}, {"limit": "abc"}, {"page": 0}, {"page": ["1", "2"]}):
        paging.paging(make_exchange(200, wrong, query=query), SPEC)


def test_paging_uses_the_operations_default_limit(make_exchange, tmp_path):
    limit = lambda spec: spec["components"]["parameters"]["Limit"]["schema"]  # noqa: E731
    default_20 = Spec.load(revised_spec(tmp_path, lambda spec: limit(spec).update(default=20)))
    paging.paging(make_exchange(200, page(range(20), limit=20, total=30), query={}), default_20)
    with pytest.raises(ContractViolation, match="pagination.limit is 20"):
        paging.paging(make_exchange(200, page(range(20), limit=20, total=30), query={}), SPEC)
