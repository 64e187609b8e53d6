"""``shipyard new``: start an ML project from the template, wired to this platform."""

from __future__ import annotations

import subprocess
from pathlib import Path

import typer
from rich.console import Console

from shipyard.endpoints import Endpoints
from shipyard.errors import UserError
from shipyard.resolver import Platform, resolve_platform
from shipyard.spec import PlatformSpec
from shipyard.template import Baked, bake, template_dir, write_cruft_file

console = Console()


def register(app: typer.Typer) -> None:
    app.command("new")(new)


def new(
    name: str | None = typer.Argument(None, help="project name, e.g. 'Credit Risk' (slug: credit-risk)"),
    team: str | None = typer.Option(None, "--team", help="a team of the platform spec"),
    owner: str | None = typer.Option(None, "--owner", help="owner's email (default: the team's first owner)"),
    risk_tier: str | None = typer.Option(None, "--risk-tier", help="low | medium | high"),
    task: str | None = typer.Option(None, "--task", help="classification | regression"),
    flavour: str | None = typer.Option(None, "--flavour", help="scikit-learn | pytorch"),
    ci: str | None = typer.Option(None, "--ci", help="github | gitlab | both"),
    gpu: bool | None = typer.Option(None, "--gpu/--no-gpu", help="train on the GPU node pool (pytorch)"),
    labeling: bool | None = typer.Option(None, "--labeling/--no-labeling", help="label with Label Studio"),
    slug: str | None = typer.Option(None, "--slug", help="project slug (default: from the name)"),
    description: str | None = typer.Option(None, "--description"),
    python_version: str | None = typer.Option(None, "--python", help="Python version of the project"),
    no_input: bool = typer.Option(False, "--no-input", help="ask nothing: defaults for what is not given"),
    output_dir: Path = typer.Option(Path("."), "--output-dir", "-o", help="where the project directory goes"),
    provision: bool | None = typer.Option(
        None,
        "--provision/--no-provision",
        help="create the project on the platform (MLflow experiment, DVC remote, git remote); "
        "default: when the embedded platform is running",
    ),
    spec: Path | None = typer.Option(None, "--spec", help="platform spec ($SHIPYARD_SPEC, ./platform.yaml)"),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="embedded platform data ($SHIPYARD_HOME)"),
    stack_outputs: Path | None = typer.Option(
        None,
        "--stack-outputs",
        help="cluster platform: `pulumi stack output --json` of infra/",
    ),
    template: Path | None = typer.Option(None, "--template", help="template (default: project-template/)"),
) -> None:
    """Generate a project from the template with this platform's endpoints, checked against the spec."""
    platform = resolve_platform(spec, data_dir)
    platform_spec = platform.spec
    answers = {
        "project_name": name,
        "project_slug": slug,
        "team": team,
        "owner_email": owner or (_first_owner(platform_spec, team) if team else None),
        "risk_tier": risk_tier,
        "task": task,
        "model_flavour": flavour,
        "ci_provider": ci,
        "gpu_training": None if gpu is None else ("yes" if gpu else "no"),
        "labeling": None if labeling is None else ("yes" if labeling else "no"),
        "description": description,
        "python_version": python_version,
    }
    answers = {k: v for k, v in answers.items() if v is not None}
    if slug is None and name is not None:
        answers.pop("project_slug", None)
    source = template_dir(template)
    baked = bake(
        source,
        output_dir.resolve(),
        answers,
        no_input,
        spec=platform_spec,
        endpoints_for=lambda t: _endpoints(platform, t, stack_outputs),
    )
    write_cruft_file(baked, source)
    ctx = baked.context
    console.print(f"[green]generated[/] {baked.path} (team {ctx['team']}, risk tier {ctx['risk_tier']})")
    _provision(platform, baked, provision, stack_outputs)


def _first_owner(spec: PlatformSpec, team: str) -> str | None:
    try:
        return spec.team(team).owners[0]
    except KeyError:
        return None  # the spec check names the unknown team after prompting


def _endpoints(platform: Platform, team: str, stack_outputs: Path | None) -> Endpoints:
    """The endpoints a project of ``team`` is generated with (stack outputs know each team's remote)."""
    if stack_outputs is None:
        return platform.endpoints
    return resolve_platform(
        platform.spec_path, platform.data_dir, stack_outputs=stack_outputs, team=team
    ).endpoints


def _provision(platform: Platform, baked: Baked, wanted: bool | None, stack_outputs: Path | None) -> None:
    """Create the project on the platform and make its git remote the project's `origin`."""
    if wanted is False:
        return
    from shipyard.projects import provision_project

    ctx = baked.context
    spec, root = platform.spec, platform.data_dir
    if spec.platform.environment == "local" and stack_outputs is None:
        from shipyard.local import require_running

        try:
            require_running(platform)
            endpoints = platform.endpoints
        except UserError as exc:
            if wanted:
                raise
            console.print(f"[yellow]not provisioned:[/] {exc.message}", highlight=False)
            console.print(
                f"  later: shipyard up; shipyard project create {ctx['project_slug']} --team {ctx['team']}",
                highlight=False,
            )
            return
    elif wanted:
        endpoints = _endpoints(platform, ctx["team"], stack_outputs)
    else:
        return
    info = provision_project(
        spec,
        endpoints,
        root if endpoints.platform == "local" else None,
        ctx["project_slug"],
        ctx["team"],
        risk_tier=ctx["risk_tier"],
        owner=ctx["owner_email"],
        labeling=ctx["labeling"] == "yes",
    )
    console.print(f"  MLflow experiment {info.experiment_id}, DVC remote {info.dvc_remote}", highlight=False)
    if info.repo_url:
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=baked.path, check=True)
        subprocess.run(["git", "remote", "add", "origin", info.repo_url], cwd=baked.path, check=True)
        console.print(f"  git remote origin = {info.repo_url} (its push runs `make ci`)", highlight=False)
    console.print(
        f"next: cd {baked.path.name} && git add . && git commit -m 'Start' && "
        + ("git push -u origin main" if info.repo_url else "make ci"),
        highlight=False,
    )
