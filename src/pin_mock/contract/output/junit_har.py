"""Files a CI system can show: JUnit XML of Schemathesis and the probes, a HAR of the failing exchanges.

The JUnit file has one test case per operation and check: a ``schemathesis``
suite (classname: the operation, name: the check, from every scenario's check
results) and a ``pin-contract-probes`` suite (one test case per probe, or per
operation and check it failed), so a CI system shows which check failed where.
"""

from __future__ import annotations

import base64
import json
import platform
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

from pin_mock.contract.findings import Finding, RecordedRequest, RecordedResponse

PROBE_SUITE = "pin-contract-probes"
ST_SUITE = "schemathesis"


def write_har(path: Path, findings: Iterable[Finding], creator_version: str = "") -> int:
    """Write the exchanges of ``findings`` as HAR 1.2; return how many entries."""
    entries = []
    for finding in findings:
        if finding.request is None:
            continue
        entries.append(_har_entry(finding.request, finding.response, finding))
    document = {
        "log": {
            "version": "1.2",
            "creator": {"name": "pin-mock contract", "version": creator_version},
            "entries": entries,
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return len(entries)


def _har_entry(
    request: RecordedRequest, response: RecordedResponse | None, finding: Finding
) -> dict:
    started = datetime.now(UTC).isoformat()
    elapsed_ms = round((response.elapsed if response else 0.0) * 1000, 3)
    req: dict[str, Any] = {
        "method": request.method,
        "url": request.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [{"name": k, "value": v} for k, v in request.headers.items()],
        "queryString": [
            {"name": k, "value": v}
            for k, v in parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": len(request.body or b""),
    }
    if request.body:
        req["postData"] = {
            "mimeType": request.headers.get(
                "Content-Type", request.headers.get("content-type", "")
            ),
            **_har_text(request.body),
        }
    resp: dict[str, Any] = {
        "status": response.status if response else 0,
        "statusText": "",
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [
            {"name": k, "value": v}
            for k, values in (response.headers if response else {}).items()
            for v in values
        ],
        "content": {
            "size": len(response.body) if response else 0,
            "mimeType": ((response.headers.get("content-type") or [""])[0] if response else ""),
            **(_har_text(response.body) if response and response.body else {}),
        },
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": len(response.body) if response else 0,
    }
    return {
        "startedDateTime": started,
        "time": elapsed_ms,
        "request": req,
        "response": resp,
        "cache": {},
        "timings": {"send": 0, "wait": elapsed_ms, "receive": 0},
        "comment": f"{finding.check}: {finding.message.splitlines()[0] if finding.message else ''}",
    }


def _har_text(body: bytes) -> dict[str, str]:
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}


def _case(
    suite: ElementTree.Element, classname: str, name: str, seconds: float, findings: list[Finding]
) -> ElementTree.Element:
    case = ElementTree.SubElement(
        suite, "testcase", {"classname": classname, "name": name, "time": f"{seconds:.6f}"}
    )
    if findings:
        element = ElementTree.SubElement(
            case,
            "failure",
            {
                "type": findings[0].check,
                "message": findings[0].message.strip().split("\n")[0][:300],
            },
        )
        element.text = "\n\n".join(format_finding(f) for f in findings)
    return case


def _totals(suite: ElementTree.Element) -> ElementTree.Element:
    cases = list(suite.iter("testcase"))
    suite.attrib.update(
        {
            "tests": str(len(cases)),
            "failures": str(sum(1 for c in cases if c.find("failure") is not None)),
            "errors": "0",
            "skipped": str(sum(1 for c in cases if c.find("skipped") is not None)),
            "time": f"{sum(float(c.get('time', '0')) for c in cases):.6f}",
        }
    )
    return suite


def schemathesis_suite(
    outcomes: dict[tuple[str, str], list[int]], findings: Iterable[Finding], seconds: float = 0.0
) -> ElementTree.Element:
    """One ``<testcase>`` per operation and check Schemathesis ran (classname: the operation)."""
    suite = ElementTree.Element("testsuite", {"name": ST_SUITE, "hostname": platform.node()})
    by_pair: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        by_pair.setdefault((finding.operation, finding.check), []).append(finding)
    pairs = sorted(set(outcomes) | set(by_pair))
    share = seconds / len(pairs) if pairs else 0.0
    for operation, check in pairs:
        _case(suite, operation, check, share, by_pair.get((operation, check), []))
    return _totals(suite)


def probe_suite(
    results: Iterable[tuple[str, float, list[Finding], str | None]],
) -> ElementTree.Element:
    """Probes: one ``<testcase>`` per probe, or per operation and check it failed.

    ``results``: (probe name, seconds, findings, skip reason).
    """
    suite = ElementTree.Element("testsuite", {"name": PROBE_SUITE, "hostname": platform.node()})
    for name, seconds, findings, skip in results:
        if not findings:
            case = _case(suite, name, name, seconds, [])
            if skip:
                ElementTree.SubElement(case, "skipped", {"message": skip})
            continue
        by_pair: dict[tuple[str, str], list[Finding]] = {}
        for finding in findings:
            by_pair.setdefault((finding.operation, finding.check), []).append(finding)
        for (operation, check), found in sorted(by_pair.items()):
            _case(suite, name, f"{operation} {check}", seconds / len(by_pair), found)
    return _totals(suite)


def write_junit(path: Path, *suites: ElementTree.Element | None) -> None:
    """One JUnit file holding ``suites`` (Schemathesis's, the probes')."""
    root = ElementTree.Element("testsuites")
    root.extend(s for s in suites if s is not None)
    totals = {k: 0 for k in ("tests", "failures", "errors", "skipped")}
    time = 0.0
    for suite in root:
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        time += float(suite.get("time", "0"))
    root.attrib.update({k: str(v) for k, v in totals.items()} | {"time": f"{time:.6f}"})
    ElementTree.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def format_finding(finding: Finding, *, width: int = 2000) -> str:
    """A finding as text: operation, check, message, status and the curl reproduction."""
    lines = [f"{finding.operation}  [{finding.check}{' ' + finding.code if finding.code else ''}]"]
    message = finding.message.strip()
    if len(message) > width:
        message = message[:width] + " ..."
    lines += ["    " + line for line in message.splitlines()]
    if finding.response is not None:
        body = finding.response.body.decode("utf-8", "replace")
        body = body if len(body) <= 300 else body[:300] + "..."
        lines.append(f"    got {finding.response.status}: {body}")
    curl = finding.curl()
    if curl:
        lines += ["    reproduce:", "      " + curl]
    return "\n".join(lines)
