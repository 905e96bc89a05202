"""The spec as written: ``/openapi.yaml`` is the file, ``/openapi.json`` the same document.

Connexion would serve its own resolved copy (every ``$ref`` inlined, keys
sorted, ``servers`` replaced by the base path), and generators and Swagger UI
lose every model name that way; the app turns that off and serves these.

The one place where the answer may differ from the file is ``servers``, so that
Swagger UI's and Redoc's Servers list names the sandbox the reader is talking
to. When the document is fetched at the file's first server URL (the default
``http://127.0.0.1:8080``) the YAML is the file byte for byte. Fetched at
another address (another port, ``localhost``, a proxy), that address is put
first in the list, as one inserted entry in the file's own ``servers:`` block;
every other byte, comments and key order included, is the file's. The JSON is
the parsed file (same keys, same order, every ``$ref`` intact) with the same
``servers`` list.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pin_mock.overlays import fingerprint
from pin_mock.server.errors import ConfigError
from pin_mock.server.routes.reference import reference_endpoint

RUNNING_DESCRIPTION = "This sandbox: the address this document was fetched from"

# A host as a browser or client would send it: a DNS name or IPv4 address, or an
# IPv6 literal in brackets, with an optional port. Anything else (a Host header
# that is not an address) is not echoed into the document: the file is served.
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?"
)
# The top-level key and the first line of the block below it.
_SERVERS_KEY = re.compile(rb"^servers:[ \t]*(?:#.*)?\r?\n", re.MULTILINE)
_FIRST_ITEM = re.compile(rb"^([ \t]*)- ", re.MULTILINE)
#: Where the reader's address goes in the rendered JSON (no document holds it).
_MARKER = "\u0000pin-mock: the reader's address\u0000"
YAML_TYPE = "application/yaml"
#: Where the sandbox's view of the contract is served (what /docs reads).
VIEW_PATH = "/_sandbox/openapi.json"
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class _Block:
    """Where the file's ``servers:`` list is, and how its items are indented."""

    insert_at: int  # the byte offset of the first item: a new entry goes here
    indent: bytes  # the first item's indentation ("  " for "  - url: ...")


class SpecFiles:
    """The file's bytes and parsed document, rendered for one base URL at a time."""

    def __init__(self, raw: bytes, document: dict[str, Any]) -> None:
        self.raw = raw
        self.document = document
        self.sha256 = hashlib.sha256(raw).hexdigest()
        servers = document.get("servers")
        self._servers: list[Any] = servers if isinstance(servers, list) else []
        self._block = _servers_block(raw) if self._servers else None
        # A few addresses at most (loopback, localhost, a proxy's name): cache each. A
        # rotating Host misses the cache, so a miss costs a copy, never a render:
        # the JSON is rendered once around a marker that the address replaces.
        self._json_parts = self._json_template()
        self.yaml_for: Callable[[str | None], bytes] = lru_cache(maxsize=8)(self._yaml_for)
        self.json_for: Callable[[str | None], bytes] = lru_cache(maxsize=8)(self._json_for)

    def servers_for(self, base_url: str | None) -> list[Any]:
        """The ``servers`` list answered to a reader at ``base_url``."""
        if not self._needs_entry(base_url):
            return self._servers
        return [{"url": base_url, "description": RUNNING_DESCRIPTION}, *self._servers]

    def _needs_entry(self, base_url: str | None) -> bool:
        if base_url is None or self._block is None:
            return False
        first = self._servers[0]
        return not (isinstance(first, dict) and first.get("url") == base_url)

    def _yaml_for(self, base_url: str | None) -> bytes:
        if not self._needs_entry(base_url) or self._block is None:
            return self.raw
        indent = self._block.indent
        # JSON strings are YAML double-quoted scalars: no URL can break the block.
        entry = (
            indent + b"- url: " + json.dumps(base_url).encode() + b"\n"
            + indent + b"  description: " + json.dumps(RUNNING_DESCRIPTION).encode() + b"\n"
        )  # fmt: skip
        at = self._block.insert_at
        return self.raw[:at] + entry + self.raw[at:]

    def _json_for(self, base_url: str | None) -> bytes:
        if self._json_parts is not None and self._needs_entry(base_url):
            before, after = self._json_parts
            return before + json.dumps(base_url, ensure_ascii=False).encode() + after
        return self._render_json(self.servers_for(base_url))

    def _render_json(self, servers: list[Any]) -> bytes:
        document = self.document
        if "servers" in document:
            document = {**document, "servers": servers}  # keeps key order
        return json.dumps(document, ensure_ascii=False, indent=2, default=_json_default).encode()

    def _json_template(self) -> tuple[bytes, bytes] | None:
        """The JSON with an inserted entry, cut where its URL goes (None: never inserted)."""
        if self._block is None or "servers" not in self.document:
            return None
        entry = {"url": _MARKER, "description": RUNNING_DESCRIPTION}
        try:
            rendered = self._render_json([entry, *self._servers])
        except (TypeError, ValueError):
            return None  # load_spec_files reports it
        marker = json.dumps(_MARKER).encode()
        before, found, after = rendered.partition(marker)
        return (before, after) if found and marker not in after else None


