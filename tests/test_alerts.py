"""The drift alert rules, checked and unit-tested with Prometheus' own promtool (Debian package): one
rule per risk tier of the spec, firing above that tier's max_drift_share and not below it."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from shipyard.alerts import DRIFT_ALERT, drift_rules, prometheus_rule
from shipyard.spec import load_spec

from tests.conftest import REPO

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian prometheus) is not installed")


def series(project: str, tier: str, value: float, source: str = "") -> dict:
    labels = f'project="{project}",team="demo",model="{project}",risk_tier="{tier}"'
    labels += f',source="{source}"' if source else ""
    return {"series": f"shipyard_drift_share{{{labels}}}", "values": f"{value}x10"}


def spec_with_limits(tmp_path, **limits: float):
    data = yaml.safe_load((REPO / "platform.yaml").read_text())
    tiers = data["governance"].setdefault("risk_tiers", {})
    for tier, limit in limits.items():
        tiers.setdefault(tier, {})["max_drift_share"] = limit
    tiers.setdefault("high", {}).update(
        approval_required=True, min_approvers=2, drift_monitoring_required=True
    )
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(data))
    return load_spec(tmp_path / "spec.yaml")


def test_rules_pass_promtool_and_fire_past_each_tiers_limit(tmp_path):
    spec = spec_with_limits(tmp_path, high=0.1, low=0.5)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(drift_rules(spec.governance.risk_tiers, "1m")))
    checked = subprocess.run([PROMTOOL, "check", "rules", str(tmp_path / "rules.yml")], capture_output=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # 0.3 passes the high tier's 0.1 but not the low tier's 0.5; 0.9 passes both; CI's check on the
    # held-out split is not production's drift: it never fires, whatever its share
    inputs = [
        series("strict", "high", 0.3),
        series("lenient", "low", 0.3),
        series("bad", "low", 0.9, "scored_batch"),
        series("checked", "low", 0.9, "held_out"),
    ]
    expected = [
        {
            "exp_labels": {"project": p, "team": "demo", "model": p, "risk_tier": tier, "severity": severity},
            "exp_annotations": {
                "summary": f"{p}: drift share {share} is above the {tier} tier's limit of {limit}",
                "description": "The share of features drifting between the scoring data and the training "
                f"reference of model {p} passed max_drift_share {limit_value} of risk tier {tier}. Check the "
                "portal's Project page, then retrain or investigate the data.",
            },
        }
        for p, tier, severity, share, limit, limit_value in [
            ("strict", "high", "critical", "30%", "10%", 0.1),
            ("bad", "low", "warning", "90%", "50%", 0.5),
        ]
    ]
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": inputs,
                "alert_rule_test": [{"eval_time": "2m", "alertname": DRIFT_ALERT, "exp_alerts": expected}],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test))
    result = subprocess.run(
        [PROMTOOL, "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_rule_carries_the_same_rules():
    spec = load_spec(REPO / "platform.yaml")
    rule = prometheus_rule(spec.governance.risk_tiers, namespace="monitoring")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"][0]["rules"] == drift_rules(spec.governance.risk_tiers)["groups"][0]["rules"]
    assert {r["alert"] for r in rule["spec"]["groups"][0]["rules"]} == {DRIFT_ALERT}
