"""Storage bytes -> cost on real directories (sparse files of known size)."""

from __future__ import annotations

import pytest
from shipyard.costs import storage
from shipyard.platform.endpoints import Endpoints
from shipyard.records import Project
from shipyard.spec.pricing import Pricing

from tests.fixtures.mlflow_seed import sparse_file

GIB = 1024**3


def project(experiment_id: str, name: str, team: str, artifact_location: str) -> Project:
    return Project(name, experiment_id, team, "low", "o@example.com", artifact_location=artifact_location)


def test_project_dvc_remote_and_artifacts(tmp_path):
    sparse_file(tmp_path / "dvc-remote" / "fraud" / "churn" / "files" / "md5" / "aa" / "1", 3 * GIB)
    sparse_file(tmp_path / "dvc-remote" / "fraud" / "churn-v2" / "x", GIB)  # another project: not counted
    sparse_file(tmp_path / "artifacts" / "7" / "run" / "model.pkl", GIB // 4)  # proxied mlflow-artifacts:/7
    sparse_file(tmp_path / "exp9" / "run" / "model.pkl", 1000)  # a plain local artifact location
    endpoints = Endpoints(platform="local", dvc_remote_root=str(tmp_path / "dvc-remote"))
    projects = [
        project("7", "churn", "fraud", "mlflow-artifacts:/7"),
        project("9", "other", "fraud", str(tmp_path / "exp9")),
        project("11", "remote", "fraud", "gs://bucket/x"),  # cannot be listed from here
    ]
    found = storage.measure(endpoints, projects, artifacts_root=tmp_path / "artifacts")
    got = {(u.project, u.store): u.bytes for u in found}
    assert got == {
        ("churn", "dvc"): 3 * GIB,
        ("churn", "artifacts"): GIB // 4,
        ("other", "dvc"): 0,  # no remote yet
        ("other", "artifacts"): 1000,
        ("remote", "dvc"): 0,
        ("remote", "artifacts"): None,  # reported as not measured
    }
    pricing = Pricing(storage_gb_month=0.023)
    assert storage.storage_cost(3 * GIB, pricing) == pytest.approx(0.069)  # 3 GiB x 0.023
    assert storage.storage_cost(GIB // 4, pricing) == pytest.approx(0.00575)
    assert found[0].monthly_cost(pricing) == pytest.approx(0.069)
