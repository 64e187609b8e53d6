"""Approve and promote model versions: ``champion`` only past the gate, with the approvals the
project's risk tier requires (tags ``shipyard.approval.by``/``.at``, comma-separated, in order)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shipyard import tags
from shipyard.catalog.mlflow_rest import ServiceUnavailable
from shipyard.endpoints import Endpoints
from shipyard.errors import UserError
from shipyard.spec.model import EMAIL, PlatformSpec


@dataclass(frozen=True)
class VersionState:
    model: str
    version: int
    project: str
    risk_tier: str
    gate: str
    model_card: str
    approved_by: tuple[str, ...]
    approved_at: tuple[str, ...]
    aliases: tuple[str, ...]


def _client(endpoints: Endpoints):
    if not endpoints.mlflow:
        raise ServiceUnavailable("MLflow", None, "no tracking URL in the platform's endpoints")
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=endpoints.mlflow, registry_uri=endpoints.mlflow)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


def version_state(endpoints: Endpoints, model: str, version: int) -> VersionState:
    from mlflow.exceptions import MlflowException

    client = _client(endpoints)
    try:
        mv = client.get_model_version(model, str(version))
        rm = client.get_registered_model(model)
    except MlflowException as exc:
        if "RESOURCE_DOES_NOT_EXIST" in str(exc.error_code):
            raise UserError(
                f"model {model!r} has no version {version}", "list versions with `shipyard model list`"
            ) from None
        raise ServiceUnavailable("MLflow", endpoints.mlflow, str(exc).splitlines()[0]) from None
    except Exception as exc:  # connection errors surface as MlflowException or requests errors
        raise ServiceUnavailable("MLflow", endpoints.mlflow, type(exc).__name__) from None
    project, tier = rm.tags.get(tags.PROJECT, ""), ""
    run_id = mv.tags.get(tags.MODEL_RUN_ID) or mv.run_id
    if run_id:
        try:
            exp = client.get_experiment(client.get_run(run_id).info.experiment_id)
            project = exp.tags.get(tags.PROJECT, exp.name)
            tier = exp.tags.get(tags.RISK_TIER, "")
        except MlflowException:
            pass  # the run was deleted: the tier falls back to the registered model's tag
    tier = tier or rm.tags.get(tags.RISK_TIER, "")
    return VersionState(
        model=model,
        version=int(version),
        project=project,
        risk_tier=tier,
        gate=mv.tags.get(tags.GATE_RESULT, ""),
        model_card=mv.tags.get(tags.MODEL_CARD, ""),
        approved_by=_split(mv.tags.get(tags.APPROVED_BY)),
        approved_at=_split(mv.tags.get(tags.APPROVED_AT)),
        aliases=tuple(sorted(a for a, v in rm.aliases.items() if int(v) == int(version))),
    )


def approve(
    spec: PlatformSpec,
    endpoints: Endpoints,
    model: str,
    version: int,
    by: str,
    now: dt.datetime | None = None,
) -> VersionState:
    """Record ``by``'s approval of a version that passed the gate."""
    if not EMAIL.match(by or ""):
        raise UserError(
            f"--by {by!r} is not an email address", "pass the approver's email: --by you@example.com"
        )
    state = version_state(endpoints, model, version)
    if state.gate != "passed":
        raise UserError(
            f"{model} v{version} did not pass the gate (gate: {state.gate or 'not run'}): cannot approve",
            "train a version that passes the gate (its CI run sets shipyard.gate.result=passed)",
        )
    if by in state.approved_by:
        raise UserError(
            f"{by} already approved {model} v{version}", "a second approval must come from someone else"
        )
    at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    client = _client(endpoints)
    client.set_model_version_tag(model, str(version), tags.APPROVED_BY, ",".join([*state.approved_by, by]))
    client.set_model_version_tag(model, str(version), tags.APPROVED_AT, ",".join([*state.approved_at, at]))
    return version_state(endpoints, model, version)


def promotion_problems(spec: PlatformSpec, state: VersionState) -> list[tuple[str, str]]:
    """Why ``state`` may not become champion: (problem, fix) pairs; empty when it may."""
    problems = []
    if state.gate != "passed":
        problems.append(
            (
                f"gate result is {state.gate or 'missing'!r}, not 'passed'",
                "only a version past the gate is promoted",
            )
        )
    tier = spec.governance.risk_tiers.get(state.risk_tier)  # type: ignore[call-overload]
    if tier is None:
        known = ", ".join(spec.governance.risk_tiers)
        problems.append(
            (
                f"project {state.project!r} has risk tier {state.risk_tier or '(none)'!r}, not {known}",
                f"set the experiment tag {tags.RISK_TIER} to one of {known}",
            )
        )
        return problems
    if tier.approval_required and len(state.approved_by) < tier.min_approvers:
        have = ", ".join(state.approved_by) or "nobody"
        problems.append(
            (
                f"risk tier {state.risk_tier!r} needs {tier.min_approvers} approvals, has "
                f"{len(state.approved_by)} ({have})",
                f"shipyard model approve {state.model} {state.version} --by APPROVER_EMAIL",
            )
        )
    if tier.model_card_required and not state.model_card:
        problems.append(
            (
                f"risk tier {state.risk_tier!r} requires a model card",
                f"log one and tag the version {tags.MODEL_CARD}",
            )
        )
    return problems


def promote(spec: PlatformSpec, endpoints: Endpoints, model: str, version: int) -> int | None:
    """Point ``champion`` at the version; returns the previous champion version (None if none)."""
    state = version_state(endpoints, model, version)
    problems = promotion_problems(spec, state)
    if problems:
        message = f"{model} v{version} cannot become champion: " + "; ".join(p for p, _ in problems)
        raise UserError(message, "; ".join(f for _, f in problems))
    client = _client(endpoints)
    rm = client.get_registered_model(model)
    previous = rm.aliases.get(tags.CHAMPION)
    client.set_registered_model_alias(model, tags.CHAMPION, str(version))
    if str(rm.aliases.get(tags.CHALLENGER, "")) == str(version):
        client.delete_registered_model_alias(model, tags.CHALLENGER)
    return int(previous) if previous is not None else None
