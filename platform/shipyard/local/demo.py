"""``shipyard demo``: from nothing to a governed model, on the embedded platform, in one command.

Each step checks whether its outcome is already there before acting, so a second run (or a run
after a failure) resumes instead of duplicating the project. A failing step raises a
:class:`UserError` naming the step with the tail of its log.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from shipyard import tags
from shipyard.errors import UserError
from shipyard.platform.endpoints import Endpoints
from shipyard.platform.env import ENV_HOME, ENV_PATH, ENV_SPEC
from shipyard.platform.resolver import resolve_platform
from shipyard.records import MlflowApi, read
from shipyard.records.filters import name_equals
from shipyard.records.parse import parse_registered_model

DEMO_PROJECT = "Screening Demo"  # the template's demo data: scikit-learn's breast cancer set
DEMO_SLUG = "screening-demo"
DEMO_TEAM = "demo"
# the model card's own words (model_card.yaml), as the demo's data scientist writes them before pushing
DEMO_CARD = {
    "intended_use": "Show the platform's journey on a public breast-cancer screening data set",
    "users": "People trying Shipyard; never clinicians",
    "limits": "A demonstration only: not validated for any clinical or production use",
    "fairness": "Not assessed (demonstration data)",
}
WORSE_BRANCH = "try-smaller-model"  # an experiment on a branch: main (and the portal's last CI) stays green
PUSHED_HINT = "see `shipyard ci list`"
WORSE_COMMIT = "Try a much smaller model (the gate should stop it)"
GATE_ON_A_BRANCH = "gate-dry-run"  # only the default branch publishes; a branch's CI dry-runs the gate
# A stump forest: still above the absolute thresholds, clearly below the champion.
WORSE_PARAMS = {"n_estimators": "2", "max_depth": "1"}

Echo = Callable[[str], None]


@dataclass
class DemoResult:
    data_dir: Path
    project_dir: Path
    endpoints: Endpoints
    good_ci: dict = field(default_factory=dict)
    worse_ci: dict = field(default_factory=dict)
    champion_version: int | None = None
    versions: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


class Step:
    """One numbered step: progress on entry, wall time on exit, a log file for its commands."""

    def __init__(self, number: int, title: str, logs: Path, echo: Echo, seconds: dict[str, float]) -> None:
        self.number, self.title, self.echo, self.seconds = number, title, echo, seconds
        self.log = logs / f"{number}-{re.sub(r'[^a-z]+', '-', title.lower()).strip('-')}.log"

    def __enter__(self) -> Step:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.start = time.monotonic()
        self.echo(f"[{self.number}/5] {self.title} ...")
        return self

    def __exit__(self, kind, exc, tb) -> None:
        took = time.monotonic() - self.start
        self.seconds[self.title] = round(took, 1)
        if exc is None:
            self.echo(f"      done in {took:.1f}s")
        elif isinstance(exc, UserError) and not exc.message.startswith("demo step"):
            raise UserError(f"demo step {self.number} ({self.title}) failed: {exc.message}", exc.fix) from exc

    def run(self, cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
        with open(self.log, "a") as log:
            log.write(f"$ {' '.join(cmd)}\n")
            log.flush()
            result = subprocess.run(
                cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
            )
        if result.returncode != 0:
            raise UserError(
                f"`{' '.join(cmd[:4])}` exited {result.returncode}; "
                f"last lines of {self.log}:\n{_tail(self.log)}",
                f"fix the cause above, then run `shipyard demo` again (it resumes): {self.log}",
            )
        return self.log.read_text()


def run_demo(spec_path: Path | None, data_dir: Path | None, echo: Echo = print) -> DemoResult:
    from shipyard.local.lifecycle import up
    from shipyard.local.readiness import running_endpoints

    seconds: dict[str, float] = {}
    platform = resolve_platform(spec_path, data_dir)
    spec, spec_file, layout = platform.spec, platform.spec_path, platform.layout
    assert spec is not None and spec_file is not None  # resolve_platform requires a spec
    logs = layout.root / "demo" / "logs"
    workspace = layout.root / "demo" / "workspace"
    env = {ENV_HOME: str(layout.root), ENV_SPEC: str(spec_file)}

    with Step(1, "Start the embedded platform", logs, echo, seconds):
        result = up(spec_file, layout.root, echo=lambda line: echo(f"      {line}"))
        if not result.status.running:
            bad = [s.name for s in result.status.services if s.state == "running" and not s.healthy]
            raise UserError(f"platform services not healthy: {', '.join(bad)}", "see `shipyard status`")
        endpoints = running_endpoints(platform)
        _read_as_portal(layout.root)

    project_dir = workspace / DEMO_SLUG
    with Step(2, "Create the demo project", logs, echo, seconds) as step:
        _create_project(step, spec_file, layout.root, workspace, project_dir, env, echo)

    out = DemoResult(layout.root, project_dir, endpoints, seconds=seconds)
    with Step(3, "Push it: CI trains, gates and registers a model", logs, echo, seconds) as step:
        good = _commit_and_push(
            step, project_dir, "Start the screening model from the Shipyard template", None, echo,
            env=_pusher_env(spec, layout.root),
        )  # fmt: skip
        run = _ci_of(step, endpoints, good, echo)
        if run.status != "passed":
            raise UserError(
                f"CI of the first commit {run.status} at step {run.failed_step}:\n{_ci_log_tail(env, run)}",
                f"see `shipyard ci logs {run.run_id}`",
            )
        out.good_ci = run.as_dict()
        version, alias = _registered(endpoints)
        took = f" ({run.duration_s:.0f}s)" if run.duration_s is not None else ""
        echo(f"      CI passed{took}; version {version} registered, now '{alias}'")

    with Step(4, "Promote it to champion and score a sample with it", logs, echo, seconds) as step:
        out.champion_version = _promote(spec, layout.root, endpoints, version, echo)
        _score_sample(step, endpoints, project_dir, env, echo)

    with Step(
        5, "Push a worse model on a branch: the gate (a dry run there) stops it", logs, echo, seconds
    ) as step:
        before = _version_count(endpoints)
        worse = _commit_and_push(step, project_dir, WORSE_COMMIT, _make_worse, echo, branch=WORSE_BRANCH,
                                 env=_pusher_env(spec, layout.root))  # fmt: skip
        run = _ci_of(step, endpoints, worse, echo)
        if run.status != "failed" or run.failed_step != GATE_ON_A_BRANCH:
            raise UserError(
                f"expected the gate to stop the worse model, but CI {run.status} "
                f"(failed step: {run.failed_step})",
                f"see `shipyard ci logs {run.run_id}`",
            )
        out.versions = _version_count(endpoints)
        if out.versions != before:
            raise UserError("a version was registered although the gate failed", "this is a bug: report it")
        out.worse_ci = run.as_dict()
        echo(f"      CI failed at the gate (a dry run on a branch): {_gate_reason(endpoints, worse)}")
        verified = _audit_verified(layout.root)
        echo(f"      audit log {verified.summary()} (check it yourself: shipyard audit verify)")
    _sign_in_as_data_scientist(spec, layout.root, echo)
    return out


def _sign_in_as_data_scientist(spec, data_dir: Path, echo: Echo) -> None:
    """The demo's closing hints (`shipyard ci list`, `make predict` in the project) work as the demo
    team's data scientist; a person already signed in stays signed in."""
    from shipyard.identity.mlflow_users import require
    from shipyard.identity.session import login_file, save_login

    if login_file(data_dir).exists():
        return
    creds = require(data_dir, spec.team(DEMO_TEAM).owners[0].lower())
    save_login(data_dir, creds)
    echo(f"      signed in as {creds.username}, the demo's data scientist (shipyard logout to sign out)")


