"""OpenAPI Overlays: PIN's contract and what the sandbox lays over it.

``openapi/pin.yaml`` is PIN's contract as PIN would publish it. What only the
sandbox says lives beside it in Overlay 1.1 documents (OAI's Overlay
Specification: an ordered list of actions, each a JSONPath ``target`` with an
``update`` or ``remove``), applied in the order of ``SANDBOX_OVERLAYS``:

- ``sandbox.overlay.yaml``: the sandbox's own document: its server, the
  ``Sandbox`` tag (what differs from PIN, which settings change what), its own
  operations under ``/_sandbox`` and notes on PIN's examples;
- ``code-samples.overlay.yaml``: the curl, Python and JavaScript samples of each
  operation, written against a local sandbox;
- ``example-requests.overlay.yaml``: the request behind each example of an
  answer (``x-request``), or why it cannot be replayed (``x-replay: false``).

The contract plus all three is "the sandbox's view": what ``/docs``,
``/reference`` and ``/_sandbox/openapi.json`` show and what the sandbox routes
and validates. The kit reads only the example requests (``with_example_requests``).

Overlay 1.1 semantics (1.0 documents are read the same way), as
``openapi-format`` applies them too (a test compares the two): an ``update`` is
merged into each selected object (nested objects merged, anything else
replaced) or appended to each selected array; ``remove`` deletes each selected
node from its parent. 1.1 says the array append explicitly, which is why the
overlays declare it; they use no ``copy`` action. This module imports nothing from
the server or the kit, so both can use it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonpath
import yaml

from pin_mock._bundled import overlay_path

#: The overlays that make the sandbox's view of the contract, in the order applied.
SANDBOX_OVERLAYS = (
    "sandbox.overlay.yaml",
    "code-samples.overlay.yaml",
    "example-requests.overlay.yaml",
)
EXAMPLE_REQUESTS = "example-requests.overlay.yaml"


class OverlayError(ValueError):
    """An overlay that is not Overlay 1.x, or (strictly applied) an action that selects nothing."""


@dataclass(frozen=True)
class Applied:
    """The overlaid document, and the targets of the actions that selected nothing."""

    document: dict[str, Any]
    unmatched: tuple[str, ...]


# libyaml's safe loader is ~10x faster than the pure-Python one: the sandbox, the kit
# and a test session's sandbox (pin_mock.testing) read the overlays at every start.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: Path) -> dict[str, Any]:
    """An Overlay 1.0 or 1.1 document from ``path``; ``OverlayError`` names what is wrong."""
    try:
        overlay = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise OverlayError(f"cannot read the overlay {path}: {exc}") from exc
    if not isinstance(overlay, dict) or not re.fullmatch(
        r"1\.[01]\.\d+", str(overlay.get("overlay"))
    ):
        raise OverlayError(f"{path}: not an Overlay 1.0 or 1.1 document (`overlay: 1.1.0`)")
    actions = overlay.get("actions")
    if not isinstance(actions, list) or not actions:
        raise OverlayError(f"{path}: `actions` must be a non-empty list")
    for number, action in enumerate(actions, 1):
        if not isinstance(action, dict) or not str(action.get("target", "")).startswith("$"):
            raise OverlayError(f"{path}: action {number} needs a JSONPath `target` ($...)")
        if "update" not in action and action.get("remove") is not True:
            raise OverlayError(
                f"{path}: action {number} ({action['target']}) neither updates nor removes"
            )
    return overlay


def apply(document: dict[str, Any], overlay: dict[str, Any]) -> Applied:
    """``document`` with ``overlay``'s actions applied in order (``document`` is not changed)."""
    result = copy.deepcopy(document)
    unmatched = []
    for action in overlay["actions"]:
        try:
            matches = list(jsonpath.finditer(action["target"], result))
        except jsonpath.JSONPathError as exc:
            raise OverlayError(f"bad target {action['target']!r}: {exc}") from exc
        if not matches:
            unmatched.append(action["target"])
            continue
        if action.get("remove") is True:
            _remove(result, [m.parts for m in matches])
            continue
        for match in matches:
            _update(match.obj, action["update"], action["target"])
    return Applied(result, tuple(unmatched))


def _update(node: Any, update: Any, target: str) -> None:
    if isinstance(node, list):
        node.append(copy.deepcopy(update))
    elif isinstance(node, dict) and isinstance(update, dict):
        _merge(node, update)
    else:
        raise OverlayError(f"{target}: an update needs an object or an array to change")


def _merge(into: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def _remove(document: dict[str, Any], locations: list[tuple[Any, ...]]) -> None:
    # Last first, so removing an array item does not shift the ones still to remove.
    for parts in sorted(locations, key=lambda p: [str(x).zfill(12) for x in p], reverse=True):
        if not parts:
            raise OverlayError("`$` itself cannot be removed")
        parent = document
        for part in parts[:-1]:
            parent = parent[part]
        del parent[parts[-1]]


def apply_all(document: dict[str, Any], names: tuple[str, ...], *, strict: bool) -> dict[str, Any]:
    """``document`` with the bundled overlays ``names`` applied in order.

    ``strict``: every action must select something (the bundled contract: a
    renamed example or path must not silently drop its overlay). Not strict:
    actions for what a revised spec lacks are skipped.
    """
    for name in names:
        applied = apply(document, _bundled(name))
        if strict and applied.unmatched:
            raise OverlayError(f"{name}: these targets select nothing: {list(applied.unmatched)}")
        document = applied.document
    return document


def sandbox_document(contract: dict[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """The sandbox's view: ``contract`` with every sandbox overlay applied."""
    return apply_all(contract, SANDBOX_OVERLAYS, strict=strict)


def with_example_requests(contract: dict[str, Any]) -> dict[str, Any]:
    """``contract`` with the request behind each example (``x-request``) laid on it.

    What the kit replays: actions for examples a revised contract lacks are skipped.
    """
    return apply_all(contract, (EXAMPLE_REQUESTS,), strict=False)


def fingerprint(document: dict[str, Any]) -> str:
    """The SHA-256 of ``document``'s content (keys sorted): the reference names the view it shows."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@lru_cache(maxsize=8)
def _bundled(name: str) -> dict[str, Any]:
    return load(overlay_path(name))


def main(argv: list[str] | None = None) -> int:
    """``python -m pin_mock.overlays [--spec pin.yaml] OUTPUT``: write the sandbox's view (JSON)."""
    import argparse

    from pin_mock._bundled import spec_path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("--spec", type=Path, default=spec_path())
    args = parser.parse_args(argv)
    contract = yaml.safe_load(args.spec.read_text(encoding="utf-8"))
    view = sandbox_document(contract, strict=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(view, ensure_ascii=False, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
