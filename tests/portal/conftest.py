"""Fixtures of the portal suite: a seeded real MLflow server, real Prometheus + Pushgateway (Debian
binaries) with drift pushed, and the environment the portal reads."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
from shipyard import tags

from tests.fixtures.mlflow_seed import PortfolioSeed, seed_portfolio, write_portfolio_spec
from tests.fixtures.mlflow_server import free_port
from tests.fixtures.waiting import wait_ok

PORTAL = Path(__file__).resolve().parents[2] / "portal"
FRAUD_DRIFT = 0.12
FRAUD_FEATURES = {"amount": 0.31, "country": 0.04}


@dataclass
class PortalData:
    mlflow: str
    spec: Path
    seeded: PortfolioSeed


@pytest.fixture(scope="session")
def portal_mlflow(mlflow_url) -> str:
    return mlflow_url


@pytest.fixture(scope="session")
def portal_data(portal_mlflow, tmp_path_factory) -> PortalData:
    tmp = tmp_path_factory.mktemp("portal-seed")
    seeded = seed_portfolio(portal_mlflow, f"pt{uuid.uuid4().hex[:6]}-", tmp)
    return PortalData(portal_mlflow, write_portfolio_spec(tmp / "platform.yaml", seeded), seeded)


@dataclass
class PromStack:
    prometheus: str
    pushgateway: str


def _wait(url: str, procs: list[subprocess.Popen], timeout: float = 60) -> None:
    wait_ok(url, procs, timeout=timeout)


@pytest.fixture(scope="session")
def prom_stack(tmp_path_factory) -> PromStack:
    """Real Prometheus scraping a real Pushgateway every second (apt: prometheus prometheus-pushgateway)."""
    if not (shutil.which("prometheus") and shutil.which("prometheus-pushgateway")):
        pytest.fail(
            "prometheus/prometheus-pushgateway missing: run ./dev setup (installs the Debian packages)"
        )
    root = tmp_path_factory.mktemp("prom")
    prom_port, push_port = free_port(), free_port()
    (root / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: pushgateway\n"
        "    honor_labels: true\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{push_port}']}}]\n"
    )
    log = open(root / "log.txt", "w")  # noqa: SIM115 - lives as long as the processes
    push = subprocess.Popen(
        ["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{push_port}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    prom = subprocess.Popen(
        ["prometheus", f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={root / 'data'}",
         f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    stack = PromStack(f"http://127.0.0.1:{prom_port}", f"http://127.0.0.1:{push_port}")
    try:
        _wait(f"{stack.pushgateway}/-/healthy", [push, prom])
        _wait(f"{stack.prometheus}/-/ready", [push, prom])
        yield stack
    finally:
        for p in (prom, push):
            if p.poll() is None:
                os.killpg(p.pid, 15)
                p.wait(20)


@pytest.fixture(scope="session")
def drift_pushed(prom_stack, portal_data) -> PromStack:
    """The fraud project's monitor pushes its drift (contract: job shipyard_drift, grouping key project)."""
    fraud = portal_data.seeded.name("fraud")
    team = portal_data.seeded.team_risk
    registry = CollectorRegistry()
    share = Gauge(tags.METRIC_DRIFT_SHARE, "drift share", ["project", "team", "model"], registry=registry)
    feature = Gauge(
        tags.METRIC_FEATURE_DRIFT, "feature drift", ["project", "team", "model", "feature"], registry=registry
    )
    share.labels(fraud, team, fraud).set(FRAUD_DRIFT)
    for name, value in FRAUD_FEATURES.items():
        feature.labels(fraud, team, fraud, name).set(value)
    push_to_gateway(
        prom_stack.pushgateway, job="shipyard_drift", grouping_key={"project": fraud}, registry=registry
    )
    deadline = time.monotonic() + 60
    query = f'{tags.METRIC_FEATURE_DRIFT}{{project="{fraud}"}}'
    while time.monotonic() < deadline:
        body = requests.get(
            f"{prom_stack.prometheus}/api/v1/query", params={"query": query}, timeout=5
        ).json()
        if len(body["data"]["result"]) == len(FRAUD_FEATURES):
            return prom_stack
        time.sleep(0.5)
    raise RuntimeError("Prometheus did not scrape the pushed drift in 60 s")


def clear_caches() -> None:
    import streamlit as st
    from shipyard.catalog import clear_cache

    st.cache_resource.clear()
    st.cache_data.clear()
    clear_cache()


PORTAL_ENV_VARS = (
    "SHIPYARD_SPEC", "MLFLOW_TRACKING_URI", "SHIPYARD_PROMETHEUS_URL", "SHIPYARD_PUSHGATEWAY_URL",
    "SHIPYARD_PORTAL_PREFIX", "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "GRAFANA_URL", "GRAFANA_TOKEN",
    "SHIPYARD_DVC_REMOTE_ROOT", "SHIPYARD_GIT_ROOT", "SHIPYARD_HOME",
)  # fmt: skip


@pytest.fixture
def portal_env(monkeypatch, portal_data, drift_pushed):
    """Point the portal (run in-process by AppTest) at the seeded MLflow and the real Prometheus."""

    def configure(**overrides: str | None) -> None:
        values = {
            "SHIPYARD_SPEC": str(portal_data.spec),
            "MLFLOW_TRACKING_URI": portal_data.mlflow,
            "SHIPYARD_PROMETHEUS_URL": drift_pushed.prometheus,
            "SHIPYARD_PUSHGATEWAY_URL": drift_pushed.pushgateway,
            "SHIPYARD_PORTAL_PREFIX": portal_data.seeded.prefix,
            **overrides,
        }
        for key in PORTAL_ENV_VARS:
            monkeypatch.delenv(key, raising=False)
        for key, value in values.items():
            if value is not None:
                monkeypatch.setenv(key, value)
        clear_caches()

    monkeypatch.syspath_prepend(str(PORTAL))  # `streamlit run portal/Home.py` puts portal/ on sys.path
    configure()
    yield configure
    clear_caches()


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"
