"""The registry's governance actions on registered versions and projects: approve, promote/rollback,
reject, retire, comment, an independent validation set, and the project facts (provisioning, tier)."""

from __future__ import annotations

from shipyard import tags
from shipyard.audit import facts as facts_mod
from shipyard.audit import names as audit
from shipyard.errors import RequestRefused
from shipyard.identity.names import (
    ADMIN,
    APPROVER,
    MANAGER,
    PLATFORM_ADMIN,
    normal,
)
from shipyard.identity.people import person, team_people
from shipyard.records.parse import kv
from shipyard.registry import validation
from shipyard.registry.core import RegistryCore
from shipyard.registry.reasons import missing_reason


class Governance(RegistryCore):
    """Approvals, promotion and the other recorded decisions; project facts."""

    def register_validation_set(self, caller: str, model: str, text: str, filename: str, note: str) -> dict:
        """A validator outside the model's team registers the independent set the gate also uses."""
        project, team, _tier = self.project_facts(model)
        self._independent_approver(caller, team, model, "a validator", "validation")
        try:
            event = validation.register(
                self.api,
                self.audit,
                normal(caller),
                project,
                team_people(self.spec, team),
                text,
                filename,
                note,
            )
        except validation.InvalidSet as exc:
            raise RequestRefused(str(exc), 422) from None
        d = event.details
        return {"model": model, "sha256": d["sha256"], "rows": d["rows"], "columns": d["columns"],
                "event": event.seq, "registered_by": event.actor}  # fmt: skip

    def _gated(self, model: str, version: str) -> None:
        events = self.audit.events(model=model, action=audit.SUBMIT_REGISTERED)
        if not any(e.version == str(version) for e in events):
            raise RequestRefused(
                f"{model} v{version} did not pass the platform gate (no registration event)", 409
            )

    def approvals(self, model: str, version: str) -> list[str]:
        seen: list[str] = []
        for e in self.audit.events(model=model):
            if e.version == str(version) and e.action == audit.APPROVE and e.actor not in seen:
                seen.append(e.actor)
        return seen

    def approve(self, caller: str, model: str, version: str, note: str = "") -> dict:
        project, team, tier = self.project_facts(model)
        self._independent_approver(caller, team, model, "an approver", "approvals")
        self._version(model, version)
        self._gated(model, version)
        if normal(caller) in self.approvals(model, version):
            raise RequestRefused(f"{caller} already approved {model} v{version}", 409)
        self.audit.append(
            normal(caller), audit.APPROVE, project, model, version, {"note": note, "tier": tier}
        )
        have = self.approvals(model, version)
        self._mirror_approvals(model, version, have)
        return {"model": model, "version": version, "approved_by": have, "needed": self._needed(tier)}

    def _needed(self, tier: str) -> int:
        spec_tier = self.spec.governance.risk_tiers.get(tier)  # type: ignore[call-overload]
        return spec_tier.min_approvers if spec_tier and spec_tier.approval_required else 0

    def _mirror_approvals(self, model: str, version: str, who: list[str]) -> None:
        """A read-only copy for MLflow's UI; the audit log is the record."""
        self.api.set_model_version_tag(model, version, tags.APPROVED_BY, ",".join(who))

    def promote(self, caller: str, model: str, version: str, note: str = "") -> dict:
        project, team, tier = self.project_facts(model)
        who = person(self.spec, caller)
        allowed = who is not None and (
            who.has(MANAGER) or who.has(PLATFORM_ADMIN) or ("team_owner" in who.roles and team in who.teams)
        )
        if not allowed:
            raise RequestRefused(
                f"{caller} may not promote: a manager, platform admin or owner of team {team!r} can"
            )
        self._version(model, version)
        self._gated(model, version)
        if tier not in self.spec.governance.risk_tiers:
            raise RequestRefused(
                f"project {project!r} has risk tier {tier!r}, which this platform does not govern", 409
            )
        needed, have = self._needed(tier), self.approvals(model, version)
        if len(have) < needed:
            raise RequestRefused(
                f"risk tier {tier!r} needs {needed} distinct approvals, {model} v{version} has {len(have)}"
                f" ({', '.join(have) or 'none'})",
                409,
            )
        previous = self._alias_version(model, tags.CHAMPION)
        if previous == str(version):
            raise RequestRefused(f"{model} v{version} is already champion", 409)
        action = audit.ROLLBACK if previous and int(version) < int(previous) else audit.PROMOTE
        if refusal := missing_reason(action, model, version, note):
            raise RequestRefused(refusal, 422)
        details = {"previous": previous, "approvals": have, "tier": tier, "note": note, "reason": note}
        event = self.audit.append(normal(caller), action, project, model, version, details)
        self.api.set_alias(model, tags.CHAMPION, str(version))
        if self._alias_version(model, tags.CHALLENGER) == str(version):
            self.api.delete_alias(model, tags.CHALLENGER)
        return {
            "model": model,
            "version": version,
            "previous": previous,
            "action": action,
            "event": event.seq,
        }

    def record(self, caller: str, action: str, model: str, version: str, note: str) -> dict:
        """reject / retire / comment: recorded; reject and retire also take ``challenger`` off it."""
        project, team, _tier = self.project_facts(model)
        who = person(self.spec, caller)
        if action == audit.REJECT and (who is None or not who.has(APPROVER)):
            raise RequestRefused(f"{caller} is not an approver: only approvers reject")
        if action == audit.RETIRE:
            if who is None or not (who.has(MANAGER) or who.has(PLATFORM_ADMIN) or team in who.teams):
                raise RequestRefused(f"{caller} may not retire versions of {model}")
            if self._alias_version(model, tags.CHAMPION) == str(version):
                raise RequestRefused(f"{model} v{version} is champion: promote another version first", 409)
        if action == audit.COMMENT and who is None:
            raise RequestRefused(f"{caller} is not a person of this platform")
        if refusal := missing_reason(action, model, version, note):
            raise RequestRefused(refusal, 422)
        self._version(model, version)
        details = {"note": note, "reason": note} if action == audit.RETIRE else {"note": note}
        event = self.audit.append(normal(caller), action, project, model, version, details)
        if action in (audit.REJECT, audit.RETIRE) and self._alias_version(model, tags.CHALLENGER) == str(
            version
        ):
            self.api.delete_alias(model, tags.CHALLENGER)
        champion = self._alias_version(model, tags.CHAMPION) == str(version)  # a reject leaves it serving
        return {
            "model": model,
            "version": version,
            "action": action,
            "event": event.seq,
            "champion": champion,
        }

    def provisioned(self, caller: str, project: str, team: str, tier: str, owner: str) -> dict:
        """The provisioning account tells the registry a project's facts; kept if it has them."""
        if caller != ADMIN and not ((who := person(self.spec, caller)) and who.has(PLATFORM_ADMIN)):
            raise RequestRefused(f"{caller} may not provision projects: the platform admin's account does")
        exp = self._project_experiment(project)
        known = facts_mod.current(self.audit, project)
        wanted = facts_mod.ProjectFacts(project, team, tier, owner)
        if known is None:
            facts_mod.record(self.audit, normal(caller), wanted, facts_mod.PROVISIONED)
            known = wanted
        elif (known.team, known.tier) != (team, tier):
            raise RequestRefused(
                f"project {project!r} is team {known.team!r}, risk tier {known.tier!r} in the registry's "
                f"record, not team {team!r}, tier {tier!r}: change a tier with `shipyard project set-tier`",
                409,
            )
        facts_mod.mirror(self.api, str(exp["experiment_id"]), known, kv(exp.get("tags")))
        return {"project": project, **known.as_dict()}

    def set_tier(self, caller: str, project: str, tier: str, reason: str) -> dict:
        exp = self._project_experiment(project)
        before = self.facts(project, exp)
        why_not = facts_mod.may_set_tier(self.spec, caller, team_people(self.spec, before.team))
        if why_not:
            raise RequestRefused(why_not)
        if tier not in self.spec.governance.risk_tiers:
            governed = ", ".join(self.spec.governance.risk_tiers)
            raise RequestRefused(
                f"risk tier {tier!r} is not governed by this platform (one of: {governed})", 422
            )
        if not reason.strip():
            raise RequestRefused("a tier change needs a reason", 422)
        after = facts_mod.ProjectFacts(project, before.team, tier, before.owner)
        event = None
        if after != before:
            event = facts_mod.record(self.audit, normal(caller), after, facts_mod.SET_TIER, before, reason)
        mirrored = facts_mod.mirror(self.api, str(exp["experiment_id"]), after, kv(exp.get("tags")))
        seq = event.seq if event else None
        return {"project": project, "previous": before.tier, "tier": tier, "event": seq, "mirrored": mirrored}
