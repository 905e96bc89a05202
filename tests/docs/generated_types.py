"""What the generator tests feed the generated types: every documented answer, and the guide's bodies.

``answers()`` lists each JSON example of an answer in PIN's contract with the
name of its schema (a ``$ref`` of the contract: the type a generator makes for
it); ``tests/docs/test_examples_replay.py`` proves each a real answer of the
sandbox. ``guide_bodies()`` lists the JSON request bodies of
``docs/getting-started.md`` with the schema of the operation they are sent to.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pin_mock._bundled import spec_path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "getting-started.md"
CONTRACT: dict[str, Any] = yaml.safe_load(spec_path().read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Typed:
    """A JSON value and the name of the contract's schema it must fit."""

    label: str
    schema: str
    value: Any


def _deref(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = CONTRACT
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _schema_name(content: dict[str, Any]) -> str | None:
    ref = (content.get("schema") or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] or None


def answers() -> list[Typed]:
    """Every JSON example of an answer of the contract, with its schema's name."""
    found = []
    for item in CONTRACT["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                content = (_deref(response).get("content") or {}).get("application/json")
                name = _schema_name(content or {})
                if not content or not name:
                    continue
                for example, holder in (content.get("examples") or {}).items():
                    label = f"{operation['operationId']}-{status}-{example}"
                    found.append(Typed(label, name, _deref(holder)["value"]))
    return found


def guide_bodies() -> list[Typed]:
    """The JSON bodies the guide sends (``curl ... -d '{...}'``), with the operation's schema."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S):
        url = re.search(r"https?://[^/\s]+(/[^\s\"'?]*)", block)
        body = re.search(r"-d '(\{.*?\})'", block, re.S)
        if not (url and body):
            continue
        for template, item in CONTRACT["paths"].items():
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, url.group(1)) and "post" in item:
                content = item["post"]["requestBody"]["content"]["application/json"]
                name = _schema_name(content)
                assert name, template
                found.append(Typed(f"guide {url.group(1)}", name, json.loads(body.group(1))))
    return found


def request_examples() -> list[Typed]:
    """Every operation's JSON request-body example, with its schema's name."""
    found = []
    for item in CONTRACT["paths"].values():
        for operation in item.values():
            content = (
                (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            )
            if content and "example" in content and _schema_name(content):
                label = f"{operation['operationId']} request"
                found.append(Typed(label, _schema_name(content) or "", content["example"]))
    return found
