"""The whole chain under OIDC, for real except the OIDC provider: the portal (Streamlit, the cluster's
command, 127.0.0.1, proxy-header mode, the portal's own MLflow account) behind a stand-in for its
oauth2-proxy sidecar (tests/fixtures/header_proxy.py) naming an approver; the approver opens the
Models page in headless Chromium and approves; the real registry service records the approver as the
actor, through the portal (MLflow with basic-auth, the light embedded platform)."""

from __future__ import annotations

import os
import sys

import pytest
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore
from shipyard.identity import PORTAL
from shipyard.identity.portal import ENV_IDENTITY, PROXY_HEADER
from shipyard.platform.env import ENV_REGISTRY
from shipyard.platform.portal import portal_command

from tests.fixtures.embedded_platform import REPO
from tests.fixtures.header_proxy import HeaderProxy
from tests.fixtures.mlflow_server import free_port
from tests.fixtures.portal_process import start_portal, stop_portal
from tests.portal.conftest import PORTAL_ENV_VARS
from tests.portal.test_browser import CHROMIUM, CHROMIUM_FLAGS, check_clean, settle

from .conftest import new_project

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def proxied_portal(light_platform, proxied_registry, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in PORTAL_ENV_VARS}
    env |= {
        ENV_IDENTITY: PROXY_HEADER,
        "SHIPYARD_SPEC": str(light_platform.spec_path),
        "SHIPYARD_HOME": str(light_platform.data_dir),
        **light_platform.endpoints.to_env(),
        **light_platform.credentials(PORTAL).env(),  # what the Deployment reads from the `portal` Secret
        # a registry of a platform whose portal runs behind the proxy: only that one takes on-behalf-of
        ENV_REGISTRY: proxied_registry,
    }
    portal_dir = REPO / "portal"
    direct = f"http://127.0.0.1:{port}"
    cmd = portal_command(sys.executable, str(portal_dir / "Home.py"), port, "127.0.0.1")
    proc = start_portal(cmd, env, tmp_path / "portal.log", direct, cwd=portal_dir, wait=180)
    proxy = HeaderProxy(direct).start()
    try:
        yield proxy
    finally:
        proxy.stop()
        stop_portal(proc)


def test_an_approver_signed_in_by_the_proxy_approves_on_the_models_page(
    light_platform, proxied_portal, tmp_path
):
    from playwright.sync_api import sync_playwright

    p = new_project(light_platform, team="demo", tier="high")
    assert p.submit(p.job(tmp_path, depth=6))["version"] == "1"
    proxied_portal.email = "validator@example.com"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(proxied_portal.url)
        settle(page)
        assert "signed in as validator@example.com" in check_clean(page, "Overview")
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Models", exact=True).click()
        settle(page)
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Model version").click()
        page.keyboard.type(p.name)
        page.keyboard.press("Enter")
        settle(page)
        assert f"Your decision on {p.name} v1" in check_clean(page, "Models")
        page.get_by_label("Note").fill("checked through the portal")
        page.keyboard.press("Enter")
        settle(page)
        page.get_by_role("button", name="Approve").click()
        settle(page)
        text = check_clean(page, "Models after approving")
        page.screenshot(path=str(tmp_path / "approved.png"), full_page=True)
        assert f"approve of {p.name} v1 recorded" in text, text[-2000:]
        browser.close()
    events = AuditStore.of(light_platform.data_dir).events(model=p.name)
    approvals = [e for e in events if e.action == audit.APPROVE]
    assert [(e.actor, e.details.get("via"), e.details.get("note")) for e in approvals] == [
        ("validator@example.com", PORTAL, "checked through the portal")
    ]
