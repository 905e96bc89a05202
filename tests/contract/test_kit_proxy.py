"""``pin-mock proxy``: real traffic judged with the kit's checks.

In front of the sandbox while every default-settings example of the spec is
replayed through it (the documentation's own requests, good and bad): no
finding. In front of a broken implementation: the finding. Asked to judge
requests, it names what a client sent wrong.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kit_mutants import MUTANTS, Proxy
from kit_servers import serve
from pin_mock.contract.proxy import ProxyOptions, ValidatingProxy, write_reports
from pin_mock.contract.spec import bundled_spec_path

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture
def default_sandbox() -> Iterator[str]:
    """A sandbox with default settings (reports at once), as the examples were captured."""
    from pin_mock.server.app import create_app
    from pin_mock.server.settings import Settings

    with serve(create_app(Settings(report_delay=0.0))) as url:
        yield url


def proxy_to(upstream: str, judge: str = "responses") -> ValidatingProxy:
    return ValidatingProxy(ProxyOptions(upstream, bundled_spec_path(), port=0, judge=judge)).start()


def test_the_sandbox_passes_while_the_documented_examples_run_through_the_proxy(
    default_sandbox, tmp_path
) -> None:
    sys.path.insert(0, str(DOCS))
    try:
        from examples_replay import DEFAULT_CLIENT, Replayer, replays, spec
    finally:
        sys.path.remove(str(DOCS))
    proxy = proxy_to(default_sandbox)
    document = spec()
    sent = 0
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        replayer = Replayer(http, document)  # type: ignore[arg-type]
        for replay in replays(document):
            request = replay.request or {}
            if replay.request is None or "clock" in request or "settings" in request:
                continue  # another sandbox's: a clock or settings of their own
            http.post(
                "/_sandbox/reset",
                headers={"Authorization": f"Bearer {replayer.token(DEFAULT_CLIENT)}"},
            )
            answer = replayer.send(replay)
            assert answer.status_code == replay.status, (replay.label, answer.text)
            sent += 1
    proxy.stop()
    assert sent > 80 and proxy.exchanges > sent
    text = write_reports(proxy, tmp_path)
    assert proxy.findings == [], text
    assert text.startswith("pin-mock proxy: PASSED") and (tmp_path / "traffic.har").exists()


def test_a_broken_implementation_behind_the_proxy_is_found(sandbox_url, tmp_path) -> None:
    mutant = next(m for m in MUTANTS if m.name == "wrong-field-types")
    with serve(Proxy(sandbox_url, mutant)) as broken:
        proxy = proxy_to(broken)
        form = {"grant_type": "client_credentials", "client_id": "sandbox-enterprise",
                "client_secret": "sandbox-enterprise-secret"}  # fmt: skip
        token = httpx.post(proxy.url + "/oauth/token", data=form).json()["access_token"]
        answer = httpx.get(
            proxy.url + "/v1/patients/patient_123", headers={"Authorization": f"Bearer {token}"}
        )
        proxy.stop()
    assert answer.status_code == 200 and isinstance(
        answer.json()["date_of_birth"], int
    )  # forwarded as is
    assert {(f.operation, f.check) for f in proxy.findings} == {
        ("GET /v1/patients/{patient_id}", "response_schema_conformance")
    }
    text = write_reports(proxy, tmp_path)
    assert "FAILED" in text and token not in (tmp_path / "failures.har").read_text()


def test_requests_are_judged_for_integrators_and_the_command_stops_with_its_reports(
    sandbox_url, tmp_path
) -> None:
    report = tmp_path / "proxy-report"
    command = [sys.executable, "-m", "pin_mock.cli", "proxy", "--upstream", sandbox_url, "--port", "0",
               "--judge", "requests", "--report-dir", str(report)]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()  # "pin-mock proxy: http://127.0.0.1:PORT -> ..."
        url = line.split()[2]
        form = {"grant_type": "client_credentials", "client_id": "sandbox-enterprise",
                "client_secret": "sandbox-enterprise-secret"}  # fmt: skip
        token = httpx.post(url + "/oauth/token", data=form).json()["access_token"]
        httpx.get(
            url + "/v1/patients",
            params={"limit": 500, "sortby": "name"},
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 1, out
    summary = (report / "summary.txt").read_text()
    assert "pin_request_conformance" in summary and "sortby is not documented" in summary
    assert "limit: 500 is greater than the maximum of 100" in summary
