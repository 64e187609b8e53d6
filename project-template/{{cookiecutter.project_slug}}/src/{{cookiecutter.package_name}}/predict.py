"""`make predict`: score a batch with the registered champion and log the scoring run.

Loads ``models:/<model>@champion`` from MLflow (``predict.model_alias`` in params.yaml) in the one
format the platform's registry accepts, never through a pickle (``modeling.load_logged``: skops with
this template's trusted types, or a pt2 archive MLflow checks for pickles first), prepares the
batch exactly as training did (schema-encoded, standardised with the training scaler), writes
``reports/predictions.csv`` (row_id, prediction) and keeps the scored features in
``reports/scoring-features.csv``: `make monitor` compares those with the training reference.
The batch is ``predict.batch`` (a CSV with the schema's feature columns) or, when empty, a sample of
the prepared data (the demo).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pandas as pd
from shipyard import tags

from . import config, features, lineage, modeling, tracking

PREDICTIONS = config.REPORTS / "predictions.csv"
SCORED_FEATURES = config.REPORTS / "scoring-features.csv"
FLAVOUR = "{{ cookiecutter.model_flavour }}"


def compute_tags(compute: dict[str, str]) -> dict[str, str]:
    """What the scoring ran on, tagged as a training run's compute is: the cost report prices it."""
    found = {tags.INSTANCE_TYPE: compute["instance_type"], tags.GPU_COUNT: compute["gpu_count"]}
    if compute.get("gpu_type"):
        found[tags.GPU_TYPE] = compute["gpu_type"]
    if os.environ.get("SHIPYARD_CI_RUN_ID"):
        found[tags.CI_RUN_ID] = os.environ["SHIPYARD_CI_RUN_ID"]
    return found


def load_batch(settings: dict) -> pd.DataFrame:
    if settings.get("batch"):
        batch = pd.read_csv(config.ROOT / settings["batch"])
    else:
        prepared = pd.read_csv(config.PREPARED)
        batch = prepared.sample(n=min(int(settings.get("sample_rows") or 100), len(prepared)), random_state=0)
    batch = batch.drop(columns=[config.target()], errors="ignore").reset_index(drop=True)
    if config.ROW_ID not in batch.columns:
        batch.insert(0, config.ROW_ID, range(len(batch)))
    return batch


def scoring_features(batch: pd.DataFrame) -> pd.DataFrame:
    """The model's inputs for ``batch``: encoded and scaled like the training split, same columns."""
    scaler = json.loads((config.FEATURES / "scaler.json").read_text())
    encoded = features.encode(batch, config.schema()["columns"])
    missing = [c for c in scaler if c not in encoded.columns]
    if missing:
        raise SystemExit(
            f"the batch lacks feature columns {missing}\n  fix: score a CSV with schema.yaml's columns"
        )
    return features.apply_scaler(encoded[[config.ROW_ID, *scaler]], scaler)


def to_prediction(task: str, output: np.ndarray) -> np.ndarray:
    output = np.asarray(output).reshape(-1)
    if FLAVOUR == "pytorch" and task == "classification":
        return (output >= 0.5).astype(int)  # the logged network outputs the positive-class probability
    return output


def main() -> int:
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.models import get_model_info

    settings = config.params().get("predict", {})
    alias = settings.get("model_alias") or tags.CHAMPION
    uri = f"models:/{config.model_name()}@{alias}"
    tracking.configure()
    try:
        model = modeling.load_logged(uri)
        model_id = get_model_info(uri).model_id or ""
    except MlflowException as exc:
        from shipyard.identity.signed_in import SIGN_IN_FIX, is_unauthorized

        fix = SIGN_IN_FIX
        if not is_unauthorized(exc):
            fix = f"a model version needs the '{alias}' alias first (governance: shipyard model promote)"
        print(f"cannot load {uri}: {exc.message.splitlines()[0]}\n  fix: {fix}", file=sys.stderr)
        return 1
    batch = load_batch(settings)
    x = scoring_features(batch)
    inputs = x.drop(columns=[config.ROW_ID])
    if FLAVOUR == "pytorch":
        inputs = inputs.to_numpy(np.float32)
    predicted = to_prediction(config.params()["task"], modeling.predict_logged(model, inputs))
    config.REPORTS.mkdir(parents=True, exist_ok=True)
    scored = pd.DataFrame({config.ROW_ID: batch[config.ROW_ID], "prediction": predicted})
    scored.to_csv(PREDICTIONS, index=False)
    x.to_csv(SCORED_FEATURES, index=False)

    client = tracking.client()
    experiment_id = tracking.ensure_experiment(client)
    version = model_id
    run_tags = {
        tags.RUN_KIND: tags.RUN_KIND_SCORE,
        tags.PROJECT: config.project()["project"],
        tags.TEAM: config.project()["team"],
        "shipyard.score.model": uri,
    }
    run_tags.update(compute_tags(lineage.compute()))
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"score-{alias}", tags=run_tags) as run:
        mlflow.log_metrics({"rows_scored": float(len(batch)), "mean_prediction": float(np.mean(predicted))})
        mlflow.log_artifact(str(PREDICTIONS))
        if version:
            mlflow.set_tag("shipyard.score.model_id", version)
    shown = PREDICTIONS.relative_to(config.ROOT)
    print(f"scored {len(batch)} rows with {uri} -> {shown} (run {run.info.run_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
