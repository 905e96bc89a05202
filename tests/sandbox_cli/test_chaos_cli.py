"""``pin-mock chaos`` run as a newcomer runs it: a subprocess against a served sandbox."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loopback import serving
from pin_mock.server import Settings, create_app

PIN_MOCK = shutil.which("pin-mock", path=str(Path(sys.executable).parent)) or "pin-mock"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(create_app(Settings(report_delay=0.0)), name="chaos-cli-sandbox") as base:
        yield base


def chaos(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PIN_MOCK, "chaos", *args, "--base-url", url],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(Path(sys.executable).parent), **(env or {})},
    )


def test_set_show_and_off(url: str) -> None:
    done = chaos(
        url,
        "set",
        "--probability", "0.25",
        "--fault", "connection_reset",
        "--fault", "malformed_json",
        "--operation", "listPatients",
        "--delay", "lognormal:median_ms=20,sigma=0.5,max_ms=100",
        "--seed", "42",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "chaos for sandbox-standard: on" in done.stdout
    assert "connection_reset, malformed_json" in done.stdout and "seed           42" in done.stdout
    shown = chaos(url, "show", "--json")
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state["delay"] == {
        "distribution": "lognormal",
        "median_ms": 20,
        "sigma": 0.5,
        "max_ms": 100,
    }
    assert state["operations"] == ["listPatients"] and state["requests_seen"] == 0
    off = chaos(url, "off")
    assert off.returncode == 0 and off.stdout.strip() == "chaos for sandbox-standard: off"


def test_it_acts_on_its_own_client_only(url: str) -> None:
    assert chaos(url, "set", "--probability", "1", "--fault", "empty_response").returncode == 0
    other = chaos(url, "show", "--client-id", "sandbox-professional")
    assert other.stdout.strip() == "chaos for sandbox-professional: off"
    # A token given in the environment is used as it is.
    form = {"grant_type": "client_credentials", "client_id": "sandbox-enterprise",
            "client_secret": "sandbox-enterprise-secret"}  # fmt: skip
    token = httpx.post(f"{url}/oauth/token", data=form).json()["access_token"]
    mine = chaos(url, "show", env={"PIN_TOKEN": token})
    assert mine.stdout.strip() == "chaos for sandbox-enterprise: off"
    assert chaos(url, "off").returncode == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["set", "--probability", "2", "--fault", "empty_response"], "at most 1"),
        (["set", "--probability", "0.5", "--fault", "unplug"], "must be one of"),
        (["set", "--probability", "0.5", "--operation", "issueToken", "--fault", "empty_response"],
         "never /oauth/token"),
        (["set", "--probability", "0.5", "--delay", "uniform:min_ms=x"], "not a number"),
        (["show", "--client-secret", "wrong"], "invalid_client"),
    ],
)  # fmt: skip
def test_refusals_are_one_clear_line_and_exit_non_zero(url: str, args: list, says: str) -> None:
    done = chaos(url, *args)
    assert done.returncode != 0
    assert says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_sandbox_is_one_line() -> None:
    done = chaos("http://127.0.0.1:9", "show")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: cannot reach the sandbox at http://127.0.0.1:9")
