"""The kit's own probes: what Schemathesis does not test by itself.

A probe is a short, deterministic script against the target that ends in
findings. They cover auth enforcement (Schemathesis skips ``ignored_auth`` for
``oauth2`` schemes), the token endpoint's RFC 6749 errors, statefulness
(created resources are readable at ``Location`` and listed; a deleted webhook
is gone), filters that must *exclude* (which random data rarely proves),
paging across pages, and what no generic fuzzer sees (scopes, tenancy,
reports, webhooks, accounting). ``catalogue.py`` lists them in order; this
module is the small framework they share.

A probe takes paths, parameters and bodies from the spec it is given: it calls
an operation by its ``operationId`` (``ctx.call``), the path filled from the
operation's template, the body from the operation's documented example
(``ctx.body``). It never names a sandbox client or a sandbox path.
"""

from __future__ import annotations

import copy
import dataclasses
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pin_mock.contract.examples import DocumentedExample
from pin_mock.contract.exchange import Exchange
from pin_mock.contract.findings import Finding
from pin_mock.contract.receiver import Receiver
from pin_mock.contract.result import ProbeResult
from pin_mock.contract.safe_urls import INVALID_URL
from pin_mock.contract.spec import Operation, Spec
from pin_mock.contract.target import Target, finding

__all__ = ["ProbeAbort", "ProbeContext", "ProbeResult", "ProbeSkip", "Probe", "run_probes"]

#: The check of a probe that crashed (a network error, an answer it could not read).
PROBE_ERROR = "probe_error"


class ProbeAbort(Exception):
    """A probe cannot go on (a step it depends on failed); its findings stand."""


class ProbeSkip(Exception):
    """A probe cannot run against this target (the reason is reported as its skip)."""


@dataclass
class ProbeContext:
    """What a probe works with: the target, the selected operations, its findings."""

    target: Target
    operations: list[Operation]
    client_id: str | None = None
    client_secret: str | None = None
    findings: list[Finding] = field(default_factory=list)
    #: Resources created by earlier probes (a patient for the clinical-data probe).
    shared: dict[str, Any] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    #: A second client of the same target, for the tenancy probe (``--second-client-id``).
    second_client_id: str | None = None
    second_client_secret: str | None = None
    #: Where the target can reach the kit's webhook receiver (``None``: on loopback, if local).
    receiver_url: str | None = None
    #: The address the receiver listens on (``host:port``; default an ephemeral loopback port).
    receiver_bind: str | None = None
    #: Seconds a webhook delivery (or its retry) may take to arrive.
    webhook_wait: float = 30.0
    #: The kit's webhook receiver, when the run has one (loopback or ``--webhook-bind``).
    receiver: Receiver | None = None
    #: operationIds the first pass found not implemented (their probes are skipped).
    unimplemented: frozenset[str] = frozenset()
    #: The spec's documented examples, with how to replay them (``examples.py``).
    examples: list[DocumentedExample] = field(default_factory=list)
    #: Expectations not judged because the answer was 429 (a spent budget proves nothing else).
    rate_limited: int = 0

    @property
    def safe_url(self) -> str:
        """A URL the target may be asked to call: the kit's receiver, else an ``.invalid`` host."""
        if self.receiver_base is not None:
            return f"{self.receiver_base}/pin-contract/{self.run_id}/parked"
        return INVALID_URL

    @property
    def receiver_base(self) -> str | None:
        """Where the target reaches the receiver (``None``: no receiver in this run)."""
        if self.receiver_url:
            return self.receiver_url.rstrip("/")
        if self.receiver is not None:
            return "http://{}:{}".format(*self.receiver.address)
        return None

    @property
    def spec(self) -> Spec:
        """The facts of the spec under test (the target's)."""
        return self.target.spec

    @property
    def granted(self) -> frozenset[str] | None:
        """The scopes the run's token carries (``None``: the token endpoint did not say)."""
        return self.target.tokens.granted if self.target.tokens is not None else None

    def lacking(self, operation_ids: Iterable[str]) -> list[str]:
        """The scopes these operations need that the run's token lacks."""
        granted = self.granted
        if granted is None:
            return []
        needed = {s for n in operation_ids if (op := self.operation(n)) for s in op.scopes}
        return sorted(needed - granted)

    def grant(self, scope: str | None, client: tuple[str, str] | None = None) -> Exchange:
        """A client-credentials token request (the run's client unless ``client``), recorded."""
        client_id, secret = client or (self.client_id or "", self.client_secret or "")
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        if scope is not None:
            form["scope"] = scope
        path = urlsplit(self.spec.token_url).path
        return self.target.request("POST", path, template=path, token=None, data=form)

    def operation(self, operation_id: str) -> Operation | None:
        """The selected operation with this id, if any."""
        return next((op for op in self.operations if op.operation_id == operation_id), None)

    def expect(
        self, condition: bool, check: str, message: str, ex: Exchange | None, *, operation: str = ""
    ) -> bool:
        """Record a finding unless ``condition`` holds (and the run judges ``check``)."""
        if not self.target.checks.enabled(check):
            return True
        if not condition and ex is not None and ex.status == 429 and "rate_limit" not in check:
            # The target refused for its budget before judging the request: this says
            # nothing about the rule (the verdict fails a run that 429s dominate).
            self.rate_limited += 1
            return False
        label = operation or (f"{ex.method} {ex.template}" if ex is not None else "?")
        self.target.observe_check(label, check, condition)
        if not condition:
            self.findings.append(finding(label, check, message, ex))
        return condition

    def require(self, condition: bool, check: str, message: str, ex: Exchange | None) -> None:
        """Like ``expect``, but stop the probe when the condition fails."""
        if not self.expect(condition, check, message, ex):
            raise ProbeAbort(message)

    def send(self, method: str, operation_id: str, path: str, **kwargs: Any) -> Exchange:
        """A request to the operation ``operation_id`` (its template labels the findings)."""
        op = self.operation(operation_id)
        template = op.path if op else path
        return self.target.request(method, path, template=template, **kwargs)

    def op(self, operation_id: str) -> Operation:
        """The selected operation with this id (a probe only calls what it ``needs``)."""
        found = self.operation(operation_id) or self.spec.by_id(operation_id)
        if found is None:
            raise ProbeSkip(f"the spec has no operation {operation_id}")
        return found

    def call(
        self, operation_id: str, path_params: dict[str, Any] | None = None, **kwargs: Any
    ) -> Exchange:
        """Call an operation of the spec: its method, its path filled from ``path_params``
        (the rest from the documented examples); ``params`` is the query, as in httpx."""
        op = self.op(operation_id)
        values = {k: v for k, v in (path_params or {}).items() if k in op.path_parameters}
        return self.target.request(
            op.method.upper(), op.path_with(values), template=op.path, path_params=values, **kwargs
        )

    def path(self, operation_id: str, **params: Any) -> str:
        """The operation's path with ``params`` filled in."""
        return self.op(operation_id).path_with(params)

    def body(self, operation_id: str, **overrides: Any) -> dict[str, Any]:
        """The operation's documented request body, made safe, with ``overrides`` on top."""
        example = self.op(operation_id).body_example
        body = copy.deepcopy(example) if isinstance(example, dict) else {}
        body = safe(body, self.safe_url)
        body.update(overrides)
        return body


