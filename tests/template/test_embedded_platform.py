"""The whole day one on the real embedded platform (`shipyard up`: MLflow, git remote + CI runner,
Pushgateway, Label Studio): `shipyard new` provisions the project, `git push` runs its `make ci` in the
platform's runner, and `make label-sync` talks to the real Label Studio."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest
import requests
from shipyard import tags
from shipyard.ci.runs import wait_for_ci_run
from shipyard.records import MlflowApi

from tests.fixtures.model_card import write_words

from .conftest import make, project_env
from .test_project_ci import STEPS, commit_all

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_new_push_ci_and_label_sync_on_the_embedded_platform(embedded_platform, tmp_path):
    from mlflow import MlflowClient

    platform = embedded_platform
    new = platform.cli(
        "new", "Platform Demo", "--team", "demo", "--labeling", "--no-input", "-o", str(tmp_path)
    )
    assert new.returncode == 0, new.stdout + new.stderr
    project, slug = tmp_path / "platform-demo", "platform-demo"
    origin = subprocess.run(
        ["git", "remote", "get-url", "origin"], cwd=project, capture_output=True, text=True
    )
    assert origin.stdout.strip().endswith(f"git/{slug}.git")

    write_words(project)  # the model card's own words: the gate refuses a card of placeholders
    head = commit_all(project, "Start from the Shipyard template")
    push = subprocess.run(
        ["git", "push", "-q", "origin", "main"], cwd=project, capture_output=True, text=True
    )
    assert push.returncode == 0, push.stderr
    ci = wait_for_ci_run(MlflowApi(platform.endpoints.mlflow), slug, commit=head, timeout=900)
    log = platform.cli("ci", "logs", ci.run_id).stdout
    assert ci.status == "passed", log[-5000:]
    assert ci.steps == tuple(STEPS)

    client = MlflowClient(platform.endpoints.mlflow)
    experiment = client.get_experiment_by_name(slug)
    assert experiment.tags[tags.LABELING] == "true" and experiment.tags[tags.TEAM] == "demo"
    (train,) = client.search_runs([experiment.experiment_id], f"tags.`{tags.RUN_KIND}` = 'train'")
    assert train.data.tags[tags.CI_RUN_ID] == ci.run_id
    assert train.data.tags[tags.GIT_COMMIT] == head
    assert train.data.tags[tags.INSTANCE_TYPE] == platform.spec.local.instance_type
    assert train.data.tags[tags.LABEL_EXPORT] == "none"  # no labels pulled yet
    assert client.get_registered_model(slug).aliases == {tags.CHALLENGER: "1"}
    metrics = requests.get(f"{platform.endpoints.pushgateway}/metrics", timeout=5).text
    assert f'project="{slug}"' in metrics and "shipyard_drift_share{" in metrics

    # labeling: tasks go to the platform's Label Studio project, a human label comes back
    env = project_env(**platform.endpoints.to_env("demo", slug))
    assert make(project, "data-check", env=env).returncode == 0
    first = make(project, "label-sync", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    from label_studio_sdk import LabelStudio

    ls = LabelStudio(base_url=platform.endpoints.label_studio, api_key=platform.endpoints.label_studio_token)
    (ls_project,) = [p for p in ls.projects.list(title=slug) if p.title == slug]
    task = next(iter(ls.tasks.list(project=ls_project.id)))
    ls.annotations.create(
        id=task.id,
        result=[{"from_name": "label", "to_name": "record", "type": "choices", "value": {"choices": ["0"]}}],
    )
    second = make(project, "label-sync", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    annotations = pd.read_csv(project / "data" / "labels" / "annotations.csv")
    assert annotations.to_dict("records") == [{"row_id": task.data["row_id"], "label": 0.0}]
    export = json.loads((project / "data" / "labels" / "export.json").read_text())
    assert export["count"] == 1 and export["project_id"] == ls_project.id and export["export"] != "none"
