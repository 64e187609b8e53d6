"""Approve and promote model versions: ``champion`` only past the gate, with the approvals the
project's risk tier requires (tags ``shipyard.approval.by``/``.at``, comma-separated, in order)."""

from __future__ import annotations

import datetime as dt

from shipyard import tags
from shipyard.endpoints import Endpoints
from shipyard.errors import BadInput, Refused
from shipyard.records import MlflowApi, ModelVersion, read, write
from shipyard.records.parse import parse_registered_model
from shipyard.spec.model import EMAIL, PlatformSpec


def version_state(endpoints: Endpoints, model: str, version: int) -> ModelVersion:
    """The version with its aliases, approvals and its project's risk tier."""
    return read.get_model_version(MlflowApi.of(endpoints), model, version)


def approve(
    spec: PlatformSpec,
    endpoints: Endpoints,
    model: str,
    version: int,
    by: str,
    now: dt.datetime | None = None,
) -> ModelVersion:
    """Record ``by``'s approval of a version that passed the gate."""
    if not EMAIL.match(by or ""):
        raise BadInput(
            f"--by {by!r} is not an email address", "pass the approver's email: --by you@example.com"
        )
    state = version_state(endpoints, model, version)
    if state.gate_result != "passed":
        raise Refused(
            f"{model} v{version} did not pass the gate (gate: {state.gate_result or 'not run'}): "
            "cannot approve",
            "train a version that passes the gate (its CI run sets shipyard.gate.result=passed)",
        )
    if by in state.approved_by:
        raise Refused(
            f"{by} already approved {model} v{version}", "a second approval must come from someone else"
        )
    at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    write.add_approval(MlflowApi.of(endpoints), state, by, at)
    return version_state(endpoints, model, version)


def promotion_problems(spec: PlatformSpec, state: ModelVersion) -> list[tuple[str, str]]:
    """Why ``state`` may not become champion: (problem, fix) pairs; empty when it may."""
    problems = []
    if state.gate_result != "passed":
        problems.append(
            (
                f"gate result is {state.gate_result or 'missing'!r}, not 'passed'",
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
        raise Refused(message, "; ".join(f for _, f in problems))
    api = MlflowApi.of(endpoints)
    aliases = parse_registered_model(api.registered_model(model)).aliases
    previous = aliases.get(tags.CHAMPION)
    api.set_alias(model, tags.CHAMPION, version)
    if aliases.get(tags.CHALLENGER) == int(version):
        api.delete_alias(model, tags.CHALLENGER)
    return previous
