"""References and parameters: unknown ids are 404, unknown parameters are refused,
documented boundaries hold, and the spec's own examples come true.

One probe per operation and concern, so a selection (``--include``, ``-k`` in
pytest) scopes them like any other test. Every id the spec lets a caller name
(each path parameter, and query parameters that name a resource, ``*_id``) is
tried with an id that cannot exist: the answer is 404 ``NOT_FOUND``, never a
200 over nothing. An unknown query parameter is refused (400) rather than
silently ignored, because a typo in a filter would otherwise return unfiltered
data. A ``limit`` at its documented ``maximum`` is accepted and one past it is
refused. Each documented response example whose request is known
(``examples.py``) is replayed: the status and the error code must be the
documented ones (``pin_documented_examples``); the message word for word where
the spec publishes its wording (``x-exact-wording``: ``pin_documented_messages``),
or everywhere with the opt-in ``pin_example_messages``.
"""

from __future__ import annotations

from typing import Any

from pin_mock.contract.examples import DocumentedExample
from pin_mock.contract.exchange import Exchange, shown
from pin_mock.contract.probes.framework import (
    Probe,
    ProbeContext,
    body_of,
    example_kwargs,
    safe,
)
from pin_mock.contract.spec import Operation, Spec

REFERENCE = "pin_unknown_reference"
PARAMETER = "pin_unknown_parameter"
BOUNDS = "pin_documented_bounds"
EXAMPLES = "pin_documented_examples"
MESSAGES = "pin_documented_messages"
ALL_MESSAGES = "pin_example_messages"
UNKNOWN_QUERY = "pin_contract_unknown"
#: Every check these probes report (whether or not the spec gives them anything to do).
REFERENCE_CHECKS = (REFERENCE, PARAMETER, BOUNDS, EXAMPLES, MESSAGES, ALL_MESSAGES)


def _code(ex: Exchange) -> Any:
    error = body_of(ex).get("error")
    return error.get("code") if isinstance(error, dict) else None


def _code_text(ex: Exchange) -> str:
    code = _code(ex)
    return f"error.code {shown(code)}" if code is not None else "no error code"


def _usable(ctx: ProbeContext, op: Operation) -> bool:
    return op.requires(ctx.spec.oauth2_scheme) and not ctx.lacking([op.operation_id])


def _references(op: Operation) -> list[tuple[str, str]]:
    """(location, name) of each id a caller names: path parameters, ``*_id`` query of a GET."""
    found = [("path", name) for name in op.path_parameters]
    found += [("query", n) for n in op.query_names() if n.endswith("_id") and op.method == "get"]
    return found


def unknown_references(op: Operation):
    def run(ctx: ProbeContext) -> None:
        if not _usable(ctx, op):
            return
        missing = f"pin-contract-missing-{ctx.run_id}"
        for where, name in _references(op):
            path_params = {name: missing} if where == "path" else {}
            params = {name: missing} if where == "query" else {}
            ex = ctx.call(
                op.operation_id, path_params, params=params, **example_kwargs(op, ctx.safe_url)
            )
            ctx.expect(
                ex.status == 404 and _code(ex) == "NOT_FOUND",
                REFERENCE,
                f"{op.label} with an unknown {name} answered {ex.status} ({_code_text(ex)}) "
                "instead of 404 NOT_FOUND",
                ex,
            )

    return run


def unknown_parameters(op: Operation):
    def run(ctx: ProbeContext) -> None:
        if not _usable(ctx, op):
            return
        ex = ctx.call(op.operation_id, params={UNKNOWN_QUERY: "1"})
        ctx.expect(
            ex.status == 400,
            PARAMETER,
            f"{op.label} with an unknown query parameter {UNKNOWN_QUERY} answered {ex.status}; "
            "an unknown parameter (a misspelt filter) must be refused, not ignored",
            ex,
        )

    return run


def documented_bounds(op: Operation):
    def run(ctx: ProbeContext) -> None:
        maximum = op.query_maximum("limit")
        if maximum is None or not _usable(ctx, op):
            return
        ok = ctx.call(op.operation_id, params={"limit": maximum})
        ctx.expect(ok.status == 200, BOUNDS,
                   f"{op.label} with limit={maximum} (the documented maximum) answered {ok.status}", ok)  # fmt: skip
        past = ctx.call(op.operation_id, params={"limit": maximum + 1})
        ctx.expect(past.status == 400, BOUNDS,
                   f"{op.label} with limit={maximum + 1} (past the documented maximum) answered {past.status}", past)  # fmt: skip

    return run


