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

from pin_mock.contract.probes.framework import example_kwargs
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
