"""The model's Grafana dashboard, as code (grafana-foundation-sdk), and its provisioning (grafana-client)."""

from __future__ import annotations

import json

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef
from shipyard import tags

PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")


def legend(label: str) -> str:
    """A Grafana legend template (label in double braces), spelled so cookiecutter leaves it alone."""
    return "{" * 2 + label + "}" * 2


def build(project: str, team: str, model: str, feature_names: list[str]) -> dict:
    selector = "{" + f'project="{project}", model="{model}"' + "}"
    board = (
        dashboard.Dashboard(f"{project}: model drift")
        .uid(f"shipyard-{project}-drift"[:40])
        .tags(["shipyard", f"team:{team}", f"project:{project}"])
        .refresh("1m")
        .time("now-7d", "now")
        .with_panel(
            stat.Panel()
            .title("Drift share")
            .description("Share of features whose distribution drifted from the training reference")
            .datasource(PROMETHEUS)
            .unit("percentunit")
            .min(0)
            .max(1)
            .with_target(
                prometheus.Dataquery().expr(tags.METRIC_DRIFT_SHARE + selector).legend_format(legend("model"))
            )
            .span(8)
            .height(8)
        )
        .with_panel(
            timeseries.Panel()
            .title(f"Feature drift (KS statistic, {len(feature_names)} features)")
            .datasource(PROMETHEUS)
            .with_target(
                prometheus.Dataquery()
                .expr(tags.METRIC_FEATURE_DRIFT + selector)
                .legend_format(legend("feature"))
            )
            .span(16)
            .height(8)
        )
    )
    return json.loads(json.dumps(board.build(), cls=JSONEncoder))


def provision(board: dict, url: str, token: str) -> dict:
    """Create or update the dashboard (POST /api/dashboards/db, overwrite)."""
    from grafana_client import GrafanaApi

    api = GrafanaApi.from_url(url, credential=token)
    return api.dashboard.update_dashboard(
        {"dashboard": board, "overwrite": True, "message": "shipyard: make monitor"}
    )
