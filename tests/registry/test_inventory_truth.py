"""The inventory tells who and why (issue 34): a registered version names the signed-in account that
pushed the commit CI trained it from; promotion, rollback and retirement need a reason, which the
audit event keeps. Real MLflow with basic-auth and the real registry service (``light_platform``)."""

from __future__ import annotations

import json

import pytest
from shipyard import tags
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore
from shipyard.catalog import inventory, load_snapshot
from shipyard.identity.session import acting_as
from shipyard.records import MlflowApi
from shipyard.registry.client import RegistryRefused

from tests.fixtures.model_card import CARD

from .conftest import new_project

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _refused(fn) -> RegistryRefused:
    with pytest.raises(RegistryRefused) as info:
        fn()
    return info.value


def test_a_registered_version_names_the_pusher_as_its_creator(light_platform, tmp_path):
    p = new_project(light_platform)
    # the hook's verified pusher, in the runner's job record (what the registry trusts)
    job = p.job(tmp_path, pushed_by="data-scientist@example.com")
    with acting_as(p.ci):  # the project's own CI credential claims someone else pushed: not evidence
        MlflowApi(light_platform.endpoints.mlflow).set_tag(
            job.ci_run_id, tags.CI_PUSHED_BY, "forged@example.com"
        )
    result = p.submit(job)
    assert result["outcome"] == "registered"
    (event,) = AuditStore.of(light_platform.data_dir).events(model=p.name, action=audit.SUBMIT_REGISTERED)
    assert event.details["pushed_by"] == "data-scientist@example.com"
    with acting_as(light_platform.credentials("manager@example.com")):
        snapshot = load_snapshot(light_platform.endpoints, p.name, refresh=True)
    rows = [r for r in inventory(light_platform.spec, snapshot) if r.model == p.name]
    assert [(r.version, r.created_by) for r in rows] == [(1, "data-scientist@example.com")]


def test_promotion_rollback_and_retirement_need_a_reason(light_platform, tmp_path):
    p = new_project(light_platform)
    assert p.submit(p.job(tmp_path, depth=6))["outcome"] == "registered"
    bare = _refused(lambda: p.act("manager@example.com", 1, "promote", "  "))
    assert bare.status == 422 and "promote of" in bare.reason and "needs a reason" in bare.reason
    p.act("manager@example.com", 1, "promote", "beats the baseline on March's data")
    # another model (another training parameter): the same one again would be `unchanged`, not v2
    assert p.submit(p.job(tmp_path, depth=7))["outcome"] == "registered"
    p.act("manager@example.com", 2, "promote", "retrained on April's data")
    back = _refused(lambda: p.act("manager@example.com", 1, "promote", ""))
    assert back.status == 422 and "rollback of" in back.reason
    p.act("manager@example.com", 1, "promote", "v2 misbehaves in production")
    retire = _refused(lambda: p.act("manager@example.com", 2, "retire", ""))
    # the server's note check (registry/notes.py) answers before the service's reason check
    assert retire.status == 400 and "a retire needs a reason" in retire.reason
    p.act("manager@example.com", 2, "retire", "superseded")
    events = AuditStore.of(light_platform.data_dir).events(model=p.name)
    reasons = [(e.action, e.version, e.details.get("reason")) for e in events if e.details.get("reason")]
    assert reasons == [
        (audit.PROMOTE, "1", "beats the baseline on March's data"),
        (audit.PROMOTE, "2", "retrained on April's data"),
        (audit.ROLLBACK, "1", "v2 misbehaves in production"),
        (audit.RETIRE, "2", "superseded"),
    ]


def test_a_missing_or_placeholder_model_card_fails_the_gate(light_platform, tmp_path):
    """Every tier of platform.yaml requires a model card (model_card_required, the default)."""
    p = new_project(light_platform)
    placeholder = CARD.replace("Radiologists of the screening programme", "_Not written yet: fill `users`._")
    for card, why in (
        (None, "no model card"),
        (placeholder, "'Users' still holds the template's placeholder"),
    ):
        result = p.submit(p.job(tmp_path, card=card))
        assert (result["outcome"], result["passed"]) == ("refused", False)
        assert any(why in reason for reason in result["verdict"]["reasons"]), result["verdict"]["reasons"]
    assert p.submit(p.job(tmp_path))["outcome"] == "registered"  # the same model with its card written


def test_the_cli_says_why_and_counts_approvals_in_words(light_platform, tmp_path):
    """`model promote` without --reason stops before asking the platform; approving a version of a
    tier that needs no approvals reads "none required" (never "1 of 0 required")."""
    p = new_project(light_platform)  # risk tier low: no approvals required
    assert p.submit(p.job(tmp_path))["outcome"] == "registered"
    bare = light_platform.cli_as("manager@example.com", "model", "promote", p.name, "1")
    assert bare.returncode == 2 and f"promote of {p.name} v1 needs a reason" in bare.stderr
    assert "fix: say why" in bare.stderr and "Traceback" not in bare.stderr
    approved = light_platform.cli_as("validator@example.com", "model", "approve", p.name, "1", "--note", "ok")
    assert approved.returncode == 0, approved.stderr
    assert "none required" in approved.stdout and "of 0 required" not in approved.stdout
    promoted = light_platform.cli_as(
        "manager@example.com", "model", "promote", p.name, "1", "--reason", "first model"
    )
    assert promoted.returncode == 0, promoted.stderr
    listed = json.loads(light_platform.cli_as("auditor@example.com", "model", "list", "--json").stdout)
    mine = [r for r in listed if r["model"] == p.name]
    assert [r["approvals"] for r in mine] == ["validator@example.com"]


def test_up_and_set_tier_leave_governance_and_tier_changes_in_the_audit_log(light_platform):
    store = AuditStore.of(light_platform.data_dir)
    (first, *_) = store.events(action=audit.GOVERNANCE_CHANGED)  # `up` read the spec's governance
    assert first.details["before"] is None and "gates" in first.details["after"]
    p = new_project(light_platform)
    moved = light_platform.cli_as(
        "platform-admin@example.com", "project", "set-tier", p.name, "medium", "--reason", "now scores loans"
    )
    assert moved.returncode == 0, moved.stderr
    (event,) = [
        e for e in store.events(project=p.name, action=audit.PROJECT_FACTS) if e.details.get("reason")
    ]
    assert event.actor == "platform-admin@example.com"  # the verified signed-in account
    assert (event.details["before"]["tier"], event.details["tier"], event.details["reason"]) == (
        "low",
        "medium",
        "now scores loans",
    )
