"""Layers import only downward, and no module imports in a cycle.

data → standards → indicators → evaluation → analysis → reporting → interface.
A new module must be placed in a layer here, which is the point: where it sits
is a design decision, not an accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "balance_metrics"

LAYERS: dict[str, set[str]] = {
    "data": {"errors", "atomic", "schema", "tables", "validation", "dataset"},
    "standards": {"standards"},
    "indicators": {"sections", "indicators", "cv"},
    "evaluation": {
        "compliance", "balance", "resources", "checks", "context", "district", "schoolview",
        "guarantee", "quality", "survey", "evidence", "resource_items", "items", "plan", "issues",
        "evaluation",
    },
    "analysis": {"gaps", "equity", "monitoring"},
    "reporting": {
        "export", "fonts", "pdf", "plots", "presentation", "provenance", "report_context",
        "findings", "district_sections", "school_sections", "report_index", "reporting",
    },
    "interface": {"cli", "__init__", "__main__"},
}
RANK = {module: i for i, layer in enumerate(LAYERS.values()) for module in layer}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("balance_metrics."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("balance_metrics."))
    return found


MODULES = sorted(p.stem for p in PACKAGE.glob("*.py"))


def test_every_module_has_a_layer():
    assert [m for m in MODULES if m not in RANK] == []


@pytest.mark.parametrize("module", MODULES)
def test_imports_go_downward(module):
    upward = [
        dep for dep in imports_of(PACKAGE / f"{module}.py")
        if dep in RANK and RANK[dep] > RANK.get(module, -1)
    ]
    assert upward == [], f"{module} imports from a higher layer: {upward}"


def test_no_import_cycles():
    graph = {m: imports_of(PACKAGE / f"{m}.py") & set(MODULES) for m in MODULES if m not in ("__init__", "__main__")}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail, node, dep]))
            if dep not in state:
                visit(dep, [*trail, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
