"""The registry's submit path: a CI job's training run checked (lineage, provenance, held-out data),
its model and the champion scored in the sandbox, the platform gate's verdict recorded and, on the
default branch, a new version registered from the registry's own copy of the files."""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from shipyard import tags
from shipyard.audit import names as audit
from shipyard.audit.names import ARTIFACTS
from shipyard.errors import NotFound, RequestRefused, ServiceUnavailable
from shipyard.identity.names import (
    RUNNER,
    ci_account,
    normal,
)
from shipyard.identity.people import team_people
from shipyard.records import TrainingRun
from shipyard.records.artifact_files import ModelFilesError, artifact_uri_of, download, sha256_files
from shipyard.records.parse import kv, parse_ci_run, parse_training_run
from shipyard.registry import formats, model_card, model_files, names, provenance, same_version, validation
from shipyard.registry.core import RegistryCore, Timings
from shipyard.registry.formats import Accepted
from shipyard.registry.gate import Verdict, decide
from shipyard.registry.sandbox import Answer, SandboxError, Workspace


class Submissions(RegistryCore):
    """``submit`` and the steps it takes."""

    def submit(self, caller: str, run_id: str) -> dict:
        t0 = time.monotonic()
        run = parse_training_run(self._run(run_id), "")
        project, _ = self.project_of_run(run)
        _, team, tier = self.project_facts(project)
        if caller not in (ci_account(project), RUNNER) and normal(caller) not in team_people(self.spec, team):
            raise RequestRefused(f"{caller} may not submit models of project {project!r}")
        ci_run, branch = self._lineage(run, project)
        default = self._default_branch(project)
        dry_run = branch != default
        proof = self._provenance(run, ci_run, project, team, dry_run)
        lineage_s = time.monotonic() - t0

        with Workspace() as ws:  # the models' and data's files: scored in a child, then kept
            return self._judge(caller, run, project, team, tier, default, ci_run, branch, proof, ws,
                               lineage_s)  # fmt: skip

    def _judge(self, caller: str, run: TrainingRun, project: str, team: str, tier: str,
               default: str, ci_run, branch: str, proof: provenance.Provenance | None,
               ws: Workspace, lineage_s: float) -> dict:  # fmt: skip
        t1 = time.monotonic()
        frame, eval_hash = self._held_out(run, proof, ws.data_path("eval"))
        task = run.params.get("task", "classification")
        if names.TARGET not in frame.columns:
            raise RequestRefused(
                f"the evaluation data {names.EVAL_ARTIFACT} has no {names.TARGET!r} column", 422
            )
        models = {"candidate": self._fetch_model(self._logged_model(run)["artifact_uri"], ws, "candidate")}
        champion_version = self._alias_version(project, tags.CHAMPION)
        if champion_version:
            source = self._version(project, champion_version).get("source", "")
            try:
                models["champion"] = self._fetch_model(artifact_uri_of(self.api, source), ws, "champion")
            except RequestRefused as exc:
                raise RequestRefused(f"champion v{champion_version}: {exc.reason}", 409) from None
        datasets = ["eval"]
        vset = validation.latest(self.audit, project)
        if vset is not None:
            self._validation_data(vset, project, team, ws.data_path("validation"))
            datasets.append("validation")
        candidate_files = sha256_files(ws.model_dir("candidate"))
        load_s = time.monotonic() - t1

        t2 = time.monotonic()
        try:
            answer = ws.score(models, datasets, task, names.TARGET)
        except SandboxError as exc:
            raise RequestRefused(f"the models could not be scored: {exc}", 422) from None
        candidate = self._metrics(answer, "candidate", "eval", "the candidate", 422)
        champion = (self._metrics(answer, "champion", "eval", f"champion v{champion_version}", 409)
                    if champion_version else None)  # fmt: skip
        verdict = decide(self.spec, candidate, champion, champion_version, eval_hash, len(frame), task)
        if vset is not None:
            verdict = self._on_validation_set(verdict, vset, answer, champion_version)
        verdict = self._with_model_card(verdict, run, tier)
        if proof is not None:
            verdict = self._not_older(verdict, project, proof)
        scoring_s = time.monotonic() - t2

        t3 = time.monotonic()
        evidence = {
            **verdict.as_dict(),
            "run_id": run.run_id,
            "ci_run_id": ci_run.run_id,
            "commit": ci_run.commit,
            "branch": branch,
            "data_hash": run.data_hash,
            "provenance": proof.as_dict() if proof else provenance.unverified(ci_run.provider),
            # who pushed: from the runner's own job record when verified, never from the run's tags
            "pushed_by": proof.job.pushed_by if proof else "",
            same_version.FINGERPRINT: same_version.fingerprint(
                run.data_hash, run.params, ci_run.commit, proof.repo if proof else None, verdict.candidate
            ),
        }
        version = None
        registered = self.audit.events(model=project, action=audit.SUBMIT_REGISTERED)
        same = same_version.registered_with(registered, evidence[same_version.FINGERPRINT])
        if branch == default and verdict.passed and same is not None:
            version = same
            event = self.audit.append(caller, audit.SUBMIT_UNCHANGED, project, project, same, evidence)
            outcome = "unchanged"
        elif branch != default:
            event = self.audit.append(caller, audit.SUBMIT_DRY_RUN, project, project, "", evidence)
            outcome = "dry-run"
        elif not verdict.passed:
            event = self.audit.append(caller, audit.SUBMIT_REFUSED, project, project, "", evidence)
            outcome = "refused"
        else:
            version, kept = self._register(project, run, verdict, evidence, ws, candidate_files)
            details = {**evidence, ARTIFACTS: kept.as_dict()}  # every file's sha256: audit verify --deep
            event = self.audit.append(caller, audit.SUBMIT_REGISTERED, project, project, version, details)
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

    def _not_older(self, verdict: Verdict, project: str, proof: provenance.Provenance) -> Verdict:
        """A run of a commit older than one a version was registered from (a late or re-queued run)
        never takes challenger: it fails the gate, and the reason names the newer version."""
        registered = [(e.version, str(e.details.get("commit", "")))
                      for e in self.audit.events(model=project, action=audit.SUBMIT_REGISTERED)]  # fmt: skip
        newer = provenance.newer_registered(proof.repo, proof.job.commit, registered)
        if newer is None:
            return verdict
        version, commit = newer
        why = (f"commit {proof.job.commit[:12]} is older than v{version}'s commit {commit[:12]}: a run of "
               "an older commit never takes challenger (push again to retrain on the newest)")  # fmt: skip
        return replace(verdict, passed=False, reasons=[*verdict.reasons, why])

    def _with_model_card(self, verdict: Verdict, run: TrainingRun, tier: str) -> Verdict:
        """Where the tier requires a model card, a missing or placeholder card fails the gate."""
        spec_tier = self.spec.governance.risk_tiers.get(tier)  # type: ignore[call-overload]
        if spec_tier is not None and not spec_tier.model_card_required:
            return verdict
        try:
            with tempfile.TemporaryDirectory(prefix="shipyard-card-") as tmp:
                text = Path(self.api.download_artifact(run.run_id, model_card.ARTIFACT, tmp)).read_text(
                    errors="replace"
                )
        except ServiceUnavailable:  # the record layer's "could not fetch it": not there
            text = None
        problems = model_card.card_problems(text)
        if not problems:
            return verdict
        return replace(verdict, passed=False, reasons=[*verdict.reasons, *problems])

    def _fetch_model(self, artifact_uri: str, ws: Workspace, name: str) -> Accepted:
        """The model's files into the workspace, and the format it is saved in (else RequestRefused)."""
        try:
            download(self.api, artifact_uri, ws.model_dir(name))
            return formats.check(ws.model_dir(name))
        except (formats.RefusedFormat, ModelFilesError) as exc:
            raise RequestRefused(str(exc), 422) from None
        except NotFound:
            raise RequestRefused(f"the model's files are not in MLflow ({artifact_uri})", 422) from None

    @staticmethod
    def _metrics(answer: Answer, model: str, dataset: str, who: str, status: int) -> dict[str, float]:
        try:
            return answer.metrics(model, dataset)
        except SandboxError as exc:
            raise RequestRefused(f"{who} cannot be scored on the held-out split: {exc}", status) from None

    def _validation_data(self, vset: validation.ValidationSet, project: str, team: str, dest: Path) -> None:
        """The validator's independent set, fetched and checked against its recorded hash, into ``dest``."""
        import shutil

        experiment = self.api.experiment_by_name(names.VALIDATION_EXPERIMENT.format(model=project))
        if experiment is not None:  # whoever joined the team since the set was registered is denied too
            people = team_people(self.spec, team)
            validation.deny_team(self.api, str(experiment["experiment_id"]), project, people)
        try:
            with tempfile.TemporaryDirectory(prefix="shipyard-validation-") as tmp:
                shutil.copyfile(validation.fetch(self.api, vset, Path(tmp)), dest)
        except validation.InvalidSet as exc:
            raise RequestRefused(str(exc), 409) from None

    def _on_validation_set(self, verdict: Verdict, vset: validation.ValidationSet, answer: Answer,
                           champion_version) -> Verdict:  # fmt: skip
        """The same gate on the validator's independent set: the candidate and the champion scored on it."""
        try:
            candidate = answer.metrics("candidate", "validation")
            champion = answer.metrics("champion", "validation") if champion_version else None
        except SandboxError as exc:  # the model itself, or columns it does not take: the set does not fit
            raise RequestRefused(
                f"the independent validation set ({vset.sha256[:12]}, registered by {vset.registered_by}) "
                f"cannot be scored by this model: {str(exc)[:200]}",
                422,
            ) from None
        other = decide(self.spec, candidate, champion, champion_version, vset.sha256, vset.rows)
        return verdict.with_validation(other, vset.source())

    def _run(self, run_id: str) -> dict:
        try:
            return self.api.run(run_id)
        except NotFound:
            raise RequestRefused(f"run {run_id!r} does not exist", 404) from None

    def _lineage(self, run: TrainingRun, project: str):
        """The run was made by a CI run of this project, at a commit, with a DVC data hash."""
        ci_id = run.ci_run_id
        if not ci_id:
            raise RequestRefused(
                f"run {run.run_id} was not made by a platform CI run (no {tags.CI_RUN_ID})", 422
            )
        raw = self._run(ci_id)
        ci_run = parse_ci_run(raw, project)
        if kv(raw["data"].get("tags")).get(tags.RUN_KIND) != tags.RUN_KIND_CI or (
            ci_run.experiment_id != run.experiment_id
        ):
            raise RequestRefused(f"{tags.CI_RUN_ID} {ci_id} is not a CI run of project {project!r}", 422)
        if ci_run.status != "running":
            status = kv(raw["data"].get("tags")).get(tags.CI_STATUS)
            raise RequestRefused(f"CI run {ci_id} is {status!r}, not running: submit from its job", 422)
        if not ci_run.commit or run.commit != ci_run.commit:
            raise RequestRefused(
                f"the run's commit {run.commit or '(none)'!r} is not the CI run's pushed commit "
                f"{ci_run.commit or '(none)'!r}",
                422,
            )
        if not run.data_hash:
            raise RequestRefused(f"run {run.run_id} records no DVC data hash ({tags.DATA_HASH})", 422)
        return ci_run, ci_run.branch

    def _provenance(self, run: TrainingRun, ci_run, project: str, team: str,
                    dry_run: bool = False) -> provenance.Provenance | None:  # fmt: skip
        """The CI run checked against the platform's own records (None: an unverified hosted run,
        only when the registry was started to accept them; or a branch's dry run, whose data is not
        pushed: only the default branch publishes, and a dry run registers nothing)."""
        if self.unverified_hosted_ci and ci_run.provider in ("github", "gitlab"):
            return None
        try:
            if self.data_dir is None:
                raise provenance.Unverified("this registry has no platform data dir to check CI runs against")
            job = provenance.runner_job(self.data_dir, ci_run.run_id)
            if (job.project, job.commit, job.branch) != (project, ci_run.commit, ci_run.branch):
                raise provenance.Unverified(
                    f"CI run {ci_run.run_id} says {ci_run.branch}@{ci_run.commit[:12]} of {project!r}, its "
                    f"runner job ran {job.branch}@{job.commit[:12]} of {job.project!r}"
                )
            repo = provenance.check_commit(self.data_dir, project, job.commit, job.branch)
            dvc = self.spec.services.dvc
            if dvc.enabled and dvc.remote == "s3":
                raise provenance.Unverified(
                    "the team's DVC remote is S3: this registry checks local remotes only"
                )
            remotes = [self.data_dir / "dvc-remote" / team / project]
            if job.work:  # the job's own remote, merged into the team's after the job (ci/sandbox.py)
                remotes.append(Path(job.work) / "dvc-remote")
            try:
                data = provenance.dvc_object(remotes, run.data_hash)
            except provenance.Unverified:
                if dry_run:
                    return None  # scored on the run's own split, a claim: the evidence says so
                raise
        except provenance.Unverified as exc:
            raise RequestRefused(str(exc), 422) from None
        return provenance.Provenance(job, repo, data)

    def _held_out(self, run: TrainingRun, proof: provenance.Provenance | None, dest: Path):
        """The evaluation frame and its sha256, written to ``dest`` for the scoring child: re-derived
        from the verified data, or (an unverified hosted run) the split the run uploaded."""
        import pandas as pd

        if proof is None:
            path, digest = self._eval_data(run, dest)
            return pd.read_csv(path), digest
        try:
            frame = provenance.held_out(proof.repo, proof.job.commit, proof.data)
        except provenance.Unverified as exc:
            raise RequestRefused(str(exc), 422) from None
        frame.to_csv(dest, index=False)
        return frame, provenance.csv_sha256(frame)

    def _default_branch(self, project: str) -> str:
        """HEAD of the platform's own git remote of the project (never the experiment's `shipyard.repo`
        tag, which a member can point elsewhere); else the platform's default."""
        repo = self.data_dir.resolve() / "git" / f"{project}.git" if self.data_dir else None
        if repo and Path(repo, "HEAD").exists():
            proc = subprocess.run(
                ["git", "--git-dir", repo, "symbolic-ref", "--short", "HEAD"], capture_output=True, text=True
            )
            if proc.returncode == 0 and proc.stdout.strip():
                return proc.stdout.strip()
        return names.DEFAULT_BRANCH

    def _eval_data(self, run: TrainingRun, dest: Path) -> tuple[Path, str]:
        import shutil

        recorded = run.tags.get(names.EVAL_HASH)
        if not recorded:
            raise RequestRefused(f"run {run.run_id} records no evaluation data hash ({names.EVAL_HASH})", 422)
        with tempfile.TemporaryDirectory(prefix="shipyard-eval-") as folder:
            try:
                path = Path(self.api.download_artifact(run.run_id, names.EVAL_ARTIFACT, folder))
            except ServiceUnavailable:  # the record layer's one error for "could not fetch it": not there
                missing = f"run {run.run_id} has no evaluation data artifact {names.EVAL_ARTIFACT}"
                raise RequestRefused(missing, 422) from None
            shutil.copyfile(path, dest)
        digest = hashlib.sha256(dest.read_bytes()).hexdigest()
        if digest != recorded:
            raise RequestRefused(
                f"the evaluation data's hash {digest[:12]} does not match the recorded {recorded[:12]}", 422
            )
        return dest, digest

    def _logged_model(self, run: TrainingRun) -> dict:
        """The model the run logged (MLflow 3's logged model ``info``)."""
        models = self.api.search_logged_models([run.experiment_id], f"source_run_id = '{run.run_id}'")
        if not models:
            raise RequestRefused(f"run {run.run_id} logged no model", 422)
        return models[0]["info"]

    def _register(self, project: str, run: TrainingRun, verdict: Verdict, evidence: dict, ws: Workspace,
                  files: dict[str, str]) -> tuple[str, model_files.Copy]:  # fmt: skip
        """A new version from the registry's own copy of the files it scored (a retried submit finds
        the version it made); the copy's location and hashes go into the registration event."""
        import json

        try:
            self.api.registered_model(project)
        except NotFound:  # provisioning makes it; a project from before the registry service did not
            self.api.create_registered_model(project, {tags.PROJECT: project})
        version_tags = {
            tags.MODEL_RUN_ID: run.run_id,
            tags.DATA_HASH: run.data_hash,
            tags.GIT_COMMIT: run.commit,
            tags.GATE_RESULT: "passed",
            tags.GATE_REASON: verdict.summary[:4900],
            names.GATE_BY: "platform",
            names.GATE_EVIDENCE: json.dumps(evidence, default=str)[:4900],
            tags.MODEL_CARD: "model_card.md",
            tags.PROJECT: project,
            tags.TEAM: run.tags.get(tags.TEAM, ""),
        }
        if evidence.get("pushed_by"):
            version_tags[tags.CREATED_BY] = evidence["pushed_by"]
        existing = [mv for mv in self.api.search_model_versions(f"name = '{project}'")
                    if kv(mv.get("tags")).get(tags.MODEL_RUN_ID) == run.run_id]  # fmt: skip
        if existing:  # a retried submit: same version, idempotent
            mv = existing[0]
            kept = model_files.Copy("", str(mv.get("run_id", "")), str(mv.get("source", "")), files)
        else:
            try:
                kept = model_files.keep_copy(self.api, project, ws.model_dir("candidate"), files, run.run_id,
                                             self._copy_experiment(project))  # fmt: skip
            except ModelFilesError as exc:
                raise RequestRefused(str(exc), 409) from None
            mv = self.api.create_model_version(
                project,
                source=kept.source,
                run_id=kept.run_id,
                tags=version_tags,
                description=f"platform gate passed: {verdict.summary}"[:4900],
            )
        version = str(mv["version"])
        self.api.set_alias(project, tags.CHALLENGER, version)
        return version, kept

    def _copy_experiment(self, project: str) -> str | None:
        """The experiment the registry made for this model's copies (named in its registrations), if any."""
        for e in reversed(self.audit.events(model=project, action=audit.SUBMIT_REGISTERED)):
            experiment_id = (e.details.get(ARTIFACTS) or {}).get("experiment_id")
            if experiment_id:
                return str(experiment_id)
        return None
