"""Reproduce a registered version from its lineage, and record the verdict.

What is rebuilt comes from the platform's own records only: the ``submit.registered`` audit event the
registry wrote (commit, DVC data hash, training run), the platform's git remote of the project and
the team's DVC remote. The registered metrics are those of the version's training run on its held-out
split; the reproduction's ``evaluate`` stage scores its model on the split it re-derives from the same
data. Within the risk tier's ``reproduce_tolerance`` (absolute, per metric; 0 by default: seeded CPU
training is deterministic) it passes; at tolerance 0 the model file must also be byte-identical to one
the project's CI pushed to the team's DVC remote.

The verdict is an audit event (``reproduce.passed`` / ``reproduce.failed``: both metric sets, the
tolerance, the locks' hashes, the runner, the cause) and the version's ``shipyard.reproduce.*`` tags,
which the portal and the ML Test Score (infra-1) read.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from shipyard import tags
from shipyard.audit import names as audit
from shipyard.errors import NotReproduced, RequestRefused
from shipyard.identity.names import APPROVER, AUDITOR, PLATFORM_ADMIN, normal
from shipyard.identity.people import person, team_people
from shipyard.registry import provenance
from shipyard.registry import reproduce_job as job

WHO_MAY = "a validator (approver), an auditor, a platform admin or the model's team"
DEFAULT_DATA_PATH = "data/prepared/dataset.csv"  # the template's prepared data (tags.DATA_PATH)


@dataclass(frozen=True)
class Target:
    model: str
    version: str
    project: str
    team: str
    tier: str
    commit: str
    data_hash: str
    run_id: str
    tolerance: float
    gate_metrics: dict = field(default_factory=dict)  # the registry's own scoring at registration


def may_reproduce(spec, caller: str, team: str) -> bool:
    who = person(spec, normal(caller))
    if who is not None and any(who.has(r) for r in (APPROVER, AUDITOR, PLATFORM_ADMIN)):
        return True
    return normal(caller) in team_people(spec, team)


def target(registry, caller: str, model: str, version: str) -> Target:
    project, team, tier = registry.project_facts(model)
    if not may_reproduce(registry.spec, caller, team):
        raise RequestRefused(f"{caller} may not reproduce {model}: {WHO_MAY} may", 403)
    events = registry.audit.events(model=model, action=audit.SUBMIT_REGISTERED)
    event = next((e for e in reversed(events) if e.version == str(version)), None)
    if event is None:
        raise RequestRefused(f"{model} v{version} was not registered through the platform's registry", 404)
    spec_tier = registry.spec.governance.risk_tiers.get(tier)  # type: ignore[call-overload]
    d = event.details
    return Target(
        model,
        str(version),
        project,
        team,
        tier,
        str(d.get("commit", "")),
        str(d.get("data_hash", "")),
        str(d.get("run_id", "")),
        float(spec_tier.reproduce_tolerance) if spec_tier else 0.0,
        dict(d.get("candidate") or {}),
    )


def compare(registered: dict[str, float], reproduced: dict[str, float], tolerance: float) -> list[str]:
    """One line per registered metric the reproduction misses or lands outside ``tolerance`` of."""
    problems = []
    for name, want in sorted(registered.items()):
        got = reproduced.get(name)
        if got is None:
            problems.append(f"{name}: registered {want:.6g}, not produced by the reproduction")
        elif abs(got - want) > tolerance + 1e-12:
            problems.append(
                f"{name}: registered {want:.6g}, reproduced {got:.6g} "
                f"(off by {got - want:+.6g}; tolerance {tolerance:g})"
            )
    return problems


def reproduce(registry, caller: str, model: str, version: str) -> dict:
    """Rebuild ``model`` v``version`` and record the verdict (an audit event + version tags)."""
    t = target(registry, caller, model, version)
    started = time.monotonic()
    details: dict = {
        "commit": t.commit,
        "data_hash": t.data_hash,
        "run_id": t.run_id,
        "tier": t.tier,
        "tolerance": t.tolerance,
        # for the record: the platform gate's scores of the registered files (its own scoring code)
        "gate_metrics": t.gate_metrics,
    }
    log_path = registry.data_dir / "reproduce" / "logs" / f"{model}-v{version}-{int(time.time())}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    details["log"] = str(log_path)
    try:
        with open(log_path, "w") as log:
            details.update(_rebuild(registry, t, log))
        action, cause, message = audit.REPRODUCE_PASSED, "", "reproduced"
    except NotReproduced as exc:
        action, cause, message = audit.REPRODUCE_FAILED, exc.cause, exc.message
        details.update({k: v for k, v in exc.details.items() if k not in details})
    details.update(cause=cause, message=message, seconds=round(time.monotonic() - started, 1))
    event = registry.audit.append(caller, action, t.project, model, t.version, details)
    passed = action == audit.REPRODUCE_PASSED
    _tag(registry, t, "passed" if passed else "failed", event.at, normal(caller))
    return {
        "model": model,
        "version": t.version,
        "passed": passed,
        "cause": cause,
        "message": message,
        "event": event.seq,
        "at": event.at,
        "by": caller,
        "details": details,
    }


def _rebuild(registry, t: Target, log) -> dict:
    data_dir: Path = registry.data_dir
    repo = data_dir.resolve() / "git" / f"{t.project}.git"
    present = provenance.HEX40.match(t.commit) and (
        provenance._git(repo, "cat-file", "-e", f"{t.commit}^{{commit}}").returncode == 0
    )
    if not present:
        raise NotReproduced(
            "commit",
            f"commit {t.commit[:12] or '(none)'} of {t.model} v{t.version} is not in the platform's "
            f"git remote of {t.project!r} ({repo})",
            "the commit was removed (force-push, gc): this version cannot be rebuilt from its lineage",
            missing_commit=t.commit,
        )
    obj = _data_object(registry, t)
    run = registry.api.run(t.run_id) if t.run_id else {}
    run_tags = {x["key"]: x["value"] for x in (run.get("data") or {}).get("tags") or []}
    registered = {m["key"]: float(m["value"]) for m in (run.get("data") or {}).get("metrics") or []}
    data_path = run_tags.get(tags.DATA_PATH) or DEFAULT_DATA_PATH
    flavour = {p["key"]: p["value"] for p in (run.get("data") or {}).get("params") or []}.get("flavour", "")
    work = job.job_dir(data_dir, t.model, t.version)
    try:
        src = work / "src"
        job.checkout(repo, t.commit, src, log)
        locks, notes = job.check_locks(src, flavour == "pytorch")
        found: dict = {"locks": locks, "notes": notes}
        stages, all_stages = job.stages_after(src, data_path)
        job.place_data(obj, src, data_path)
        found["stages"] = stages
        found["runner"] = job.run_stages(work, src, stages, "local", log)
        reproduced = job.read_metrics(src, all_stages)
        # the run's held-out metrics (its evaluate stage); train_* are scores on the training split
        registered = {k: v for k, v in registered.items() if k in reproduced} or {
            k: v for k, v in registered.items() if not k.startswith("train_")
        }
        found.update(registered_metrics=registered, reproduced_metrics=reproduced)
        problems = compare(registered, reproduced, t.tolerance)
        if problems:
            raise NotReproduced("metrics", "metrics outside tolerance: " + "; ".join(problems), **found)
        files = job.model_files(src, all_stages)
        found["model_files"] = files
        if t.tolerance == 0:
            remote = _remote(registry, t)
            missing = [f for f, md5 in files.items() if not _in_remote(remote, md5)]
            found["model_identical"] = not missing
            if missing:
                raise NotReproduced(
                    "model-file",
                    f"the rebuilt model file(s) {', '.join(missing)} differ from every one the "
                    "project's CI pushed (training is not bit-deterministic here)",
                    "set the tier's reproduce_tolerance, or seed every source of randomness",
                    **found,
                )
        return found
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _remote(registry, t: Target) -> Path:
    dvc = registry.spec.services.dvc
    if dvc.enabled and dvc.remote == "s3":
        raise NotReproduced("data", "the team's DVC remote is S3: reproductions read local remotes only")
    return registry.data_dir / "dvc-remote" / t.team / t.project


def _data_object(registry, t: Target) -> Path:
    """The DVC object of the recorded data hash in the team's remote, its bytes checked."""
    remote = _remote(registry, t)
    path = remote / "files" / "md5" / t.data_hash[:2] / t.data_hash[2:]
    try:
        return provenance.dvc_object([remote], t.data_hash)
    except provenance.Unverified as exc:
        missing = not path.is_file()
        raise NotReproduced(
            "data",
            f"data hash {t.data_hash} is missing from the team's DVC remote: {path}"
            if missing
            else f"the DVC remote's file {path} is corrupted: its bytes do not hash to {t.data_hash}",
            "restore the file from a backup of the team's DVC remote (or push the data again from CI)",
            data_file=str(path),
            detail=str(exc),
        ) from None


