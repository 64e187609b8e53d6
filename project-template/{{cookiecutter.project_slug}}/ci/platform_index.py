"""`shipyard` comes only from the platform's package index, pinned by its hash in platform.lock.

    python ci/platform_index.py install   # `make install`: check the index, then pip install shipyard from it
    python ci/platform_index.py lock      # `make lock`: pin the wheel the index serves now into platform.lock

Never from a public index: `shipyard` there would be whoever registered the name first (dependency
confusion). So pip runs `--isolated` (no pip.conf, no PIP_* variables can add an index) with the platform's
index as its only index, and `--require-hashes`. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

VARIABLE = "SHIPYARD_INDEX_URL"
LOCK = Path(__file__).resolve().parents[1] / "platform.lock"
DOCS = "see docs/ci.md of Shipyard"
PIN = re.compile(r"^shipyard==(?P<version>[^\s\\]+)(?:\s*\\?\s*--hash=sha256:(?P<sha>[0-9a-f]{64}))?", re.M)
LINK = re.compile(
    r'href="(?:[^"#]*/)?(?P<file>shipyard-(?P<version>[^-"]+)-[^"#]+\.whl)#sha256=(?P<sha>[0-9a-f]{64})"'
)


def shown(url: str) -> str:
    """The URL without any user:password@ (logs are read by more people than the secret's owners)."""
    return re.sub(r"//[^/@]*@", "//", url)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def index_url() -> str:
    url = os.environ.get(VARIABLE, "").strip()
    if not url:
        fail(f"{VARIABLE} is not set: set the CI variable {VARIABLE} to the platform's index ({DOCS})")
    return url if url.endswith("/") else url + "/"


def listing(url: str) -> list[dict[str, str]]:
    """The shipyard wheels the index serves (PEP 503 page of the project)."""
    try:
        with urllib.request.urlopen(f"{url}shipyard/", timeout=15) as response:
            page = response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        fail(
            f"the platform's package index is unreachable at {shown(url)} ({reason}): "
            f"set the CI variable {VARIABLE} to an index URL this runner can reach ({DOCS})"
        )
    return [m.groupdict() for m in LINK.finditer(page)]


def pinned() -> dict[str, str | None]:
    match = PIN.search(LOCK.read_text()) if LOCK.exists() else None
    if not match:
        fail(f"{LOCK.name} pins no shipyard version: run `make lock` with {VARIABLE} set, commit {LOCK.name}")
    return match.groupdict()


def install() -> int:
    url = index_url()
    wheels = listing(url)
    pin = pinned()
    if not pin["sha"]:
        fail(
            f"{LOCK.name} pins shipyard=={pin['version']} without a hash: "
            f"run `make lock` with {VARIABLE} set, and commit {LOCK.name}"
        )
    if not any(w["sha"] == pin["sha"] for w in wheels):
        served = ", ".join(f"{w['version']} (sha256 {w['sha'][:12]}…)" for w in wheels) or "nothing"
        fail(
            f"the index at {shown(url)} does not serve the shipyard wheel pinned in {LOCK.name} "
            f"(it serves {served}): the platform was upgraded, or {VARIABLE} names another platform; "
            "`make lock` re-pins"
        )
    command = [
        sys.executable, "-m", "pip", "--isolated", "install", "--no-deps", "--require-hashes",
        "--index-url", url, "-r", str(LOCK),
    ]  # fmt: skip
    print("$ " + " ".join(shown(part) for part in command), flush=True)
    return subprocess.call(command)


def lock() -> int:
    url = index_url()
    wheels = listing(url)
    if not wheels:
        fail(f"the index at {shown(url)} serves no shipyard wheel: is {VARIABLE} the platform's index?")
    newest = max(wheels, key=lambda w: [int(p) if p.isdigit() else 0 for p in w["version"].split(".")])
    LOCK.write_text(
        "# The platform's client, installed only from the platform's package index (make install).\n"
        "# Re-pin after a platform upgrade: make lock.\n"
        f"shipyard=={newest['version']} \\\n    --hash=sha256:{newest['sha']}\n"
    )
    sha = newest["sha"][:12]
    print(f"pinned shipyard=={newest['version']} ({newest['file']}, sha256 {sha}…) in {LOCK.name}")
    return 0


if __name__ == "__main__":
    commands = {"install": install, "lock": lock}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
