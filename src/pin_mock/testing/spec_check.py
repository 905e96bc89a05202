"""Connexion's check of the spec, done once per spec document on this machine.

Building the app, Connexion validates the whole document against the OpenAPI
schema: about a third of a test sandbox's start-up, for a document (PIN's
contract and the sandbox's overlays) that changes only with pin-mock itself.
While ``validated_once`` is active, a document whose SHA-256 is recorded in
the cache directory (``$PIN_SANDBOX_CACHE_DIR``, else ``pin-mock-<uid>`` under
the system's temporary directory, never the project) is not validated again;
any other is validated as usual and recorded once it passed. Only a document
that passed is ever recorded, so a changed spec is always checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()


def cache_dir() -> Path:
    """Where validated documents are recorded (created on first use)."""
    given = os.environ.get("PIN_SANDBOX_CACHE_DIR")
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    root = Path(given) if given else Path(tempfile.gettempdir()) / f"pin-mock-{uid}"
    return root / "validated-specs"


@contextlib.contextmanager
def validated_once() -> Iterator[None]:
    """Within the block, Connexion validates each spec document once per machine."""
    from connexion.spec import OpenAPISpecification

    with _LOCK:
        # Connexion defines it on a base class; a caller may have replaced it already.
        own = OpenAPISpecification.__dict__.get("_validate_spec")
        validate = OpenAPISpecification._validate_spec

        def once(spec: dict[str, Any]) -> None:
            digest = hashlib.sha256(pickle.dumps(spec, protocol=5)).hexdigest()
            record = cache_dir() / digest
            if record.exists():
                return
            validate(spec)
            with contextlib.suppress(OSError):  # no cache: validated every time, still right
                record.parent.mkdir(parents=True, exist_ok=True)
                record.touch()

        OpenAPISpecification._validate_spec = staticmethod(once)  # type: ignore[method-assign]
        try:
            yield
        finally:
            if own is None:
                del OpenAPISpecification._validate_spec
            else:
                OpenAPISpecification._validate_spec = own  # type: ignore[method-assign]
