"""What a run creates on the target, and removing it at the end.

Every answer the run gets (the probes', Schemathesis's) passes through the
``Ledger``: a ``POST`` to the API answered 201 or 202 created a resource, named
by the ``id`` in the answer under the path it was posted to (a ``Location``
that names another resource cannot make the kit delete that one). At the end
(``--cleanup always``, the default) each resource whose path the spec lets a
client ``DELETE`` is deleted; a 404 means it was already gone. The rest stays,
and the summary says what and why (the contract has no ``DELETE`` for it);
``--cleanup never`` leaves everything and says so. ``resources.json`` lists
every resource with its fate.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from pin_mock.contract.spec import Spec

CLEANUP_MODES = ("always", "never")


@dataclass
class Created:
    """One resource the run created."""

    kind: str
    path: str
    template: str | None
    #: ``left``, ``removed`` (by the cleanup), ``deleted`` (by the run itself),
    #: ``gone`` (404 at cleanup), or ``failed`` (the DELETE answered something else).
    state: str = "left"
    why: str = ""


class Sender(Protocol):
    def __call__(self, method: str, path: str, template: str) -> int: ...


class Ledger:
    """The resources a run created (thread-safe: Schemathesis and probes report here)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._created: dict[str, Created] = {}

    @property
    def created(self) -> list[Created]:
        with self._lock:
            return list(self._created.values())

    def observe(self, method: str, url: str, status: int, body: Any) -> None:
        """Note an exchange: a create (201/202 with an id) or a DELETE of a known resource."""
        path = urlsplit(url).path.rstrip("/") or "/"
        method = method.upper()
        if method == "DELETE" and 200 <= status < 300:
            with self._lock:
                if path in self._created:
                    self._created[path].state = "deleted"
            return
        if method != "POST" or status not in (201, 202) or not self.spec.in_api(path):
            return
        ident = body.get("id") if isinstance(body, dict) else None
        if not isinstance(ident, str) or not ident or "/" in ident:
            return
        item = f"{path}/{ident}"
        template = self.spec.template_of(item)
        with self._lock:
            self._created.setdefault(item, Created(path.rsplit("/", 1)[-1], item, template))

    def removable(self, created: Created) -> bool:
        return (
            created.template is not None and self.spec.find("delete", created.template) is not None
        )

    def clean(self, send: Sender) -> None:
        """DELETE each removable resource still there; note why the others stay."""
        for created in self.created:
            if created.state != "left":
                continue
            if not self.removable(created):
                created.why = "the contract has no DELETE for them"
                continue
            status = send("DELETE", created.path, created.template or created.path)
            if 200 <= status < 300:
                created.state = "removed"
            elif status == 404:
                created.state = "gone"
            else:
                created.state, created.why = "failed", f"DELETE answered {status}"

    def leave(self) -> None:
        for created in self.created:
            if created.state == "left":
                created.why = "--cleanup never"

    def describe(self) -> str:
        """One line: what was removed and what was left, by kind."""
        removed = Counter(c.kind for c in self.created if c.state in ("removed", "gone", "deleted"))
        left: dict[str, Counter] = {}
        for c in self.created:
            if c.state in ("left", "failed"):
                left.setdefault(c.why or c.state, Counter())[c.kind] += 1
        parts = []
        if removed:
            parts.append("removed " + _counts(removed))
        for why, kinds in left.items():
            parts.append(f"left {_counts(kinds)} ({why})")
        return "; ".join(parts) + " (resources.json lists them)"

    def as_json(self) -> list[dict[str, str]]:
        return [
            {"kind": c.kind, "path": c.path, "state": c.state, "why": c.why}
            for c in sorted(self.created, key=lambda c: c.path)
        ]


def _counts(counter: Counter) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items()))
