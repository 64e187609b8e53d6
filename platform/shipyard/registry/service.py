"""What the registry service does, as the registry service account (its MLflow credentials are in
this process's environment): submit, approve, promote/rollback, reject, retire, comment.

Every decision is appended to the audit log first-class; registry state in MLflow follows from it.
Refusals raise :class:`Refused` with a one-line reason (HTTP 403/409/422 in :mod:`.server`).
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from shipyard import tags
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore
from shipyard.identity.names import APPROVER, MANAGER, PLATFORM_ADMIN, RUNNER, ci_account, normal
from shipyard.identity.people import person, team_people
from shipyard.registry import names
from shipyard.registry.gate import Verdict, decide
from shipyard.spec.model import PlatformSpec


class Refused(Exception):
    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


@dataclass(frozen=True)
class Timings:
    lineage: float = 0.0
    load: float = 0.0
    scoring: float = 0.0
    registry: float = 0.0


class Registry:
    def __init__(self, spec: PlatformSpec, tracking_uri: str, audit_store: AuditStore) -> None:
        import mlflow
        from mlflow import MlflowClient

        mlflow.set_tracking_uri(tracking_uri)  # pyfunc.load_model resolves models:/ URIs through these
        mlflow.set_registry_uri(tracking_uri)
        self.spec = spec
        self.uri = tracking_uri
        self.audit = audit_store
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    # --- project facts ---------------------------------------------------------------------
    def project_of_run(self, run):
        exp = self.client.get_experiment(run.info.experiment_id)
        project = exp.tags.get(tags.PROJECT)
        if not project:
            raise Refused(f"run {run.info.run_id} is not in a Shipyard project's experiment", 422)
        return project, exp

    def project_facts(self, model: str) -> tuple[str, str, str]:
        """(project, team, risk tier) of a registered model (= the project's name)."""
        exp = self.client.get_experiment_by_name(model)
        if exp is None or exp.tags.get(tags.PROJECT) != model:
            raise Refused(f"{model!r} is not a model of a Shipyard project", 404)
        return model, exp.tags.get(tags.TEAM, ""), exp.tags.get(tags.RISK_TIER, "")

    # --- submit ----------------------------------------------------------------------------
    def submit(self, caller: str, run_id: str) -> dict:
        t0 = time.monotonic()
        run = self._run(run_id)
        project, exp = self.project_of_run(run)
        team = exp.tags.get(tags.TEAM, "")
        if caller not in (ci_account(project), RUNNER) and normal(caller) not in team_people(self.spec, team):
            raise Refused(f"{caller} may not submit models of project {project!r}")
        ci_run, branch = self._lineage(run, project)
        lineage_s = time.monotonic() - t0

        t1 = time.monotonic()
        eval_path, eval_hash = self._eval_data(run)
        task = run.data.params.get("task", "classification")
        candidate_model = self._load(self._candidate_uri(run))
        champion_version = self._alias_version(project, tags.CHAMPION)
        champion_model = self._load(f"models:/{project}/{champion_version}") if champion_version else None
        load_s = time.monotonic() - t1

        t2 = time.monotonic()
        import pandas as pd

        from shipyard.registry.scoring import score_model

        frame = pd.read_csv(eval_path)
        if names.TARGET not in frame.columns:
            raise Refused(f"the evaluation data {names.EVAL_ARTIFACT} has no {names.TARGET!r} column", 422)
        candidate = score_model(candidate_model, task, frame, names.TARGET)
        champion = score_model(champion_model, task, frame, names.TARGET) if champion_model else None
        verdict = decide(self.spec, candidate, champion, champion_version, eval_hash, len(frame))
        scoring_s = time.monotonic() - t2

        t3 = time.monotonic()
        evidence = {
            **verdict.as_dict(),
            "run_id": run_id,
            "ci_run_id": ci_run.info.run_id,
            "commit": ci_run.data.tags.get(tags.CI_COMMIT, ""),
            "branch": branch,
            "data_hash": run.data.tags.get(tags.DATA_HASH, ""),
        }
        default = self._default_branch(exp)
        version = None
        if branch != default:
            event = self.audit.append(caller, audit.SUBMIT_DRY_RUN, project, project, "", evidence)
            outcome = "dry-run"
        elif not verdict.passed:
            event = self.audit.append(caller, audit.SUBMIT_REFUSED, project, project, "", evidence)
            outcome = "refused"
        else:
            version = self._register(project, run, verdict, evidence)
            event = self.audit.append(caller, audit.SUBMIT_REGISTERED, project, project, version, evidence)
            outcome = "registered"
        registry_s = time.monotonic() - t3
        return {
            "outcome": outcome,
            "passed": verdict.passed,
            "version": version,
            "branch": branch,
            "default_branch": default,
            "verdict": verdict.as_dict(),
            "event": event.seq,
            "timings": Timings(lineage_s, load_s, scoring_s, registry_s).__dict__,
        }

    def _run(self, run_id: str):
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_run(run_id)
        except MlflowException:
            raise Refused(f"run {run_id!r} does not exist", 404) from None

    def _lineage(self, run, project: str):
        """The run was made by a CI run of this project, at a commit, with a DVC data hash."""
        t = run.data.tags
        ci_id = t.get(tags.CI_RUN_ID)
        if not ci_id:
            raise Refused(
                f"run {run.info.run_id} was not made by a platform CI run (no {tags.CI_RUN_ID})", 422
            )
        ci_run = self._run(ci_id)
        ct = ci_run.data.tags
        if ct.get(tags.RUN_KIND) != tags.RUN_KIND_CI or ci_run.info.experiment_id != run.info.experiment_id:
            raise Refused(f"{tags.CI_RUN_ID} {ci_id} is not a CI run of project {project!r}", 422)
        if ct.get(tags.CI_STATUS) != "running":
            raise Refused(
                f"CI run {ci_id} is {ct.get(tags.CI_STATUS)!r}, not running: submit from its job", 422
            )
        commit = ct.get(tags.CI_COMMIT, "")
        if not commit or t.get(tags.GIT_COMMIT) != commit:
            raise Refused(
                f"the run's commit {t.get(tags.GIT_COMMIT, '(none)')!r} is not the CI run's pushed commit "
                f"{commit or '(none)'!r}",
                422,
            )
        if not t.get(tags.DATA_HASH):
            raise Refused(f"run {run.info.run_id} records no DVC data hash ({tags.DATA_HASH})", 422)
        return ci_run, ct.get(tags.CI_BRANCH, "")

    def _default_branch(self, exp) -> str:
        repo = exp.tags.get(tags.REPO)
        if repo and Path(repo, "HEAD").exists():
            proc = subprocess.run(
                ["git", "--git-dir", repo, "symbolic-ref", "--short", "HEAD"], capture_output=True, text=True
            )
            if proc.returncode == 0 and proc.stdout.strip():
                return proc.stdout.strip()
        return names.DEFAULT_BRANCH

    def _eval_data(self, run) -> tuple[Path, str]:
        recorded = run.data.tags.get(names.EVAL_HASH)
        if not recorded:
            raise Refused(f"run {run.info.run_id} records no evaluation data hash ({names.EVAL_HASH})", 422)
        folder = Path(tempfile.mkdtemp(prefix="shipyard-eval-"))
        try:
            path = Path(self.client.download_artifacts(run.info.run_id, names.EVAL_ARTIFACT, str(folder)))
        except Exception:  # MLflow raises several kinds for a missing artifact: all mean "not there"
            raise Refused(
                f"run {run.info.run_id} has no evaluation data artifact {names.EVAL_ARTIFACT}", 422
            ) from None
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != recorded:
            raise Refused(
                f"the evaluation data's hash {digest[:12]} does not match the recorded {recorded[:12]}", 422
            )
        return path, digest

    def _candidate_uri(self, run) -> str:
        models = self.client.search_logged_models(
            experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"
        )
        if not models:
            raise Refused(f"run {run.info.run_id} logged no model", 422)
        return models[0].model_uri

    @staticmethod
    def _load(uri: str):
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(uri)

    def _alias_version(self, model: str, alias: str) -> str | None:
        from mlflow.exceptions import MlflowException

        try:
            aliases = self.client.get_registered_model(model).aliases
        except MlflowException:
            return None
        value = aliases.get(alias)
        return str(value) if value is not None else None

    def _register(self, project: str, run, verdict: Verdict, evidence: dict) -> str:
        import json

        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(project)
        except MlflowException:  # provisioning makes it; a project from before the registry service did not
            self.client.create_registered_model(project, tags={tags.PROJECT: project})
        t = run.data.tags
        version_tags = {
            tags.MODEL_RUN_ID: run.info.run_id,
            tags.DATA_HASH: t.get(tags.DATA_HASH, ""),
            tags.GIT_COMMIT: t.get(tags.GIT_COMMIT, ""),
            tags.GATE_RESULT: "passed",
            tags.GATE_REASON: verdict.summary[:4900],
            names.GATE_BY: "platform",
            names.GATE_EVIDENCE: json.dumps(evidence, default=str)[:4900],
            tags.MODEL_CARD: "model_card.md",
            tags.PROJECT: project,
            tags.TEAM: t.get(tags.TEAM, ""),
        }
        existing = self.client.search_model_versions(f"name = '{project}' and run_id = '{run.info.run_id}'")
        if existing:
            version = str(existing[0].version)  # a retried submit: same version, idempotent
        else:
            logged = self.client.search_logged_models(
                experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"
            )[0]
            mv = self.client.create_model_version(
                project,
                source=logged.model_uri,
                run_id=run.info.run_id,
                tags=version_tags,
                model_id=logged.model_id,
                description=f"platform gate passed: {verdict.summary}"[:4900],
            )
            version = str(mv.version)
        self.client.set_registered_model_alias(project, tags.CHALLENGER, version)
        return version

    # --- approvals and promotion ------------------------------------------------------------
    def _version(self, model: str, version: str):
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_model_version(model, str(version))
        except MlflowException:
            raise Refused(f"{model} has no version {version}", 404) from None

    def _gated(self, model: str, version: str) -> None:
        events = self.audit.events(model=model, action=audit.SUBMIT_REGISTERED)
        if not any(e.version == str(version) for e in events):
            raise Refused(f"{model} v{version} did not pass the platform gate (no registration event)", 409)

    def approvals(self, model: str, version: str) -> list[str]:
        seen: list[str] = []
        for e in self.audit.events(model=model):
            if e.version == str(version) and e.action == audit.APPROVE and e.actor not in seen:
                seen.append(e.actor)
        return seen

    def approve(self, caller: str, model: str, version: str, note: str = "") -> dict:
        project, team, tier = self.project_facts(model)
        who = person(self.spec, caller)
        if who is None or not who.has(APPROVER):
            raise Refused(f"{caller} is not an approver of this platform (governance.people.approvers)")
        if normal(caller) in team_people(self.spec, team):
            raise Refused(f"{caller} is in team {team!r}, which owns {model}: approvals must be independent")
        self._version(model, version)
        self._gated(model, version)
        if normal(caller) in self.approvals(model, version):
            raise Refused(f"{caller} already approved {model} v{version}", 409)
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
        self.client.set_model_version_tag(model, version, tags.APPROVED_BY, ",".join(who))

    def promote(self, caller: str, model: str, version: str, note: str = "") -> dict:
        project, team, tier = self.project_facts(model)
        who = person(self.spec, caller)
        allowed = who is not None and (
            who.has(MANAGER) or who.has(PLATFORM_ADMIN) or ("team_owner" in who.roles and team in who.teams)
        )
        if not allowed:
            raise Refused(
                f"{caller} may not promote: a manager, platform admin or owner of team {team!r} can"
            )
        self._version(model, version)
        self._gated(model, version)
        if tier not in self.spec.governance.risk_tiers:
            raise Refused(
                f"project {project!r} has risk tier {tier!r}, which this platform does not govern", 409
            )
        needed, have = self._needed(tier), self.approvals(model, version)
        if len(have) < needed:
            raise Refused(
                f"risk tier {tier!r} needs {needed} distinct approvals, {model} v{version} has {len(have)}"
                f" ({', '.join(have) or 'none'})",
                409,
            )
        previous = self._alias_version(model, tags.CHAMPION)
        if previous == str(version):
            raise Refused(f"{model} v{version} is already champion", 409)
        action = audit.ROLLBACK if previous and int(version) < int(previous) else audit.PROMOTE
        details = {"previous": previous, "approvals": have, "tier": tier, "note": note}
        event = self.audit.append(normal(caller), action, project, model, version, details)
        self.client.set_registered_model_alias(model, tags.CHAMPION, str(version))
        if self._alias_version(model, tags.CHALLENGER) == str(version):
            self.client.delete_registered_model_alias(model, tags.CHALLENGER)
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
            raise Refused(f"{caller} is not an approver: only approvers reject")
        if action == audit.RETIRE:
            if who is None or not (who.has(MANAGER) or who.has(PLATFORM_ADMIN) or team in who.teams):
                raise Refused(f"{caller} may not retire versions of {model}")
            if self._alias_version(model, tags.CHAMPION) == str(version):
                raise Refused(f"{model} v{version} is champion: promote another version first", 409)
        if action == audit.COMMENT and who is None:
            raise Refused(f"{caller} is not a person of this platform")
        self._version(model, version)
        event = self.audit.append(normal(caller), action, project, model, version, {"note": note})
        if action in (audit.REJECT, audit.RETIRE) and self._alias_version(model, tags.CHALLENGER) == str(
            version
        ):
            self.client.delete_registered_model_alias(model, tags.CHALLENGER)
        return {"model": model, "version": version, "action": action, "event": event.seq}
