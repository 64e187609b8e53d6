"""``shipyard new``: start an ML project from the template, wired to this platform."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import typer
from rich.console import Console

from shipyard.cli.options import DataDirOpt
from shipyard.cli.paths import writable_dir
from shipyard.errors import UserError
from shipyard.platform.endpoints import Endpoints
from shipyard.platform.resolver import Platform, resolve_platform
from shipyard.spec import PlatformSpec
from shipyard.templates.bake import ENV_TEMPLATE, Baked, bake, precheck, template_dir, write_cruft_file
from shipyard.templates.repo import URL_KEY, VERSION_KEY, Release

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
    data_dir: Path | None = DataDirOpt,
    stack_outputs: Path | None = typer.Option(
        None,
        "--stack-outputs",
        help="cluster platform: `pulumi stack output --json` of infra/",
    ),
    template: Path | None = typer.Option(None, "--template", help="template (default: project-template/)"),
) -> None:
    """Generate a project from the template with this platform's endpoints, checked against the spec."""
    writable_dir(output_dir, "--output-dir")
    if stack_outputs is not None and not stack_outputs.is_file():
        raise UserError(
            f"--stack-outputs {stack_outputs} is not a file",
            "pass the file written by `pulumi stack output --json > outputs.json` in infra/",
        )
    platform = resolve_platform(spec, data_dir)
    platform_spec, root = platform.spec, platform.data_dir
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
    explicit_tier = risk_tier if no_input else "asked"
    precheck(source, answers, no_input, platform_spec, output_dir.resolve())  # before anything is touched

    def keep_tier(values: dict) -> None:
        """Never re-tier an existing project as a side effect of generating it again."""
        if provision is False:
            return
        endpoints = _platform_endpoints(platform, values["team"], stack_outputs)
        if endpoints is None or not endpoints.mlflow:
            return
        from shipyard.projects import check_tier_kept, existing_tier

        slug = values["project_slug"]
        wanted = values["risk_tier"] if explicit_tier is not None else None
        values["risk_tier"] = check_tier_kept(slug, existing_tier(endpoints, slug), wanted)

    url, release = (None, None) if template or os.environ.get(ENV_TEMPLATE) else _release(platform_spec, root)
    with tempfile.TemporaryDirectory(prefix="shipyard-new-") as tmp:
        if release is not None and url is not None:
            from shipyard.templates.repo import checkout

            source = checkout(url, release, Path(tmp) / "template")
            answers.update({VERSION_KEY: release.version, URL_KEY: url})
        baked = bake(
            source,
            output_dir.resolve(),
            answers,
            no_input,
            spec=platform_spec,
            endpoints_for=lambda t: _endpoints(platform, t, stack_outputs),
            adjust=keep_tier,
        )
        write_cruft_file(baked, source, url, release.commit if release else None)
    ctx = baked.context
    console.print(
        f"[green]generated[/] {baked.path} (team {ctx['team']}, risk tier {ctx['risk_tier']}, "
        f"template {ctx.get(VERSION_KEY) or 'unversioned'})"
    )
    if not ctx.get("_shipyard_sha256"):
        console.print(
            f"  platform.lock pins shipyard=={ctx.get('_shipyard_version')} without a hash: the platform's "
            "package index was not reachable; once it is, run `make lock` (SHIPYARD_INDEX_URL) and commit",
            highlight=False,
        )
    repo_url = _provision(platform, baked, provision, stack_outputs)
    from shipyard.cli.next_steps import after_new

    console.print(after_new(baked.path, repo_url), highlight=False)


def _release(spec: PlatformSpec, root: Path) -> tuple[str | None, Release | None]:
    """The template release to generate from: the latest of the spec's template repository (cluster),
    or of the embedded platform's, which publishes the source tree's template if its version is new.
    (None, None) when there is no platform to publish to yet: the source tree's template is used."""
    from shipyard.cli.template_cmd import template_url
    from shipyard.templates.repo import latest

    if not spec.services.template.url and (spec.platform.environment != "local" or not root.is_dir()):
        return None, None
    url = template_url(spec, root)
    return url, latest(url)


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


def _platform_endpoints(platform: Platform, team: str, stack_outputs: Path | None) -> Endpoints | None:
    """The platform's endpoints when it can be reached now (embedded: running), else None."""
    if platform.spec.platform.environment == "local" and stack_outputs is None:
        from shipyard.local import require_running

        try:
            require_running(platform)
        except UserError:
            return None
        return platform.endpoints
    return _endpoints(platform, team, stack_outputs) if stack_outputs is not None else None


def _provision(
    platform: Platform, baked: Baked, wanted: bool | None, stack_outputs: Path | None
) -> str | None:
    """Create the project on the platform and make its git remote the project's `origin` (returned)."""
    if wanted is False:
        return None
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
            return None
    elif wanted:
        endpoints = _endpoints(platform, ctx["team"], stack_outputs)
    else:
        return None
    info = provision_project(
        spec,
        endpoints,
        root if endpoints.platform == "local" else None,
        ctx["project_slug"],
        ctx["team"],
        risk_tier=ctx["risk_tier"],
        owner=ctx["owner_email"],
        labeling=ctx["labeling"] == "yes",
        template=(ctx.get(URL_KEY) or "", ctx.get(VERSION_KEY) or ""),
    )
    console.print(f"  MLflow experiment {info.experiment_id}, DVC remote {info.dvc_remote}", highlight=False)
    if info.repo_url:
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=baked.path, check=True)
        subprocess.run(["git", "remote", "add", "origin", info.repo_url], cwd=baked.path, check=True)
        console.print(f"  git remote origin = {info.repo_url} (its push runs `make ci`)", highlight=False)
    return info.repo_url or None
