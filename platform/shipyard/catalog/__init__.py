"""The catalog: read services behind the portal (projects, CI history, runs, models with lineage,
drift, labeling progress, service health). Reads MLflow with its paged searches, cached briefly."""

from shipyard.catalog.config import PortalConfig, platform_endpoints, portal_env
from shipyard.catalog.inventory import (
    InventoryRow,
    health_csv,
    health_json,
    inventory,
    inventory_csv,
    inventory_json,
    model_card_text,
)
from shipyard.catalog.mlflow_rest import MlflowRest, ServiceUnavailable
from shipyard.catalog.model import CiRun, ModelVersion, Project, RegisteredModel, Snapshot, TrainRun
from shipyard.catalog.portfolio import Portfolio, ProjectRow, build_portfolio, clear_cache, load_portfolio
from shipyard.catalog.reader import fetch_snapshot, load_snapshot
from shipyard.catalog.services import ServiceHealth, service_health

__all__ = [
    "CiRun",
    "InventoryRow",
    "MlflowRest",
    "ModelVersion",
    "Portfolio",
    "PortalConfig",
    "Project",
    "ProjectRow",
    "RegisteredModel",
    "ServiceHealth",
    "ServiceUnavailable",
    "Snapshot",
    "TrainRun",
    "build_portfolio",
    "clear_cache",
    "fetch_snapshot",
    "health_csv",
    "health_json",
    "inventory",
    "inventory_csv",
    "inventory_json",
    "load_portfolio",
    "load_snapshot",
    "model_card_text",
    "platform_endpoints",
    "portal_env",
    "service_health",
]
