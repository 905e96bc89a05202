"""Comparing two revisions of one schema, from a client's side (``diff.py`` uses it).

The rule behind every verdict: what a client *sends* may only widen, what it
*receives* may only narrow. A request schema that now refuses a value it took
(a removed enum value, a smaller ``maximum``, a new ``required`` field, a
removed property, which PIN refuses as unknown) breaks clients that send it;
a response schema that now allows a value it never did (a new enum value, a
larger ``maxLength``, a field no longer required, ``nullable``) breaks clients
that relied on the old promise. The opposite changes are listed as
non-breaking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pin_mock.contract.openapi import resolve

#: (keyword, True when a larger value widens what the schema allows)
BOUNDS = (("maximum", True), ("exclusiveMaximum", True), ("maxLength", True), ("maxItems", True),
          ("maxProperties", True), ("minimum", False), ("exclusiveMinimum", False),
          ("minLength", False), ("minItems", False), ("minProperties", False))  # fmt: skip
#: A type a value of the old one still satisfies (a request may widen integer to number).
WIDER = {("integer", "number")}


@dataclass(frozen=True)
class Change:
    """One difference between two revisions, judged for clients."""

    rule: str
    breaking: bool
    where: str
    message: str


Emit = Callable[[str, bool, str, str], None]


def widened(direction: str) -> bool:
    """Whether widening what a schema allows breaks clients in this direction."""
    return direction == "response"


class SchemaDiff:
    """Walks two schemas side by side (each document resolves its own ``$ref``s)."""

    def __init__(self, old_doc: dict[str, Any], new_doc: dict[str, Any], emit: Emit) -> None:
        self.old_doc, self.new_doc, self.emit = old_doc, new_doc, emit
        #: The schemas being compared right now, outer to inner (a recursive schema stops here).
        self._active: set[tuple[int, int, str]] = set()

    def compare(self, old: Any, new: Any, direction: str, where: str) -> None:
        old, new = resolve(self.old_doc, old or {}), resolve(self.new_doc, new or {})
        key = (id(old), id(new), direction)
        if key in self._active or not isinstance(old, dict) or not isinstance(new, dict):
            return
        self._active.add(key)
        try:
            self._compare(old, new, direction, where)
        finally:
            self._active.discard(key)

    def _compare(self, old: dict, new: dict, direction: str, where: str) -> None:
        self._type(old, new, direction, where)
        self._enum(old, new, direction, where)
        self._bounds(old, new, direction, where)
        self._nullable(old, new, direction, where)
        self._properties(old, new, direction, where)
        if "items" in old and "items" in new:
            self.compare(old["items"], new["items"], direction, f"{where}[]")
        for keyword in ("oneOf", "anyOf", "allOf"):
            self._alternatives(keyword, old.get(keyword), new.get(keyword), direction, where)

    def _type(self, old: dict, new: dict, direction: str, where: str) -> None:
        before, after = old.get("type"), new.get("type")
        if before == after or before is None or after is None:
            if before is not None and after is None:
                self.emit(
                    "type-widened",
                    widened(direction),
                    where,
                    f"type {before} is no longer required",
                )
            return
        wider = (before, after) in WIDER
        narrower = (after, before) in WIDER
        if wider:
            self.emit("type-widened", widened(direction), where, f"type {before} became {after}")
        elif narrower:
            self.emit(
                "type-narrowed", not widened(direction), where, f"type {before} became {after}"
            )
        else:
            self.emit("type-changed", True, where, f"type {before} became {after}")

    def _enum(self, old: dict, new: dict, direction: str, where: str) -> None:
        before, after = old.get("enum"), new.get("enum")
        if before is None and after is not None:
            self.emit("enum-narrowed", not widened(direction), where, f"now limited to {after}")
            return
        if before is None or after is None:
            if before is not None:
                self.emit(
                    "enum-widened", widened(direction), where, f"no longer limited to {before}"
                )
            return
        removed = [v for v in before if v not in after]
        added = [v for v in after if v not in before]
        if removed:
            self.emit("enum-narrowed", not widened(direction), where, f"values removed: {removed}")
        if added:
            self.emit("enum-widened", widened(direction), where, f"values added: {added}")

    def _bounds(self, old: dict, new: dict, direction: str, where: str) -> None:
        for keyword, larger_widens in BOUNDS:
            before, after = old.get(keyword), new.get(keyword)
            if before == after or isinstance(before, bool) or isinstance(after, bool):
                continue
            if before is None:  # a new bound narrows
                wider = False
            elif after is None:  # a bound dropped widens
                wider = True
            else:
                wider = (after > before) == larger_widens
            rule = "bounds-widened" if wider else "bounds-narrowed"
            breaking = widened(direction) if wider else not widened(direction)
            self.emit(rule, breaking, where, f"{keyword} {before} became {after}")
        if old.get("pattern") != new.get("pattern"):
            rule = "bounds-widened" if new.get("pattern") is None else "bounds-narrowed"
            breaking = widened(direction) if rule == "bounds-widened" else not widened(direction)
            self.emit(
                rule,
                breaking,
                where,
                f"pattern {old.get('pattern')!s} became {new.get('pattern')!s}",
            )

    def _nullable(self, old: dict, new: dict, direction: str, where: str) -> None:
        before, after = bool(old.get("nullable")), bool(new.get("nullable"))
        if before != after:
            rule = "nullable-added" if after else "nullable-removed"
            breaking = widened(direction) if after else not widened(direction)
            self.emit(
                rule, breaking, where, "null now allowed" if after else "null no longer allowed"
            )

    def _properties(self, old: dict, new: dict, direction: str, where: str) -> None:
        before, after = old.get("properties") or {}, new.get("properties") or {}
        required_before, required_after = (
            set(old.get("required") or ()),
            set(new.get("required") or ()),
        )
        for name in before:
            if name not in after:
                if direction == "request":
                    self.emit(
                        "request-field-removed",
                        True,
                        f"{where}.{name}",
                        "no longer accepted (unknown fields are refused)",
                    )
                else:
                    self.emit(
                        "response-field-removed", True, f"{where}.{name}", "no longer in the answer"
                    )
        for name in after:
            if name in before:
                continue
            if direction == "request":
                required = name in required_after
                self.emit(
                    "request-field-added",
                    required,
                    f"{where}.{name}",
                    "new and required" if required else "new, optional",
                )
            else:
                self.emit("response-field-added", False, f"{where}.{name}", "new in the answer")
        for name in sorted(set(before) & set(after)):
            was, now = name in required_before, name in required_after
            if was != now:
                if direction == "request":
                    self.emit(
                        "request-field-required" if now else "request-field-optional",
                        now,
                        f"{where}.{name}",
                        "now required" if now else "now optional",
                    )
                else:
                    self.emit(
                        "response-field-optional" if was else "response-field-required",
                        was,
                        f"{where}.{name}",
                        "no longer always in the answer" if was else "now always in the answer",
                    )
            self.compare(before[name], after[name], direction, f"{where}.{name}")

    def _alternatives(
        self, keyword: str, before: Any, after: Any, direction: str, where: str
    ) -> None:
        if not isinstance(before, list) or not isinstance(after, list):
            return
        if len(before) == len(after):
            for index, (a, b) in enumerate(zip(before, after, strict=True)):
                self.compare(a, b, direction, f"{where}<{keyword}[{index}]>")
            return
        more = len(after) > len(before)
        widens = more if keyword != "allOf" else not more
        rule = "bounds-widened" if widens else "bounds-narrowed"
        breaking = widened(direction) if widens else not widened(direction)
        self.emit(
            rule, breaking, where, f"{keyword} went from {len(before)} to {len(after)} alternatives"
        )
