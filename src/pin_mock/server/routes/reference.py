"""``/reference``: the API reference (Redoc), as built into the wheel or by ``make docs``.

The page is one self-contained HTML file (``docs/build_reference.py``: the
sandbox's view of the spec and the getting-started guide rendered by
``@redocly/cli``, scripts inlined, no request leaves the page). Building it
needs Node.js, which the sandbox does not: the wheel carries the built page
(``hatch_build.py``), a checkout has the one ``make docs`` wrote, and the
sandbox only serves it (``pin_mock._bundled.reference_page``).

The page names the fingerprint of the view it was built from
(``<meta name="pin-mock-spec-sha256">``); a page built from another view (an
edited ``pin.yaml`` or overlay, ``PIN_MOCK_SPEC``) is not served, because a
reference that disagrees with the running sandbox is worse than none: the
answer says what to run instead.

The code samples and the servers list name ``http://127.0.0.1:8080``; the page
is answered with the address the reader used in its place (as ``/openapi.yaml``
puts it first in ``servers``), so a sample copied from the page works as is
against whatever port or host the sandbox runs on.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from pin_mock._bundled import reference_page
from pin_mock.overlays import fingerprint

SPEC_SHA_META = "pin-mock-spec-sha256"
_META = re.compile(rb'<meta name="' + SPEC_SHA_META.encode() + rb'" content="([0-9a-f]{64})"')
_HEAD_BYTES = 4096  # the template puts the meta tag first in <head>
#: The address the samples and servers of the view are written for (code-samples.overlay.yaml).
WRITTEN_FOR = b"http://127.0.0.1:8080"


def default_location() -> Path:
    """Where the page is: in the wheel, or where ``make docs`` writes it in a checkout."""
    return reference_page()


def built_for(location: Path) -> str | None:
    """The view fingerprint the reference at ``location`` was built from; None if none."""
    try:
        with location.open("rb") as file:
            head = file.read(_HEAD_BYTES)
    except OSError:
        return None
    found = _META.search(head)
    return found.group(1).decode() if found else None


def reference_note(view: dict[str, Any]) -> str:
    """What ``pin-mock serve`` prints after the reference's URL: nothing if it will be served."""
    built = built_for(default_location())
    if built == fingerprint(view):
        return ""
    if built is None:
        return "  (not built: run `make docs` in a checkout)"
    return "  (built from another spec: run `make docs`)"


class _Page:
    """The built page's bytes (read once per file version), answered for one address at a time."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.for_address: Callable[[bytes, str | None], bytes] = lru_cache(maxsize=8)(
            self._for_address
        )

    def read(self) -> bytes:
        return self._read(self.location, self.location.stat().st_mtime_ns)

    @staticmethod
    @lru_cache(maxsize=2)
    def _read(location: Path, _mtime_ns: int) -> bytes:
        return location.read_bytes()

    @staticmethod
    def _for_address(page: bytes, base_url: str | None) -> bytes:
        # base_url_of admits only a scheme and a plain host[:port]: nothing in it can
        # break out of an HTML attribute, a text node or a JSON string.
        if base_url is None or base_url.encode() == WRITTEN_FOR:
            return page
        return page.replace(WRITTEN_FOR, base_url.encode())


def reference_endpoint(
    view_sha256: str,
    address: Callable[[Request], str | None],
    location: Path | None = None,
) -> Callable[..., Any]:
    """The ``/reference`` route for a sandbox whose view has the fingerprint ``view_sha256``.

    ``address``: the reader's base URL (``spec_files.base_url_of``), or None.
    """

    async def serve(request: Request) -> Response:
        where = location or default_location()
        built = built_for(where)
        if built == view_sha256:
            page = _Page(where)
            body = page.for_address(page.read(), address(request))
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            headers = {"ETag": etag, "Cache-Control": "no-cache"}
            if etag in request.headers.get("if-none-match", ""):
                return Response(status_code=304, headers=headers)
            return Response(body, media_type="text/html; charset=utf-8", headers=headers)
        if built is None:
            problem = "The reference is not part of this installation and has not been built."
        else:
            problem = (
                "The reference was built from another version of the spec "
                f"(fingerprint {built[:12]}…) than the one this sandbox serves ({view_sha256[:12]}…)."
            )
        return HTMLResponse(_not_built(problem), status_code=503)

    return serve


def _not_built(problem: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PIN API reference: not built</title>
<link rel="icon" href="data:,"></head>
<body style="font-family: sans-serif; max-width: 44em; margin: 3em auto; line-height: 1.5">
<h1>The API reference is not available</h1>
<p>{html.escape(problem)}</p>
<p>A wheel of pin-mock carries the reference. In a checkout of pin-mock, build it with
<code>make docs</code> (it needs Node.js 20 or later and npm), then reload this page;
<code>make serve</code> builds it too when Node.js is there.</p>
<p>Meanwhile the same contract is at <a href="/docs">/docs</a> (Swagger UI),
<a href="/openapi.yaml">/openapi.yaml</a> and <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>
"""
