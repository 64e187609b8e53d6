"""The model itself: fit, predict, save, load and log to MLflow ({{ cookiecutter.model_flavour }})."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
{%- if cookiecutter.model_flavour == "pytorch" %}

from . import torch_model

MODEL_FILE = "model.pt"


def fit(task: str, params: dict, x: pd.DataFrame, y: pd.Series):
    return torch_model.fit(task, params, x.to_numpy(np.float32), y.to_numpy(np.float32))


def predict(task: str, model, x: pd.DataFrame) -> np.ndarray:
    return torch_model.predict(task, model, x.to_numpy(np.float32))


def predict_score(task: str, model, x: pd.DataFrame) -> np.ndarray | None:
    """Probability of the positive class (classification), for ROC AUC."""
    return torch_model.raw_output(model, x.to_numpy(np.float32)) if task == "classification" else None


def save(model, directory: Path) -> Path:
    return torch_model.save(model, directory / MODEL_FILE)


def load(directory: Path):
    return torch_model.load(directory / MODEL_FILE)


def log_to_mlflow(model, x_example: pd.DataFrame):
    """Log the model into the active MLflow run; returns MLflow's ModelInfo."""
    import mlflow.pytorch
    import torch
    from mlflow.models import infer_signature

    example = x_example.to_numpy(np.float32, copy=True)  # writable: torch warns on read-only arrays
    signature = infer_signature(example, torch_model.raw_output(model, example))
    requirement = f"torch=={torch.__version__.split('+')[0]}"
    return mlflow.pytorch.log_model(  # MLflow's default pt2 format traces the model with the example
        model, name="model", signature=signature, input_example=example, pip_requirements=[requirement]
    )


def device_info() -> dict[str, str]:
    return torch_model.device_info()
{%- else %}
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

MODEL_FILE = "model.joblib"


def build(task: str, params: dict):
    kwargs = dict(
        n_estimators=params["n_estimators"],
        max_depth=params["max_depth"],
        min_samples_leaf=params["min_samples_leaf"],
        random_state=params["seed"],
        n_jobs=1,
    )
    return RandomForestClassifier(**kwargs) if task == "classification" else RandomForestRegressor(**kwargs)


def fit(task: str, params: dict, x: pd.DataFrame, y: pd.Series):
    return build(task, params).fit(x, y)


def predict(task: str, model, x: pd.DataFrame) -> np.ndarray:
    return model.predict(x)


def predict_score(task: str, model, x: pd.DataFrame) -> np.ndarray | None:
    """Probability of the positive class (classification), for ROC AUC."""
    return model.predict_proba(x)[:, 1] if task == "classification" else None


def save(model, directory: Path) -> Path:
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    joblib.dump(model, path)
    return path


def load(directory: Path):
    import joblib

    return joblib.load(directory / MODEL_FILE)


def _import_skops() -> None:
    """Import skops (MLflow saves the model with it) without importing torch. At import skops lists
    scikit-learn's estimators by importing every scikit-learn package, its array-API shim for torch
    among them, which imports torch (~2.5 s) wherever torch is installed. That shim holds no
    estimator, so with torch hidden for the import the trusted types are the same."""
    import sys

    if "skops.io" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # `import torch` raises ImportError: the package walk skips the shim
    try:
        import skops.io  # noqa: F401
    except ImportError:  # no skops: MLflow says so when it saves
        pass
    finally:
        del sys.modules["torch"]


def log_to_mlflow(model, x_example: pd.DataFrame):
    """Log the model into the active MLflow run; returns MLflow's ModelInfo."""
    import mlflow.sklearn
    import sklearn
    from mlflow.models import infer_signature

    _import_skops()
    signature = infer_signature(x_example, model.predict(x_example))
    return mlflow.sklearn.log_model(
        model,
        name="model",
        signature=signature,
        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        # MLflow saves with skops, which trusts tree internals only when told: this model is our own.
        skops_trusted_types=["sklearn.tree._tree.Tree"],
    )


def device_info() -> dict[str, str]:
    return {"gpu_count": "0", "gpu_type": ""}
{%- endif %}
