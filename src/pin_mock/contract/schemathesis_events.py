"""Reading ``st run``'s NDJSON event stream: findings, statuses, timings, coverage, creations.

Every scenario Schemathesis finishes carries its cases, their exchanges and
their checks. ``EventParser`` turns that into findings (with the exchange, for
the HAR file and the curl reproductions), counts the statuses (the 429 share),
the time per operation (JUnit), and tells the coverage (``Observations``) and
the cleanup (``Ledger``) what was sent and created.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from pin_mock.contract.cleanup import Ledger
from pin_mock.contract.coverage import Observations
from pin_mock.contract.findings import Finding, RecordedRequest, RecordedResponse
from pin_mock.contract.spec import Spec


class EventParser:
    """Accumulates findings and status counts from NDJSON events; calls ``on_event``."""

    def __init__(
        self,
        on_event: Callable[[str, dict[str, Any], list[Finding]], None] | None = None,
        spec: Spec | None = None,
        *,
        observations: Observations | None = None,
        ledger: Ledger | None = None,
    ):
        self.findings: list[Finding] = []
        self.statuses: Counter = Counter()
        self.elapsed: dict[str, float] = {}
        self.observations = observations
        self.ledger = ledger
        #: (operation, check) -> [passed, failed]: one JUnit test case each.
        self.outcomes: dict[tuple[str, str], list[int]] = {}
        self.on_event = on_event
        self.spec = spec
        self._buffer = ""

    def feed(self, text: str) -> None:
        """Feed a chunk of the stream (may end mid-line)."""
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if line.strip():
                self.handle(json.loads(line))

    def handle(self, event: dict[str, Any]) -> None:
        (name, payload), *_ = event.items()
        new: list[Finding] = []
        if name == "ScenarioFinished":
            new = list(self._scenario(payload.get("recorder") or {}))
            self.findings.extend(new)
        if self.on_event is not None:
            self.on_event(name, payload, new)

    def _scenario(self, recorder: dict[str, Any]) -> Iterator[Finding]:
        interactions = recorder.get("interactions") or {}
        for interaction in interactions.values():
            self._observe(interaction)
        cases = recorder.get("cases") or {}
        for case_id, checks in (recorder.get("checks") or {}).items():
            interaction = interactions.get(case_id) or {}
            value = (cases.get(case_id) or {}).get("value") or {}
            planned = (
                f"{value['method'].upper()} {value['path']}"
                if value.get("method") and value.get("path")
                else recorder.get("label", "?")
            )
            label = self.label(planned, interaction.get("request"))
            for check in checks:
                name = check.get("name", "?")
                outcome = self.outcomes.setdefault((label, name), [0, 0])
                if self.observations is not None and check.get("status") in ("success", "failure"):
                    self.observations.check(label, name, check.get("status") == "success")
                if check.get("status") != "failure":
                    outcome[0] += check.get("status") == "success"
                    continue
                outcome[1] += 1
                failure = (check.get("failure_info") or {}).get("failure") or {}
                yield Finding(
                    operation=self.label(
                        failure.get("operation") or label, interaction.get("request")
                    ),
                    check=check.get("name", "?"),
                    message=failure.get("message") or failure.get("title") or "",
                    request=_request(interaction.get("request")),
                    response=_response(interaction.get("response")),
                    code=failure.get("code"),
                    case_id=case_id,
                )

    def _observe(self, interaction: dict[str, Any]) -> None:
        """Count an exchange's status and time; tell the coverage and the ledger."""
        request, response = interaction.get("request"), interaction.get("response")
        if not isinstance(response, dict) or "status_code" not in response:
            return
        status = response["status_code"]
        self.statuses[status] += 1
        if not isinstance(request, dict) or not request.get("uri"):
            return
        method, uri = str(request.get("method") or "GET"), str(request["uri"])
        label = self.label(f"{method.upper()} {urlsplit(uri).path}", request)
        self.elapsed[label] = self.elapsed.get(label, 0.0) + float(response.get("elapsed") or 0.0)
        if self.observations is not None:
            self.observations.exchange(method, uri, status, list(request.get("headers") or {}))
        if self.ledger is not None and method.upper() == "POST" and status in (201, 202):
            try:
                body = json.loads(_bytes(response.get("content")) or b"null")
            except ValueError:
                body = None
            self.ledger.observe(method, uri, status, body)

    def label(self, operation: str, request: Any) -> str:
        """The operation the request really reached: ``METHOD /template``, never a concrete id.

        A stateful step that followed a wrong ``Location`` never reached the
        operation Schemathesis names: the label is then the operation whose
        template the path matches (an unexpected method keeps the template).
        """
        if self.spec is None or not isinstance(request, dict) or not request.get("uri"):
            return operation
        method = str(request.get("method") or "GET").upper()
        path = urlsplit(str(request["uri"])).path or "/"
        if _matches(operation, method, path):
            return operation
        return self.spec.label_of(method, path)


def _matches(label: str, method: str, path: str) -> bool:
    wanted, _, template = label.partition(" ")
    if wanted.upper() != method or not template.startswith("/"):
        return False
    pattern = re.sub(r"\\{[^}/]+\\}", "[^/]+", re.escape(template))
    return re.search(f"{pattern}$", path) is not None


def _bytes(value: Any) -> bytes | None:
    if isinstance(value, dict) and "$base64" in value:
        return base64.b64decode(value["$base64"])
    if isinstance(value, str):
        return value.encode()
    return None


def _request(raw: Any) -> RecordedRequest | None:
    if not isinstance(raw, dict):
        return None
    return RecordedRequest.build(
        raw.get("method", "GET"),
        raw.get("uri", ""),
        raw.get("headers") or {},
        _bytes(raw.get("body")),
    )


def _response(raw: Any) -> RecordedResponse | None:
    if not isinstance(raw, dict) or "status_code" not in raw:
        return None
    headers = {
        k.lower(): (v if isinstance(v, list) else [v])
        for k, v in (raw.get("headers") or {}).items()
    }
    return RecordedResponse.build(
        raw["status_code"], headers, _bytes(raw.get("content")) or b"", raw.get("elapsed") or 0.0
    )