class ViewFile:
    """The sandbox's view (``sandbox_spec.py``) as JSON, ``servers`` the reader's address."""

    def __init__(self, view: dict[str, Any]) -> None:
        self.view = view
        self.sha256 = fingerprint(view)
        self.json_for: Callable[[str | None], bytes] = lru_cache(maxsize=8)(self._json_for)

    def _json_for(self, base_url: str | None) -> bytes:
        # The view describes this sandbox: the address it was reached at is its one server
        # (the file's loopback entry would be a dead choice in Swagger UI's list elsewhere).
        servers = list(self.view.get("servers") or [])
        if base_url:
            servers = [{"url": base_url, "description": RUNNING_DESCRIPTION}]
        document = {**self.view, "servers": servers}  # keeps key order
        return json.dumps(document, ensure_ascii=False, indent=2, default=_json_default).encode()


def _servers_block(raw: bytes) -> _Block | None:
    """The file's top-level block-style ``servers:`` list, or None (nothing is inserted)."""
    key = _SERVERS_KEY.search(raw)
    if key is None:
        return None
    item = _FIRST_ITEM.match(raw, key.end())
    if item is None:  # a comment or blank line first, or a flow-style list: leave it
        return None
    return _Block(insert_at=item.start(), indent=item.group(1))


def _json_default(value: object) -> str:
    # YAML turns an unquoted 2024-01-15 into a date; JSON has only the string.
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def base_url_of(request: Request) -> str | None:
    """The address the reader used (scheme and Host), if it is a plain address."""
    host = request.headers.get("host", "")
    scheme = request.url.scheme
    if scheme not in ("http", "https") or not _HOST.fullmatch(host):
        return None
    return f"{scheme}://{host}"


def load_spec_files(raw: bytes, document: dict[str, Any]) -> SpecFiles:
    """Check that the document can be served as JSON at all; a start-up error if not."""
    files = SpecFiles(raw, document)
    try:
        files.json_for(None)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"the OpenAPI spec cannot be served as JSON: {exc}") from exc
    return files


def endpoint(render: Callable[[str | None], bytes], media_type: str) -> Callable[..., Any]:
    """A route answering ``render(reader's address)``, with an ETag every reader revalidates."""

    async def serve(request: Request) -> Response:
        body = render(base_url_of(request))
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)

    return serve


def spec_endpoints(files: SpecFiles) -> dict[str, Callable[[Request], Any]]:
    """The contract's two routes, by path."""
    return {
        "/openapi.yaml": endpoint(files.yaml_for, YAML_TYPE),
        "/openapi.json": endpoint(files.json_for, JSON_TYPE),
    }


def add_docs_routes(
    app: Any, raw: bytes, document: dict[str, Any], view: dict[str, Any] | None = None
) -> None:
    """Add /openapi.yaml, /openapi.json, /_sandbox/openapi.json and /reference to ``app``.

    ``raw`` and ``document`` are PIN's contract as written; ``view`` the sandbox's
    view of it (the contract itself when None), which ``/reference`` must show.
    They are plain routes after every layer, like Connexion's own would be: no
    token, no rate limit (not /v1), and 404/405 rendered by the error handlers.
    """
    files = load_spec_files(raw, document)
    for path, serve in spec_endpoints(files).items():
        app.add_url_rule(path, path, serve, methods=["GET"])
    shown = ViewFile(document if view is None else view)
    view_json = endpoint(shown.json_for, JSON_TYPE)
    app.add_url_rule(VIEW_PATH, VIEW_PATH, view_json, methods=["GET"])
    app.add_url_rule(
        "/reference", "reference", reference_endpoint(shown.sha256, base_url_of), methods=["GET"]
    )
