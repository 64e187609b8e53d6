"""``shipyard template publish | status``: template releases and how far behind each project is."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shipyard.cli.options import DataDirOpt, SpecOpt
from shipyard.errors import UserError
from shipyard.platform.endpoints import default_data_dir
from shipyard.spec import PlatformSpec, load_spec

console = Console(width=None if sys.stdout.isatty() else 160)
notes = Console(stderr=True)  # side remarks stay off stdout, which --json keeps parseable


def register(app: typer.Typer) -> None:
    template_app = typer.Typer(help="The project template: releases and the fleet.", no_args_is_help=True)
    template_app.command("publish")(publish)
    template_app.command("status")(status)
    app.add_typer(template_app, name="template")


def template_url(spec: PlatformSpec, root: Path, ensure: bool = True) -> str:
    """The spec's template repository (cluster), else the embedded platform's, which publishes the
    template of this source tree when its version is not published yet (``ensure``)."""
    from shipyard.templates.bake import template_dir
    from shipyard.templates.repo import local_repo, publish

    if spec.services.template.url:
        return spec.services.template.url
    if spec.platform.environment != "local":
        raise UserError(
            "the platform spec names no template repository",
            "set services.template.url to the git URL the template is published to",
        )
    repo = local_repo(root)
    if ensure:
        release, state = publish(template_dir(None), repo, strict=False)
        if state == "new":
            notes.print(f"published template {release.version} at {repo}", highlight=False)
        elif state == "differs":
            notes.print(
                f"[yellow]note:[/] project-template/ differs from published {release.version}: bump "
                "_template_version in its cookiecutter.json and run `shipyard template publish`",
                highlight=False,
            )
    return str(repo)


def publish(
    template: Path | None = typer.Option(None, "--template", help="template (default: project-template/)"),
    repo: str | None = typer.Option(None, "--repo", help="git URL to publish to (default: the platform's)"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Publish the template as release v<_template_version> (commit + tag in the template repository)."""
    from shipyard.platform.resolver import spec_path_for
    from shipyard.templates.bake import template_dir
    from shipyard.templates.repo import publish as publish_release

    platform_spec = load_spec(spec_path_for(spec, data_dir))
    url = repo or template_url(platform_spec, default_data_dir(data_dir, platform_spec), ensure=False)
    release, state = publish_release(template_dir(template), url)
    verb = "published" if state == "new" else "already published"
    console.print(
        f"[green]template {release.version}[/] {verb} at {url} ({release.commit[:12]})", highlight=False
    )


def status(
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    as_json: bool = typer.Option(False, "--json", help="print the rows as JSON"),
) -> None:
    """Every project with the template version it is on and how many releases it is behind."""
    from shipyard.local import require_running
    from shipyard.platform.resolver import resolve_platform
    from shipyard.templates.fleet import status as fleet_status

    platform = resolve_platform(spec, data_dir)
    require_running(platform)
    rows = fleet_status(platform.endpoints, template_url(platform.spec, platform.data_dir))
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in rows], indent=2))
        return
    table = Table(show_header=True, header_style="bold")
    for col in ("project", "team", "template", "latest", "behind"):
        table.add_column(col)
    for r in rows:
        lag = "?" if r.behind is None else ("up to date" if r.behind == 0 else f"behind by {r.behind}")
        table.add_row(r.project, r.team, r.version or "unversioned", r.latest or "-", lag)
    console.print(table)
