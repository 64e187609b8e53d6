"""The project template, published as a versioned git repository.

Each release is a commit of the template's files tagged ``v<version>`` (the version is
``_template_version`` in cookiecutter.json). The embedded platform hosts the repository next to the
project remotes (``<data dir>/git/_template.git``); a cluster names its URL in the spec
(``services.template.url``). Projects record the URL and version they were generated from, so
``shipyard template status`` can say how far behind each one is and ``shipyard project update`` can
move them with ``cruft update``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from shipyard.errors import UserError

TEMPLATE_REPO = "_template.git"  # '_' cannot start a project slug: never a project's remote
TAG_PREFIX = "v"
VERSION_KEY = "_template_version"
URL_KEY = "_template_url"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache")


@dataclass(frozen=True)
class Release:
    version: str
    commit: str

    @property
    def tag(self) -> str:
        return TAG_PREFIX + self.version


def template_version(template: Path) -> str:
    """The version a template directory declares (``_template_version`` in its cookiecutter.json)."""
    version = json.loads((template / "cookiecutter.json").read_text()).get(VERSION_KEY)
    if not isinstance(version, str) or not _parse(version):
        raise UserError(
            f"{template / 'cookiecutter.json'}: {VERSION_KEY} {version!r} is not a version like 1.2.0",
            f"set {VERSION_KEY} in cookiecutter.json",
        )
    return version


def local_repo(data_dir: Path) -> Path:
    return data_dir.resolve() / "git" / TEMPLATE_REPO


def releases(url: str) -> list[Release]:
    """Every published release of the template repository at ``url``, oldest first."""
    out = _git(["ls-remote", "--tags", url], Path.cwd(), f"cannot read the template repository {url}")
    found = {}
    for line in out.splitlines():
        commit, ref = line.split("\t")
        name = ref.removeprefix("refs/tags/")
        peeled = name.endswith("^{}")
        name = name.removesuffix("^{}")
        version = name.removeprefix(TAG_PREFIX)
        if name.startswith(TAG_PREFIX) and _parse(version) and (peeled or version not in found):
            found[version] = commit
    return sorted((Release(v, c) for v, c in found.items()), key=lambda r: _parse(r.version))


def latest(url: str) -> Release:
    published = releases(url)
    if not published:
        raise UserError(
            f"the template repository {url} has no release (no v<version> tag)",
            "publish one: shipyard template publish",
        )
    return published[-1]


def behind(version: str | None, published: list[Release]) -> int | None:
    """How many releases are newer than ``version`` (None: the version is unknown)."""
    current = _parse(version or "")
    if current is None:
        return None
    return sum(1 for r in published if _parse(r.version) > current)


def publish(template: Path, repo: str | Path, strict: bool = True) -> tuple[Release, str]:
    """Commit ``template``'s files to ``repo`` (a bare repository, created when a local path) and tag
    the version. Returns the release and ``new``, ``same`` (already published, unchanged) or
    ``differs`` (published with other content: refused when ``strict``, else the published one)."""
    version = template_version(template)
    url = str(repo)
    if "://" not in url and not (Path(url) / "HEAD").exists():
        Path(url).parent.mkdir(parents=True, exist_ok=True)
        _git(["init", "--bare", "--quiet", "--initial-branch=main", url], Path.cwd(), "cannot create it")
    existing = {r.version: r for r in releases(url)}
    with tempfile.TemporaryDirectory(prefix="shipyard-template-") as tmp:
        work = Path(tmp) / "work"
        _git(["clone", "--quiet", url, str(work)], Path(tmp), f"cannot clone {url}")
        _git(["checkout", "--quiet", "-B", "main"], work, "cannot check out main")
        for child in work.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.copytree(template, work, ignore=IGNORED, dirs_exist_ok=True)
        _git(["add", "-A"], work, "cannot stage the template")
        tree = _git(["write-tree"], work, "cannot stage the template")
        if version in existing:
            published_tree = _git(["rev-parse", f"{existing[version].commit}^{{tree}}"], work, "no tree")
            if published_tree == tree:
                return existing[version], "same"
            if not strict:
                return existing[version], "differs"
            raise UserError(
                f"template version {version} is already published with other content",
                f"bump {VERSION_KEY} in {template / 'cookiecutter.json'} for a new release",
            )
        newest = max((_parse(v) for v in existing), default=None)
        if newest is not None and _parse(version) < newest:
            raise UserError(
                f"template version {version} is older than the published {newest}",
                f"set {VERSION_KEY} above {newest}",
            )
        ident = ["-c", "user.name=Shipyard", "-c", "user.email=shipyard@localhost"]
        _git([*ident, "commit", "--quiet", "--allow-empty", "-m", f"Template {version}"], work, "commit")
        _git([*ident, "tag", "-a", TAG_PREFIX + version, "-m", f"Template {version}"], work, "tag")
        _git(["push", "--quiet", "origin", "main", TAG_PREFIX + version], work, f"cannot push to {url}")
        commit = _git(["rev-parse", "HEAD"], work, "no commit")
    return Release(version, commit), "new"


def checkout(url: str, release: Release, into: Path) -> Path:
    """A working copy of ``release`` (what ``shipyard new`` bakes from)."""
    _git(["clone", "--quiet", "--branch", release.tag, url, str(into)], into.parent, f"cannot clone {url}")
    return into


def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def _git(args: list[str], cwd: Path, what: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UserError(f"git {args[0]}: {exc}", "check that git is installed") from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise UserError(f"{what}: git {args[0]}: {detail}", "check the template repository URL and access")
    return proc.stdout.strip()
