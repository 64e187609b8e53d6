"""Loaded by cookiecutter (``_extensions`` in cookiecutter.json) in its own process.

A refused answer is the pre_gen hook's one-line ``error:``/``fix:`` messages; cookiecutter would add its
own traceback of the hook failure under them. This keeps its one-line summary and drops the traceback.

It also gives the hook (filter ``shadowed_module``) and ``shipyard new`` (which imports this file) the one
answer to "would a package of this name hide a module the project imports?": a module of the standard
library, or a top-level import name of a dependency in the template's ``requirements.lock``.
"""

import logging
import re
import sys
from pathlib import Path

from jinja2.ext import Extension

LOCK = Path(__file__).resolve().parent / "{{cookiecutter.project_slug}}" / "requirements.lock"
# the project's own top-level directories, and what its tooling imports by name
RESERVED = {"src", "test", "tests", "shipyard"}
# import names of locked distributions that differ from their names, for when one is not installed here
KNOWN_IMPORTS = {
    "scikit-learn": ["sklearn"],
    "pyyaml": ["yaml"],
    "pillow": ["PIL"],
    "python-dateutil": ["dateutil"],
}
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==", re.MULTILINE)


def locked_distributions(lock: Path = LOCK) -> list[str]:
    """The distribution names pinned in a requirements lock (lowercase, '-' separated)."""
    text = lock.read_text(encoding="utf-8") if lock.is_file() else ""
    return sorted({re.sub(r"[._-]+", "-", m.group(1)).lower() for m in _REQUIREMENT.finditer(text)})


def import_names(distribution: str) -> set[str]:
    """The top-level modules a distribution installs (from its metadata when it is installed here)."""
    from importlib import metadata

    names = {distribution.replace("-", "_"), *KNOWN_IMPORTS.get(distribution, [])}
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return names
    top_level = dist.read_text("top_level.txt")
    if top_level:
        return names | {line.strip() for line in top_level.splitlines() if line.strip()}
    for file in dist.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".data", ".pth")) or first in ("..", "__pycache__"):
            continue
        names.add(first[:-3] if first.endswith(".py") else first)
    return names


def shadowed_module(package: str, lock: Path = LOCK) -> str:
    """What a top-level package named ``package`` would hide from the project, or '' (nothing)."""
    if package in sys.stdlib_module_names:
        return f"the standard library's module {package!r}"
    if package in RESERVED:
        return f"the project's own {package!r}"
    for distribution in locked_distributions(lock):
        if package in {name.lower() for name in import_names(distribution)}:
            return f"the module {package!r} of the dependency {distribution} (requirements.lock)"
    return ""


class _NoHookTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if type(error).__name__ == "FailedHookException":
            record.exc_info = None
            record.exc_text = None
        return True


class QuietHookFailure(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["shadowed_module"] = shadowed_module
        hooks_logger = logging.getLogger("cookiecutter.hooks")
        if not any(isinstance(f, _NoHookTraceback) for f in hooks_logger.filters):
            hooks_logger.addFilter(_NoHookTraceback())
