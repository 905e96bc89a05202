"""References and parameters: unknown ids are 404, unknown parameters are refused,
documented boundaries hold, and the spec's own error examples come true.

Every id the spec lets a caller name (each path parameter, and query parameters
that name a resource, ``*_id``) is tried with an id that cannot exist: the
answer is 404 ``NOT_FOUND``, never a 200 over nothing. An unknown query
parameter is refused (400) rather than silently ignored, because a typo in a
filter would otherwise return unfiltered data. A ``limit`` at its documented
``maximum`` is accepted and one past it is refused. Each error example of the
spec that names the parameter it is about (``details.parameter`` and
``details.value``) is replayed on the safe operations that take that parameter,
and must come back with the documented status, code and message, word for word.
"""

from __future__ import annotations

from typing import Any

from pin_mock.contract.exchange import Exchange
from pin_mock.contract.probes.framework import Probe, ProbeContext, body_of, example_kwargs
from pin_mock.contract.spec import Operation, examples_of

REFERENCE = "pin_unknown_reference"
PARAMETER = "pin_unknown_parameter"
BOUNDS = "pin_documented_bounds"
EXAMPLES = "pin_documented_errors"
UNKNOWN_QUERY = "pin_contract_unknown"


def _code(ex: Exchange) -> Any:
    error = body_of(ex).get("error")
    return error.get("code") if isinstance(error, dict) else None


def _replace(op: Operation, name: str, value: str) -> str:
    path = op.path
    for param in op.parameters:
        if param.get("in") == "path":
            replacement = value if param["name"] == name else str(param.get("example", "x"))
            path = path.replace("{" + param["name"] + "}", replacement)
    return path


def _usable(ctx: ProbeContext, op: Operation) -> bool:
    return op.requires(ctx.spec.oauth2_scheme) and not ctx.lacking([op.operation_id])


def unknown_references(ctx: ProbeContext) -> None:
    missing = f"pin-contract-missing-{ctx.run_id}"
    for op in ctx.operations:
        if not _usable(ctx, op):
            continue
        for param in op.parameters:
            name = param.get("name", "")
            if param.get("in") == "path":
                path, params = _replace(op, name, missing), {}
            elif param.get("in") == "query" and name.endswith("_id") and op.method == "get":
                path, params = op.example_path(), {name: missing}
            else:
                continue
            ex = ctx.target.request(op.method.upper(), path, template=op.path, params=params,
                                    path_params={name: missing}, **example_kwargs(op))  # fmt: skip
            ctx.expect(
                ex.status == 404 and _code(ex) == "NOT_FOUND",
                REFERENCE,
                f"{op.label} with an unknown {name} answered {ex.status} {_code(ex)!r} instead of 404 NOT_FOUND",
                ex,
            )


def unknown_parameters(ctx: ProbeContext) -> None:
    for op in ctx.operations:
        if op.method != "get" or not _usable(ctx, op):
            continue
        ex = ctx.target.request("GET", op.example_path(), template=op.path,
                                params={UNKNOWN_QUERY: "1"})  # fmt: skip
        ctx.expect(
            ex.status == 400,
            PARAMETER,
            f"{op.label} with an unknown query parameter {UNKNOWN_QUERY!r} answered {ex.status}; "
            "an unknown parameter (a misspelt filter) must be refused, not ignored",
            ex,
        )


def documented_bounds(ctx: ProbeContext) -> None:
    for op in ctx.operations:
        maximum = op.query_maximum("limit")
        # Only lists whose path names nothing: a documented example id need not exist.
        if op.method != "get" or maximum is None or "{" in op.path or not _usable(ctx, op):
            continue
        ok = ctx.target.request(
            "GET", op.example_path(), template=op.path, params={"limit": maximum}
        )
        ctx.expect(ok.status == 200, BOUNDS,
                   f"{op.label} with limit={maximum} (the documented maximum) answered {ok.status}", ok)  # fmt: skip
        past = ctx.target.request(
            "GET", op.example_path(), template=op.path, params={"limit": maximum + 1}
        )
        ctx.expect(past.status == 400, BOUNDS,
                   f"{op.label} with limit={maximum + 1} (past the documented maximum) answered {past.status}", past)  # fmt: skip


def documented_errors(ctx: ProbeContext) -> None:
    """Replay each error example that names its parameter, where a safe operation takes it."""
    for op in ctx.operations:
        if op.method != "get" or not _usable(ctx, op):
            continue
        query = {p.get("name") for p in op.parameters if p.get("in") == "query"}
        for status, answer in op.responses.items():
            if not status.isdigit() or int(status) < 400:
                continue
            for content in (answer.get("content") or {}).values():
                for example in examples_of(ctx.spec.document, content):
                    error = example.get("error") if isinstance(example, dict) else None
                    details = error.get("details") if isinstance(error, dict) else None
                    if not isinstance(details, dict) or details.get("parameter") not in query:
                        continue
                    if not isinstance(details.get("value"), str):
                        continue
                    _replay(ctx, op, int(status), error, details["parameter"], details["value"])


def _replay(
    ctx: ProbeContext, op: Operation, status: int, error: dict, name: str, value: str
) -> None:
    ex = ctx.target.request("GET", op.example_path(), template=op.path, params={name: value})
    got = body_of(ex).get("error") if isinstance(body_of(ex).get("error"), dict) else {}
    ctx.expect(
        ex.status == status and got.get("code") == error.get("code"),
        EXAMPLES,
        f"{op.label} with {name}={value!r} (the spec's example) answered {ex.status} "
        f"{got.get('code')!r}; documented: {status} {error.get('code')!r}",
        ex,
    )
    if isinstance(error.get("message"), str) and ex.status == status:
        ctx.expect(
            got.get("message") == error["message"],
            EXAMPLES,
            f"{op.label} with {name}={value!r}: message {got.get('message')!r}, "
            f"documented {error['message']!r}",
            ex,
        )


REFERENCE_PROBES = [
    Probe("unknown ids are 404 NOT_FOUND (path and query)", (), unknown_references, (REFERENCE,)),
    Probe("unknown query parameters are refused", (), unknown_parameters, (PARAMETER,)),
    Probe("documented limit boundaries", (), documented_bounds, (BOUNDS,)),
    Probe("the spec's error examples, replayed", (), documented_errors, (EXAMPLES,)),
]
