"""The boundary rules issue 28 adds, read from the source with ``ast``:

- the portal imports only its band (view models and what a page needs to sign in and act), never the
  CLI or what lies below the view models;
- infra/ builds a cluster from the spec: it never imports the embedded platform (``shipyard.local``),
  the CLI or the registry server;
- the alert rules are built once (``shipyard.alerts``): no alerting rule, no alert expression on a
  Shipyard metric and no Shipyard metric name spelled out anywhere else (the names live in ``tags``);
- no import cycle between modules of ``platform/shipyard``.

Each rule is a function over source text, so the tests at the bottom show that it fails when broken.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "platform" / "shipyard"
PORTAL = ROOT / "portal"
INFRA = ROOT / "infra"

# What a portal page may import. Pages call view models and render; sign-in and the approve/reject
# action go through the façades below. Everything else (records, clients, the registry's internals,
# the audit store, the embedded platform, the CLI) lies below this band.
PORTAL_BAND = (
    "shipyard.catalog",  # the portfolio and its page view models (catalog.views.*)
    "shipyard.costs",  # the cost service and the Costs page's view model (costs.view)
    "shipyard.health",  # the ML Test Score's sections
    "shipyard.audit.view",  # the audit log as the portal shows it
    "shipyard.audit.listing",  # the log's filters and rows
    "shipyard.audit.export",  # the log's exports (the same text as `shipyard audit export`)
    "shipyard.audit.reproductions",  # the last reproduction per champion
    "shipyard.audit.access",  # who may read the log
    "shipyard.formatting",
    "shipyard.errors",
    "shipyard.tags",  # names only (the drift metric's, a label's)
    "shipyard.platform",  # the one platform handle (resolver, endpoints, portal settings)
    "shipyard.identity.portal",  # the portal's sign-in
    "shipyard.identity.credentials",  # a signed-in person's login
    "shipyard.identity.session",  # the portal's own account (proxy-header mode)
    "shipyard.registry.client",  # approve/reject: the registry's own client, the only write path
)
INFRA_FORBIDDEN = ("shipyard.local", "shipyard.cli", "shipyard.registry.server")

RULE_MODULE = PACKAGE / "alerts.py"
METRIC_NAMES = PACKAGE / "tags.py"
METRIC = re.compile(r"\bshipyard_(drift|feature_drift)\w*")
# an alert expression: a Shipyard metric compared with a threshold ({} stands for an f-string value)
ALERT_EXPR = re.compile(r"shipyard_\w+.*[<>]=?\s*(\d|\{\})")

# No cycle between modules, at module level or through imports inside functions. Add one here only
# with the name of the change that removes it (the test below fails once it is gone).
ALLOWED_MODULE_CYCLES: set[frozenset[str]] = set()
ALLOWED_DEFERRED_CYCLES: set[frozenset[str]] = set()


# --- reading imports -----------------------------------------------------------------------------
def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str, root: Path = PACKAGE.parent) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements run when the module is imported: not function bodies, not TYPE_CHECKING blocks."""
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from top_level(node.orelse)
        elif isinstance(node, ast.If):
            yield from top_level(node.body)
            yield from top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from top_level(block)
        elif isinstance(node, (ast.With, ast.For, ast.While)):
            yield from top_level(node.body)
        else:
            yield node


def runtime_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node that can run: type-only imports (``if TYPE_CHECKING:``) are no dependency at run time,
    so a class and the helpers it hands ``self`` to may name each other's types."""
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for n in ast.walk(stmt)
    }
    return (n for n in ast.walk(tree) if id(n) not in typing_only)


def imported(tree: ast.Module, package: str = "", module_level: bool = False) -> set[str]:
    """The shipyard modules a module imports (``from M import name`` is M unless name is a submodule;
    ``package`` resolves relative imports)."""
    nodes: Iterable[ast.AST] = top_level(tree.body) if module_level else runtime_nodes(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "shipyard"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name.split(".")[0] != "shipyard":
                continue
            for alias in node.names:
                found.add(f"{name}.{alias.name}" if is_module(f"{name}.{alias.name}") else name)
    return found


def within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


# --- the rules, over source text -------------------------------------------------------------------
def portal_violations(sources: dict[str, str]) -> list[str]:
    out = []
    for where, text in sources.items():
        for name in sorted(imported(ast.parse(text))):
            if not within(name, PORTAL_BAND):
                out.append(f"{where} imports {name}: portal pages call view models (PORTAL_BAND)")
    return out


def infra_violations(sources: dict[str, str]) -> list[str]:
    return [
        f"{where} imports {name}: infra builds from the spec, not from the embedded platform or the CLI"
        for where, text in sources.items()
        for name in sorted(imported(ast.parse(text)))
        if within(name, INFRA_FORBIDDEN)
    ]


def _strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every string the code builds (f-strings joined, ``{}`` for their values), docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inner |= {id(v) for v in node.values}
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            yield node.lineno, text
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings | inner
        ):
            yield node.lineno, node.value


