"""Rebuild the vendored chart archives (tests/infra/charts/archives/) from the charts' public git
repositories at the commits charts.json names ("archives"). Run by hand, with local clones:

    python tests/infra/charts/vendor.py MIRRORS_DIR      # MIRRORS_DIR/<owner>+<name>/repo (bare git)

Each archive is the chart directory at its commit with its dependency subcharts under charts/, less
what Helm never reads for a release (docs, CI values, unit tests), packed deterministically (sorted,
mtime 0) so a rebuild from the same commits gives the same bytes and the same digest.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARCHIVES = HERE / "archives"
DROP_DIRS = {"ci", "unittests", "tests", "hack", "docs", "example-values", ".github"}
DROP_FILES = {"README.md", "CHANGELOG.md", "CONTRIBUTING.md", "UPGRADE.md", "FAQs.md", ".editorconfig"}


def _files(mirrors: Path, source: dict) -> dict[str, bytes]:
    """{path relative to the chart directory: bytes} of one chart at its commit."""
    repo = source["source"].removeprefix("https://github.com/").replace("/", "+")
    git_dir = mirrors / repo / "repo"
    raw = subprocess.run(
        ["git", "--git-dir", str(git_dir), "archive", "--format=tar", source["commit"], source["path"]],
        check=True,
        capture_output=True,
    ).stdout
    out: dict[str, bytes] = {}
    prefix = source["path"].rstrip("/") + "/"
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = member.name.removeprefix(prefix)
            parts = rel.split("/")
            if DROP_DIRS & set(parts[:-1]) or parts[-1] in DROP_FILES:
                continue
            out[rel] = tar.extractfile(member).read()  # type: ignore[union-attr]
    return out


def build(mirrors: Path, entry: dict) -> Path:
    files = {f"{entry['chart']}/{k}": v for k, v in _files(mirrors, entry).items()}
    for dep in entry.get("dependencies", []):
        for rel, data in _files(mirrors, dep).items():
            files[f"{entry['chart']}/charts/{dep['chart']}/{rel}"] = data
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), 0, 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    target = ARCHIVES / entry["archive"]
    target.parent.mkdir(exist_ok=True)
    with open(target, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue())
    return target


def main(argv: list[str]) -> None:
    mirrors = Path(argv[0])
    for entry in json.loads((HERE / "charts.json").read_text())["archives"]:
        print(build(mirrors, entry))


if __name__ == "__main__":
    main(sys.argv[1:])
