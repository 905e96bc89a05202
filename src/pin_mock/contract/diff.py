"""``pin-mock diff OLD NEW``: what a revision of the contract changes for its clients.

No maintained OpenAPI diff fits the kit's toolchain (a Python package): oasdiff
is a Go program, the npm ones need Node.js at the user's side, and the young
PyPI ones have no record yet. So these are the rules for what the PIN contract
uses, each judged for the clients of OLD:

- operations: removed (breaking), added;
- parameters: removed (breaking: PIN refuses unknown parameters), added
  required (breaking) or optional, now required (breaking) or now optional,
  and their schemas (``diff_schemas.py``: requests may only widen);
- request bodies: a media type removed (breaking) or added, a body now
  required (breaking), and the schema (fields removed or newly required break);
- responses: a documented status removed (breaking) or added, a media type
  removed (breaking) or added, a required header removed (breaking), and the
  schema (answers may only narrow: a field removed, an enum value added, a
  field no longer required break);
- security: a scheme or scope newly required (breaking), one no longer
  required, a new token URL (breaking).

Every change names its rule, where it is and why; JUnit output has one test
case per change, failing when it breaks clients.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pin_mock.contract.diff_schemas import Change, SchemaDiff
from pin_mock.contract.openapi import load_spec, resolve
from pin_mock.contract.spec import HTTP_METHODS, Spec

__all__ = ["Change", "compare", "compare_documents", "render", "write_junit"]


def compare(old: Path, new: Path) -> list[Change]:
    return compare_documents(load_spec(old), load_spec(new))


def compare_documents(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``, breaking ones first."""
    changes: list[Change] = []

    def emit(rule: str, breaking: bool, where: str, message: str) -> None:
        changes.append(Change(rule, breaking, where, message))

    schemas = SchemaDiff(old, new, emit)
    old_ops, new_ops = _operations(old), _operations(new)
    for label in old_ops:
        if label not in new_ops:
            emit("operation-removed", True, label, "the operation is gone")
    for label in new_ops:
        if label not in old_ops:
            emit("operation-added", False, label, "a new operation")
    for label in sorted(set(old_ops) & set(new_ops)):
        a, b = old_ops[label], new_ops[label]
        _parameters(old, new, a, b, label, emit, schemas)
        _body(old, new, a, b, label, emit, schemas)
        _responses(old, new, a, b, label, emit, schemas)
        _security(old, new, a, b, label, emit)
    before, after = Spec.of(old), Spec.of(new)
    try:
        if before.token_url != after.token_url:
            emit(
                "token-url-changed",
                True,
                "security",
                f"the token URL {before.token_url} became {after.token_url}",
            )
    except Exception:  # noqa: BLE001 - a spec without a token URL has nothing to compare
        pass
    return sorted(changes, key=lambda c: (not c.breaking, c.where, c.rule))


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for path, item in (document.get("paths") or {}).items():
        item = resolve(document, item)
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            if method in item:
                op = dict(resolve(document, item[method]))
                op["parameters"] = [*shared, *(op.get("parameters") or [])]
                found[f"{method.upper()} {path}"] = op
    return found


