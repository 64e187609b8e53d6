"""The portal signs people in against the platform's identities (real MLflow with basic-auth), shows
the Audit page and exports to an auditor (and to nobody else, issue #32), no approve button to a team
member, and marks red a champion moved outside the platform, never showing it as the project's on the
Overview (issue #12, tests 8 and 9 in AppTest; the browser run is not automated yet). An unknown email
and a wrong password get the same message; a run of wrong passwords waits."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient
from shipyard import tags
from shipyard.audit import names as audit
from shipyard.identity import ADMIN
from shipyard.identity.session import acting_as
from shipyard.registry import client as registry
from streamlit.testing.v1 import AppTest

from tests.fixtures.embedded_platform import REPO
from tests.portal.conftest import PORTAL_ENV_VARS, clear_caches

from .conftest import new_project

pytestmark = [pytest.mark.services, pytest.mark.slow]
HOME = str(REPO / "portal" / "Home.py")


@pytest.fixture
def portal_env(light_platform, monkeypatch):
    # the portal's caches live in this process: a page run by an earlier suite must not hand its
    # platform's config (another MLflow, another data dir) to these pages
    for key in PORTAL_ENV_VARS:
        monkeypatch.delenv(key, raising=False)
    clear_caches()
    for key, value in {
        "SHIPYARD_SPEC": str(light_platform.spec_path),
        "SHIPYARD_HOME": str(light_platform.data_dir),
        **light_platform.endpoints.to_env(),
        **light_platform.credentials("shipyard-portal").env(),
    }.items():
        monkeypatch.setenv(key, value)
    yield light_platform
    clear_caches()


def sign_in(at: AppTest, email: str, password: str) -> AppTest:
    at.text_input[0].input(email)
    at.text_input[1].input(password)
    at.button[0].click().run()
    return at


def test_anonymous_visitor_sees_only_the_sign_in_form(portal_env):
    at = AppTest.from_file(HOME, default_timeout=120).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Email", "Password"]
    assert not at.dataframe and not at.metric
    assert not any("has no login" in w.value for w in at.warning)  # MLflow with auth: no open-platform note
    sign_in(at, "auditor@example.com", "wrong-password")
    assert any("wrong email or password" in e.value for e in at.error)
    assert "user" not in at.session_state
    wrong = [e.value for e in at.error]
    sign_in(at, "nobody@example.com", "x")  # the same words: the form tells nobody who is a person
    assert [e.value for e in at.error] == wrong and not any("not a person" in e for e in wrong)


def test_a_run_of_wrong_passwords_waits_even_for_the_right_one(portal_env):
    at = AppTest.from_file(HOME, default_timeout=120).run()
    for n in range(5):
        sign_in(at, "risk-lead@example.com", f"guess-{n}")
        assert any("wrong email or password" in e.value for e in at.error)
    sign_in(at, "risk-lead@example.com", portal_env.credentials("risk-lead@example.com").password)
    assert any("too many failed sign-ins" in e.value for e in at.error), [e.value for e in at.error]
    assert "user" not in at.session_state


def test_a_team_member_and_a_manager_do_not_read_the_audit_log(portal_env):
    for who in ("analyst@example.com", "manager@example.com"):
        at = AppTest.from_file(HOME, default_timeout=120)
        at.session_state["user"] = who
        at.switch_page("pages/6_Audit.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("read by auditors and platform admins" in w.value for w in at.warning), who
        assert not at.dataframe and not at.success and not at.get("download_button")


def test_auditor_sees_the_audit_page_and_exports(portal_env):
    at = AppTest.from_file(HOME, default_timeout=120).run()
    sign_in(at, "auditor@example.com", portal_env.credentials("auditor@example.com").password)
    assert at.session_state["user"] == "auditor@example.com"
    at.switch_page("pages/6_Audit.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value.startswith("Chain verified") for s in at.success)
    labels = {d.proto.label for d in at.get("download_button")}
    assert labels == {"Audit log (JSONL)", "Audit log (CSV)", "Shown events (JSONL)", "Shown events (CSV)"}
    seqs = list(at.dataframe[0].value["#"])
    assert len(seqs) > 1 and seqs == sorted(seqs, reverse=True)  # newest first
    actions = next(m for m in at.multiselect if m.label == "Action")
    actions.set_value([audit.GOVERNANCE_CHANGED]).run()  # `up` recorded the spec's governance
    shown = at.dataframe[0].value
    assert (
        set(shown["action"]) == {audit.GOVERNANCE_CHANGED}
        and shown["what"].str.startswith("governance").all()
    )


def test_team_member_gets_no_approve_button_and_a_moved_champion_is_red(portal_env, tmp_path):
    p = new_project(portal_env)
    assert p.submit(p.job(tmp_path))["version"] == "1"
    with acting_as(portal_env.credentials(ADMIN)):  # straight in MLflow, no platform event
        MlflowClient(portal_env.endpoints.mlflow).set_registered_model_alias(p.name, tags.CHAMPION, "1")
    with acting_as(portal_env.credentials("analyst@example.com")):  # a member's copy of the tier: a claim
        MlflowClient(portal_env.endpoints.mlflow).set_experiment_tag(
            p.experiment_id, tags.RISK_TIER, "medium"
        )
    at = AppTest.from_file(HOME, default_timeout=180)
    at.session_state["user"] = "analyst@example.com"
    at.switch_page("pages/2_Models.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(p.name in e.value and "did not arrive through the platform" in e.value for e in at.error)
    assert "Approve" not in [b.label for b in at.button]
    home = AppTest.from_file(HOME, default_timeout=180)
    home.session_state["user"] = "auditor@example.com"  # the auditor's view has the risk tier column
    home.run()
    assert not home.exception, [e.value for e in home.exception]
    (overview,) = [d.value for d in home.dataframe if "champion" in d.value.columns]
    row = overview.set_index("project").loc[p.name]
    assert row["champion"] == "-" and row["status"] == "red" and "not set through the platform" in row["why"]
    assert row["risk tier"] == "low"  # the registry's record, not the tag


def test_the_models_page_shows_a_versions_independent_validation_evidence(portal_env, tmp_path):
    p = new_project(portal_env)
    job = p.job(tmp_path)
    validator = portal_env.credentials("validator@example.com")
    held_out = job.eval_file.read_text()  # a set the model passes: the version is registered
    registry.validation_set(portal_env.endpoints.registry, validator, p.name, held_out, "q3.csv")
    assert p.submit(job)["version"] == "1"
    at = AppTest.from_file(HOME, default_timeout=180)
    at.session_state["user"] = "auditor@example.com"
    at.switch_page("pages/2_Models.py").run()
    assert not at.exception, [e.value for e in at.exception]
    (versions,) = [s for s in at.selectbox if s.label == "Model version"]
    versions.select_index(next(i for i, o in enumerate(versions.options) if p.name in o)).run()
    shown = [m.value for m in at.markdown]
    assert any(m.startswith("**Independent validation set**") and "validator@example.com" in m for m in shown)
