"""Files a CI system can show: JUnit XML of Schemathesis and the probes, a HAR of the failing exchanges.

The JUnit file holds Schemathesis's own test suite (one test case per
operation, as ``st run --report junit`` writes it) plus a ``pin-contract-probes``
suite with one test case per probe, so a CI system shows both in one place.
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


def probe_suite(
    results: Iterable[tuple[str, float, list[Finding], str | None]],
) -> ElementTree.Element:
    """A ``<testsuite>`` with one ``<testcase>`` per probe: (name, seconds, findings, skip reason)."""
    suite = ElementTree.Element("testsuite", {"name": PROBE_SUITE, "hostname": platform.node()})
    tests = failures = skipped = 0
    total = 0.0
    for name, seconds, findings, skip in results:
        tests += 1
        total += seconds
        case = ElementTree.SubElement(suite, "testcase", {"name": name, "time": f"{seconds:.6f}"})
        if findings:
            failures += 1
            text = "\n\n".join(format_finding(f) for f in findings)
            checks = ", ".join(sorted({f.check for f in findings}))
            element = ElementTree.SubElement(
                case, "failure", {"type": "failure", "message": checks}
            )
            element.text = text
        elif skip:
            skipped += 1
            ElementTree.SubElement(case, "skipped", {"message": skip})
    suite.attrib.update(
        {
            "tests": str(tests),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(skipped),
            "time": f"{total:.6f}",
        }
    )
    return suite


def write_junit(
    path: Path, schemathesis_junit: Path | None, probes: ElementTree.Element | None
) -> None:
    """One JUnit file: Schemathesis's suite (if it ran) and the probes' suite."""
    root = ElementTree.Element("testsuites")
    if schemathesis_junit is not None and schemathesis_junit.is_file():
        try:
            parsed = ElementTree.parse(schemathesis_junit).getroot()
        except ElementTree.ParseError:
            parsed = None
        if parsed is not None:
            suites = [parsed] if parsed.tag == "testsuite" else list(parsed.iter("testsuite"))
            root.extend(suites)
    if probes is not None:
        root.append(probes)
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
