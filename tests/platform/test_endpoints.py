"""Endpoints: derived from the spec for the embedded platform, carried to jobs as environment."""

from __future__ import annotations

from pathlib import Path

from shipyard.platform.endpoints import Endpoints, default_data_dir, local_endpoints
from shipyard.platform.env import ENV_DVC_REMOTE, ENV_MLFLOW
from shipyard.spec import load_spec

from ..conftest import REPO


def test_local_endpoints_follow_spec_ports(tmp_path):
    spec = load_spec(REPO / "platform.yaml")
    ep = local_endpoints(spec, tmp_path)
    assert ep.mlflow == "http://127.0.0.1:5000"
    assert ep.pushgateway == "http://127.0.0.1:9091"
    assert ep.dvc_remote("demo", "churn") == str(tmp_path / "dvc-remote" / "demo" / "churn")
    assert ep.grafana is None


def test_env_round_trip():
    ep = Endpoints(platform="kubernetes", mlflow="https://mlflow.example", dvc_remote_root="s3://b/dvc")
    env = ep.to_env("fraud", "scoring")
    assert env[ENV_MLFLOW] == "https://mlflow.example"
    assert env[ENV_DVC_REMOTE] == "s3://b/dvc/fraud/scoring"
    back = Endpoints.from_env(env)
    assert back.mlflow == ep.mlflow and back.platform == "kubernetes"


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "home"))
    assert default_data_dir(tmp_path / "explicit") == (tmp_path / "explicit").resolve()
    assert default_data_dir() == (tmp_path / "home").resolve()
    monkeypatch.delenv("SHIPYARD_HOME")
    assert default_data_dir() == Path.home() / ".shipyard"
