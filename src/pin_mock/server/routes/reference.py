"""``/reference``: the published API reference (Redoc), as ``make docs`` built it.

The page is one self-contained HTML file (``docs/build_reference.py``: the spec
and the getting-started guide rendered by ``@redocly/cli``, scripts inlined, no
request leaves the page). Building it needs Node.js, which the sandbox does not,
so the sandbox serves the built file and never builds it. The file names the
SHA-256 of the spec it was built from (``<meta name="pin-mock-spec-sha256">``);
a file built from another spec (an edited ``pin.yaml``, ``--spec``) is not
served, because a reference that disagrees with the running sandbox is worse
than none: the answer says what to run instead.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

SPEC_SHA_META = "pin-mock-spec-sha256"
_META = re.compile(rb'<meta name="' + SPEC_SHA_META.encode() + rb'" content="([0-9a-f]{64})"')
_HEAD_BYTES = 4096  # the template puts the meta tag first in <head>


def default_location() -> Path:
    """Where ``make docs`` writes the reference in a checkout."""
    return Path(__file__).resolve().parents[4] / "build" / "reference" / "index.html"


def built_for(location: Path) -> str | None:
    """The spec SHA-256 the reference at ``location`` was built from; None if there is none."""
    try:
        with location.open("rb") as file:
            head = file.read(_HEAD_BYTES)
    except OSError:
        return None
    found = _META.search(head)
    return found.group(1).decode() if found else None


def reference_note(spec: Path) -> str:
    """What ``pin-mock serve`` prints after the reference's URL: nothing if it will be served."""
    built = built_for(default_location())
    if built == hashlib.sha256(spec.read_bytes()).hexdigest():
        return ""
    if built is None:
        return "  (not built: run `make docs`)"
    return "  (built from another spec: run `make docs`)"


def reference_endpoint(spec_sha256: str, location: Path | None = None) -> Callable[..., Any]:
    """The ``/reference`` route for a sandbox serving the spec whose SHA-256 is ``spec_sha256``."""

    async def serve(_request: Request) -> Response:
        where = location or default_location()
        built = built_for(where)
        if built == spec_sha256:
            # FileResponse: ETag, Last-Modified, HEAD and ranges for the 2.5 MB page.
            return FileResponse(where, media_type="text/html; charset=utf-8")
        if built is None:
            problem = f"The reference has not been built: there is no page at {where}."
        else:
            problem = (
                f"The reference at {where} was built from another version of the spec "
                f"(SHA-256 {built[:12]}…) than the one this sandbox serves ({spec_sha256[:12]}…)."
            )
        return HTMLResponse(_not_built(problem), status_code=503)

    return serve


def _not_built(problem: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PIN API reference: not built</title>
<link rel="icon" href="data:,"></head>
<body style="font-family: sans-serif; max-width: 44em; margin: 3em auto; line-height: 1.5">
<h1>The API reference is not built</h1>
<p>{html.escape(problem)}</p>
<p>Build it from a checkout of pin-mock with <code>make docs</code> (it needs Node.js 20 or
later and npm: it installs the pinned <code>@redocly/cli</code> into
<code>docs/node_modules</code> and writes <code>build/reference/index.html</code>), then
reload this page. <code>make serve</code> builds it too when Node.js is there.</p>
<p>Meanwhile the same contract is at <a href="/docs">/docs</a> (Swagger UI),
<a href="/openapi.yaml">/openapi.yaml</a> and <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>
"""
