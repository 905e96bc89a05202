"""The report lifecycle: pending, processing, then completed or failed; the file only when completed.

For each documented format the probe creates a report (the spec's example with
that format), then polls it: its status only moves forward through
``pending`` -> ``processing`` -> ``completed``/``failed``; the download answers
409 ``REPORT_NOT_READY`` until it is completed; a completed report downloads at
once, never as a 200 with an empty body, with the media type the spec documents
for that format (read from the spec at run time: a ``Content-Type`` whose
subtype names the format, ``application/pdf`` for ``pdf``).
"""

from __future__ import annotations

import time

from pin_mock.contract.exchange import Exchange, shown
from pin_mock.contract.probes.framework import Probe, ProbeContext, body_of
from pin_mock.contract.spec import Operation

LIFECYCLE = "pin_report_lifecycle"
ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}
#: Seconds a report may take to finish.
REPORT_WAIT = 60.0
POLL = 0.25


def media_type_for(op: Operation | None, fmt: str) -> str | None:
    """The download's documented media type for a report format (subtype names it)."""
    answer = (op.responses.get("200") if op else None) or {}
    for media_type in answer.get("content") or {}:
        if media_type.split("/")[-1].split("+")[-1].lower() == fmt.lower():
            return media_type
    return None


def _download(ctx: ProbeContext, rid: str) -> Exchange:
    return ctx.call("downloadReport", {"report_id": rid})


def _judge_file(ctx: ProbeContext, ex: Exchange, fmt: str, expected: str | None) -> None:
    ctx.expect(
        bool(ex.body),
        LIFECYCLE,
        f"a completed {fmt} report downloaded as a 200 with an empty body",
        ex,
    )
    got = (ex.header("content-type") or "").split(";")[0].strip().lower()
    if expected is not None:
        ctx.expect(got == expected.lower(), LIFECYCLE,
                   f"a {fmt} report downloaded as {shown(got)}; the spec documents {shown(expected)}", ex)  # fmt: skip


def one_report(ctx: ProbeContext, create: Operation, fmt: str) -> None:
    created = ctx.call("createReport", json=ctx.body("createReport", format=fmt))
    ctx.require(
        created.status == 202,
        LIFECYCLE,
        f"POST {created.path} ({fmt}) answered {created.status}",
        created,
    )
    rid = str(body_of(created).get("id", ""))
    status = body_of(created).get("status")
    ctx.expect(
        status == "pending",
        LIFECYCLE,
        f"a new report's status is {shown(status)}, not 'pending'",
        created,
    )
    expected = media_type_for(ctx.operation("downloadReport"), fmt)
    deadline = time.monotonic() + REPORT_WAIT
    seen = [status]
    while True:
        ex = ctx.call("getReport", {"report_id": rid})
        status = body_of(ex).get("status")
        ctx.require(status in ORDER, LIFECYCLE, f"report {rid} has status {shown(status)}", ex)
        ctx.expect(ORDER[status] >= ORDER.get(seen[-1], 0), LIFECYCLE,
                   f"report {rid} went from {shown(seen[-1])} back to {shown(status)}", ex)  # fmt: skip
        seen.append(status)
        download = _download(ctx, rid)
        if status == "completed":
            ctx.expect(download.status == 200, LIFECYCLE,
                       f"report {rid} is completed but its download answered {download.status}", download)  # fmt: skip
            if download.status == 200:
                _judge_file(ctx, download, fmt, expected)
            return
        if download.status == 200:  # finished between the two requests: it must say so now
            _judge_file(ctx, download, fmt, expected)
            again = ctx.call("getReport", {"report_id": rid})
            ctx.expect(body_of(again).get("status") == "completed", LIFECYCLE,
                       f"report {rid} downloaded while {shown(status)} and is still not completed", again)  # fmt: skip
            return
        code = (
            (body_of(download).get("error") or {}).get("code")
            if isinstance(body_of(download).get("error"), dict)
            else None
        )
        ctx.expect(download.status == 409 and code == "REPORT_NOT_READY", LIFECYCLE,
                   f"downloading a {status} report answered {download.status} {shown(code)}, not 409 REPORT_NOT_READY", download)  # fmt: skip
        if status == "failed":
            return
        ctx.require(time.monotonic() < deadline, LIFECYCLE,
                    f"report {rid} still {shown(status)} after {REPORT_WAIT:.0f} s", ex)  # fmt: skip
        time.sleep(POLL)


def report_formats(ctx: ProbeContext) -> None:
    create = ctx.operation("createReport")
    if create is None:
        return
    for fmt in ctx.spec.body_enum(create, "format") or ("json",):
        one_report(ctx, create, fmt)


REPORT_PROBES = [
    Probe("report lifecycle per format: 409 until completed, then the file",
          ("createReport", "getReport", "downloadReport"), report_formats, (LIFECYCLE,)),
]  # fmt: skip