def alert_violations(sources: dict[str, str]) -> list[str]:
    out = []
    for where, text in sources.items():
        tree = ast.parse(text)
        if where != str(RULE_MODULE.relative_to(ROOT)):
            for node in ast.walk(tree):
                keys = {k.value for k in getattr(node, "keys", ()) if isinstance(k, ast.Constant)}
                if isinstance(node, ast.Dict) and {"alert", "expr"} <= keys:  # a Prometheus alerting rule
                    out.append(f"{where}:{node.lineno} writes an alerting rule: build it in shipyard.alerts")
            for line, value in _strings(tree):
                if ALERT_EXPR.search(value):
                    out.append(
                        f"{where}:{line} holds an alert expression {value!r}: shipyard.alerts builds them"
                    )
        if where != str(METRIC_NAMES.relative_to(ROOT)):
            for line, value in _strings(tree):
                if METRIC.search(value) and not ALERT_EXPR.search(value):
                    out.append(f"{where}:{line} spells out a metric name in {value!r}: use shipyard.tags")
    return out


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def import_graph(module_level: bool) -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = imported(ast.parse(path.read_text()), package, module_level) - {name}
    return graph


def sources(root: Path) -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text() for p in sorted(root.rglob("*.py"))}


def show(found: Iterable[frozenset[str]]) -> list[str]:
    return sorted(" <-> ".join(sorted(c)) for c in found)


# --- the rules hold --------------------------------------------------------------------------------
def test_portal_imports_only_its_band():
    assert portal_violations(sources(PORTAL)) == []


def test_infra_does_not_import_the_embedded_platform_the_cli_or_the_registry_server():
    assert infra_violations(sources(INFRA)) == []


def test_alert_rules_and_metric_names_are_written_once():
    code = sources(PACKAGE) | sources(INFRA) | sources(PORTAL)
    assert alert_violations(code) == []
    assert alert_violations({str(RULE_MODULE.relative_to(ROOT)): RULE_MODULE.read_text()}) == []


def test_no_module_level_import_cycle():
    assert show(set(cycles(import_graph(module_level=True))) - ALLOWED_MODULE_CYCLES) == []


def test_no_import_cycle_even_through_deferred_imports():
    assert show(set(cycles(import_graph(module_level=False))) - ALLOWED_DEFERRED_CYCLES) == []


def test_the_allow_lists_hold_only_cycles_that_still_exist():
    """An allowed cycle that is gone must leave the list (so the list empties as the fixes land)."""
    assert ALLOWED_MODULE_CYCLES <= set(cycles(import_graph(module_level=True)))
    assert ALLOWED_DEFERRED_CYCLES <= set(cycles(import_graph(module_level=False)))


# --- each rule fails when broken -----------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "from shipyard.cli.audit_cmd import render_export",
        "import shipyard.records.read",
        "from shipyard.audit.store import AuditStore",
        "def f():\n    from shipyard.identity.mlflow_users import AuthAdmin",
        "from shipyard import local",
    ],
)
def test_portal_rule_fails_on_an_import_below_the_band(source):
    assert portal_violations({"portal/pages/9_X.py": source}) != []


def test_portal_rule_passes_the_band():
    assert (
        portal_violations({"portal/pages/9_X.py": "from shipyard.catalog.views import models as view"}) == []
    )


@pytest.mark.parametrize(
    "source",
    [
        "from shipyard.local.lifecycle import up",
        "import shipyard.cli.main",
        "def f():\n    from shipyard.registry.server import app",
    ],
)
def test_infra_rule_fails_on_a_forbidden_import(source):
    assert infra_violations({"infra/components/x.py": source}) != []


@pytest.mark.parametrize(
    "source",
    [
        'RULE = {"alert": "Drift", "expr": "up == 0"}',
        "def f(limit):\n    return f'max(shipyard_drift_share) > {limit}'",
        'EXPR = "shipyard_drift_share{source!=\\"held_out\\"} > 0.3"',
        "QUERY = 'shipyard_drift_share{team=\"a\"}'",
    ],
)
def test_alert_rule_fails_on_an_expression_or_metric_name_outside_its_module(source):
    assert alert_violations({"infra/components/monitoring.py": source}) != []


def test_alert_rule_reads_no_docstring_and_lets_the_rule_module_write_rules():
    doc = '"""Pushes shipyard_drift_share."""\nX = 1\n'
    assert alert_violations({"platform/shipyard/catalog/x.py": doc}) == []
    rule = "def f(limit):\n    return {'alert': 'A', 'expr': f'max(x) > {limit}'}"
    assert alert_violations({str(RULE_MODULE.relative_to(ROOT)): rule}) == []


def test_cycle_rule_finds_a_cycle_and_reads_only_module_level_imports():
    assert show(cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})) == ["a <-> b <-> c"]
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "from shipyard.errors import UserError\n"
        "if TYPE_CHECKING:\n    from shipyard.spec.model import PlatformSpec\n"
        "def f():\n    from shipyard.local import process\n"
    )
    assert imported(tree, module_level=True) == {"shipyard.errors"}
    assert imported(tree) == {"shipyard.errors", "shipyard.local.process"}
