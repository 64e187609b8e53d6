"""Branch-aware CI with a real MLflow server: the default branch registers a gated model; a feature
branch's `make ci` runs the gate as a dry run, prints the metrics against the champion, and publishes
nothing (no data pushed, no version, no alias moved, no gate result recorded)."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from shipyard import tags

from tests.fixtures.registry_service import start_registry

from .conftest import bake, hosted_ci_job, make, project_env
from .test_project_ci import commit_all, steps_run

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_a_feature_branch_registers_nothing_and_prints_the_diff_against_the_champion(
    tmp_path, mlflow_server, cli, request
):
    from mlflow import MlflowClient

    project = bake(tmp_path / "work", project_name="Branch CI")
    slug = project.name
    ci_run_id, _ = hosted_ci_job(cli, project, mlflow_server.url, "low")
    registry = start_registry(mlflow_server.url, tmp_path / "platform-data")
    request.addfinalizer(registry.stop)
    remote = tmp_path / "dvc-remote"
    env = project_env(MLFLOW_TRACKING_URI=mlflow_server.url, SHIPYARD_DVC_REMOTE=str(remote),
                      SHIPYARD_REGISTRY_URL=registry.url, MLFLOW_TRACKING_USERNAME=f"ci-{slug}",
                      MLFLOW_TRACKING_PASSWORD="unused",  # this MLflow has no auth (tests/registry has)
                      SHIPYARD_CI_RUN_ID=ci_run_id)  # fmt: skip

    # the default branch's CI: the platform registers the gated model as v1; governance makes it champion
    main = make(project, "data-check", "repro", "gate", "register", env=env)
    assert main.returncode == 0, main.stdout[-3000:] + main.stderr[-3000:]
    client = MlflowClient(mlflow_server.url)
    client.set_registered_model_alias(slug, tags.CHAMPION, "1")

    subprocess.run(["git", "checkout", "-q", "-b", "feature/smaller"], cwd=project, check=True)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"].update(n_estimators=3, max_depth=2)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    commit = commit_all(project, "try a smaller forest")
    # the branch's own CI run (the workflow's first step): the platform's gate dry-runs its model too
    branch_args = [
        "--project",
        slug,
        "--commit",
        commit,
        "--branch",
        "feature/smaller",
        "--provider",
        "github",
    ]
    started = cli("ci", "start", *branch_args, env={"MLFLOW_TRACKING_URI": mlflow_server.url})
    assert started.returncode == 0, started.stderr
    env["SHIPYARD_CI_RUN_ID"] = started.stdout.strip().splitlines()[-1]
    feature = make(project, "ci", env=env)
    out = feature.stdout
    assert steps_run(out) == ["lint", "test", "data-check", "repro", "gate-dry-run"], out[-3000:]
    assert "gate DRY RUN on feature/smaller" in out and "(nothing registered or published)" in out
    assert "metrics against champion v1:" in out
    diff = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  f1 ")}
    # the version's own run is the registry's copy of the files; the training run is in its tag
    trained = client.get_model_version(slug, "1").tags[tags.MODEL_RUN_ID]
    champion_f1 = client.get_run(trained).data.metrics["f1"]
    assert f"{champion_f1:.4f}" in diff["f1"]
    # the platform's dry run is in the audit log: branch, commit, both models' metrics, its verdict
    from shipyard.audit import names as audit
    from shipyard.audit.store import AuditStore

    (dry,) = AuditStore.of(registry.data_dir).events(model=slug, action=audit.SUBMIT_DRY_RUN)
    assert (dry.details["branch"], dry.details["commit"]) == ("feature/smaller", commit)
    assert dry.details["champion_version"] == "1" and dry.details["candidate"]["f1"] >= 0
    both_passed = "would PASS" in out and dry.details["passed"]
    assert feature.returncode == (0 if both_passed else 2), out[-2000:]

    # nothing published from the branch
    assert [v.version for v in client.search_model_versions(f"name = '{slug}'")] == ["1"]
    assert client.get_registered_model(slug).aliases == {tags.CHAMPION: "1", tags.CHALLENGER: "1"}
    experiment = client.get_experiment_by_name(slug)
    at_commit = f"tags.`{tags.GIT_COMMIT}` = '{commit}' and tags.`{tags.RUN_KIND}` = 'train'"
    (run,) = client.search_runs([experiment.experiment_id], at_commit)  # the branch's CI run is there too
    assert tags.GATE_RESULT not in run.data.tags  # a verdict, never a gate result
    assert run.data.tags[tags.GATE_DRY_RUN] == ("passed" if "would PASS" in out else "failed")
    assert not remote.exists() or not any(remote.rglob("*"))
    forced = make(project, "register", env=env)  # and the dry-run run cannot be registered afterwards
    assert forced.returncode != 0 and "it ran the gate as a dry run" in forced.stderr, forced.stderr
    assert [v.version for v in client.search_model_versions(f"name = '{slug}'")] == ["1"]
