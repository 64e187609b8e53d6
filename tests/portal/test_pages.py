"""Every portal page in Streamlit's AppTest against a real MLflow server seeded with a known portfolio
and a real Prometheus with pushed drift: the figures shown must equal what was seeded."""

from __future__ import annotations

import json
import re

import pytest
from shipyard.formatting import money
from shipyard.spec import load_spec
from streamlit.testing.v1 import AppTest

from .conftest import FRAUD_DRIFT, PORTAL

pytestmark = pytest.mark.services

PAGES = [f"pages/{n}.py" for n in ("1_Project", "2_Models", "3_Health", "4_Costs", "5_Platform")]


# a signed-in person per portal view (the sign-in form itself: tests/portal/test_sign_in.py)
PEOPLE = {
    "manager": "manager@example.com",
    "auditor": "auditor@example.com",
    "project owner": "lead@example.com",
}


def run(page: str | None = None, role: str | None = None, signed_in: bool = True) -> AppTest:
    at = AppTest.from_file(str(PORTAL / "Home.py"), default_timeout=90)
    if signed_in:
        at.session_state["user"] = PEOPLE[role or "manager"]
    if role:
        at.session_state["role"] = role
    if page:
        at.switch_page(page)
    at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frame(at: AppTest, having: str):
    for df in at.dataframe:
        if having in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {having!r}: {[list(d.value.columns) for d in at.dataframe]}")


def downloads(at: AppTest) -> dict[str, object]:
    return {d.proto.label: d for d in at.get("download_button")}


def test_overview_equals_seeded_portfolio(portal_env, portal_data):
    s = portal_data.seeded
    at = run()
    m = metrics(at)
    assert m["Projects"] == "3"
    assert m["In production"] == "1"
    table = frame(at, "project").set_index("project")
    assert set(table.index) == set(s.projects)
    for name, exp in s.projects.items():
        row = table.loc[name]
        assert row["team"] == exp["team"] and row["owner"] == exp["owner"]
        assert row["health"] == exp["score_with_drift"], name
        assert row["last CI"] == exp["last_ci"]
        assert row["champion"] == (f"{name} v{exp['champion']}" if exp["champion"] else "-")
    fraud, churn, idle = s.name("fraud"), s.name("churn"), s.name("idle")
    limit = load_spec(portal_data.spec).governance.risk_tiers["high"].max_drift_share
    assert table.loc[fraud, "drift"] == f"ok ({FRAUD_DRIFT:.2f} of max {limit:.2f})"  # and the tier's limit
    assert table.loc[fraud, "status"] == "green"
    assert table.loc[churn, "status"] == "red" and "last CI failed at test" in table.loc[churn, "why"]
    assert "drift not monitored" in table.loc[idle, "why"]  # medium tier requires drift monitoring
    assert (m[":red[Red]"], m[":orange[Amber]"], m[":green[Green]"]) == ("2", "0", "1")


def test_overview_filters_and_roles(portal_env, portal_data):
    s = portal_data.seeded
    at = run()
    at.multiselect[0].set_value([s.team_demo]).run()
    assert set(frame(at, "project")["project"]) == {s.name("churn"), s.name("idle")}
    at.multiselect[1].set_value(["low"]).run()
    assert list(frame(at, "project")["project"]) == [s.name("churn")]

    at = run(role="auditor")
    assert list(frame(at, "project").columns[:4]) == ["status", "project", "risk tier", "champion"]
    at = run(role="project owner")
    at.sidebar.selectbox[0].set_value("alice@example.com").run()
    assert list(frame(at, "project")["project"]) == [s.name("fraud")]
    # the role switch is on every page for everyone, as the docs show it; one role: fixed, no choice
    (switch,) = at.sidebar.radio
    assert switch.options == ["project owner"] and switch.disabled
    at = run(role="manager")
    assert len(frame(at, "project")) == 3


