"""`shipyard ci start/finish` (what GitHub/GitLab pipelines call) against a real MLflow server (the
embedded platform's, shared with the other suites), and provisioning a project where no embedded git
remote exists (as for a cluster platform's MLflow)."""

from __future__ import annotations

import json

import pytest
from mlflow.tracking import MlflowClient
from shipyard import tags
from shipyard.ci import list_ci_runs, wait_for_ci_run
from shipyard.errors import UserError
from shipyard.platform.endpoints import Endpoints
from shipyard.projects import provision_project
from shipyard.records import MlflowApi
from shipyard.spec import load_spec

from ..conftest import REPO, run_cli

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def project(light_platform):
    spec = load_spec(REPO / "platform.yaml")
    endpoints = Endpoints(platform="kubernetes", mlflow=light_platform.endpoints.mlflow)
    info = provision_project(spec, endpoints, None, "fraud-gh", "risk", risk_tier="high")
    assert info.repo_path is None and info.created
    return info


def test_provisioning_outside_the_embedded_platform_is_idempotent(light_platform, project):
    spec = load_spec(REPO / "platform.yaml")
    endpoints = Endpoints(platform="kubernetes", mlflow=light_platform.endpoints.mlflow)
    again = provision_project(spec, endpoints, None, "fraud-gh", "risk", risk_tier="high")
    assert not again.created and again.experiment_id == project.experiment_id
    exp = MlflowClient(light_platform.endpoints.mlflow).get_experiment(project.experiment_id)
    assert exp.tags[tags.RISK_TIER] == "high" and exp.tags[tags.OWNER] == "risk-lead@example.com"
    with pytest.raises(UserError, match="known teams: demo, risk"):
        provision_project(spec, endpoints, None, "other", "nobody")
    with pytest.raises(UserError, match="not a slug"):
        provision_project(spec, endpoints, None, "Fraud GH", "risk")


def test_ci_start_and_finish_record_a_github_run(light_platform, project):
    env = {"MLFLOW_TRACKING_URI": light_platform.endpoints.mlflow}
    start = run_cli("ci", "start", "--project", "fraud-gh", "--commit", "a1b2c3d4e5", "--branch", "feature/x",
                    "--provider", "github", env=env)  # fmt: skip
    assert start.returncode == 0, start.stderr
    run_id = start.stdout.strip()
    assert [r.status for r in list_ci_runs(MlflowApi(light_platform.endpoints.mlflow), "fraud-gh")] == [
        "running"
    ]
    finish = run_cli("ci", "finish", run_id, "--status", "failed", "--failed-step", "test",
                     "--steps", "lint,test", env=env)  # fmt: skip
    assert finish.returncode == 0, finish.stderr
    run = wait_for_ci_run(MlflowApi(light_platform.endpoints.mlflow), "fraud-gh", run_id=run_id, timeout=10)
    assert (run.status, run.provider, run.branch, run.commit) == (
        "failed",
        "github",
        "feature/x",
        "a1b2c3d4e5",
    )
    assert run.steps == ("lint", "test") and run.failed_step == "test"
    mlflow_run = MlflowClient(light_platform.endpoints.mlflow).get_run(run_id)
    assert mlflow_run.info.status == "FAILED" and mlflow_run.data.tags[tags.TEAM] == "risk"
    listed = json.loads(run_cli("ci", "list", "--project", "fraud-gh", "--json", env=env).stdout)
    assert listed[0]["run_id"] == run_id and listed[0]["failed_step"] == "test"


def test_ci_start_and_finish_reject_bad_input(light_platform, project):
    env = {"MLFLOW_TRACKING_URI": light_platform.endpoints.mlflow}
    unknown = run_cli("ci", "start", "--project", "nope", "--commit", "c", "--branch", "b", "--provider",
                      "gitlab", env=env)  # fmt: skip
    assert unknown.returncode == 2 and "shipyard project create nope" in unknown.stderr
    provider = run_cli("ci", "start", "--project", "fraud-gh", "--commit", "c", "--branch", "b", "--provider",
                       "jenkins", env=env)  # fmt: skip
    assert provider.returncode == 2 and "use shipyard, github or gitlab" in provider.stderr
    status = run_cli("ci", "finish", "0" * 32, "--status", "done", env=env)
    assert status.returncode == 2 and "passed, failed, interrupted" in status.stderr
    missing = run_cli("ci", "finish", "0" * 32, "--status", "passed", env=env)
    assert missing.returncode == 2 and "not in MLflow" in missing.stderr
