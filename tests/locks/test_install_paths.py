"""No install path is unlocked: every command in the repository that installs Python or npm packages
installs them from a checked-in lock with hashes (pip/uv ``--require-hashes``, ``npm ci``), or installs
only a local path without its dependencies (``-e .``, a built wheel). An upstream release must never
change what a clone, ``shipyard up`` or a generated project installs.

Scanned: ``dev``, ``.ci/``, ``platform/``, ``project-template/`` and ``infra/`` — shell scripts, Makefiles,
Dockerfiles, CI YAML, and Python (argument lists, as handed to ``subprocess``). Debian packages (apt) are
out of scope: they come signed from the distribution's archive.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOTS = ["dev", ".ci", "platform", "project-template", "infra"]
SHELL_LIKE = re.compile(r"(^|/)(dev|run|Makefile|Dockerfile[^/]*|[^/]+\.(sh|ya?ml|mk))$")
INSTALL = re.compile(
    r"\bpip3?[\"']?\s+(?:-\S+\s+)*(?:install|sync)\b"  # pip, python -m pip, uv pip, "$VENV/bin/pip"
    r"|\bnpm\s+(?P<npm>install|i|ci|add)\b|\b(?:pipx|poetry|conda|yarn|pnpm)\s+(?:install|add)\b"
)
LOCAL_ONLY = re.compile(r"(?:^|\s)(?:-e\s+\S+|\S+\.whl|\.|/tmp/\S+)(?:\s|$)")


def _files() -> list[Path]:
    found: list[Path] = []
    for root in ROOTS:
        path = REPO / root
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        found += [p for p in candidates if "__pycache__" not in p.parts and ".venv" not in p.parts]
    return found


def _shell_commands(text: str) -> list[str]:
    """Logical lines (backslash continuations joined), comments and echo/print lines dropped."""
    joined = re.sub(r"\\\n", " ", text)
    lines = [line.split(" #")[0].strip() for line in joined.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith(("#", "echo", "@echo", "log ", "printf"))]


def _argv_lists(source: str) -> list[str]:
    """Python list/tuple literals that hold at least one string: argv as given to subprocess, with any
    expression standing as <expr>."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a template file with Jinja in it: read it as text
        return []
    argvs = []
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple) and any(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
        ):
            words = [e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else "<expr>"
                     for e in node.elts]  # fmt: skip
            argvs.append(" ".join(words))
    return argvs


def commands(path: Path) -> list[str]:
    text = path.read_text(errors="replace")
    if path.suffix == ".py":
        return _argv_lists(text)
    if SHELL_LIKE.search(str(path.relative_to(REPO))):
        return _shell_commands(text)
    return []


def unlocked(command: str) -> bool:
    """An install command that may take whatever an index serves today."""
    match = INSTALL.search(command)
    if not match:
        return False
    if match["npm"]:
        return match["npm"] != "ci" and "--package-lock-only" not in command
    if "--require-hashes" in command:
        return False
    # a local path without its dependencies: the project itself (-e .), a wheel built from this source
    return not ("--no-deps" in command and LOCAL_ONLY.search(command[match.end() :]))


def findings() -> list[str]:
    return [
        f"{path.relative_to(REPO)}: {command[:160]}"
        for path in _files()
        for command in commands(path)
        if unlocked(command)
    ]


def test_no_install_path_takes_unlocked_packages():
    found = findings()
    assert not found, "installs without a hashed lock:\n" + "\n".join(found)


def test_the_scan_sees_every_kind_of_install_path():
    """The scan is no stand-in: it finds the scanned kinds of files and commands at all."""
    scanned = {p.relative_to(REPO).as_posix() for p in _files() if commands(p)}
    expected = {"dev", "platform/shipyard/local/services/label_studio.py", "infra/images/shipyard/Dockerfile"}
    assert expected <= scanned
    assert any(s.endswith("/Makefile") for s in scanned) and any(s.endswith("/Dockerfile") for s in scanned)


@pytest.mark.parametrize(
    "command",
    [
        'pip install -q "uv==0.13.9"',
        '"$VENV/bin/pip" install -q torch==2.13.0',
        "uv pip install --python .venv/bin/python -r requirements.lock",
        '$(UV) pip install --python $(PYTHON) "torch==$(TORCH_VERSION)" --index-url $(TORCH_INDEX_URL)',
        "npm install --silent --no-save --prefix tools gitlab-ci-local@4.56.2",
        "pip install --no-cache-dir -e '.[dev]'",
        "RUN pip install --no-cache-dir -r /tmp/requirements.lock",
        "<expr> pip install --python <expr> <expr>",  # Label Studio's venv before the lock (0853cf2)
        "python3 -m pip install --upgrade pip",
    ],
)
def test_unlocked_installs_are_found(command):
    assert unlocked(command)


@pytest.mark.parametrize(
    "command",
    [
        "uv pip install -q --python .venv/bin/python --require-hashes --no-deps -r requirements.lock",
        "<expr> pip sync --python <expr> --require-hashes --build-constraints <expr> <expr>",
        "npm ci --silent --no-audit",
        "npm install --package-lock-only --omit-lockfile-registry-resolved",
        "uv pip install --python .venv/bin/python --no-deps --no-build-isolation -e .",
        "RUN pip install --no-cache-dir --no-deps /tmp/shipyard-*.whl && rm /tmp/shipyard-*.whl",
        "apt-get install -y --no-install-recommends git make",
    ],
)
def test_locked_or_local_installs_pass(command):
    assert not unlocked(command)


def test_the_scan_fails_on_the_label_studio_install_before_the_lock(tmp_path):
    """What 0853cf2 shipped (label-studio==<version>, every dependency whatever PyPI served) is a finding."""
    before = """steps = [
    [uv, "venv", "-q", "--allow-existing", "--python", sys.executable, str(venv)],
    [uv, "pip", "install", "--python", str(venv / "bin" / "python"), f"label-studio=={version}"],
]
"""
    assert [c for c in _argv_lists(before) if unlocked(c)] == ["<expr> pip install --python <expr> <expr>"]
