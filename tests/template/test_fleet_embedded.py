"""The fleet journey on the real embedded platform (MLflow, git remotes, CI runner; no Label Studio):
two projects from template 1.0.0, a new release, `shipyard template status` shows both behind, then
`shipyard project update --all` pushes the clean one's update branch (whose CI passes) and refuses the
one whose params.yaml conflicts, by name."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from shipyard import tags
from shipyard.ci.records import wait_for_ci_run

from ..fixtures.embedded_platform import start_platform
from .conftest import TEMPLATE
from .test_fleet_update import edit, set_version
from .test_project_ci import commit_all

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
        assert "template 1.0.0" in new.stdout
        experiment = MlflowClient(platform.endpoints.mlflow).get_experiment_by_name(slug)
        assert experiment.tags[tags.TEMPLATE_VERSION] == "1.0.0"
        project = tmp_path / slug
        if slug == "fleet-tuned":  # the data scientist tunes what the next release also changes
            edit(project / "params.yaml", "n_estimators: 100", "n_estimators: 300")
        heads[slug] = commit_all(project, "Start")
        push = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=project, capture_output=True)
        assert push.returncode == 0, push.stderr

    template = tmp_path / "template"
    shutil.copytree(TEMPLATE, template, ignore=shutil.ignore_patterns("__pycache__"))
    set_version(template, "1.1.0")
    inner = template / "{{cookiecutter.project_slug}}"
    edit(inner / "Makefile", "clean:", "# from template 1.1.0\nclean:")
    edit(inner / "params.yaml", "n_estimators: 100", "n_estimators: 150")
    published = platform.cli("template", "publish", "--template", str(template))
    assert published.returncode == 0, published.stderr

    status = platform.cli("template", "status", "--json")
    assert status.returncode == 0, status.stderr
    rows = {r["project"]: r for r in json.loads(status.stdout)}
    for slug in heads:
        assert (rows[slug]["version"], rows[slug]["latest"], rows[slug]["behind"]) == ("1.0.0", "1.1.0", 1)
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
        ["git", "--git-dir", str(repo), "rev-parse", "template-update-1.1.0"], capture_output=True, text=True
    ).stdout.strip()
    assert branch_head
    ci = wait_for_ci_run(platform.endpoints.mlflow, "fleet-clean", commit=branch_head, timeout=900)
    assert ci.status == "passed", platform.cli("ci", "logs", ci.run_id).stdout[-3000:]
    assert ci.branch == "template-update-1.1.0"
