"""``shipyard spec validate|show``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shipyard.platform.resolver import resolve_spec_path
from shipyard.spec import Environment, PlatformSpec, SpecError, load_spec

console = Console()

PathArg = typer.Argument(None, help="spec file (default: $SHIPYARD_SPEC, else ./platform.yaml)")


def register(app: typer.Typer) -> None:
    spec_app = typer.Typer(help="Validate and show the platform spec (platform.yaml).", no_args_is_help=True)
    spec_app.command("validate")(validate)
    spec_app.command("show")(show)
    app.add_typer(spec_app, name="spec")


TargetOpt = typer.Option(
    None,
    "--target",
    help="also check what a cluster needs, as `pulumi up` in infra/ does: aws or kubernetes "
    "(default: the spec's own environment when it is a cluster)",
)


def validate(path: Path | None = PathArg, target: Environment | None = TargetOpt) -> None:
    """Check a spec and print a short summary."""
    file = resolve_spec_path(path)
    try:
        spec = load_spec(file)
        if target is not None or spec.platform.environment != Environment.local:
            spec = load_spec(file, (target or spec.platform.environment).value)
    except SpecError as exc:
        if len(exc.problems) > 1:
            Console(stderr=True).print(escape(exc.report()), highlight=False, soft_wrap=True)
        raise
    name, env = spec.platform.name, spec.platform.environment
    console.print(f"[green]ok[/] {escape(str(file))}: platform [bold]{name}[/] ({env})")
    console.print(summary_table(spec))
    from shipyard.metrics import TASKS

    for task in TASKS:
        if not spec.governance.gates_for(task):
            console.print(
                f"[yellow]warning[/] governance.gates: no gate for {task} models, so `shipyard new --task "
                f"{task}` is refused and none can be registered (add e.g. "
                f"{{metric: {'r2' if task == 'regression' else 'accuracy'}, min: ...}})",
                highlight=False,
            )


def show(
    path: Path | None = PathArg, as_json: bool = typer.Option(False, "--json", help="print JSON")
) -> None:
    """Print the resolved spec, defaults filled in."""
    spec = load_spec(resolve_spec_path(path))
    data = spec.model_dump(mode="json")
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=False))
    else:
        import yaml

        typer.echo(yaml.safe_dump(data, sort_keys=False))


def summary_table(spec: PlatformSpec) -> Table:
    table = Table(show_header=True, header_style="bold")
    table.add_column("part")
    table.add_column("count", justify="right")
    table.add_column("names")
    table.add_row("teams", str(len(spec.teams)), ", ".join(t.name for t in spec.teams))
    pools = [f"{p.name}{' (GPU)' if p.is_gpu else ''}" for p in spec.node_pools]
    table.add_row("node pools", str(len(spec.node_pools)), ", ".join(pools) or "-")
    services = [name for name, svc in spec.services if getattr(svc, "enabled", True)]
    table.add_row("services", str(len(services)), ", ".join(services))
    from shipyard.metrics import TASKS

    for task in TASKS:
        gates = spec.governance.gates_for(task)
        shown = [
            g.metric + "".join(f" {op} {v}" for op, v in ((">=", g.min), ("<=", g.max)) if v is not None)
            for g in gates
        ]
        table.add_row(f"gates: {task}", str(len(gates)), ", ".join(shown) or "- (cannot be gated)")
    return table
