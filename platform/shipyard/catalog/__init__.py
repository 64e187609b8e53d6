"""The catalog: read services behind the portal and ``shipyard model list`` (the portfolio with
health, CI, champions, drift and costs; the model inventory with lineage; labeling progress; service
health). Records come from :mod:`shipyard.records`, cached briefly."""

from shipyard.catalog.inventory import (
    InventoryRow,
    health_csv,
    health_json,
    inventory,
    inventory_csv,
    inventory_json,
    model_card_text,
)
from shipyard.catalog.portfolio import Portfolio, ProjectRow, build_portfolio, clear_cache, load_portfolio
from shipyard.catalog.services import ServiceHealth, service_health
from shipyard.catalog.snapshot_cache import load_snapshot

__all__ = [
    "InventoryRow",
    "Portfolio",
    "ProjectRow",
    "ServiceHealth",
    "build_portfolio",
    "clear_cache",
    "health_csv",
    "health_json",
    "inventory",
    "inventory_csv",
    "inventory_json",
    "load_portfolio",
    "load_snapshot",
    "model_card_text",
    "service_health",
]
