"""The registry's provenance checks one by one (issue #32, attack 1), against a real bare git repo and
files laid out as the CI runner and DVC lay them out; and the platform's split rule against the
template's own `featurize` stage, byte for byte."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
from shipyard.registry import provenance
from shipyard.registry.provenance import SplitRule, Unverified

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_SRC = (
    REPO / "project-template" / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}"
)


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip


@pytest.fixture
def platform_repo(tmp_path) -> tuple[Path, dict[str, str]]:
    """``<data dir>/git/demo.git`` with a commit on main and one on branch ``other`` only."""
    bare = tmp_path / "data" / "git" / "demo.git"
    _git("init", "--bare", "--quiet", "--initial-branch=main", str(bare))
    work = tmp_path / "work"
    _git("init", "--quiet", "-b", "main", str(work))
    (work / "params.yaml").write_text("task: classification\nfeaturize: {test_size: 0.25, seed: 42}\n")
    (work / "schema.yaml").write_text("columns: {}\n")
    _git("add", "-A", cwd=work)
    _git("commit", "--quiet", "-m", "one", cwd=work)
    main = _git("rev-parse", "HEAD", cwd=work)
    _git("checkout", "--quiet", "-b", "other", cwd=work)
    _git("commit", "--quiet", "--allow-empty", "-m", "two", cwd=work)
    other = _git("rev-parse", "HEAD", cwd=work)
    _git("push", "--quiet", str(bare), "main", "other", cwd=work)
    return tmp_path / "data", {"main": main, "other": other}


def test_a_commit_must_be_on_the_branch_of_the_platforms_remote(platform_repo):
    data_dir, commits = platform_repo
    assert provenance.check_commit(data_dir, "demo", commits["main"], "main").name == "demo.git"
    cases = {
        "not-a-commit": "commit 'not-a-commit' is not a full git commit id (40 hex digits)",
        "ab" * 20: f"commit {'ab' * 6} is not in the platform's git remote of 'demo'",
        commits[
            "other"
        ]: f"commit {commits['other'][:12]} is not on branch 'main' of the platform's git remote",
    }
    for commit, reason in cases.items():
        with pytest.raises(Unverified) as info:
            provenance.check_commit(data_dir, "demo", commit, "main")
        assert str(info.value) == reason
    with pytest.raises(Unverified, match="project 'nope' has no git remote"):
        provenance.check_commit(data_dir, "nope", commits["main"], "main")


def test_a_data_hash_must_name_content_in_the_remote_that_hashes_to_it(tmp_path):
    remote = tmp_path / "remote"
    text = b"f0,target\n1,0\n"
    md5 = hashlib.md5(text).hexdigest()
    obj = remote / "files" / "md5" / md5[:2] / md5[2:]
    obj.parent.mkdir(parents=True)
    obj.write_bytes(text)
    assert provenance.dvc_object([tmp_path / "elsewhere", remote], md5) == obj
    with pytest.raises(Unverified, match="data hash 0123456789abcdef0123456789abcdef names no data"):
        provenance.dvc_object([remote], "0123456789abcdef0123456789abcdef")
    with pytest.raises(Unverified, match="is not a DVC md5"):
        provenance.dvc_object([remote], "../../etc/passwd")
    obj.write_bytes(b"f0,target\n1,1\n")  # the object swapped under its name
    with pytest.raises(Unverified, match="does not hash to its name"):
        provenance.dvc_object([remote], md5)


def _record(data_dir: Path, folder: str, run_id: str, **fields) -> None:
    path = data_dir / "ci" / folder / "0001-job.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    job = {"id": "0001-job", "project": "demo", "repo": "r", "commit": "c", "branch": "main",
           "queued_at": 0.0, "run_id": run_id, **fields}  # fmt: skip
    path.write_text(json.dumps(job))


def test_a_ci_run_is_believed_only_while_the_runner_runs_its_job(tmp_path):
    from shipyard.local import process

    with pytest.raises(Unverified, match="run1 was not started by the platform's CI runner"):
        provenance.runner_job(tmp_path, "run1")
    _record(tmp_path, "done", "run1", result={"status": "passed"})
    with pytest.raises(Unverified, match="CI run run1 has finished"):
        provenance.runner_job(tmp_path, "run1")
    dead = subprocess.Popen(["true"])
    dead.wait()
    _record(tmp_path, "running", "run2", pid=dead.pid, pid_start="0")
    with pytest.raises(Unverified, match="its job 0001-job is not running"):
        provenance.runner_job(tmp_path, "run2")
    alive = subprocess.Popen(["sleep", "60"])
    try:
        _record(tmp_path, "running", "run2", pid=alive.pid, pid_start=process.start_time(alive.pid))
        assert provenance.runner_job(tmp_path, "run2").id == "0001-job"
        _record(tmp_path, "running", "run2", pid=alive.pid, pid_start=process.start_time(alive.pid),
                result={"status": "failed"})  # fmt: skip
        with pytest.raises(Unverified, match="has finished"):
            provenance.runner_job(tmp_path, "run2")
    finally:
        alive.kill()


def _template_features(schema: dict):
    """The template's own features.py, with a stand-in for its config module (paths only)."""
    package = types.ModuleType("tplpkg")
    package.__path__ = [str(TEMPLATE_SRC)]
    config = types.ModuleType("tplpkg.config")
    config.ROW_ID = "row_id"
    config.schema = lambda: schema
    config.target = lambda: schema["target"]["name"]
    sys.modules.update({"tplpkg": package, "tplpkg.config": config})
    spec = importlib.util.spec_from_file_location("tplpkg.features", TEMPLATE_SRC / "features.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_platforms_split_is_the_templates_featurize_byte_for_byte(task):
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    # the project's own label name (schema.yaml target.name), not the platform's `target`
    frame = x.iloc[:, :6].assign(city=["paris", "lyon", "nice"] * 189 + ["paris", "lyon"], diagnosis=y.values)
    frame.insert(0, "row_id", range(len(frame)))
    schema = {"columns": {"city": {"type": "category", "allowed": ["paris", "lyon", "nice"]}},
              "target": {"name": "diagnosis"}}  # fmt: skip
    try:
        features = _template_features(schema)
        _train, expected, _scaler = features.featurize(frame, task, 0.25, 42)
    finally:
        for name in ("tplpkg", "tplpkg.config", "tplpkg.features"):
            sys.modules.pop(name, None)
    _train, test = provenance.split(frame, SplitRule(task, 0.25, 42, schema["columns"], "diagnosis"))
    assert test.to_csv(index=False) == expected.to_csv(index=False)
    assert provenance.csv_sha256(test) == hashlib.sha256(expected.to_csv(index=False).encode()).hexdigest()
    assert isinstance(test, pd.DataFrame) and "diagnosis" in test.columns


def test_held_out_names_the_projects_label_target_for_scoring(tmp_path):
    """A project whose schema.yaml names its label `price`: the registry scores on `target`."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "params.yaml").write_text("task: regression\nfeaturize: {test_size: 0.25, seed: 42}\n")
    (work / "schema.yaml").write_text("columns: {sqft: {min: 0}}\ntarget: {name: price, min: 0}\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "x"], check=True)
    head = subprocess.run(["git", "-C", str(work), "rev-parse", "HEAD"], capture_output=True, text=True)
    commit = head.stdout
    data = tmp_path / "data.csv"
    frame = pd.DataFrame({"row_id": range(40), "sqft": range(40), "price": range(0, 400, 10)})
    frame.to_csv(data, index=False)
    test = provenance.held_out(work / ".git", commit.strip(), data)
    assert list(test.columns) == ["row_id", "sqft", "target"] and len(test) == 10
