"""The real ``shipyard`` CLI, run in a subprocess as a user would."""

from __future__ import annotations

import json

from shipyard import __version__

from ..conftest import REPO


def test_version(cli):
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"shipyard {__version__}"


def test_validate_default_spec_prints_summary(cli):
    result = cli("spec", "validate")
    assert result.returncode == 0, result.stderr
    assert "ok platform.yaml" in result.stdout
    assert "demo, risk" in result.stdout


def test_validate_from_env(cli, tmp_path):
    result = cli(
        "spec", "validate", env={"SHIPYARD_SPEC": str(REPO / "examples/platform.aws.yaml")}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "gpu-a10g (GPU)" in result.stdout


def test_bad_spec_exits_2_with_field_and_fix(cli, tmp_path):
    bad = tmp_path / "platform.yaml"
    bad.write_text("platform: {name: p}\nteams:\n  - {name: ml, owners: [a@b.co], monthly_budget: lots}\n")
    result = cli("spec", "validate", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{bad}:3: teams[0].monthly_budget: expected a number, got 'lots'" in result.stderr
    assert "fix:" in result.stderr


def test_missing_spec_exits_2(cli, tmp_path):
    result = cli("spec", "validate", cwd=tmp_path)
    assert result.returncode == 2
    assert "no such spec file" in result.stderr and "SHIPYARD_SPEC" in result.stderr


def test_show_json_has_resolved_defaults(cli):
    result = cli("spec", "show", "--json", "examples/platform.aws.yaml")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["platform"]["region"] == "us-east-1"
    assert data["services"]["mlflow"]["replicas"] == 2
    assert data["pricing"]["as_of"] == "2025-07-01"
    assert [p["name"] for p in data["node_pools"]] == ["system", "cpu-work", "gpu-a10g"]


def test_show_yaml(cli):
    result = cli("spec", "show")
    assert result.returncode == 0
    assert "name: shipyard-local" in result.stdout


def test_usage_error_is_not_a_traceback(cli):
    result = cli("spec", "validate", "--bogus")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
