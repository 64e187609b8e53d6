"""The trusted registry against real MLflow with basic-auth and the real registry service (issue #12,
tests 1-6, 8 and 10). CI jobs are played for real: a CI run recorded by the runner's account, a model
trained and logged with the project's own CI credential, then submitted to the service."""

from __future__ import annotations

import hashlib
import json

import mlflow
import pandas as pd
import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from shipyard import tags
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore
from shipyard.identity import ADMIN
from shipyard.identity.session import acting_as
from shipyard.registry.client import RegistryRefused

from .conftest import new_project

pytestmark = [pytest.mark.services, pytest.mark.slow]


def score_model(*args):
    # imported here: scoring imports scikit-learn, and every xdist worker collects this file
    from shipyard.registry.scoring import score_model

    return score_model(*args)


def _client(platform, who: str) -> MlflowClient:
    return MlflowClient(platform.endpoints.mlflow, platform.endpoints.mlflow)


def _refused(fn) -> RegistryRefused:
    with pytest.raises(RegistryRefused) as info:
        fn()
    return info.value


def _forbidden(platform, who, fn) -> None:
    with acting_as(platform.credentials(who)):
        with pytest.raises(MlflowException) as info:
            fn(_client(platform, who))
    assert "403" in str(info.value) or "PERMISSION_DENIED" in str(info.value), str(info.value)[:300]


# 1 ------------------------------------------------------------------------------------------------
def test_mlflow_refuses_anonymous_and_wrong_passwords(light_platform):
    url = f"{light_platform.endpoints.mlflow}/api/2.0/mlflow/experiments/search"
    assert requests.get(url, params={"max_results": 1}, timeout=30).status_code == 401
    wrong = requests.get(url, params={"max_results": 1}, auth=("validator@example.com", "nope"), timeout=30)
    assert wrong.status_code == 401
    validator = light_platform.credentials("validator@example.com")
    right = requests.get(url, params={"max_results": 1}, auth=validator.auth, timeout=60)
    assert right.status_code == 200
    assert (
        requests.post(
            f"{light_platform.endpoints.registry}/submit", json={"run_id": "x"}, timeout=30
        ).status_code
        == 401
    )


# 2, 4 --------------------------------------------------------------------------------------------
def test_ci_credential_cannot_bypass_the_platform(light_platform, tmp_path):
    p = new_project(light_platform)
    good = p.job(tmp_path, depth=6)
    first = p.submit(good)
    assert first["outcome"] == "registered" and first["version"] == "1", first
    with acting_as(light_platform.credentials(ADMIN)):
        assert MlflowClient(light_platform.endpoints.mlflow).get_registered_model(p.name).aliases == {
            "challenger": "1"
        }

    # a bad model whose run says "passed" (the CI credential may tag its own run): the tag is ignored
    bad = p.job(tmp_path, depth=6, noise=0.45, extra_tags={tags.GATE_RESULT: "passed"})
    verdict = p.submit(bad)
    assert verdict["outcome"] == "refused" and not verdict["passed"]
    assert any("below the platform minimum" in r for r in verdict["verdict"]["reasons"])

    ci = p.ci.username
    _forbidden(
        light_platform, ci, lambda c: c.create_model_version(p.name, f"runs:/{bad.run_id}/model", bad.run_id)
    )
    _forbidden(light_platform, ci, lambda c: c.set_registered_model_alias(p.name, tags.CHAMPION, "1"))
    _forbidden(light_platform, ci, lambda c: c.delete_registered_model_alias(p.name, tags.CHALLENGER))
    _forbidden(light_platform, ci, lambda c: c.set_model_version_tag(p.name, "1", tags.GATE_RESULT, "passed"))
    _forbidden(light_platform, ci, lambda c: c.create_run(_other_experiment(light_platform)))
    # a data scientist of the team: the same
    _forbidden(light_platform, "data-scientist@example.com",
               lambda c: c.set_registered_model_alias(p.name, tags.CHAMPION, "1"))  # fmt: skip


def _other_experiment(platform) -> str:
    other = new_project(platform, team="risk")
    return other.experiment_id