def _token_for(ctx: ProbeContext, request: dict[str, Any]) -> str | None | bool:
    """The Authorization header for the replay; ``False`` when the kit cannot make it."""
    if "client" in request:
        if request["client"] is None:
            return None
        return False if request["client"] != ctx.client_id else _own(ctx)
    if "scope" in request:
        granted = ctx.granted
        if granted is not None and request["scope"] not in granted:
            return False
        minted = ctx.grant(str(request["scope"]))
        token = body_of(minted).get("access_token")
        return f"Bearer {token}" if minted.status == 200 and token else False
    return _own(ctx)


def _own(ctx: ProbeContext) -> str | None:
    return f"Bearer {ctx.target.tokens.token()}" if ctx.target.tokens is not None else None


def _describe(request: dict[str, Any]) -> str:
    parts = []
    for key, value in request.items():
        if key == "client":
            parts.append("without a token" if value is None else f"as client {value}")
        elif key == "scope":
            parts.append(f"with a token for scope {value}")
        else:
            parts.append(f"{key} {shown(value)}")
    return ", ".join(parts) or "as documented"


def replay(ctx: ProbeContext, example: DocumentedExample) -> str:
    """Replay one example and judge the answer; returns why it was not replayed ('' if it was)."""
    op, status, request = example.operation, int(example.status), example.request or {}
    if status not in (401, 403) and ctx.lacking([op.operation_id]):
        return "the client may not call it (the scope probe expects 403 there)"
    token = _token_for(ctx, request)
    if token is False:
        return "needs another client or a scope the run's client lacks"
    body = request["body"] if "body" in request else op.body_example
    kwargs = (
        {"json": safe(body, ctx.safe_url)}
        if body is not None and op.body_media_type == "application/json"
        else {}
    )
    ex = ctx.call(op.operation_id, dict(request.get("path") or {}), token=token,
                  params=request.get("query") or {}, **kwargs)  # fmt: skip
    what = f"{op.label} replayed from the spec's example {example.name} ({_describe(request)})"
    ctx.expect(
        ex.status == status, EXAMPLES, f"{what} answered {ex.status}, documented {status}", ex
    )
    value = example.value
    documented = value.get("error") if isinstance(value, dict) and status >= 400 else None
    got = body_of(ex).get("error") if isinstance(body_of(ex).get("error"), dict) else {}
    if isinstance(documented, dict) and ex.status == status:
        ctx.expect(got.get("code") == documented.get("code"), EXAMPLES,
                   f"{what}: error.code {shown(got.get('code'))}, documented {shown(documented.get('code'))}", ex)  # fmt: skip
        wording = documented.get("message")
        if isinstance(wording, str):
            check = MESSAGES if wording in ctx.spec.exact_messages else ALL_MESSAGES
            ctx.expect(got.get("message") == wording, check,
                       f"{what}: message {shown(got.get('message'))}, documented {shown(wording)}", ex)  # fmt: skip
    return ""


def documented_examples(op: Operation):
    def run(ctx: ProbeContext) -> None:
        observations = ctx.target.observations
        for example in ctx.examples:
            if example.operation != op:
                continue
            why_not = example.why_not or replay(ctx, example)
            if observations is not None:
                observations.example(op.label, example.key, why_not)

    return run


def reference_probes(
    spec: Spec, operations: list[Operation], examples: list[DocumentedExample]
) -> list[Probe]:
    """One probe per operation and concern it applies to."""
    probes = []
    with_examples = {e.operation.operation_id for e in examples}
    for op in operations:
        if not op.requires(spec.oauth2_scheme):
            continue
        needs = (op.operation_id,)
        if _references(op):
            probes.append(
                Probe(
                    f"unknown ids are 404 NOT_FOUND: {op.label}",
                    needs,
                    unknown_references(op),
                    (REFERENCE,),
                )
            )
        if op.method == "get":
            probes.append(
                Probe(
                    f"unknown query parameters are refused: {op.label}",
                    needs,
                    unknown_parameters(op),
                    (PARAMETER,),
                )
            )
        if op.method == "get" and op.query_maximum("limit") is not None and not op.path_parameters:
            probes.append(
                Probe(
                    f"documented limit boundaries: {op.label}",
                    needs,
                    documented_bounds(op),
                    (BOUNDS,),
                )
            )
        if op.operation_id in with_examples:
            probes.append(
                Probe(
                    f"documented examples replayed: {op.label}",
                    needs,
                    documented_examples(op),
                    (EXAMPLES, MESSAGES, ALL_MESSAGES),
                    scoped=False,
                )
            )
    return probes  # fmt: skip
