"""A reproduction's parts without a platform: the metric comparison, the locks against the runner's
environment, which stages run again, and the causes named when the commit or the data is gone."""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from shipyard.errors import NotReproduced
from shipyard.registry import reproduce
from shipyard.registry import reproduce_job as job
from shipyard.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
DVC_YAML = """stages:
  prepare: {cmd: x, outs: [data/prepared/dataset.csv]}
  featurize: {cmd: x, deps: [data/prepared/dataset.csv], outs: [data/features]}
  train: {cmd: x, outs: [models]}
  evaluate:
    cmd: x
    metrics: [{metrics/eval.json: {cache: false}}]
"""


def test_metrics_within_tolerance_pass_and_each_miss_is_named_with_its_distance():
    registered = {"accuracy": 0.95, "f1": 0.9}
    assert reproduce.compare(registered, {"accuracy": 0.95, "f1": 0.9}, 0.0) == []
    assert reproduce.compare(registered, {"accuracy": 0.94, "f1": 0.905}, 0.01) == []
    problems = reproduce.compare(registered, {"accuracy": 0.93}, 0.01)
    assert problems == [
        "accuracy: registered 0.95, reproduced 0.93 (off by -0.02; tolerance 0.01)",
        "f1: registered 0.9, not produced by the reproduction",
    ]


def test_the_stages_after_the_data_run_again_and_their_metrics_are_read(tmp_path):
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    stages, every = job.stages_after(tmp_path, "data/prepared/dataset.csv")
    assert stages == ["featurize", "train", "evaluate"]
    assert job.stages_after(tmp_path, "data/raw/other.csv")[0] == list(every)  # nothing writes it: all
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "eval.json").write_text('{"accuracy": 0.9, "note": "x"}')
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model.joblib").write_bytes(b"weights")
    (tmp_path / "models" / "run.json").write_text('{"run_id": "differs on every run"}')
    assert job.read_metrics(tmp_path, every) == {"accuracy": 0.9}
    assert job.model_files(tmp_path, every) == {"models/model.joblib": hashlib.md5(b"weights").hexdigest()}


def _locks(folder: Path, requirements: str) -> None:
    (folder / "requirements.lock").write_text(requirements)
    (folder / "platform.lock").write_text("shipyard==0.0.1 \\\n    --hash=sha256:00\n")


def test_locks_are_hashed_and_a_pin_the_runner_lacks_names_the_package(tmp_path):
    pyyaml = md.version("pyyaml")
    _locks(tmp_path, f"pyyaml=={pyyaml} \\\n    --hash=sha256:ab\n")
    hashes, notes = job.check_locks(tmp_path, flavour_torch=False)
    assert (
        hashes["requirements.lock"]
        == hashlib.sha256((tmp_path / "requirements.lock").read_bytes()).hexdigest()
    )
    assert set(hashes) == {"requirements.lock", "platform.lock"} and "platform.lock pins shipyard" in notes[0]
    _locks(tmp_path, "pyyaml==0.0.1\nno-such-package-here==1.0\n")
    with pytest.raises(NotReproduced) as bad:
        job.check_locks(tmp_path, flavour_torch=False)
    assert bad.value.cause == "lock"
    assert "pyyaml==0.0.1 (runner has" in bad.value.message
    assert "no-such-package-here==1.0 (not installed)" in bad.value.message
    (tmp_path / "requirements.lock").unlink()
    with pytest.raises(NotReproduced, match="requirements.lock is missing"):
        job.check_locks(tmp_path, flavour_torch=False)


def _registry(tmp_path: Path, spec) -> SimpleNamespace:
    return SimpleNamespace(data_dir=tmp_path, spec=spec)


def test_a_missing_or_corrupted_data_object_names_the_file(tmp_path):
    spec = load_spec(REPO / "platform.yaml")
    data = b"a,target\n1,0\n"
    md5 = hashlib.md5(data).hexdigest()
    t = reproduce.Target("m", "1", "m", "demo", "low", "c" * 40, md5, "r", 0.0)
    path = tmp_path / "dvc-remote" / "demo" / "m" / "files" / "md5" / md5[:2] / md5[2:]
    with pytest.raises(NotReproduced, match="missing from the team's DVC remote") as missing:
        reproduce._data_object(_registry(tmp_path, spec), t)
    assert missing.value.cause == "data" and missing.value.details["data_file"] == str(path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"a,target\n1,1\n")
    with pytest.raises(NotReproduced, match=f"file {path} is corrupted"):
        reproduce._data_object(_registry(tmp_path, spec), t)
    path.write_bytes(data)
    assert reproduce._data_object(_registry(tmp_path, spec), t) == path


def test_a_commit_not_in_the_remote_is_named(tmp_path):
    repo = tmp_path / "git" / "m.git"
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    t = reproduce.Target("m", "1", "m", "demo", "low", "ab" * 20, "0" * 32, "r", 0.0)
    with pytest.raises(
        NotReproduced, match=f"commit {'ab' * 6} of m v1 is not in the platform's git"
    ) as gone:
        reproduce._rebuild(_registry(tmp_path, load_spec(REPO / "platform.yaml")), t, log=None)
    assert gone.value.cause == "commit" and gone.value.details["missing_commit"] == "ab" * 20


def test_who_may_reproduce():
    spec = load_spec(REPO / "platform.yaml")
    assert reproduce.may_reproduce(spec, "validator@example.com", "demo")
    assert reproduce.may_reproduce(spec, "auditor@example.com", "demo")
    assert reproduce.may_reproduce(spec, "platform-admin@example.com", "demo")
    assert not reproduce.may_reproduce(spec, "manager@example.com", "demo")
    assert not reproduce.may_reproduce(spec, "stranger@example.com", "demo")


def test_the_tier_tolerance_defaults_to_zero():
    spec = load_spec(REPO / "platform.yaml")
    assert all(t.reproduce_tolerance == 0.0 for t in spec.governance.risk_tiers.values())


def test_the_data_goes_inside_the_checkout_only(tmp_path):
    src, obj = tmp_path / "src", tmp_path / "obj"
    src.mkdir()
    obj.write_text("a,target\n")
    job.place_data(obj, src, "data/prepared/dataset.csv")
    assert (src / "data" / "prepared" / "dataset.csv").read_text() == "a,target\n"
    (src / "out").symlink_to(tmp_path)
    for bad in ("../escape.csv", "/tmp/x.csv", "out/escape.csv"):
        with pytest.raises(NotReproduced, match="checkout"):
            job.place_data(obj, src, bad)
    assert not (tmp_path / "escape.csv").exists()
