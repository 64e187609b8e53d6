"""The portal when a service is down or the platform is empty: it says which service and shows what it
can; never a traceback. MLflow and Prometheus are real; "down" is a closed loopback port."""

from __future__ import annotations

import pytest

from .conftest import closed_port_url
from .test_pages import PAGES, frame, metrics, run

pytestmark = pytest.mark.services


def test_mlflow_down_every_page_names_it(portal_env):
    down = closed_port_url()
    portal_env(MLFLOW_TRACKING_URI=down)
    for page in [None, *PAGES[:3]]:
        at = run(page)
        errors = " ".join(e.value for e in at.error)
        assert "MLflow is unreachable" in errors and down in errors, page
    platform = frame(run("pages/5_Platform.py"), "service").set_index("service")
    assert platform.loc["MLflow", "status"] == "down"
    assert platform.loc["Prometheus", "status"] == "up"


def test_prometheus_down_overview_still_shows_mlflow_figures(portal_env, portal_data):
    s = portal_data.seeded
    portal_env(SHIPYARD_PROMETHEUS_URL=closed_port_url())
    at = run()
    assert any("Prometheus" in w.value for w in at.warning)
    table = frame(at, "project").set_index("project")
    assert set(table["drift"]) == {"unknown"}
    fraud = s.name("fraud")
    # drift evidence cannot be read: the fraud project's score falls back to what MLflow alone shows
    assert table.loc[fraud, "health"] == s.projects[fraud]["score_no_drift"]
    assert table.loc[fraud, "champion"] == f"{fraud} v2"
    project = run("pages/1_Project.py")
    project.selectbox[0].set_value(fraud).run()
    assert not project.exception
    assert any("Prometheus is unreachable" in w.value for w in project.warning)
    assert any("drift evidence not read" in w.value for w in project.warning)


def test_empty_platform_says_how_to_create_a_project(portal_env):
    portal_env(SHIPYARD_PORTAL_PREFIX="no-such-project-prefix-")
    for page in [None, *PAGES[:3]]:
        at = run(page)
        assert any("shipyard new" in i.value for i in at.info), page
    assert "Projects" not in metrics(run())


def test_no_prometheus_on_platform_means_required_drift_is_unmonitored(portal_env, portal_data):
    s = portal_data.seeded
    portal_env(SHIPYARD_PROMETHEUS_URL=None, SHIPYARD_PUSHGATEWAY_URL=None)
    table = frame(run(), "project").set_index("project")
    assert table.loc[s.name("fraud"), "drift"] == "unmonitored"  # high tier requires drift monitoring
    assert table.loc[s.name("churn"), "drift"] == "-"  # low tier does not


def test_audit_database_down_is_said_on_the_audit_and_models_pages(portal_env):
    # a cluster's audit log in Postgres that does not answer (a closed port): one message, no traceback
    down = closed_port_url().replace("http://", "postgresql://shipyard:secret@") + "/audit"
    portal_env(SHIPYARD_AUDIT_DATABASE_URL=down)
    audit = run("pages/6_Audit.py", role="auditor")
    errors = " ".join(e.value for e in audit.error)
    assert "audit log is unreachable" in errors and "secret" not in errors
    assert not audit.success  # no chain status without the log
    models = run("pages/2_Models.py")
    assert any("audit log is unreachable" in e.value for e in models.error)
    assert models.dataframe  # the registry's versions still show
