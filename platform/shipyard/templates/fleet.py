"""Keeping the fleet of generated projects on the current template.

``status`` lists each project with the template version it is on and how many releases it is behind;
``update_project`` moves one project to a release (cruft's three-way patch) on a branch
``template-update-<version>`` and pushes that branch so the project's CI runs on it. A merge that
leaves a conflict marker or a ``.rej`` file is refused, naming the files (cruft itself says "Good
work!" and exits 0 even then), and nothing is pushed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard import tags
from shipyard.errors import UserError
from shipyard.platform.endpoints import Endpoints
from shipyard.templates.bake import CRUFT_SKIP, ci_runner_context, governance_context
from shipyard.templates.repo import URL_KEY, VERSION_KEY, Release, behind, releases

if TYPE_CHECKING:
    from shipyard.spec.model import PlatformSpec

BRANCH_PREFIX = "template-update-"
# the context keys the platform owns: a change in any of them is an update even on the same release
GOVERNED_KEYS = ("risk_tier", "_gates", "_champion_tolerance", "_max_drift_share", "_ci_runners",
                 "_ci_runner_label")  # fmt: skip
CONFLICT_MARKER = re.compile(r"^(<<<<<<<|>>>>>>>)( |$)", re.MULTILINE)
# Context keys cookiecutter/cruft add, not answers to render with.
RENDER_ONLY = {"_template", "_commit", "_output_dir", "_extensions"}
GIT_IDENTITY = ["-c", "user.name=Shipyard template update", "-c", "user.email=shipyard@localhost"]


@dataclass(frozen=True)
class ProjectTemplate:
    project: str
    team: str
    version: str | None  # None: generated before template versions were recorded
    latest: str | None
    behind: int | None
    repo: str | None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class UpdateResult:
    project: str
    status: str  # updated | up-to-date | conflict | failed
    version: str
    branch: str | None = None
    files: list[str] = field(default_factory=list)
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def status(endpoints: Endpoints, template_url: str) -> list[ProjectTemplate]:
    """Every project of the platform with its template version (from its repository's main branch
    where the platform hosts it, else the version recorded on the project) and releases behind."""
    from shipyard.projects import list_projects

    published = releases(template_url)
    newest = published[-1].version if published else None
    rows = []
    for project in list_projects(endpoints):
        repo = project.repo or None
        version = repo_template_version(repo) if repo else None
        version = version or project.tags.get(tags.TEMPLATE_VERSION)
        rows.append(
            ProjectTemplate(
                project=project.name,
                team=project.team,
                version=version,
                latest=newest,
                behind=behind(version, published),
                repo=repo,
            )
        )
    return rows


def repo_template_version(repo: str) -> str | None:
    """``_template_version`` of ``.cruft.json`` on the main branch of a project's git repository."""
    try:
        proc = subprocess.run(
            ["git", "--git-dir", repo, "show", "main:.cruft.json"], capture_output=True, text=True, timeout=30
        )
        if proc.returncode != 0:
            return None
        return json.loads(proc.stdout)["context"]["cookiecutter"].get(VERSION_KEY) or None
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
        return None


