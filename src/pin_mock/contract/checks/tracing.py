"""Errors that can be traced: every API error carries ``X-Request-Id`` when the spec documents it.

The header is only required where the spec under test names it (in
``components.headers`` or on any response), so a spec without it is not held
to it; the sandbox sends it on every answer.
"""

from __future__ import annotations

from functools import cache

from pin_mock.contract.checks.registry import check
from pin_mock.contract.exchange import Exchange, fail
from pin_mock.contract.spec import Spec, resolve

HEADER = "x-request-id"


@cache
def documents_request_id(spec: Spec) -> bool:
    """Whether the spec names the ``X-Request-Id`` header anywhere."""
    components = (spec.document.get("components") or {}).get("headers") or {}
    if any(name.lower() == HEADER for name in components):
        return True
    for op in spec.operations:
        for answer in op.responses.values():
            headers = resolve(spec.document, answer).get("headers") or {}
            if any(name.lower() == HEADER for name in headers):
                return True
    return False


@check("pin_error_request_id")
def error_request_id(ex: Exchange, spec: Spec) -> None:
    """Every 4xx/5xx of the API carries X-Request-Id (where the spec documents the header)."""
    if ex.status < 400 or not spec.in_api(ex.template) or not documents_request_id(spec):
        return
    if not (ex.header(HEADER) or "").strip():
        fail(f"{ex.status} answer without an X-Request-Id header (the spec documents it)")
