"""What the registry's submit path and its governance actions share: the service account's MLflow
client and audit store, a project's facts, a model's versions and aliases, and who is an independent
approver. Refusals raise :class:`~shipyard.errors.RequestRefused` (its HTTP status in :mod:`.server`).
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from shipyard import tags
from shipyard.audit import facts as facts_mod
from shipyard.audit.store import AuditStore, Event
from shipyard.errors import NotFound, RequestRefused
from shipyard.identity.names import (
    APPROVER,
    REGISTRY,
    normal,
)
from shipyard.identity.people import person, team_people
from shipyard.records import MlflowApi, TrainingRun
from shipyard.records.parse import kv, parse_registered_model
from shipyard.registry import names
from shipyard.spec.model import PlatformSpec

# the account a person's request came through (the portal's, for on-behalf-of calls), set by the server
# around one registry change: every audit event that change appends says so in its details
ACTING_VIA: ContextVar[str | None] = ContextVar("shipyard_registry_via", default=None)


class _AuditVia:
    """The audit store, whose appends add ``details["via"]`` while :data:`ACTING_VIA` is set. A new
    key inside ``details`` is part of the hashed canonical JSON, as any detail: the chain and its
    verification are unchanged, earlier events untouched."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store

    def append(self, actor: str, action: str, project: str = "", model: str = "", version: str | int = "",
               details: dict | None = None, at: dt.datetime | None = None) -> Event:  # fmt: skip
        via = ACTING_VIA.get()
        if via:
            details = {**(details or {}), names.VIA: via}
        return self.store.append(actor, action, project, model, version, details, at)

    def __getattr__(self, name: str):
        return getattr(self.store, name)


@dataclass(frozen=True)
class Timings:
    lineage: float = 0.0
    load: float = 0.0
    scoring: float = 0.0
    registry: float = 0.0


class RegistryCore:
    """Reads and writes MLflow through the record layer (:class:`MlflowApi`, the registry account's
    credentials from the environment). It loads no model: a submit's models are scored in a child
    process without credentials (:mod:`.sandbox`), in the formats :mod:`.formats` accepts."""

    def __init__(self, spec: PlatformSpec, tracking_uri: str, audit_store: AuditStore,
                 data_dir: Path | None = None, unverified_hosted_ci: bool = False) -> None:  # fmt: skip
        import mlflow

        mlflow.set_tracking_uri(tracking_uri)  # mlflow.artifacts resolves runs:/ and models:/ URIs here
        mlflow.set_registry_uri(tracking_uri)
        self.spec = spec
        self.uri = tracking_uri
        self.audit = _AuditVia(audit_store)
        self.api = MlflowApi(tracking_uri)
        # the platform's own evidence (runner jobs, git remotes, DVC remote): provenance.py
        self.data_dir = data_dir
        self.unverified_hosted_ci = unverified_hosted_ci

    def project_of_run(self, run: TrainingRun) -> tuple[str, dict[str, str]]:
        """The run's project and its experiment's tags."""
        exp_tags = kv(self.api.experiment(run.experiment_id).get("tags"))
        project = exp_tags.get(tags.PROJECT)
        if not project:
            raise RequestRefused(f"run {run.run_id} is not in a Shipyard project's experiment", 422)
        return project, exp_tags

    def project_facts(self, model: str) -> tuple[str, str, str]:
        """(project, team, risk tier) of a registered model (= the project's name), from the registry's
        own record (:mod:`.facts`), never from the experiment's tags."""
        known = self.facts(model, self._project_experiment(model))
        return model, known.team, known.tier

    def _project_experiment(self, model: str) -> dict:
        exp = self.api.experiment_by_name(model)
        if exp is None or kv(exp.get("tags")).get(tags.PROJECT) != model:
            raise RequestRefused(f"{model!r} is not a model of a Shipyard project", 404)
        return exp

    def facts(self, project: str, exp: dict) -> facts_mod.ProjectFacts:
        """The project's facts; a project from before the registry kept them: imported from its tags
        once, and the audit event says so."""
        known = facts_mod.current(self.audit, project)
        if known is None:
            known = facts_mod.ProjectFacts.from_tags(project, kv(exp.get("tags")))
            facts_mod.record(self.audit, REGISTRY, known, facts_mod.IMPORTED)
        return known

    def _alias_version(self, model: str, alias: str) -> str | None:
        try:
            aliases = parse_registered_model(self.api.registered_model(model)).aliases
        except NotFound:
            return None
        value = aliases.get(alias)
        return str(value) if value is not None else None

    def _version(self, model: str, version: str) -> dict:
        try:
            return self.api.model_version(model, str(version))
        except NotFound:
            raise RequestRefused(f"{model} has no version {version}", 404) from None

    def _independent_approver(self, caller: str, team: str, model: str, role: str, what: str) -> None:
        """An approver of the platform (governance.people.approvers) outside the model's team."""
        who = person(self.spec, caller)
        if who is None or not who.has(APPROVER):
            raise RequestRefused(f"{caller} is not {role} of this platform (governance.people.approvers)")
        if normal(caller) in team_people(self.spec, team):
            raise RequestRefused(
                f"{caller} is in team {team!r}, which owns {model}: {what} must be independent"
            )
