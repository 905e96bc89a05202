"""The spec's documented examples and how to replay them (``pin_documented_examples``).

A response example can say which request produces it: an ``x-request`` object
(``path``, ``query``, ``body``, ``scope``, ``client``; see the spec's
description). The kit reads it from the spec itself, or from a replay source
the user names (``--examples FILE``), which wins:

- an OpenAPI Overlay 1.0 or 1.1 document applied to the spec (``pin_mock.overlays``,
  the applier the sandbox uses too), after which the overlaid examples'
  ``x-request`` are read the same way; or
- a map ``{operationId: {example name: {x-request...}}}``.

Without ``--examples``, a sidecar next to the spec (``SIDECARS``, for a spec
whose examples' requests moved out of it) is used when there is one: the bundled
``pin.yaml`` has its requests in ``example-requests.overlay.yaml`` beside it. An example
the kit cannot replay (no request documented, a set-up, a clock, another named
client, ``x-replay: false``) is listed in the coverage with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pin_mock import overlays
from pin_mock.contract.openapi import SpecError, resolve
from pin_mock.contract.spec import Operation, Spec

#: The ``x-request`` keys of an example the kit knows how to replay.
REPLAYABLE = frozenset({"path", "query", "body", "scope", "client"})
#: Sidecars looked for next to the spec, when ``--examples`` is not given.
SIDECARS = (
    "{stem}.examples.yaml",
    "{stem}.overlay.yaml",
    "{stem}-examples.yaml",
    overlays.EXAMPLE_REQUESTS,
)


@dataclass(frozen=True)
class DocumentedExample:
    operation: Operation
    status: str
    name: str
    value: Any
    #: The documented request; ``None`` when none is documented.
    request: dict[str, Any] | None
    #: Why the kit will not replay it ('' when it will).
    why_not: str = ""

    @property
    def key(self) -> str:
        return f"{self.status} {self.name}"


def default_source(spec_path: Path) -> Path | None:
    """A sidecar of the spec's examples next to it, if there is one."""
    for pattern in SIDECARS:
        candidate = spec_path.with_name(pattern.format(stem=spec_path.stem))
        if candidate.is_file():
            return candidate
    return None


def load_source(path: Path, spec: Spec) -> tuple[dict[str, Any], dict[tuple[str, str], dict]]:
    """(the spec document to read examples from, requests by (operationId, name)) of a source."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read the examples source {path}: {exc}") from None
    if isinstance(document, dict) and "overlay" in document and "actions" in document:
        try:
            return overlays.apply(spec.document, overlays.load(path)).document, {}
        except overlays.OverlayError as exc:
            raise SpecError(str(exc)) from None
    if not isinstance(document, dict):
        raise SpecError(f"{path}: an examples source is an Overlay 1.0 or a map of operationIds")
    requests = {}
    for operation_id, examples in document.items():
        if not isinstance(examples, dict):
            raise SpecError(f"{path}: {operation_id} must map example names to requests")
        for name, request in examples.items():
            requests[(str(operation_id), str(name))] = request
    return spec.document, requests


def documented_examples(spec: Spec, source: Path | None = None) -> list[DocumentedExample]:
    """Every named response example of the spec, with its request and whether it can be replayed."""
    document, requests = load_source(source, spec) if source is not None else (spec.document, {})
    found = []
    for op in spec.operations:
        raw = resolve(document, (document["paths"].get(op.path) or {}).get(op.method) or {})
        for status, answer in (raw.get("responses") or {}).items():
            answer = resolve(document, answer)
            for content in (answer.get("content") or {}).values():
                for name, example in (content.get("examples") or {}).items():
                    example = resolve(document, example)
                    request = requests.get((op.operation_id, str(name)), example.get("x-request"))
                    found.append(_judged(spec, op, str(status), str(name), example, request))
    return found


def _judged(
    spec: Spec, op: Operation, status: str, name: str, example: dict, request: Any
) -> DocumentedExample:
    value = example.get("value")

    def make(why: str) -> DocumentedExample:
        return DocumentedExample(
            op, status, name, value, request if isinstance(request, dict) else None, why
        )

    if example.get("x-replay") is False:
        return make(f"not replayable: {example.get('x-replay-reason') or 'x-replay is false'}")
    if not isinstance(request, dict):
        return make("the spec does not document the request that produces it (x-request)")
    if not status.isdigit():
        return make(f"status {status} is a range, not one answer")
    if not op.requires(spec.oauth2_scheme):
        return make("the token endpoint's examples name the sandbox's own clients")
    extra = sorted(set(request) - REPLAYABLE)
    if extra:
        return make(f"needs {', '.join(extra)}, which only the sandbox's own tests can set up")
    return make("")
