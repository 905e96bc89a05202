"""The house rules of ``src/pin_mock`` that import-linter cannot state, checked from the source.

The layer rules (imports only go down, the kit imports nothing from the server,
engines only behind the state ports, handlers reached only through routing) are
import-linter contracts in ``pyproject.toml`` (``lint-imports``, run by ``make
check`` and ``make test``; ``test_import_contracts.py`` shows them failing).
Here:

- no runtime import cycle, even inside one layer (imports under ``if TYPE_CHECKING:``
  do not run);
- outside ``state/`` nothing asks which engine it has: no engine type, no engine
  attribute (``.redis``, ``.sync``, ``.shared``), no ``getattr`` fallback on the
  services or settings, no await-if-awaitable shim;
- no module over 400 lines; handlers never reach into Connexion.
"""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "pin_mock"


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def runtime_imports(name: str) -> set[str]:
    """The package's own modules ``name`` imports when it runs (function bodies included)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                targets.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets.add(base)
                targets.update(f"{base}.{alias.name}" for alias in child.names)
            pending.append(child)
    own = {t for t in targets if t in MODULES and t != name}
    # Importing a submodule runs its parents' __init__ first (unless we are inside them).
    for target in list(own):
        parts = target.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent in MODULES and not name.startswith(parent + "."):
                own.add(parent)
    own.discard(name)
    return own


GRAPH = {name: runtime_imports(name) for name in MODULES}


def test_the_graph_sees_known_edges() -> None:
    # Guards the parser itself: a graph without edges would pass the cycle rule below.
    assert (
        "pin_mock.server.pipeline.authentication" in GRAPH["pin_mock.server.pipeline.rate_limits"]
    )
    assert "pin_mock.contract.runner" in GRAPH["pin_mock.contract.command"]


def test_no_runtime_import_cycles() -> None:
    try:
        tuple(TopologicalSorter(GRAPH).static_order())
    except CycleError as exc:
        pytest.fail(f"runtime import cycle: {' -> '.join(exc.args[1])}")


#: What only the state package may name: the engines' types and their connections.
ENGINE_NAME = re.compile(r"^_?(Memory|Redis)[A-Z]\w*$")
ENGINE_ATTRIBUTES = {"redis", "sync", "shared"}
STATE = "pin_mock.server.state"


def engine_switches(tree: ast.AST) -> list[str]:
    """Where a module asks which engine it has (what ``test_nothing_outside_state...`` forbids)."""
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name) and ENGINE_NAME.match(node.id):
            found.append(f"{line}: the engine type {node.id}")
        elif isinstance(node, ast.alias) and ENGINE_NAME.match(node.name.rpartition(".")[2]):
            found.append(f"{line}: imports the engine type {node.name}")
        elif isinstance(node, ast.Attribute) and node.attr in ENGINE_ATTRIBUTES:
            found.append(f"{line}: the engine attribute .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            on = ast.unparse(node.args[0]) if node.args else ""
            fallback = node.func.id == "getattr" and len(node.args) == 3
            if fallback and any(word in on for word in ("services", "settings", "engine")):
                found.append(f"{line}: a getattr fallback on {on}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "_maybe":
            found.append(f"{line}: an await-if-awaitable shim")
    return found


def test_the_engine_switch_finder_finds_them() -> None:
    # Guards the finder itself: each kind of switch the issue found is caught.
    planted = """
from pin_mock.server.state.memory.tenants import MemoryTenants
if isinstance(store.tenants, MemoryTenants): pass
if engine.redis is None: pass
engine = getattr(services, "state", None)
async def _maybe(value): return value
"""
    assert len(engine_switches(ast.parse(planted))) == 5


def test_nothing_outside_state_asks_which_engine_it_has() -> None:
    switches = {
        name: found
        for name, path in MODULES.items()
        if name.startswith("pin_mock.server") and not name.startswith(STATE)
        if (found := engine_switches(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert switches == {}


def test_no_module_is_over_400_lines() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()
    }
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_handlers_get_the_caller_as_an_argument_not_from_connexion() -> None:
    # Handlers receive ``services`` and ``caller`` from the operation layer; none
    # reaches into Connexion's (private) request context.
    for name, path in MODULES.items():
        if name.startswith("pin_mock.server.handlers"):
            assert "connexion" not in path.read_text(encoding="utf-8"), name
