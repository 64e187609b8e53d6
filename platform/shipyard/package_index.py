"""The platform publishes its client: the ``shipyard`` wheel, built from the platform's own source, in a
simple package index (PEP 503) that generated projects install ``shipyard`` from, and only from.

The public index must never be asked for ``shipyard``: the name is unclaimed there, and whoever claims it
would run code in every team's CI (dependency confusion). So projects pin the wheel's sha256 in
``platform.lock`` and install it with ``pip --isolated --index-url <this index>`` (see docs/ci.md).

The wheel is rebuilt only when the source changes (its build is keyed by a digest of the source) and
its zip timestamps are fixed (``SOURCE_DATE_EPOCH``), so restarting the platform keeps projects' pins valid.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from shipyard.errors import UserError

DISTRIBUTION = "shipyard"
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the repository: pyproject.toml, platform/shipyard
# 1980-01-02: the earliest date a zip can hold (plus a day against time zones); fixed for stable hashes
SOURCE_DATE_EPOCH = "315619200"
MANIFEST = "shipyard.json"  # at the index root: what `shipyard new` and `make lock` pin


@dataclass(frozen=True)
class Published:
    version: str
    wheel: str  # file name
    sha256: str
    requires_python: str

    @property
    def requirement(self) -> str:
        """The ``platform.lock`` line of a generated project."""
        return f"{DISTRIBUTION}=={self.version} --hash=sha256:{self.sha256}"


def _project(root: Path) -> dict:
    data = tomllib.loads((root / "pyproject.toml").read_text())
    return data["project"]


def source_files(root: Path = SOURCE_ROOT) -> list[Path]:
    """What goes into the wheel: the build config and the ``shipyard`` package (no caches)."""
    package = root / "platform" / DISTRIBUTION
    files = [root / "pyproject.toml", root / "README.md"]
    files += sorted(
        p
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith((".pyc", ".pyo"))
    )
    return [f for f in files if f.exists()]


def source_digest(root: Path = SOURCE_ROOT) -> str:
    digest = hashlib.sha256()
    for path in source_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_wheel(out_dir: Path, root: Path = SOURCE_ROOT) -> Path:
    """Build the ``shipyard`` wheel from ``root`` into ``out_dir`` (re-used when the source is unchanged).

    Built from a copy of the source, so the repository gets no ``build/`` or ``*.egg-info``; with the
    build backend already installed in Shipyard's environment (no build isolation: nothing downloads).
    """
    if not (root / "pyproject.toml").is_file() or _project(root).get("name") != DISTRIBUTION:
        raise UserError(
            f"no Shipyard source tree at {root} to build the client wheel from",
            "run the platform from a checkout of Shipyard (./dev setup), or turn services.package_index "
            "off and name your organisation's index in services.package_index.url",
        )
    cache = out_dir / "builds" / source_digest(root)[:16]
    built = sorted(cache.glob(f"{DISTRIBUTION}-*.whl")) if cache.is_dir() else []
    if built:
        return built[0]
    with tempfile.TemporaryDirectory(prefix="shipyard-wheel-") as tmp:
        src = Path(tmp) / "src"
        for path in source_files(root):
            dest = src / path.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
        staging = Path(tmp) / "dist"
        staging.mkdir()
        code = "import sys; from setuptools import build_meta as b; print(b.build_wheel(sys.argv[1]))"
        proc = subprocess.run(
            [sys.executable, "-c", code, str(staging)],
            cwd=src,
            capture_output=True,
            text=True,
            env={**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
            timeout=300,
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise UserError(
                f"building the shipyard wheel failed:\n{tail}",
                "check that setuptools is installed in Shipyard's environment (./dev setup)",
            )
        wheel = staging / proc.stdout.strip().splitlines()[-1]
        cache.mkdir(parents=True, exist_ok=True)
        final = cache / wheel.name
        shutil.copy2(wheel, final.with_suffix(".part"))
        os.replace(final.with_suffix(".part"), final)
    return final


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def publish(index_dir: Path, root: Path = SOURCE_ROOT) -> Published:
    """Build (or re-use) the wheel and write the static index under ``index_dir``:
    ``simple/index.html``, ``simple/shipyard/index.html`` + the wheel, and ``shipyard.json``."""
    wheel = build_wheel(index_dir, root)
    project = _project(root)
    published = Published(
        version=project["version"],
        wheel=wheel.name,
        sha256=sha256_of(wheel),
        requires_python=project.get("requires-python", ""),
    )
    simple = index_dir / "simple"
    package = simple / DISTRIBUTION
    package.mkdir(parents=True, exist_ok=True)
    for old in package.glob("*.whl"):
        if old.name != wheel.name:
            old.unlink()
    target = package / wheel.name
    if not target.exists() or sha256_of(target) != published.sha256:
        shutil.copy2(wheel, target.with_suffix(".part"))
        os.replace(target.with_suffix(".part"), target)
    requires = html.escape(published.requires_python, quote=True)
    _write(
        package / "index.html",
        '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0">'
        f"<title>Links for {DISTRIBUTION}</title></head><body>\n<h1>Links for {DISTRIBUTION}</h1>\n"
        f'<a href="{wheel.name}#sha256={published.sha256}" data-requires-python="{requires}">'
        f"{wheel.name}</a><br>\n</body></html>\n",
    )
    _write(
        simple / "index.html",
        '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0">'
        f'<title>Simple index</title></head><body>\n<a href="{DISTRIBUTION}/">{DISTRIBUTION}</a><br>\n'
        "</body></html>\n",
    )
    _write(index_dir / MANIFEST, json.dumps({**asdict(published), "requirement": published.requirement},
                                            indent=2) + "\n")  # fmt: skip
    return published


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


_LINK = re.compile(r'href="([^"#]+)#sha256=([0-9a-f]{64})"')


def read_published(index_dir: Path) -> Published | None:
    """What the embedded platform's index serves now (None before the first ``shipyard up``)."""
    try:
        data = json.loads((index_dir / MANIFEST).read_text())
        return Published(data["version"], data["wheel"], data["sha256"], data.get("requires_python", ""))
    except (OSError, ValueError, KeyError):
        return None


def fetch_published(index_url: str, timeout: float = 10) -> Published | None:
    """The wheel a remote simple index lists for ``shipyard`` (the newest by file name), or None."""
    from shipyard.clients.package_index import project_page

    page = project_page(index_url, DISTRIBUTION, timeout)
    if page is None:
        return None
    wheels = sorted(
        (name.rsplit("/", 1)[-1], sha) for name, sha in _LINK.findall(page) if name.endswith(".whl")
    )
    if not wheels:
        return None
    name, sha = wheels[-1]
    return Published(version=name.split("-")[1], wheel=name, sha256=sha, requires_python="")


def client_pin(index_url: str | None) -> dict[str, str]:
    """The template's ``_shipyard_*`` values: the wheel the platform's index serves now, so a new project's
    ``platform.lock`` pins its hash. Empty when the index cannot be reached (``make lock`` pins later)."""
    published = fetch_published(index_url, timeout=5) if index_url else None
    if published is None:
        return {}
    return {
        "_shipyard_version": published.version,
        "_shipyard_sha256": published.sha256,
        "_shipyard_requirement": f"{DISTRIBUTION}=={published.version}",
    }