def _pusher_env(spec, data_dir: Path) -> dict[str, str]:
    """The demo team's owner, signed in, pushes (the demo's reads use the portal's account)."""
    from shipyard.identity.mlflow_users import require

    return require(data_dir, spec.team(DEMO_TEAM).owners[0].lower()).env()


def _read_as_portal(data_dir: Path) -> None:
    """The demo's own reads of MLflow use the portal's read-only account; its changes go through
    CI (the project's credential) and the registry service (a signed-in person)."""
    from shipyard.identity import PORTAL
    from shipyard.identity.mlflow_users import require

    os.environ.update(require(data_dir, PORTAL).env())


def _platform_reason(data_dir: Path) -> str:
    from shipyard.audit import names as audit
    from shipyard.audit.store import AuditStore

    events = AuditStore.of(data_dir).events(model=DEMO_SLUG, action=audit.SUBMIT_DRY_RUN)
    return "; ".join(events[-1].details.get("reasons", [])) if events else "(no dry-run recorded)"


def _audit_verified(data_dir: Path):
    from shipyard.audit.store import AuditStore

    result = AuditStore.of(data_dir).verify()
    if not result.ok:
        raise UserError(f"the audit log does not verify: {result.summary()}", "shipyard audit verify")
    return result


# --- steps ------------------------------------------------------------------------------------


