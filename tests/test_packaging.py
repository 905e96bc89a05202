"""The wheel: spec and fixtures inside, served outside the repo; the kit installs alone.

``pip install pin-mock`` is the contract-testing kit; the sandbox is the
``server`` extra. These tests read the built wheel's METADATA and the source's
imports, so a server library that slips into the base install, or a kit import
that no base requirement covers, fails here (no network: the wheel is built
with ``--no-deps``).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import pin_mock
from built_wheel import built_wheel

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "pin_mock"

#: The sandbox's libraries: never in a kit-only install.
SERVER_DISTRIBUTIONS = {
    "connexion",
    "starlette",
    "uvicorn",
    "jsonschema",
    "faker",
    "pyjwt",
    "limits",
    "fpdf2",
    "orjson",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_wheel(tmp_path_factory)


def test_wheel_contains_spec_overlays_fixtures_and_reference(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    assert "pin_mock/_data/fixtures/clients.yaml" in names
    assert "pin_mock/_data/fixtures/patients.yaml" in names
    for source in [
        ROOT / "openapi" / "pin.yaml",
        *sorted((ROOT / "openapi").glob("*.overlay.yaml")),
    ]:
        assert archive.read(f"pin_mock/_data/openapi/{source.name}") == source.read_bytes()
    page = archive.read("pin_mock/_data/reference/index.html")
    assert b'<meta name="pin-mock-spec-sha256"' in page and len(page) > 1_000_000


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


# The wheel's metadata ---------------------------------------------------------------------


def _metadata(wheel: Path):
    archive = zipfile.ZipFile(wheel)
    (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    return Parser().parsestr(archive.read(name).decode())


def _requirements(wheel: Path) -> list[tuple[str, str, str]]:
    """(distribution, version range, extra or "") for each ``Requires-Dist``."""
    rows = []
    for line in _metadata(wheel).get_all("Requires-Dist") or []:
        requirement, _, marker = line.partition(";")
        match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(\[[^\]]*\])?\s*(.*)", requirement)
        assert match, line
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        rows.append((_normal(match[1]), match[3].strip(), extra[1] if extra else ""))
    return rows


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_wheel_version_is_the_package_version(wheel: Path) -> None:
    assert _metadata(wheel)["Version"] == pin_mock.__version__
    assert wheel.name.startswith(f"pin_mock-{pin_mock.__version__}-")


def test_base_install_has_no_server_dependency(wheel: Path) -> None:
    requirements = _requirements(wheel)
    base = {name for name, _, extra in requirements if not extra}
    server = {name for name, _, extra in requirements if extra == "server"}
    assert base, "the kit's own dependencies are missing from the metadata"
    assert not base & SERVER_DISTRIBUTIONS, "a server library is in the base install"
    assert server >= SERVER_DISTRIBUTIONS
    assert "server" in (_metadata(wheel).get_all("Provides-Extra") or [])


def test_library_dependencies_are_ranges_not_pins(wheel: Path) -> None:
    for name, versions, _extra in _requirements(wheel):
        assert "==" not in versions, f"{name} is pinned ({versions}); pins go in constraints.txt"
        assert ">=" in versions and "<" in versions, f"{name} needs a range, got {versions!r}"


def _third_party_imports(trees: list[ast.Module]) -> set[str]:
    """Top-level names of the non-stdlib, non-pin_mock modules these modules import."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.partition(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "pin_mock"}


def _parse(paths: list[Path]) -> list[ast.Module]:
    return [ast.parse(path.read_text(), str(path)) for path in paths]


def _distributions(import_names: set[str]) -> set[str]:
    installed = packages_distributions()
    return {_normal(installed[name][0]) for name in import_names}


def _cli_outside_serve() -> ast.Module:
    """``cli.py`` less the bodies that run the sandbox (they need the extra)."""
    tree = ast.parse((SRC / "cli.py").read_text())
    server_only = {"serve", "_clients_summary"}
    tree.body = [
        n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name in server_only)
    ]
    return tree


def test_base_requirements_cover_what_the_kit_imports(wheel: Path) -> None:
    kit = sorted((SRC / "contract").rglob("*.py")) + [SRC / "_bundled.py", SRC / "__init__.py"]
    needed = _distributions(_third_party_imports([*_parse(kit), _cli_outside_serve()]))
    base = {name for name, _, extra in _requirements(wheel) if not extra}
    assert needed <= base, f"the kit imports {sorted(needed - base)} outside the base install"
    assert not needed & SERVER_DISTRIBUTIONS


#: The one module that imports the ``traces`` extra (OpenTelemetry), only when --traces.
TRACING = SRC / "server" / "observability" / "tracing.py"


def test_server_requirements_cover_what_the_server_imports(wheel: Path) -> None:
    server = _parse(sorted(p for p in (SRC / "server").rglob("*.py") if p != TRACING))
    needed = _distributions(_third_party_imports(server))
    declared = {name for name, _, extra in _requirements(wheel) if extra in {"", "server"}}
    assert needed <= declared, f"the server imports {sorted(needed - declared)}, undeclared"


def test_the_traces_extra_covers_what_tracing_imports(wheel: Path) -> None:
    tree = _parse([TRACING])[0]
    modules = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("opentelemetry")
    }
    # opentelemetry is a namespace shared by several distributions: map each module to its own.
    owners = {
        "opentelemetry": "opentelemetry-api",
        "opentelemetry.sdk": "opentelemetry-sdk",
        "opentelemetry.exporter.otlp.proto.http": "opentelemetry-exporter-otlp-proto-http",
    }
    needed = {
        owners[max((o for o in owners if m == o or m.startswith(o + ".")), key=len)]
        for m in modules
    }
    traces = {name for name, _, extra in _requirements(wheel) if extra == "traces"}
    assert needed == set(owners.values()) and needed <= traces, (needed, traces)
    assert "traces" in (_metadata(wheel).get_all("Provides-Extra") or [])


def test_constraints_pin_every_declared_dependency(wheel: Path) -> None:
    """``make`` installs from constraints.txt: every dependency has its exact version there."""
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pinned[_normal(name)] = version
    assert "pin-mock" not in pinned
    missing = {name for name, _, _ in _requirements(wheel)} - set(pinned)
    assert not missing, f"constraints.txt lacks {sorted(missing)}"
