"""``shipyard model reproduce NAME VERSION`` and ``shipyard audit reproduce --champions``: rebuild
versions from their lineage on the platform (registry/reproduce.py) and print the verdicts.

Exit 0 when every reproduction passed, 1 when one did not (the verdict, recorded in the audit log),
2 for a refusal or a wrong input (``error:`` + ``fix:``)."""

from __future__ import annotations

from pathlib import Path

import typer

from shipyard.cli.options import DataDirOpt, SpecOpt
from shipyard.cli.registry_calls import MlflowOpt, _registry, _version
from shipyard.cli.tables import console as make_console
from shipyard.errors import BadInput
from shipyard.registry import client

console = make_console()


def verdict_lines(result: dict) -> list[str]:
    """What a person reads: the outcome with its cause, both metric sets, the locks and the runner."""
    d = result.get("details") or {}
    mark = "[green]reproduced ✔[/]" if result["passed"] else f"[red]NOT reproduced ✘[/] ({result['cause']})"
    lines = [f"{mark} {result['model']} v{result['version']} ({result['at'][:19]}Z by {result['by']})"]
    if not result["passed"]:
        lines.append(f"  {result['message']}")
    registered, reproduced = d.get("registered_metrics") or {}, d.get("reproduced_metrics") or {}
    for name in sorted(set(registered) | set(reproduced)):
        want, got = registered.get(name), reproduced.get(name)
        diff = f"   diff {got - want:+.6g}" if want is not None and got is not None else ""
        lines.append(f"  {name:<10} registered {_num(want)}   reproduced {_num(got)}{diff}")
    lines.append(f"  commit {str(d.get('commit', ''))[:12]}, data {str(d.get('data_hash', ''))[:12]}, "
                 f"tolerance {d.get('tolerance', 0):g}")  # fmt: skip
    for name, digest in (d.get("locks") or {}).items():
        lines.append(f"  {name} sha256 {digest[:16]}")
    if "model_identical" in d:
        lines.append(f"  model file identical to CI's: {'yes' if d['model_identical'] else 'no'}")
    if d.get("runner"):
        lines.append(f"  ran as {d['runner']} in {d.get('seconds', 0):.0f}s; log: {d.get('log', '')}")
    return lines


def _num(value) -> str:
    return "-" if value is None else f"{value:.6g}"


def reproduce(
    model: str = typer.Argument(..., help="registered model name"),
    version: str = typer.Argument(..., help="version number"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    mlflow: str | None = MlflowOpt,
) -> None:
    """Rebuild a version from its commit, data and locks on the platform, and compare it (a validator,
    auditor, platform admin or the model's team; the verdict goes to the audit log)."""
    number = _version(version)
    _, url, creds = _registry(spec, data_dir, mlflow)
    console.print(f"reproducing {model} v{number} on the platform (this runs its pipeline again) ...")
    result = client.reproduce(url, creds, model, number)
    for line in verdict_lines(result):
        console.print(line)
    raise typer.Exit(0 if result["passed"] else 1)


def reproduce_champions(
    champions: bool = typer.Option(False, "--champions", help="re-verify every champion"),
    spec: Path | None = SpecOpt,
    data_dir: Path | None = DataDirOpt,
    mlflow: str | None = MlflowOpt,
) -> None:
    """Reproduce every champion from its lineage; each verdict goes to the audit log."""
    if not champions:
        raise BadInput("--champions: say which versions to reproduce", "shipyard audit reproduce --champions")
    _, url, creds = _registry(spec, data_dir, mlflow)
    found = client.champions(url, creds)
    if not found:
        console.print("no champions yet: nothing to reproduce")
        return
    failed = 0
    for champion in found:
        console.print(f"reproducing {champion['model']} v{champion['version']} ...")
        result = client.reproduce(url, creds, champion["model"], int(champion["version"]))
        failed += 0 if result["passed"] else 1
        for line in verdict_lines(result):
            console.print(line)
    console.print(f"{len(found) - failed} of {len(found)} champion(s) reproduced")
    raise typer.Exit(1 if failed else 0)
