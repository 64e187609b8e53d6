"""`shipyard model list` through the real CLI against a real MLflow server; approvals and promotion
go through the registry service as a signed-in person (tests/registry)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from mlflow import MlflowClient
from shipyard import tags

from tests.fixtures.mlflow_seed import (
    PortfolioSeed,
    ci_run,
    model_version,
    project,
    training_run,
    write_portfolio_spec,
)

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def gov(mlflow_url, tmp_path_factory):
    """A high-tier project with v1 (passed the gate, model card) and v2 (failed the gate)."""
    prefix = f"gv{uuid.uuid4().hex[:6]}-"
    s = PortfolioSeed(prefix=prefix, team_risk=f"{prefix}risk", team_demo=f"{prefix}demo")
    name = s.name("credit")
    client = MlflowClient(tracking_uri=mlflow_url, registry_uri=mlflow_url)
    exp = project(client, name, s.team_risk, "high", "dora@example.com")
    now = int(time.time() * 1000)
    ci = ci_run(client, exp, "passed", "lint,test", start_ms=now)
    run1 = training_run(client, exp, ci, "abc123", "md5-x", {"accuracy": 0.9}, {}, "passed", now)
    run2 = training_run(client, exp, ci, "abc124", "md5-x", {"accuracy": 0.5}, {}, "failed", now)
    client.create_registered_model(name, tags={tags.PROJECT: name})
    model_version(client, name, run1, "abc123", "md5-x", "passed", {tags.MODEL_CARD: "card.md"})
    model_version(client, name, run2, "abc124", "md5-x", "failed")
    spec = write_portfolio_spec(tmp_path_factory.mktemp("gov") / "platform.yaml", s)
    return {"name": name, "prefix": prefix, "client": client, "env": {"MLFLOW_TRACKING_URI": mlflow_url},
            "spec": str(spec)}  # fmt: skip


def shipyard(cli, gov, *args):
    return cli(*args, "--spec", gov["spec"], env=gov["env"])


def test_model_list_shows_gate_aliases_and_lineage(cli, gov):
    """Approval and promotion go through the registry service now (tests/registry)."""
    listed = shipyard(cli, gov, "model", "list", "--prefix", gov["prefix"], "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["version"]: r for r in json.loads(listed.stdout)}
    assert rows[1]["gate"] == "passed" and rows[2]["gate"] == "failed"
    assert rows[2]["aliases"] == ""
    # the table (piped, as in a script or a pager) cuts no identifier: every name and lineage whole
    table = shipyard(cli, gov, "model", "list", "--prefix", gov["prefix"])
    assert table.returncode == 0, table.stderr
    assert "…" not in table.stdout, table.stdout
    for row in rows.values():
        assert row["lineage"] in table.stdout and row["model"] in table.stdout, table.stdout


def test_approve_has_no_by_flag(cli, gov):
    """Identity comes from signing in, never from a flag."""
    result = shipyard(cli, gov, "model", "approve", gov["name"], "1", "--by", "a@example.com")
    assert result.returncode == 2 and "--by" in result.stderr


def test_mlflow_down_is_a_user_error(cli, gov):
    down = cli("model", "list", "--spec", gov["spec"], "--mlflow", "http://127.0.0.1:9")
    assert down.returncode == 2 and "MLflow" in down.stderr and "Traceback" not in down.stderr


def test_portal_command_resolves_spec_to_endpoints(cli, gov, tmp_path):
    out = cli("portal", "--spec", gov["spec"], "--data-dir", str(tmp_path), "--prefix", "x-", "--print-env",
              env={"MLFLOW_TRACKING_URI": "", "SHIPYARD_PROMETHEUS_URL": ""})  # fmt: skip
    assert out.returncode == 0, out.stderr
    env = dict(line.split("=", 1) for line in out.stdout.splitlines())
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5000"  # the spec's local.ports
    assert env["SHIPYARD_PROMETHEUS_URL"] == "http://127.0.0.1:9090"
    assert env["SHIPYARD_SPEC"] == gov["spec"] and env["SHIPYARD_PORTAL_PREFIX"] == "x-"
    assert env["SHIPYARD_DVC_REMOTE_ROOT"] == str(tmp_path / "dvc-remote")
