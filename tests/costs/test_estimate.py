"""Platform estimates of the example specs, checked against totals computed by hand below."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shipyard.costs.estimate import estimate
from shipyard.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
H = 730  # hours in a month


def test_aws_example_by_hand():
    est = estimate(load_spec(REPO / "examples/platform.aws.yaml"))
    control_plane = 0.10 * H  # 73.00
    system_min = 2 * 0.192 * H + 2 * 100 * 0.08  # 280.32 + 16 = 296.32
    system_max = 4 * 0.192 * H + 4 * 100 * 0.08  # 560.64 + 32 = 592.64
    spot_hour = 0.384 * (1 - 0.65)  # 0.1344
    cpu_work_max = 10 * spot_hour * H + 10 * 100 * 0.08  # 981.12 + 80 = 1061.12 (min size 0 -> 0)
    gpu_max = 4 * 1.006 * H + 4 * 200 * 0.08  # 2937.52 + 64 = 3001.52 (min size 0 -> 0)
    database = 0.065 * H + 20 * 0.115  # 47.45 + 2.30 = 49.75, once for MLflow, once for Label Studio
    nat = 0.045 * H  # 32.85
    alb = 0.0225 * H  # 16.425
    objects = 2 * 100 * 0.023  # 2 teams x 100 GB assumed = 4.60
    fixed = control_plane + 2 * database + nat + alb + objects  # 226.375
    assert est.min_total == pytest.approx(fixed + system_min, abs=0.01)  # 522.695
    assert est.max_total == pytest.approx(fixed + system_max + cpu_work_max + gpu_max, abs=0.01)  # 4881.655
    assert est.min_total == pytest.approx(522.70, abs=0.01)
    assert est.max_total == pytest.approx(4881.66, abs=0.01)
    assert (est.gpu_min, est.gpu_max) == (0.0, pytest.approx(3001.52))
    by_name = {line.name: line for line in est.lines}
    assert by_name["cpu-work"].max_monthly == pytest.approx(1061.12)
    assert by_name["gpu-a10g"].category == "gpu pool"
    assert (est.currency, est.price_date.isoformat()) == ("USD", "2025-07-01")


def test_kubernetes_example_by_hand():
    est = estimate(load_spec(REPO / "examples/platform.kubernetes.yaml"))
    workers = 3 * 0.55 * H + 3 * 100 * 0.03  # 1204.50 + 9 = 1213.50 (min = max = 3)
    gpu = 2 * 1.40 * H + 2 * 100 * 0.03  # 2044.00 + 6 = 2050.00 (min = max = 2)
    objects = 1 * 100 * 0.01  # 1 team x 100 GB at the memo's 0.01 = 1.00
    # control plane and load balancer are 0 in the chargeback table; no managed databases on-prem
    assert est.min_total == est.max_total == pytest.approx(workers + gpu + objects)  # 3264.50
    assert est.max_total == pytest.approx(3264.50)
    assert est.gpu_max == pytest.approx(2050.0)
    assert not [line for line in est.lines if line.category == "database"]
    assert (est.currency, est.price_date.isoformat()) == ("EUR", "2026-01-01")


def test_embedded_platform_is_one_machine():
    est = estimate(load_spec(REPO / "platform.yaml"))
    assert est.min_total == pytest.approx(0.096 * H + 2 * 100 * 0.023)  # 70.08 + 4.60 = 74.68


def test_cli_estimate_table_and_json(cli):
    table = cli("cost", "estimate", "examples/platform.aws.yaml")
    assert table.returncode == 0, table.stderr
    assert "4,881.66" in table.stdout and "522.70" in table.stdout and "2025-07-01" in table.stdout
    data = json.loads(cli("cost", "estimate", "--spec", "examples/platform.kubernetes.yaml", "--json").stdout)
    assert data["currency"] == "EUR" and data["price_date"] == "2026-01-01"
    assert data["max_total"] == pytest.approx(3264.50)


def test_cli_estimate_missing_spec(cli, tmp_path):
    result = cli("cost", "estimate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "no such spec file" in result.stderr and "Traceback" not in result.stderr


def _aws_example(**edits: str):
    from shipyard.spec.loader import parse_spec

    text = (REPO / "examples/platform.aws.yaml").read_text()
    for old, new in edits.items():
        text = text.replace(old, new)
    return estimate(parse_spec(text))


def _line(est, item: str):
    (line,) = [x for x in est.lines if x.name == item]
    return line


def test_eks_extended_support_is_priced_at_the_extended_rate():
    # 1.33 left standard support on 2026-07-29; 1.35 (the example) is in standard support
    standard = _line(_aws_example(), "control plane")
    extended = _line(_aws_example(**{'"1.35"': '"1.33"'}), "control plane")
    assert standard.min_monthly == round(0.10 * 730, 2)
    assert extended.min_monthly == round(0.60 * 730, 2) and "extended support" in extended.detail


def test_a_load_balancer_only_when_a_service_has_a_url_and_the_autoscaler_is_free():
    with_url = _aws_example()
    assert _line(with_url, "load balancer").min_monthly == pytest.approx(0.0225 * 730, abs=0.01)
    no_url = _aws_example(
        **{',\n     url: "https://mlflow.ml.acme.example"': "", ', url: "https://portal.ml.acme.example"': ""}
    )
    assert _line(no_url, "load balancer").min_monthly == 0
    assert _line(with_url, "cluster autoscaler").max_monthly == 0
