"""``shipyard project create | list``: provision projects on the running embedded platform."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shipyard import tags
from shipyard.cli.options import DataDirOpt, SpecOpt
from shipyard.local import require_running
from shipyard.platform.resolver import resolve_platform
from shipyard.projects import governed_tier, list_projects, provision_project, validate

# piped output (tests, CI logs) gets wide tables instead of rich's 80 columns
console = Console(width=None if sys.stdout.isatty() else 160)


def register(app: typer.Typer) -> None:
    project_app = typer.Typer(help="Create and list ML projects on the platform.", no_args_is_help=True)
    project_app.command("create")(create)
    project_app.command("list")(list_cmd)
    project_app.command("set-tier")(set_tier)
    project_app.command("update")(update)
    app.add_typer(project_app, name="project")


def create(
    name: str = typer.Argument(..., help="project slug: lowercase letters, digits and '-'"),
    team: str = typer.Option(..., "--team", help="a team of the platform spec"),
    risk_tier: str | None = typer.Option(
        None, "--risk-tier", help="low | medium | high (default: low, or the existing project's tier)"
    ),
    owner: str | None = typer.Option(None, "--owner", help="owner's email (default: the team's first owner)"),
    labeling: bool = typer.Option(False, "--labeling", help="also create a Label Studio project"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    as_json: bool = typer.Option(False, "--json", help="print the project as JSON"),
) -> None:
    """Provision a project: MLflow experiment, DVC remote prefix, git remote with CI, Label Studio project."""
    platform = resolve_platform(spec, data_dir)
    # bad input first, before needing the platform
    validate(platform.spec, name, team, risk_tier or "low", owner)
    require_running(platform)
    info = provision_project(
        platform.spec,
        platform.endpoints,
        platform.data_dir,
        name,
        team,
        risk_tier=risk_tier,
        owner=owner,
        labeling=labeling,
    )
    if as_json:
        typer.echo(json.dumps(info.as_dict(), indent=2))
        return
    verb = "created" if info.created else "already existed; checked and completed"
    console.print(f"[green]project {info.name}[/] {verb} (team {info.team}, risk tier {info.risk_tier})")
    console.print(f"  MLflow experiment: {info.experiment_id}", highlight=False)
    console.print(f"  DVC remote:        {info.dvc_remote}", highlight=False)
    if info.label_studio_project_id is not None:
        console.print(f"  Label Studio:      project {info.label_studio_project_id}", highlight=False)
    if info.repo_path:
        console.print(f"  git remote:        {info.repo_path}", highlight=False)
        console.print(
            f"  push to run CI:    git remote add shipyard {info.repo_path} && git push shipyard main"
        )


def list_cmd(
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the platform's projects (MLflow experiments tagged shipyard.project)."""
    platform = resolve_platform(spec, data_dir, require_spec=False)
    require_running(platform)
    projects = list_projects(platform.endpoints)
    rows = [
        {"experiment_id": p.experiment_id, **{k: v for k, v in p.tags.items() if k.startswith("shipyard.")}}
        for p in projects
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(show_header=True, header_style="bold")
    for col in ("project", "team", "risk tier", "owner", "repo"):
        table.add_column(col)
    for r in rows:
        table.add_row(r[tags.PROJECT], r.get(tags.TEAM, ""), r.get(tags.RISK_TIER, ""), r.get(tags.OWNER, ""),
                      r.get(tags.REPO, ""))  # fmt: skip
    console.print(table)


def set_tier(
    name: str = typer.Argument(..., help="the project"),
    tier: str = typer.Argument(..., help="the new risk tier (governance in the spec)"),
    reason: str = typer.Option(..., "--reason", help="why the tier changes (recorded)"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Change a project's risk tier on purpose, as the signed-in person (a platform admin, or an
    approver outside the project's team); the registry records it in the audit log, before and after."""
    from shipyard.errors import UserError
    from shipyard.identity.session import require_current
    from shipyard.registry import client
    from shipyard.registry.client import registry_url

    if not reason.strip():
        raise UserError("a tier change needs a reason", "pass --reason 'why the tier changes'")
    platform = resolve_platform(spec, data_dir)
    governed_tier(platform.spec, tier)  # bad input first: the registry checks it again
    require_running(platform)
    creds = require_current(platform.data_dir)
    result = client.set_tier(registry_url(platform.endpoints.registry), creds, name, tier, reason)
    previous = result["previous"]
    if previous == tier:
        console.print(f"project {name} is already risk tier {tier}; nothing changed", highlight=False)
    else:
        console.print(
            f"[green]project {name}[/] risk tier {previous} -> {tier} (by {creds.username}; audit event "
            f"{result['event']})",
            highlight=False,
        )
    if not result.get("mirrored", True):
        console.print(
            "  the experiment's tag (a copy) was not updated: MLflow refused the registry; "
            "`shipyard up` grants it, and until then `audit log` shows the stale copy as a finding",
            highlight=False,
        )


def update(
    name: str | None = typer.Argument(None, help="the project to update (or --all)"),
    all_projects: bool = typer.Option(False, "--all", help="every project of the platform"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    as_json: bool = typer.Option(False, "--json", help="print the per-project results as JSON"),
) -> None:
    """Bring projects to the latest template release on branch template-update-<version>, pushed so
    their CI runs; a conflicting update is refused, naming the files. Exit 1 if any was refused."""
    from shipyard.cli.template_cmd import template_url
    from shipyard.errors import UserError
    from shipyard.templates.fleet import UpdateResult, update_project
    from shipyard.templates.repo import latest

    if (name is None) == (not all_projects):
        raise UserError("name one project or pass --all", "shipyard project update NAME | --all")
    platform = resolve_platform(spec, data_dir)
    require_running(platform)
    projects = list_projects(platform.endpoints)
    if name is not None:
        projects = [p for p in projects if p.name == name]
        if not projects:
            raise UserError(f"no project {name!r} on this platform", "see `shipyard project list`")
    url = template_url(platform.spec, platform.data_dir)
    release = latest(url)
    results = []
    for project in projects:
        slug, repo = project.name, project.repo
        if not repo:
            results.append(UpdateResult(slug, "failed", release.version, message="no git remote recorded"))
            continue
        try:
            results.append(update_project(slug, repo, url, release, platform.spec, project.risk_tier))
        except UserError as exc:
            results.append(UpdateResult(slug, "failed", release.version, message=exc.message))
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in results], indent=2))
    for r in [] if as_json else results:
        colour = {"updated": "green", "up-to-date": "dim", "conflict": "red", "failed": "red"}[r.status]
        console.print(f"[{colour}]{r.project}: {r.status}[/] {r.message}", highlight=False)
        for file in r.files:
            console.print(f"  conflict: {file}", highlight=False)
    if any(r.status in ("conflict", "failed") for r in results):
        raise typer.Exit(1)
