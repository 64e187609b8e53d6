"""``shipyard infra outputs``, the real CLI in a subprocess, on saved `pulumi stack output --json`."""

from __future__ import annotations

import json

from ..test_stack_outputs import AWS_OUTPUTS


def test_outputs_env_for_a_project(cli, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(AWS_OUTPUTS))
    result = cli("infra", "outputs", str(path), "--team", "fraud", "--project", "churn", "--env")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert lines["SHIPYARD_DVC_REMOTE"] == "s3://acme-ml-dvc-fraud/fraud/churn"
    assert lines["MLFLOW_TRACKING_URI"] == "https://mlflow.acme.example"


def test_outputs_json_and_errors(cli, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(AWS_OUTPUTS))
    result = cli("infra", "outputs", str(path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["grafana"].startswith("http://grafana.")
    missing = cli("infra", "outputs", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "pulumi stack output --json" in missing.stderr
    path.write_text("{}")
    bad = cli("infra", "outputs", str(path))
    assert bad.returncode == 2 and "endpoints" in bad.stderr and "Traceback" not in bad.stderr
