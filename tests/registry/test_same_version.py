"""A submission with the data, parameters and code of a registered version is not registered again."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

from shipyard.registry.same_version import FINGERPRINT, fingerprint, registered_with


def _commit(work, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(work)]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()


def test_a_change_outside_the_models_code_keeps_the_fingerprint(tmp_path):
    work = tmp_path / "p"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    first = _commit(work, {"src/m/train.py": "fit()\n", "dvc.yaml": "stages: {}\n", "README.md": "a\n"})
    readme = _commit(work, {"README.md": "a template update\n"})
    code = _commit(work, {"src/m/train.py": "fit(better=True)\n"})
    repo, params = work / ".git", {"train.seed": "42"}
    same = fingerprint("md5a", params, first, repo)
    assert fingerprint("md5a", params, readme, repo) == same
    assert fingerprint("md5a", params, code, repo) != same
    assert fingerprint("md5b", params, readme, repo) != same
    assert fingerprint("md5a", {"train.seed": "7"}, readme, repo) != same
    assert fingerprint("md5a", params, first, None) != fingerprint("md5a", params, readme, None)
    assert fingerprint("md5a", params, readme, repo, {"accuracy": 0.9}) != fingerprint(
        "md5a", params, readme, repo, {"accuracy": 0.91}
    )  # the same inputs, a model that scores otherwise: another model


def test_the_registered_version_with_that_fingerprint_is_found():
    events = [SimpleNamespace(version="1", details={FINGERPRINT: "aa"}),
              SimpleNamespace(version="2", details={FINGERPRINT: "bb"})]  # fmt: skip
    assert registered_with(events, "bb") == "2" and registered_with(events, "cc") is None