def _params(document: dict[str, Any], op: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for param in op.get("parameters") or []:
        param = resolve(document, param)
        found[(param.get("in"), param.get("name"))] = param
    return found


def _parameters(old, new, a, b, label, emit, schemas: SchemaDiff) -> None:  # noqa: ANN001
    before, after = _params(old, a), _params(new, b)
    for where, name in before:
        if (where, name) not in after:
            emit("parameter-removed", True, f"{label} {where}.{name}", "no longer accepted")
    for (where, name), param in after.items():
        if (where, name) not in before:
            required = bool(param.get("required"))
            emit(
                "parameter-added",
                required,
                f"{label} {where}.{name}",
                "new and required" if required else "new, optional",
            )
    for key in sorted(set(before) & set(after), key=str):
        was, now = bool(before[key].get("required")), bool(after[key].get("required"))
        where = f"{label} {key[0]}.{key[1]}"
        if was != now:
            emit(
                "parameter-required" if now else "parameter-optional",
                now,
                where,
                "now required" if now else "now optional",
            )
        schemas.compare(before[key].get("schema"), after[key].get("schema"), "request", where)


def _contents(document: dict[str, Any], node: Any) -> dict[str, Any]:
    node = resolve(document, node) if node else {}
    return node.get("content") or {} if isinstance(node, dict) else {}


def _body(old, new, a, b, label, emit, schemas: SchemaDiff) -> None:  # noqa: ANN001
    before, after = _contents(old, a.get("requestBody")), _contents(new, b.get("requestBody"))
    for media in before:
        if media not in after:
            emit("request-media-type-removed", True, f"{label} body {media}", "no longer accepted")
    for media in after:
        if media not in before and before:
            emit("request-media-type-added", False, f"{label} body {media}", "now accepted too")
    if not before and after:
        required = bool(resolve(new, b["requestBody"]).get("required"))
        emit(
            "request-body-added",
            required,
            f"{label} body",
            "a new body, required" if required else "a new, optional body",
        )
    if before and b.get("requestBody"):
        was = bool(resolve(old, a["requestBody"]).get("required"))
        now = bool(resolve(new, b["requestBody"]).get("required"))
        if was != now:
            emit(
                "request-body-required" if now else "request-body-optional",
                now,
                f"{label} body",
                "now required" if now else "now optional",
            )
    for media in sorted(set(before) & set(after)):
        schemas.compare(
            before[media].get("schema"), after[media].get("schema"), "request", f"{label} body"
        )


def _responses(old, new, a, b, label, emit, schemas: SchemaDiff) -> None:  # noqa: ANN001
    before, after = a.get("responses") or {}, b.get("responses") or {}
    for status in before:
        if status not in after:
            emit("status-removed", True, f"{label} {status}", "the answer is no longer documented")
    for status in after:
        if status not in before:
            emit("status-added", False, f"{label} {status}", "a new documented answer")
    for status in sorted(set(before) & set(after), key=str):
        where = f"{label} {status}"
        old_answer, new_answer = resolve(old, before[status]), resolve(new, after[status])
        old_media, new_media = old_answer.get("content") or {}, new_answer.get("content") or {}
        for media in old_media:
            if media not in new_media:
                emit("response-media-type-removed", True, f"{where} {media}", "no longer answered")
        for media in new_media:
            if media not in old_media:
                emit("response-media-type-added", False, f"{where} {media}", "a new media type")
        old_headers, new_headers = old_answer.get("headers") or {}, new_answer.get("headers") or {}
        for name, header in old_headers.items():
            if resolve(old, header).get("required") and name not in new_headers:
                emit("response-header-removed", True, f"{where} header {name}", "no longer sent")
        for media in sorted(set(old_media) & set(new_media)):
            schemas.compare(old_media[media].get("schema"), new_media[media].get("schema"), "response",
                            f"{where} body")  # fmt: skip


def _requirements(document: dict[str, Any], op: dict[str, Any]) -> list[dict[str, set[str]]]:
    security = op.get("security", document.get("security") or [])
    return [
        {scheme: set(scopes or ()) for scheme, scopes in alternative.items()}
        for alternative in security
    ]


def _security(old, new, a, b, label, emit) -> None:  # noqa: ANN001
    before, after = _requirements(old, a), _requirements(new, b)
    if before == after:
        return
    if not after or any(not alt for alt in after):
        emit("security-removed", False, f"{label} security", "no credentials needed any more")
        return
    if not before or any(not alt for alt in before):
        emit("security-added", True, f"{label} security", "credentials are now required")
        return
    old_scopes = set().union(*(s for alt in before for s in alt.values()))
    new_scopes = set().union(*(s for alt in after for s in alt.values()))
    old_schemes = {name for alt in before for name in alt}
    new_schemes = {name for alt in after for name in alt}
    if new_schemes - old_schemes:
        emit(
            "security-scheme-changed",
            True,
            f"{label} security",
            f"now {sorted(new_schemes)}, was {sorted(old_schemes)}",
        )
    if new_scopes - old_scopes:
        emit(
            "scope-added",
            True,
            f"{label} security",
            f"scopes newly required: {sorted(new_scopes - old_scopes)}",
        )
    if old_scopes - new_scopes:
        emit(
            "scope-removed",
            False,
            f"{label} security",
            f"scopes no longer required: {sorted(old_scopes - new_scopes)}",
        )


def render(changes: list[Change], *, show_all: bool = False) -> str:
    breaking = [c for c in changes if c.breaking]
    other = [c for c in changes if not c.breaking]
    lines = [
        f"pin-mock diff: {len(breaking)} breaking, {len(other)} non-breaking changes for clients"
    ]
    for title, shown in (("Breaking", breaking), ("Non-breaking", other if show_all else [])):
        if shown:
            lines += ["", f"{title}:"]
            lines += [f"  [{c.rule}] {c.where}: {c.message}" for c in shown]
    if other and not show_all:
        lines += ["", f"({len(other)} non-breaking changes: --all lists them)"]
    return "\n".join(lines)


def write_junit(changes: list[Change], path: Path) -> None:
    root = ElementTree.Element("testsuites")
    suite = ElementTree.SubElement(root, "testsuite", {"name": "pin-mock-diff"})
    for change in changes or [Change("no-change", False, "contract", "no difference for clients")]:
        case = ElementTree.SubElement(
            suite, "testcase", {"classname": change.rule, "name": change.where, "time": "0"}
        )
        if change.breaking:
            ElementTree.SubElement(
                case, "failure", {"type": change.rule, "message": change.message}
            )
    failures = sum(1 for c in changes if c.breaking)
    for element in (root, suite):
        element.attrib.update({"tests": str(max(1, len(changes))), "failures": str(failures), "errors": "0",
                               "skipped": "0", "time": "0"})  # fmt: skip
    ElementTree.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
