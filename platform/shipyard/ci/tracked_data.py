"""The DVC-tracked inputs a CI job pulls: before ``make ci``, the objects the commit's ``*.dvc`` files
name (a data scientist's `make add-data` pushed them to the team's remote) are copied from the
project's remote in the team's storage into the job's own DVC remote, which is all the job can read.

Only what the commit tracks is copied, each object checked against its md5 name; a ``.dir`` listing
brings the files it lists. Nothing is copied for a project whose data is the demo data.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

from shipyard.records.artifact_files import md5_of

MD5 = re.compile(r"^[0-9a-f]{32}(\.dir)?$")
MAX_DVC_FILES = 200  # a checkout's *.dvc files read (outside .git, .dvc)


def tracked_md5s(checkout: Path) -> list[str]:
    """The md5s (``<md5>`` or ``<md5>.dir``) the checkout's ``*.dvc`` files name."""
    found: list[str] = []
    files = [p for p in sorted(checkout.rglob("*.dvc")) if ".git" not in p.parts and ".dvc" not in p.parts]
    for path in files[:MAX_DVC_FILES]:
        if path.is_symlink() or not path.is_file():
            continue
        try:
            data = yaml.load(path.read_text(), Loader=yaml.BaseLoader) or {}  # md5s stay text
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        for out in data.get("outs") or [] if isinstance(data, dict) else []:
            md5 = str(out.get("md5", "")) if isinstance(out, dict) else ""
            if MD5.match(md5):
                found.append(md5)
    return found


def _object(root: Path, md5: str) -> Path:
    return root / "files" / "md5" / md5[:2] / md5[2:]


def _copy_checked(source: Path, dest: Path, md5: str) -> bool:
    if not source.is_file() or source.is_symlink():
        return False
    digest = md5_of(source)
    if digest != md5.removesuffix(".dir"):
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    return True


def seed(checkout: Path, team_remote: Path, job_remote: Path) -> tuple[int, list[str]]:
    """Copy the tracked objects into ``job_remote``; returns (copied, md5s missing from the team's)."""
    copied, missing = 0, []
    wanted = tracked_md5s(checkout)
    seen: set[str] = set()
    while wanted:
        md5 = wanted.pop()
        if md5 in seen:
            continue
        seen.add(md5)
        source, dest = _object(team_remote, md5), _object(job_remote, md5)
        if not _copy_checked(source, dest, md5):
            missing.append(md5)
            continue
        copied += 1
        if md5.endswith(".dir"):
            try:
                entries = json.loads(dest.read_text())
            except (ValueError, UnicodeDecodeError):
                continue
            wanted += [
                str(e.get("md5")) for e in entries if isinstance(e, dict) and MD5.match(str(e.get("md5")))
            ]
    return copied, missing
