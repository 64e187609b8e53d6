"""Issue #35, item 3 (its registry half): a run of an older commit that finishes after a newer one
(a slow or re-queued run) must not take `challenger` above the version of the newer commit. The
registry compares the commits in the platform's own git remote. Real MLflow with basic-auth, the real
registry service and git; the runner's jobs played as the runner writes them (conftest.py)."""

from __future__ import annotations

import subprocess

import pytest
from mlflow import MlflowClient
from shipyard import tags
from shipyard.identity import ADMIN
from shipyard.identity.session import acting_as
from shipyard.records import MlflowApi

from .conftest import new_project

pytestmark = [pytest.mark.services, pytest.mark.slow]
MEMBER = "analyst@example.com"


def test_a_run_of_an_older_commit_never_takes_challenger(light_platform, tmp_path):
    p = new_project(light_platform)
    older = p.job(tmp_path)  # a commit on main, its job still running
    newer = p.job(tmp_path)  # the next commit on main, a child of the first
    assert p.submit(newer)["outcome"] == "registered"
    late = p.submit(older)
    assert late["outcome"] == "refused", late
    assert any("is older than v1's commit" in r for r in late["verdict"]["reasons"]), late["verdict"]
    with acting_as(light_platform.credentials(ADMIN)):
        aliases = MlflowClient(light_platform.endpoints.mlflow).get_registered_model(p.name).aliases
    assert aliases == {tags.CHALLENGER: "1"}
    # the newest commit itself may be submitted again (a retried submit): not refused as older; the same
    # data, parameters, code and scores as v1, so recorded as unchanged rather than registered twice
    again = p.submit(newer)
    assert again["outcome"] == "unchanged" and again["passed"] and again["version"] == "1", again


def test_the_default_branch_comes_from_the_platforms_remote_not_a_members_tag(light_platform, tmp_path):
    """A member points the experiment's `shipyard.repo` tag at a repository whose HEAD is their feature
    branch: the feature branch's run is still a dry run, never registered."""
    p = new_project(light_platform)
    fake = tmp_path / "fake.git"
    subprocess.run(["git", "init", "-q", "--bare", str(fake)], check=True)
    subprocess.run(["git", "--git-dir", str(fake), "symbolic-ref", "HEAD", "refs/heads/feature"], check=True)
    with acting_as(light_platform.credentials(MEMBER)):
        MlflowApi(light_platform.endpoints.mlflow).set_experiment_tag(p.experiment_id, tags.REPO, str(fake))
    outcome = p.submit(p.job(tmp_path, branch="feature"))
    assert outcome["outcome"] == "dry-run" and outcome["version"] is None, outcome
