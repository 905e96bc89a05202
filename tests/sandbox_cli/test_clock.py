"""``pin-mock clock``, run as a subprocess against a live sandbox, as a newcomer would."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopback import serving
from pin_mock.server import Settings, create_app

PIN_MOCK = shutil.which("pin-mock", path=str(Path(sys.executable).parent)) or "pin-mock"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(create_app(Settings())) as base_url:
        yield base_url


def clock(url: str, *args: str, client: str = "sandbox-enterprise") -> subprocess.CompletedProcess:
    return subprocess.run(
        [PIN_MOCK, "clock", *args, "--url", url, "--client-id", client],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(Path(sys.executable).parent)},
    )


def test_show_freeze_advance_resume(url: str) -> None:
    shown = clock(url)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("sandbox-enterprise: ") and "(running, +0.000 s" in shown.stdout
    frozen = clock(url, "freeze", "--at", "2030-01-01T00:00:00Z")
    assert frozen.stdout.startswith("sandbox-enterprise: 2030-01-01T00:00:00.000Z (frozen, ")
    ahead = clock(url, "advance", "3600", "--json")
    assert json.loads(ahead.stdout)["now"] == "2030-01-01T01:00:00.000Z"
    assert clock(url, "show").stdout.startswith("sandbox-enterprise: 2030-01-01T01:00:00.000Z")
    resumed = clock(url, "resume")
    assert resumed.returncode == 0 and "(running, " in resumed.stdout
    # Another client's clock was never touched.
    other = clock(url, client="sandbox-professional")
    assert "(running, +0.000 s" in other.stdout


def test_refusals_print_the_sandboxs_reason_and_exit_1(url: str) -> None:
    huge = clock(url, "advance", "1e12")
    assert huge.returncode == 1
    assert "400" in huge.stderr and "seconds" in huge.stderr
    early = clock(url, "freeze", "--at", "1999-01-01T00:00:00Z")
    assert early.returncode == 1 and "2000-01-01" in early.stderr
    denied = clock(url, "advance", "5", client="sandbox-readonly")
    assert denied.returncode == 1 and "403" in denied.stderr


def test_usage_mistakes_and_an_unreachable_sandbox_exit_2() -> None:
    assert clock("http://127.0.0.1:9", "advance").returncode == 2  # SECONDS missing
    assert clock("http://127.0.0.1:9", "show", "5").returncode == 2
    assert clock("http://127.0.0.1:9", "advance", "not-a-number").returncode == 2
    gone = clock("http://127.0.0.1:9")
    assert gone.returncode == 2 and "cannot reach the sandbox" in gone.stderr
