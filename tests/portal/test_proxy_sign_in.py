"""The portal behind its signing-in proxy (clusters whose MLflow uses OIDC): Streamlit started with the
cluster's command on 127.0.0.1 and ``SHIPYARD_PORTAL_IDENTITY=proxy-header``, opened in real headless
Chromium through a small header-adding proxy (tests/fixtures/header_proxy.py) standing in for the
oauth2-proxy sidecar, which cannot run here (it needs an OIDC provider). The person is signed in with
their role, no form; an unknown email gets the "has no role" message; a request without the header
gets no page content."""

from __future__ import annotations

import os
import sys

import pytest
from shipyard.identity.portal import (
    ENV_IDENTITY,
    FORWARDED_EMAIL,
    PROXY_HEADER,
    IdentityMisconfigured,
    identity_mode,
    proxy_person,
)
from shipyard.platform.portal import portal_command
from streamlit.testing.v1 import AppTest

from tests.fixtures.header_proxy import HeaderProxy
from tests.fixtures.mlflow_server import free_port
from tests.fixtures.portal_process import start_portal, stop_portal
from tests.portal.conftest import PORTAL
from tests.portal.test_browser import CHROMIUM, CHROMIUM_FLAGS, check_clean, settle

HOME = str(PORTAL / "Home.py")


# the mode itself: explicit, never guessed, and only on loopback -----------------------------------
def test_identity_mode_is_explicit_and_needs_loopback():
    assert identity_mode("0.0.0.0", {}) == "basic"  # unset: the form, as before
    assert identity_mode("127.0.0.1", {ENV_IDENTITY: PROXY_HEADER}) == PROXY_HEADER
    assert identity_mode("::1", {ENV_IDENTITY: PROXY_HEADER}) == PROXY_HEADER
    for address in ("0.0.0.0", "", None, "10.0.0.7", "::"):
        with pytest.raises(IdentityMisconfigured, match="trusted only with --server.address 127.0.0.1"):
            identity_mode(address, {ENV_IDENTITY: PROXY_HEADER})
    with pytest.raises(IdentityMisconfigured, match="is not one of"):
        identity_mode("127.0.0.1", {ENV_IDENTITY: "oidc"})
    assert proxy_person({FORWARDED_EMAIL: " Manager@Example.com "}) == "manager@example.com"
    assert proxy_person({}) is None and proxy_person({FORWARDED_EMAIL: " "}) is None


@pytest.mark.services
def test_proxy_header_mode_off_loopback_shows_nothing(portal_env, monkeypatch):
    """AppTest runs no server (no --server.address, i.e. every address): the mode refuses to trust."""
    monkeypatch.setenv(ENV_IDENTITY, PROXY_HEADER)
    at = AppTest.from_file(HOME, default_timeout=120).run()
    assert not at.exception
    assert any("sign-in is misconfigured" in e.value for e in at.error)
    assert not at.text_input and not at.dataframe and not at.metric


# the real portal behind a stand-in for the sidecar ------------------------------------------------
@pytest.fixture(scope="module")
def proxied_portal(portal_data, drift_pushed, tmp_path_factory):
    """The cluster's portal command (shipyard.platform.portal.portal_command, as infra's Deployment runs it
    under OIDC: 127.0.0.1, proxy-header), and the stand-in proxy in front of it."""
    port = free_port()
    tmp = tmp_path_factory.mktemp("proxied-portal")
    env = {
        **os.environ,
        ENV_IDENTITY: PROXY_HEADER,
        "SHIPYARD_SPEC": str(portal_data.spec),
        "SHIPYARD_HOME": str(tmp / "home"),
        "MLFLOW_TRACKING_URI": portal_data.mlflow,
        "SHIPYARD_PROMETHEUS_URL": drift_pushed.prometheus,
        "SHIPYARD_PUSHGATEWAY_URL": drift_pushed.pushgateway,
        "SHIPYARD_PORTAL_PREFIX": portal_data.seeded.prefix,
    }
    direct = f"http://127.0.0.1:{port}"
    cmd = portal_command(sys.executable, HOME, port, "127.0.0.1")
    proc = start_portal(cmd, env, tmp / "portal.log", direct, cwd=PORTAL)
    proxy = HeaderProxy(direct).start()
    try:
        yield proxy, direct
    finally:
        proxy.stop()
        stop_portal(proc)


@pytest.mark.services
@pytest.mark.browser
def test_the_person_the_proxy_names_is_signed_in_without_a_form(proxied_portal, tmp_path):
    from playwright.sync_api import sync_playwright

    proxy, direct = proxied_portal
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)

        def open_page(url: str, sent_email: str | None = None):
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            if sent_email:  # what a browser might try: the proxy drops it
                page.set_extra_http_headers({FORWARDED_EMAIL: sent_email})
            page.goto(url)
            settle(page)
            return page, check_clean(page, url)

        proxy.email = "Manager@Example.com"
        page, text = open_page(proxy.url, sent_email="auditor@example.com")
        assert "signed in as manager@example.com" in text and "single sign-on" in text
        assert "Projects\n\n3" in text  # the manager's Overview (tables are canvases)
        assert "Password" not in text and page.get_by_label("Password").count() == 0
        assert page.get_by_role("link", name="Sign out").get_attribute("href") == "/oauth2/sign_out"
        page.screenshot(path=str(tmp_path / "proxy-manager.png"), full_page=True)
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Models", exact=True).click()
        settle(page)
        assert "signed in as manager@example.com" in check_clean(page, "Models via proxy")

        proxy.email = "auditor@example.com"
        _, text = open_page(proxy.url)
        assert "signed in as auditor@example.com" in text and "Password" not in text

        proxy.email = "stranger@example.com"  # signed in at the provider, no person of this platform
        _, text = open_page(proxy.url)
        assert "stranger@example.com has no role on platform" in text
        assert "Projects" not in text and "Password" not in text

        for url in (proxy.url, direct):  # the proxy sends no header / Streamlit reached around the proxy
            proxy.email = None
            page, text = open_page(url, sent_email=None)
            assert "No signed-in person came with this request" in text
            assert "Projects" not in text and "signed in as" not in text and "Password" not in text
            assert page.locator('[data-testid="stDataFrame"], [data-testid="stMetric"]').count() == 0
        browser.close()
