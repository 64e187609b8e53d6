"""Stage `evaluate`: score the model on the held-out split, write metrics/eval.json, log to the run."""

from __future__ import annotations

import json
import time

import pandas as pd
from shipyard import metrics

from . import config, features, modeling


def score(task: str, y_true, y_pred, y_score=None) -> dict[str, float]:
    """The task's metrics as the platform's gate computes them (shipyard.metrics: one definition)."""
    return metrics.score(task, y_true, y_pred, y_score)


def ml_seconds(**seconds: float) -> str:
    """The line that says how long the ML work itself took (fit, predict, score), for benchmarks."""
    return "ml seconds: " + ", ".join(f"{name} {value:.3f}" for name, value in seconds.items())


def main() -> None:
    from . import tracking

    task = config.params()["task"]
    test = pd.read_csv(config.FEATURES / "test.csv")
    x, y = features.xy(test)
    model = modeling.load(config.MODELS)
    t0 = time.perf_counter()
    found = score(task, y, modeling.predict(task, model, x), modeling.predict_score(task, model, x))
    scored_s = time.perf_counter() - t0
    config.METRICS.parent.mkdir(parents=True, exist_ok=True)
    config.METRICS.write_text(json.dumps(found, indent=2) + "\n")
    run = json.loads(config.RUN_FILE.read_text())
    uri = tracking.configure()
    if uri.startswith(("http://", "https://")):
        # the platform's MLflow: one REST call through shipyard's record layer; importing MLflow only to
        # log a few numbers costs ~4 s of every CI run
        from shipyard.records import MlflowApi

        MlflowApi(uri).log_metrics(run["run_id"], found)
    else:  # a local store (no platform): MLflow's own client
        import mlflow

        client = mlflow.MlflowClient()
        for name, value in found.items():
            client.log_metric(run["run_id"], name, value)
    print("evaluated:", ", ".join(f"{k}={v:.4f}" for k, v in found.items()))
    print(ml_seconds(score=scored_s))


if __name__ == "__main__":
    main()
