"""The package's imports run downward only: no module imports another that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "mmgraph"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph() -> nx.DiGraph:
    """Module -> modules it imports (anywhere in the file, ``TYPE_CHECKING`` blocks included)."""
    modules = _modules()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = nx.DiGraph()
    for module, path in modules.items():
        graph.add_node(module)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            for name in names:
                target = owner(name)
                # a package's own submodules are below it, not a cycle through it
                if target and target != module and not module.startswith(target + "."):
                    graph.add_edge(module, target)
    return graph


def test_no_import_cycle() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert not cycles, f"import cycles in mmgraph/: {cycles}"


def test_models_and_evaluation_stay_apart() -> None:
    """Models never import the evaluator (they get a validation callback); nothing outside the
    pipeline package imports it, the CLI or the benchmark harness but the top layer (the CLI, the
    harness and the plotting helpers, which read benchmark records); only the CLI and the harness
    import the plotting helpers."""
    graph = import_graph()
    top = ("mmgraph.cli", "mmgraph.benchmark", "mmgraph.plotting")
    for module in graph:
        targets = set(graph.successors(module))
        if module.startswith("mmgraph.models"):
            assert not {t for t in targets if t.startswith("mmgraph.evaluation")}, module
        if module not in top:
            if not module.startswith("mmgraph.pipeline"):
                assert not {t for t in targets if t.split(".")[:2] == ["mmgraph", "pipeline"]}, module
            assert not targets & {"mmgraph.cli", "mmgraph.benchmark"}, module
        if module not in ("mmgraph.cli", "mmgraph.benchmark"):
            assert "mmgraph.plotting" not in targets, module
