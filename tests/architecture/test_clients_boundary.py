"""The platform's boundary with the services it calls, read from the code with ``ast``:

- MLflow's REST paths are spelled only in ``shipyard.records`` (the one MLflow client);
- HTTP libraries are imported only in ``shipyard.records`` and ``shipyard.clients`` (plus ALLOWED_HTTP);
- exception classes are defined only in ``shipyard.errors`` (plus the module-private PRIVATE_EXCEPTIONS);
- no code decides what a service answered by looking for "401"/"403" in a message: the client that
  receives the response raises the type (errors.NotSignedIn, errors.Forbidden, ...).

Each rule is a function of (module, source), checked on the whole package and, below, on a snippet
that breaks it, so the rule itself can fail."""

from __future__ import annotations

import ast
import builtins
import re

import pytest

from tests.architecture.test_layering import PACKAGE, module_name

RECORDS = "shipyard.records"
CLIENTS = "shipyard.clients"
ERRORS = "shipyard.errors"
MLFLOW_REST = re.compile(r"/api/\d\.\d/mlflow|/ajax-api/")
HTTP_LIBRARIES = ("requests", "httpx", "urllib.request", "http.client", "aiohttp", "urllib3")
STATUS_TEXT = re.compile(r"\b40[13]\b|Unauthorized|Forbidden")

# module -> why it may import an HTTP library itself (keep this short: a new client goes in clients/)
# (none today: service_calls.unreachable_from reads requests' error types from sys.modules, importing
# nothing; the registry's own server is Starlette, which is no client)
ALLOWED_HTTP: dict[str, str] = {}
# "module.Class" -> why a control-flow exception may stay private to its module (it never leaves it)
PRIVATE_EXCEPTIONS: dict[str, str] = {
    "shipyard.local.lifecycle._Aborted": "`up` stops waiting for services once one failed; caught there",
}


def sources() -> dict[str, str]:
    return {module_name(p): p.read_text() for p in sorted(PACKAGE.rglob("*.py"))}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def mlflow_paths(module: str, source: str) -> list[str]:
    """String literals naming MLflow's REST API outside the records package."""
    if within(module, RECORDS):
        return []
    return [
        f"{module}:{node.lineno}: {node.value!r}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and MLFLOW_REST.search(node.value)
    ]


def http_imports(module: str, source: str) -> list[str]:
    """Imports of an HTTP library outside records/ and clients/ (and the allowed modules)."""
    if within(module, RECORDS) or within(module, CLIENTS) or module in ALLOWED_HTTP:
        return []
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if any(name == lib or name.startswith(lib + ".") for lib in HTTP_LIBRARIES):
                found.append(f"{module}:{node.lineno}: imports {name}")
    return found


def exception_names(all_sources: dict[str, str]) -> set[str]:
    """The names of every exception class: the builtins' and, to a fixed point, every class of the
    package deriving from one (by its base's last name: ``errors.UserError`` counts as ``UserError``)."""
    names = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    classes = [
        node
        for source in all_sources.values()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ClassDef)
    ]
    while True:
        more = {c.name for c in classes if c.name not in names and any(_base(b) in names for b in c.bases)}
        if not more:
            return names
        names |= more


def _base(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def exception_classes(module: str, source: str, exceptions: set[str]) -> list[str]:
    """Exception classes defined outside errors.py (and the private list)."""
    if module == ERRORS:
        return []
    return [
        f"{module}:{node.lineno}: class {node.name}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ClassDef)
        and any(_base(b) in exceptions for b in node.bases)
        and f"{module}.{node.name}" not in PRIVATE_EXCEPTIONS
    ]


def status_from_text(module: str, source: str) -> list[str]:
    """``"401" in str(exc)`` and the like: a status read from words instead of the response."""
    found = []
    for node in ast.walk(ast.parse(source)):
        texts: list[ast.expr] = []
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            texts = [node.left]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("find", "index", "count", "startswith", "endswith", "search", "match"):
                texts = list(node.args)
        for text in texts:
            literal = text.value if isinstance(text, ast.Constant) else None
            if isinstance(literal, str) and STATUS_TEXT.search(literal):
                found.append(f"{module}:{node.lineno}: matches {literal!r} in a text")
    return found


# --- the package ---------------------------------------------------------------------------------------


def test_mlflow_rest_paths_are_spelled_only_in_records():
    assert [hit for m, s in sources().items() for hit in mlflow_paths(m, s)] == []


def test_http_libraries_are_imported_only_in_records_and_clients():
    assert [hit for m, s in sources().items() for hit in http_imports(m, s)] == []


def test_exception_classes_are_defined_only_in_errors():
    all_sources = sources()
    exceptions = exception_names(all_sources)
    assert [hit for m, s in all_sources.items() for hit in exception_classes(m, s, exceptions)] == []


def test_no_status_is_read_from_a_message():
    assert [hit for m, s in sources().items() for hit in status_from_text(m, s)] == []


def test_the_allow_lists_name_what_exists():
    """An entry whose module or class is gone is stale: the lists stay short and true."""
    all_sources = sources()
    assert set(ALLOWED_HTTP) <= set(all_sources)
    for entry in PRIVATE_EXCEPTIONS:
        module, _, name = entry.rpartition(".")
        assert f"class {name}(" in all_sources.get(module, ""), entry
        assert name.startswith("_"), f"{entry}: only a module-private (underscored) exception may stay"


# --- each rule can fail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module, source, broken",
    [
        ("shipyard.identity.x", 'URL = "/api/2.0/mlflow/users/get"', True),
        ("shipyard.portal_x", 'u = f"{base}/ajax-api/2.0/mlflow/runs/search"', True),
        ("shipyard.records.auth", 'URL = "/api/2.0/mlflow/users/get"', False),
    ],
)
def test_the_mlflow_path_rule_itself(module, source, broken):
    assert bool(mlflow_paths(module, source)) is broken


@pytest.mark.parametrize(
    "module, source, broken",
    [
        ("shipyard.catalog.x", "import requests", True),
        ("shipyard.local.x", "def f():\n    import urllib.request", True),
        ("shipyard.costs.x", "from http.client import HTTPException", True),
        ("shipyard.catalog.x", "from urllib.parse import quote", False),
        ("shipyard.clients.x", "import requests", False),
    ],
)
def test_the_http_import_rule_itself(module, source, broken):
    assert bool(http_imports(module, source)) is broken


@pytest.mark.parametrize(
    "module, source, broken",
    [
        ("shipyard.registry.x", "class Oops(ValueError):\n    pass", True),
        ("shipyard.registry.x", "from shipyard import errors\nclass Oops(errors.UserError):\n    pass", True),
        ("shipyard.registry.x", "class Plain:\n    pass", False),
        ("shipyard.errors", "class Oops(Exception):\n    pass", False),
    ],
)
def test_the_exception_rule_itself(module, source, broken):
    exceptions = exception_names({"shipyard.errors": "class UserError(Exception):\n    pass", module: source})
    assert bool(exception_classes(module, source, exceptions)) is broken


@pytest.mark.parametrize(
    "source, broken",
    [
        ('if "401" in str(exc):\n    pass', True),
        ('if "Unauthorized" in message:\n    pass', True),
        ('found = text.find("403 Forbidden")', True),
        ("if resp.status_code == 401:\n    pass", False),
    ],
)
def test_the_status_text_rule_itself(source, broken):
    assert bool(status_from_text("shipyard.cli.x", source)) is broken
