"""Layers only point down: spec -> records/clients -> domain -> runtime -> views.

Reads every import of ``platform/shipyard`` with ``ast`` (also the ones inside functions) and fails on
an import that points up a layer, on a cycle between components, and on a component no layer names
(a new package must be placed here, in docs/architecture.md too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "platform" / "shipyard"

# lowest first; a component may import its own layer and the layers before it
LAYERS: list[tuple[str, set[str]]] = [
    (
        "spec",
        {
            "shipyard",
            "shipyard.errors",
            "shipyard.tags",
            "shipyard.input_files",
            "shipyard.spec",
            "shipyard.formatting",
            "shipyard.platform.env",  # the environment contract: names only, it imports nothing
            "shipyard.metrics",
        },
    ),
    (
        "records/clients",
        {
            "shipyard.platform",  # finding and describing a platform: the one resolver and its handle
            "shipyard.records",
            "shipyard.clients",
            "shipyard.service_calls",
            "shipyard.identity",
        },
    ),
    (
        "domain",
        {
            "shipyard.ci",
            "shipyard.catalog",
            "shipyard.costs",
            "shipyard.health",
            "shipyard.audit",
            "shipyard.registry",
            "shipyard.projects",
            "shipyard.templates",
            "shipyard.package_index",
            "shipyard.alerts",
        },
    ),
    ("runtime", {"shipyard.local"}),
    ("views", {"shipyard.cli"}),
]
RANK = {component: i for i, (_, components) in enumerate(LAYERS) for component in components}
LAYER_NAME = {component: LAYERS[i][0] for component, i in RANK.items()}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def component(module: str) -> str:
    """The most specific entry of LAYERS ``module`` is or lies below (``shipyard.platform.env`` is its own
    component); else ``shipyard.X`` for any module below ``shipyard.X``; ``shipyard`` for the package."""
    named = [c for c in RANK if c != "shipyard" and (module == c or module.startswith(f"{c}."))]
    return max(named, key=len) if named else ".".join(module.split(".")[:2])


def imports_of(path: Path) -> set[str]:
    """Every shipyard module ``path`` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "shipyard"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name.split(".")[0] == "shipyard":
                found.add(name)
                found |= {
                    f"{name}.{a.name}"
                    for a in node.names
                    if (PACKAGE.parent / name.replace(".", "/") / f"{a.name}.py").exists()
                }
    return found


def edges() -> dict[tuple[str, str], list[str]]:
    """(from component, to component) -> the modules where the import is."""
    out: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        src = component(module_name(path))
        for target in imports_of(path):
            dst = component(target)
            if dst != src:
                out.setdefault((src, dst), []).append(module_name(path))
    return out


def test_every_component_has_a_layer():
    components = {component(module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert components - set(RANK) == set(), "add the new component to LAYERS and docs/architecture.md"


def test_no_import_points_up():
    upward = [
        f"{src} ({LAYER_NAME[src]}) imports {dst} ({LAYER_NAME[dst]}) in {', '.join(sorted(set(where)))}"
        for (src, dst), where in edges().items()
        if src in RANK and dst in RANK and RANK[dst] > RANK[src]
    ]
    assert upward == []


def test_no_cycle_between_components():
    graph: dict[str, set[str]] = {}
    for src, dst in edges():
        graph.setdefault(src, set()).add(dst)
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycle = path[path.index(nxt) :] + [nxt]
                if min(cycle[:-1]) == cycle[0]:  # report each cycle once
                    cycles.append(" -> ".join(cycle))
            else:
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert sorted(set(cycles)) == []


@pytest.mark.parametrize(
    "src, dst, expect_up",
    [("shipyard.catalog", "shipyard.local", True), ("shipyard.cli", "shipyard.records", False)],
)
def test_the_rule_itself(src, dst, expect_up):
    """The check can fail: an import from domain into runtime is upward, a view reading records is not."""
    assert (RANK[dst] > RANK[src]) is expect_up
