"""Build the published API reference: one self-contained HTML page (``make docs``).

    python docs/build_reference.py [--spec openapi/pin.yaml] [--output build/reference]

Redoc, through the pinned ``@redocly/cli`` in ``docs/node_modules`` (``npm ci
--prefix docs``), renders the sandbox's view of ``openapi/pin.yaml`` (the
contract plus ``openapi/*.overlay.yaml``: ``pin_mock.overlays``) with
``docs/getting-started.md`` as the reference's first section, every script
inlined (``--inlineBundle``), so the page works offline and from any static
host. Redoc shows every language of the code samples (``codeSamples`` in
``redocly.yaml``). The output directory gets:

- ``index.html``: the reference; it names the fingerprint of the view it shows
  (``pin_mock.overlays.fingerprint``), and a sandbox serves it at ``/reference``
  only beside that same view, with the samples' ``http://127.0.0.1:8080`` made
  the address the page was loaded from;
- ``openapi.yaml``: PIN's contract, byte for byte, and ``_sandbox/openapi.json``:
  the view (the page's download links).

The wheel carries the page (``hatch_build.py`` runs this when the wheel is
built), so every install serves the reference without Node.js.

Two things Redoc would fetch from the internet are settled here: browser
telemetry is off (``telemetry: off`` in ``redocly.yaml``, checked below), and
the "API docs by Redocly" badge's logo, an image on Redocly's CDN, becomes an
inline SVG with the same words. The build fails if either ever changes.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if not (ROOT / "src" / "pin_mock").is_dir():  # pragma: no cover - run from a checkout only
    raise SystemExit("build_reference.py runs from a pin-mock checkout")
sys.path.insert(0, str(ROOT / "src"))  # pin_mock.overlays, also when run by the wheel's build hook

from pin_mock.overlays import fingerprint, sandbox_document  # noqa: E402

DOCS = ROOT / "docs"
REDOCLY = DOCS / "node_modules" / ".bin" / "redocly"
GUIDE = DOCS / "getting-started.md"
TEMPLATE = DOCS / "reference.hbs"
CONFIG = ROOT / "redocly.yaml"
# Redocly's CLI reports usage and checks for updates unless told not to.
NODE_ENV = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}

_LOGO = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='56' height='16'%3E"
    "%3Ctext x='0' y='12' font-family='sans-serif' font-size='12' fill='%23555'%3ERedocly"
    "%3C/text%3E%3C/svg%3E"
)
_OFFLINE = {
    "https://cdn.redoc.ly/redoc/logo-mini-full.svg": _LOGO,
    "https://cdn.redoc.ly/redoc/logo-mini.svg": _LOGO,
}
_TELEMETRY_OFF = '"disableTelemetry":true'


#: How the examples are replayed (example-requests.overlay.yaml): the tests' business, not
#: a reader's, so not in the page.
TEST_METADATA = frozenset({"x-request", "x-replay", "x-replay-reason"})


def _without(node: object, keys: frozenset[str]) -> object:
    if isinstance(node, dict):
        return {k: _without(v, keys) for k, v in node.items() if k not in keys}
    if isinstance(node, list):
        return [_without(v, keys) for v in node]
    return node


class BuildError(Exception):
    """The reference could not be built; the message says why and what to run."""


def build(spec: Path, output: Path) -> Path:
    """Build the reference for ``spec`` into the directory ``output``; returns the page."""
    if not REDOCLY.exists():
        raise BuildError(
            f"{REDOCLY.relative_to(ROOT)} is missing: run `npm ci --prefix docs` "
            "(Node.js 20 or later), or `make docs`, which does"
        )
    raw = spec.read_bytes()
    view = sandbox_document(yaml.safe_load(raw), strict=True)
    document = _without(copy.deepcopy(view), TEST_METADATA)
    info = document.setdefault("info", {})
    # The guide becomes the first section of the reference: Redoc makes its
    # headings entries of the side menu, before the operations.
    info["description"] = f"{info.get('description', '').rstrip()}\n\n{GUIDE.read_text()}"
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output, prefix=".build-") as work:
        source = Path(work) / "pin.json"
        source.write_text(json.dumps(document, default=str, ensure_ascii=False))
        page = Path(work) / "index.html"
        _redocly(source, page, sha256=fingerprint(view))
        html = _offline(page.read_text(encoding="utf-8"))
        page.write_text(html, encoding="utf-8")
        shutil.copyfile(spec, Path(work) / "openapi.yaml")
        (Path(work) / "sandbox.json").write_text(
            json.dumps(view, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        # Replace the old files only now, so a failed build leaves the last good one.
        (output / "_sandbox").mkdir(exist_ok=True)
        for name, target in (
            ("openapi.yaml", "openapi.yaml"),
            ("sandbox.json", "_sandbox/openapi.json"),
            ("index.html", "index.html"),
        ):
            os.replace(Path(work) / name, output / target)
    return output / "index.html"


def _redocly(source: Path, page: Path, *, sha256: str) -> None:
    command = [
        str(REDOCLY), "build-docs", str(source),
        "--config", str(CONFIG),
        "--template", str(TEMPLATE),
        f"--templateOptions.specSha256={sha256}",
        "--inlineBundle",
        "--output", str(page),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **NODE_ENV},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not page.exists():
        raise BuildError(f"redocly build-docs failed ({done.returncode}):\n{done.stderr}")


def _offline(html: str) -> str:
    """The page with nothing left that reaches for Redocly's servers; else BuildError."""
    for remote, local in _OFFLINE.items():
        html = html.replace(remote, local)
    if "https://cdn.redoc.ly/" in html:
        raise BuildError("the page still loads something from cdn.redoc.ly: see _OFFLINE")
    if _TELEMETRY_OFF not in html:
        raise BuildError("Redoc's browser telemetry is not off: `telemetry: off` in redocly.yaml")
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "openapi" / "pin.yaml")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "reference")
    args = parser.parse_args(argv)
    try:
        page = build(args.spec, args.output)
    except BuildError as exc:
        print(f"build_reference: {exc}", file=sys.stderr)
        return 1
    print(f"{page} ({page.stat().st_size // 1024} KiB), served by the sandbox at /reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
