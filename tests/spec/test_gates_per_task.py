"""governance.gates: each gate belongs to the task that measures its metric; a task may be ungated."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from shipyard.errors import UserError
from shipyard.spec.governance import Governance, MetricGate


def test_default_gates_cover_classification_and_regression():
    gov = Governance()
    assert [g.metric for g in gov.gates_for("classification")] == ["accuracy"]
    assert [g.metric for g in gov.gates_for("regression")] == ["r2"]


def test_a_gate_on_a_metric_no_task_measures_is_refused():
    with pytest.raises(ValidationError, match="no task measures 'auc'"):
        MetricGate(metric="auc", min=0.5)


def test_shipyard_new_refuses_a_task_the_spec_cannot_gate():
    from shipyard.templates.bake import require_gate

    class Spec:
        governance = Governance(gates=[MetricGate(metric="accuracy", min=0.8)])

    require_gate(Spec(), "classification")
    with pytest.raises(UserError, match="task 'regression': the platform spec has no gate") as exc:
        require_gate(Spec(), "regression")
    assert "r2" in exc.value.fix


def test_the_platform_gate_uses_the_tasks_gates_and_direction():
    from shipyard.registry.gate import decide

    class Spec:
        governance = Governance(
            gates=[MetricGate(metric="accuracy", min=0.8), MetricGate(metric="rmse", max=10)]
        )

    verdict = decide(Spec(), {"r2": 0.9, "rmse": 6.0, "mae": 4.0}, {"rmse": 5.0}, "2", "h", 10, "regression")
    assert verdict.primary_metric == "rmse" and not verdict.passed  # 1.0 worse than the champion
    assert "rmse 6.0000 is worse than champion v2" in verdict.summary
    assert [t["metric"] for t in verdict.thresholds] == ["rmse"]
    only_cls = type("S", (), {"governance": Governance(gates=[MetricGate(metric="accuracy", min=0.8)])})
    refused = decide(only_cls(), {"r2": 0.9}, None, None, "h", 10, "regression")
    assert not refused.passed and "no gate for regression models" in refused.summary
