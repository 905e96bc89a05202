"""Reading an OpenAPI document: load it (cached per file version), follow local ``$ref``s.

The lowest layer of the kit's facts: ``operation.py`` and ``spec.py`` build on it.
Nothing here imports the server: the kit tests any PIN implementation alike.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml


class SpecError(Exception):
    """The spec cannot be found, read or understood (a usage problem: exit 2)."""


def bundled_spec_path() -> Path:
    """The spec shipped with pin-mock: in the wheel, or ``openapi/pin.yaml`` in a checkout."""
    from pin_mock._bundled import spec_path  # stdlib only: the one module both halves share

    return spec_path()


@cache
def _load_cached(path: str, mtime: float) -> dict[str, Any]:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read the OpenAPI spec {path}: {exc}") from exc
    if not isinstance(document, dict) or "paths" not in document:
        raise SpecError(f"{path} is not an OpenAPI document (no 'paths')")
    return document


def load_spec(path: Path | str) -> dict[str, Any]:
    """The parsed spec (cached per file version); ``SpecError`` names the file on failure."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"OpenAPI spec not found: {path}")
    return _load_cached(str(path.resolve()), path.stat().st_mtime)


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` pointers (one level at a time, until a non-ref node)."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
            raise SpecError(f"unsupported or circular $ref {ref!r}")
        seen.add(ref)
        node = spec
        for part in ref[2:].split("/"):
            try:
                node = node[part.replace("~1", "/").replace("~0", "~")]
            except (KeyError, TypeError, IndexError):
                raise SpecError(f"unresolvable $ref {ref!r}") from None
    return node


def examples_of(spec: dict[str, Any], content: dict[str, Any]) -> list[Any]:
    """The example values of one media type: ``example``, each of ``examples``."""
    found = [content["example"]] if "example" in content else []
    for example in (content.get("examples") or {}).values():
        example = resolve(spec, example)
        if isinstance(example, dict) and "value" in example:
            found.append(example["value"])
    return found


def openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable: true`` becomes a null alternative."""
    if isinstance(node, list):
        return [openapi_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: openapi_to_json_schema(v) for k, v in node.items() if k not in ("nullable", "example")
    }
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out
