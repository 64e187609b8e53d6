"""The shipped specs load, and defaults resolve as documented."""

from __future__ import annotations

import datetime as dt

import pytest
from shipyard.spec import GPU_TAINT_KEY, Environment, load_spec, parse_spec
from shipyard.spec.teams import Taint

from ..conftest import REPO

MINIMAL = """
platform: {name: tiny}
teams:
  - {name: ml, owners: [a@b.co], monthly_budget: 100}
"""


@pytest.mark.parametrize(
    "path", ["platform.yaml", "examples/platform.aws.yaml", "examples/platform.kubernetes.yaml"]
)
def test_shipped_specs_load(path):
    spec = load_spec(REPO / path)
    assert spec.teams, path


def test_minimal_spec_gets_defaults():
    spec = parse_spec(MINIMAL)
    assert spec.platform.environment is Environment.local
    assert spec.local.ports.mlflow == 5000
    assert spec.services.mlflow.replicas == 2
    assert spec.pricing.as_of == dt.date(2025, 7, 1)
    assert spec.pricing.instance_hour["g5.xlarge"] == pytest.approx(1.006)
    assert spec.governance.risk_tiers["high"].approval_required is True
    assert spec.team("ml").quota.gpus == 0


def test_gpu_pool_gets_gpu_taint_by_default():
    spec = load_spec(REPO / "examples/platform.aws.yaml")
    gpu = {p.name: p for p in spec.node_pools}["gpu-a10g"]
    assert gpu.effective_taints == [Taint(key=GPU_TAINT_KEY, value="true", effect="NoSchedule")]
    assert gpu.effective_labels["shipyard.io/gpu-type"] == "nvidia-a10g"
    cpu = {p.name: p for p in spec.node_pools}["cpu-work"]
    assert cpu.effective_taints == []  # a CPU pool gets no taint of its own (the example's system pool
    # names CriticalAddonsOnly explicitly: platform services only)


def test_gpu_pool_taint_can_be_overridden_explicitly():
    spec = parse_spec(
        MINIMAL
        + """
node_pools:
  - {name: g, instance_types: [g5.xlarge], min_size: 0, max_size: 1, gpus_per_node: 1,
     gpu_type: nvidia-a10g, taints: []}
"""
    )
    assert spec.node_pools[0].effective_taints == []


def test_spot_price_uses_discount():
    spec = parse_spec(MINIMAL)
    assert spec.pricing.instance_price("m6i.2xlarge", "spot") == pytest.approx(0.384 * 0.35)
    assert spec.pricing.instance_price("m6i.2xlarge") == pytest.approx(0.384)


def test_unknown_team_lookup_names_known_teams():
    spec = parse_spec(MINIMAL)
    with pytest.raises(KeyError, match="known: ml"):
        spec.team("nope")


def test_a_cluster_audit_log_in_postgres_names_a_secret():
    text = (
        "platform: {name: p, environment: kubernetes}\nteams:\n"
        "  - {name: ml, owners: [a@b.co], monthly_budget: 100}\n"
        "node_pools:\n  - {name: g, instance_types: [m6i.large], min_size: 0, max_size: 2}\n"
        "services:\n  registry: {audit_database_secret: shipyard-audit-db}\n"
    )
    assert parse_spec(text, "ok.yaml").services.registry.audit_database_secret == "shipyard-audit-db"
    assert parse_spec(text.replace("  registry: {audit_database_secret: shipyard-audit-db}\n", "  {}\n"),
                      "ok.yaml").services.registry.audit_database_secret is None  # fmt: skip
