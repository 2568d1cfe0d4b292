"""The import graph of src/quidpro keeps its layers (common brief, DESIGN.md "layout").

Edges are read with :mod:`ast` from every ``import`` statement in a module: at the top,
inside functions and under ``if TYPE_CHECKING`` alike (a function-level import is still
a dependency, only a later one). ``import quidpro.a.b`` is an edge to ``quidpro.a.b``
only, not to the packages ``quidpro`` and ``quidpro.a`` that Python also initialises
on the way (every module would otherwise depend on ``quidpro/__init__``). Cycles are
found with networkx.

The layers, lowest first; a module may import its own layer and those below::

    0  errors, version, cache (leaves: they import nothing of quidpro), lang/
    1  model/
    2  solve/
    3  ensemble/, analysis/, evidence/
    4  io/, report/
    5  api, the quidpro package itself
    6  cli/, web/ (shells: nothing outside them imports them)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "quidpro"

LAYERS: dict[str, int] = {
    "errors": 0,
    "version": 0,
    "cache": 0,
    "lang": 0,
    "model": 1,
    "solve": 2,
    "ensemble": 3,
    "analysis": 3,
    "evidence": 3,
    "io": 4,
    "report": 4,
    "api": 5,
    "": 5,  # quidpro/__init__.py: the public API
    "cli": 6,
    "web": 6,
}
LEAVES = ("quidpro.errors", "quidpro.version", "quidpro.cache")
SHELLS = ("cli", "web")

# Cycles that another branch of issue 14 removes; each entry must still be a cycle
# (the test says when to delete it), so none outlives its fix.
KNOWN_CYCLES: set[frozenset[str]] = set()


def module_files(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root``: dotted name → file."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(node: ast.AST, package: str) -> Iterator[tuple[str, str | None]]:
    """(module, imported name or None) for one import statement; relative ones resolved."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, None
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        for alias in node.names:
            yield base, alias.name


def import_graph(root: Path) -> nx.DiGraph:
    """Module → module edges among the modules of the package at ``root``."""
    files = module_files(root)
    top = root.name
    graph = nx.DiGraph()
    for name, path in files.items():
        graph.add_node(name)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for module, item in _imported(node, package):
                target = f"{module}.{item}" if f"{module}.{item}" in files else module
                if target.split(".")[0] != top:
                    continue
                while target not in files:  # a name inside a module: the module
                    target = target.rpartition(".")[0]
                if target != name:
                    graph.add_edge(name, target)
    return graph


def part_of(module: str) -> str:
    """The layer key of a module: its subpackage or top-level module ("" for the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_violations(graph: nx.DiGraph) -> list[str]:
    """Every import that breaks the layering, as readable lines."""
    problems = []
    for module in sorted(graph):
        if part_of(module) not in LAYERS:
            problems.append(f"{module}: {part_of(module)!r} has no layer in LAYERS")
    for a, b in sorted(graph.edges):
        pa, pb = part_of(a), part_of(b)
        if a in LEAVES:
            problems.append(f"{a} imports {b}, but it must stay a leaf")
        elif pa == "lang" and pb != "lang" and b not in LEAVES:
            problems.append(f"{a} imports {b}: lang/ may import only lang/ and the leaves")
        elif pb in SHELLS and pa not in SHELLS:
            problems.append(f"{a} imports {b}: nothing outside the shells imports them")
        elif pa in LAYERS and pb in LAYERS and LAYERS[pb] > LAYERS[pa]:
            problems.append(f"{a} (layer {LAYERS[pa]}) imports {b} (layer {LAYERS[pb]})")
    return problems


def cycles(graph: nx.DiGraph) -> list[frozenset[str]]:
    """The strongly connected groups of modules that import each other."""
    return [frozenset(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    return import_graph(SRC)


def test_the_graph_sees_the_known_imports(graph: nx.DiGraph) -> None:
    # top-level, from-, function-level and TYPE_CHECKING imports all become edges
    assert graph.has_edge("quidpro.api", "quidpro.io.load")
    assert graph.has_edge("quidpro.model.from_xmile", "quidpro.lang.xml_tree")
    assert graph.has_edge("quidpro", "quidpro.api")
    assert graph.has_edge("quidpro.solve.simulate", "quidpro.solve.jit")  # inside a function
    assert len(graph) > 50


def test_layers_point_one_way(graph: nx.DiGraph) -> None:
    assert layer_violations(graph) == []


def test_lang_is_a_leaf_layer(graph: nx.DiGraph) -> None:
    outside = {
        b for a, b in graph.edges if part_of(a) == "lang" and part_of(b) != "lang"
    }  # fmt: skip
    assert outside <= set(LEAVES)
    for leaf in LEAVES:
        assert list(graph.successors(leaf)) == []


def test_no_import_cycles(graph: nx.DiGraph) -> None:
    found = set(cycles(graph))
    stale = KNOWN_CYCLES - found
    assert not stale, f"fixed at last: delete {sorted(map(sorted, stale))} from KNOWN_CYCLES"
    assert found - KNOWN_CYCLES == set()


def private_imports(root: Path) -> list[str]:
    """``from a.b import _name`` where ``_name`` crosses from one subpackage to another."""
    files = module_files(root)
    out = []
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for module, item in _imported(node, package):
                private = item is not None and item.startswith("_") and not item.startswith("__")
                if private and module.startswith(root.name) and part_of(module) != part_of(name):
                    out.append(f"{name} imports {item} from {module}")
    return out


def test_private_names_stay_inside_their_package() -> None:
    # a helper another layer needs is public (e.g. lang.suggest.did_you_mean for api.py)
    assert private_imports(SRC) == []


def test_one_did_you_mean_helper() -> None:
    users = [
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if "get_close_matches" in p.read_text()
    ]
    assert users == ["lang/suggest.py"]


def _package(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "quidpro" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "quidpro"


def test_the_checks_catch_violations(tmp_path: Path) -> None:
    """A made-up package with each kind of violation: the checks must name them all."""
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "errors.py": "from quidpro.lang import ast\n",
            "lang/__init__.py": "",
            "lang/ast.py": "from quidpro.errors import Loc\n",
            "lang/reader.py": "def f():\n    from quidpro.model.spec import Model\n",
            "model/__init__.py": "",
            "model/spec.py": "from ..solve import simulate\n",
            "solve/__init__.py": "",
            "solve/simulate.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from quidpro.cli import main\n"
                "import quidpro.model.spec\n"
            ),
            "cli/__init__.py": "",
            "cli/main.py": "",
            "plugins/__init__.py": "",
        },
    )
    graph = import_graph(root)
    problems = "\n".join(layer_violations(graph))
    assert "quidpro.errors imports quidpro.lang.ast, but it must stay a leaf" in problems
    assert "quidpro.lang.reader imports quidpro.model.spec" in problems  # inside a function
    assert "quidpro.model.spec (layer 1) imports quidpro.solve.simulate (layer 2)" in problems
    assert "quidpro.solve.simulate imports quidpro.cli.main: nothing outside" in problems
    assert "quidpro.plugins: 'plugins' has no layer" in problems
    assert frozenset({"quidpro.model.spec", "quidpro.solve.simulate"}) in cycles(graph)
    assert frozenset({"quidpro.errors", "quidpro.lang.ast"}) in cycles(graph)


def test_the_private_import_check_catches_one(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "api.py": "from quidpro.model.check import _hint\n",
            "model/__init__.py": "",
            "model/check.py": "from quidpro.model.spec import _inner\n",
            "model/spec.py": "",
        },
    )
    assert private_imports(root) == ["quidpro.api imports _hint from quidpro.model.check"]
