"""The Models page: the inventory filtered by project and champion, its tallies, the table each role
sees, a version's promotion history and the platform's gate evidence from the audit log, and who may
approve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipyard import tags
from shipyard.audit import names as audit
from shipyard.audit.store import Event
from shipyard.catalog.inventory import InventoryRow
from shipyard.formatting import when
from shipyard.identity.names import APPROVER
from shipyard.identity.people import person
from shipyard.records.model import ModelVersion, Snapshot
from shipyard.spec.model import PlatformSpec

AUDITOR_FIRST = ["model", "version", "aliases", "risk tier", "gate", "approvals", "lineage"]


def projects(rows: Sequence[InventoryRow]) -> list[str]:
    return sorted({r.project for r in rows if r.project})


def is_champion(row: InventoryRow) -> bool:
    return tags.CHAMPION in row.aliases


def select(rows: Sequence[InventoryRow], chosen: Sequence[str], champions_only: bool) -> list[InventoryRow]:
    """The versions of the chosen projects (none chosen: all), champions only if asked."""
    rows = [r for r in rows if not chosen or r.project in chosen]
    return [r for r in rows if not champions_only or is_champion(r)]


@dataclass(frozen=True)
class Tally:
    models: int
    versions: int
    champions: int
    failed_gate: int


def tally(rows: Sequence[InventoryRow]) -> Tally:
    return Tally(
        models=len({r.model for r in rows}),
        versions=len(rows),
        champions=sum(1 for r in rows if is_champion(r)),
        failed_gate=sum(1 for r in rows if r.gate == "failed"),
    )


def table(rows: Sequence[InventoryRow], role: str) -> list[dict[str, object]]:
    """One row per version; the auditor sees aliases, risk tier, gate, approvals and lineage first."""
    out = [
        {
            "model": r.model,
            "version": r.version,
            "aliases": r.aliases or "-",
            "gate": r.gate or "-",
            "key metrics": r.metrics,
            "risk tier": r.risk_tier,
            "owner": r.owner,
            "approvals": r.approvals or "-",
            "reproduced": r.reproduced or "-",
            "created by": r.created_by or "(not recorded)",
            "created at (UTC)": when(r.created_at),
            "lineage": r.lineage,
        }
        for r in rows
    ]
    if role == "auditor":
        out = [{k: r[k] for k in AUDITOR_FIRST} | r for r in out]
    return out


def version_label(row: InventoryRow) -> str:
    return f"{row.model} v{row.version}" + (f" ({row.aliases})" if row.aliases else "")


def history_rows(history: Sequence[Event]) -> list[dict[str, object]]:
    """A model's promotion history from the audit log, oldest first."""
    return [
        {
            "at (UTC)": when(e.at),
            "who": e.actor,
            "action": e.action,
            "version": e.version,
            "from": e.details.get("previous") or "-",
            "note": e.details.get("note", ""),
        }
        for e in history
    ]


@dataclass(frozen=True)
class GateEvidence:
    """What the platform's gate compared when it registered a version (the last registration event)."""

    rows: object
    sha256: str
    candidate_vs_champion: dict[str, dict]
    validation: dict | None  # the independent validation set: rows, sha256, by, and the comparison
    reasons: str


def _side_by_side(compared: dict) -> dict[str, dict]:
    return {"candidate": compared.get("candidate", {}), "champion then": compared.get("champion") or {}}


def gate_evidence(history: Sequence[Event], version: int) -> GateEvidence | None:
    registered = [e for e in history if e.action == audit.SUBMIT_REGISTERED and e.version == str(version)]
    if not registered:
        return None
    ev = registered[-1].details
    other = ev.get("validation")
    validation = None
    if other:
        validation = {
            "rows": other.get("rows"),
            "sha256": str(other.get("sha256", ""))[:16],
            "by": other.get("registered_by"),
            "comparison": _side_by_side(other),
        }
    return GateEvidence(
        rows=ev.get("eval_rows"),
        sha256=str(ev.get("eval_hash", ""))[:16],
        candidate_vs_champion=_side_by_side(ev),
        validation=validation,
        reasons="; ".join(ev.get("reasons", [])),
    )


def may_decide(spec: PlatformSpec, user: str) -> bool:
    """Whether the signed-in person is an approver (approve/reject buttons)."""
    return APPROVER in (getattr(person(spec, user), "roles", None) or ())


def model_version(snap: Snapshot, row: InventoryRow) -> ModelVersion:
    return next(v for v in snap.versions if v.model == row.model and v.version == row.version)
