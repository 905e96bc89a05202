"""Paging: a list answer holds the page that was asked for, consistently with its total.

A list answer is ``{"data": [...], "pagination": {"page", "limit", "total"}}``.
The page and limit asked for default to the operation's documented defaults,
and only requests the spec allows are judged (a ``limit`` above the spec's
``maximum`` that is accepted is the negative-data check's business, not
paging's), so one defect gives one failure.
"""

from __future__ import annotations

import re
from typing import Any

from pin_mock.contract.checks.registry import check
from pin_mock.contract.exchange import Exchange, fail, shown
from pin_mock.contract.spec import Spec

_INT = re.compile(r"^\d+$")


def list_body(ex: Exchange) -> tuple[list[Any], dict[str, Any]] | None:
    """``(data, pagination)`` of a successful list answer, else ``None``."""
    if ex.method != "GET" or ex.status != 200:
        return None
    body = ex.json()
    if not isinstance(body, dict):
        return None
    data, pagination = body.get("data"), body.get("pagination")
    if not isinstance(data, list) or not isinstance(pagination, dict):
        return None
    return data, pagination


def requested_int(query: Any, name: str, default: Any) -> int | None:
    """The integer the client asked for (or the default); ``None`` if not a plain integer."""
    value = (query or {}).get(name, default)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.match(value):
        return int(value)
    return None


@check("pin_paging")
def paging(ex: Exchange, spec: Spec) -> None:
    """len(data) <= limit, page/limit echoed, total consistent, empty page only past the end."""
    listed = list_body(ex)
    if listed is None:
        return
    data, pagination = listed
    operation = spec.find(ex.method, ex.template)
    page = requested_int(ex.query, "page", operation.query_default("page") if operation else 1)
    limit = requested_int(
        ex.query, "limit", operation.query_default("limit") if operation else None
    )
    maximum = operation.query_maximum("limit") if operation else None
    if page is None or limit is None or page < 1 or limit < 1:
        return  # not a valid request (or no known default): accepting it is another check's failure
    if maximum is not None and limit > maximum:
        return
    got_page, got_limit, total = (pagination.get(k) for k in ("page", "limit", "total"))
    if got_page != page:
        fail(f"pagination.page is {shown(got_page)} for a request of page {page}")
    if got_limit != limit:
        fail(f"pagination.limit is {shown(got_limit)} for a request of limit {limit}")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        fail(f"pagination.total must be a non-negative integer, got {shown(total)}")
    if len(data) > limit:
        fail(f"{len(data)} items on a page of limit {limit}")
    before = (page - 1) * limit
    if data and total < before + len(data):
        fail(f"total {total} is less than the {before + len(data)} items up to page {page}")
    expected = max(0, min(limit, total - before))
    if len(data) != expected:
        where = "before the end" if len(data) < expected else "past the end"
        fail(
            f"page {page} of limit {limit} with total {total} should hold {expected} "
            f"items, got {len(data)} ({where})"
        )
    ids = [item.get("id") for item in data if isinstance(item, dict) and "id" in item]
    if len(ids) != len(set(map(str, ids))):
        fail("the same item appears twice on one page")