def test_champion_and_candidate_are_scored_on_the_same_data(light_platform, tmp_path):
    p = new_project(light_platform)
    assert p.submit(p.job(tmp_path, depth=6))["outcome"] == "registered"
    p.act("manager@example.com", 1, "promote")
    job = p.job(tmp_path, depth=5)
    result = p.submit(job)
    v = result["verdict"]
    data = job.eval_file.read_bytes()
    assert v["eval_hash"] == hashlib.sha256(data).hexdigest()
    frame = pd.read_csv(job.eval_file)
    assert v["eval_rows"] == len(frame)
    with acting_as(light_platform.credentials(ADMIN)):
        mlflow.set_tracking_uri(light_platform.endpoints.mlflow)
        champion = mlflow.pyfunc.load_model(f"models:/{p.name}/1")
        logged = MlflowClient(light_platform.endpoints.mlflow).search_logged_models(
            experiment_ids=[p.experiment_id], filter_string=f"source_run_id = '{job.run_id}'"
        )[0]
        candidate = mlflow.pyfunc.load_model(logged.model_uri)
    assert v["champion_version"] == "1"
    assert v["champion"] == score_model(champion, "classification", frame, "target")
    assert v["candidate"] == score_model(candidate, "classification", frame, "target")
    (event,) = [
        e
        for e in AuditStore.of(light_platform.data_dir).events(model=p.name)
        if e.details.get("run_id") == job.run_id
    ]
    assert event.details["eval_hash"] == v["eval_hash"] and event.details["champion"] == v["champion"]


# 3 ------------------------------------------------------------------------------------------------
def test_a_worse_model_is_refused_whatever_params_yaml_says(light_platform, tmp_path):
    p = new_project(light_platform)
    assert p.submit(p.job(tmp_path, depth=6))["outcome"] == "registered"
    p.act("manager@example.com", 1, "promote")
    params = tmp_path / "params.yaml"
    params.write_text("gate:\n  champion_tolerance: 1.0\n  thresholds:\n    accuracy: {min: 0.1}\n")
    worse = p.job(tmp_path, depth=1, extra_tags={tags.GATE_RESULT: "passed"})
    with acting_as(p.ci):
        MlflowClient(light_platform.endpoints.mlflow).log_artifact(worse.run_id, str(params))
        MlflowClient(light_platform.endpoints.mlflow).log_param(
            worse.run_id, "gate.champion_tolerance", "1.0"
        )
    result = p.submit(worse)
    assert result["outcome"] == "refused"
    assert any(
        "worse than champion v1" in r and "platform tolerance 0.01" in r for r in result["verdict"]["reasons"]
    )
    with acting_as(light_platform.credentials(ADMIN)):
        versions = MlflowClient(light_platform.endpoints.mlflow).search_model_versions(f"name = '{p.name}'")
    assert [v.version for v in versions] == ["1"]


# 5 ------------------------------------------------------------------------------------------------
def test_another_branch_never_registers_and_its_dry_run_is_recorded(light_platform, tmp_path):
    p = new_project(light_platform)
    job = p.job(tmp_path, depth=6, branch="try-something")
    result = p.submit(job)
    assert result["outcome"] == "dry-run" and result["passed"] and result["version"] is None
    with acting_as(light_platform.credentials(ADMIN)):
        assert MlflowClient(light_platform.endpoints.mlflow).search_model_versions(f"name = '{p.name}'") == []
    (event,) = AuditStore.of(light_platform.data_dir).events(model=p.name)
    assert event.action == audit.SUBMIT_DRY_RUN and event.details["branch"] == "try-something"
    assert event.details["run_id"] == job.run_id


# 6 ------------------------------------------------------------------------------------------------
def test_four_eyes_approvals_and_promotion_of_a_high_tier_model(light_platform, tmp_path):
    p = new_project(light_platform, team="demo", tier="high")
    assert p.submit(p.job(tmp_path, depth=6))["version"] == "1"
    cases = {
        "data-scientist@example.com": "not an approver",  # the author's team owner
        "analyst@example.com": "not an approver",  # a team member
        "auditor@example.com": "not an approver",
    }
    for who, reason in cases.items():
        refused = _refused(lambda who=who: p.act(who, 1, "approve"))
        assert reason in refused.reason and "\n" not in refused.reason
    p.act("validator@example.com", 1, "approve")
    twice = _refused(lambda: p.act("validator@example.com", 1, "approve"))
    assert "already approved" in twice.reason
    short = _refused(lambda: p.act("manager@example.com", 1, "promote"))
    assert "needs 2 distinct approvals" in short.reason and "has 1" in short.reason
    member = _refused(lambda: p.act("analyst@example.com", 1, "promote"))
    assert "may not promote" in member.reason
    p.act("second-validator@example.com", 1, "approve")
    done = p.act("manager@example.com", 1, "promote", "two validators signed off")
    assert done["action"] == "promote" and done["previous"] is None
    with acting_as(light_platform.credentials(ADMIN)):
        assert MlflowClient(light_platform.endpoints.mlflow).get_registered_model(p.name).aliases == {
            "champion": "1"
        }
    events = AuditStore.of(light_platform.data_dir).events(model=p.name)
    assert [e.action for e in events] == [
        audit.SUBMIT_REGISTERED,
        audit.APPROVE,
        audit.APPROVE,
        audit.PROMOTE,
    ]
    assert events[-1].details["approvals"] == ["validator@example.com", "second-validator@example.com"]


