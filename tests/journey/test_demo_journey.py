"""The journey: `shipyard demo` on the real embedded platform, from nothing to a governed model.

Everything is real: MLflow, the DVC remote, Prometheus + Pushgateway, the git remote whose push runs
the project's `make ci` on the platform's runner, and the template baked by `shipyard new`.
The demo runs once per session (module fixture); each test checks one outcome a user would look at.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from mlflow import MlflowClient
from shipyard import tags
from shipyard.platform.portal import portal_env
from shipyard.platform.resolver import Platform
from streamlit.testing.v1 import AppTest

from tests.portal.conftest import PORTAL, PORTAL_ENV_VARS, clear_caches
from tests.portal.test_browser import CHROMIUM, CHROMIUM_FLAGS, check_clean, settle

pytestmark = [pytest.mark.services, pytest.mark.slow]

SLUG = "screening-demo"
CI_STEPS = ["lint", "test", "data-check", "repro", "push-data", "gate", "register", "monitor"]


@pytest.fixture(scope="module")
def demo(embedded_platform):
    result = embedded_platform.cli("demo", "--json", timeout=1800)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    AFTER_DEMO.update(_as_the_demo_left_it(embedded_platform, result.stdout))
    return embedded_platform, outcome, result.stdout


# what the demo's own closing hint and `whoami` answer right after it (later tests sign in as others)
AFTER_DEMO: dict[str, subprocess.CompletedProcess] = {}


def _as_the_demo_left_it(platform, stdout: str) -> dict[str, subprocess.CompletedProcess]:
    hint = next(line.split(None, 2)[2] for line in stdout.splitlines() if line.strip().startswith("CI runs"))
    assert hint.startswith(f"shipyard ci list --project {SLUG}")
    # as the person at the terminal: no account in the environment, only what `shipyard login` saved
    named = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
    env = {k: v for k, v in {**os.environ, **platform.env}.items() if k not in named}
    cli = [sys.executable, "-m", "shipyard.cli.main"]
    return {
        "hint": subprocess.run(
            [*cli, *hint.split()[1:]], env=env, capture_output=True, text=True, timeout=120
        ),
        "whoami": subprocess.run([*cli, "whoami"], env=env, capture_output=True, text=True, timeout=60),
    }


@pytest.fixture(scope="module")
def client(demo) -> MlflowClient:
    platform, _, _ = demo
    return MlflowClient(platform.endpoints.mlflow)


def test_progress_and_summary_are_shown(demo):
    _, _, stdout = demo
    for n in range(1, 6):
        assert f"[{n}/5]" in stdout
    assert "Demo complete." in stdout
    assert "shipyard down" in stdout and "shipyard ci list" in stdout


def test_the_outcome_json_hides_the_label_studio_token(demo):
    platform, outcome, stdout = demo
    token = platform.endpoints.label_studio_token
    assert token and token not in stdout
    assert outcome["endpoints"]["label_studio_token"] == "(hidden: --show-credentials)"


def test_project_is_provisioned_with_platform_tags(demo, client):
    platform, outcome, _ = demo
    exp = client.get_experiment_by_name(SLUG)
    assert exp.tags[tags.PROJECT] == SLUG
    assert exp.tags[tags.TEAM] == "demo"
    assert exp.tags[tags.RISK_TIER] == "low"
    assert (platform.data_dir / "git" / f"{SLUG}.git").is_dir() or any(platform.data_dir.rglob(f"{SLUG}.git"))


def test_the_champion_scores_a_sample_logged_as_a_scoring_run(demo, client):
    platform, _, stdout = demo
    assert f"scored 100 sample rows with models:/{SLUG}@champion" in stdout
    exp = client.get_experiment_by_name(SLUG)
    (score,) = client.search_runs([exp.experiment_id], f"tags.`{tags.RUN_KIND}` = '{tags.RUN_KIND_SCORE}'")
    assert score.data.metrics["rows_scored"] == 100
    assert score.data.tags["shipyard.score.model"] == f"models:/{SLUG}@champion"


def test_first_push_passes_every_ci_step(demo):
    _, outcome, _ = demo
    good = outcome["good_ci"]
    assert good["status"] == "passed"
    assert good["steps"] == CI_STEPS
    assert good["provider"] == "shipyard"


def test_gated_version_is_registered_with_lineage_and_promoted(demo, client):
    _, outcome, _ = demo
    versions = client.search_model_versions(f"name = '{SLUG}'")
    assert len(versions) == 1 == outcome["versions"]
    version = versions[0]
    assert client.get_registered_model(SLUG).aliases == {tags.CHAMPION: version.version}
    assert version.tags[tags.GATE_RESULT] == "passed"
    assert version.tags[tags.GIT_COMMIT] == outcome["good_ci"]["commit"]
    assert len(version.tags[tags.DATA_HASH]) >= 32  # a DVC md5
    run = client.get_run(version.tags[tags.MODEL_RUN_ID])
    assert run.data.tags[tags.RUN_KIND] == tags.RUN_KIND_TRAIN
    assert run.data.tags[tags.CI_RUN_ID] == outcome["good_ci"]["run_id"]
    assert run.data.tags[tags.DATA_HASH] == version.tags[tags.DATA_HASH]
    assert run.data.tags[tags.INSTANCE_TYPE] == "m6i.large"  # local.instance_type of platform.yaml
    assert run.data.metrics["f1"] >= 0.75 and run.data.metrics["accuracy"] >= 0.80
    card = client.download_artifacts(run.info.run_id, version.tags[tags.MODEL_CARD])
    assert "Model card" in open(card).read()


def test_data_is_in_the_team_dvc_remote(demo):
    platform, _, _ = demo
    remote = platform.endpoints.dvc_remote("demo", SLUG)
    files = [p for p in __import__("pathlib").Path(remote).rglob("*") if p.is_file()]
    assert files, f"nothing was pushed to {remote}"


def test_worse_model_is_stopped_by_the_gate_with_the_reason(demo, client):
    _, outcome, _ = demo
    worse = outcome["worse_ci"]
    assert worse["status"] == "failed" and worse["failed_step"] == "gate-dry-run"  # a branch: dry run
    assert worse["branch"] == "try-smaller-model"
    assert "monitor" not in worse["steps"]
    exp = client.get_experiment_by_name(SLUG)
    runs = client.search_runs(
        [exp.experiment_id],
        f"tags.`{tags.GIT_COMMIT}` = '{worse['commit']}' and tags.`{tags.RUN_KIND}` = 'train'",
    )
    assert runs and runs[0].data.tags[tags.GATE_DRY_RUN] == "failed"
    assert tags.GATE_RESULT not in runs[0].data.tags  # a branch never gets a registrable gate result
    assert "champion" in runs[0].data.tags[tags.GATE_REASON]
    from shipyard.audit.store import AuditStore

    platform = demo[0]
    assert AuditStore.of(platform.data_dir).events(model=SLUG)  # the promotion went through the platform
    assert platform.cli("audit", "verify").returncode == 0
    # the platform's gate dry-ran the branch: in the audit log with its branch, commit and metrics
    from shipyard.audit import names as audit

    (dry,) = AuditStore.of(platform.data_dir).events(model=SLUG, action=audit.SUBMIT_DRY_RUN)
    assert (dry.details["branch"], dry.details["commit"]) == (worse["branch"], worse["commit"])
    assert not dry.details["passed"] and dry.details["candidate"]


def test_every_version_names_its_creator_and_the_promotion_its_reason(demo):
    """Done when (issue 34): `model list --json` names a creator for every version."""
    import json

    from shipyard.audit import names as audit
    from shipyard.audit.store import AuditStore

    platform = demo[0]
    listed = json.loads(platform.cli_as("auditor@example.com", "model", "list", "--json").stdout)
    mine = [r for r in listed if r["model"] == SLUG]
    assert mine and all(r["created_by"] == "data-scientist@example.com" for r in mine), mine
    (promoted,) = AuditStore.of(platform.data_dir).events(model=SLUG, action=audit.PROMOTE)
    assert promoted.details["reason"] == "the demo's first model"


def test_ci_list_json_shows_both_runs(demo):
    platform, outcome, _ = demo
    result = platform.cli("ci", "list", "--project", SLUG, "--json")
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    by_commit = {r["commit"]: r["status"] for r in runs}
    assert by_commit == {outcome["good_ci"]["commit"]: "passed", outcome["worse_ci"]["commit"]: "failed"}


def test_drift_figures_reach_prometheus(demo):
    platform, _, _ = demo
    query = f'{tags.METRIC_DRIFT_SHARE}{{project="{SLUG}"}}'
    deadline, series = time.monotonic() + 90, []
    while time.monotonic() < deadline and not series:
        answer = requests.get(
            f"{platform.endpoints.prometheus}/api/v1/query", params={"query": query}, timeout=5
        )
        series = answer.json()["data"]["result"]
        time.sleep(2)
    assert series, f"no {query} in Prometheus"
    assert 0.0 <= float(series[0]["value"][1]) <= 1.0


def test_second_demo_resumes_without_duplicates(demo, client):
    platform, outcome, _ = demo
    again = platform.cli("demo", "--json", timeout=600)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    second = json.loads(again.stdout.strip().splitlines()[-1])
    assert second["good_ci"]["run_id"] == outcome["good_ci"]["run_id"]
    assert second["worse_ci"]["run_id"] == outcome["worse_ci"]["run_id"]
    assert len(client.search_model_versions(f"name = '{SLUG}'")) == 1
    assert len([e for e in client.search_experiments() if e.name == SLUG]) == 1


@pytest.fixture
def portal_on_platform(demo, monkeypatch):
    """The portal (in-process, AppTest) configured exactly as `shipyard up` configures its portal."""
    platform, _, _ = demo
    for key in PORTAL_ENV_VARS:
        monkeypatch.delenv(key, raising=False)
    configured = Platform(platform.spec, platform.spec_path, platform.endpoints, platform.data_dir)
    for key, value in portal_env(configured).items():
        monkeypatch.setenv(key, value)
    monkeypatch.syspath_prepend(str(PORTAL))
    clear_caches()
    yield platform
    clear_caches()


def signed_in(at: AppTest, platform) -> AppTest:
    """The platform's manager, signed in as the form would leave the session (the form itself is
    driven in the Chromium test below and in tests/registry/test_portal_sign_in.py)."""
    who = platform.spec.governance.people.managers[0]
    at.session_state["user"] = who
    at.session_state["credentials"] = (who, platform.credentials(who).password)
    return at


def _overview_row(at: AppTest) -> dict:
    for df in at.dataframe:
        table = df.value.data if hasattr(df.value, "data") else df.value
        if "project" in table.columns:
            rows = table[table["project"] == SLUG]
            assert len(rows) == 1, table
            return rows.iloc[0].to_dict()
    raise AssertionError("no portfolio table on the Overview")


def test_portal_overview_shows_the_governed_demo_project(portal_on_platform, demo):
    _, outcome, _ = demo
    at = signed_in(AppTest.from_file(str(PORTAL / "Home.py"), default_timeout=120), portal_on_platform)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    row = _overview_row(at)
    assert row["team"] == "demo"
    assert row["last CI"] == "passed"  # main is green; the gate-stopped experiment ran on a branch
    assert row["champion"] == f"{SLUG} v1"
    assert row["health"] > 0
    cost = next(v for k, v in row.items() if k.startswith("cost MTD"))
    # the CI runs on the platform are priced (local.instance_type); the page shows money as people read it
    assert float(re.sub(r"[^0-9.]", "", cost)) > 0, cost
    assert float(re.sub(r"[^0-9.]", "", row["team budget used %"])) >= 0, row["team budget used %"]


def test_portal_models_and_health_pages_show_lineage_and_score(portal_on_platform, demo):
    _, outcome, _ = demo
    for page, must in (
        ("pages/2_Models.py", [outcome["good_ci"]["commit"][:8], SLUG]),
        ("pages/3_Health.py", [SLUG]),
        ("pages/4_Costs.py", [SLUG]),
    ):
        at = signed_in(AppTest.from_file(str(PORTAL / "Home.py"), default_timeout=120), portal_on_platform)
        at.switch_page(page)
        at.run()
        if page.endswith("Costs.py"):
            next(r for r in at.radio if r.label == "By").set_value("project").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        shown = " ".join(str(df.value) for df in at.dataframe) + " ".join(m.value for m in at.markdown)
        for text in must:
            assert text in shown, (page, text)


@pytest.mark.browser
def test_portal_started_by_up_renders_the_demo_in_chromium(demo):
    platform, _, _ = demo
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("SHIPYARD_SCREENSHOTS") or platform.data_dir / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(platform.endpoints.portal)
        settle(page)
        assert "Projects" not in check_clean(page, "sign-in")  # nothing before signing in
        who = platform.spec.governance.people.managers[0]
        page.get_by_label("Email").fill(who)
        page.get_by_label("Password", exact=True).fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
        settle(page)
        assert "wrong email or password" in check_clean(page, "wrong password")
        page.get_by_label("Password", exact=True).fill(platform.credentials(who).password)
        page.get_by_role("button", name="Sign in").click()
        settle(page)
        text = check_clean(page, "Overview after the demo")
        page.screenshot(path=str(shots / "journey-overview.png"), full_page=True)
        browser.close()
    assert "Overview" in text and "Projects" in text


def test_the_closing_hint_works_as_the_demos_data_scientist(demo):
    """`shipyard demo` leaves its data scientist signed in: its own hint answers, no 401."""
    platform, _, _ = demo
    result, whoami = AFTER_DEMO["hint"], AFTER_DEMO["whoami"]
    assert result.returncode == 0 and "401" not in result.stdout + result.stderr, result.stderr
    data_scientist = platform.spec.team("demo").owners[0].lower()
    assert data_scientist in whoami.stdout, whoami.stdout + whoami.stderr
