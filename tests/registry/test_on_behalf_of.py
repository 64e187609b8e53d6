"""The portal acting for a person signed in through its OIDC proxy (issue #12, the portal under OIDC):
it calls the real registry service as its own account `shipyard-portal` with
`X-Shipyard-On-Behalf-Of: <email>`. The registry takes the header from that account only, applies the
person's rules exactly as on their own call, and records the person as the actor with `"via":
"shipyard-portal"` in the audit event (the hash chain still verifies). Real MLflow with basic-auth.

Only a registry whose platform runs the portal behind the identity proxy takes the header
(``proxied_registry``: ``--portal-behind-proxy``); the embedded platform's own registry, whose portal
signs people in itself, refuses it (issue #32)."""

from __future__ import annotations

import pytest
import requests
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore
from shipyard.identity import PORTAL, REGISTRY, RUNNER
from shipyard.registry import client as registry
from shipyard.registry.client import RegistryRefused
from shipyard.registry.names import ON_BEHALF_OF

from .conftest import new_project

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _refused(fn) -> RegistryRefused:
    with pytest.raises(RegistryRefused) as info:
        fn()
    return info.value


def _as_portal(p, version, action: str, person: str, note: str = "", url: str | None = None) -> dict:
    return registry.version_action(
        url or p.proxied, p.platform.credentials(PORTAL), p.name, int(version), action, note,
        on_behalf_of=person,
    )  # fmt: skip


def test_a_portal_in_sign_in_mode_cannot_act_on_behalf_of_anyone(light_platform, tmp_path):
    """The attack of issue #32: the portal's password (readable by a CI job then) with the header made
    anyone both validators and the manager, though the embedded portal runs in sign-in mode."""
    p = new_project(light_platform, team="demo", tier="high")
    assert p.submit(p.job(tmp_path, depth=6))["version"] == "1"
    url = light_platform.endpoints.registry  # `shipyard up`'s registry: its portal signs people in itself
    before = len(AuditStore.of(light_platform.data_dir).events())
    for person, action in (("validator@example.com", "approve"), ("second-validator@example.com", "approve"),
                           ("manager@example.com", "promote")):  # fmt: skip
        refused = _refused(lambda person=person, action=action: _as_portal(p, 1, action, person, url=url))
        assert refused.status == 403 and "\n" not in refused.reason, refused.reason
        assert "does not run behind the identity proxy" in refused.reason, refused.reason
    who = requests.get(f"{url}/whoami", auth=light_platform.credentials(PORTAL).auth,
                       headers={ON_BEHALF_OF: "manager@example.com"}, timeout=30)  # fmt: skip
    assert who.status_code == 403
    assert len(AuditStore.of(light_platform.data_dir).events()) == before  # nothing recorded


def test_the_portal_acts_for_a_person_and_the_audit_log_says_so(light_platform, proxied_registry, tmp_path):
    p = new_project(light_platform, team="demo", tier="high")
    p.proxied = proxied_registry
    assert p.submit(p.job(tmp_path, depth=6))["version"] == "1"
    url = proxied_registry
    portal = light_platform.credentials(PORTAL)

    who = requests.get(f"{url}/whoami", auth=portal.auth, headers={ON_BEHALF_OF: "Validator@Example.com"},
                       timeout=30)  # fmt: skip
    assert who.json() == {"user": "validator@example.com", "via": PORTAL}
    assert requests.get(f"{url}/whoami", auth=portal.auth, timeout=30).json() == {"user": PORTAL}

    done = _as_portal(p, 1, "approve", "Validator@Example.com", "looked at the evidence")
    assert done["approved_by"] == ["validator@example.com"]
    # the same person again, directly: the approval the portal made counts as theirs
    twice = _refused(lambda: p.act("validator@example.com", 1, "approve"))
    assert twice.status == 409 and "already approved" in twice.reason
    p.act("second-validator@example.com", 1, "approve")  # a direct call, as before
    _as_portal(p, 1, "promote", "manager@example.com", "via the portal")

    store = AuditStore.of(light_platform.data_dir)
    events = store.events(model=p.name)
    assert [(e.action, e.actor, e.details.get("via")) for e in events] == [
        (audit.SUBMIT_REGISTERED, p.ci.username, None),
        (audit.APPROVE, "validator@example.com", PORTAL),
        (audit.APPROVE, "second-validator@example.com", None),
        (audit.PROMOTE, "manager@example.com", PORTAL),
    ]
    assert events[1].details["note"] == "looked at the evidence"
    assert events[-1].details["approvals"] == ["validator@example.com", "second-validator@example.com"]
    assert store.verify().ok


