"""The one "Next:" block `shipyard new` prints: what to run, in this order, for the project just made."""

from __future__ import annotations

import subprocess
from pathlib import Path

ADD_DATA = "make add-data DATA=path/to/your.csv TARGET=column   # your own data (else the demo data)"


def _git_repo(path: Path) -> bool:
    """Whether ``path`` is inside a git work tree (its own, or one it was generated into)."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and proc.stdout.strip() == "true"


def after_new(project: Path, repo_url: str | None) -> str:
    """``repo_url``: the platform's git remote (then a push runs CI); None: not provisioned."""
    lines = ["Next:", f"  cd {project.name}", f"  {ADD_DATA}"]
    if not _git_repo(project):
        lines.append("  git init -b main")
    lines.append("  git add . && git commit -m 'Start from the Shipyard template'")
    if repo_url:
        lines.append("  git push -u origin main     # the platform's CI: tests, trains, gates, registers")
    else:
        lines.append(
            "  make ci                     # locally; `shipyard project create` puts it on the platform"
        )
    return "\n".join(lines)
