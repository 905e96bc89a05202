"""References and parameters: unknown ids are 404, unknown parameters are refused,
documented boundaries hold, and the spec's own examples come true.

Every id the spec lets a caller name (each path parameter, and query parameters
that name a resource, ``*_id``) is tried with an id that cannot exist: the
answer is 404 ``NOT_FOUND``, never a 200 over nothing. An unknown query
parameter is refused (400) rather than silently ignored, because a typo in a
filter would otherwise return unfiltered data. A ``limit`` at its documented
``maximum`` is accepted and one past it is refused. Each response example that
documents the request it answers (``x-request``, laid on the contract by the
bundled ``example-requests.overlay.yaml``: ``path``,
``query``, ``body``, a narrower ``scope`` or no ``client``) is replayed and must
come back with the documented status and, for an error, its code and message
word for word. Examples that need a set-up, a clock or another named client are
the sandbox's own test material and are left out.
"""

from __future__ import annotations

from typing import Any

from pin_mock.contract.exchange import Exchange
from pin_mock.contract.probes.framework import (
    Probe,
    ProbeContext,
    body_of,
    example_kwargs,
    safe,
)
from pin_mock.contract.spec import Operation, resolve
from pin_mock.overlays import with_example_requests

REFERENCE = "pin_unknown_reference"
PARAMETER = "pin_unknown_parameter"
BOUNDS = "pin_documented_bounds"
EXAMPLES = "pin_documented_examples"
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


#: The ``x-request`` keys of an example the kit knows how to replay; an example using any
#: other (a set-up sequence, a clock, a raw body) is the sandbox's own test material.
REPLAYABLE = frozenset({"path", "query", "body", "scope", "client"})


def documented_examples(ctx: ProbeContext) -> None:
    """Replay each response example that documents its request (``x-request``).

    The requests are not in the contract: the bundled overlay
    ``example-requests.overlay.yaml`` lays them on it (``pin_mock.overlays``);
    examples a revised contract lacks are skipped.
    """
    document = with_example_requests(ctx.spec.document)
    for op in ctx.operations:
        if not op.requires(ctx.spec.oauth2_scheme):
            continue
        raw = resolve(document, document["paths"][op.path][op.method])
        for status, answer in (raw.get("responses") or {}).items():
            answer = resolve(document, answer)
            for content in (answer.get("content") or {}).values():
                for example in (content.get("examples") or {}).values():
                    example = resolve(document, example)
                    request = example.get("x-request")
                    if (
                        isinstance(request, dict)
                        and status.isdigit()
                        and set(request) <= REPLAYABLE
                    ):
                        _replay(ctx, op, int(status), request, example.get("value"))


def _token_for(ctx: ProbeContext, op: Operation, request: dict[str, Any]) -> str | None | bool:
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


def _replay(ctx: ProbeContext, op: Operation, status: int, request: dict, value: Any) -> None:
    if status not in (401, 403) and ctx.lacking([op.operation_id]):
        return  # the client may not call it: the scope probe expects 403 instead
    token = _token_for(ctx, op, request)
    if token is False:
        return
    path = op.path
    for param in op.parameters:
        if param.get("in") == "path":
            given = (request.get("path") or {}).get(param["name"], param.get("example", "x"))
            path = path.replace("{" + param["name"] + "}", str(given))
    body = request["body"] if "body" in request else op.body_example
    kwargs = (
        {"json": safe(body)}
        if body is not None and op.body_media_type == "application/json"
        else {}
    )
    ex = ctx.target.request(op.method.upper(), path, template=op.path, token=token,
                            params=request.get("query") or {}, **kwargs)  # fmt: skip
    documented = value.get("error") if isinstance(value, dict) and status >= 400 else None
    got = body_of(ex).get("error") if isinstance(body_of(ex).get("error"), dict) else {}
    what = f"{op.label} replayed from the spec's example {request}"
    ctx.expect(
        ex.status == status, EXAMPLES, f"{what} answered {ex.status}, documented {status}", ex
    )
    if isinstance(documented, dict) and ex.status == status:
        ctx.expect(got.get("code") == documented.get("code"), EXAMPLES,
                   f"{what}: error.code {got.get('code')!r}, documented {documented.get('code')!r}", ex)  # fmt: skip
        if isinstance(documented.get("message"), str):
            ctx.expect(got.get("message") == documented["message"], EXAMPLES,
                       f"{what}: message {got.get('message')!r}, documented {documented['message']!r}", ex)  # fmt: skip


REFERENCE_PROBES = [
    Probe("unknown ids are 404 NOT_FOUND (path and query)", (), unknown_references, (REFERENCE,)),
    Probe("unknown query parameters are refused", (), unknown_parameters, (PARAMETER,)),
    Probe("documented limit boundaries", (), documented_bounds, (BOUNDS,)),
    Probe(
        "the spec's documented examples, replayed",
        (),
        documented_examples,
        (EXAMPLES,),
        scoped=False,
    ),
]
