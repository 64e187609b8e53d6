"""Helpers for the registry tests on the light embedded platform (``light_platform``,
tests/fixtures/embedded_platform.py) that play a CI job for real: a CI run recorded as the runner, a
model trained and logged with the project's CI credential."""

from __future__ import annotations

import atexit
import hashlib
import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from shipyard import tags
from shipyard.ci.queue import CiQueue
from shipyard.ci.queue import Job as QueueJob
from shipyard.ci.runs import start_ci_run
from shipyard.identity import REGISTRY, RUNNER, ci_account
from shipyard.identity.session import acting_as
from shipyard.local import process
from shipyard.projects import provision_project
from shipyard.records import MlflowApi
from shipyard.registry import client as registry
from shipyard.registry.flavours import import_skops
from shipyard.registry.names import EVAL_ARTIFACT, EVAL_HASH
from shipyard.registry.provenance import SplitRule, split

from tests.fixtures.embedded_platform import EmbeddedPlatform
from tests.fixtures.model_card import CARD

PARAMS = "task: classification\nfeaturize:\n  test_size: 0.25\n  seed: 42\n"
SCHEMA = "columns: {}\n"  # numeric columns only: nothing to one-hot encode


def _dataset() -> pd.DataFrame:
    """The prepared dataset a job pushes to the team's DVC remote (the template's data/prepared)."""
    # scikit-learn only where a job trains: every xdist worker collects this file (~1 s of import each)
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x.columns = [f"f{i}" for i in range(x.shape[1])]
    return x.assign(target=y.values)


_SLEEPERS: list[subprocess.Popen] = []  # the stand-ins for each job's `make ci` process


@atexit.register
def _stop_sleepers() -> None:
    for proc in _SLEEPERS:
        proc.kill()


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def push_commit(data_dir: Path, project: str, branch: str, tmp: Path) -> str:
    """A commit (params.yaml, schema.yaml) on ``branch`` of the platform's bare repo, fetched into it
    (a push would run its hook and queue a real CI job)."""
    bare = data_dir.resolve() / "git" / f"{project}.git"
    work = tmp / f"checkout-{uuid.uuid4().hex[:8]}"
    _git("clone", "--quiet", str(bare), str(work))
    has_branch = subprocess.run(["git", "-C", str(work), "rev-parse", "--verify", "-q", f"origin/{branch}"],
                                capture_output=True).returncode == 0  # fmt: skip
    _git("checkout", "--quiet", "-B", branch, *([f"origin/{branch}"] if has_branch else []), cwd=work)
    (work / "params.yaml").write_text(PARAMS)
    (work / "schema.yaml").write_text(SCHEMA)
    (work / "job.txt").write_text(uuid.uuid4().hex)
    _git("add", "-A", cwd=work)
    _git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "job", cwd=work)
    _git("--git-dir", str(bare), "fetch", "--quiet", str(work), f"{branch}:refs/heads/{branch}")
    return _git("rev-parse", "HEAD", cwd=work)


def push_data(data_dir: Path, team: str, project: str, frame: pd.DataFrame, tmp: Path) -> str:
    """The dataset's bytes in the team's DVC remote as `dvc push` stores them (DVC 3: files/md5/ab/cd…)."""
    text = frame.to_csv(index=False).encode()
    md5 = hashlib.md5(text).hexdigest()
    obj = data_dir / "dvc-remote" / team / project / "files" / "md5" / md5[:2] / md5[2:]
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(text)
    return md5


def runner_job(
    data_dir: Path, project: str, commit: str, branch: str, ci_run_id: str, pushed_by: str = ""
) -> None:
    """What the CI runner writes while a job runs (ci/running/<job>.json), its `make ci` alive."""
    sleeper = subprocess.Popen(["sleep", "3600"], start_new_session=True)
    _SLEEPERS.append(sleeper)
    job = QueueJob(f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}", project,
                   str(data_dir / "git" / f"{project}.git"), commit, branch, time.time(), run_id=ci_run_id,
                   pid=sleeper.pid, pid_start=process.start_time(sleeper.pid),
                   pushed_by=pushed_by)  # fmt: skip
    CiQueue(data_dir / "ci").update_running(job)


@dataclass
class Job:
    """What a CI job of one project did: its CI run, the training run, the evaluation file."""

    project: str
    ci_run_id: str
    run_id: str
    eval_file: Path
    commit: str


