"""The platform's alert rules, built once here: the embedded Prometheus loads them as a rule file
(``local/services/prometheus.py``) and a cluster deploys the same rules as a PrometheusRule
(prometheus-operator CRD, ``infra/components/monitoring.py``). No other module writes an alert.

Drift: every project's ``make monitor`` pushes ``shipyard_drift_share`` labelled with its project,
team, model and risk tier; one rule per risk tier fires when a project's production share passes that
tier's ``max_drift_share`` from the spec (critical where the tier requires drift monitoring).
"""

from __future__ import annotations

from collections.abc import Mapping

from shipyard import tags
from shipyard.spec.governance import RiskTier

DRIFT_ALERT = "ShipyardDriftAboveTierLimit"
RULE_GROUP = "shipyard-drift"
EVALUATION_INTERVAL = "30s"
BY = "project, team, model, risk_tier"
PROMETHEUS_RULE_API = "monitoring.coreos.com/v1"
RULE_LABELS = {"app.kubernetes.io/part-of": "shipyard", "release": "kube-prometheus-stack"}


def drift_alert(tier: str, settings: RiskTier) -> dict:
    """One tier's rule: production's drift share (CI's check on the held-out split is not what the
    model meets) above the tier's limit."""
    limit = settings.max_drift_share
    selector = f'{tags.METRIC_DRIFT_SHARE}{{risk_tier="{tier}",{tags.PRODUCTION_DRIFT}}}'
    return {
        "alert": DRIFT_ALERT,
        "expr": f"max by ({BY}) ({selector}) > {limit}",
        # the tier as a label too: rules that differ only in their expression are duplicates to promtool
        "labels": {
            "severity": "critical" if settings.drift_monitoring_required else "warning",
            "risk_tier": tier,
        },
        "annotations": {
            "summary": "{{ $labels.project }}: drift share {{ $value | humanizePercentage }} "
            f"is above the {tier} tier's limit of {limit:.0%}",
            "description": "The share of features drifting between the scoring data and the training "
            f"reference of model {{{{ $labels.model }}}} passed max_drift_share {limit} of risk tier "
            f"{tier}. Check the portal's Project page, then retrain or investigate the data.",
        },
    }


def alert_rules(risk_tiers: Mapping[str, RiskTier]) -> list[dict]:
    """Every alerting rule of the platform, in a stable order (one per risk tier)."""
    return [drift_alert(tier, settings) for tier, settings in sorted(risk_tiers.items())]


def drift_rules(risk_tiers: Mapping[str, RiskTier], evaluation_interval: str = EVALUATION_INTERVAL) -> dict:
    """The rule file (Prometheus rule file format) the embedded Prometheus loads."""
    group = {"name": RULE_GROUP, "interval": evaluation_interval, "rules": alert_rules(risk_tiers)}
    return {"groups": [group]}


def prometheus_rule(
    risk_tiers: Mapping[str, RiskTier], namespace: str = "monitoring", labels: Mapping[str, str] | None = None
) -> dict:
    """The same rules as a ``monitoring.coreos.com/v1`` PrometheusRule for a cluster (infra/). Its group
    has no interval of its own: the cluster's Prometheus evaluates at its global interval."""
    return {
        "apiVersion": PROMETHEUS_RULE_API,
        "kind": "PrometheusRule",
        "metadata": {"name": RULE_GROUP, "namespace": namespace, "labels": dict(labels or RULE_LABELS)},
        "spec": {"groups": [{"name": RULE_GROUP, "rules": alert_rules(risk_tiers)}]},
    }
