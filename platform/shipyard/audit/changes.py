"""Changes to the rules, in the audit log: the spec's governance (gates, champion tolerance, risk
tiers, the people who govern) as ``up`` finds it changed, and a project's risk tier changed on purpose.
Each event says who, what, and the values before and after."""

from __future__ import annotations

import getpass
from pathlib import Path

from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore, Event
from shipyard.identity.verified import verified_account
from shipyard.spec.model import PlatformSpec

STATE = "state"  # the whole governance section after the change: the next comparison starts from it


def actor(data_dir: Path) -> str:
    """The verified signed-in account; else the operating system user, marked as not signed in."""
    return verified_account(data_dir) or f"{getpass.getuser()} (OS user, not signed in)"


def governance_state(spec: PlatformSpec) -> dict:
    return spec.governance.model_dump(mode="json")


def record_governance(store: AuditStore, spec: PlatformSpec, who: str, spec_file: str = "") -> Event | None:
    """Append an event when the spec's governance differs from the last one recorded (the first
    reading is recorded too, with nothing before it); None when nothing changed."""
    now = governance_state(spec)
    last = store.events(action=audit.GOVERNANCE_CHANGED)
    before = last[-1].details.get(STATE) if last else None
    if before == now:
        return None
    was = before or {}
    changed = sorted(k for k in set(now) | set(was) if was.get(k) != now.get(k))
    details = {
        "what": "governance " + ", ".join(changed),
        "before": {k: was.get(k) for k in changed} if before is not None else None,
        "after": {k: now.get(k) for k in changed},
        "spec": spec_file,
        STATE: now,
    }
    return store.append(who, audit.GOVERNANCE_CHANGED, details=details)
