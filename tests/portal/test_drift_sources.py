"""Drift per source (issue 34) on a real Pushgateway scraped by a real Prometheus: a scored batch's
drift alarm survives a later CI check on the held-out split, which is its own series; the Overview
and the alerts read production's drift; the Project page draws each source against the tier's limit."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
from shipyard import tags
from shipyard.catalog.drift import drift_by_project, drift_by_source, source_rows
from shipyard.platform.endpoints import Endpoints
from shipyard.spec import load_spec

from .test_pages import run

pytestmark = pytest.mark.services


def monitor_push(pushgateway: str, project: str, source: str, share: float) -> None:
    """What the template's `make monitor` pushes (its monitor.push): job, grouping key and labels."""
    registry = CollectorRegistry()
    gauge = Gauge(tags.METRIC_DRIFT_SHARE, "drift share", ["project", "team", "model", "risk_tier",
                  tags.DRIFT_SOURCE], registry=registry)  # fmt: skip
    gauge.labels(project, "demo", project, "low", source).set(share)
    feature = Gauge(tags.METRIC_FEATURE_DRIFT, "feature drift", ["project", "team", "model", "feature",
                    tags.DRIFT_SOURCE], registry=registry)  # fmt: skip
    feature.labels(project, "demo", project, "amount", source).set(share)
    grouping = {"project": project, tags.DRIFT_SOURCE: source}
    push_to_gateway(pushgateway, job="shipyard_drift", grouping_key=grouping, registry=registry)


def scraped(prometheus: str, query: str, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = requests.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5).json()
        if len(body["data"]["result"]) == count:
            return
        time.sleep(0.5)
    raise AssertionError(f"Prometheus did not scrape {count} series of {query} in 60 s")


def test_a_scored_batch_alarm_survives_a_later_ci_check(drift_pushed):
    project = f"drift-{uuid.uuid4().hex[:6]}"
    monitor_push(drift_pushed.pushgateway, project, tags.DRIFT_SOURCE_SCORED, 0.62)  # `make monitor`
    monitor_push(drift_pushed.pushgateway, project, tags.DRIFT_SOURCE_HELD_OUT, 0.12)  # main's CI, later
    scraped(drift_pushed.prometheus, f'{tags.METRIC_DRIFT_SHARE}{{project="{project}"}}', 2)
    endpoints = Endpoints(platform="local", prometheus=drift_pushed.prometheus)
    production = drift_by_project(endpoints)[project]
    assert (production.share, production.source) == (0.62, tags.DRIFT_SOURCE_SCORED)
    assert production.features == {"amount": 0.62}
    by_source = drift_by_source(endpoints, project)
    assert {s: d.share for s, d in by_source.items()} == {"held_out": 0.12, "scored_batch": 0.62}
    rows = {r["source"]: r for r in source_rows(by_source, 0.3)}
    assert rows["scored batches"]["production"] and not rows["held-out split (CI check)"]["production"]


def test_the_project_page_draws_the_tier_limit(portal_env, portal_data):
    fraud = portal_data.seeded.name("fraud")
    at = run("pages/1_Project.py")
    at.selectbox[0].set_value(fraud).run()
    assert not at.exception
    limit = load_spec(portal_data.spec).governance.risk_tiers["high"].max_drift_share
    assert any(f"allows a drift share up to {limit:.2f}" in c.value for c in at.caption)
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    layered = [s for s in specs if "layer" in s]
    assert len(layered) == 1, specs
    bars, rule = layered[0]["layer"]
    assert "tier's limit" in json.dumps(bars.get("title", ""))
    assert rule["mark"]["type"] == "rule" and rule["encoding"]["y"]["datum"] == limit
