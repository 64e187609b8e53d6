"""``shipyard infra outputs`` on saved `pulumi stack output --json`: the real CLI in a subprocess
for a job's environment and for a user error; the JSON view in-process."""

from __future__ import annotations

import json

from shipyard.cli.infra_cmd import outputs

from ..platform.test_stack_outputs import AWS_OUTPUTS


def test_outputs_env_for_a_project(cli, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(AWS_OUTPUTS))
    result = cli("infra", "outputs", str(path), "--team", "fraud", "--project", "churn", "--env")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert lines["SHIPYARD_DVC_REMOTE"] == "s3://acme-ml-dvc-fraud/fraud/churn"
    assert lines["MLFLOW_TRACKING_URI"] == "https://mlflow.acme.example"


def test_outputs_without_endpoints_is_a_user_error(cli, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text("{}")
    bad = cli("infra", "outputs", str(path))
    assert bad.returncode == 2 and "no 'endpoints'" in bad.stderr and "Traceback" not in bad.stderr
    assert "pulumi stack output --json" in bad.stderr


def test_outputs_json(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(AWS_OUTPUTS))
    outputs(path, team="search", project=None, env=False)
    shown = json.loads(capsys.readouterr().out)
    assert shown["grafana"].startswith("http://grafana.")
    assert shown["dvc_remote_root"] == "s3://acme-ml-dvc-search"
