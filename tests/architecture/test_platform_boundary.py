"""The platform boundary: one package (``shipyard.platform``) finds and describes a platform, and one
module in it (``shipyard.platform.env``) names every environment variable.

Reads ``platform/shipyard``, ``portal/`` and ``infra/`` with ``ast`` and fails when
- an environment variable name is spelled outside the contract module: a string literal used with
  ``os.environ`` / ``os.getenv``, or any literal that looks like one of Shipyard's, MLflow's, Label
  Studio's or Grafana's variables (``SHIPYARD_*``, ``MLFLOW_*``, ``LABEL_STUDIO_*``, ``GRAFANA_*``);
- a module outside ``shipyard.platform`` reads ``state.json`` itself (the file name, a layout's
  ``state_file``) or reads ``$SHIPYARD_HOME`` / ``$SHIPYARD_SPEC`` from the environment;
- a module outside ``shipyard.platform`` defines another resolver (a function named like one, or a
  ``Platform`` class).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPYARD = ROOT / "platform" / "shipyard"
PLATFORM_PACKAGE = SHIPYARD / "platform"
CONTRACT = PLATFORM_PACKAGE / "env.py"
SCANNED = [SHIPYARD, ROOT / "portal", ROOT / "infra"]

ENV_FAMILY = re.compile(r"^(SHIPYARD|MLFLOW|LABEL_STUDIO|GRAFANA)_[A-Z0-9][A-Z0-9_]*$")
ENV_READS = {"get", "pop", "setdefault", "__getitem__"}
# the variables that say which platform a command works on: only the resolver reads them
FINDING_NAMES = {"ENV_HOME", "ENV_SPEC"}
RESOLVER_NAME = re.compile(
    r"^_?(resolve|resolve_platform|resolve_spec_path|locate_\w+|load_endpoints|platform_from_\w+"
    r"|default_data_dir|named_data_dir|layout_only|home|find_platform|load_platform)$"
)
STATE_FILE = "state.json"


def python_files() -> list[Path]:
    return sorted(p for folder in SCANNED for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def inside_platform_package(path: Path) -> bool:
    return PLATFORM_PACKAGE in path.parents


def _docstrings(tree: ast.AST) -> set[int]:
    """Bare string statements (docstrings and the like): text about a variable is not a use of it."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _environ_keys(tree: ast.AST) -> list[ast.AST]:
    """The key expressions of every read of (or write to) ``os.environ`` and every ``os.getenv``."""
    keys: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            keys.append(node.slice)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            func = node.func
            if _is_os_environ(func.value) and func.attr in ENV_READS:
                keys.append(node.args[0])
            elif (
                isinstance(func.value, ast.Name)
                and func.value.id == "os"
                and func.attr in ("getenv", "putenv")
            ):
                keys.append(node.args[0])
        elif isinstance(node, ast.Compare) and any(_is_os_environ(c) for c in node.comparators):
            keys.append(node.left)
    return keys


def env_literal_problems(source: str, where: str) -> list[str]:
    """Environment variable names spelled as literals (outside the contract module)."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    found = []
    for key in _environ_keys(tree):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.append(f"{where}:{key.lineno}: os.environ with the literal {key.value!r}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if ENV_FAMILY.match(node.value):
                found.append(f"{where}:{node.lineno}: the variable name {node.value!r} as a literal")
    return sorted(set(found))


def finding_problems(source: str, where: str) -> list[str]:
    """``state.json`` or ``$SHIPYARD_HOME``/``$SHIPYARD_SPEC`` read, or a resolver defined, outside
    ``shipyard.platform``."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value == STATE_FILE or node.value.endswith(f"/{STATE_FILE}"):
                found.append(
                    f"{where}:{node.lineno}: names {STATE_FILE} (read it through shipyard.platform.state)"
                )
        elif isinstance(node, ast.Attribute) and node.attr == "state_file":
            found.append(f"{where}:{node.lineno}: opens a layout's state_file (use shipyard.platform.state)")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and RESOLVER_NAME.match(node.name):
            found.append(f"{where}:{node.lineno}: defines {node.name}(): another resolver")
        elif isinstance(node, ast.ClassDef) and node.name == "Platform":
            found.append(f"{where}:{node.lineno}: defines another Platform handle")
    for key in _environ_keys(tree):
        name = key.id if isinstance(key, ast.Name) else key.attr if isinstance(key, ast.Attribute) else None
        if name in FINDING_NAMES:
            found.append(f"{where}:{key.lineno}: reads ${name} itself (the resolver finds the platform)")
    return sorted(set(found))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_environment_variable_names_are_spelled_only_in_the_contract_module():
    problems = [
        p
        for path in python_files()
        if path != CONTRACT
        for p in env_literal_problems(path.read_text(), _rel(path))
    ]
    assert problems == [], "name the variable in shipyard/platform/env.py and import it from there"


def test_only_shipyard_platform_finds_the_platform():
    problems = [
        p
        for path in python_files()
        if not inside_platform_package(path)
        for p in finding_problems(path.read_text(), _rel(path))
    ]
    assert problems == [], "get the platform from shipyard.platform.resolver (resolve_platform, Platform)"


def test_the_contract_module_imports_nothing():
    """Every layer, the spec loader included, reads it: it must stay a leaf."""
    tree = ast.parse(CONTRACT.read_text())
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert imports == []
    assigned = [n.targets[0].id for n in tree.body if isinstance(n, ast.Assign)]
    assert len(assigned) == len(set(assigned)), "a name defined twice"
    values = [n.value.value for n in tree.body if isinstance(n, ast.Assign)]
    assert len(values) == len(set(values)), "a variable named twice"


@pytest.mark.parametrize(
    "source, rule",
    [
        ('import os\nx = os.environ.get("SOME_TOKEN")\n', env_literal_problems),
        ('import os\nx = os.environ["HOME"]\n', env_literal_problems),
        ('import os\nx = os.getenv("PATH", "")\n', env_literal_problems),
        ('import os\nok = "CI" in os.environ\n', env_literal_problems),
        ('env = {"SHIPYARD_NEW_SETTING": "1"}\n', env_literal_problems),
        ('import json\nx = json.loads((root / "state.json").read_text())\n', finding_problems),
        ("x = load_state(layout.state_file, layout.root)\n", finding_problems),
        (
            "import os\nfrom shipyard.platform.env import ENV_HOME\nh = os.environ.get(ENV_HOME)\n",
            finding_problems,
        ),
        ("def resolve(spec, data_dir):\n    return spec\n", finding_problems),
        ("def home():\n    return None\n", finding_problems),
        ("class Platform:\n    pass\n", finding_problems),
    ],
)
def test_each_rule_can_fail(source, rule):
    assert rule(source, "example.py") != []


@pytest.mark.parametrize(
    "source, rule",
    [
        ('"""Reads $SHIPYARD_HOME and state.json."""\n', env_literal_problems),
        ('"""Reads $SHIPYARD_HOME and state.json."""\n', finding_problems),
        (
            "import os\nfrom shipyard.platform.env import ENV_MLFLOW\nx = os.environ.get(ENV_MLFLOW)\n",
            env_literal_problems,
        ),
        ('help_text = "default: the MLflow URL in state.json"\n', finding_problems),
        ("from shipyard.platform.env import ENV_HOME\nchild_env = {ENV_HOME: '/data'}\n", finding_problems),
    ],
)
def test_what_the_rules_allow(source, rule):
    """Text about a variable, a constant from the contract, setting a child's environment: allowed."""
    assert rule(source, "example.py") == []