def test_project_page_shows_history_data_versions_health_and_drift(portal_env, portal_data):
    s = portal_data.seeded
    fraud = s.name("fraud")
    at = run("pages/1_Project.py")
    at.selectbox[0].set_value(fraud).run()
    assert_clean(at)
    m = metrics(at)
    assert m["ML Test Score"] == "3 / 7"
    assert m["Champion"] == f"{fraud} v2"
    assert m["Drift share"] == f"{FRAUD_DRIFT:.2f}"
    ci = frame(at, "failed step")
    assert len(ci) == 3 and sorted(ci["status"]) == ["failed", "passed", "passed"]
    data = frame(at, "data hash (DVC md5)")
    assert set(data["data hash (DVC md5)"]) == {"md5-data-v1", "md5-data-v2"}
    assert dict(zip(data["data hash (DVC md5)"], data["runs"], strict=True)) == {
        "md5-data-v1": 1,
        "md5-data-v2": 2,
    }
    health = frame(at, "evidence")
    assert len(health) == 28
    assert health.set_index("test").loc["data-2", "how"] == "manual"

    at.selectbox[0].set_value(s.name("churn")).run()
    assert_clean(at)
    assert metrics(at)["Status"] == "red"
    assert any(
        "Label Studio" in w.value for w in at.warning
    )  # churn labels; no Label Studio on this platform


def test_models_inventory_lineage_card_and_exports(portal_env, portal_data):
    s = portal_data.seeded
    fraud = s.name("fraud")
    at = run("pages/2_Models.py", role="auditor")
    m = metrics(at)
    assert (m["Registered models"], m["Versions"], m["Champions"], m["Failed the gate"]) == (
        "2",
        "4",
        "1",
        "1",
    )
    inv = frame(at, "lineage")
    champ = inv[inv["aliases"] == "champion"].iloc[0]
    assert (champ["model"], champ["version"]) == (fraud, 2)
    assert champ["approvals"] == "risk1@example.com, risk2@example.com"
    run_v2 = s.train_run_ids[fraud][1]
    assert champ["lineage"] == f"data md5-data-v2 -> commit cccc3333 -> run {run_v2[:8]} -> v2"
    assert champ["key metrics"] == "accuracy=0.9, f1=0.86"

    found = downloads(at)
    assert {"Model inventory (CSV)", "Model inventory (JSON)"} <= set(found)
    records = json.loads(found["Model inventory (JSON)"].proto.data if False else _download_text(at, "JSON"))
    assert len(records) == 4
    by_version = {(r["model"], r["version"]): r for r in records}
    assert by_version[(fraud, 2)]["run_id"] == run_v2
    assert by_version[(fraud, 2)]["data_hash"] == "md5-data-v2"
    assert by_version[(fraud, 2)]["ci_run_id"] == s.ci_run_ids[fraud][2]

    labels = at.selectbox[0].options
    at.selectbox[0].set_value(labels.index(f"{fraud} v2 (champion)")).run()
    assert_clean(at)
    assert any("Fraud detector model card" in md.value for md in at.markdown)


def _download_text(at: AppTest, kind: str) -> str:
    """The exported text, from the same catalog functions the download buttons call."""
    from shipyard.catalog import inventory, inventory_json, load_snapshot
    from shipyard.platform.portal import portal_settings

    cfg = portal_settings()
    rows = inventory(cfg.spec, load_snapshot(cfg.endpoints, cfg.prefix))
    return inventory_json(rows)


def test_health_page_scores_and_missing_evidence(portal_env, portal_data):
    s = portal_data.seeded
    at = run("pages/3_Health.py", role="auditor")
    summary = frame(at, "missing").set_index("project")
    for name, exp in s.projects.items():
        assert summary.loc[name, "score"] == exp["score_with_drift"]
    fraud = summary.loc[s.name("fraud")]
    assert (fraud["data"], fraud["model"], fraud["infrastructure"], fraud["monitoring"]) == (3.5, 4, 6, 3)
    assert (fraud["automated"], fraud["manual"]) == (3 + 4 + 6 + 3, 1)
    assert {"Health evidence (CSV)", "Health evidence (JSON)"} <= set(downloads(at))

    at.selectbox[0].set_value(s.name("churn")).run()
    assert_clean(at)
    missing = frame(at, "what would count")
    assert len(missing) == 28 - sum(
        s.projects[s.name("churn")]["sections_no_drift"].values()
    )  # all 1-pointers
    assert missing.set_index("test").loc["data-1", "what would count"].startswith("would count: a data check")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_every_role(portal_env, page):
    for role in ("manager", "auditor", "project owner"):
        run(page, role=role)


