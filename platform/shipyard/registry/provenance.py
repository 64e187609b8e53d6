"""Where a submitted run came from, checked against what platform components wrote, never against
what the run (or anyone on the team) says about itself.

On the embedded platform the registry believes a CI run only when:
- the CI runner's own job record (``<data dir>/ci/running/<job>.json``, written by the runner, which
  CI jobs cannot read or write: they run as another Unix user, :mod:`shipyard.ci.sandbox`) names
  that MLflow run, and the job is still running (its ``make ci`` process alive, no result yet);
- the job's commit is on the job's branch of the platform's own bare repo for that project;
- the run's DVC data hash names an object in the team's DVC remote whose bytes have that md5;
- the held-out split is re-derived here from those bytes with the template's split rule and the
  commit's ``params.yaml``/``schema.yaml`` (:func:`held_out`), not taken from the run's upload.
Tags on the MLflow CI run (status, commit, branch, provider, ``user_id``) are claims: a member with EDIT
on the project's experiment can write every one of them.

CI runs of GitHub/GitLab (``shipyard ci start``) cannot be checked this way; the registry refuses
them unless it was started with ``--unverified-hosted-ci``, and then says so in the evidence.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from shipyard.ci.queue import Job
from shipyard.errors import Unverified
from shipyard.records.artifact_files import md5_of

HEX40 = re.compile(r"^[0-9a-f]{40}$")
MD5 = re.compile(r"^[0-9a-f]{32}$")
TARGET, ROW_ID = "target", "row_id"  # the evaluation data's label column; the template's row id
UNVERIFIED_HOSTED = "unverified: hosted CI (the registry was started with --unverified-hosted-ci)"
UNVERIFIED_DRY_RUN = "unverified: a branch's dry run on the run's own split (its data is not pushed)"


def unverified(provider: str) -> str:
    """What the evidence says when the registry could not check the run against its own records."""
    return UNVERIFIED_HOSTED if provider in ("github", "gitlab") else UNVERIFIED_DRY_RUN


@dataclass(frozen=True)
class Provenance:
    job: Job
    repo: Path
    data: Path  # the DVC object the data hash names, its md5 checked

    def as_dict(self) -> dict:
        return {
            "verified_by": f"CI runner job {self.job.id}",
            "repo": str(self.repo),
            "data_object": str(self.data),
        }


def runner_job(data_dir: Path, ci_run_id: str) -> Job:
    """The runner's record of the job that CI run belongs to, while it runs."""
    ci = data_dir / "ci"
    for folder, running in (("running", True), ("done", False)):
        for path in sorted((ci / folder).glob("*.json")):
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if not isinstance(data, dict) or data.get("run_id") != ci_run_id:
                continue
            job = Job(**{k: v for k, v in data.items() if k in Job.__dataclass_fields__})
            if not running or job.result is not None:
                raise Unverified(
                    f"CI run {ci_run_id} has finished (runner job {job.id}): submit from its job"
                )
            if not _alive(job.pid, job.pid_start):
                raise Unverified(f"CI run {ci_run_id}: its job {job.id} is not running (no live `make ci`)")
            return job
    raise Unverified(
        f"CI run {ci_run_id} was not started by the platform's CI runner (no runner job records it)"
    )


