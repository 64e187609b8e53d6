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
    # pt2 (torch.export): a graph of torch operators and tensors, loadable without unpickling code. The
    # platform's registry accepts no other PyTorch format (a pickle or TorchScript model.pth is refused).
    return mlflow.pytorch.log_model(
        model,
        name="model",
        serialization_format="pt2",
        signature=signature,
        input_example=example,
        pip_requirements=[requirement],
    )


def load_logged(uri: str):
    """The logged model at ``uri`` (`make predict`): pt2 only, and MLflow checks that every record of
    the archive is plain data or weights before ``torch.export`` loads it; a pickled model is refused."""
    import os

    import mlflow.pytorch

    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "false"  # read by MLflow at each load
    return mlflow.pytorch.load_model(uri)


def predict_logged(model, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def device_info() -> dict[str, str]:
    return torch_model.device_info()
{%- else %}
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

MODEL_FILE = "model.joblib"
# the one type beyond skops' own defaults that a forest needs; the platform's registry trusts no more
SKOPS_TRUSTED = ["sklearn.tree._tree.Tree"]


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
        # skops rebuilds only the types it trusts: the platform's registry accepts no other format
        serialization_format="skops",
        signature=signature,
        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        skops_trusted_types=SKOPS_TRUSTED,  # tree internals: trusted by name, as the registry does
    )


def load_logged(uri: str):
    """The logged model at ``uri`` (`make predict`), through skops with the types this template
    trusts, never the list the model's MLmodel carries (whoever logged the model wrote that)."""
    import tempfile

    import mlflow.artifacts
    import yaml

    _import_skops()
    import skops.io

    folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tempfile.mkdtemp()))
    meta = yaml.safe_load((folder / "MLmodel").read_text()) or {}
    flavour = meta.get("flavors", {}).get("sklearn") or {}
    if flavour.get("serialization_format") != "skops":
        raise SystemExit(
            f"{uri} is not a scikit-learn model saved with skops\n"
            "  fix: log it with mlflow.sklearn.log_model(..., serialization_format='skops')"
        )
    path = (folder / str(flavour.get("pickled_model", ""))).resolve()
    untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(SKOPS_TRUSTED))
    if folder.resolve() not in path.parents or untrusted:
        named = ", ".join(untrusted) or path.name
        raise SystemExit(f"{uri} holds types this project does not trust: {named}")
    return skops.io.load(path, trusted=SKOPS_TRUSTED)


def predict_logged(model, x: pd.DataFrame) -> np.ndarray:
    return model.predict(x)


def device_info() -> dict[str, str]:
    return {"gpu_count": "0", "gpu_type": ""}
{%- endif %}
