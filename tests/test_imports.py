"""The product code's import graph has no cycles (issue 14).

A module's imports are read from its source (never run): `import a.b`, `from a import b`
(an edge to `a.b` where that is a module, to `a` otherwise), relative imports alike; the
imports under `if TYPE_CHECKING:` are left out, as they never run. Imports made inside a
function ("deferred") count too: a cycle that only defers one of its imports is still two
modules that need each other. The few deferred edges the Keras API itself makes circular
are declared below, each with its reason, and must stay deferred.
"""

from __future__ import annotations

import ast
import os
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cornu"

#: Deferred imports that close a cycle on purpose (importer, imported): Keras's functional
#: API is circular by design (a Model is a Layer made of layers), and the SDK mirrors it.
DECLARED = {
    ("cornu.layers.layer", "cornu.models"): "a layer built or called on arrays alone runs "
    "as a one-layer functional Model, as Keras's own layers do",
    ("cornu.layers.tensor", "cornu.graph"): "a Keras tensor's shape is inferred from the "
    "graph of layers that made it",
    ("cornu.layers.tensor", "cornu.layers"): "`x + y` on Keras tensors makes Keras's Add "
    "layer (Subtract, Multiply alike)",
    ("cornu.models.model", "cornu.saving"): "Model.save, save_weights, load_weights and "
    "to_json are methods of the model, as in Keras",
    ("cornu.models.model", "cornu.models.sequential"): "Model.from_config rebuilds a "
    "Sequential config as a Sequential, as Keras's does",
    ("cornu.saving", "cornu.models"): "load_model and model_from_json build Models",
}


def modules() -> dict[str, Path]:
    """Every module under cornu/ (core, api and worker are linked in), by dotted name."""
    found: dict[str, Path] = {}
    for folder, dirs, files in os.walk(PACKAGE, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        parts = ("cornu", *Path(folder).relative_to(PACKAGE).parts)
        for file in files:
            if file.endswith(".py"):
                name = parts if file == "__init__.py" else (*parts, file[:-3])
                found[".".join(name)] = Path(folder) / file
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> tuple[set[str], set[str]]:
    """The product modules `name` imports: (at module level, inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    eager: set[str] = set()
    deferred: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for branch in child.orelse:
                    visit(branch, in_function)
                continue
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                source = child.module or ""
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    source = ".".join([*base, *([child.module] if child.module else [])])
                submodules = [f"{source}.{a.name}" for a in child.names]
                targets = [m for m in submodules if m in known]
                if len(targets) < len(submodules):
                    targets.append(source)
            for target in targets:
                if target in known and target != name:
                    (deferred if in_function else eager).add(target)
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inner)

    visit(ast.parse(path.read_text(), str(path)), False)
    return eager, deferred


@pytest.fixture(scope="module")
def graph() -> dict[str, tuple[set[str], set[str]]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    try:
        TopologicalSorter(edges).prepare()
    except CycleError as error:
        return list(error.args[1])
    return None


def test_the_scan_sees_the_whole_product(graph: dict[str, tuple[set[str], set[str]]]) -> None:
    for module in ("cornu", "cornu.core.runner", "cornu.api.app", "cornu.worker.tasks"):
        assert module in graph
    eager, _ = graph["cornu.core.store.uploads"]
    assert "cornu.core.store.backends" in eager  # `from a.b import c`, c a function
    assert len(graph) > 200


def test_no_module_level_import_cycles(graph: dict[str, tuple[set[str], set[str]]]) -> None:
    found = cycle({name: eager for name, (eager, _) in graph.items()})
    assert found is None, f"modules that import each other: {' -> '.join(found)}"


def test_no_cycles_through_deferred_imports(graph: dict[str, tuple[set[str], set[str]]]) -> None:
    edges = {
        name: eager | {t for t in deferred if (name, t) not in DECLARED}
        for name, (eager, deferred) in graph.items()
    }
    found = cycle(edges)
    assert found is None, (
        f"modules that need each other (an import inside a function included): "
        f"{' -> '.join(found)}; move what both need into a module of its own"
    )


@pytest.mark.parametrize(("importer", "imported"), sorted(DECLARED))
def test_each_declared_cycle_is_deferred_and_still_there(
    graph: dict[str, tuple[set[str], set[str]]], importer: str, imported: str
) -> None:
    eager, deferred = graph[importer]
    assert imported in deferred, f"{importer} no longer imports {imported}: drop it from DECLARED"
    assert imported not in eager
