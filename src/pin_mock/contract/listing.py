"""Rules for list answers: paging invariants and the documented filters.

A list answer is ``{"data": [...], "pagination": {"page", "limit", "total"}}``.
The rules only judge answers to requests the spec allows (a ``limit`` of 500
that is accepted is the negative-data check's business, not paging's), so one
defect gives one failure.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from pin_mock.contract.exchange import Exchange, fail

DEFAULT_PAGE = 1
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_INT = re.compile(r"^\d+$")

PATIENTS = "/v1/patients"
CLINICAL_DATA = "/v1/patients/{patient_id}/clinical-data"
REPORTS = "/v1/reports"
DATA_TYPES = frozenset(
    {"pain_scores", "medications", "vitals", "diagnoses", "lab_results", "procedures"}
)
REPORT_STATUSES = frozenset({"pending", "processing", "completed", "failed"})


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


def requested_int(query: Any, name: str, default: int) -> int | None:
    """The integer the client asked for (or the default); ``None`` if not a plain integer."""
    value = (query or {}).get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.match(value):
        return int(value)
    return None


def paging(ex: Exchange, default_limit: int = DEFAULT_LIMIT) -> None:
    """``len(data) <= limit``, page and limit echoed, total consistent, empty only past the end."""
    listed = list_body(ex)
    if listed is None:
        return
    data, pagination = listed
    page = requested_int(ex.query, "page", DEFAULT_PAGE)
    limit = requested_int(ex.query, "limit", default_limit)
    if page is None or limit is None or page < 1 or not 1 <= limit <= MAX_LIMIT:
        return  # not a valid request: accepting it is another check's failure
    got_page, got_limit, total = (pagination.get(k) for k in ("page", "limit", "total"))
    if got_page != page:
        fail(f"pagination.page is {got_page!r} for a request of page {page}")
    if got_limit != limit:
        fail(f"pagination.limit is {got_limit!r} for a request of limit {limit}")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        fail(f"pagination.total must be a non-negative integer, got {total!r}")
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


def patient_search(ex: Exchange) -> None:
    """Every patient listed for ``search`` has the term in its name or id, case-insensitively."""
    if ex.template != PATIENTS:
        return
    listed = list_body(ex)
    term = (ex.query or {}).get("search")
    if listed is None or not isinstance(term, str) or not term:
        return
    # An implementation may trim the term; either reading is accepted.
    needles = {term.casefold(), term.strip().casefold()} - {""}
    for item in listed[0]:
        if not isinstance(item, dict):
            continue
        haystacks = [str(item.get("name", "")).casefold(), str(item.get("id", "")).casefold()]
        if needles and not any(n in h for n in needles for h in haystacks):
            fail(
                f"search={term!r} listed {item.get('id')!r} ({item.get('name')!r}), which does not match"
            )


def clinical_data_filters(ex: Exchange) -> None:
    """Entries are the patient's, of ``data_type``, within ``start_date``..``end_date``, oldest first."""
    if ex.template != CLINICAL_DATA:
        return
    listed = list_body(ex)
    if listed is None:
        return
    query = ex.query or {}
    data_type = query.get("data_type")
    start, end = _date(query.get("start_date")), _date(query.get("end_date"))
    patient_id = ex.path_params.get("patient_id")
    previous: datetime | None = None
    for entry in listed[0]:
        if not isinstance(entry, dict):
            continue
        ident = entry.get("id")
        if patient_id is not None and str(entry.get("patient_id")) != str(patient_id):
            fail(
                f"entry {ident!r} of patient {entry.get('patient_id')!r} listed for {patient_id!r}"
            )
        if data_type in DATA_TYPES and entry.get("data_type") != data_type:
            fail(f"data_type={data_type} listed entry {ident!r} of type {entry.get('data_type')!r}")
        recorded = _datetime(entry.get("recorded_at"))
        if recorded is None:
            continue
        days = _dates_of(entry["recorded_at"], recorded)
        if start is not None and all(d < start for d in days):
            fail(f"entry {ident!r} recorded {entry['recorded_at']} is before start_date={start}")
        if end is not None and all(d > end for d in days):
            fail(f"entry {ident!r} recorded {entry['recorded_at']} is after end_date={end}")
        if previous is not None and _comparable(previous, recorded) and recorded < previous:
            fail(
                f"entries are not oldest first: {entry['recorded_at']} after {previous.isoformat()}"
            )
        previous = recorded


def report_status_filter(ex: Exchange) -> None:
    """``GET /v1/reports?status=X`` lists only reports in status X."""
    if ex.template != REPORTS:
        return
    listed = list_body(ex)
    status = (ex.query or {}).get("status")
    if listed is None or status not in REPORT_STATUSES:
        return
    for report in listed[0]:
        if isinstance(report, dict) and report.get("status") != status:
            fail(
                f"status={status} listed report {report.get('id')!r} in status {report.get('status')!r}"
            )


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _dates_of(text: str, moment: datetime) -> set[date]:
    """The calendar date as written and, for an offset time, its UTC date (either reading holds)."""
    days = {_date(text[:10]) or moment.date()}
    if moment.tzinfo is not None:
        days.add(moment.astimezone(UTC).date())
    return days


def _comparable(a: datetime, b: datetime) -> bool:
    return (a.tzinfo is None) == (b.tzinfo is None)
