"""The locks `./dev` installs its own tools from: every package pinned with its hash (npm: integrity),
at the versions `dev` names, and no registry address written into them."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCKS = REPO / "locks"


def _dev_variable(name: str) -> str:
    return re.search(rf"^{name}=(\S+)", (REPO / "dev").read_text(), re.M).group(1)


def _entries(text: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line for line in joined.splitlines() if line and not line.startswith(("#", " "))]


def test_uv_and_torch_are_pinned_with_hashes_at_the_versions_dev_names():
    (uv,) = _entries((LOCKS / "bootstrap.lock").read_text())
    assert uv.startswith(f"uv=={_dev_variable('UV_VERSION')} ") and "--hash=sha256:" in uv
    torch = _entries((LOCKS / "torch-cpu.lock").read_text())
    assert any(e.startswith(f"torch=={_dev_variable('TORCH_VERSION')} ") for e in torch)
    assert len(torch) > 5 and all("--hash=sha256:" in e for e in torch)  # its dependencies too
    for entry in _entries((REPO / "requirements.lock").read_text()):
        assert "--hash=sha256:" in entry, entry


def test_gitlab_ci_local_is_locked_with_integrity_for_every_package():
    manifest = json.loads((LOCKS / "gitlab-ci-local" / "package.json").read_text())
    lock = json.loads((LOCKS / "gitlab-ci-local" / "package-lock.json").read_text())
    wanted = manifest["dependencies"]["gitlab-ci-local"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", wanted)  # an exact version, not a range
    packages = {k: v for k, v in lock["packages"].items() if k}
    assert packages["node_modules/gitlab-ci-local"]["version"] == wanted
    assert len(packages) > 50
    missing = [
        k for k, v in packages.items() if not v.get("link") and not v.get("integrity", "").startswith("sha")
    ]
    assert not missing, missing
    assert not any("resolved" in v for v in packages.values())  # the registry is the client's, not ours
