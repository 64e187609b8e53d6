"""``shipyard cost estimate|report|budgets``: what the platform, teams, projects and models cost."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from shipyard.cli import tables
from shipyard.cli.options import DataDirOpt, SpecOpt
from shipyard.errors import BadInput
from shipyard.formatting import count, hours, money, percent
from shipyard.platform.resolver import resolve_platform, resolve_spec_path
from shipyard.spec import load_spec

console = tables.console()
err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    cost_app = typer.Typer(help="Costs: platform estimate, usage report, budgets.", no_args_is_help=True)
    cost_app.command("estimate")(estimate_cmd)
    cost_app.command("report")(report_cmd)
    cost_app.command("budgets")(budgets_cmd)
    app.add_typer(cost_app, name="cost")


def estimate_cmd(
    path: Path | None = typer.Argument(None, help="spec file (same as --spec)"),
    spec_path: Path | None = SpecOpt,
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Monthly cost of the platform the spec describes, each node pool at min and max size."""
    from shipyard.costs.estimate import estimate

    spec = load_spec(resolve_spec_path(path or spec_path))
    est = estimate(spec)
    if as_json:
        typer.echo(json.dumps(est.to_dict(), indent=2))
        return
    cur = est.currency
    table = Table(
        title=f"{est.platform} ({est.environment}): monthly estimate in {cur}, prices as of {est.price_date}",
        header_style="bold",
    )
    for column, justify in (
        ("part", "left"),
        ("name", "left"),
        ("sizing", "left"),
        (f"min {cur}", "right"),
        (f"max {cur}", "right"),
    ):
        table.add_column(column, justify=justify, overflow="fold")
    for line in est.lines:
        table.add_row(line.category, line.name, line.detail, money(line.min_monthly), money(line.max_monthly))
    table.add_section()
    table.add_row("", "GPU pools", "", money(est.gpu_min), money(est.gpu_max))
    table.add_row(
        "", "[bold]total[/]", "", f"[bold]{money(est.min_total)}[/]", f"[bold]{money(est.max_total)}[/]"
    )
    console.print(table)
    console.print(f"prices: {est.price_source} (as of {est.price_date}); " + "; ".join(est.assumptions))


def report_cmd(
    by: str = typer.Option("team", "--by", help="team | project | model"),
    month: str | None = typer.Option(None, "--month", help="YYYY-MM (default: this month, to date)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    as_csv: bool = typer.Option(False, "--csv", help="print CSV"),
    spec_path: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Costs per team, project or model for a month: runs x prices, storage, cloud actuals."""
    from shipyard.costs.api import cost_report

    if as_json and as_csv:
        raise BadInput("--json and --csv both given", "choose one output format")
    platform = resolve_platform(spec_path, data_dir)
    report = cost_report(platform.spec, platform.endpoints, by=by, month=month)
    cur = report.currency
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
        return
    if as_csv:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "month",
                "key",
                "team",
                "project",
                "model",
                "cost",
                "currency",
                "price_date",
                "gpu_hours",
                "runs",
                "unpriced_runs",
                "estimated",
            ]
        )
        for line in report.lines:
            writer.writerow(
                [
                    report.month,
                    line.key,
                    line.team,
                    line.project or "",
                    line.model or "",
                    money(line.cost, grouping=False),
                    cur,
                    report.price_date,
                    hours(line.gpu_hours).replace(",", ""),
                    line.runs,
                    line.unpriced_runs,
                    line.estimated,
                ]
            )
        sys.stdout.write(out.getvalue())
        return
    table = Table(
        title=f"costs {report.month} by {by} in {cur} (prices as of {report.price_date})", header_style="bold"
    )
    team_column = [] if by == "team" else [("team", "left")]
    for column, justify in (
        (by, "left"),
        *team_column,
        (f"cost {cur}", "right"),
        ("storage", "right"),
        ("GPU h", "right"),
        ("runs", "right"),
        ("unpriced", "right"),
        ("", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")
    for line in report.lines:
        table.add_row(
            line.key,
            *([] if by == "team" else [line.team]),
            money(line.cost),
            money(line.storage_cost),
            hours(line.gpu_hours),
            count(line.runs),
            count(line.unpriced_runs) if line.unpriced_runs else "",
            "estimated" if line.estimated else "actual",
        )
    table.add_section()
    table.add_row(
        "[bold]total[/]",
        *([] if by == "team" else [""]),
        f"[bold]{money(report.total)}[/]",
        "",
        hours(report.gpu_hours),
        "",
        count(report.unpriced_runs) if report.unpriced_runs else "",
        "",
    )
    console.print(table)
    for run in report.unpriced[:20]:
        console.print(
            f"[yellow]unpriced[/] run {run.run_id} ({run.project}, instance type "
            f"{run.instance_type or '-'}): {run.reason}",
            highlight=False,
        )
    if len(report.unpriced) > 20:
        console.print(f"... and {len(report.unpriced) - 20} more unpriced runs (--json lists all)")
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    console.print("sources: " + "; ".join(report.sources), highlight=False)


def budgets_cmd(
    month: str | None = typer.Option(None, "--month", help="YYYY-MM (default: this month)"),
    push: bool = typer.Option(
        True, "--push/--no-push", help="push shipyard_budget_used_ratio to the pushgateway"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    spec_path: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Each team's month-to-date spend, forecast and alert against its monthly budget."""
    from shipyard.costs import budgets
    from shipyard.costs.api import budget_status

    platform = resolve_platform(spec_path, data_dir)
    endpoints = platform.endpoints
    statuses = budget_status(platform.spec, endpoints, month=month)
    pushed = ""
    if push and endpoints.pushgateway:
        try:
            budgets.push(statuses, endpoints.pushgateway)
            pushed = f"pushed {budgets.PUSH_JOB} metrics to {endpoints.pushgateway}"
        except OSError as exc:
            pushed = f"could not push to the pushgateway at {endpoints.pushgateway}: {exc}"
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in statuses], indent=2))
        if pushed:
            err.print(pushed, highlight=False)
        return
    first = statuses[0]
    table = Table(
        title=f"budgets {first.month} in {first.currency} (prices as of {first.price_date})",
        header_style="bold",
    )
    for column, justify in (
        ("team", "left"),
        ("budget", "right"),
        ("spent", "right"),
        ("used", "right"),
        ("forecast", "right"),
        ("forecast used", "right"),
        ("alert", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")
    colors = {"ok": "green", "warning": "yellow", "over": "red"}
    for s in statuses:
        table.add_row(
            s.team,
            money(s.budget),
            money(s.spent),
            percent(s.percent, 1),
            money(s.forecast),
            percent(s.forecast_percent, 1),
            f"[{colors[s.alert]}]{s.alert}[/]",
        )
    console.print(table)
    console.print(f"forecast: {budgets.FORECAST_METHOD}; alerts at 80% (warning) and 100% (over) of budget")
    if pushed:
        console.print(pushed, highlight=False)