def check_commit(data_dir: Path, project: str, commit: str, branch: str) -> Path:
    """The commit is on ``branch`` of the platform's bare repo of ``project``; returns the repo."""
    repo = data_dir.resolve() / "git" / f"{project}.git"
    if not HEX40.match(commit or ""):
        raise Unverified(f"commit {commit!r} is not a full git commit id (40 hex digits)")
    if not repo.is_dir():
        raise Unverified(f"project {project!r} has no git remote on this platform ({repo})")
    if _git(repo, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise Unverified(f"commit {commit[:12]} is not in the platform's git remote of {project!r}")
    if _git(repo, "merge-base", "--is-ancestor", commit, f"refs/heads/{branch}").returncode != 0:
        raise Unverified(f"commit {commit[:12]} is not on branch {branch!r} of the platform's git remote")
    return repo


def newer_registered(repo: Path, commit: str, registered: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The first (version, commit) of ``registered`` whose commit descends from ``commit`` (and is not
    it): ``commit`` is older than a commit a version was already registered from."""
    for version, other in registered:
        if other != commit and HEX40.match(other or ""):
            if _git(repo, "merge-base", "--is-ancestor", commit, other).returncode == 0:
                return version, other
    return None


def dvc_object(remotes: list[Path], md5: str) -> Path:
    """The DVC 3 object of ``md5`` in one of ``remotes`` (``files/md5/ab/cdef...``), its bytes checked."""
    if not MD5.match(md5 or ""):
        raise Unverified(f"data hash {md5!r} is not a DVC md5 (32 hex digits)")
    for root in remotes:
        path = root / "files" / "md5" / md5[:2] / md5[2:]
        if path.is_file():
            digest = md5_of(path)
            if digest != md5:
                raise Unverified(f"the DVC object {md5} in the team's remote does not hash to its name")
            return path
    raise Unverified(f"data hash {md5} names no data in the team's DVC remote (was `dvc push` run?)")


def held_out(repo: Path, commit: str, data: Path):
    """The held-out split of ``data`` (the DVC object) by the commit's ``params.yaml``/``schema.yaml``,
    read as data: no project code runs here."""
    import pandas as pd
    import yaml

    try:
        params = yaml.safe_load(_show(repo, commit, "params.yaml")) or {}
        schema = yaml.safe_load(_show(repo, commit, "schema.yaml")) or {}
        rule = SplitRule(
            str(params.get("task", "classification")),
            float(params["featurize"]["test_size"]),
            int(params["featurize"]["seed"]),
            dict(schema.get("columns") or {}),
            str((schema.get("target") or {}).get("name") or TARGET),
        )
    except (KeyError, TypeError, ValueError, AttributeError, yaml.YAMLError) as exc:
        raise Unverified(
            f"commit {commit[:12]}: params.yaml/schema.yaml give no split rule ({exc})"
        ) from None
    try:
        frame = pd.read_csv(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unverified(f"the DVC data {data.name[:10]} is not a CSV: {exc}") from None
    # the registry's scoring reads the label from `target`, whatever schema.yaml names it
    return split(frame, rule)[1].rename(columns={rule.target: TARGET})


@dataclass(frozen=True)
class SplitRule:
    task: str
    test_size: float
    seed: int
    columns: dict  # schema.yaml's columns: categorical ones are one-hot encoded
    target: str = TARGET  # schema.yaml's target.name: the label column


def split(frame, rule: SplitRule):
    """(train, test) as the template's ``featurize`` stage makes them: categorical columns one-hot,
    a split (stratified for classification) with the rule's test size and seed, both parts
    standardised with the training part's statistics."""
    from sklearn.model_selection import train_test_split

    if rule.target not in frame.columns:
        raise Unverified(f"the data has no {rule.target!r} column (schema.yaml target.name)")
    frame = frame.copy()
    for name, col in rule.columns.items():
        if isinstance(col, dict) and col.get("type") == "category" and name in frame.columns:
            for value in col.get("allowed") or []:
                frame[f"{name}={value}"] = (frame[name].astype(str) == str(value)).astype(float)
            frame = frame.drop(columns=[name])
    stratify = frame[rule.target] if rule.task == "classification" else None
    try:
        train, test = train_test_split(
            frame, test_size=rule.test_size, random_state=rule.seed, stratify=stratify
        )
    except ValueError as exc:
        raise Unverified(f"the held-out split cannot be made from the data: {exc}") from None
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    features = train.drop(columns=[rule.target, ROW_ID], errors="ignore")
    std = features.std().replace(0, 1.0)
    scaled = []
    for part in (train, test):
        part = part.copy()
        for column in features.columns:
            part[column] = (part[column] - float(features[column].mean())) / float(std[column])
        scaled.append(part)
    return scaled[0], scaled[1]


def csv_sha256(frame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return hashlib.sha256(buffer.getvalue().encode()).hexdigest()


def _alive(pid: int | None, started: str | None) -> bool:
    """The process ``pid`` runs and is the one the runner started (same kernel start time)."""
    if not pid:
        return False
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = text[text.rfind(")") + 2 :].split()  # from 'state' (field 3) on
    return fields[0] not in ("Z", "X") and (started is None or fields[19] == started)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True, text=True, timeout=60)


def _show(repo: Path, commit: str, path: str) -> str:
    proc = _git(repo, "show", f"{commit}:{path}")
    if proc.returncode != 0:
        raise ValueError(f"no {path} at this commit")
    return proc.stdout
