"""Cloud actuals.

* AWS Cost Explorer through moto (AWS cannot run here). moto does not track costs: its
  ``get_cost_and_usage`` returns whatever is queued through its ``/moto-api/static/ce/cost-and-usage-results``
  endpoint, one queued result per distinct request. So this covers: boto3 accepts our request (botocore
  validates the parameters), we read grouped ``tagkey$value`` keys, follow ``NextPageToken`` to the next
  page, and actuals take precedence over estimates. It does NOT show that AWS groups by our tags: that is
  AWS's side (infra activates the cost-allocation tags).
* OpenCost through a small local HTTP server that speaks OpenCost's documented ``/allocation`` response
  shape (``{"code": 200, "data": [{name: allocation}, ...]}``, one set per step; ``__idle__`` with
  ``includeIdle``). OpenCost needs a Kubernetes cluster and Prometheus, which cannot run here.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from moto import mock_aws
from shipyard.costs import actuals
from shipyard.costs.results import IDLE, SHARED
from shipyard.errors import UserError

from .conftest import ce_day, queue_ce

START, END = dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 3, tzinfo=dt.UTC)


def test_cost_explorer_groups_and_pages(ce_client):
    queue_ce(
        [
            ce_day("2024-01-01", [("fraud", "training", "10.50"), ("", "mlflow", "3.25")], token="page-2"),
            ce_day("2024-01-02", [("fraud", "training", "4.00"), ("search", "", "1.75")]),
        ]
    )
    found = actuals.cost_explorer(START.date(), END.date(), ce_client)
    got = [(a.date.isoformat(), a.team, a.component, a.cost) for a in found]
    assert got == [
        ("2024-01-01", "fraud", "training", 10.5),
        ("2024-01-01", SHARED, "mlflow", 3.25),
        ("2024-01-02", "fraud", "training", 4.0),
        ("2024-01-02", "search", "(untagged)", 1.75),
    ]
    assert {a.source for a in found} == {actuals.SOURCE_CE}


class OpenCostHandler(BaseHTTPRequestHandler):
    requests_seen: list[dict] = []
    body: dict = {}

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        type(self).requests_seen.append(
            {"path": url.path, **{k: v[0] for k, v in parse_qs(url.query).items()}}
        )
        payload = json.dumps(self.body if url.path == "/allocation" else {"code": 404}).encode()
        self.send_response(200 if url.path == "/allocation" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def allocation(name, start, total, gpu_hours=0.0, gpu_cost=0.0):
    end = (dt.datetime.fromisoformat(start.replace("Z", "+00:00")) + dt.timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    return {
        "name": name,
        "properties": {"cluster": "default-cluster", "namespace": name},
        "window": {"start": start, "end": end},
        "start": start,
        "end": end,
        "cpuCost": total / 2,
        "gpuHours": gpu_hours,
        "gpuCost": gpu_cost,
        "ramCost": total / 4,
        "pvCost": 0.0,
        "networkCost": 0.0,
        "totalCost": total,
    }


@pytest.fixture
def opencost_server():
    d1, d2 = "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"
    OpenCostHandler.requests_seen = []
    OpenCostHandler.body = {
        "code": 200,
        "data": [
            {
                "fraud": allocation("fraud", d1, 20.0, gpu_hours=4.0, gpu_cost=12.0),
                "kube-system": allocation("kube-system", d1, 2.0),
                "__idle__": allocation("__idle__", d1, 9.0, gpu_cost=6.0),
            },
            {"fraud": allocation("fraud", d2, 10.0, gpu_hours=2.0, gpu_cost=6.0)},
        ],
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), OpenCostHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_opencost_namespaces_gpu_hours_and_idle(opencost_server):
    found = actuals.opencost(opencost_server, START, END, {"fraud", "search"}, "USD")
    query = OpenCostHandler.requests_seen[0]
    assert query["path"] == "/allocation"
    assert query["window"] == "2024-01-01T00:00:00Z,2024-01-03T00:00:00Z"
    assert (query["aggregate"], query["step"], query["includeIdle"]) == ("namespace", "1d", "true")
    by = {(a.date.isoformat(), a.team, a.component): a for a in found}
    assert by[("2024-01-01", "fraud", "namespace fraud")].gpu_hours == 4.0
    assert by[("2024-01-02", "fraud", "namespace fraud")].cost == 10.0
    assert by[("2024-01-01", SHARED, "namespace kube-system")].cost == 2.0
    idle = by[("2024-01-01", IDLE, "idle")]
    assert (idle.cost, idle.idle_gpu_cost, idle.gpu_hours) == (9.0, 6.0, 0.0)


def test_opencost_unreachable_is_a_user_error():
    with pytest.raises(UserError, match="OpenCost at http://127.0.0.1:9 could not be read"):
        actuals.opencost("http://127.0.0.1:9", START, END, set(), "USD", timeout=2)


def test_collect_prefers_cost_explorer_per_team(ce_client, opencost_server):
    queue_ce([ce_day("2024-01-01", [("fraud", "training", "30.00")])])
    config = actuals.ActualsConfig(cost_explorer=True, opencost_url=opencost_server, ce_client=ce_client)
    found, notes = actuals.collect(config, START, END, {"fraud", "search"}, "USD")
    assert notes == []
    fraud = [a for a in found if a.team == "fraud"]
    assert [(a.source, a.cost) for a in fraud] == [(actuals.SOURCE_CE, 30.0)]  # OpenCost's fraud rows dropped
    assert {a.team for a in found if a.source == actuals.SOURCE_OPENCOST} == {SHARED, IDLE}


def test_collect_reports_a_failing_source(monkeypatch):
    config = actuals.ActualsConfig(opencost_url="http://127.0.0.1:9")
    monkeypatch.setattr(
        actuals, "opencost", lambda *a, **k: (_ for _ in ()).throw(UserError("OpenCost down"))
    )
    found, notes = actuals.collect(config, START, END, set(), "USD")
    assert found == [] and notes == ["OpenCost down; figures are estimates"]


def test_s3_storage_listing_with_moto(monkeypatch):
    """S3 listing through moto (AWS cannot run here): bytes under one project's prefix, every page."""
    from shipyard.costs import storage
    from shipyard.platform.endpoints import Endpoints
    from shipyard.spec.pricing import Pricing

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="ml-dvc")
        for i in range(5):
            s3.put_object(Bucket="ml-dvc", Key=f"fraud/churn/files/md5/{i:04d}", Body=b"x" * 10)
        s3.put_object(Bucket="ml-dvc", Key="fraud/churn-other/x", Body=b"y" * 999)  # a sibling prefix
        endpoints = Endpoints(platform="aws", dvc_remote_root="s3://ml-dvc")
        remote = endpoints.dvc_remote("fraud", "churn")
        assert remote == "s3://ml-dvc/fraud/churn"
        found = storage.s3_bytes("ml-dvc", "fraud/churn", endpoints, s3, page_size=2)  # 3 pages
        assert storage.location_bytes(remote, endpoints, s3) == 50
    assert found == 50
    assert storage.storage_cost(3 * storage.GIB, Pricing(storage_gb_month=0.023)) == pytest.approx(0.069)
