"""OpenAPI Overlay 1.0, enough to read a spec's sidecar: ``update`` and ``remove`` actions.

An overlay is ``{"overlay": "1.0.0", "actions": [{"target", "update" | "remove"}]}``;
each ``target`` is a JSONPath. The subset here covers what sidecars of
examples use: ``$``, ``.name``, ``['name']`` / ``["name"]``, ``[*]`` and ``.*``
(no filters: a target with one is refused by name). ``update`` merges an
object into each target (objects deeply, anything else replaced), ``remove``
deletes each target from its parent.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pin_mock.contract.openapi import SpecError

_STEP = re.compile(
    r"""\.(\*|[A-Za-z_$][\w$-]*)|\[\s*(\*|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\d+)\s*\]"""
)


def is_overlay(document: Any) -> bool:
    return isinstance(document, dict) and "overlay" in document and "actions" in document


def parse_path(target: str) -> list[str | int]:
    """``$.paths['/v1/x'].get`` -> ``["paths", "/v1/x", "get"]`` (``"*"`` for wildcards)."""
    text = target.strip()
    if not text.startswith("$"):
        raise SpecError(f"overlay target {target!r} does not start with $")
    steps: list[str | int] = []
    position = 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise SpecError(
                f"overlay target {target!r}: unsupported JSONPath at {text[position:]!r}"
            )
        name, bracket = match.groups()
        if name is not None:
            steps.append(name)
        elif bracket == "*":
            steps.append("*")
        elif bracket.isdigit():
            steps.append(int(bracket))
        else:
            steps.append(re.sub(r"\\(.)", r"\1", bracket[1:-1]))
        position = match.end()
    return steps


def _select(node: Any, steps: list[str | int]) -> list[tuple[Any, str | int]]:
    """(parent, key) pairs the steps reach (the root is ``(None, "$")``)."""
    current: list[tuple[Any, str | int]] = [(None, "$")]
    holder = {"$": node}
    for step in steps:
        found = []
        for parent, key in current:
            value = holder["$"] if parent is None else parent[key]
            if step == "*":
                keys = (
                    list(value)
                    if isinstance(value, dict)
                    else range(len(value))
                    if isinstance(value, list)
                    else []
                )
                found += [(value, k) for k in keys]
            elif isinstance(value, dict) and step in value:
                found.append((value, step))
            elif isinstance(value, list) and isinstance(step, int) and step < len(value):
                found.append((value, step))
        current = found
    return current


def _merge(target: Any, update: Any) -> Any:
    if isinstance(target, dict) and isinstance(update, dict):
        for key, value in update.items():
            target[key] = _merge(target[key], value) if key in target else copy.deepcopy(value)
        return target
    return copy.deepcopy(update)


def apply(document: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` with the overlay's actions applied in order."""
    result = copy.deepcopy(document)
    for action in overlay.get("actions") or []:
        if not isinstance(action, dict) or "target" not in action:
            raise SpecError(f"an overlay action without a target: {action!r}")
        steps = parse_path(str(action["target"]))
        for parent, key in _select(result, steps):
            if action.get("remove") is True:
                if parent is not None:
                    del parent[key]
            elif "update" in action:
                if parent is None:
                    result = _merge(result, action["update"])
                else:
                    parent[key] = _merge(parent[key], action["update"])
    return result
