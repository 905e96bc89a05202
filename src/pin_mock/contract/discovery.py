"""The first pass: which selected operations the target does not implement.

A partial implementation (three operations of eighteen) would drown a run in
the 404s of what it never meant to serve. Before anything is judged, each
selected operation gets up to two requests, none of them judged and none
meant to change anything: its documented request without a token (an
implemented protected operation answers 401), then with the run's token (a
write with an empty JSON object, which an implemented one refuses with 400 or
422). An operation that answers only 404, 405 or 501 to both is *not
implemented*: the
run reports it in its own section and leaves it out, unless it was asked for
by name (``--include``) or ``--include-unimplemented`` is given.
"""

from __future__ import annotations

import re

from pin_mock.contract.findings import Finding
from pin_mock.contract.probes.framework import example_kwargs
from pin_mock.contract.result import ContractResult
from pin_mock.contract.spec import Operation, Spec
from pin_mock.contract.target import Target

#: The answers of a route that is not there.
ABSENT = frozenset({404, 405, 501})


def _answers(target: Target, spec: Spec, op: Operation, safe_url: str) -> list[int]:
    kwargs = example_kwargs(op, safe_url)
    asks = []
    if op.requires(spec.oauth2_scheme):
        asks.append({**kwargs, "token": None})
    asks.append({"json": {}} if op.body_media_type == "application/json" else kwargs)
    statuses = []
    for ask in asks:
        ex = target.request(
            op.method.upper(), op.example_path(), template=op.path, judge=False, **ask
        )
        statuses.append(ex.status)
        if ex.status not in ABSENT:
            break  # implemented: no need to ask more
    return statuses


def not_implemented(
    target: Target, spec: Spec, operations: list[Operation], safe_url: str
) -> dict[str, str]:
    """Label -> why, for each operation that answered only 404/405/501."""
    found = {}
    for op in operations:
        if spec.is_token_endpoint(op.path):
            continue  # the run already has a token from it
        statuses = _answers(target, spec, op, safe_url)
        if statuses and all(s in ABSENT for s in statuses):
            found[op.label] = "answered only " + ", ".join(str(s) for s in statuses)
    return found


def missing_only_unimplemented(
    message: str, operation: str, unimplemented: dict[str, str]
) -> list[str]:
    """The methods an ``Allow`` mismatch misses, when every one is not implemented (else ``[]``).

    A partial implementation's ``Allow`` truthfully lists what it serves: a
    documented method it lacks is already reported as not implemented.
    """
    match = re.search(r"Missing documented methods: ([A-Z, ]+)", message)
    template = operation.partition(" ")[2]
    missing = [m.strip() for m in match.group(1).split(",") if m.strip()] if match else []
    if missing and all(f"{m} {template}" in unimplemented for m in missing):
        return missing
    return []


def partial_artifacts(result: ContractResult) -> None:
    """What a partial run says that is no failure: said as notes instead.

    A partial implementation's ``Allow`` truthfully lists what it serves; that a
    documented method is missing is already in the not-implemented section. A
    selection without links gives the stateful phase nothing to chain.
    """
    st = result.schemathesis
    if st is None:
        return
    linkless = [e for e in st.errors if e.startswith("Missing Open API links")]
    if linkless:  # a selection whose operations link to none of each other
        st.errors = [e for e in st.errors if e not in linkless]
        result.notes.append(
            "the stateful phase had nothing to chain: the tested operations have no links"
        )
    before = len(st.findings) + len(linkless)
    if result.not_implemented:
        st.findings = _allowed_by_partiality(result, st.findings)
    if before and not st.findings and not st.errors and st.exit_code == 1:
        st.exit_code = 0  # everything it failed on is explained above


def _allowed_by_partiality(result: ContractResult, findings: list[Finding]) -> list[Finding]:
    kept = []
    for finding in findings:
        missing = missing_only_unimplemented(
            finding.message, finding.operation, result.not_implemented
        )
        if finding.check == "allow_header_conformance" and missing:
            result.notes.append(
                f"{finding.operation}: Allow lacks {', '.join(missing)}, which the first pass found "
                "not implemented (not counted as a failure)"
            )
            continue
        kept.append(finding)
    return kept
