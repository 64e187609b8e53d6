"""`make monitor`: compare a current batch with the training reference and publish the drift.

Per feature: the two-sample Kolmogorov-Smirnov statistic and p-value; a feature drifts when its
p-value is below monitor.p_value. The drift share is the fraction of drifting features. Figures go
to the platform's Prometheus pushgateway (job shipyard_drift, grouping key project) and the model's
Grafana dashboard is written as code (reports/grafana-dashboard.json), provisioned when Grafana is set.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass

import pandas as pd
from scipy import stats
from shipyard import tags

from . import config, dashboard

PUSH_JOB = "shipyard_drift"


@dataclass
class FeatureDrift:
    statistic: float
    p_value: float
    drifted: bool


@dataclass
class DriftReport:
    features: dict[str, FeatureDrift]

    @property
    def share(self) -> float:
        return sum(f.drifted for f in self.features.values()) / max(len(self.features), 1)


def drift(reference: pd.DataFrame, current: pd.DataFrame, p_value: float) -> DriftReport:
    found = {}
    for column in reference.columns:
        if column in (config.target(), config.ROW_ID) or column not in current.columns:
            continue
        result = stats.ks_2samp(reference[column].to_numpy(), current[column].to_numpy())
        found[column] = FeatureDrift(
            float(result.statistic), float(result.pvalue), bool(result.pvalue < p_value)
        )
    return DriftReport(found)


def current_batch(settings: dict, reference: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """monitor.current_batch, else the last scored batch (`make predict`), else the held-out split; with
    its drift source (tags.DRIFT_SOURCES): production data (a batch) or the held-out check (CI's)."""
    if settings.get("current_batch"):
        return pd.read_csv(config.ROOT / settings["current_batch"]), tags.DRIFT_SOURCE_SCORED
    scored = config.REPORTS / "scoring-features.csv"
    source = tags.DRIFT_SOURCE_SCORED if scored.exists() else tags.DRIFT_SOURCE_HELD_OUT
    current = pd.read_csv(scored if scored.exists() else config.FEATURES / "test.csv")
    shift = float(settings.get("simulate_shift") or 0)
    if shift:
        columns = [c for c in current.columns if c not in (config.target(), config.ROW_ID)]
        current[columns] = current[columns] + shift * reference[columns].std()
    return current, source


def push(
    report: DriftReport,
    url: str,
    project: str,
    team: str,
    model: str,
    risk_tier: str = "",
    source: str = tags.DRIFT_SOURCE_SCORED,
) -> None:
    """The platform's drift alert rule (shipyard.alerts) compares production's share with the tier's
    limit. One group per (project, source): the held-out check never replaces a scored batch's figure."""
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

    registry = CollectorRegistry()
    share = Gauge(
        tags.METRIC_DRIFT_SHARE,
        "Share of features drifting",
        ["project", "team", "model", "risk_tier", tags.DRIFT_SOURCE],
        registry=registry,
    )
    share.labels(project, team, model, risk_tier, source).set(report.share)
    feature = Gauge(
        tags.METRIC_FEATURE_DRIFT,
        "KS statistic per feature",
        ["project", "team", "model", "feature", tags.DRIFT_SOURCE],
        registry=registry,
    )
    for name, result in report.features.items():
        feature.labels(project, team, model, name, source).set(result.statistic)
    grouping = {"project": project, tags.DRIFT_SOURCE: source}
    push_to_gateway(url, job=PUSH_JOB, grouping_key=grouping, registry=registry)


def main() -> int:
    settings = config.params()["monitor"]
    p = config.project()
    reference = pd.read_csv(config.FEATURES / "train.csv")
    current, source = current_batch(settings, reference)
    report = drift(reference, current, float(settings["p_value"]))
    config.REPORTS.mkdir(parents=True, exist_ok=True)
    (config.REPORTS / "drift.json").write_text(
        json.dumps(
            {
                "share": report.share,
                "source": source,
                "features": {k: asdict(v) for k, v in report.features.items()},
            },
            indent=2,
        )
    )
    drifting = [name for name, f in report.features.items() if f.drifted]
    counted = f"{len(drifting)} of {len(report.features)} features drift"
    print(f"drift share {report.share:.2f} on the {source.replace('_', ' ')} ({counted})")
    limit = config.governance()["monitor"]["max_drift_share"]  # the tier's, in shipyard.yaml
    if report.share > float(limit):
        print(f"  WARNING: above max_drift_share {limit} for risk tier {p['risk_tier']}: {drifting}")

    url = config.platform_value("SHIPYARD_PUSHGATEWAY_URL", "pushgateway")
    if url:
        push(report, url, p["project"], p["team"], config.model_name(), p["risk_tier"], source)
        print(f"pushed {tags.METRIC_DRIFT_SHARE} and {tags.METRIC_FEATURE_DRIFT} to {url} (job {PUSH_JOB})")
    else:
        print(
            "no pushgateway configured (SHIPYARD_PUSHGATEWAY_URL): drift figures kept in reports/drift.json"
        )

    board = dashboard.build(p["project"], p["team"], config.model_name(), list(report.features))
    (config.REPORTS / "grafana-dashboard.json").write_text(json.dumps(board, indent=2))
    grafana, token = config.platform_value("GRAFANA_URL", "grafana"), os.environ.get("GRAFANA_TOKEN")
    if grafana and token:
        answer = dashboard.provision(board, grafana, token)
        print(f"Grafana dashboard provisioned: {answer.get('url', answer.get('uid'))}")
    else:
        print("no Grafana configured (GRAFANA_URL + GRAFANA_TOKEN): see reports/grafana-dashboard.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
