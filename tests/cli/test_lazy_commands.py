"""The root group imports a command's module only when that command runs (shipyard.cli.lazy).

The table of commands is written by hand for the help listing: these tests keep it equal to what the
modules really register, and check that the fast paths stay free of the heavy libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
from shipyard.cli import lazy
from shipyard.cli.main import main
from typer.core import TyperGroup

CLI_DIR = Path(lazy.__file__).parent
HEAVY = ("pandas", "mlflow", "requests", "streamlit", "sklearn")


def test_the_table_names_every_command_that_the_modules_register_with_its_help():
    modules = sorted({entry.module for entry in lazy.COMMANDS.values()})
    on_disk = sorted(f"shipyard.cli.{p.stem}" for p in CLI_DIR.glob("*_cmd.py"))
    assert modules == on_disk, "a *_cmd.py module is missing from shipyard.cli.lazy.COMMANDS (or gone)"
    for module in modules:
        registered = lazy.commands_of(module)
        listed = {name for name, entry in lazy.COMMANDS.items() if entry.module == module}
        assert set(registered) == listed, module
        for name, command in registered.items():
            assert lazy.COMMANDS[name].help == command.get_short_help_str(limit=500), name


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in lazy.COMMANDS:
        assert f" {name} " in out, name


def test_a_command_runs_and_an_unknown_one_is_a_usage_error(capsys):
    assert main(["spec", "--help"]) == 0
    assert "validate" in capsys.readouterr().out
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def _imported_after(args: list[str], tmp_path: Path) -> list[str]:
    code = (
        "import json, sys\n"
        "from shipyard.cli.main import main\n"
        f"rc = main({args!r})\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHIPYARD_HOME": str(tmp_path / "data")}
    env["PYTHONPATH"] = str(CLI_DIR.parents[1])
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_help_and_status_import_no_heavy_library(tmp_path):
    # the speed goal (<= 0.4 s, benchmarks/cli_startup.py) rests on this: each of these costs 0.3-2 s
    assert _imported_after(["--help"], tmp_path) == []
    assert _imported_after(["status"], tmp_path) == []


def test_the_listing_does_not_load_modules_but_running_does():
    group = lazy.LazyGroup(name="shipyard")
    ctx = typer.Context(group)
    group._listing = True
    stub = group.get_command(ctx, "cost")
    group._listing = False
    assert stub is not None and "cost" not in group.commands
    real = group.get_command(ctx, "cost")
    assert isinstance(real, TyperGroup) and set(real.commands) >= {"estimate", "report", "budgets"}
