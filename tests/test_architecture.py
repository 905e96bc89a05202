"""The house rules of ``src/pin_mock``, checked from the source itself.

- no runtime import cycles (imports under ``if TYPE_CHECKING:`` do not run);
- the contract kit imports nothing from the server (it tests any implementation);
- inside the server, only the app factory reaches the app factory's layers
  from above: no module imports ``pin_mock.server.app``, and handlers are
  reached only through ``routing`` (by ``operationId``);
- no module over 400 lines.
"""

from __future__ import annotations

import ast
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
    # Guards the parser itself: a graph without edges would pass every rule below.
    assert (
        "pin_mock.server.pipeline.authentication" in GRAPH["pin_mock.server.pipeline.rate_limits"]
    )
    assert "pin_mock.contract.runner" in GRAPH["pin_mock.contract.command"]


def test_no_runtime_import_cycles() -> None:
    try:
        tuple(TopologicalSorter(GRAPH).static_order())
    except CycleError as exc:
        pytest.fail(f"runtime import cycle: {' -> '.join(exc.args[1])}")


def test_the_kit_imports_nothing_from_the_server() -> None:
    offenders = {
        name: sorted(d for d in deps if d.startswith("pin_mock.server"))
        for name, deps in GRAPH.items()
        if name.startswith("pin_mock.contract")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_nothing_reaches_up_to_the_app_factory_or_the_handlers() -> None:
    upward = {
        name: sorted(
            d
            for d in deps
            if d == "pin_mock.server.app" or d.startswith("pin_mock.server.handlers")
        )
        for name, deps in GRAPH.items()
        if name.startswith("pin_mock.server.") and not name.startswith("pin_mock.server.handlers")
    }
    # The package's __init__ re-exports create_app lazily; the CLI starts it.
    allowed = {"pin_mock.server"}
    assert {k: v for k, v in upward.items() if v and k not in allowed} == {}


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
