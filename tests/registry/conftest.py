"""Helpers for the registry tests on the light embedded platform (``light_platform``,
tests/fixtures/embedded_platform.py) that play a CI job for real: a CI run recorded as the runner, a
model trained and logged with the project's CI credential."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
from shipyard import tags
from shipyard.ci.runs import start_ci_run
from shipyard.identity import RUNNER, ci_account
from shipyard.identity.session import acting_as
from shipyard.projects import provision_project
from shipyard.records import MlflowApi
from shipyard.registry import client as registry
from shipyard.registry.flavours import import_skops
from shipyard.registry.names import EVAL_ARTIFACT, EVAL_HASH

from tests.fixtures.embedded_platform import EmbeddedPlatform


def _data():
    # scikit-learn only where a job trains: every xdist worker collects this file (~1 s of import each)
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x.columns = [f"f{i}" for i in range(x.shape[1])]
    return train_test_split(x, y, test_size=0.25, random_state=0)


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

    @property
    def ci(self):
        return self.platform.credentials(ci_account(self.name))

    def job(
        self, tmp: Path, depth: int = 6, branch: str = "main", noise: float = 0.0, extra_tags=None,
        log_model=None,
    ) -> Job:  # fmt: skip
        """A CI run (as the runner) and a training run (as the project's CI credential); ``log_model``
        (the fitted tree) logs something else as the run's model."""
        uri = self.platform.endpoints.mlflow
        commit = uuid.uuid4().hex + "0" * 8
        with acting_as(self.platform.credentials(RUNNER)):
            ci_run_id = start_ci_run(MlflowApi(uri), self.name, commit, branch, "shipyard", status="running")
        import sklearn
        from sklearn.tree import DecisionTreeClassifier

        x_train, x_test, y_train, y_test = _data()
        if noise:
            rng = np.random.default_rng(0)
            flip = rng.random(len(y_train)) < noise
            y_train = y_train.where(~flip, 1 - y_train)
        model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(x_train, y_train)
        eval_file = tmp / uuid.uuid4().hex[:8] / "test.csv"  # the name the platform reads
        eval_file.parent.mkdir(parents=True)
        x_test.assign(target=y_test.values).to_csv(eval_file, index=False)
        run_tags = {
            tags.RUN_KIND: tags.RUN_KIND_TRAIN,
            tags.PROJECT: self.name,
            tags.TEAM: self.team,
            tags.CI_RUN_ID: ci_run_id,
            tags.GIT_COMMIT: commit,
            tags.DATA_HASH: hashlib.md5(eval_file.read_bytes()).hexdigest(),
            **(extra_tags or {}),
        }
        with acting_as(self.ci):
            mlflow.set_tracking_uri(uri)
            with mlflow.start_run(experiment_id=self.experiment_id, tags=run_tags) as run:
                mlflow.log_param("task", "classification")
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
                mlflow.set_tag(EVAL_HASH, hashlib.sha256(eval_file.read_bytes()).hexdigest())
        return Job(self.name, ci_run_id, run.info.run_id, eval_file, commit)

    def submit(self, job: Job, creds=None) -> dict:
        return registry.submit(self.platform.endpoints.registry, creds or self.ci, job.run_id)

    def act(self, who: str, version, action: str, note: str = "") -> dict:
        creds = self.platform.credentials(who)
        return registry.version_action(
            self.platform.endpoints.registry, creds, self.name, int(version), action, note
        )


def new_project(platform: EmbeddedPlatform, team: str = "demo", tier: str = "low") -> Project:
    name = f"p{uuid.uuid4().hex[:8]}"
    info = provision_project(platform.spec, platform.endpoints, platform.data_dir, name, team, risk_tier=tier)
    return Project(platform, name, team, info.experiment_id)