def test_only_the_portals_account_may_act_on_behalf_of_someone(light_platform, proxied_registry, tmp_path):
    p = new_project(light_platform, team="demo", tier="high")
    p.proxied = proxied_registry
    assert p.submit(p.job(tmp_path, depth=6))["version"] == "1"
    url = proxied_registry
    before = len(AuditStore.of(light_platform.data_dir).events())
    for caller in ("second-validator@example.com", "manager@example.com", REGISTRY, RUNNER, p.ci.username):
        creds = light_platform.credentials(caller)
        refused = _refused(
            lambda creds=creds: registry.version_action(
                url, creds, p.name, 1, "approve", on_behalf_of="validator@example.com"
            )
        )
        assert refused.status == 403, (caller, refused.reason)
        assert "may not act on behalf of others" in refused.reason and "\n" not in refused.reason
        who = requests.get(f"{url}/whoami", auth=light_platform.credentials(caller).auth,
                           headers={ON_BEHALF_OF: "validator@example.com"}, timeout=30)  # fmt: skip
        assert who.status_code == 403, caller
    # a wrong password with the header: not signed in at all (401), the header changes nothing
    bad = requests.post(f"{url}/models/{p.name}/versions/1/approve", json={}, auth=(PORTAL, "wrong"),
                        headers={ON_BEHALF_OF: "validator@example.com"}, timeout=30)  # fmt: skip
    assert bad.status_code == 401
    # the portal for nobody of the platform, or for a service account: refused
    for nobody in ("stranger@example.com", REGISTRY, PORTAL):
        refused = _refused(lambda nobody=nobody: _as_portal(p, 1, "approve", nobody))
        assert refused.status == 403 and "is not a person of this platform" in refused.reason, nobody
    portal = light_platform.credentials(PORTAL).auth
    empty = requests.post(f"{url}/models/{p.name}/versions/1/approve", json={}, timeout=30, auth=portal,
                          headers={ON_BEHALF_OF: ""})  # fmt: skip
    assert empty.status_code == 403 and "(empty) is not a person" in empty.json()["error"]
    assert len(AuditStore.of(light_platform.data_dir).events()) == before  # nothing recorded


def test_on_behalf_of_refuses_exactly_what_the_persons_own_call_is_refused(
    light_platform, proxied_registry, tmp_path
):
    p = new_project(light_platform, team="demo", tier="high")
    p.proxied = proxied_registry
    assert p.submit(p.job(tmp_path, depth=6))["version"] == "1"
    # the portal's own account is no approver: it cannot approve as itself
    itself = _refused(lambda: p.act(PORTAL, 1, "approve"))
    assert itself.status == 403 and "not an approver" in itself.reason
    for who in ("data-scientist@example.com", "analyst@example.com", "auditor@example.com"):  # author's team
        direct = _refused(lambda who=who: p.act(who, 1, "approve"))
        through = _refused(lambda who=who: _as_portal(p, 1, "approve", who))
        assert (through.status, through.reason) == (direct.status, direct.reason), who
        assert through.status == 403 and "not an approver" in through.reason
    promote_direct = _refused(lambda: p.act("analyst@example.com", 1, "promote"))
    promote_through = _refused(lambda: _as_portal(p, 1, "promote", "analyst@example.com"))
    assert (promote_through.status, promote_through.reason) == (promote_direct.status, promote_direct.reason)
    # a risk-team model: its owner is refused through the portal as directly
    r = new_project(light_platform, team="risk", tier="medium")
    r.proxied = proxied_registry
    assert r.submit(r.job(tmp_path, depth=6))["version"] == "1"
    direct = _refused(lambda: r.act("risk-lead@example.com", 1, "approve"))
    through = _refused(lambda: _as_portal(r, 1, "approve", "risk-lead@example.com"))
    assert (through.status, through.reason) == (direct.status, direct.reason)
    events = AuditStore.of(light_platform.data_dir).events()
    assert not [e for e in events if e.model in (p.name, r.name) and e.action == audit.APPROVE]
