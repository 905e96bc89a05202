"""Importing the kit loads none of the server's dependencies, and no runtime import cycles.

Each check runs in a fresh interpreter: the test session itself has loaded the
server (the end-to-end tests serve the sandbox), so ``sys.modules`` here proves nothing.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pin_mock.contract

KIT_DIR = Path(pin_mock.contract.__file__).parent
SERVER_DEPENDENCIES = ("connexion", "faker", "jwt", "limits", "fpdf", "standardwebhooks", "uvicorn")


def kit_paths() -> list[Path]:
    return [p for p in sorted(KIT_DIR.rglob("*.py")) if p.name != "pytest_suite.py"]


def kit_modules() -> list[str]:
    """Every kit module but ``pytest_suite`` (it runs only in a pytest session given --pin-base-url)."""
    names = []
    for path in kit_paths():
        parts = path.relative_to(KIT_DIR).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(("pin_mock.contract", *parts)))
    return names


def loaded_after_importing(*modules: str) -> set[str]:
    script = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout))


def test_every_kit_module_is_listed():
    modules = kit_modules()
    for name in ("runner", "hooks", "command", "pytest_plugin", "checks.catalogue", "probes.state"):
        assert f"pin_mock.contract.{name}" in modules


def test_importing_the_kit_loads_no_server_dependency():
    loaded = loaded_after_importing("pin_mock.contract", *kit_modules())
    dragged = sorted(name for name in loaded if name.split(".")[0] in SERVER_DEPENDENCIES)
    assert dragged == []
    assert sorted(name for name in loaded if name.startswith("pin_mock.server")) == []


def test_the_pytest_plugin_imports_nothing_until_asked():
    """It is loaded into every pytest run: only pytest, the standard library and one constant."""
    loaded = loaded_after_importing("pytest")
    with_plugin = loaded_after_importing("pytest", "pin_mock.contract.pytest_plugin")
    added = with_plugin - loaded
    assert added == {
        "pin_mock",
        "pin_mock.contract",
        "pin_mock.contract.pytest_plugin",
        "pin_mock.contract.sandbox_client",
    }


def imports_of(path: Path) -> set[str]:
    """Modules a file imports at run time (in functions too; not under ``TYPE_CHECKING``)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.add(child.module)
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def test_the_kit_has_no_runtime_import_cycles():
    modules = {name: path for name, path in zip(kit_modules(), kit_paths(), strict=True)}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for imported in imports_of(path):
            parts = imported.split(".")
            # Importing a submodule runs its packages' __init__ first.
            for i in range(1, len(parts) + 1):
                target = ".".join(parts[:i])
                if target in modules and target != name and not name.startswith(target + "."):
                    edges.add(target)
        graph[name] = edges

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return [*trail, start]
                if nxt not in trail:
                    stack.append((nxt, [*trail, nxt]))
        return None

    cycles = [cycle for name in graph if (cycle := cycle_from(name))]
    assert cycles == [], " -> ".join(cycles[0])


def imports_with_type_checking(path: Path) -> set[str]:
    """Every module a file names in an import, ``TYPE_CHECKING`` ones included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_output_consumes_results_and_never_the_runner():
    """Issue 17: output/ and the result types import no entry point or runner, not even for types."""
    upward = {
        "pin_mock.contract.runner",
        "pin_mock.contract.command",
        "pin_mock.contract.pytest_suite",
    }
    for path in [
        *sorted((KIT_DIR / "output").glob("*.py")),
        KIT_DIR / "result.py",
        KIT_DIR / "verdict.py",
    ]:
        assert imports_with_type_checking(path) & upward == set(), path.name


def test_only_the_entry_points_name_the_sandbox_s_client():
    """Probes take the configured client; the sandbox's default is the entry points' business."""
    allowed = {"command.py", "runner.py", "pytest_plugin.py", "replay.py", "sandbox_client.py"}
    naming = sorted(
        str(path.relative_to(KIT_DIR))
        for path in KIT_DIR.rglob("*.py")
        if "pin_mock.contract.sandbox_client" in imports_with_type_checking(path)
    )
    assert set(naming) <= allowed, naming
    for path in (KIT_DIR / "probes").glob("*.py"):
        assert "sandbox-" not in path.read_text(), f"{path.name} names a sandbox client"


def test_probes_take_paths_from_the_spec():
    """No probe writes an API path: it calls an operation by its operationId (ctx.call)."""
    for path in (KIT_DIR / "probes").glob("*.py"):
        text = path.read_text()
        assert '"/v1' not in text and "'/v1" not in text, f"{path.name} writes a path"