def _in_remote(remote: Path, md5: str) -> bool:
    return (remote / "files" / "md5" / md5[:2] / md5[2:]).is_file()


def _tag(registry, t: Target, result: str, at: str, by: str) -> None:
    for key, value in ((tags.REPRODUCED, result), (tags.REPRODUCED_AT, at), (tags.REPRODUCED_BY, by)):
        registry.api.set_model_version_tag(t.model, t.version, key, value)


def champions(registry) -> list[tuple[str, str]]:
    """(model, version) of every champion the registry knows."""
    found = []
    for model in sorted({e.model for e in registry.audit.events(action=audit.SUBMIT_REGISTERED)}):
        version = registry._alias_version(model, tags.CHAMPION)
        if version:
            found.append((model, str(version)))
    return found


# --- the registry service's answers (server.py routes here) --------------------------------------


def http_reproduce(registry, caller: str, params: dict) -> dict:
    from shipyard.registry.versions import NotAVersion, parse_version

    try:
        version = str(parse_version(params["version"]))
    except NotAVersion as exc:
        raise RequestRefused(exc.message, 400) from None
    return reproduce(registry, caller, params["model"], version)


def http_champions(registry, caller: str) -> dict:
    """The champions, for ``shipyard audit reproduce --champions`` (which reproduces each in turn)."""
    return {"champions": [{"model": m, "version": v} for m, v in champions(registry)]}