def _create_project(step, spec_file, data_dir, workspace, project_dir, env, echo) -> None:
    from shipyard.projects import provision_project  # noqa: F401  (checked importable before baking)

    if (project_dir / "shipyard.yaml").exists():
        echo(f"      {project_dir} exists: re-using it")
        return
    workspace.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "shipyard.cli.main"]
    step.run(
        [*cli, "new", DEMO_PROJECT, "--team", DEMO_TEAM, "--no-input", "--output-dir", str(workspace),
         "--spec", str(spec_file), "--data-dir", str(data_dir), "--provision"],
        env=env,
    )  # fmt: skip
    card = yaml.safe_dump(DEMO_CARD, sort_keys=False, allow_unicode=True)  # quoted where YAML needs it
    (project_dir / "model_card.yaml").write_text(card)  # the gate refuses a card of placeholders
    echo(f"      generated {project_dir} and provisioned it (MLflow experiment, DVC remote, git remote)")


def _git(step: Step, project_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project_dir, capture_output=True, text=True, check=False
    ).stdout.strip()


def _commit_and_push(
    step: Step,
    project_dir: Path,
    message: str,
    change: Callable[[Path], None] | None,
    echo: Echo,
    branch: str = "main",
    env: dict[str, str] | None = None,
) -> str:
    """Commit on ``branch`` (unless a commit with this message exists already) and push it (signed in
    as ``env``'s account: the platform records the pusher as the creator of what CI registers).

    Returns the commit; the work tree is left on ``main``."""
    identity = ["-c", "user.name=Shipyard Demo", "-c", "user.email=data-scientist@example.com"]
    for line in _git(step, project_dir, "log", "--all", "--format=%H %s", "-n", "50").splitlines():
        sha, _, subject = line.partition(" ")
        if subject == message:  # a re-run: this commit exists; push it unless the remote has it
            if not _on_remote(project_dir, sha, branch):
                step.run(["git", "push", "-q", "-u", "origin", branch], cwd=project_dir, env=env)
                echo(_pushed(sha, branch))
            else:
                echo(f"      {sha[:8]} was pushed by an earlier run: reading its CI result")
            return sha
    if branch != "main":
        step.run(["git", "checkout", "-q", "-B", branch], cwd=project_dir)
    if change is not None:
        change(project_dir)
    step.run(["git", "add", "-A"], cwd=project_dir)
    step.run(["git", *identity, "commit", "-q", "-m", message], cwd=project_dir)
    sha = _git(step, project_dir, "rev-parse", "HEAD")
    step.run(["git", "push", "-q", "-u", "origin", branch], cwd=project_dir, env=env)
    if branch != "main":
        step.run(["git", "checkout", "-q", "main"], cwd=project_dir)
    echo(_pushed(sha, branch))
    return sha


def _pushed(sha: str, branch: str) -> str:
    return f"      pushed {sha[:8]} to {branch}: the platform's CI runner runs `make ci` ({PUSHED_HINT})"


def _on_remote(project_dir: Path, sha: str, branch: str) -> bool:
    check = ["git", "merge-base", "--is-ancestor", sha, f"origin/{branch}"]
    return subprocess.run(check, cwd=project_dir, capture_output=True).returncode == 0


