"""PIN's cross-field rules, which a JSON schema cannot say: read from the spec.

Schemathesis generates ``start_date`` after ``end_date``, a medication that
ends before it starts, or a ``patient_summary`` report without
``parameters.patient_id``: each value is valid on its own, so its
``positive_data_acceptance`` check expects 2xx. The spec states these rules
in each operation's ``x-cross-field-rules`` (the sandbox enforces the same
list), so a 400 to such a request is not a failure; every other rejection of
valid data still is: the ``filter_failure`` hook in ``schemathesis_checks.py``
asks ``broken_rule``.

A rule names fields as ``query.<name>`` or ``body.<path>``, applies when every
``when`` field has its given value, and is ``not-after`` (date ``first`` not
after ``second``), ``required`` or ``absent`` (of ``field``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

#: The extension holding an operation's rules.
EXTENSION = "x-cross-field-rules"


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _field(query: Any, body: Any, reference: str) -> Any:
    location, *path = reference.split(".")
    value = {"query": query, "body": body}.get(location)
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return value


def broken_rule(rules: list[dict[str, Any]] | None, query: Any, body: Any) -> str | None:
    """The description of the first documented rule a request breaks, or ``None``."""
    query = query if isinstance(query, dict) else {}
    for rule in rules or []:
        when = rule.get("when") or {}
        if any(_field(query, body, name) != value for name, value in when.items()):
            continue
        kind, described = rule.get("rule"), rule.get("description") or str(rule)
        if kind == "not-after":
            first = _date(_field(query, body, rule["first"]))
            second = _date(_field(query, body, rule["second"]))
            if first is not None and second is not None and first > second:
                return described
        elif kind == "required" and _field(query, body, rule["field"]) in (None, ""):
            return described
        elif kind == "absent" and _field(query, body, rule["field"]) is not None:
            return described
    return None


def rules_of(operation: dict[str, Any]) -> list[dict[str, Any]]:
    """An operation's rules, as its spec states them."""
    rules = operation.get(EXTENSION)
    return rules if isinstance(rules, list) else []
