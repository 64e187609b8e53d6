"""Usage costs from a REAL MLflow server (the session ``mlflow_server`` fixture), seeded with runs whose
start and end times are set explicitly, and storage from real directories (sparse files of known size).
Actuals are switched off here (test_actuals.py covers them)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from shipyard.costs import api
from shipyard.costs.actuals import ActualsConfig
from shipyard.costs.results import NO_MODEL, SHARED, STORAGE
from shipyard.errors import UserError
from shipyard.platform.endpoints import Endpoints
from shipyard.spec import load_spec

from tests.fixtures.mlflow_seed import seed_costs, sparse_file, write_costs_spec

from .conftest import ce_day, queue_ce

pytestmark = pytest.mark.services
GIB = 1024**3
NOW = dt.datetime(2023, 3, 15, 12, 0, tzinfo=dt.UTC)  # the report month 2023-02 is over
OFF = ActualsConfig()


@pytest.fixture(scope="module")
def world(mlflow_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("costs")
    seeded = seed_costs(mlflow_server.url)
    spec = load_spec(write_costs_spec(root / "platform.yaml", seeded))
    (a, b), (pa, pb) = seeded.teams, seeded.projects
    sparse_file(
        root / "dvc-remote" / a / pa / "files" / "md5" / "ab" / "cdef", 2 * GIB
    )  # 2 GiB x 0.02 = 0.04
    sparse_file(root / "dvc-remote" / b / pb / "files" / "md5" / "12" / "3456", GIB // 2)  # 0.5 GiB = 0.01
    endpoints = Endpoints(
        platform="local",
        mlflow=mlflow_server.url,
        mlflow_artifacts=str(root / "mlflow" / "artifacts"),
        dvc_remote_root=str(root / "dvc-remote"),
    )
    return spec, endpoints, seeded, root


def lines_of(report, team):
    return {line.key: line for line in report.lines if line.team == team}


def test_report_by_team(world):
    spec, endpoints, s, _ = world
    (a, b) = s.teams
    report = api.cost_report(spec, endpoints, "team", "2023-02", actuals=OFF, now=NOW)
    assert (report.currency, report.price_date, report.month) == ("USD", dt.date(2025, 5, 1), "2023-02")
    la, lb = lines_of(report, a)[a], lines_of(report, b)[b]
    # a: runs 1.00 + 0.50 + 1.50 + 12.00 + 0 (unpriced) ; storage 2 GiB x 0.02 = 0.04 (no MLflow artifacts)
    assert la.cost == pytest.approx(15.04)
    assert la.storage_cost == pytest.approx(0.04)
    assert la.gpu_hours == pytest.approx(0.5 + 6.0)
    assert (la.runs, la.unpriced_runs, la.estimated) == (5, 1, True)
    # b: r6 4 h x 0.50 = 2.00 (r7 unpriced, r8 is March) ; storage 0.5 GiB x 0.02 = 0.01
    assert lb.cost == pytest.approx(2.01)
    assert (lb.runs, lb.unpriced_runs) == (2, 1)
    unpriced = {u.run_id: u for u in report.unpriced if u.team in s.teams}
    assert set(unpriced) == {s.runs["r5"], s.runs["r7"]}
    assert unpriced[s.runs["r5"]].reason == "no instance type tagged"
    assert unpriced[s.runs["r7"]].instance_type == "unknown.type"


def test_report_by_project_and_model(world):
    spec, endpoints, s, _ = world
    (a, b), (pa, pb), (ma, mb) = s.teams, s.projects, s.models
    by_project = api.cost_report(spec, endpoints, "project", "2023-02", actuals=OFF, now=NOW)
    assert lines_of(by_project, a)[pa].cost == pytest.approx(15.04)
    assert lines_of(by_project, b)[pb].cost == pytest.approx(2.01)
    by_model = api.cost_report(spec, endpoints, "model", "2023-02", actuals=OFF, now=NOW)
    got = {k: round(v.cost, 6) for k, v in {**lines_of(by_model, a), **lines_of(by_model, b)}.items()}
    # ma: r1 1.00 + its CI run r2 0.50 + r3 1.50 ; r4 and r5 have no model ; mb: r6 2.00
    assert got == {
        ma: 3.0,
        f"{pa}/{NO_MODEL}": 12.0,
        f"{pa}/{STORAGE}": 0.04,
        mb: 2.0,
        f"{pb}/{NO_MODEL}": 0.0,
        f"{pb}/{STORAGE}": 0.01,
    }
    assert lines_of(by_model, a)[ma].project == pa


def test_month_filter_and_running_month(world):
    spec, endpoints, s, _ = world
    (_, b) = s.teams
    march = api.cost_report(spec, endpoints, "team", "2023-03", actuals=OFF, now=NOW)
    # r8: 10 h x 0.50 ; storage 0.5 GiB x 0.02 spread over 15 of 31 days
    assert lines_of(march, b)[b].cost == pytest.approx(5.0 + 0.01 * 15 / 31, abs=1e-4)  # lines: 4 decimals


def test_daily_series(world):
    spec, endpoints, s, _ = world
    (a, _b) = s.teams
    series = api.daily_series(spec, endpoints, "2023-02", "team", actuals=OFF, now=NOW)
    assert list(series.columns) == ["date", "key", "cost", "estimated", "currency", "price_date"]
    mine = series[series["key"] == a].set_index("date")["cost"]
    assert len(mine) == 28
    storage_day = 0.04 / 28
    assert mine[dt.date(2023, 2, 3)] == pytest.approx(1.5 + storage_day)  # r2 + r1
    assert mine[dt.date(2023, 2, 4)] == pytest.approx(1.5 + storage_day)  # r3
    assert mine[dt.date(2023, 2, 5)] == pytest.approx(12.0 + storage_day)  # r4 (+ r5 unpriced)
    assert mine[dt.date(2023, 2, 20)] == pytest.approx(storage_day)
    assert mine.sum() == pytest.approx(15.04)


def test_budget_status(world):
    spec, endpoints, s, _ = world
    (a, b) = s.teams
    # mid-month: today 2023-02-14, so runs are counted up to its end; forecast = spent / 14 x 28
    statuses = {
        x.team: x for x in api.budget_status(spec, endpoints, "2023-02", dt.date(2023, 2, 14), actuals=OFF)
    }
    spent_a = 15.0 + 0.04 * 14 / 28
    assert statuses[a].spent == pytest.approx(spent_a, abs=1e-4)
    assert statuses[a].forecast == pytest.approx(spent_a * 2, abs=1e-3)
    assert statuses[a].percent == pytest.approx(spent_a / 40 * 100, abs=1e-3)  # 37.55 %
    assert statuses[a].forecast_percent > 75 and statuses[a].alert == "ok"
    end = {x.team: x for x in api.budget_status(spec, endpoints, "2023-02", dt.date(2023, 3, 2), actuals=OFF)}
    assert end[a].spent == pytest.approx(15.04) and end[a].forecast == end[a].spent
    assert (end[b].currency, end[b].price_date) == ("USD", dt.date(2025, 5, 1))


def test_project_costs_mtd(world):
    spec, endpoints, s, _ = world
    (pa, pb) = s.projects
    costs = api.project_costs_mtd(spec, endpoints, now=dt.datetime(2023, 2, 28, 23, 0, tzinfo=dt.UTC))
    assert costs[pa] == pytest.approx(15.0 + 0.04 * 28 / 28)
    assert costs[pb] == pytest.approx(2.01)


def test_cli_report_as_a_manager(world, cli, tmp_path):
    spec, endpoints, s, root = world
    (a, _b), (pa, _pb), (ma, _mb) = s.teams, s.projects, s.models
    env = {"MLFLOW_TRACKING_URI": endpoints.mlflow, "SHIPYARD_OPENCOST_URL": ""}
    common = ["--spec", str(root / "platform.yaml"), "--data-dir", str(root), "--month", "2023-02"]
    table = cli("cost", "report", "--by", "model", *common, env=env)
    assert table.returncode == 0, table.stderr
    assert ma in table.stdout and "unpriced" in table.stdout and s.runs["r5"] in table.stdout
    data = json.loads(cli("cost", "report", "--by", "team", "--json", *common, env=env).stdout)
    lines = {line["key"]: line for line in data["lines"]}
    assert lines[a]["cost"] == pytest.approx(15.04) and lines[a]["estimated"] is True
    assert data["currency"] == "USD" and data["price_date"] == "2025-05-01"
    csv_out = cli("cost", "report", "--by", "project", "--csv", *common, env=env)
    rows = [r.split(",") for r in csv_out.stdout.strip().splitlines()]
    assert rows[0][:6] == ["month", "key", "team", "project", "model", "cost"]
    assert [r[5] for r in rows if r[1] == pa] == ["15.04"]  # shipyard.formatting: cents, as on every page
    with pytest.raises(UserError, match="cannot break costs down by 'colour'") as bad:
        api.cost_report(spec, endpoints, "colour", "2023-02")
    assert bad.value.fix == "use one of: team, project, model"
    bad_month = cli("cost", "report", "--month", "Feb", "--spec", str(root / "platform.yaml"), env=env)
    assert bad_month.returncode == 2 and "YYYY-MM" in bad_month.stderr


def test_cli_budgets(world, cli):
    spec, endpoints, s, root = world
    env = {"MLFLOW_TRACKING_URI": endpoints.mlflow, "SHIPYARD_OPENCOST_URL": ""}
    spec_file = str(root / "platform.yaml")
    args = ["--month", "2023-02", "--spec", spec_file, "--data-dir", str(root)]
    out = cli("cost", "budgets", "--no-push", "--json", *args, env=env)
    assert out.returncode == 0, out.stderr
    got = {x["team"]: x for x in json.loads(out.stdout)}
    assert got[s.teams[0]]["spent"] == pytest.approx(15.04)
    assert got[s.teams[0]]["percent"] == pytest.approx(37.6)
    table = cli("cost", "budgets", "--no-push", *args, env=env)
    row = next(line for line in table.stdout.splitlines() if s.teams[0] in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[1:4] == ["40.00", "15.04", "37.6%"], row


def test_unreachable_mlflow_is_a_user_error(world, cli):
    _spec, _endpoints, _s, root = world
    out = cli(
        "cost",
        "report",
        "--spec",
        str(root / "platform.yaml"),
        env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"},
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "MLflow" in out.stderr


def test_actuals_take_precedence_over_estimates(world, ce_client):
    """Cost Explorer through moto (see test_actuals.py for what moto can and cannot show)."""
    spec, endpoints, s, _ = world
    (a, b), (pa, _pb) = s.teams, s.projects
    queue_ce([ce_day("2023-02-10", [(a, "training", "100.00"), ("", "mlflow", "7.00")])])
    config = ActualsConfig(cost_explorer=True, ce_client=ce_client)
    report = api.cost_report(spec, endpoints, "team", "2023-02", actuals=config, now=NOW)
    lines = {line.key: line for line in report.lines}
    assert (lines[a].cost, lines[a].estimated) == (100.0, False)  # the bill replaces 15.04 of estimates
    assert (lines[a].runs, lines[a].unpriced_runs, lines[a].gpu_hours) == (5, 1, 6.5)  # runs still counted
    assert (lines[b].cost, lines[b].estimated) == (pytest.approx(2.01), True)  # no actuals: estimate stays
    assert (lines[SHARED].cost, lines[SHARED].estimated) == (7.0, False)
    assert "actuals: aws-cost-explorer" in report.sources
    series = api.daily_series(spec, endpoints, "2023-02", "team", actuals=config, now=NOW)
    day = series[(series["key"] == a) & (series["date"] == dt.date(2023, 2, 10))].iloc[0]
    assert (day["cost"], day["estimated"]) == (100.0, False)
    by_project = api.cost_report(spec, endpoints, "project", "2023-02", actuals=config, now=NOW)
    assert {line.key: line.cost for line in by_project.lines if line.team == a} == {pa: pytest.approx(15.04)}
    assert all(line.estimated for line in by_project.lines)