def test_platform_page_lists_services(portal_env, portal_data, tmp_path):
    git = tmp_path / "git"
    for repo in ("_template.git", "churn.git"):  # the template's repository is not a project
        (git / repo).mkdir(parents=True)
    portal_env(SHIPYARD_GIT_ROOT=str(git))
    at = run("pages/5_Platform.py")
    services = frame(at, "service").set_index("service")
    assert services.loc["MLflow", "status"] == "up"
    assert services.loc["MLflow", "URL"] == portal_data.mlflow
    assert services.loc["Prometheus", "status"] == "up"
    assert services.loc["Label Studio", "status"] == "not configured"
    # every service `shipyard up` runs has its row, the registry and the package index too
    assert {"Registry service", "Package index", "Portal", "CI runner", "Pushgateway"} <= set(services.index)
    assert services.loc["git / CI runner", "detail"].endswith("; 1 project repo(s)")
    assert services.loc["CI runner", "status"] == "down"  # no runner's heartbeat in this data dir


def test_overview_charts_count_in_integers_and_bin_the_score(portal_env):
    at = run()
    specs = {
        json.loads(c.proto.spec).get("title"): json.loads(c.proto.spec) for c in at.get("vega_lite_chart")
    }
    histogram = specs["ML Test Score distribution"]["encoding"]
    assert histogram["x"]["bin"] == {"extent": [0, 7.5], "step": 0.5}
    for title in ("ML Test Score distribution", "Projects by team and status"):
        encoding = specs[title]["encoding"]
        count_axis = encoding["y"] if encoding["y"].get("aggregate") == "count" else encoding["x"]
        assert count_axis["axis"]["format"] == "d" and count_axis["axis"]["tickMinStep"] == 1, title


def test_costs_page_and_overview_cost_column_present_the_cost_service(portal_env, portal_data):
    from shipyard.costs import api as costs
    from shipyard.platform.portal import portal_settings

    s = portal_data.seeded
    cfg = portal_settings()
    report = costs.cost_report(cfg.spec, cfg.endpoints, by="team")
    mtd = costs.project_costs_mtd(cfg.spec, cfg.endpoints)
    at = run("pages/4_Costs.py")
    shown = frame(at, "GPU hours").set_index("team")
    expected = {line.key: money(line.cost) for line in report.lines if line.key in (s.team_demo, s.team_risk)}
    assert expected and {k: shown.loc[k, f"cost ({report.currency})"] for k in expected} == expected
    budgets = frame(at, "used %").set_index("team")
    assert budgets.loc[s.team_risk, f"budget ({report.currency})"] == "1,500.00"

    overview = frame(run(), "project").set_index("project")
    fraud = s.name("fraud")
    assert overview.loc[fraud, f"cost MTD ({report.currency})"] == money(mtd[fraud])


# the numeric columns a page may keep: drawn as bars or progress by the page, not printed as a float
DRAWN = {"health", "used %", "version", "score", "points"}
RAW_FLOAT = re.compile(r"^-?\d+\.\d{5,}$")  # 500.000000, 0.010000: a float as Python prints it


@pytest.mark.parametrize("page", [None, "pages/2_Models.py", "pages/4_Costs.py"])
def test_figures_read_as_people_read_them(portal_env, page):
    """Home, Models and Costs as a person reads them: every metric and table cell is formatted by
    shipyard.formatting (cents, percentages, integer counts), none printed as a raw float."""
    for role in ("manager", "auditor"):
        at = run(page, role=role)
        for m in at.metric:
            assert not RAW_FLOAT.match(str(m.value)), (m.label, m.value)
        for df in at.dataframe:
            table = df.value
            for column in table.columns:
                if column in DRAWN:
                    continue
                assert table[column].dtype.kind != "f", (
                    f"{column!r} is a raw float column: {table[column].tolist()}"
                )
                cells = [str(v) for v in table[column]]
                assert not any(RAW_FLOAT.match(c) for c in cells), (column, cells)
    if page == "pages/4_Costs.py":
        shown = frame(at, "GPU hours")
        money_columns = [c for c in shown.columns if c.startswith(("cost (", "storage ("))]
        assert money_columns
        for column in money_columns:
            assert all(re.fullmatch(r"-?[\d,]+\.\d\d|0\.0*\d{1,2}|-", v) for v in shown[column]), shown[
                column
            ]
