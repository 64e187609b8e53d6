"""Score one model on one evaluation set: the same metric code for candidate and champion
(:mod:`shipyard.metrics`, which the projects' own `evaluate` uses too)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shipyard.metrics import CLASSIFICATION, REGRESSION, score  # noqa: F401  (re-exported)


def labels(task: str, predicted) -> np.ndarray:
    """Class labels (classification) or values (regression) from what ``predict`` returned: labels,
    one column per class of probabilities or logits (the largest wins), or one score per row."""
    values = np.asarray(predicted.to_numpy() if hasattr(predicted, "to_numpy") else predicted)
    if values.ndim > 1 and task == "classification" and values.shape[1] > 2:
        return values.argmax(axis=1)
    if values.ndim > 1:
        values = values[:, -1] if values.shape[1] > 1 else values[:, 0]
    if task != "classification":
        return values.astype(float)
    if values.dtype.kind == "f" and not np.all(np.mod(values, 1) == 0):
        cut = 0.0 if (values.min() < 0 or values.max() > 1) else 0.5  # logits vs probabilities
        return (values > cut).astype(int)
    return values.astype(int) if values.dtype.kind in "fiub" else values


def score_model(model, task: str, frame: pd.DataFrame, target: str) -> dict[str, float]:
    x, y = frame.drop(columns=[target]), frame[target]
    return score(task, y, labels(task, model.predict(x)))
