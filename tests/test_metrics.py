"""shipyard.metrics: the gate's metrics and their directions, defined once for platform and projects."""

from __future__ import annotations

import pytest
from shipyard import metrics


def test_lower_is_better_is_one_definition_used_by_the_gate_and_the_template():
    from pathlib import Path

    template = Path(__file__).resolve().parents[1] / "project-template"
    gate = next(template.rglob("gate.py")).read_text()
    assert "LOWER_IS_BETTER =" not in gate and "from shipyard.metrics import" in gate
    registry_gate = (Path(metrics.__file__).parent / "registry" / "gate.py").read_text()
    assert "from shipyard.metrics import" in registry_gate


@pytest.mark.parametrize(("metric", "new", "old", "worse"), [("rmse", 5.0, 4.0, 1.0), ("r2", 0.5, 0.7, 0.2)])
def test_worse_by_follows_the_metric_direction(metric, new, old, worse):
    assert metrics.worse_by(metric, new, old) == pytest.approx(worse)
    assert not metrics.is_better(metric, new - old)


def test_three_classes_are_scored_with_macro_averages():
    found = metrics.score("classification", [0, 1, 2, 2, 1, 0], [0, 1, 2, 1, 1, 0])
    assert found["accuracy"] == pytest.approx(5 / 6)
    assert found["f1"] == found["f1_macro"] and "roc_auc" not in found
    assert set(found) <= metrics.TASK_METRICS["classification"]


def test_two_classes_keep_the_binary_f1_and_roc_auc():
    found = metrics.score("classification", [0, 1, 1, 0], [0, 1, 0, 0], [0.1, 0.9, 0.4, 0.2])
    assert found["f1"] == pytest.approx(2 / 3) and found["roc_auc"] == 1.0


def test_regression_metrics():
    found = metrics.score("regression", [1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    assert set(found) == {"r2", "rmse", "mae"} and found["mae"] == pytest.approx(1 / 3)
    assert metrics.task_of("rmse") == "regression" and metrics.task_of("nonsense") is None
