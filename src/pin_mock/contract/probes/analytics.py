"""Analytics do what was asked, and a report's numbers are the analytics' numbers.

``pin_analytics_parameters``: the outcomes endpoint answered for a narrower date
range has no trend period outside it; asked per week, its periods are seven
days apart (per month, one month apart); asked for one patient, it counts at
most that one patient. An implementation that echoes a parameter back but
ignores it fails here. The values come from the spec (the ``interval`` enum,
the documented examples' dates).

``pin_report_matches_analytics``: the spec promises that a report's summary
equals the analytics endpoints' answers for the same parameters. For each
report type, a JSON report is generated (the documented request body with
that type) and each part of its ``summary`` named after an analytics
operation (``outcomes`` -> ``GET .../analytics/outcomes``) is compared with
that operation's answer for the report's parameters.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from pin_mock.contract.checks.cross_field import rules_of
from pin_mock.contract.exchange import shown
from pin_mock.contract.openapi import resolve
from pin_mock.contract.probes.framework import Probe, ProbeContext, body_of
from pin_mock.contract.probes.state import _patient
from pin_mock.contract.spec import Operation

PARAMETERS = "pin_analytics_parameters"
REPORT = "pin_report_matches_analytics"
REPORT_WAIT = 60.0


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _periods(body: dict[str, Any]) -> list[date]:
    trend = body.get("trend") if isinstance(body.get("trend"), list) else []
    return [d for item in trend if isinstance(item, dict) and (d := _day(item.get("period_start")))]


def _range(ctx: ProbeContext) -> tuple[date, date]:
    """A date range from the spec's documented examples (the report example's, else a year)."""
    params = (
        (ctx.op("createReport").body_example or {}).get("parameters")
        if ctx.operation("createReport")
        else None
    )
    start = _day((params or {}).get("start_date")) or date(2024, 1, 1)
    end = _day((params or {}).get("end_date")) or start + timedelta(days=180)
    return start, end


def analytics_parameters(ctx: ProbeContext) -> None:
    op = ctx.op("getOutcomes")
    start, end = _range(ctx)
    narrow_start, narrow_end = start + timedelta(days=31), end - timedelta(days=31)
    if narrow_end <= narrow_start:
        narrow_start, narrow_end = start, end
    ex = ctx.call(
        "getOutcomes", params={"start_date": str(narrow_start), "end_date": str(narrow_end)}
    )
    outside = [
        str(d)
        for d in _periods(body_of(ex))
        if d > narrow_end or d + timedelta(days=31) < narrow_start
    ]
    ctx.expect(ex.status == 200 and not outside, PARAMETERS,
               f"outcomes for {narrow_start}..{narrow_end} answered {ex.status} with trend periods outside "
               f"the range: {', '.join(outside[:5])}", ex)  # fmt: skip
    for interval in sorted(op.query_enum("interval")):
        ex = ctx.call(
            "getOutcomes",
            params={"start_date": str(start), "end_date": str(end), "interval": interval},
        )
        periods = _periods(body_of(ex))
        steps = {(b - a).days for a, b in zip(periods, periods[1:], strict=False)}
        if interval == "week":
            ok = steps <= {7}
        elif interval == "month":
            ok = steps <= {28, 29, 30, 31} and all(d.day == 1 for d in periods)
        else:
            continue
        ctx.expect(ex.status == 200 and ok, PARAMETERS,
                   f"outcomes asked per {interval} answered periods {shown([str(d) for d in periods[:4]])}, "
                   f"{sorted(steps)} days apart", ex)  # fmt: skip
    can_create = ctx.operation("createPatient") is not None and not ctx.lacking(["createPatient"])
    if can_create and "patient_id" in op.query_names():
        pid = _patient(ctx).get("id", "")
        ex = ctx.call("getOutcomes", params={"patient_id": pid})
        patients = body_of(ex).get("patients")
        ctx.expect(ex.status == 200 and isinstance(patients, int) and patients <= 1, PARAMETERS,
                   f"outcomes for patient {pid} answered {ex.status} counting {shown(patients)} patients", ex)  # fmt: skip


def _analytics(ctx: ProbeContext) -> dict[str, Operation]:
    """The analytics operations a report's summary can name: key -> operation."""
    found = {}
    for op in ctx.operations:
        if (
            op.method == "get"
            and not op.path_parameters
            and "analytics" in {t.casefold() for t in op.tags}
        ):
            found[op.path.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")] = op
    return found


def _body_for(ctx: ProbeContext, report_type: str) -> dict[str, Any]:
    """The documented report body with ``report_type``, kept within the cross-field rules."""
    body = ctx.body("createReport", type=report_type, format="json")
    example_type = (ctx.op("createReport").body_example or {}).get("type")
    if report_type != example_type:
        body["parameters"] = {}
    for rule in rules_of(
        resolve(ctx.spec.document, ctx.spec.document["paths"][ctx.op("createReport").path]["post"])
    ):
        when = rule.get("when") or {}
        if when.get("body.type") not in (None, report_type) or rule.get("rule") != "required":
            continue
        field = str(rule.get("field", ""))
        if field.endswith("patient_id") and field.startswith("body.parameters."):
            body.setdefault("parameters", {})["patient_id"] = _patient(ctx).get("id", "")
    return body


def _wait(ctx: ProbeContext, rid: str) -> str:
    deadline = time.monotonic() + REPORT_WAIT
    while True:
        status = body_of(ctx.call("getReport", {"report_id": rid})).get("status")
        if status in ("completed", "failed") or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.25)


def report_matches_analytics(ctx: ProbeContext) -> None:
    analytics = _analytics(ctx)
    for report_type in ctx.spec.body_enum(ctx.op("createReport"), "type"):
        body = _body_for(ctx, report_type)
        created = ctx.call("createReport", json=body)
        rid = str(body_of(created).get("id", ""))
        if created.status != 202 or _wait(ctx, rid) != "completed":
            continue  # the report lifecycle probe judges that
        download = ctx.call("downloadReport", {"report_id": rid})
        summary = body_of(download).get("summary")
        if not isinstance(summary, dict):
            continue
        params = body.get("parameters") or {}
        for key, part in sorted(summary.items()):
            op = analytics.get(key)
            if op is None or ctx.lacking([op.operation_id]):
                continue
            query = {k: v for k, v in params.items() if k in op.query_names()}
            answer = ctx.call(op.operation_id, params=query)
            ctx.expect(answer.status == 200 and body_of(answer) == part, REPORT,
                       f"a {report_type} report's summary.{key} differs from {op.label} for the same "
                       f"parameters {shown(query)}: {_first_difference(part, body_of(answer))}", download)  # fmt: skip


def _first_difference(a: Any, b: Any, where: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{where}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
    return f"{where.lstrip('.') or 'the whole'}: report {shown(a, 80)}, analytics {shown(b, 80)}"


ANALYTICS_PROBES = [
    Probe("analytics honour what was asked (dates, interval, patient)", ("getOutcomes",),
          analytics_parameters, (PARAMETERS,)),
    Probe("a report's numbers are the analytics' numbers", ("createReport", "getReport", "downloadReport"),
          report_matches_analytics, (REPORT,)),
]  # fmt: skip