@dataclass
class Project:
    platform: EmbeddedPlatform
    name: str
    team: str
    experiment_id: str
    proxied: str = ""  # a registry that takes on-behalf-of (``proxied_registry``), where a test uses one

    @property
    def ci(self):
        return self.platform.credentials(ci_account(self.name))

    def job(
        self,
        tmp: Path,
        depth: int = 6,
        branch: str = "main",
        noise: float = 0.0,
        extra_tags=None,
        card: str | None = CARD,
        pushed_by: str = "",
        log_model=None,
    ) -> Job:
        """A CI job played as the runner plays it: a commit on the platform's git remote, the runner's
        job record and its CI run, the dataset in the team's DVC remote; then a model trained (as the
        project's CI credential) on the platform's split of that data; ``log_model`` (the fitted tree)
        logs something else as the run's model."""
        commit, ci_run_id = self.ci_job(tmp, branch, pushed_by)
        from sklearn.tree import DecisionTreeClassifier

        dataset = _dataset()
        data_hash = push_data(self.platform.data_dir, self.team, self.name, dataset, tmp)
        train, test = split(dataset, SplitRule("classification", 0.25, 42, {}))
        x_train, y_train = train.drop(columns=["target"]), train["target"]
        if noise:
            rng = np.random.default_rng(0)
            flip = rng.random(len(y_train)) < noise
            y_train = y_train.where(~flip, 1 - y_train)
        model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(x_train, y_train)
        return self.training_run(
            tmp, ci_run_id, commit, data_hash, model, test, extra_tags, card=card, log_model=log_model
        )

    def ci_job(self, tmp: Path, branch: str = "main", pushed_by: str = "") -> tuple[str, str]:
        """(commit, CI run id): a commit on the platform's remote, its CI run and runner job."""
        data_dir = self.platform.data_dir
        commit = push_commit(data_dir, self.name, branch, tmp)
        with acting_as(self.platform.credentials(RUNNER)):
            ci_run_id = start_ci_run(
                MlflowApi(self.platform.endpoints.mlflow),
                self.name,
                commit,
                branch,
                "shipyard",
                status="running",
            )
        runner_job(data_dir, self.name, commit, branch, ci_run_id, pushed_by)
        return commit, ci_run_id

    def training_run(self, tmp: Path, ci_run_id: str, commit: str, data_hash: str, model, test: pd.DataFrame,
                     extra_tags=None, creds=None, card: str | None = CARD,
                     log_model=None) -> Job:  # fmt: skip
        """The training run a job logs (as ``creds``, default the project's CI credential): the
        model, and ``test`` as its evaluation data."""
        import sklearn

        eval_file = tmp / uuid.uuid4().hex[:8] / "test.csv"  # the name the platform reads
        eval_file.parent.mkdir(parents=True)
        test.to_csv(eval_file, index=False)
        run_tags = {
            tags.RUN_KIND: tags.RUN_KIND_TRAIN,
            tags.PROJECT: self.name,
            tags.TEAM: self.team,
            tags.CI_RUN_ID: ci_run_id,
            tags.GIT_COMMIT: commit,
            tags.DATA_HASH: data_hash,
            **(extra_tags or {}),
        }
        with acting_as(creds or self.ci):
            mlflow.set_tracking_uri(self.platform.endpoints.mlflow)
            with mlflow.start_run(experiment_id=self.experiment_id, tags=run_tags) as run:
                mlflow.log_param("task", "classification")
                if hasattr(model, "get_params"):  # the training parameters, as the template logs them
                    mlflow.log_param("train.max_depth", model.get_params().get("max_depth"))
                # explicit requirements, as the template logs them: MLflow would otherwise infer them
                # in a subprocess that imports the model again (~5-10 s of CPU per job); skops
                # imported as the platform imports it (not torch with it)
                import_skops()
                if log_model is not None:
                    log_model(model)
                else:
                    mlflow.sklearn.log_model(
                        model,
                        name="model",
                        serialization_format="skops",
                        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
                        skops_trusted_types=["sklearn.tree._tree.Tree"],
                    )
                mlflow.log_artifact(str(eval_file), os.path.dirname(EVAL_ARTIFACT))
                if card is not None:  # the card the project's `make gate` renders (tests/fixtures/model_card)
                    mlflow.log_text(card, "model_card.md")
                mlflow.set_tag(EVAL_HASH, hashlib.sha256(eval_file.read_bytes()).hexdigest())
        return Job(self.name, ci_run_id, run.info.run_id, eval_file, commit)

    def submit(self, job: Job, creds=None) -> dict:
        return registry.submit(self.platform.endpoints.registry, creds or self.ci, job.run_id)

    def act(self, who: str, version, action: str, note: str | None = None) -> dict:
        """``note`` (the reason of a promote or retire): a stock one unless the test gives its own."""
        creds = self.platform.credentials(who)
        note = f"{action} in a test" if note is None else note
        return registry.version_action(
            self.platform.endpoints.registry, creds, self.name, int(version), action, note
        )


def new_project(platform: EmbeddedPlatform, team: str = "demo", tier: str = "low") -> Project:
    name = f"p{uuid.uuid4().hex[:8]}"
    info = provision_project(platform.spec, platform.endpoints, platform.data_dir, name, team, risk_tier=tier)
    return Project(platform, name, team, info.experiment_id)


@pytest.fixture(scope="session")
def proxied_registry(light_platform, tmp_path_factory):
    """A second registry service on the light platform's data dir and MLflow, started as a platform
    whose portal runs behind the identity proxy (``--portal-behind-proxy``): the only kind that
    takes X-Shipyard-On-Behalf-Of from the portal's account. Its URL."""
    from tests.fixtures.registry_service import start_registry

    service = start_registry(
        light_platform.endpoints.mlflow, light_platform.data_dir, light_platform.spec_path,
        extra_args=["--portal-behind-proxy"], account=light_platform.credentials(REGISTRY).env(),
        log=tmp_path_factory.mktemp("proxied-registry") / "registry.log",
    )  # fmt: skip
    try:
        yield service.url
    finally:
        service.stop()
