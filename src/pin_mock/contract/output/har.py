"""The failing exchanges as HAR 1.2: a file a browser's devtools opens, and a cassette.

Each entry is one finding's request and response, with the finding in the
entry's ``_pin`` field (check, operation, message, where it came from), so
``pin-mock contract replay failures.har`` can re-send each request and judge
the answer again. Real credentials are already filtered in a finding; a replay
asks for a fresh token.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pin_mock import __version__
from pin_mock.contract.findings import Finding, RecordedRequest, RecordedResponse

CREATOR = "pin-mock contract"


def write_har(path: Path, findings: Iterable[Finding], creator_version: str = __version__) -> int:
    """Write the exchanges of ``findings`` as HAR 1.2; return how many entries."""
    entries = [
        _entry(finding.request, finding.response, finding)
        for finding in findings
        if finding.request is not None
    ]
    document = {
        "log": {
            "version": "1.2",
            "creator": {"name": CREATOR, "version": creator_version},
            "entries": entries,
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return len(entries)


def read_har(path: Path) -> list[Finding]:
    """The findings of a cassette written by ``write_har`` (``ValueError`` if it is not one)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = document["log"]["entries"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a HAR file: {exc}") from None
    findings = []
    for entry in entries:
        meta = entry.get("_pin") or {}
        request = entry.get("request") or {}
        headers = {h["name"]: h["value"] for h in request.get("headers") or []}
        posted = request.get("postData") or {}
        body = _bytes(posted) if posted else None
        response = entry.get("response") or {}
        content = response.get("content") or {}
        answer = RecordedResponse(
            int(response.get("status") or 0),
            _header_lists(response.get("headers") or []),
            _bytes(content) or b"",
        )
        findings.append(
            Finding(
                operation=str(meta.get("operation") or ""),
                check=str(meta.get("check") or "?"),
                message=str(meta.get("message") or entry.get("comment") or ""),
                request=RecordedRequest(str(request.get("method") or "GET"), str(request.get("url") or ""), headers, body),
                response=answer,
                source=str(meta.get("source") or "schemathesis"),
                probe=meta.get("probe"),
            )
        )  # fmt: skip
    return findings


def _header_lists(pairs: list[dict[str, str]]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for pair in pairs:
        headers.setdefault(pair["name"].lower(), []).append(pair["value"])
    return headers


def _bytes(content: dict[str, Any]) -> bytes | None:
    text = content.get("text")
    if text is None:
        return None
    if content.get("encoding") == "base64":
        return base64.b64decode(text)
    return str(text).encode("utf-8")


def _entry(request: RecordedRequest, response: RecordedResponse | None, finding: Finding) -> dict:
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
        media = request.headers.get("Content-Type", request.headers.get("content-type", ""))
        req["postData"] = {"mimeType": media, **_text(request.body)}
    body = response.body if response else b""
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
            "size": len(body),
            "mimeType": ((response.headers.get("content-type") or [""])[0] if response else ""),
            **(_text(body) if body else {}),
        },
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": len(body),
    }
    first = finding.message.splitlines()[0] if finding.message else ""
    return {
        "startedDateTime": started,
        "time": elapsed_ms,
        "request": req,
        "response": resp,
        "cache": {},
        "timings": {"send": 0, "wait": elapsed_ms, "receive": 0},
        "comment": f"{finding.check}: {first}",
        "_pin": {
            "check": finding.check,
            "operation": finding.operation,
            "message": finding.message,
            "source": finding.source,
            "probe": finding.probe,
        },
    }


def _text(body: bytes) -> dict[str, str]:
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}
