"""The documented filters of list answers: search, data type, status, date range, order.

Random data rarely proves that a filter *excludes*, so these rules judge each
list answer against the filters it was asked for. Enum filters (``data_type``,
``status``) take their values from the operation's parameter in the spec, so a
new value in a revised spec is judged the same way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pin_mock.contract.checks.paging import list_body
from pin_mock.contract.checks.registry import check
from pin_mock.contract.exchange import Exchange, fail, shown
from pin_mock.contract.spec import Spec


@check("pin_search_filter", operations=("listPatients",))
def patient_search(ex: Exchange, spec: Spec) -> None:
    """Patients listed for `search` match the term in name or id, case-insensitively."""
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
                f"search={shown(term)} listed {shown(item.get('id'))} ({shown(item.get('name'))}), which does not match"
            )


@check("pin_clinical_data_filters", operations=("listClinicalData",))
def clinical_data_filters(ex: Exchange, spec: Spec) -> None:
    """Clinical-data entries match data_type, fall within start_date..end_date, oldest first."""
    listed = list_body(ex)
    if listed is None:
        return
    query = ex.query or {}
    start, end = _date(query.get("start_date")), _date(query.get("end_date"))
    patient_id = ex.path_params.get("patient_id")
    enum_filter(ex, spec, "data_type", "entry {id} of type {got}")
    previous: datetime | None = None
    for entry in listed[0]:
        if not isinstance(entry, dict):
            continue
        ident = entry.get("id")
        if patient_id is not None and str(entry.get("patient_id")) != str(patient_id):
            fail(
                f"entry {shown(ident)} of patient {shown(entry.get('patient_id'))} listed for {shown(patient_id)}"
            )
        recorded = _datetime(entry.get("recorded_at"))
        if recorded is None:
            continue
        days = _dates_of(entry["recorded_at"], recorded)
        if start is not None and all(d < start for d in days):
            fail(
                f"entry {shown(ident)} recorded {entry['recorded_at']} is before start_date={start}"
            )
        if end is not None and all(d > end for d in days):
            fail(f"entry {shown(ident)} recorded {entry['recorded_at']} is after end_date={end}")
        if previous is not None and _comparable(previous, recorded) and recorded < previous:
            fail(
                f"entries are not oldest first: {entry['recorded_at']} after {previous.isoformat()}"
            )
        previous = recorded


@check("pin_report_status_filter", operations=("listReports",))
def report_status_filter(ex: Exchange, spec: Spec) -> None:
    """Reports listed for `status` are in that status."""
    enum_filter(ex, spec, "status", "report {id} in status {got}")


def enum_filter(ex: Exchange, spec: Spec, name: str, listed_as: str) -> None:
    """Items listed for an enum query parameter ``name=X`` have ``name`` X (values from the spec)."""
    listed = list_body(ex)
    operation = spec.find(ex.method, ex.template)
    value = (ex.query or {}).get(name)
    if listed is None or operation is None or value not in operation.query_enum(name):
        return  # not a documented value: rejecting or ignoring it is another check's business
    for item in listed[0]:
        if isinstance(item, dict) and item.get(name) != value:
            wrong = listed_as.format(id=repr(item.get("id")), got=repr(item.get(name)))
            fail(f"{name}={value} listed {wrong}")


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
