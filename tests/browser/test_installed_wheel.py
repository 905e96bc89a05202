"""A newcomer's install: the built wheel in a fresh venv serves the reference, no Node.js.

The wheel this run built (``built_wheel``) is installed with the ``server``
extra into a new virtual environment (pinned by ``constraints.txt``), then
``pin-mock serve --port 18123`` runs from an empty directory with nothing but
the venv on ``PATH``. Its ``/reference`` is the checkout's page but for the address
(so ``test_docs_in_chromium``'s reading of every operation in every language holds
for it); in Chromium the samples the newcomer runs show their three languages, each
naming that port; then curl samples copied from the rendered page run verbatim: a
token, a list, and a download that must fail loudly instead of saving an error as a file.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redoc_samples import LANGUAGES, MARKERS, samples_as_rendered
from test_docs_in_chromium import operations

from built_wheel import ROOT, built_wheel

#: The port the issue names; another free one if something already listens there.
PORT = 18123


def _port() -> int:
    for port in (PORT, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and its server extra installed; its ``bin``."""
    wheel = built_wheel(tmp_path_factory)
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(ROOT / "constraints.txt"), f"{wheel}[server]"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin"


@pytest.fixture(scope="module")
def served(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``pin-mock serve --port 18123`` from the fresh venv, outside the repository."""
    port = _port()
    home = tmp_path_factory.mktemp("newcomer")
    env = {"PATH": str(installed), "HOME": str(home), "LANG": "C.UTF-8"}
    assert shutil.which("node", path=env["PATH"]) is None
    process = subprocess.Popen(
        [str(installed / "pin-mock"), "serve", "--port", str(port)],
        cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/openapi.json", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "pin-mock serve did not answer within 120 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run(sample: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A sample as a reader pastes it into a shell."""
    return subprocess.run(
        ["bash", "-c", sample], cwd=cwd, env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


#: The operations whose curl samples the newcomer runs below (read in every language).
RUN = ("issueToken", "listPatients", "downloadReport", "getPatient")


def test_the_installed_wheel_serves_the_reference_in_every_language(
    served: str, sandbox_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    answer = httpx.get(f"{served}/reference", timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    # The wheel's page is the checkout's, but for the address each was asked at: so
    # what test_docs_in_chromium reads of every operation in every language holds for it.
    checkout = httpx.get(f"{sandbox_url}/reference", timeout=30)
    assert checkout.status_code == 200, "the checkout's reference is not built (make docs)"
    assert answer.text.replace(served, sandbox_url) == checkout.text
    page, _ = request.getfixturevalue("watched_page")
    page.goto(f"{served}/reference")
    page.get_by_test_id("menu-item-label").first.wait_for()
    ids = [op for _tag, op in operations()]
    sandbox_own = {"resetSandbox", "checkHealth", "checkReadiness", "scrapeMetrics"}
    sandbox_own |= {"listRequests", "streamRequests"}  # the request journal
    sandbox_own |= {"getChaos", "setChaos", "deleteChaos"}
    sandbox_own |= {"triggerEvent", "resendEvent"}
    sandbox_own |= {f"{verb}SandboxClock" for verb in ("get", "freeze", "advance", "resume")}
    assert len(ids) == 33 and len([op for op in ids if op not in sandbox_own]) == 18
    shown = {op: samples_as_rendered(page, tag, op) for tag, op in operations() if op in RUN}
    assert sorted(shown) == sorted(RUN)
    for op, samples in shown.items():
        assert list(samples) == list(LANGUAGES), op
        for label, text in samples.items():
            assert MARKERS[label] in text and served in text, (op, label, text[:300])

    # curl samples copied from the page, run verbatim against the port it was served on.
    token = _run(shown["issueToken"]["curl"], tmp_path)
    assert token.returncode == 0, token.stderr
    access = httpx.Response(200, content=token.stdout).json()["access_token"]
    listed = _run(shown["listPatients"]["curl"], tmp_path, PIN_TOKEN=access)
    assert listed.returncode == 0, listed.stderr
    assert "John Doe" in listed.stdout
    # The download sample names a report this sandbox does not have: curl must fail
    # (exit 22) and save nothing, rather than keep the error as a file.
    download = _run(shown["downloadReport"]["curl"], tmp_path, PIN_TOKEN=access)
    assert download.returncode == 22, (download.returncode, download.stderr)
    assert list(tmp_path.iterdir()) == []
    # Every other curl sample fails loudly on an error status too.
    forbidden = _run(shown["getPatient"]["curl"], tmp_path, PIN_TOKEN="not-a-token")
    assert forbidden.returncode == 22 and '"UNAUTHORIZED"' in forbidden.stdout


def test_the_newcomers_server_runs_without_node(installed: Path) -> None:
    # Nothing in the venv is Node.js, and the reference page is in the package itself.
    assert not [p for p in installed.iterdir() if p.name in ("node", "npm", "npx")]
    found = subprocess.run(
        [str(installed / "python"), "-c", "from pin_mock._bundled import reference_page; print(reference_page())"],
        capture_output=True, text=True, timeout=60, check=True, env={"PATH": str(installed)},
        cwd="/",
    )  # fmt: skip
    assert "site-packages/pin_mock/_data/reference/index.html" in found.stdout
    assert not found.stdout.startswith(str(ROOT)), found.stdout
