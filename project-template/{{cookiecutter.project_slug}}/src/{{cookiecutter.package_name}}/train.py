"""Stage `train`: fit the model and log the run to MLflow with its lineage (commit, data hash, compute)."""

from __future__ import annotations

import json
import os
import time

import pandas as pd
from shipyard import tags

from . import config, evaluate, features, lineage, modeling, tracking

FLAVOUR = "{{ cookiecutter.model_flavour }}"


def run_tags(
    commit: str, data_hash: str, compute: dict[str, str], dirty: bool | None = None
) -> dict[str, str]:
    found = {
        tags.RUN_KIND: tags.RUN_KIND_TRAIN,
        tags.PROJECT: config.project()["project"],
        tags.TEAM: config.project()["team"],
        tags.GIT_COMMIT: commit,
        tags.GIT_DIRTY: "unknown" if dirty is None else str(dirty).lower(),
        tags.DATA_HASH: data_hash,
        tags.DATA_PATH: str(config.PREPARED.relative_to(config.ROOT)),
        tags.INSTANCE_TYPE: compute["instance_type"],
        tags.GPU_COUNT: compute["gpu_count"],
    }
    if compute.get("gpu_type"):
        found[tags.GPU_TYPE] = compute["gpu_type"]
    if os.environ.get("SHIPYARD_CI_RUN_ID"):
        found[tags.CI_RUN_ID] = os.environ["SHIPYARD_CI_RUN_ID"]
    export = lineage.label_export()
    if export is not None:
        found[tags.LABEL_EXPORT] = export
    return found


def main() -> None:
    import mlflow

    p = config.params()
    task = p["task"]
    train = pd.read_csv(config.FEATURES / "train.csv")
    x, y = features.xy(train)
    t0 = time.perf_counter()
    model = modeling.fit(task, p["train"], x, y)
    t1 = time.perf_counter()
    predicted, score = modeling.predict(task, model, x), modeling.predict_score(task, model, x)
    train_metrics = evaluate.score(task, y, predicted, score)
    t2 = time.perf_counter()
    modeling.save(model, config.MODELS)

    client = tracking.client()
    experiment_id = tracking.ensure_experiment(client)
    commit = lineage.git_commit()
    data_hash = lineage.dvc_md5(config.PREPARED)
    dirty = lineage.git_dirty()
    if dirty:
        print("warning: uncommitted changes: this run is recorded as dirty and cannot be registered")
    run_tags_ = run_tags(commit, data_hash, lineage.compute(modeling.device_info()), dirty)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{commit[:8]}", tags=run_tags_) as run:
        mlflow.log_params({f"train.{k}": v for k, v in p["train"].items()})
        mlflow.log_params({"task": task, "data.source": p["data"]["source"], "flavour": FLAVOUR})
        mlflow.log_metrics({f"train_{k}": v for k, v in train_metrics.items()})
        info = modeling.log_to_mlflow(model, x.head(5))
    record = {
        "run_id": run.info.run_id,
        "experiment_id": experiment_id,
        "model_uri": info.model_uri,
        "model_id": getattr(info, "model_id", None),
        "data_hash": data_hash,
        "git_commit": commit,
    }
    config.RUN_FILE.write_text(json.dumps(record, indent=2))
    print(f"trained: MLflow run {run.info.run_id} in experiment {config.project()['project']}")
    print(evaluate.ml_seconds(fit=t1 - t0, score=t2 - t1))


if __name__ == "__main__":
    main()
