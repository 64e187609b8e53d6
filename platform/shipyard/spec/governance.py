"""Governance: who governs, risk tiers, gates."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from shipyard.metrics import TASK_METRICS, task_of
from shipyard.spec.fields import EMAIL, METRIC_NAME, NON_NEGATIVE_METRICS, UNIT_METRICS, Strict

# --- governance -------------------------------------------------------------------------------


class RiskTier(Strict):
    approval_required: bool = False
    min_approvers: int = Field(0, ge=0)
    drift_monitoring_required: bool = False
    model_card_required: bool = True
    max_drift_share: float = Field(0.3, gt=0, le=1)
    # how far a reproduced metric may lie from the registered one (absolute, per metric); 0: training is
    # deterministic (seeded, CPU), so the metrics and the model file must be identical
    reproduce_tolerance: float = Field(0.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _approvers(self) -> RiskTier:
        if self.approval_required and self.min_approvers < 1:
            raise ValueError("approval_required is true, so min_approvers must be at least 1")
        return self


class MetricGate(Strict):
    metric: str = Field(pattern=METRIC_NAME.pattern, description="an MLflow metric name")
    min: float | None = Field(None, allow_inf_nan=False)
    max: float | None = Field(None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounds(self) -> MetricGate:
        if self.min is None and self.max is None:
            raise ValueError(f"the gate on {self.metric!r} sets neither min nor max: set at least one")
        if task_of(self.metric) is None:  # no model would ever be measured on it: the gate never applies
            known = "; ".join(f"{task}: {', '.join(sorted(names))}" for task, names in TASK_METRICS.items())
            raise ValueError(f"no task measures {self.metric!r} (the gate's metrics: {known})")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max}): no model could pass")
        low, high = (0.0, 1.0) if self.metric in UNIT_METRICS else (0.0, None)
        if self.metric in UNIT_METRICS or self.metric in NON_NEGATIVE_METRICS:
            for bound in (self.min, self.max):
                if bound is not None and (bound < low or (high is not None and bound > high)):
                    where = f"{low}..{high}" if high is not None else f">= {low}"
                    raise ValueError(f"{bound} is outside the range of {self.metric} ({where})")
        return self


class GovernancePeople(Strict):
    """Who governs models: signed-in identities, never free text (see docs/manager-auditor.md)."""

    approvers: list[str] = Field([], description="validators: approve model versions of other teams")
    auditors: list[str] = Field([], description="read everything, export the audit log")
    managers: list[str] = Field([], description="see costs and status, promote approved versions")
    platform_admins: list[str] = Field([], description="run the platform; MLflow admins")

    @field_validator("approvers", "auditors", "managers", "platform_admins")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        seen: set[str] = set()
        for email in emails:
            if not EMAIL.match(email):
                raise ValueError(f"{email!r} is not an email address")
            if email.lower() in seen:
                raise ValueError(f"{email!r} appears twice")
            seen.add(email.lower())
        return emails


class Governance(Strict):
    people: GovernancePeople = GovernancePeople()
    risk_tiers: dict[Literal["low", "medium", "high"], RiskTier] = {
        "low": RiskTier(),
        "medium": RiskTier(drift_monitoring_required=True),
        "high": RiskTier(approval_required=True, min_approvers=2, drift_monitoring_required=True),
    }
    # each gate applies to the task that measures its metric (shipyard.metrics); the first of a task's
    # gates is its primary metric, the one compared with the champion
    gates: list[MetricGate] = [MetricGate(metric="accuracy", min=0.7), MetricGate(metric="r2", min=0.0)]
    champion_tolerance: float = Field(0.01, ge=0, description="how much worse than champion a model may be")

    def gates_for(self, task: str) -> list[MetricGate]:
        """The gates a model of ``task`` must pass; empty: the platform cannot gate that task."""
        return [g for g in self.gates if task_of(g.metric) == task]
