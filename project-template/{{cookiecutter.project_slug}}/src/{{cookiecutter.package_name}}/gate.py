"""`make gate`: the model acceptance gate.

The new model must meet every threshold in params.yaml (gate.thresholds) and must not be worse than
the registered model's `champion` alias on the primary metric by more than gate.champion_tolerance.
The result is logged on the training run (shipyard.gate.result / reason); `make register` refuses
a run without a passed result, so the gate cannot be skipped.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field

from shipyard import tags

from . import config, model_card

LOWER_IS_BETTER = {"rmse", "mae", "log_loss"}


@dataclass
class GateResult:
    passed: bool
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    champion_version: str | None = None
    champion_value: float | None = None

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def evaluate_gate(
    metrics: dict[str, float],
    thresholds: dict[str, dict[str, float]],
    primary: str,
    tolerance: float,
    champion: tuple[str, dict[str, float]] | None = None,
) -> GateResult:
    """Pure decision: thresholds first, then the comparison with the champion (version, metrics)."""
    failures, notes = [], []
    for name, bounds in thresholds.items():
        if name not in metrics:
            failures.append(f"{name} was not measured (check gate.thresholds in params.yaml)")
            continue
        value = metrics[name]
        if "min" in bounds and value < bounds["min"]:
            failures.append(f"{name} {value:.4f} is below the minimum {bounds['min']}")
        if "max" in bounds and value > bounds["max"]:
            failures.append(f"{name} {value:.4f} is above the maximum {bounds['max']}")
    result = GateResult(passed=False, metrics=dict(metrics))
    if champion is None:
        notes.append("no champion yet: thresholds only")
    else:
        version, champion_metrics = champion
        result.champion_version = version
        if primary not in champion_metrics or primary not in metrics:
            notes.append(f"champion v{version} has no {primary}: thresholds only")
        else:
            new, old = metrics[primary], champion_metrics[primary]
            result.champion_value = old
            worse_by = (new - old) if primary in LOWER_IS_BETTER else (old - new)
            if worse_by > tolerance:
                failures.append(
                    f"{primary} {new:.4f} is worse than champion v{version} ({old:.4f}) "
                    f"by {worse_by:.4f}, more than the tolerance {tolerance}"
                )
            else:
                notes.append(f"{primary} {new:.4f} vs champion v{version} {old:.4f} (tolerance {tolerance})")
    result.passed = not failures
    result.reasons = failures or (["all thresholds met"] + notes)
    return result


def champion_of(client, model_name: str) -> tuple[str, dict[str, float]] | None:
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_model_version_by_alias(model_name, tags.CHAMPION)
    except MlflowException:
        return None  # no registered model, or no champion alias yet
    run = client.get_run(version.run_id)
    return str(version.version), dict(run.data.metrics)


def main() -> int:
    from . import tracking

    p = config.params()["gate"]
    run = json.loads(config.RUN_FILE.read_text())
    metrics = json.loads(config.METRICS.read_text())
    client = tracking.client()
    result = evaluate_gate(
        metrics, p["thresholds"], p["primary_metric"], float(p["champion_tolerance"]),
        champion_of(client, config.model_name()),
    )  # fmt: skip
    outcome = "passed" if result.passed else "failed"
    client.set_tag(run["run_id"], tags.GATE_RESULT, outcome)
    client.set_tag(run["run_id"], tags.GATE_REASON, result.summary[:4900])
    card = model_card.render(client.get_run(run["run_id"]), result)
    client.log_text(run["run_id"], card, model_card.ARTIFACT_PATH)  # the card lives with the run and model
    config.REPORTS.mkdir(parents=True, exist_ok=True)
    (config.REPORTS / "model_card.md").write_text(card)
    (config.REPORTS / "gate.json").write_text(
        json.dumps({"run_id": run["run_id"], **asdict(result)}, indent=2)
    )
    print(f"gate {outcome.upper()} for run {run['run_id']}:")
    for reason in result.reasons:
        print(f"  {reason}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
