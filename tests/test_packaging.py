"""The wheel carries the spec and fixtures, and serves them outside the repo."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
    )
    (path,) = out.glob("pin_mock-*.whl")
    return path


def test_wheel_contains_spec_and_fixtures(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "pin_mock/_data/openapi/pin.yaml" in names
    assert "pin_mock/_data/fixtures/clients.yaml" in names
    assert "pin_mock/_data/fixtures/patients.yaml" in names
    assert (ROOT / "openapi" / "pin.yaml").read_bytes() == zipfile.ZipFile(wheel).read(
        "pin_mock/_data/openapi/pin.yaml"
    )


def test_unpacked_wheel_serves_its_own_spec_outside_the_repo(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    script = (
        "from pin_mock._bundled import spec_path, fixtures_dir\n"
        "from starlette.testclient import TestClient\n"
        "from pin_mock.server import create_app\n"
        "print(spec_path()); print(fixtures_dir())\n"
        "with TestClient(create_app()) as c:\n"
        "    assert c.get('/openapi.json').json()['info']['title'].startswith('PIN')\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    spec, fixtures = result.stdout.split()
    assert spec.startswith(str(tmp_path / "site")) and fixtures.startswith(str(tmp_path / "site"))
