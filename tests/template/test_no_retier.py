"""An existing project's risk tier never changes as a side effect (`shipyard new`, `project create`);
changing it is `shipyard project set-tier`, through the registry (tests/registry/test_platform_owns_facts.py).
Against a real MLflow server."""

from __future__ import annotations

import json
import uuid

import pytest
import yaml
from shipyard.errors import UserError
from shipyard.platform.endpoints import Endpoints
from shipyard.projects import existing_tier, provision_project
from shipyard.spec import load_spec

from .conftest import REPO


@pytest.fixture
def spec():
    return load_spec(REPO / "platform.yaml")


def test_provisioning_again_keeps_the_tier_and_refuses_another(mlflow_server, spec):
    endpoints = Endpoints(platform="local", mlflow=mlflow_server.url)
    name = f"tier-{uuid.uuid4().hex[:8]}"
    assert provision_project(spec, endpoints, None, name, "risk", risk_tier="high").risk_tier == "high"
    assert provision_project(spec, endpoints, None, name, "risk").risk_tier == "high"  # no tier given
    with pytest.raises(UserError, match="exists with risk tier 'high'; refusing to change it to 'low'"):
        provision_project(spec, endpoints, None, name, "risk", risk_tier="low")
    assert existing_tier(endpoints, name) == "high"


def test_shipyard_new_over_an_existing_high_tier_project_keeps_its_tier(cli, mlflow_server, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "endpoints": {"platform": "kubernetes", "mlflow": mlflow_server.url},
                "dvcRemotes": {"risk": "s3://bucket/risk"},
            }
        )
    )
    name = f"Tier {uuid.uuid4().hex[:6]}"
    slug = name.lower().replace(" ", "-")
    common = ("--team", "risk", "--no-input", "--provision", "--stack-outputs", str(outputs))
    first = cli("new", name, "--risk-tier", "high", "-o", str(tmp_path / "a"), *common)
    assert first.returncode == 0, first.stderr
    again = cli("new", name, "-o", str(tmp_path / "b"), *common)  # the "--team risk" re-run of the probe
    assert again.returncode == 0, again.stderr
    assert yaml.safe_load((tmp_path / "b" / slug / "shipyard.yaml").read_text())["risk_tier"] == "high"
    assert existing_tier(Endpoints(platform="kubernetes", mlflow=mlflow_server.url), slug) == "high"

    lower = cli("new", name, "--risk-tier", "low", "-o", str(tmp_path / "c"), *common)
    assert lower.returncode == 2
    assert "refusing to change it to 'low'" in lower.stderr and "shipyard project set-tier" in lower.stderr
    assert "Traceback" not in lower.stderr and not (tmp_path / "c").exists()
