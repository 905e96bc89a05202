"""What every test session shares: markers from what a test touches, and one spec check.

Markers (for the everyday loop, ``make check``: ``-m "not redis and not live and not
slow"``; ``make test`` and CI run everything):

- ``redis``: the test runs on the Redis engine (a ``[redis]`` parameter, or a Redis
  database of its own);
- ``live``: it serves over a real socket or runs a subprocess (``tests/security``,
  ``multiprocess``, ``docs``, ``browser``, and any module that does).

Connexion validates the whole spec against the OpenAPI schema each time an app is
built (most of the time an app takes to build); a test process builds hundreds of
apps from the same spec, so the same document is validated once per process. A
different document (a broken spec in a test) is still validated.
"""

from __future__ import annotations

import hashlib
import pickle
from functools import cache
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
LIVE_DIRECTORIES = {"security", "multiprocess", "docs", "browser"}
REDIS_FIXTURES = {"db", "redis_db", "redis_url", "private_redis", "full_redis"}
#: What a module that serves or spawns says in its source.
LIVE_WORDS = ("serve(", "subprocess", "uvicorn_config(", "sandbox_url")


@cache
def _module_is_live(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return any(word in text for word in LIVE_WORDS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.path))
        params = getattr(getattr(item, "callspec", None), "params", {})
        fixtures = set(getattr(item, "fixturenames", ()))
        if (
            "redis" in params.values()
            or fixtures & REDIS_FIXTURES
            or "fresh_db(" in path.read_text(encoding="utf-8")
        ):
            item.add_marker(pytest.mark.redis)
        relative = path.relative_to(TESTS).parts if path.is_relative_to(TESTS) else ()
        if (relative and relative[0] in LIVE_DIRECTORIES) or _module_is_live(path):
            item.add_marker(pytest.mark.live)


def _validate_once() -> None:
    try:
        from connexion.spec import OpenAPISpecification
    except ImportError:  # a kit-only environment
        return
    validate = OpenAPISpecification._validate_spec
    seen: set[str] = set()

    def once(spec: dict) -> None:
        digest = hashlib.sha256(pickle.dumps(spec, protocol=5)).hexdigest()
        if digest not in seen:
            validate(spec)
            seen.add(digest)

    OpenAPISpecification._validate_spec = staticmethod(once)  # type: ignore[method-assign]


_validate_once()
