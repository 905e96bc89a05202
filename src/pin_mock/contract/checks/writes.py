"""A write's answer agrees with what was written.

When a create is accepted (201 or 202), every field the request sent that the
answer shows must show the value sent: a name cut short, a date moved, a type
or an event list changed is a write that does not say what it stored (or
stored something else). Nested objects are compared field by field; lists of
strings as sets (order is the server's); date-times as instants to the
second (``Z`` and ``+00:00`` are one time, and a server may keep whole
seconds: the spec names no finer precision); strings without leading and
trailing white space (which the spec has a server trim: a patient's name, a
webhook's URL).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pin_mock.contract.checks.registry import check
from pin_mock.contract.exchange import Exchange, fail, shown


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def same(sent: Any, shown_back: Any) -> bool:
    """Whether an answer's value is the value sent (see the module's rules)."""
    if isinstance(sent, dict) and isinstance(shown_back, dict):
        return all(same(v, shown_back[k]) for k, v in sent.items() if k in shown_back)
    if isinstance(sent, list) and isinstance(shown_back, list):
        if all(isinstance(v, str) for v in [*sent, *shown_back]):
            return set(sent) == set(shown_back)
        return len(sent) == len(shown_back) and all(
            same(a, b) for a, b in zip(sent, shown_back, strict=True)
        )
    if isinstance(sent, str) and isinstance(shown_back, str):
        if sent.strip() == shown_back.strip():
            return True
        first, second = _instant(sent), _instant(shown_back)
        if first is None or second is None:
            return False
        if (first.tzinfo is None) != (second.tzinfo is None):
            return False
        return first.replace(microsecond=0) == second.replace(microsecond=0)
    if isinstance(sent, bool) or isinstance(shown_back, bool):
        return sent is shown_back
    return sent == shown_back


def differences(sent: dict[str, Any], answer: dict[str, Any]) -> list[str]:
    return [
        f"{key} was sent as {shown(value)} and answered as {shown(answer[key])}"
        for key, value in sent.items()
        if key in answer and not same(value, answer[key])
    ]


@check("pin_write_echo")
def write_echo(ex: Exchange, spec: Any) -> None:
    """An accepted create answers with the values it was sent."""
    if ex.method != "POST" or ex.status not in (201, 202) or not spec.in_api(ex.template):
        return
    if not ex.request_body or "json" not in ex.request_headers.get("content-type", ""):
        return
    try:
        sent = json.loads(ex.request_body)
    except (ValueError, UnicodeDecodeError):
        return
    answer = ex.json()
    if isinstance(sent, dict) and isinstance(answer, dict):
        found = differences(sent, answer)
        if found:
            fail("the answer disagrees with what was written: " + "; ".join(found))
