"""Score one model on one evaluation set: the same metric code for candidate and champion."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

CLASSIFICATION = ("accuracy", "f1", "precision", "recall")
REGRESSION = ("r2", "rmse", "mae")


def labels(task: str, predicted) -> np.ndarray:
    values = np.asarray(predicted.to_numpy() if hasattr(predicted, "to_numpy") else predicted)
    if values.ndim > 1:
        values = values[:, -1] if values.shape[1] > 1 else values[:, 0]
    if task != "classification":
        return values.astype(float)
    if values.dtype.kind == "f" and not set(np.unique(values)) <= {0.0, 1.0}:
        cut = 0.0 if (values.min() < 0 or values.max() > 1) else 0.5  # logits vs probabilities
        return (values > cut).astype(int)
    return values.astype(int)


def score(task: str, y_true, y_pred) -> dict[str, float]:
    if task == "classification":
        found = {
            "accuracy": skm.accuracy_score(y_true, y_pred),
            "f1": skm.f1_score(y_true, y_pred),
            "precision": skm.precision_score(y_true, y_pred, zero_division=0),
            "recall": skm.recall_score(y_true, y_pred),
        }
    else:
        found = {
            "r2": skm.r2_score(y_true, y_pred),
            "rmse": float(np.sqrt(skm.mean_squared_error(y_true, y_pred))),
            "mae": skm.mean_absolute_error(y_true, y_pred),
        }
    return {k: round(float(v), 6) for k, v in found.items()}


def score_model(model, task: str, frame: pd.DataFrame, target: str) -> dict[str, float]:
    x, y = frame.drop(columns=[target]), frame[target]
    return score(task, y, labels(task, model.predict(x)))
