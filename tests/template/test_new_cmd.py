"""`shipyard new`: the real CLI bakes the template with the platform's values and checks the spec."""

from __future__ import annotations

import json

import yaml

from .conftest import REPO


def test_new_fills_in_the_platform_and_writes_cruft_state(cli, tmp_path):
    home = tmp_path / "home"
    result = cli(
        "new", "Churn Model", "--team", "risk", "--no-input", "--output-dir", str(tmp_path), "--no-provision",
        "--spec", str(REPO / "platform.yaml"), "--data-dir", str(home),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    project = tmp_path / "churn-model"
    catalog = yaml.safe_load((project / "shipyard.yaml").read_text())
    assert catalog["team"] == "risk" and catalog["owner"] == "risk-lead@example.com"  # the team's first owner
    assert catalog["platform"]["mlflow"] == "http://127.0.0.1:5000"
    assert catalog["platform"]["dvc_remote"] == str(home.resolve() / "dvc-remote" / "risk" / "churn-model")
    assert catalog["platform"]["instance_type"] == "m6i.large"
    assert f"url = {home.resolve()}/dvc-remote/risk/churn-model" in (project / ".dvc" / "config").read_text()
    # the platform's values are in its file, none in the data scientist's params.yaml
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert "gate" not in params and "max_drift_share" not in params["monitor"]
    assert "p_value" in params["monitor"]  # the drift test's knob stays the data scientist's
    assert catalog["governance"]["gate"]["thresholds"] == {
        "accuracy": {"min": 0.8},
        "f1": {"min": 0.75},
    }  # platform.yaml gates
    assert catalog["governance"]["gate"]["champion_tolerance"] == 0.01
    # the preview compares with the champion on the platform gate's metric: its first gate measured
    assert catalog["governance"]["gate"]["primary_metric"] == "accuracy"
    assert catalog["governance"]["monitor"] == {"max_drift_share": 0.3}  # the low tier's default
    cruft = json.loads((project / ".cruft.json").read_text())
    assert cruft["template"] == str(REPO) and cruft["directory"] == "project-template"
    assert len(cruft["commit"]) == 40
    assert cruft["context"]["cookiecutter"]["team"] == "risk"


def test_unknown_team_is_refused_naming_the_known_ones(cli, tmp_path):
    result = cli("new", "X Model", "--team", "nope", "--no-input", "-o", str(tmp_path), "--no-provision")
    assert result.returncode == 2
    assert "team 'nope' is not a team of platform shipyard-local (known teams: demo, risk)" in result.stderr
    assert "fix:" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_gpu_training_needs_a_gpu_pool_in_the_spec(cli, tmp_path):
    args = [
        "new",
        "Vision",
        "--team",
        "risk",
        "--flavour",
        "pytorch",
        "--gpu",
        "--no-input",
        "-o",
        str(tmp_path),
    ]
    refused = cli(*args, "--no-provision", "--spec", str(REPO / "platform.yaml"))
    assert refused.returncode == 2
    assert "has no GPU node pool that team 'risk' may use" in refused.stderr
    spec = yaml.safe_load((REPO / "examples" / "platform.kubernetes.yaml").read_text())
    pool = next(p for p in spec["node_pools"] if p.get("gpus_per_node"))
    team = next(
        t
        for t in spec["teams"]
        if t.get("quota", {}).get("gpus", 0) > 0 and t["name"] in pool.get("teams", [t["name"]])
    )
    args[args.index("risk")] = team["name"]
    ok = cli(*args, "--no-provision", "--spec", str(REPO / "examples" / "platform.kubernetes.yaml"))
    assert ok.returncode == 0, ok.stderr
    job = yaml.safe_load((tmp_path / "vision" / "k8s" / "train-job.yaml").read_text())
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"shipyard.io/pool": pool["name"]}
    assert job["metadata"]["namespace"] == team["name"]


def test_hook_rejection_through_shipyard_new_is_a_user_error(cli, tmp_path):
    result = cli(
        "new",
        "Bad",
        "--team",
        "demo",
        "--owner",
        "not-an-email",
        "--no-input",
        "-o",
        str(tmp_path),
        "--no-provision",
    )
    assert result.returncode == 2
    assert "owner_email 'not-an-email' is not an email address" in result.stderr
    # judged before anything is touched (issue 35), the hook's own check stays for plain cookiecutter
    assert "fix:" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_governance_in_shipyard_yaml_is_the_spec_for_the_tier_and_task(cli, tmp_path):
    spec = yaml.safe_load((REPO / "platform.yaml").read_text())
    spec["governance"]["gates"] = [{"metric": "accuracy", "min": 0.6}, {"metric": "r2", "min": 0.4}]
    spec["governance"]["champion_tolerance"] = 0.05
    spec["governance"]["risk_tiers"] = {t: {"max_drift_share": 0.5} for t in ("low", "medium")}
    spec["governance"]["risk_tiers"]["high"] = {"max_drift_share": 0.15}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    result = cli(
        "new", "Price Model", "--team", "demo", "--risk-tier", "high", "--task", "regression",
        "--no-input", "--no-provision", "--output-dir", str(tmp_path), "--spec", str(tmp_path / "spec.yaml"),
        "--data-dir", str(tmp_path / "home"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    project = tmp_path / "price-model"
    governance = yaml.safe_load((project / "shipyard.yaml").read_text())["governance"]
    assert governance == {
        "gate": {"primary_metric": "r2", "champion_tolerance": 0.05, "thresholds": {"r2": {"min": 0.4}}},
        "monitor": {"max_drift_share": 0.15},
    }
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert "gate" not in params and "max_drift_share" not in params["monitor"]
    assert "0.15" not in (project / "params.yaml").read_text()
