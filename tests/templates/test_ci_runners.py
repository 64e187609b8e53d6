"""A project's CI selects the platform's in-cluster runners of its team when the spec has them
(``ci.runners``: the GitHub runner scale set by name, the GitLab runner by tag), hosted runners
otherwise. The values come from shipyard.templates.bake.platform_context, as `shipyard new` fills them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from shipyard.platform.endpoints import Endpoints
from shipyard.spec import parse_spec
from shipyard.templates.bake import platform_context

from tests.template.conftest import bake
from tests.template.test_matrix import _check_jsonschema

SPEC = """
platform: {name: p, environment: kubernetes, cluster: {kubeconfig_context: c}}
teams:
  - {name: fraud, owners: [a@b.co], monthly_budget: 100}
node_pools:
  - {name: cpu, instance_types: [m6i.large], min_size: 0, max_size: 2}
"""
RUNNERS = {
    "github": "ci:\n  runners:\n    provider: github\n"
    "    github: {config_url: 'https://github.com/acme', secret: arc-github}\n",
    "gitlab": "ci:\n  runners:\n    provider: gitlab\n"
    "    gitlab: {url: 'https://gitlab.acme.example/', secret: gitlab-runner-token}\n",
    "none": "",
}


def baked(tmp: Path, runners: str) -> Path:
    spec = parse_spec(SPEC + RUNNERS[runners])
    context = platform_context(
        spec, Endpoints(platform="kubernetes"), "fraud", "fraud-model", "classification"
    )
    ci = {k: context[k] for k in ("_ci_runners", "_ci_runner_label")}
    return bake(tmp, project_name="Fraud model", team="fraud", ci_provider="both", **ci)


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ci-runners")
    return {name: baked(root / name, name) for name in RUNNERS}


def _job(project: Path) -> dict:
    return yaml.safe_load((project / ".github/workflows/ci.yml").read_text())["jobs"]["ci"]


def _gitlab(project: Path) -> dict:
    return yaml.safe_load((project / ".gitlab-ci.yml").read_text())


def test_the_context_names_the_teams_runner():
    spec = parse_spec(SPEC + RUNNERS["github"])
    context = platform_context(spec, Endpoints(platform="kubernetes"), "fraud", "x", "classification")
    assert (context["_ci_runners"], context["_ci_runner_label"]) == ("github", "shipyard-fraud")
    none = platform_context(
        parse_spec(SPEC), Endpoints(platform="kubernetes"), "fraud", "x", "classification"
    )
    assert (none["_ci_runners"], none["_ci_runner_label"]) == ("", "")


def test_github_runners_selected_by_scale_set_name(projects):
    assert _job(projects["github"])["runs-on"] == "shipyard-fraud"
    assert "tags" not in _gitlab(projects["github"])[".ci"]  # GitLab CI of the same project: hosted


def test_gitlab_runners_selected_by_tag(projects):
    assert _gitlab(projects["gitlab"])[".ci"]["tags"] == ["shipyard-fraud"]
    assert _job(projects["gitlab"])["runs-on"] == "ubuntu-latest"


def test_without_runners_hosted_ones(projects):
    assert _job(projects["none"])["runs-on"] == "ubuntu-latest"
    assert "tags" not in _gitlab(projects["none"])[".ci"]


def test_the_ci_files_stay_schema_valid(projects):
    for schema, name in (
        ("vendor.github-workflows", ".github/workflows/ci.yml"),
        ("vendor.gitlab-ci", ".gitlab-ci.yml"),
    ):
        result = _check_jsonschema(schema, [p / name for p in projects.values()])
        assert result.returncode == 0, result.stdout + result.stderr
