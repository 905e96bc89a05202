"""The sandbox's view of the contract: PIN's ``pin.yaml`` with the sandbox's overlays.

PIN's contract is served as written (``spec_files.py``). What the sandbox routes,
validates and documents is its view: the contract plus ``openapi/*.overlay.yaml``
(``pin_mock.overlays``), which adds the ``/_sandbox`` operations, the sandbox's
server and notes, code samples and the request behind each example. ``/docs``
and ``/reference`` show the view; ``/_sandbox/openapi.json`` serves it
(``spec_files.py``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pin_mock.overlays import OverlayError, sandbox_document
from pin_mock.server.errors import ConfigError

_VIEWS: dict[tuple[Path, int, int], dict[str, Any]] = {}


def sandbox_view(path: Path, contract: dict[str, Any]) -> dict[str, Any]:
    """The view of the contract ``contract`` read from ``path`` (built once per file version)."""
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    view = _VIEWS.get(key)
    if view is None:
        try:
            view = sandbox_document(contract)
        except OverlayError as exc:
            raise ConfigError(f"the sandbox's overlays do not apply to {path}: {exc}") from exc
        if len(_VIEWS) >= 8:  # a few spec files at most (tests); never grows without bound
            _VIEWS.clear()
        _VIEWS[key] = view
    return copy.deepcopy(view)
