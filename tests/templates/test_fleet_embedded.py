"""The fleet journey on the real embedded platform (MLflow, git remotes, CI runner; no Label Studio):
two projects from template 1.1.0, a new release, `shipyard template status` shows both behind, then
`shipyard project update --all` pushes the clean one's update branch (whose CI passes) and refuses the
one whose params.yaml conflicts, by name."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from shipyard import tags
from shipyard.ci.runs import wait_for_ci_run
from shipyard.records import MlflowApi

from tests.template.conftest import TEMPLATE
from tests.template.test_project_ci import commit_all

from ..fixtures.embedded_platform import start_platform
from ..fixtures.model_card import write_words
from .test_fleet_update import edit, set_version

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    started = start_platform(tmp_path_factory.mktemp("fleet-platform"), label_studio=False, portal=False)
    try:
        yield started
    finally:
        started.down()


def test_status_and_update_all_across_the_fleet(platform, tmp_path):
    from mlflow import MlflowClient

    heads = {}
    for name, slug in (("Fleet Clean", "fleet-clean"), ("Fleet Tuned", "fleet-tuned")):
        new = platform.cli("new", name, "--team", "demo", "--no-input", "-o", str(tmp_path))
        assert new.returncode == 0, new.stdout + new.stderr
        assert "template 1.1.0" in new.stdout
        experiment = MlflowClient(platform.endpoints.mlflow).get_experiment_by_name(slug)
        assert experiment.tags[tags.TEMPLATE_VERSION] == "1.1.0"
        project = tmp_path / slug
        if slug == "fleet-tuned":  # the data scientist tunes what the next release also changes
            edit(project / "params.yaml", "n_estimators: 100", "n_estimators: 300")
        write_words(project)  # the model card's own words: the gate refuses a card of placeholders
        heads[slug] = commit_all(project, "Start [skip ci]")  # only the update branch's CI is checked
        push = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=project, capture_output=True)
        assert push.returncode == 0, push.stderr

    template = tmp_path / "template"
    shutil.copytree(TEMPLATE, template, ignore=shutil.ignore_patterns("__pycache__"))
    set_version(template, "1.2.0")
    inner = template / "{{cookiecutter.project_slug}}"
    edit(inner / "Makefile", "clean:", "# from template 1.2.0\nclean:")
    edit(inner / "params.yaml", "n_estimators: 100", "n_estimators: 150")
    published = platform.cli("template", "publish", "--template", str(template))
    assert published.returncode == 0, published.stderr

    status = platform.cli("template", "status", "--json")
    assert status.returncode == 0, status.stderr
    rows = {r["project"]: r for r in json.loads(status.stdout)}
    for slug in heads:
        assert (rows[slug]["version"], rows[slug]["latest"], rows[slug]["behind"]) == ("1.1.0", "1.2.0", 1)
    table = platform.cli("template", "status").stdout
    assert "fleet-clean" in table and "behind by 1" in table

    update = platform.cli("project", "update", "--all", "--json")
    assert update.returncode == 1  # one project was refused
    results = {r["project"]: r for r in json.loads(update.stdout)}
    assert results["fleet-tuned"]["status"] == "conflict" and results["fleet-tuned"]["files"] == [
        "params.yaml"
    ]
    assert results["fleet-clean"]["status"] == "updated", results["fleet-clean"]["message"]
    human = platform.cli("project", "update", "fleet-tuned")
    assert (
        human.returncode == 1 and "conflict: params.yaml" in human.stdout and "Traceback" not in human.stderr
    )

    repo = platform.data_dir / "git" / "fleet-clean.git"
    branch_head = subprocess.run(
        ["git", "--git-dir", str(repo), "rev-parse", "template-update-1.2.0"], capture_output=True, text=True
    ).stdout.strip()
    assert branch_head
    ci = wait_for_ci_run(MlflowApi(platform.endpoints.mlflow), "fleet-clean", commit=branch_head, timeout=900)
    assert ci.status == "passed", platform.cli("ci", "logs", ci.run_id).stdout[-3000:]
    assert ci.branch == "template-update-1.2.0"


def test_drift_from_scoring_data_fires_the_tier_alert_in_the_embedded_prometheus(platform, tmp_path):
    """`make monitor` on a shifted batch pushes drift labelled with the project's risk tier; the rule
    the platform generated from the spec (shipyard.alerts) fires in the real embedded Prometheus."""
    import time

    import requests
    import yaml
    from shipyard.alerts import DRIFT_ALERT, RULE_GROUP

    from tests.template.conftest import bake, git_init, make, project_env

    prometheus = platform.endpoints.prometheus
    groups = requests.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    (group,) = [g for g in groups if g["name"] == RULE_GROUP]
    assert len(group["rules"]) == len(platform.spec.governance.risk_tiers)

    project = bake(tmp_path, project_name="Drift Alarm", risk_tier="high")
    git_init(project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["monitor"]["simulate_shift"] = 3.0  # the injected drift: every feature moved 3 std
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = project_env(SHIPYARD_PUSHGATEWAY_URL=platform.endpoints.pushgateway)
    featurized = subprocess.run(
        ["python", "-m", "dvc", "repro", "featurize"], cwd=project, env=env, capture_output=True, text=True
    )  # plain `dvc repro`, no make
    assert featurized.returncode == 0, featurized.stdout + featurized.stderr
    # a batch `make predict` scored (production data): only production drift raises the tier's alert,
    # never CI's held-out check
    (project / "reports").mkdir(exist_ok=True)
    shutil.copy(project / "data" / "features" / "test.csv", project / "reports" / "scoring-features.csv")
    monitored = make(project, "monitor", env=env)
    assert monitored.returncode == 0, monitored.stdout + monitored.stderr
    assert "WARNING: above max_drift_share" in monitored.stdout

    limit = platform.spec.governance.risk_tiers["high"].max_drift_share
    deadline, firing = time.monotonic() + 120, []
    while time.monotonic() < deadline and not firing:
        alerts = requests.get(f"{prometheus}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
        firing = [
            a
            for a in alerts
            if a["labels"].get("alertname") == DRIFT_ALERT
            and a["labels"].get("project") == "drift-alarm"
            and a["state"] == "firing"
        ]
        time.sleep(2)
    assert firing, f"no firing {DRIFT_ALERT} for drift-alarm: {alerts}"
    (alert,) = firing
    assert alert["labels"]["risk_tier"] == "high" and float(alert["value"]) > limit
    assert f"{limit:.0%}" in alert["annotations"]["summary"]