def _make_worse(project_dir: Path) -> None:
    params = project_dir / "params.yaml"
    text = params.read_text()
    for key, value in WORSE_PARAMS.items():
        text, n = re.subn(rf"(?m)^(  {key}:) .*$", rf"\1 {value}", text)
        if n != 1:
            raise UserError(f"{params}: no train.{key} to change", "the template's params.yaml changed")
    params.write_text(text)


def _ci_of(step: Step, endpoints: Endpoints, commit: str, echo: Echo):
    from shipyard.ci.runs import wait_for_ci_run

    try:
        return wait_for_ci_run(MlflowApi.of(endpoints), DEMO_SLUG, commit=commit, timeout=900)
    except TimeoutError as exc:
        raise UserError(str(exc), "see `shipyard ci list` and `shipyard status`") from None


def _aliases(endpoints: Endpoints) -> dict[str, int]:
    return parse_registered_model(MlflowApi.of(endpoints).registered_model(DEMO_SLUG)).aliases


def _registered(endpoints: Endpoints) -> tuple[int, str]:
    """The version the first push registered, and its alias (champion once a re-run promoted it)."""
    aliases = _aliases(endpoints)
    for alias in (tags.CHALLENGER, tags.CHAMPION):
        if alias in aliases:
            return int(aliases[alias]), alias
    raise UserError(f"CI passed but {DEMO_SLUG} has no '{tags.CHALLENGER}' version", "see `shipyard ci logs`")


def _promote(spec, data_dir: Path, endpoints: Endpoints, version: int, echo: Echo) -> int:
    """Through the registry service, signed in as the platform's manager (else the team's owner)."""
    from shipyard.identity.mlflow_users import require
    from shipyard.registry import client as registry

    if _aliases(endpoints).get(tags.CHAMPION) == version:
        echo(f"      version {version} is already champion")
        return version
    who = (spec.governance.people.managers or spec.team(DEMO_TEAM).owners)[0].lower()
    registry.version_action(endpoints.registry, require(data_dir, who), DEMO_SLUG, version, "promote",
                            "the demo's first model")  # fmt: skip
    echo(f"      version {version} is now 'champion', promoted by {who} (risk tier low: no approval needed)")
    return version


def _score_sample(step: Step, endpoints: Endpoints, project_dir: Path, env: dict, echo: Echo) -> None:
    """`make predict` in the demo project: the champion scores a sample, logged as a scoring run.
    The stages run as plain modules (not `dvc repro`) so the work tree keeps no new dvc.lock."""
    run_env = {
        **env,
        **endpoints.to_env(DEMO_TEAM, DEMO_SLUG),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get(ENV_PATH, '')}",
        "PYTHONPATH": "src",
    }
    package = DEMO_SLUG.replace("-", "_")
    for stage in ("prepare", "features"):  # the training split's scaler, rebuilt locally
        step.run([sys.executable, "-m", f"{package}.{stage}"], cwd=project_dir, env=run_env)
    step.run(
        ["make", "--no-print-directory", "predict", f"PYTHON={sys.executable}"], cwd=project_dir, env=run_env
    )
    scored = project_dir / "reports" / "predictions.csv"
    rows = max(len(scored.read_text().splitlines()) - 1, 0)
    echo(f"      scored {rows} sample rows with models:/{DEMO_SLUG}@champion -> {scored}")


def _version_count(endpoints: Endpoints) -> int:
    return len(MlflowApi.of(endpoints).search_model_versions(name_equals(DEMO_SLUG)))


def _gate_reason(endpoints: Endpoints, commit: str) -> str:
    api = MlflowApi.of(endpoints)
    project = read.find_project(api, DEMO_SLUG)
    found = [r for r in read.list_training_runs(api, [project]) if r.commit == commit] if project else []
    if not found:
        return "(no training run)"
    return found[0].gate_reason or "(no reason recorded)"


def _ci_log_tail(env: dict[str, str], run) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "shipyard.cli.main", "ci", "logs", run.run_id],
        capture_output=True, text=True, env={**os.environ, **env},
    )  # fmt: skip
    return "\n".join(result.stdout.splitlines()[-25:])


def _tail(path: Path, lines: int = 25) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
