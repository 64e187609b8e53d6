"""Reproducing the demo's champion on the real embedded platform: it passes and is recorded; corrupted
data in the team's DVC remote fails naming the file; a commit gone from the git remote fails naming it.

The demo runs once (module fixture, on the light platform); each test restores what it broke.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from shipyard import tags
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore
from shipyard.identity import REGISTRY
from shipyard.identity.session import acting_as
from shipyard.records import MlflowApi

pytestmark = [pytest.mark.services, pytest.mark.slow]

SLUG, TEAM = "screening-demo", "demo"
VALIDATOR, AUDITOR = "validator@example.com", "auditor@example.com"


@pytest.fixture(scope="module")
def demo(own_light_platform):
    result = own_light_platform.cli("demo", "--json", timeout=1800)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    return own_light_platform, outcome


def _reproduce(platform, who: str = VALIDATOR):
    return platform.cli_as(who, "model", "reproduce", SLUG, "1", timeout=900)


def _last(platform, action: str):
    events = AuditStore.of(platform.data_dir).events(model=SLUG, action=action)
    assert events, f"no {action} event"
    return events[-1]


def _data_object(platform, outcome) -> str:
    event = AuditStore.of(platform.data_dir).events(model=SLUG, action=audit.SUBMIT_REGISTERED)[-1]
    md5 = event.details["data_hash"]
    return str(platform.data_dir / "dvc-remote" / TEAM / SLUG / "files" / "md5" / md5[:2] / md5[2:])


def test_reproducing_the_champion_passes_and_is_recorded(demo):
    platform, outcome = demo
    result = _reproduce(platform)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "reproduced ✔" in result.stdout and f"{SLUG} v1" in result.stdout
    event = _last(platform, audit.REPRODUCE_PASSED)
    d = event.details
    assert event.actor == VALIDATOR and event.version == "1"
    assert d["commit"] == outcome["good_ci"]["commit"] and d["tolerance"] == 0.0
    assert d["registered_metrics"] and d["registered_metrics"] == d["reproduced_metrics"]
    assert set(d["locks"]) >= {"requirements.lock", "platform.lock"}
    assert d["model_identical"] is True and d["runner"]
    with acting_as(platform.credentials(REGISTRY)):
        version = MlflowApi(platform.endpoints.mlflow).get("model-versions/get", name=SLUG, version="1")[
            "model_version"
        ]
    version_tags = {t["key"]: t["value"] for t in version.get("tags", [])}
    assert version_tags[tags.REPRODUCED] == "passed" and version_tags[tags.REPRODUCED_BY] == VALIDATOR


def test_someone_without_a_role_may_not_reproduce(demo):
    platform, _ = demo
    result = _reproduce(platform, "manager@example.com")
    assert result.returncode == 2 and "may not reproduce" in result.stderr, result.stderr


def test_corrupted_data_in_the_dvc_remote_fails_naming_the_file(demo):
    platform, outcome = demo
    path = _data_object(platform, outcome)
    original = open(path, "rb").read()
    try:
        with open(path, "wb") as handle:
            handle.write(original[:-40] + b"0,0,0\n")
        result = _reproduce(platform)
    finally:
        with open(path, "wb") as handle:
            handle.write(original)
    assert result.returncode == 1, f"{result.stdout}\n{result.stderr}"
    assert "NOT reproduced" in result.stdout and "(data)" in result.stdout
    event = _last(platform, audit.REPRODUCE_FAILED)
    assert event.details["cause"] == "data" and event.details["data_file"] == path
    assert path in event.details["message"] and "corrupted" in event.details["message"]


def test_a_commit_removed_from_the_remote_fails_naming_the_commit(demo, tmp_path):
    platform, outcome = demo
    repo = platform.data_dir / "git" / f"{SLUG}.git"
    commit = outcome["good_ci"]["commit"]
    backup = tmp_path / "backup.git"
    shutil.copytree(repo, backup, symlinks=True)
    try:
        refs = subprocess.run(["git", "--git-dir", str(repo), "for-each-ref", "--format=%(refname)"],
                              capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
        for ref in refs:
            subprocess.run(["git", "--git-dir", str(repo), "update-ref", "-d", ref], check=True)
        for args in (["reflog", "expire", "--expire=now", "--all"], ["gc", "--prune=now", "--quiet"]):
            subprocess.run(["git", "--git-dir", str(repo), *args], check=True)
        gone = subprocess.run(["git", "--git-dir", str(repo), "cat-file", "-e", commit])
        assert gone.returncode != 0, "the commit is still in the remote"
        result = _reproduce(platform)
    finally:
        shutil.rmtree(repo)
        shutil.copytree(backup, repo, symlinks=True)
    assert result.returncode == 1, f"{result.stdout}\n{result.stderr}"
    assert f"commit {commit[:12]}" in result.stdout and "(commit)" in result.stdout
    event = _last(platform, audit.REPRODUCE_FAILED)
    assert event.details["cause"] == "commit" and event.details["missing_commit"] == commit


def test_audit_reproduce_champions_re_verifies_every_champion(demo):
    platform, _ = demo
    result = platform.cli_as(AUDITOR, "audit", "reproduce", "--champions", timeout=900)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "1 of 1 champion(s) reproduced" in result.stdout
    assert _last(platform, audit.REPRODUCE_PASSED).actor == AUDITOR


def test_the_pytorch_flavour_reproduces_on_cpu(demo, tmp_path):
    """A PyTorch project pushed through the platform's CI: its version rebuilds to the same metrics
    and the same model file (seeded, one thread, CPU)."""
    import yaml
    from shipyard.ci.runs import wait_for_ci_run
    from shipyard.identity import RUNNER
    from shipyard.local.demo import DEMO_CARD, _pusher_env

    platform, _ = demo
    slug = "torch-repro"
    made = platform.cli("new", "Torch Repro", "--team", TEAM, "--flavour", "pytorch", "--no-input",
                        "--output-dir", str(tmp_path), "--spec", str(platform.spec_path),
                        "--data-dir", str(platform.data_dir), "--provision", timeout=600)  # fmt: skip
    assert made.returncode == 0, f"{made.stdout[-3000:]}\n{made.stderr[-3000:]}"
    project = tmp_path / slug
    (project / "model_card.yaml").write_text(yaml.safe_dump(DEMO_CARD, sort_keys=False))
    identity = ["-c", "user.name=Torch", "-c", "user.email=data-scientist@example.com"]
    for args in (["add", "-A"], [*identity, "commit", "-q", "-m", "torch model"]):
        subprocess.run(["git", *args], cwd=project, check=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True
    ).stdout.strip()
    env = {**os.environ, **platform.env, **_pusher_env(platform.spec, platform.data_dir)}
    subprocess.run(["git", "push", "-q", "-u", "origin", "main"], cwd=project, check=True, env=env)
    with acting_as(platform.credentials(RUNNER)):
        run = wait_for_ci_run(MlflowApi(platform.endpoints.mlflow), slug, commit=sha, timeout=1500)
    assert run.status == "passed", (platform.data_dir / "ci" / "logs" / f"{run.run_id}.log").read_text()[
        -3000:
    ]
    result = platform.cli_as(VALIDATOR, "model", "reproduce", slug, "1", timeout=900)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    events = AuditStore.of(platform.data_dir).events(model=slug, action=audit.REPRODUCE_PASSED)
    d = events[-1].details
    assert "requirements-torch-cpu.lock" in d["locks"] and d["model_identical"] is True
    assert d["registered_metrics"] == d["reproduced_metrics"]