def test_a_team_owner_cannot_approve_their_teams_model(light_platform, tmp_path):
    """risk-lead owns team risk (and is no approver). The approver-inside-the-team rule itself is
    checked by `spec validate` (enough approvers outside each team) and by the service."""
    p = new_project(light_platform, team="risk", tier="medium")
    assert p.submit(p.job(tmp_path, depth=6))["version"] == "1"
    refused = _refused(lambda: p.act("risk-lead@example.com", 1, "approve"))
    assert "not an approver" in refused.reason


def test_rollback_is_recorded_as_such(light_platform, tmp_path):
    p = new_project(light_platform)
    assert p.submit(p.job(tmp_path, depth=6))["version"] == "1"
    p.act("manager@example.com", 1, "promote")
    assert p.submit(p.job(tmp_path, depth=7))["version"] == "2"
    assert p.act("manager@example.com", 2, "promote")["previous"] == "1"
    back = p.act("manager@example.com", 1, "promote", "v2 misbehaves")
    assert back["action"] == audit.ROLLBACK and back["previous"] == "2"


# 8 ------------------------------------------------------------------------------------------------
def test_moving_champion_directly_in_mlflow_is_a_finding(light_platform, tmp_path):
    p = new_project(light_platform)
    assert p.submit(p.job(tmp_path, depth=6))["version"] == "1"
    with acting_as(light_platform.credentials(ADMIN)):  # an admin acting straight in MLflow
        MlflowClient(light_platform.endpoints.mlflow).set_registered_model_alias(p.name, tags.CHAMPION, "1")
    result = light_platform.cli("audit", "log", "--model", p.name, "--json")
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)
    findings = [e for e in events if e["action"] == audit.FINDING]
    assert len(findings) == 1 and "champion" in findings[0]["details"]["what"]
    again = json.loads(light_platform.cli("audit", "log", "--model", p.name, "--json").stdout)
    assert len([e for e in again if e["action"] == audit.FINDING]) == 1  # recorded once
    assert light_platform.cli("audit", "verify").returncode == 0


# independent validation (SR 11-7) ------------------------------------------------------------------
def test_a_validators_independent_set_gates_candidates_and_the_team_cannot_read_it(light_platform, tmp_path):
    p = new_project(light_platform)
    first = p.job(tmp_path, depth=6)
    assert p.submit(first)["outcome"] == "registered"
    p.act("manager@example.com", 1, "promote")
    frame = pd.read_csv(first.eval_file)
    flipped = tmp_path / "bank-sample-2026.csv"  # labels reversed: no sensible model passes on it
    frame.assign(target=1 - frame["target"]).to_csv(flipped, index=False)

    member = light_platform.cli_as("analyst@example.com", "model", "validation-set", p.name, str(flipped))
    assert member.returncode == 2 and "not a validator" in member.stderr, member.stderr
    no_label = tmp_path / "no-label.csv"
    frame.drop(columns=["target"]).to_csv(no_label, index=False)
    refused = light_platform.cli_as("validator@example.com", "model", "validation-set", p.name, str(no_label))
    assert refused.returncode == 2 and "no 'target' column" in refused.stderr, refused.stderr
    done = light_platform.cli_as(
        "validator@example.com", "model", "validation-set", p.name, str(flipped), "--note", "bank sample"
    )
    assert done.returncode == 0 and f"{len(frame)} rows" in done.stdout, done.stderr
    digest = hashlib.sha256(flipped.read_bytes()).hexdigest()
    (event,) = AuditStore.of(light_platform.data_dir).events(model=p.name, action=audit.VALIDATION_SET)
    assert event.actor == "validator@example.com" and event.details["sha256"] == digest

    vrun = event.details["run_id"]  # the team may not read it: neither the CI job nor its people
    for who in (p.ci.username, "analyst@example.com", "data-scientist@example.com"):
        _forbidden(light_platform, who, lambda c: c.get_run(vrun))
        _forbidden(light_platform, who, lambda c: c.download_artifacts(vrun, "validation", str(tmp_path)))
    with acting_as(light_platform.credentials("auditor@example.com")):
        assert MlflowClient(light_platform.endpoints.mlflow).get_run(vrun).info.run_id == vrun

    same = p.job(tmp_path, depth=6)  # as good as the champion on its held-out split
    result = p.submit(same)
    v = result["verdict"]
    assert result["outcome"] == "refused" and not v["passed"], v["reasons"]
    assert any(r.startswith("held-out split: all platform thresholds met") for r in v["reasons"])
    on_set = [r for r in v["reasons"] if r.startswith("independent validation set:")]
    assert on_set and any("below the platform minimum" in r for r in on_set)
    other = v["validation"]
    assert other["sha256"] == digest and other["rows"] == len(frame)
    assert other["registered_by"] == "validator@example.com" and other["champion_version"] == "1"
    with acting_as(light_platform.credentials(ADMIN)):
        mlflow.set_tracking_uri(light_platform.endpoints.mlflow)
        champion = mlflow.pyfunc.load_model(f"models:/{p.name}/1")
    assert other["champion"] == score_model(champion, "classification", pd.read_csv(flipped), "target")
    (refusal,) = [
        e
        for e in AuditStore.of(light_platform.data_dir).events(model=p.name, action=audit.SUBMIT_REFUSED)
        if e.details["run_id"] == same.run_id
    ]
    assert refusal.details["validation"]["sha256"] == digest

    # an admin swapping the file in MLflow is caught: the audit event holds the hash
    swapped = tmp_path / "swap" / "validation.csv"
    swapped.parent.mkdir()
    frame.to_csv(swapped, index=False)
    with acting_as(light_platform.credentials(ADMIN)):
        MlflowClient(light_platform.endpoints.mlflow).log_artifact(vrun, str(swapped), "validation")
    tampered = _refused(lambda: p.submit(p.job(tmp_path, depth=6)))
    assert tampered.status == 409 and "changed outside the platform" in tampered.reason


