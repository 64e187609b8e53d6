"""The portal in real headless Chromium (Debian chromium driven by Playwright): started with the real
`shipyard portal` command against the seeded MLflow and real Prometheus; an anonymous visitor sees only
the sign-in form; a manager, then an auditor sign in; every page opened, an export downloaded,
screenshots saved ($SHIPYARD_SCREENSHOTS, else a temp dir). This MLflow has no auth, so any password
passes here: wrong passwords are refused in tests/registry/test_portal_sign_in.py (MLflow with auth)."""

from __future__ import annotations

import csv
import io
import os
import re
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.mlflow_server import free_port
from tests.fixtures.portal_process import start_portal, stop_portal

pytestmark = [pytest.mark.browser, pytest.mark.services]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-dev-shm-usage", "--no-first-run"]  # fmt: skip
PAGES = ["Project", "Models", "Health", "Costs", "Platform", "Audit"]
BAD_TEXT = ("Traceback", "Exception:", "Error:", "KeyError", "AttributeError")


@pytest.fixture(scope="module")
def portal_url(portal_data, drift_pushed, tmp_path_factory):
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": portal_data.mlflow,
        "SHIPYARD_PROMETHEUS_URL": drift_pushed.prometheus,
        "SHIPYARD_PUSHGATEWAY_URL": drift_pushed.pushgateway,
    }
    cmd = [sys.executable, "-m", "shipyard.cli.main", "portal", "--spec", str(portal_data.spec),
           "--port", str(port), "--prefix", portal_data.seeded.prefix]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    proc = start_portal(cmd, env, tmp_path_factory.mktemp("portal") / "portal.log", url)
    yield url
    stop_portal(proc)


def settle(page, quiet_ms: int = 1500) -> None:
    """Wait until Streamlit finished the script run: the title is there and the running-status widget
    has stayed away for ``quiet_ms`` (it appears a moment after a run starts)."""
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=90_000)
    deadline = time.monotonic() + 120
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        if page.locator('[data-testid="stStatusWidget"]').count():
            page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=90_000)
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the portal kept running for 120 s")


def check_clean(page, where: str) -> str:
    assert page.locator('[data-testid="stException"]').count() == 0, f"exception box on {where}"
    text = page.inner_text("body")
    for bad in BAD_TEXT:
        assert bad not in text, f"{bad!r} on {where}"
    return text


def sign_in(page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill("any")
    page.get_by_role("button", name="Sign in").click()
    settle(page)


RAW_FLOAT = re.compile(r"\b\d+\.\d{5,}\b")  # 500.000000, 0.010000: a float as Python prints it


def test_every_page_role_switch_and_export(portal_url, portal_data, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("SHIPYARD_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    s = portal_data.seeded
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        page.goto(portal_url)
        settle(page)
        anonymous = check_clean(page, "sign-in")
        assert "Sign in" in anonymous and "Projects" not in anonymous and "Deploy" not in anonymous
        assert "has no login" in anonymous  # this MLflow is open: the form says sign-in proves nothing
        page.screenshot(path=str(shots / "0-sign-in.png"), full_page=True)
        sign_in(page, "manager@example.com")
        # on a loaded machine the rerun after sign-in can start after settle's quiet window
        page.get_by_text("In production", exact=True).first.wait_for(timeout=90_000)
        settle(page)
        text = check_clean(page, "Overview")
        page.screenshot(path=str(shots / "0-overview-manager.png"), full_page=True)
        assert "Projects\n\n3" in text and "In production\n\n1" in text  # tables are canvases

        for n, name in enumerate(PAGES, 1):
            page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
            settle(page)
            shown = check_clean(page, name)
            page.screenshot(path=str(shots / f"{n}-{name.lower()}-manager.png"), full_page=True)
            # read as a person: no figure printed as a raw float; the role switch on every page
            assert not RAW_FLOAT.findall(shown), (name, RAW_FLOAT.findall(shown))
            assert "View as" in shown, name
            if name == "Costs" and page.get_by_text("Costs (CSV)").count():
                with page.expect_download() as info:
                    page.get_by_text("Costs (CSV)").click()
                exported = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
                cost = next(c for c in exported[0] if c.startswith("cost ("))
                assert all(re.fullmatch(r"-?[\d,]+\.\d\d|0\.0*\d{1,2}", r[cost]) for r in exported), exported

        # the view comes from who signs in: sign out, sign in as the auditor
        page.get_by_role("button", name="Sign out").click()
        settle(page)
        sign_in(page, "auditor@example.com")
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Models", exact=True).click()
        settle(page)
        check_clean(page, "Models (auditor)")
        page.screenshot(path=str(shots / "6-models-auditor.png"), full_page=True)
        with page.expect_download() as info:
            page.get_by_text("Model inventory (CSV)").click()
        rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
        assert len(rows) == 4
        champion = next(r for r in rows if r["aliases"] == "champion")
        assert (champion["model"], champion["version"]) == (s.name("fraud"), "2")
        assert champion["run_id"] == s.train_run_ids[s.name("fraud")][1]

        page.locator('[data-testid="stSidebarNav"]').get_by_text("Health", exact=True).click()
        settle(page)
        check_clean(page, "Health (auditor)")
        with page.expect_download() as info:
            page.get_by_text("Health evidence (JSON)").click()
        assert len(Path(info.value.path()).read_text()) > 100
        page.screenshot(path=str(shots / "7-health-auditor.png"), full_page=True)

        page.locator('[data-testid="stSidebarNav"]').get_by_text("Home", exact=True).click()
        settle(page)
        check_clean(page, "Overview (auditor)")
        page.screenshot(path=str(shots / "8-overview-auditor.png"), full_page=True)
        browser.close()
    assert len(list(shots.glob("*.png"))) == 11
