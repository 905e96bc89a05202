"""Judging one recorded exchange against the spec: what the proxy and the replay use.

Schemathesis's own response checks judge it as Schemathesis would (the case
is rebuilt from the request: path parameters from the template, the query,
the headers, the JSON body), one check at a time so each failure keeps its
check's name; PIN's registered checks judge it through the same rules the
runs use (``checks/``). Checks that need a sequence of requests
(``use_after_free``, ...) cannot judge one exchange alone; the checks that
judge what a request *should* get (``negative_data_rejection``, ...) are
answered by the status alone (``EXPECTED``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from pin_mock.contract.checks.catalogue import ALL_CHECKS
from pin_mock.contract.checks.registry import Check, Rule
from pin_mock.contract.exchange import ContractViolation, Exchange
from pin_mock.contract.selection import CheckSelection
from pin_mock.contract.spec import Spec

#: Schemathesis checks that judge one response against the spec.
RESPONSE_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
#: Checks that say what the answer should have been: (rule on the status, what it means).
EXPECTED = {
    "negative_data_rejection": (lambda s: 400 <= s < 500, "invalid data refused with a 4xx"),
    "missing_required_header": (
        lambda s: 400 <= s < 500,
        "a missing required header refused with a 4xx",
    ),
    "positive_data_acceptance": (lambda s: 200 <= s < 300, "valid data accepted with a 2xx"),
    "ignored_auth": (lambda s: s == 401, "bad credentials refused with 401"),
    "unsupported_method": (lambda s: s == 405, "an undocumented method answered 405"),
    "allow_header_conformance": (
        lambda s: s == 405,
        "an undocumented method answered 405 with Allow",
    ),
}
#: Checks that judge a sequence (a create, then a read...): one exchange cannot tell.
SEQUENCES = frozenset(
    {"use_after_free", "ensure_resource_availability", "object_level_authorization"}
)


class Judge:
    """Judges exchanges: Schemathesis's response checks and PIN's checks, for one spec."""

    def __init__(self, spec: Spec, checks: CheckSelection | None = None) -> None:
        import schemathesis
        import schemathesis.specs.openapi.checks  # noqa: F401 - registers the built-in checks
        from schemathesis.checks import CHECKS

        from pin_mock.contract.checks import schemathesis_checks  # noqa: F401 - the PIN checks

        self.spec = spec
        self.selection = checks or CheckSelection()
        self._schema = schemathesis.openapi.from_dict(spec.document)
        self._checks = {name: CHECKS.get_by_names([name])[0] for name in RESPONSE_CHECKS}
        # One rule per PIN check for this judge's life (a per-run rule remembers earlier answers).
        self.rules: tuple[tuple[Check, Rule], ...] = tuple(
            (check, check.new_rule()) for check in ALL_CHECKS if self.selection.enabled(check.name)
        )

    def label(self, method: str, url: str) -> str:
        return self.spec.label_of(method, urlsplit(url).path or "/")

    def schemathesis(
        self, response: httpx.Response, names: Iterable[str] = RESPONSE_CHECKS
    ) -> list[tuple[str, str]]:
        """Schemathesis's verdicts on a (read) httpx response: (check, message) per failure."""
        from schemathesis.core.failures import FailureGroup

        request = response.request
        label = self.label(request.method, str(request.url))
        operation = self._schema.find_operation_by_label(label)
        if operation is None:
            return []
        case = operation.Case(**_case_parts(label, request))
        found = []
        for name in names:
            if name not in self._checks or not self.selection.enabled(name):
                continue
            try:
                case.validate_response(response, checks=[self._checks[name]])
            except FailureGroup as group:
                for failure in group.exceptions:
                    text = getattr(failure, "title", "") or ""
                    detail = getattr(failure, "message", "") or str(failure)
                    found.append((name, f"{text}\n{detail}".strip()))
        return found

    def pin(self, ex: Exchange) -> list[tuple[str, str]]:
        """PIN's checks on an exchange: (check, message) per failure."""
        found = []
        for check, rule in self.rules:
            if not check.applies_to(ex, self.spec):
                continue
            try:
                rule(ex, self.spec)
            except ContractViolation as exc:
                found.append((check.name, str(exc)))
        return found

    def exchange(self, response: httpx.Response) -> Exchange:
        """The ``Exchange`` of an httpx response, labelled with the spec's template."""
        request = response.request
        path = urlsplit(str(request.url)).path or "/"
        template = self.spec.template_of(path) or path
        return Exchange.from_httpx(
            response, template=template, path_params=path_values(template, path)
        )

    def judge(self, response: httpx.Response) -> list[tuple[str, str]]:
        """Every selected check's failures on one exchange."""
        return self.schemathesis(response) + self.pin(self.exchange(response))


def path_values(template: str, path: str) -> dict[str, str]:
    """``{"patient_id": "patient_123"}`` from a template and a concrete path."""
    values = {}
    for name, value in zip(template.split("/"), path.split("/"), strict=False):
        if name.startswith("{") and name.endswith("}"):
            values[name[1:-1]] = value
    return values


def _case_parts(label: str, request: httpx.Request) -> dict[str, Any]:
    _, _, template = label.partition(" ")
    url = urlsplit(str(request.url))
    parts: dict[str, Any] = {
        "path_parameters": path_values(template, url.path),
        "query": dict(parse_qsl(url.query, keep_blank_values=True)),
        "headers": {
            k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "host")
        },
    }
    if request.content:
        try:
            parts["body"] = json.loads(request.content)
        except ValueError:
            pass
    return parts
