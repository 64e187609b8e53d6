"""`make gate`: the model acceptance gate.

The new model must meet every threshold in shipyard.yaml (governance.gate.thresholds, the platform's
values for this project) and must not be worse than the registered model's `champion` alias on the
primary metric by more than governance.gate.champion_tolerance. A local preview: the platform's gate
at `make register` applies the platform spec whatever this file says.
The result is logged on the training run (shipyard.gate.result / reason); `make register` refuses
a run without a passed result, so the gate cannot be skipped.

`make gate-dry-run` (CI on any branch but the default one) decides the same way and prints the metrics
against the champion; it records only its verdict (shipyard.gate.dry_run) and reason, never a gate
result, so such a run can never be registered.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field

from shipyard import tags
from shipyard.metrics import is_better, worse_by

from . import config, model_card


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
            failures.append(f"{name} was not measured (check governance.gate.thresholds in shipyard.yaml)")
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
            worse = worse_by(primary, new, old)
            if worse > tolerance:
                failures.append(
                    f"{primary} {new:.4f} is worse than champion v{version} ({old:.4f}) "
                    f"by {worse:.4f}, more than the tolerance {tolerance}"
                )
            else:
                notes.append(f"{primary} {new:.4f} vs champion v{version} {old:.4f} (tolerance {tolerance})")
    result.passed = not failures
    result.reasons = failures or (["all thresholds met"] + notes)
    return result


def champion_of(client, model_name: str) -> tuple[str, dict[str, float]] | None:
    from . import tracking

    if isinstance(client, tracking.PlatformRuns):
        version = client.get_model_version_by_alias(model_name, tags.CHAMPION)
        if version is None:
            return None  # no registered model, or no champion alias yet
    else:
        from mlflow.exceptions import MlflowException

        try:
            version = client.get_model_version_by_alias(model_name, tags.CHAMPION)
        except MlflowException:
            return None
    # the training run: the version's own run is the registry's copy of the model files
    run = client.get_run((getattr(version, "tags", None) or {}).get(tags.MODEL_RUN_ID) or version.run_id)
    return str(version.version), dict(run.data.metrics)


def metrics_diff(metrics: dict[str, float], champion: tuple[str, dict[str, float]] | None) -> list[str]:
    """This run's metrics next to the champion's: one line per metric, the change and which way is better."""
    if champion is None:
        return ["no champion yet: nothing to compare with"]
    version, old = champion
    header = f"  {'metric':<16}{'this run':>10}{'champion':>10}{'change':>10}"
    lines = [f"metrics against champion v{version}:", header]
    for name in sorted(metrics):  # what this run measured (the champion's run may log more, e.g. train_*)
        new_value, old_value = metrics.get(name), old.get(name)
        if new_value is None or old_value is None:
            shown = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
            lines.append(f"  {name:<16}{shown(new_value):>10}{shown(old_value):>10}{'':>10}")
            continue
        change = new_value - old_value
        better = is_better(name, change)
        verdict = "" if change == 0 else (" better" if better else " worse")
        lines.append(f"  {name:<16}{new_value:>10.4f}{old_value:>10.4f}{change:>+10.4f}{verdict}")
    return lines


def dry_run(client, run_id: str, result: GateResult, champion: tuple[str, dict[str, float]] | None) -> int:
    branch = os.environ.get("SHIPYARD_BRANCH") or "this branch"
    outcome = "PASS" if result.passed else "FAIL"
    client.set_tag(run_id, tags.GATE_DRY_RUN, "passed" if result.passed else "failed")
    client.set_tag(run_id, tags.GATE_REASON, result.summary[:4900])
    print(f"gate DRY RUN on {branch} for run {run_id}: would {outcome} (nothing registered or published)")
    for reason in result.reasons:
        print(f"  {reason}")
    for line in metrics_diff(result.metrics, champion):
        print(line)
    config.REPORTS.mkdir(parents=True, exist_ok=True)
    (config.REPORTS / "gate-dry-run.json").write_text(
        json.dumps({"run_id": run_id, "branch": branch, **asdict(result)}, indent=2)
    )
    return 0 if result.passed else 1


def main(argv: list[str] | None = None) -> int:
    from . import tracking

    args = sys.argv[1:] if argv is None else argv

    p = config.governance()["gate"]
    run = json.loads(config.RUN_FILE.read_text())
    metrics = json.loads(config.METRICS.read_text())
    client = tracking.gate_client()  # REST on the platform: no MLflow import
    champion = champion_of(client, config.model_name())
    result = evaluate_gate(
        metrics, p["thresholds"], p["primary_metric"], float(p["champion_tolerance"]), champion,
    )  # fmt: skip
    # the card lives with the run and model; the platform's gate (a branch's dry run too) judges it
    card = model_card.render(client.get_run(run["run_id"]), result)
    client.log_text(run["run_id"], card, model_card.ARTIFACT_PATH)
    config.REPORTS.mkdir(parents=True, exist_ok=True)
    (config.REPORTS / "model_card.md").write_text(card)
    if "--dry-run" in args:
        return dry_run(client, run["run_id"], result, champion)
    outcome = "passed" if result.passed else "failed"
    client.set_tag(run["run_id"], tags.GATE_RESULT, outcome)
    client.set_tag(run["run_id"], tags.GATE_REASON, result.summary[:4900])
    (config.REPORTS / "gate.json").write_text(
        json.dumps({"run_id": run["run_id"], **asdict(result)}, indent=2)
    )
    print(f"gate {outcome.upper()} for run {run['run_id']}:")
    for reason in result.reasons:
        print(f"  {reason}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
