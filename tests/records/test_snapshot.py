"""A snapshot of a portfolio costs five paged searches, never one request per project, model or run."""

from __future__ import annotations

import uuid

import pytest
from shipyard.records import MlflowApi
from shipyard.records.read import fetch_snapshot

from tests.fixtures.mlflow_seed import seed_portfolio

pytestmark = pytest.mark.services


def test_catalog_reads_everything_with_five_paged_searches(mlflow_url, tmp_path, monkeypatch):
    seeded = seed_portfolio(mlflow_url, f"sn{uuid.uuid4().hex[:6]}-", tmp_path)
    calls = []
    original = MlflowApi.call
    monkeypatch.setattr(
        MlflowApi, "call", lambda self, *a, **k: calls.append(a[1]) or original(self, *a, **k)
    )
    snap = fetch_snapshot(MlflowApi(mlflow_url), seeded.prefix)
    assert sorted(calls) == sorted(
        [
            "experiments/search",
            "runs/search",
            "runs/search",
            "registered-models/search",
            "model-versions/search",
        ]
    )
    assert len(snap.ci_runs) == 5 and len(snap.train_runs) == 4 and len(snap.versions) == 4
