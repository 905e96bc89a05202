"""PIN's cross-field rules, which a JSON schema cannot say but the spec's prose does.

Schemathesis generates ``start_date`` after ``end_date``, a medication that
ends before it starts, or a
``patient_summary`` report without ``parameters.patient_id``: each value is
valid on its own, so its ``positive_data_acceptance`` check expects 2xx. PIN
documents a 400 for these, so a 400 to such a request is not a failure; every
other rejection of valid data still is: the ``filter_failure`` hook in
``schemathesis_checks.py`` asks ``broken_rule``.
"""

from __future__ import annotations

from datetime import date
from typing import Any


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def broken_rule(template: str, method: str, query: Any, body: Any) -> str | None:
    """The documented cross-field rule a request breaks, or ``None``."""
    query = query if isinstance(query, dict) else {}
    start, end = _date(query.get("start_date")), _date(query.get("end_date"))
    if start is not None and end is not None and start > end:
        return "start_date is after end_date (documented as a 400)"
    if (
        method.upper() == "POST"
        and template.endswith("/clinical-data")
        and isinstance(body, dict)
        and body.get("data_type") == "medications"
        and isinstance(body.get("value"), dict)
    ):
        med_start, med_end = (
            _date(body["value"].get("start_date")),
            _date(body["value"].get("end_date")),
        )
        if med_start is not None and med_end is not None and med_end < med_start:
            return "a medication's value.end_date is before its start_date"
    if method.upper() == "POST" and template.endswith("/reports") and isinstance(body, dict):
        parameters = body.get("parameters")
        parameters = parameters if isinstance(parameters, dict) else {}
        if _date(parameters.get("start_date")) and _date(parameters.get("end_date")):
            if _date(parameters["start_date"]) > _date(parameters["end_date"]):
                return "report parameters.start_date is after end_date"
        if body.get("type") == "patient_summary" and not parameters.get("patient_id"):
            return "a patient_summary report needs parameters.patient_id"
        if body.get("type") == "population_health" and "patient_id" in parameters:
            return "a population_health report covers everyone: no parameters.patient_id"
    return None