# login / whoami -----------------------------------------------------------------------------------
def test_login_and_whoami_act_as_the_signed_in_person(light_platform):
    env = {k: v for k, v in light_platform.env.items() if not k.startswith("MLFLOW_TRACKING_")}
    from tests.fixtures.embedded_platform import shipyard

    clean = {**env, "MLFLOW_TRACKING_USERNAME": "", "MLFLOW_TRACKING_PASSWORD": ""}
    pw = light_platform.credentials("validator@example.com").password
    wrong = shipyard(
        "login", "--user", "validator@example.com", "--password-stdin", env=clean, input_text="nope\n"
    )
    assert wrong.returncode == 2 and "refused" in wrong.stderr
    ok = shipyard(
        "login", "--user", "Validator@Example.com", "--password-stdin", env=clean, input_text=pw + "\n"
    )
    assert ok.returncode == 0, ok.stderr
    assert pw not in ok.stdout
    login = light_platform.data_dir / "identity" / "login.json"
    assert oct(login.stat().st_mode & 0o777) == "0o600"
    who = shipyard("whoami", env=clean)
    assert who.returncode == 0 and who.stdout.startswith("validator@example.com (approver")
    shipyard("logout", env=clean)


def test_show_password_outside_the_checkout_uses_the_spec_up_recorded(light_platform, tmp_path):
    """docs/ci.md: `shipyard login --user ci-<project> --show-password` from anywhere, given the data dir."""
    from tests.fixtures.embedded_platform import shipyard

    user, data_dir = "data-scientist@example.com", str(light_platform.data_dir)
    no_spec = {**light_platform.env, "SHIPYARD_SPEC": "", "SHIPYARD_HOME": ""}  # and no ./platform.yaml
    expected = light_platform.credentials(user).password + "\n"
    show = ("login", "--user", user, "--show-password")
    flag = shipyard(*show, "--data-dir", data_dir, env=no_spec, cwd=tmp_path)
    assert (flag.returncode, flag.stdout) == (0, expected), flag.stderr
    home = shipyard(*show, env={**no_spec, "SHIPYARD_HOME": data_dir}, cwd=tmp_path)
    assert (home.returncode, home.stdout) == (0, expected), home.stderr
    audit = shipyard("audit", "verify", "--data-dir", data_dir, env=no_spec, cwd=tmp_path)
    assert audit.returncode == 0 and "audit log verified" in audit.stdout, audit.stderr


# 10 (last: it restarts the session's platform) -----------------------------------------------------
def test_down_up_keeps_users_permissions_and_the_chain(light_platform, tmp_path):
    p = new_project(light_platform)
    assert p.submit(p.job(tmp_path))["version"] == "1"
    store = AuditStore.of(light_platform.data_dir)
    head, count = store.head(), store.verify().count
    light_platform.down()
    light_platform.up()
    url = f"{light_platform.endpoints.mlflow}/api/2.0/mlflow/experiments/search"
    validator = light_platform.credentials("validator@example.com")
    assert requests.get(url, params={"max_results": 1}, auth=validator.auth, timeout=60).status_code == 200
    assert requests.get(url, params={"max_results": 1}, timeout=30).status_code == 401
    _forbidden(
        light_platform, p.ci.username, lambda c: c.set_registered_model_alias(p.name, tags.CHAMPION, "1")
    )
    check = AuditStore.of(light_platform.data_dir).verify()
    assert (
        check.ok
        and check.count >= count
        and AuditStore.of(light_platform.data_dir).events()[count - 1].hash == head
    )
    assert light_platform.cli("audit", "verify").returncode == 0
    assert p.act("manager@example.com", 1, "promote")["action"] == audit.PROMOTE  # the service is back too
