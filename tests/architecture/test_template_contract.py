"""What generated projects import from the shipyard client is a contract: every name the template's
code imports from ``shipyard`` must exist (projects made from older templates import the same names,
so moving one breaks their CI at `make register`)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "project-template"


def template_imports(root: Path) -> set[tuple[str, str]]:
    found = set()
    for path in root.rglob("*.py"):
        # cookiecutter's placeholders become a name, its tags go: what is left is the project's Python
        text = re.sub(r"\{%-?.*?-?%\}", "", re.sub(r"\{\{.*?\}\}", "x", path.read_text(encoding="utf-8")))
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "shipyard":
                found |= {(node.module, alias.name) for alias in node.names}
    return found


def missing(imports: set[tuple[str, str]]) -> list[str]:
    out = []
    for module, name in sorted(imports):
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            out.append(f"{module}: {exc}")
            continue
        if not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                out.append(f"from {module} import {name}")
    return out


def test_every_name_the_template_imports_from_shipyard_exists():
    imports = template_imports(TEMPLATE)
    assert ("shipyard.registry.names", "ENV_REGISTRY") in imports  # the check sees the template's code
    assert missing(imports) == []


def test_a_moved_name_is_reported():
    assert missing({("shipyard.registry.names", "NO_SUCH_NAME"), ("shipyard.errors", "UserError")}) == [
        "from shipyard.registry.names import NO_SUCH_NAME"
    ]