def update_project(
    project: str,
    repo_url: str,
    template_url: str,
    release: Release,
    spec: PlatformSpec | None = None,
    risk_tier: str | None = None,
) -> UpdateResult:
    """Apply ``release`` to ``project`` on branch template-update-<version> and push that branch.

    With ``spec``, the platform-owned values (shipyard.yaml ``governance:``: gates, champion tolerance,
    the tier's drift limit) are rendered from the current spec for the project's current
    ``risk_tier`` (the platform's record; ``shipyard project set-tier`` changes it), so a changed
    threshold or tier reaches the project; the data scientist's params.yaml holds none of them, so it
    merges. The CI runners the spec gives the team (``ci.runners``) are refreshed the same way. A
    project on the latest release whose governed values changed gets them alone, on
    branch template-update-<version>-governance-<digest>."""
    branch = BRANCH_PREFIX + release.version
    result = UpdateResult(project, "failed", release.version, branch)
    with tempfile.TemporaryDirectory(prefix=f"shipyard-update-{project}-") as tmp:
        work = Path(tmp) / "project"
        try:
            _run(["git", "clone", "--quiet", "--branch", "main", repo_url, str(work)], Path(tmp))
            state = json.loads((work / ".cruft.json").read_text())
            context = state["context"]["cookiecutter"]
            current = context.get(VERSION_KEY)
        except (UserError, OSError, ValueError, KeyError, TypeError) as exc:
            result.message = f"cannot read the project's main branch and .cruft.json: {exc}"
            return result
        new_context = {**context, VERSION_KEY: release.version, URL_KEY: template_url}
        if risk_tier:
            new_context["risk_tier"] = risk_tier
        if spec is not None:
            task, tier = new_context.get("task", "classification"), new_context.get("risk_tier", "low")
            new_context.update(governance_context(spec, task, tier))
            new_context.update(ci_runner_context(spec, new_context.get("team", "")))
        governed = {
            k: new_context.get(k, "") for k in GOVERNED_KEYS if new_context.get(k, "") != context.get(k, "")
        }
        if behind(current, [release]) == 0:
            if not governed:
                result.status, result.branch = "up-to-date", None
                result.message = f"already on template {current}"
                return result
            digest = hashlib.sha256(json.dumps(governed, sort_keys=True).encode()).hexdigest()[:8]
            branch = result.branch = f"{branch}-governance-{digest}"
        if not state.get("commit"):
            result.message = ".cruft.json records no template commit: regenerate with `shipyard new`"
            return result
        _run(["git", "checkout", "--quiet", "-b", branch], work)
        # the old release from where the project says it came from (older projects: the source tree)
        old_source = state.get("template") or template_url
        old = render(old_source, state["commit"], context, Path(tmp) / "old", state.get("directory"))
        new = render(template_url, release.commit, new_context, Path(tmp) / "new")
        from cruft._commands.utils.diff import get_diff

        diff = get_diff(old, new)
        failed = ""
        if diff.strip():
            applied = _apply(["git", "apply", "-3"], diff, work)
            if applied.returncode != 0 and not _run(["git", "status", "--porcelain"], work):
                applied = _apply(["git", "apply", "--reject"], diff, work)  # what cruft falls back to
            failed = applied.stderr.strip() if applied.returncode != 0 else ""
        conflicts = conflicted_files(work)
        if conflicts:
            result.status, result.files = "conflict", conflicts
            result.message = "the update conflicts with the project's changes; nothing was pushed"
            return result
        if failed:
            result.message = f"the update did not apply: {failed[-300:]}"
            return result
        state.update(commit=release.commit, checkout=None, template=template_url, directory=None)
        state["context"]["cookiecutter"] = {
            **new_context,
            "_template": template_url,
            "_commit": release.commit,
        }
        (work / ".cruft.json").write_text(json.dumps(state, indent=2) + "\n")
        _run(["git", "add", "-A"], work)
        message = f"Update to Shipyard template {release.version}"
        if behind(current, [release]) == 0:
            message = f"Platform governance update ({', '.join(sorted(governed))} from the platform spec)"
        _run(["git", *GIT_IDENTITY, "commit", "--quiet", "-m", message], work)
        _run(["git", "push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{branch}"], work)
    result.status = "updated"
    result.message = f"pushed {branch}: its CI runs on the platform; merge it when green"
    return result


def render(template_url: str, commit: str, context: dict, into: Path, directory: str | None = None) -> Path:
    """The template at ``commit`` rendered with a project's full recorded context.

    Not ``cruft update``: cruft drops every ``_`` variable when it re-renders, so the platform's values
    (endpoints, gates) would come back as the template's empty defaults and conflict on every line
    that holds one, and cruft would write those defaults into ``.cruft.json``."""
    from shipyard.templates.bake import bake

    into.mkdir(parents=True)
    source = into / "template"
    _run(["git", "clone", "--quiet", "--no-checkout", template_url, str(source)], into)
    _run(["git", "checkout", "--quiet", commit], source)
    answers = {k: v for k, v in context.items() if k not in RENDER_ONLY}
    with _stdout_to_stderr():  # the template's hooks print next steps meant for a new project
        baked = bake(source / (directory or ""), into / "out", answers, no_input=True)
    for skipped in CRUFT_SKIP:  # the data scientist's data and labels are never touched
        path = baked.path / skipped
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    return baked.path


def conflicted_files(work: Path) -> list[str]:
    """Files with conflict markers, unmerged paths and ``*.rej`` leftovers, relative to ``work``."""
    status = ["git", "status", "--porcelain", "--untracked-files=all"]
    changed = subprocess.run(status, cwd=work, capture_output=True, text=True, timeout=60).stdout.splitlines()
    found = set()
    for line in changed:
        path = line[3:].split(" -> ")[-1].strip('"')
        if line[:2] in ("UU", "AA", "DU", "UD", "AU", "UA") or path.endswith(".rej"):
            found.add(path.removesuffix(".rej"))
            continue
        file = work / path
        if file.is_file():
            try:
                text = file.read_text()
            except (UnicodeDecodeError, OSError):
                continue
            if CONFLICT_MARKER.search(text):
                found.add(path)
    return sorted(found)


def _apply(args: list[str], diff: str, work: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=diff, cwd=work, capture_output=True, text=True, timeout=300)


@contextlib.contextmanager
def _stdout_to_stderr():
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _run(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise UserError(f"{' '.join(args[:2])} failed: {proc.stderr.strip()[-300:]}", "see the message above")
    return proc.stdout.strip()
