"""The platform spec: one typed description of a Shipyard platform.

Loaded from ``platform.yaml`` by :mod:`shipyard.spec.loader`. Infra, the CLI, the local
runtime, the template and the portal all read this model; nothing else describes a platform.
The parts live one concern per module; this module joins them and re-exports their names.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from shipyard.errors import SpecReferenceError
from shipyard.spec.ci import CiSpec
from shipyard.spec.fields import Environment, Strict
from shipyard.spec.governance import Governance
from shipyard.spec.local import LocalSpec
from shipyard.spec.platform_info import PlatformInfo
from shipyard.spec.pricing import DEFAULT_CURRENCY, Pricing
from shipyard.spec.services import Services
from shipyard.spec.teams import NodePool, Team

# --- the whole spec ---------------------------------------------------------------------------


class PlatformSpec(Strict):
    platform: PlatformInfo
    services: Services = Services()
    teams: list[Team] = Field(min_length=1)
    node_pools: list[NodePool] = []
    pricing: Pricing = Pricing()
    governance: Governance = Governance()
    local: LocalSpec = LocalSpec()
    ci: CiSpec = CiSpec()

    @model_validator(mode="after")
    def _cross_references(self) -> PlatformSpec:
        _unique("teams", [t.name for t in self.teams])
        _unique("node_pools", [p.name for p in self.node_pools])
        team_names = {t.name for t in self.teams}
        for i, pool in enumerate(self.node_pools):
            for team in pool.teams:
                if team not in team_names:
                    raise SpecReferenceError(
                        ("node_pools", i, "teams"),
                        f"team {team!r} is not defined in teams (known: {', '.join(sorted(team_names))})",
                    )
        if self.platform.environment != Environment.local:
            for i, pool in enumerate(self.node_pools):
                for instance_type in pool.instance_types:
                    if instance_type not in self.pricing.instance_hour:
                        raise SpecReferenceError(
                            ("node_pools", i, "instance_types"),
                            f"instance type {instance_type!r} has no price in pricing.instance_hour",
                        )
        if self.local.instance_type not in self.pricing.instance_hour:
            raise SpecReferenceError(
                ("local", "instance_type"),
                f"instance type {self.local.instance_type!r} has no price in pricing.instance_hour",
            )
        if self.pricing.currency != self.platform.currency:
            raise SpecReferenceError(
                ("pricing", "currency"),
                f"pricing.currency {self.pricing.currency!r} differs from platform.currency "
                f"{self.platform.currency!r}: budgets and prices must share one currency",
            )
        mlflow_db = self.services.mlflow.backend == "postgres" and self.services.mlflow.enabled
        if self.platform.environment == Environment.aws and (mlflow_db or self.services.label_studio.enabled):
            if self.services.mlflow.database_instance not in self.pricing.database_hour:
                raise SpecReferenceError(
                    ("services", "mlflow", "database_instance"),
                    f"database instance {self.services.mlflow.database_instance!r} has no price in "
                    "pricing.database_hour",
                )
        if (
            self.platform.environment == Environment.aws
            and self.pricing.currency != DEFAULT_CURRENCY
            and "control_plane_extended_hour" not in self.pricing.model_fields_set
        ):
            raise SpecReferenceError(
                ("pricing", "control_plane_extended_hour"),
                f"a price table in {self.pricing.currency} for EKS must set control_plane_extended_hour",
            )
        if self.platform.environment == Environment.local and self.services.registry.audit_database_secret:
            raise SpecReferenceError(
                ("services", "registry", "audit_database_secret"),
                "an audit database Secret is for a cluster (environment aws or kubernetes): on one machine "
                "the audit log is SQLite under the data dir, or set SHIPYARD_AUDIT_DATABASE_URL",
            )
        for team in self.ci.runners.teams:
            if team not in team_names:
                raise SpecReferenceError(
                    ("ci", "runners", "teams", team),
                    f"team {team!r} is not defined in teams (known: {', '.join(sorted(team_names))})",
                )
        if self.ci.runners.provider != "none" and self.platform.environment == Environment.local:
            raise SpecReferenceError(
                ("ci", "runners", "provider"),
                "in-cluster CI runners need a cluster platform (environment aws or kubernetes): "
                "set provider: none on a local platform",
            )
        if self.platform.environment != Environment.local and not self.node_pools:
            raise SpecReferenceError(("node_pools",), "a cluster platform needs at least one node pool")
        if "people" in self.governance.model_fields_set:
            self._enough_approvers()
        return self

    def _enough_approvers(self) -> None:
        """Each team needs as many approvers outside it as the strictest tier asks (four eyes)."""
        needed = max(
            (t.min_approvers for t in self.governance.risk_tiers.values() if t.approval_required), default=0
        )
        approvers = {e.lower() for e in self.governance.people.approvers}
        for team in self.teams:
            inside = {e.lower() for e in (*team.owners, *team.members)}
            independent = approvers - inside
            if len(independent) < needed:
                raise SpecReferenceError(
                    ("governance", "people", "approvers"),
                    f"team {team.name!r} has {len(independent)} approver(s) outside it, but the strictest "
                    f"risk tier needs {needed} distinct approvers who are not in the project's team",
                )

    def team(self, name: str) -> Team:
        for team in self.teams:
            if team.name == name:
                return team
        known = ", ".join(t.name for t in self.teams)
        raise KeyError(f"team {name!r} is not in the platform spec (known: {known})")

    @property
    def gpu_pools(self) -> list[NodePool]:
        return [p for p in self.node_pools if p.is_gpu]


def _unique(field: str, names: list[str]) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise SpecReferenceError(
                (field, i, "name"), f"{name!r} appears twice in {field}: names must be unique"
            )
        seen.add(name)
