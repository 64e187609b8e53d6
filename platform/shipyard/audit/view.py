"""What the portal shows of the audit log: chain status, events (after a reconcile with MLflow), the
champions that did not arrive through the platform, and per-model promotion history."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shipyard import tags
from shipyard.audit import names as audit
from shipyard.audit.store import Event, Verification, open_store


@dataclass
class AuditView:
    verification: Verification
    events: list[Event]
    ungoverned_champions: dict[str, str] = field(default_factory=dict)  # model -> what the finding says
    error: str | None = None

    def history(self, model: str) -> list[Event]:
        """Registrations, approvals, promotions and rollbacks of one model, oldest first."""
        kinds = {
            audit.SUBMIT_REGISTERED,
            audit.APPROVE,
            audit.PROMOTE,
            audit.ROLLBACK,
            audit.REJECT,
            audit.RETIRE,
        }
        return [e for e in self.events if e.model == model and e.action in kinds]


def load_audit(root: Path, tracking_uri: str | None) -> AuditView | None:
    """None when the platform with data dir ``root`` keeps no audit log here (a cluster's lives in its
    database: read when SHIPYARD_AUDIT_DATABASE_URL is set; a database that does not answer raises
    ServiceUnavailable)."""
    store = open_store(root)
    if store is None:
        return None
    error = None
    ungoverned: dict[str, str] = {}
    if tracking_uri:
        from shipyard.audit.reconcile import findings, reconcile

        try:
            reconcile(store, tracking_uri)
            for f in findings(store, tracking_uri):
                if f.key.startswith((f"alias:{f.model}:{tags.CHAMPION}:", "ungoverned:")):
                    ungoverned[f.model] = f.what
        except Exception as exc:  # MLflow down: the log itself still shows
            error = f"could not compare with MLflow: {type(exc).__name__}"
    from shipyard.audit.witness import check

    return AuditView(check(store, root), store.events(), ungoverned, error)
