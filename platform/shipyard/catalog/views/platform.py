"""The Platform page: which services are down, each service's row, and the spec's teams."""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.catalog.services import ServiceHealth
from shipyard.formatting import count, money
from shipyard.spec.model import PlatformSpec


def down(health: Sequence[ServiceHealth]) -> list[str]:
    return [h.service for h in health if h.status == "down"]


def service_rows(health: Sequence[ServiceHealth]) -> list[dict[str, object]]:
    return [
        {
            "service": h.service,
            "status": h.status,
            "URL": h.url or "-",
            "detail": h.detail,
            "latency (ms)": count(h.latency_ms),
        }
        for h in health
    ]


def team_rows(spec: PlatformSpec) -> list[dict[str, object]]:
    return [
        {
            "team": t.name,
            "owners": ", ".join(t.owners),
            f"monthly budget ({spec.platform.currency})": money(t.monthly_budget),
            "GPUs": count(t.quota.gpus),
        }
        for t in spec.teams
    ]
