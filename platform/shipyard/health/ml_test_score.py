"""The ML Test Score (Breck et al., 2017, "The ML Test Score: A Rubric for ML Production Readiness and
Technical Debt Reduction"): 28 tests in four sections of seven. A test scores 1 when the platform sees
it automated, 0.5 when done by hand and documented (experiment tag ``shipyard.mltest.<id>`` links the
document), else 0. A section's score is the sum of its tests; the final score is the lowest section.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from shipyard import tags
from shipyard.health.evidence import Evidence

SECTIONS = ("data", "model", "infrastructure", "monitoring")
STALE_AFTER = dt.timedelta(days=90)

Check = Callable[[Evidence], str | None]  # evidence text when automated, else None


def _data_check(s: str) -> bool:
    return "data" in s and any(k in s for k in ("check", "valid", "test", "schema", "expect"))


def _unit_test(s: str) -> bool:
    return s.startswith("test") or s in ("pytest", "unit")


def _pipeline(s: str) -> bool:
    return any(k in s for k in ("repro", "pipeline", "train"))


def _step(match, what: str) -> Check:
    def check(ev: Evidence) -> str | None:
        step = ev.passed_step(match)
        run = ev.passed_ci
        return f"{what} step '{step}' ran in passed CI run {run.run_id[:8]}" if step and run else None

    return check


def _metric(word: str) -> Check:
    def check(ev: Evidence) -> str | None:
        for run in ev.train_runs:
            keys = sorted(k for k in run.metrics if word in k.lower())
            if keys:
                return f"training run {run.run_id[:8]} logged {', '.join(keys[:3])}"
        return None

    return check


def _reproducible(ev: Evidence) -> str | None:
    """The champion's last reproduction (registry/reproduce.py) decides: passed counts, failed does not;
    never reproduced, the lineage a reproduction needs still counts, and says it was not tried."""
    champion = ev.champion
    result = champion.tags.get(tags.REPRODUCED) if champion else None
    if champion and result:
        if result != "passed":
            return None
        at, by = champion.tags.get(tags.REPRODUCED_AT, "")[:10], champion.tags.get(tags.REPRODUCED_BY, "?")
        return f"champion v{champion.version} reproduced \u2714 {at} by {by}"
    run = next(iter(ev.train_runs), None)
    if run and run.data_hash and run.commit:
        return (f"latest training run {run.run_id[:8]}: data {run.data_hash[:10]} + commit {run.commit[:8]} "
                "(not reproduced yet: shipyard model reproduce)")  # fmt: skip
    return None


def _pipeline_new_features(ev: Evidence) -> str | None:
    step = ev.passed_step(_pipeline)
    if step and any(r.data_hash for r in ev.train_runs):
        return f"versioned data and a CI pipeline step '{step}': a feature is a code change + push"
    return None


def _reviewed(ev: Evidence) -> str | None:
    run = next((r for r in ev.train_runs if r.commit and r.ci_run_id), None)
    return f"training run {run.run_id[:8]} came from CI at commit {run.commit[:8]}" if run else None


def _tuned(ev: Evidence) -> str | None:
    seen = {tuple(sorted(r.params.items())) for r in ev.train_runs if r.params}
    return f"{len(seen)} distinct hyper-parameter settings logged" if len(seen) >= 2 else None


def _gate(ev: Evidence) -> str | None:
    v = ev.champion or next(iter(ev.versions), None)
    if v and v.gate_result in tags.GATE_RESULTS:
        return f"{v.model} v{v.version}: gate {v.gate_result}"
    return None


def _canary(ev: Evidence) -> str | None:
    m = next((m for m in ev.models if tags.CHALLENGER in m.aliases), None)
    return f"{m.name} has a challenger (v{m.aliases[tags.CHALLENGER]}) beside the champion" if m else None


def _rollback(ev: Evidence) -> str | None:
    champ = ev.champion
    if not champ:
        return None
    prev = next(
        (
            v
            for v in ev.versions
            if v.model == champ.model and v.version < champ.version and v.gate_result == "passed"
        ),
        None,
    )
    return f"champion v{champ.version}; v{prev.version} passed the gate to roll back to" if prev else None


def _feature_drift(ev: Evidence) -> str | None:
    return "per-feature drift is pushed to Prometheus" if ev.feature_drift else None


def _drift_share(ev: Evidence) -> str | None:
    if ev.drift_share is None:
        return None
    return f"training/serving drift share {ev.drift_share:.2f} monitored in Prometheus"


def _fresh(ev: Evidence) -> str | None:
    champ = ev.champion
    if champ and champ.created_at and ev.now - champ.created_at <= STALE_AFTER:
        return f"champion v{champ.version} is {(ev.now - champ.created_at).days} days old (limit 90)"
    return None


@dataclass(frozen=True)
class Test:
    id: str
    section: str
    title: str
    would_count: str  # the evidence that would make it automated
    check: Check | None = None


def _t(section: str, n: int, title: str, would: str, check: Check | None = None) -> Test:
    return Test(f"{section}-{n}", section, title, would, check)


TESTS: tuple[Test, ...] = (
    _t("data", 1, "Feature expectations are captured in a schema",
       "a data check step (e.g. `==> data-checks`) in a passed CI run",
       _step(_data_check, "data check")),
    _t("data", 2, "All features are beneficial", "a feature importance / ablation report"),
    _t("data", 3, "No feature's cost is too much", "a feature cost review"),
    _t("data", 4, "Features adhere to meta-level requirements", "a review against data policies"),
    _t("data", 5, "The data pipeline has appropriate privacy controls", "a privacy review / DPIA"),
    _t("data", 6, "New features can be added quickly",
       "training runs with a DVC data hash and a pipeline step (dvc repro) in a passed CI run",
       _pipeline_new_features),
    _t("data", 7, "All input feature code is tested", "a test step in a passed CI run",
       _step(_unit_test, "test")),
    _t("model", 1, "Model specs are reviewed and submitted",
       "a training run made by CI (shipyard.ci.run_id) at a git commit", _reviewed),
    _t("model", 2, "Offline proxy metrics correlate with actual online impact", "an online/offline study"),
    _t("model", 3, "All hyperparameters have been tuned",
       "two or more training runs with different logged params", _tuned),
    _t("model", 4, "The impact of model staleness is known", "a staleness study"),
    _t("model", 5, "A simpler model is not better", "a training run metric named like `baseline_*`",
       _metric("baseline")),
    _t("model", 6, "Model quality is sufficient on all important data slices",
       "a training run metric named like `slice_*`", _metric("slice")),
    _t("model", 7, "The model is tested for considerations of inclusion",
       "a training run metric named like `fairness_*`", _metric("fairness")),
    _t("infrastructure", 1, "Training is reproducible",
       "the champion's last reproduction passed (shipyard model reproduce); until one is tried, the latest "
       "training run carrying shipyard.data.hash and mlflow.source.git.commit", _reproducible),
    _t("infrastructure", 2, "Model specification code is unit tested", "a test step in a passed CI run",
       _step(_unit_test, "test")),
    _t("infrastructure", 3, "The full ML pipeline is integration tested",
       "a pipeline step (dvc repro / train) in a passed CI run", _step(_pipeline, "pipeline")),
    _t("infrastructure", 4, "Model quality is validated before attempting to serve it",
       "shipyard.gate.result on the champion (or latest) model version", _gate),
    _t("infrastructure", 5, "The model allows debugging by observing the step-by-step computation",
       "a debugging guide"),
    _t("infrastructure", 6, "Models are canaried before serving", "a `challenger` alias on the model",
       _canary),
    _t("infrastructure", 7, "Serving models can be rolled back",
       "a champion and an earlier version that passed the gate", _rollback),
    _t("monitoring", 1, "Dependency changes result in notification", "a dependency alerting setup"),
    _t("monitoring", 2, "Data invariants hold in training and serving inputs",
       f"{tags.METRIC_FEATURE_DRIFT} pushed for the project", _feature_drift),
    _t("monitoring", 3, "Training and serving features compute the same values",
       f"{tags.METRIC_DRIFT_SHARE} pushed for the project", _drift_share),
    _t("monitoring", 4, "Models are not too stale", "a champion version younger than 90 days", _fresh),
    _t("monitoring", 5, "The model is numerically stable", "NaN/infinity monitoring"),
    _t("monitoring", 6, "Computing performance has not regressed", "serving latency/throughput monitoring"),
    _t("monitoring", 7, "Prediction quality has not regressed", "online quality monitoring"),
)  # fmt: skip


@dataclass(frozen=True)
class TestResult:
    id: str
    section: str
    title: str
    points: float  # 0, 0.5 or 1
    how: str  # "automated", "manual", "missing"
    evidence: str  # what was seen, or what would count


@dataclass(frozen=True)
class Scorecard:
    project: str
    results: list[TestResult]
    sections: dict[str, float]
    score: float
    complete: bool  # False when a service was down, so some evidence could not be read
    note: str = ""

    @property
    def missing(self) -> list[TestResult]:
        return [r for r in self.results if r.how == "missing"]


def score(ev: Evidence) -> Scorecard:
    documented = ev.documented
    results = []
    for test in TESTS:
        seen = test.check(ev) if test.check else None
        if seen:
            results.append(TestResult(test.id, test.section, test.title, 1.0, "automated", seen))
        elif test.id in documented:
            doc = f"documented: {documented[test.id]}"
            results.append(TestResult(test.id, test.section, test.title, 0.5, "manual", doc))
        else:
            tag = f"tag {tags.MLTEST_PREFIX}{test.id}=<doc link>"
            if test.check:
                would = f"would count: {test.would_count} (1, automated), or done by hand: {tag} (0.5)"
            else:
                would = f"would count: {test.would_count}, documented: {tag} (0.5; not visible automatically)"
            results.append(TestResult(test.id, test.section, test.title, 0.0, "missing", would))
    sections = {s: sum(r.points for r in results if r.section == s) for s in SECTIONS}
    err = ev.prometheus_error
    note = f"Prometheus unavailable ({err}): drift evidence not read" if err else ""
    return Scorecard(ev.project.name, results, sections, min(sections.values()), not err, note)
