"""``shipyard infra outputs``: the deployed platform's endpoints, from the Pulumi stack outputs."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from shipyard.errors import UserError
from shipyard.platform.stack_outputs import check_name, endpoints_from_outputs, env_lines, read_outputs


def register(app: typer.Typer) -> None:
    infra_app = typer.Typer(help="Read what `pulumi up` in infra/ stood up.", no_args_is_help=True)
    infra_app.command("outputs")(outputs)
    app.add_typer(infra_app, name="infra")


def outputs(
    file: Path = typer.Argument(..., help="JSON from `pulumi stack output --json` ('-' reads stdin)"),
    team: str | None = typer.Option(None, "--team", help="use this team's DVC remote root"),
    project: str | None = typer.Option(None, "--project", help="with --team: print the project's DVC remote"),
    env: bool = typer.Option(False, "--env", help="print the environment a job gets (KEY=value lines)"),
) -> None:
    """Print the platform's endpoints (JSON), or the job environment with --env."""
    if project and not team:
        raise UserError("--project needs --team", "pass --team TEAM --project PROJECT")
    if project is not None:
        check_name(project, "--project")
    endpoints = endpoints_from_outputs(read_outputs(file), team)
    if env:
        for line in env_lines(endpoints.to_env(team, project)):
            typer.echo(line)
    else:
        typer.echo(json.dumps({k: v for k, v in endpoints.as_dict().items() if v is not None}, indent=2))
