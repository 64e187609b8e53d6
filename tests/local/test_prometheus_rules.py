"""The embedded Prometheus loads the platform's alert rules: ``up`` writes the config and the rule
file it names, and Prometheus' own promtool (Debian package) accepts both, the rules included."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from shipyard.alerts import DRIFT_ALERT, alert_rules
from shipyard.local.service import Context
from shipyard.local.services import prometheus
from shipyard.platform.layout import DataLayout
from shipyard.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool")


def written(tmp_path: Path) -> tuple[Path, object]:
    """The config and rule file as ``up`` writes them before it starts Prometheus."""
    spec = load_spec(REPO / "platform.yaml")
    ctx = Context(spec=spec, spec_path=None, layout=DataLayout(tmp_path))
    (service,) = [s for s in prometheus.services(ctx) if s.name == "prometheus"]
    service.prepare(lambda line: None)
    return ctx.layout.prometheus, spec


def test_the_config_names_the_rule_file_up_writes(tmp_path):
    root, spec = written(tmp_path)
    config = yaml.safe_load((root / "prometheus.yml").read_text())
    command = prometheus.services(Context(spec=spec, spec_path=None, layout=DataLayout(tmp_path)))[
        0
    ].command()
    assert f"--config.file={root / 'prometheus.yml'}" in command  # rule_files resolve beside the config
    (rule_file,) = config["rule_files"]
    rules = yaml.safe_load((root / rule_file).read_text())
    assert rules["groups"][0]["rules"] == alert_rules(spec.governance.risk_tiers)
    assert {r["alert"] for r in rules["groups"][0]["rules"]} == {DRIFT_ALERT}


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian prometheus) is not installed")
def test_promtool_accepts_the_config_and_its_rules(tmp_path):
    root, _ = written(tmp_path)
    checked = subprocess.run(
        [PROMTOOL, "check", "config", str(root / "prometheus.yml")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = subprocess.run(
        [PROMTOOL, "check", "rules", str(root / prometheus.RULES_FILE)], capture_output=True, text=True
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr
    tiers = len(load_spec(REPO / "platform.yaml").governance.risk_tiers)
    assert f"SUCCESS: {tiers} rules found" in rules.stdout + rules.stderr


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian prometheus) is not installed")
def test_promtool_rejects_a_broken_rule_file(tmp_path):
    """The check above can fail: a rule file with a broken expression does not pass."""
    root, _ = written(tmp_path)
    path = root / prometheus.RULES_FILE
    path.write_text(path.read_text().replace("max by", "max by by", 1))
    checked = subprocess.run([PROMTOOL, "check", "config", str(root / "prometheus.yml")], capture_output=True)
    assert checked.returncode != 0
