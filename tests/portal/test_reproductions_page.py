"""The Audit page lists each champion's last reproduction (from the audit log)."""

from __future__ import annotations

from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore

from .test_pages import frame, run


def test_the_audit_page_lists_the_last_reproduction_per_champion(portal_env, tmp_path, monkeypatch):
    store = AuditStore.of(tmp_path)
    store.append("manager@example.com", audit.PROMOTE, "fraud", "fraud", "2")
    store.append("validator@example.com", audit.REPRODUCE_PASSED, "fraud", "fraud", "2", {"cause": ""})
    store.append("manager@example.com", audit.PROMOTE, "churn", "churn", "1")
    store.append("auditor@example.com", audit.REPRODUCE_FAILED, "churn", "churn", "1",
                 {"cause": "data", "message": "the DVC remote's file f is corrupted"})  # fmt: skip
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path))
    table = frame(run("pages/6_Audit.py", role="auditor"), "last reproduction")
    rows = {r["model"]: r for r in table.to_dict("records")}
    assert rows["fraud"]["last reproduction"].startswith("reproduced ✔") and rows["fraud"]["champion"] == "v2"
    assert rows["churn"]["last reproduction"].startswith("NOT reproduced ✘")
    assert "corrupted" in rows["churn"]["why not"]
