"""The platform's alert rules, defined once: the embedded Prometheus loads them as a rule file and a
cluster deploys the same groups as a PrometheusRule (prometheus-operator CRD).

Drift: every project's ``make monitor`` pushes ``shipyard_drift_share`` labelled with its project,
team, model and risk tier; one rule per governed tier fires when a project's share passes that tier's
``max_drift_share`` from the spec.
"""

from __future__ import annotations

from shipyard import tags
from shipyard.spec.model import PlatformSpec

DRIFT_ALERT = "ShipyardDriftAboveTierLimit"
RULE_GROUP = "shipyard-drift"
EVALUATION_INTERVAL = "30s"
BY = "project, team, model, risk_tier"


def drift_rules(spec: PlatformSpec, evaluation_interval: str = EVALUATION_INTERVAL) -> dict:
    """The rule groups (Prometheus rule file format)."""
    rules = []
    for tier, settings in sorted(spec.governance.risk_tiers.items()):
        limit = settings.max_drift_share
        # production's drift only: CI's check on the held-out split is not what the model meets
        selector = f'{tags.METRIC_DRIFT_SHARE}{{risk_tier="{tier}",{tags.PRODUCTION_DRIFT}}}'
        rules.append(
            {
                "alert": DRIFT_ALERT,
                "expr": f"max by ({BY}) ({selector}) > {limit}",
                "labels": {"severity": "critical" if settings.drift_monitoring_required else "warning"},
                "annotations": {
                    "summary": "{{ $labels.project }}: drift share {{ $value | humanizePercentage }} "
                    f"is above the {tier} tier's limit of {limit:.0%}",
                    "description": "The share of features drifting between the scoring data and the training "
                    f"reference of model {{{{ $labels.model }}}} passed max_drift_share {limit} of risk tier "
                    f"{tier}. Check the portal's Project page, then retrain or investigate the data.",
                },
            }
        )
    return {"groups": [{"name": RULE_GROUP, "interval": evaluation_interval, "rules": rules}]}


def prometheus_rule(spec: PlatformSpec, namespace: str = "monitoring") -> dict:
    """The same rules as a ``monitoring.coreos.com/v1`` PrometheusRule for a cluster (infra/)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": RULE_GROUP,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "shipyard", "release": "kube-prometheus-stack"},
        },
        "spec": drift_rules(spec),
    }
