"""The model inventory with lineage (DVC data hash -> git commit -> MLflow run -> model version),
its exports for auditors, and the model card."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from shipyard import tags
from shipyard.health import Scorecard
from shipyard.platform.endpoints import Endpoints
from shipyard.records import MlflowApi, ModelVersion, Snapshot
from shipyard.spec.model import PlatformSpec


@dataclass(frozen=True)
class InventoryRow:
    model: str
    version: int
    aliases: str
    project: str
    team: str
    risk_tier: str
    owner: str
    gate: str
    gate_reason: str
    metrics: str  # the gate metrics of the run, "accuracy=0.91, f1=0.88"
    approvals: str
    created_by: str
    created_at: str
    data_hash: str
    commit: str
    run_id: str
    ci_run_id: str
    model_card: str
    reproduced: str = ""  # the last reproduction: "reproduced ✔ 2026-12-07 by …", "NOT reproduced ✘ …"

    @property
    def lineage(self) -> str:
        return (
            f"data {self.data_hash[:12] or '?'} -> commit {self.commit[:8] or '?'} -> "
            f"run {self.run_id[:8] or '?'} -> v{self.version}"
        )


def inventory(spec: PlatformSpec, snapshot: Snapshot) -> list[InventoryRow]:
    runs = {r.run_id: r for r in snapshot.train_runs}
    projects = {p.name: p for p in snapshot.projects}
    gate_metrics = [g.metric for g in spec.governance.gates]
    rows = []
    for v in snapshot.versions:
        run, p = runs.get(v.run_id), projects.get(v.project)
        metrics = run.metrics if run else {}
        shown = [m for m in gate_metrics if m in metrics] or sorted(metrics)[:3]
        rows.append(
            InventoryRow(
                model=v.model,
                version=v.version,
                aliases=", ".join(v.aliases),
                project=v.project,
                team=p.team if p else "",
                risk_tier=p.risk_tier if p else "",
                owner=p.owner if p else "",
                gate=v.gate_result or (run.gate_result if run else ""),
                gate_reason=run.gate_reason if run else "",
                metrics=", ".join(f"{m}={metrics[m]:.4g}" for m in shown),
                approvals=", ".join(v.approved_by),
                created_by=v.created_by,
                created_at=v.created_at.isoformat(timespec="seconds") if v.created_at else "",
                data_hash=v.data_hash or (run.data_hash if run else ""),
                commit=v.commit or (run.commit if run else ""),
                run_id=v.run_id,
                ci_run_id=run.ci_run_id if run else "",
                model_card=v.model_card,
                reproduced=reproduced_mark(v),
            )
        )
    return rows


def reproduced_mark(v: ModelVersion) -> str:
    """The version's last reproduction as the Models page shows it (its ``shipyard.reproduce.*`` tags)."""
    result = v.tags.get(tags.REPRODUCED)
    at, by = v.tags.get(tags.REPRODUCED_AT, "")[:10], v.tags.get(tags.REPRODUCED_BY, "")
    if result == "passed":
        return f"reproduced ✔ {at} by {by}"
    return f"NOT reproduced ✘ {at} by {by}" if result else ""


def _records(rows: list[InventoryRow]) -> list[dict]:
    return [{**asdict(r), "lineage": r.lineage} for r in rows]


def inventory_csv(rows: list[InventoryRow]) -> str:
    records = _records(rows)
    buf = io.StringIO()
    fields = list(records[0]) if records else [*InventoryRow.__dataclass_fields__, "lineage"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buf.getvalue()


def inventory_json(rows: list[InventoryRow]) -> str:
    return json.dumps(_records(rows), indent=2)


def _evidence_records(cards: dict[str, Scorecard]) -> list[dict]:
    return [
        {
            "project": card.project,
            "score": card.score,
            **{f"section_{s}": v for s, v in card.sections.items()},
            "test": r.id,
            "title": r.title,
            "points": r.points,
            "how": r.how,
            "evidence": r.evidence,
        }
        for card in cards.values()
        for r in card.results
    ]


def health_csv(cards: dict[str, Scorecard]) -> str:
    records = _evidence_records(cards)
    if not records:
        return "project,score,test,title,points,how,evidence\n"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buf.getvalue()


def health_json(cards: dict[str, Scorecard]) -> str:
    out = [
        {
            "project": c.project,
            "score": c.score,
            "sections": c.sections,
            "complete": c.complete,
            "tests": [asdict(r) for r in c.results],
        }
        for c in cards.values()
    ]
    return json.dumps(out, indent=2)


def model_card_text(endpoints: Endpoints, version: ModelVersion, max_bytes: int = 200_000) -> str | None:
    """The model card artifact of ``version`` (None when the version names no card)."""
    if not version.model_card or not version.run_id:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = MlflowApi.of(endpoints).download_artifact(version.run_id, version.model_card, tmp)
        return Path(path).read_text(errors="replace")[:max_bytes]
