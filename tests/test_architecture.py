"""Packages mirror the layers and import only downward; no module imports in a cycle.

common → contract → standard → engine → evaluation → analysis → reporting → interface.
A new module goes into the package of its layer, which is the point: where it
sits is a design decision, not an accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "balance_metrics"

# Layers, lowest first. A module may import its own package and any package before it.
LAYERS = ["common", "contract", "standard", "engine", "evaluation", "analysis", "reporting", "interface"]
RANK = {name: i for i, name in enumerate(LAYERS)}
INTERFACE = {"__init__", "__main__", "cli"}  # top-level modules


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts)


def layer_of(module: str) -> str:
    head = module.split(".")[0]
    return "interface" if head in INTERFACE else head


def imports_of(path: Path) -> set[str]:
    """The ``balance_metrics`` modules or packages that ``path`` imports (dotted, without the prefix)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    package = here[:-1] if path.name != "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [[*target, a.name] for a in node.names] if not node.module else [target]
                found.update(".".join(n) for n in names if n)
            elif node.module and (node.module == "balance_metrics" or node.module.startswith("balance_metrics.")):
                target = node.module.split(".")[1:]
                if target:
                    found.add(".".join(target))
                else:
                    found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(".".join(a.name.split(".")[1:]) for a in node.names if a.name.startswith("balance_metrics."))
    return {f for f in found if f and not f.startswith("__version__")}


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(p): p for p in FILES}


def test_every_package_is_a_layer():
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages - set(LAYERS) == set()
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top <= INTERFACE, f"top-level modules outside the interface: {top - INTERFACE}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_downward(module):
    mine = RANK[layer_of(module)]
    upward = [dep for dep in imports_of(MODULES[module]) if RANK.get(layer_of(dep), -1) > mine]
    assert upward == [], f"{module} imports from a higher layer: {upward}"


def test_no_module_over_500_lines():
    # One job per module; a module that grows past this is doing two.
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 560}
    assert long == {}, long


def test_no_import_cycles():
    def resolve(dep: str) -> str | None:
        if dep in MODULES:
            return dep
        if f"{dep}.__init__" in MODULES:
            return f"{dep}.__init__"
        parent = dep.rsplit(".", 1)[0]
        return parent if parent in MODULES else None

    graph = {
        m: {r for d in imports_of(p) if (r := resolve(d)) and r != m}
        for m, p in MODULES.items()
        if m not in ("__init__", "__main__") and not m.endswith("__init__")
    }
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
