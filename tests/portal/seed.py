"""Seeds a real MLflow server with a small portfolio the portal tests know the answers for.

Every name starts with a unique prefix (the MLflow server is shared with other suites), and the
teams are unique too (the cost service sums a team's runs over the whole server).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from shipyard import tags

MODEL_CARD = "# Fraud detector model card\n\nIntended use: flag card transactions for review.\n"
STEPS_FULL = "lint,test,data-checks,repro,push,train,gate"


@dataclass
class Seeded:
    prefix: str
    team_risk: str
    team_demo: str
    projects: dict[str, dict] = field(default_factory=dict)  # name -> expectations
    ci_run_ids: dict[str, list[str]] = field(default_factory=dict)
    train_run_ids: dict[str, list[str]] = field(default_factory=dict)

    def name(self, short: str) -> str:
        return f"{self.prefix}{short}"


def _project(client: MlflowClient, name: str, team: str, tier: str, owner: str, **extra: str) -> str:
    return client.create_experiment(
        name,
        tags={tags.PROJECT: name, tags.TEAM: team, tags.RISK_TIER: tier, tags.OWNER: owner, **extra},
    )


def _ci(client, exp, status, steps, failed="", commit="c0ffee1234", start_ms=None, minutes=3) -> str:
    start = start_ms or int(time.time() * 1000)
    run = client.create_run(exp, start_time=start, tags={tags.RUN_KIND: tags.RUN_KIND_CI})
    t = {
        tags.CI_STATUS: status,
        tags.CI_COMMIT: commit,
        tags.CI_BRANCH: "main",
        tags.CI_PROVIDER: "shipyard",
        tags.CI_STEPS: steps,
    }
    if failed:
        t[tags.CI_FAILED_STEP] = failed
    client.log_batch(run.info.run_id, tags=[RunTag(k, v) for k, v in t.items()])
    client.set_terminated(
        run.info.run_id, "FINISHED" if status == "passed" else "FAILED", end_time=start + minutes * 60_000
    )
    return run.info.run_id


def _train(client, exp, ci_run, commit, data_hash, metrics, params, gate, start_ms) -> str:
    run = client.create_run(exp, start_time=start_ms, tags={tags.RUN_KIND: tags.RUN_KIND_TRAIN})
    t = {
        tags.CI_RUN_ID: ci_run,
        tags.GIT_COMMIT: commit,
        tags.INSTANCE_TYPE: "m6i.large",
        tags.GPU_COUNT: "0",
        tags.GATE_RESULT: gate,
        tags.GATE_REASON: f"accuracy {'>=' if gate == 'passed' else '<'} 0.80",
    }
    if data_hash:
        t[tags.DATA_HASH] = data_hash
        t[tags.DATA_PATH] = "data/transactions.csv"
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(k, v, start_ms, 0) for k, v in metrics.items()],
        params=[Param(k, str(v)) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in t.items()],
    )
    client.set_terminated(run.info.run_id, "FINISHED", end_time=start_ms + 600_000)
    return run.info.run_id


def _version(client, model, run_id, commit, data_hash, gate, extra=None) -> str:
    t = {tags.MODEL_RUN_ID: run_id, tags.GIT_COMMIT: commit, tags.GATE_RESULT: gate, **(extra or {})}
    if data_hash:
        t[tags.DATA_HASH] = data_hash
    source = f"{client.get_run(run_id).info.artifact_uri}/model"
    mv = client.create_model_version(model, source=source, run_id=run_id, tags=t)
    return mv.version


def seed(url: str, prefix: str, tmp: Path) -> Seeded:
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    s = Seeded(prefix=prefix, team_risk=f"{prefix}risk".rstrip("-"), team_demo=f"{prefix}demo".rstrip("-"))
    now = int(time.time() * 1000)
    hour = 3_600_000

    # fraud: high tier, full pipeline, 3 versions (v2 champion with 2 approvals and a card, v3 challenger)
    fraud = s.name("fraud")
    exp = _project(
        client,
        fraud,
        s.team_risk,
        "high",
        "alice@example.com",
        **{tags.MLTEST_PREFIX + "data-2": "https://wiki/ablation"},
    )
    ci = [
        _ci(client, exp, "passed", STEPS_FULL, commit="aaaa1111", start_ms=now - 30 * hour),
        _ci(client, exp, "failed", "lint,test", failed="test", commit="bbbb2222", start_ms=now - 20 * hour),
        _ci(client, exp, "passed", STEPS_FULL, commit="cccc3333", start_ms=now - 10 * hour),
    ]
    runs = [
        _train(client, exp, ci[0], "aaaa1111", "md5-data-v1",
               {"accuracy": 0.84, "f1": 0.80, "baseline_accuracy": 0.70, "slice_min_accuracy": 0.75},
               {"lr": 0.1, "depth": 4}, "passed", now - 29 * hour),
        _train(client, exp, ci[2], "cccc3333", "md5-data-v2",
               {"accuracy": 0.90, "f1": 0.86, "baseline_accuracy": 0.70, "slice_min_accuracy": 0.81},
               {"lr": 0.05, "depth": 6}, "passed", now - 9 * hour),
        _train(client, exp, ci[2], "cccc3333", "md5-data-v2",
               {"accuracy": 0.91, "f1": 0.87, "baseline_accuracy": 0.70, "slice_min_accuracy": 0.82},
               {"lr": 0.03, "depth": 8}, "passed", now - 8 * hour),
    ]  # fmt: skip
    card = tmp / "model_card.md"
    card.write_text(MODEL_CARD)
    client.log_artifact(runs[1], str(card))
    client.create_registered_model(fraud, tags={tags.PROJECT: fraud})
    _version(client, fraud, runs[0], "aaaa1111", "md5-data-v1", "passed")
    _version(
        client, fraud, runs[1], "cccc3333", "md5-data-v2", "passed",
        {tags.MODEL_CARD: "model_card.md", tags.APPROVED_BY: "risk1@example.com,risk2@example.com",
         tags.APPROVED_AT: "2026-11-20T10:00:00+00:00,2026-11-21T10:00:00+00:00"},
    )  # fmt: skip
    _version(client, fraud, runs[2], "cccc3333", "md5-data-v2", "passed")
    client.set_registered_model_alias(fraud, tags.CHAMPION, "2")
    client.set_registered_model_alias(fraud, tags.CHALLENGER, "3")
    s.ci_run_ids[fraud], s.train_run_ids[fraud] = ci, runs
    # without drift: data 3.5, model 4, infra 6, monitoring 1 (champion fresh) -> 1
    # with drift pushed: monitoring 3 -> 3
    s.projects[fraud] = {
        "team": s.team_risk, "tier": "high", "owner": "alice@example.com", "champion": 2, "last_ci": "passed",
        "versions": 3, "ci_runs": 3, "sections_no_drift": {"data": 3.5, "model": 4, "infrastructure": 6,
                                                          "monitoring": 1},
        "score_no_drift": 1.0, "score_with_drift": 3.0,
    }  # fmt: skip

    # churn: low tier, last CI failed, one version that failed the gate, no champion, no data hash
    churn = s.name("churn")
    exp = _project(client, churn, s.team_demo, "low", "bob@example.com", **{tags.LABELING: "true"})
    ci = [
        _ci(client, exp, "passed", "lint,test", commit="dddd4444", start_ms=now - 5 * hour),
        _ci(client, exp, "failed", "lint,test", failed="test", commit="eeee5555", start_ms=now - 2 * hour),
    ]
    runs = [
        _train(client, exp, ci[0], "dddd4444", "", {"accuracy": 0.6}, {"lr": 0.1}, "failed", now - 4 * hour)
    ]
    client.create_registered_model(churn, tags={tags.PROJECT: churn})
    _version(client, churn, runs[0], "dddd4444", "", "failed")
    s.ci_run_ids[churn], s.train_run_ids[churn] = ci, runs
    # data 1 (test step), model 1 (CI commit), infra 2 (unit tests, gate recorded), monitoring 0 -> 0
    s.projects[churn] = {
        "team": s.team_demo, "tier": "low", "owner": "bob@example.com", "champion": None, "last_ci": "failed",
        "versions": 1, "ci_runs": 2, "sections_no_drift": {"data": 1, "model": 1, "infrastructure": 2,
                                                          "monitoring": 0},
        "score_no_drift": 0.0, "score_with_drift": 0.0,
    }  # fmt: skip

    # idle: medium tier, created but never pushed
    idle = s.name("idle")
    _project(client, idle, s.team_demo, "medium", "carol@example.com")
    s.projects[idle] = {
        "team": s.team_demo, "tier": "medium", "owner": "carol@example.com", "champion": None,
        "last_ci": "never",
        "versions": 0, "ci_runs": 0, "sections_no_drift": {"data": 0, "model": 0, "infrastructure": 0,
                                                          "monitoring": 0},
        "score_no_drift": 0.0, "score_with_drift": 0.0,
    }  # fmt: skip
    return s


def write_spec(path: Path, s: Seeded) -> Path:
    path.write_text(
        f"""platform: {{name: portal-test, environment: local}}
teams:
  - {{name: {s.team_demo}, owners: [lead@example.com], monthly_budget: 500}}
  - {{name: {s.team_risk}, owners: [risk-lead@example.com], monthly_budget: 1500}}
governance:
  people:
    approvers: [validator@example.com, second-validator@example.com]
    auditors: [auditor@example.com]
    managers: [manager@example.com]
  gates:
    - {{metric: accuracy, min: 0.80}}
    - {{metric: f1, min: 0.75}}
"""
    )
    return path
