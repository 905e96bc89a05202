"""``pin-mock logs``: the request journal in a terminal, run as a subprocess against a served
sandbox (memory engine here; Redis with two workers: tests/multiprocess/test_mp_journal.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from logs_follower import ROOT, Follower
from loopback import serving
from pin_mock.server import Settings, create_app


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with serving(create_app(Settings(report_delay=0.0)), name="logs-sandbox") as url:
        yield url


def _token(url: str, client_id: str) -> str:
    answer = httpx.post(
        f"{url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, f"{client_id}-secret"),
    )
    return str(answer.json()["access_token"])


def _logs(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pin_mock.cli", "logs", "--base-url", url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_follow_prints_a_request_made_afterwards(sandbox_url: str) -> None:
    follower = Follower(sandbox_url, "--client-id", "sandbox-professional")
    try:
        follower.wait_following()
        token = _token(sandbox_url, "sandbox-professional")
        headers = {"Authorization": f"Bearer {token}"}
        httpx.get(f"{sandbox_url}/v1/patients?limit=500", headers=headers)
        lines = follower.expect("limit=500")
        assert "400" in lines[-1] and "listPatients" in lines[-1]
        reason = follower.expect("INVALID_PARAMETER")[-1]
        assert "query limit: integer, 1 to 100" in reason
        # Another client's request never shows.
        other = {"Authorization": f"Bearer {_token(sandbox_url, 'sandbox-readonly')}"}
        httpx.get(f"{sandbox_url}/v1/patients?limit=3", headers=other)
        httpx.get(f"{sandbox_url}/v1/patientz", headers=headers)
        lines = follower.expect("nearest:")
        assert not any("limit=3" in line for line in lines)
        assert "GET /v1/patients (listPatients" in lines[-1]
    finally:
        assert follower.stop() == 0


def test_logs_prints_the_last_exchanges_filtered(sandbox_url: str) -> None:
    headers = {"Authorization": f"Bearer {_token(sandbox_url, 'sandbox-standard')}"}
    httpx.get(f"{sandbox_url}/v1/patients/patient_123", headers=headers)
    httpx.get(f"{sandbox_url}/v1/patients/patient_nobody", headers=headers)
    done = _logs(sandbox_url, "--client-id", "sandbox-standard", "--status", "4xx")
    assert done.returncode == 0, done.stderr
    assert "/v1/patients/patient_nobody  404  getPatient" in done.stdout
    assert "patient_123" not in done.stdout
    as_json = _logs(
        sandbox_url, "--client-id", "sandbox-standard", "--json", "--operation", "getPatient"
    )
    entries = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [e["path"] for e in entries] == [
        "/v1/patients/patient_123",
        "/v1/patients/patient_nobody",
    ]
    assert all(e["request"]["headers"]["authorization"] == "Bearer [redacted]" for e in entries)


def test_logs_says_what_went_wrong_in_one_line(sandbox_url: str) -> None:
    wrong = _logs(sandbox_url, "--client-id", "sandbox-standard", "--client-secret", "nope")
    assert wrong.returncode == 1
    assert "could not sign in as sandbox-standard: 401" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    bad = _logs(sandbox_url, "--status", "teapot")
    assert bad.returncode == 1 and "400" in bad.stderr and "status" in bad.stderr
    gone = _logs("http://127.0.0.1:9", "--token", "x")
    assert gone.returncode == 1 and "cannot reach the sandbox" in gone.stderr
