"""The gate's metrics, defined once for the platform and every project: which metrics each task
measures, which way is better, and how they are computed.

The platform's gate (``shipyard.registry.gate``), the registry's scoring child, the spec's checks and
the generated projects (``make gate``, ``evaluate``: they install this package as the ``shipyard``
client) all import them from here, so a local preview and the platform can never disagree on them.

Classification covers binary and multi-class alike: ``f1``, ``precision`` and ``recall`` are of the
positive (largest) label for two classes and macro-averaged over the classes for more; ``f1_macro`` is
the macro average always; ``roc_auc`` only for two classes with scores.
"""

from __future__ import annotations

TASKS = ("classification", "regression")
CLASSIFICATION = ("accuracy", "f1", "f1_macro", "precision", "recall", "balanced_accuracy", "roc_auc")
REGRESSION = ("r2", "rmse", "mae")
TASK_METRICS: dict[str, frozenset[str]] = {
    "classification": frozenset(CLASSIFICATION),
    "regression": frozenset(REGRESSION),
}
# the metrics the gate compares the other way: a smaller value is the better model
LOWER_IS_BETTER = frozenset({"rmse", "mse", "mae", "log_loss", "mape"})


def task_of(metric: str) -> str | None:
    """The task that measures ``metric``; None for a metric no task of the template measures."""
    return next((task for task, names in TASK_METRICS.items() if metric in names), None)


def worse_by(metric: str, new: float, old: float) -> float:
    """How much worse ``new`` is than ``old`` on ``metric`` (negative: better)."""
    return (new - old) if metric in LOWER_IS_BETTER else (old - new)


def is_better(metric: str, change: float) -> bool:
    """Whether a change (new - old) of ``metric`` is an improvement."""
    return change < 0 if metric in LOWER_IS_BETTER else change > 0


def score(task: str, y_true, y_pred, y_score=None) -> dict[str, float]:
    """The task's metrics of predictions ``y_pred`` (and, for two classes, scores) against ``y_true``."""
    import numpy as np
    from sklearn import metrics as skm

    if task == "classification":
        classes = sorted(set(np.asarray(y_true).tolist()) | set(np.asarray(y_pred).tolist()))
        binary = len(classes) <= 2
        averaged = {"average": "binary", "pos_label": classes[-1]} if binary else {"average": "macro"}
        found = {
            "accuracy": skm.accuracy_score(y_true, y_pred),
            "f1": skm.f1_score(y_true, y_pred, zero_division=0, **averaged),
            "f1_macro": skm.f1_score(y_true, y_pred, average="macro", zero_division=0),
            "precision": skm.precision_score(y_true, y_pred, zero_division=0, **averaged),
            "recall": skm.recall_score(y_true, y_pred, zero_division=0, **averaged),
            "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        }
        if y_score is not None and len(np.unique(y_true)) == 2:
            found["roc_auc"] = skm.roc_auc_score(y_true, y_score)
    elif task == "regression":
        found = {
            "r2": skm.r2_score(y_true, y_pred),
            "rmse": float(np.sqrt(skm.mean_squared_error(y_true, y_pred))),
            "mae": skm.mean_absolute_error(y_true, y_pred),
        }
    else:
        raise ValueError(f"unknown task {task!r}: one of {', '.join(TASKS)}")
    return {k: round(float(v), 6) for k, v in found.items()}