@dataclass(frozen=True)
class Probe:
    """A named probe, the operations (by operationId) it needs and the checks it reports."""

    name: str
    needs: tuple[str, ...]
    run: Callable[[ProbeContext], None]
    #: The check names of its own findings (besides ``probe_error`` and the ambient checks').
    checks: tuple[str, ...]
    needs_credentials: bool = True
    #: Skipped when the run's token lacks a scope of ``needs`` (its writes would be 403s,
    #: which the scope probe expects instead).
    scoped: bool = True


def run_probes(
    ctx: ProbeContext,
    probes: Iterable[Probe],
    on_result: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """Run each applicable probe in order; a crash of one probe is its finding, not the run's end."""
    results = []
    for probe in probes:
        why = skip_reason(ctx, probe)
        if why:
            result = ProbeResult(probe.name, [], skipped=why)
        else:
            result = _run_one(ctx, probe)
        result.checks, result.needs = probe.checks, probe.needs
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def skip_reason(ctx: ProbeContext, probe: Probe) -> str:
    """Why ``probe`` cannot run against this target ('' when it can)."""
    selected = {op.operation_id for op in ctx.operations}
    unimplemented = [n for n in probe.needs if n in ctx.unimplemented]
    if unimplemented:
        return f"operations not implemented: {', '.join(unimplemented)}"
    missing = [n for n in probe.needs if n not in selected]
    if missing:
        return f"operations not selected: {', '.join(missing)}"
    if probe.needs_credentials and ctx.target.tokens is None:
        return "needs client credentials"
    if probe.scoped and (lacking := ctx.lacking(probe.needs)):
        return f"the client lacks {', '.join(lacking)} (403s expected)"
    if probe.checks and not any(ctx.target.checks.enabled(c) for c in probe.checks):
        return f"its checks are left out ({', '.join(probe.checks)})"
    return ""


def _run_one(ctx: ProbeContext, probe: Probe) -> ProbeResult:
    own, ambient, requests = len(ctx.findings), len(ctx.target.findings), ctx.target.requests
    started = time.monotonic()
    try:
        probe.run(ctx)
    except ProbeAbort:
        pass
    except ProbeSkip as skip:
        found = [dataclasses.replace(f, probe=probe.name) for f in ctx.findings[own:]]
        return ProbeResult(probe.name, found, time.monotonic() - started, str(skip))
    except Exception as exc:  # noqa: BLE001 - a network error or a crash is this probe's finding
        ctx.findings.append(
            Finding(probe.name, PROBE_ERROR, f"{type(exc).__name__}: {exc}", source="probe")
        )
    found = [
        dataclasses.replace(f, probe=probe.name)
        for f in ctx.findings[own:] + ctx.target.findings[ambient:]
    ]
    return ProbeResult(
        probe.name, found, time.monotonic() - started, None, ctx.target.requests - requests
    )


def safe(value: Any, url: str = INVALID_URL) -> Any:
    """A documented example with every ``url`` field pointed at ``url`` (the receiver or
    an ``.invalid`` host: a probe never makes a target call the internet)."""
    if isinstance(value, dict):
        return {k: url if k == "url" else safe(v, url) for k, v in value.items()}
    if isinstance(value, list):
        return [safe(v, url) for v in value]
    return value


def example_kwargs(op: Operation, url: str = INVALID_URL) -> dict[str, Any]:
    """The operation's documented request body (made safe), as ``httpx`` keyword arguments."""
    if op.body_example is None:
        return {}
    if op.body_media_type == "application/x-www-form-urlencoded":
        return {"data": op.body_example}
    return {"json": safe(op.body_example, url)}


def body_of(ex: Exchange) -> dict[str, Any]:
    """The JSON object body of an answer, or an empty dict."""
    body = ex.json()
    return body if isinstance(body, dict) else {}
