"""The default generated project's full `make ci` against real services: a real MLflow server (the
shared fixture), a real DVC remote directory, a real Prometheus Pushgateway. Grafana cannot run here:
`make monitor` provisions its dashboard into a local server speaking Grafana's documented
/api/dashboards/db contract (tests/template/grafana_api.py).

First push: data pushed, a training run with lineage tags, a passed gate, version 1 with `challenger`
registered by the real registry service (this MLflow has no auth: its MLflow-side permissions are
tested in tests/registry). Then v1 is promoted to `champion` and a deliberately worse model is pushed:
the local gate preview stops CI, and `make register` forced anyway is refused by the platform gate.
"""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest
import requests
import yaml
from shipyard import tags

from tests.fixtures.registry_service import start_registry

from .conftest import bake, hosted_ci_job, make, project_env
from .grafana_api import GrafanaApi

pytestmark = [pytest.mark.services, pytest.mark.slow]
STEPS = ["lint", "test", "data-check", "repro", "push-data", "gate", "register", "monitor"]


def steps_run(stdout: str) -> list[str]:
    return [line[4:].strip() for line in stdout.splitlines() if line.startswith("==> ")]


def commit_all(path, message: str) -> str:
    run = lambda *a: subprocess.run(  # noqa: E731
        ["git", "-c", "user.name=DS", "-c", "user.email=ds@example.com", *a], cwd=path, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    run("add", "-A")
    run("commit", "-q", "-m", message)
    return run("rev-parse", "HEAD").stdout.strip()


def test_make_ci_registers_a_gated_model_and_the_gate_stops_a_worse_one(
    tmp_path, mlflow_server, pushgateway, cli, request
):
    from mlflow import MlflowClient

    project = bake(tmp_path / "work", project_name="Churn CI")
    slug = project.name
    remote = tmp_path / "dvc-remote"
    ci_run_id, ci_args = hosted_ci_job(cli, project, mlflow_server.url, "medium")
    head = ci_args[ci_args.index("--commit") + 1]

    registry = start_registry(mlflow_server.url, tmp_path / "platform-data")
    request.addfinalizer(registry.stop)
    with GrafanaApi(token="glsa_test") as grafana:
        env = project_env(
            SHIPYARD_REGISTRY_URL=registry.url,
            MLFLOW_TRACKING_USERNAME=f"ci-{slug}",  # the project's CI credential (MLflow here has no auth)
            MLFLOW_TRACKING_PASSWORD="unused",
            MLFLOW_TRACKING_URI=mlflow_server.url,
            SHIPYARD_DVC_REMOTE=str(remote),
            SHIPYARD_CI_RUN_ID=ci_run_id,
            SHIPYARD_INSTANCE_TYPE="m6i.large",
            SHIPYARD_PUSHGATEWAY_URL=pushgateway,
            GRAFANA_URL=grafana.url,
            GRAFANA_TOKEN="glsa_test",
        )
        first = make(project, "ci", env=env)
        assert first.returncode == 0, f"{first.stdout[-4000:]}\n{first.stderr[-4000:]}"
        assert steps_run(first.stdout) == STEPS
        # Grafana got the model's dashboard, authenticated, querying the contract metrics
        assert len(grafana.dashboards) == 1
        board = grafana.dashboards[0]["dashboard"]
        assert grafana.dashboards[0]["overwrite"] is True
        assert any("shipyard_drift_share" in t["expr"] for p in board["panels"] for t in p["targets"])

    # DVC: the prepared data (by its md5 in dvc.lock) is in the team's remote
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    prepared_md5 = next(
        o["md5"] for o in lock["stages"]["prepare"]["outs"] if o["path"] == "data/prepared/dataset.csv"
    )
    assert (remote / "files" / "md5" / prepared_md5[:2] / prepared_md5[2:]).is_file()

    client = MlflowClient(mlflow_server.url)
    experiment = client.get_experiment_by_name(slug)
    # the platform's provisioned tags win over the project's own shipyard.yaml (risk_tier: low)
    assert experiment.tags[tags.TEAM] == "demo" and experiment.tags[tags.RISK_TIER] == "medium"
    assert "platform records shipyard.risk_tier='medium', shipyard.yaml 'low'" in first.stdout
    train_runs = client.search_runs([experiment.experiment_id], f"tags.`{tags.RUN_KIND}` = 'train'")
    assert len(train_runs) == 1
    run = train_runs[0]
    t = run.data.tags
    assert t[tags.CI_RUN_ID] == ci_run_id
    assert t[tags.GIT_COMMIT] == head
    assert t[tags.DATA_HASH] == prepared_md5  # lineage: the DVC hash of the training data
    assert t[tags.INSTANCE_TYPE] == "m6i.large" and t[tags.GPU_COUNT] == "0"
    assert t[tags.GATE_RESULT] == "passed"
    assert run.data.metrics["accuracy"] > 0.9 and "f1" in run.data.metrics
    assert run.data.params["train.n_estimators"] == "100"
    card = client.download_artifacts(run.info.run_id, "model_card.md", str(tmp_path))
    assert head in open(card).read()

    model = client.get_registered_model(slug)
    assert model.aliases == {tags.CHALLENGER: "1"}
    version = client.get_model_version(slug, "1")
    # registered from the registry's own copy of the files it scored (issue 32): a run of its own
    assert client.get_run(version.run_id).data.tags["shipyard.registry.copy_of"] == run.info.run_id
    assert version.tags[tags.MODEL_RUN_ID] == run.info.run_id
    assert version.tags[tags.DATA_HASH] == prepared_md5
    assert version.tags[tags.GIT_COMMIT] == head
    assert version.tags[tags.GATE_RESULT] == "passed"
    assert version.tags[tags.MODEL_CARD] == "model_card.md"

    metrics = requests.get(f"{pushgateway}/metrics", timeout=5).text
    assert (
        f'shipyard_drift_share{{instance="",job="shipyard_drift",model="{slug}",project="{slug}",'
        'risk_tier="low",source="held_out",team="demo"}' in metrics  # CI's check on the held-out split
    )
    assert (
        f'shipyard_feature_drift{{feature="mean_radius",instance="",job="shipyard_drift",model="{slug}"'
        in metrics
    )

    # Governance promotes v1; then a deliberately worse model (a single stump) is pushed.
    client.set_registered_model_alias(slug, tags.CHAMPION, "1")
    env.pop("GRAFANA_URL")  # the stand-in Grafana above is closed

    # `make predict` scores a sample with the champion and logs a scoring run; `make monitor` then
    # measures drift on the scored batch
    scored = make(project, "predict", env=env)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    predictions = pd.read_csv(project / "reports" / "predictions.csv")
    assert len(predictions) == 100 and set(predictions["prediction"]) <= {0, 1}
    assert predictions["row_id"].is_unique
    (score_run,) = client.search_runs([experiment.experiment_id], f"tags.`{tags.RUN_KIND}` = 'score'")
    assert score_run.data.metrics["rows_scored"] == 100
    assert score_run.data.tags["shipyard.score.model"] == f"models:/{slug}@champion"
    # priced like a training run: the cost report needs the instance type it ran on (else "unpriced")
    train_run = client.search_runs([experiment.experiment_id], f"tags.`{tags.RUN_KIND}` = 'train'")[0]
    assert score_run.data.tags[tags.INSTANCE_TYPE] == train_run.data.tags[tags.INSTANCE_TYPE]
    assert score_run.data.tags[tags.GPU_COUNT] == "0"
    monitored = make(project, "monitor", env=env)
    assert monitored.returncode == 0 and "drift share 0.00 on the scored batch" in monitored.stdout
    # drift per source: a drifting scored batch's alarm survives a later CI check on the held-out split
    params_text = (project / "params.yaml").read_text()
    shifted = yaml.safe_load(params_text)
    shifted["monitor"]["simulate_shift"] = 3
    (project / "params.yaml").write_text(yaml.safe_dump(shifted, sort_keys=False))
    alarm = make(project, "monitor", env=env)
    assert alarm.returncode == 0 and "on the scored batch" in alarm.stdout, alarm.stdout
    (project / "params.yaml").write_text(params_text)
    (project / "reports" / "scoring-features.csv").unlink()  # a CI checkout has no scored batch
    checked = make(project, "monitor", env=env)
    assert checked.returncode == 0 and "drift share 0.00 on the held out" in checked.stdout, checked.stdout
    shares = drift_shares(requests.get(f"{pushgateway}/metrics", timeout=5).text, slug)
    assert shares[tags.DRIFT_SOURCE_HELD_OUT] == 0 and shares[tags.DRIFT_SOURCE_SCORED] > 0.5, shares
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"].update(n_estimators=1, max_depth=1)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    worse_commit = commit_all(project, "try a much smaller model")
    # a new push is a new CI run: the registry accepts a submission only for its CI run's own commit
    ci_args[ci_args.index(head)] = worse_commit
    restarted = cli("ci", "start", *ci_args, env={"MLFLOW_TRACKING_URI": mlflow_server.url})
    assert restarted.returncode == 0, restarted.stderr
    env["SHIPYARD_CI_RUN_ID"] = restarted.stdout.strip().splitlines()[-1]
    second = make(project, "ci", env=env)
    assert second.returncode != 0
    assert steps_run(second.stdout) == STEPS[: STEPS.index("gate") + 1]  # stopped at the gate
    assert "gate FAILED" in second.stdout and "worse than champion v1" in second.stdout

    worse = client.search_runs(
        [experiment.experiment_id],
        f"tags.`{tags.GIT_COMMIT}` = '{worse_commit}' and tags.`{tags.RUN_KIND}` = 'train'",
    )
    assert len(worse) == 1
    assert worse[0].data.tags[tags.GATE_RESULT] == "failed"
    assert "worse than champion v1" in worse[0].data.tags[tags.GATE_REASON]
    assert [v.version for v in client.search_model_versions(f"name = '{slug}'")] == ["1"]
    assert client.get_registered_model(slug).aliases == {tags.CHAMPION: "1", tags.CHALLENGER: "1"}

    # and `make register` on its own: the platform gate scores both models and refuses
    forced = make(project, "register", env=env)
    assert forced.returncode != 0 and "platform gate: FAILED (refused" in forced.stdout, (
        forced.stdout + forced.stderr
    )
    assert "worse than champion v1" in forced.stdout and "on the same data" in forced.stdout
    assert [v.version for v in client.search_model_versions(f"name = '{slug}'")] == ["1"]


def drift_shares(metrics: str, project: str) -> dict[str, float]:
    """source -> shipyard_drift_share of ``project``, from the Pushgateway's exposition text."""
    found = {}
    for line in metrics.splitlines():
        if line.startswith("shipyard_drift_share{") and f'project="{project}"' in line:
            labels, value = line.rsplit(" ", 1)
            source = labels.split('source="', 1)[1].split('"', 1)[0] if 'source="' in labels else ""
            found[source] = float(value)
    return found
