"""The platform gate: the spec's thresholds and champion tolerance, never the project's params.yaml.

Pure: given both models' metrics from one evaluation over one dataset, decide and explain."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from shipyard.metrics import TASK_METRICS, worse_by
from shipyard.spec.model import PlatformSpec


@dataclass
class Verdict:
    passed: bool
    reasons: list[str]
    thresholds: list[dict]
    tolerance: float
    primary_metric: str | None
    candidate: dict[str, float]
    champion: dict[str, float] | None
    champion_version: str | None
    eval_hash: str
    eval_rows: int
    diff: dict[str, float] = field(default_factory=dict)  # candidate - champion, per metric
    validation: dict | None = None  # the same decision on a validator's independent set, if any

    def as_dict(self) -> dict:
        return asdict(self)

    def with_validation(self, other: Verdict, source: dict) -> Verdict:
        """Both must pass: the held-out split's decision and the one on the independent set."""
        reasons = [f"held-out split: {r}" for r in self.reasons]
        reasons += [f"independent validation set: {r}" for r in other.reasons]
        return replace(
            self,
            passed=self.passed and other.passed,
            reasons=reasons,
            validation={**source, **{k: v for k, v in other.as_dict().items() if k != "validation"}},
        )

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def decide(spec: PlatformSpec, candidate: dict[str, float], champion: dict[str, float] | None,
           champion_version: str | None, eval_hash: str, eval_rows: int,
           task: str | None = None) -> Verdict:  # fmt: skip
    """``task``: the gates of that task (spec governance.gates by shipyard.metrics); None: every gate
    whose metric the candidate measured."""
    gov = spec.governance
    gates = gov.gates_for(task) if task in TASK_METRICS else gov.gates
    applicable = [g for g in gates if g.metric in candidate]
    failures: list[str] = []
    notes: list[str] = []
    if not gates:
        failures.append(
            f"the platform spec has no gate for {task} models (governance.gates: "
            f"{', '.join(g.metric for g in gov.gates) or 'none'}); a platform admin adds one, e.g. "
            f"{{metric: {'r2' if task == 'regression' else 'accuracy'}, min: ...}}"
        )
    elif not applicable:
        failures.append(
            f"none of the platform's gate metrics ({', '.join(g.metric for g in gates)}) applies to "
            f"this model (measured: {', '.join(candidate)})"
        )
    for g in applicable:
        value = candidate[g.metric]
        if g.min is not None and value < g.min:
            failures.append(f"{g.metric} {value:.4f} is below the platform minimum {g.min}")
        if g.max is not None and value > g.max:
            failures.append(f"{g.metric} {value:.4f} is above the platform maximum {g.max}")
    primary = applicable[0].metric if applicable else None
    diff: dict[str, float] = {}
    if champion is None:
        notes.append("no champion yet: platform thresholds only")
    else:
        diff = {k: round(candidate[k] - champion[k], 6) for k in candidate if k in champion}
        if primary:
            new, old = candidate[primary], champion[primary]
            worse = worse_by(primary, new, old)
            if worse > gov.champion_tolerance:
                failures.append(
                    f"{primary} {new:.4f} is worse than champion v{champion_version} ({old:.4f}) on the same "
                    f"data by {worse:.4f}, more than the platform tolerance {gov.champion_tolerance}"
                )
            else:
                notes.append(
                    f"{primary} {new:.4f} vs champion v{champion_version} {old:.4f} on the same data "
                    f"(tolerance {gov.champion_tolerance})"
                )
    return Verdict(
        passed=not failures,
        reasons=failures or ["all platform thresholds met", *notes],
        thresholds=[g.model_dump() for g in gates],
        tolerance=gov.champion_tolerance,
        primary_metric=primary,
        candidate=candidate,
        champion=champion,
        champion_version=champion_version,
        eval_hash=eval_hash,
        eval_rows=eval_rows,
        diff=diff,
    )
