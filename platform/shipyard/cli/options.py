"""Options every command group shares, declared once."""

from __future__ import annotations

import typer

from shipyard.cli.paths import data_dir_arg

SpecOpt = typer.Option(
    None,
    "--spec",
    help="platform spec (default: $SHIPYARD_SPEC, else the one the platform in the data dir given by"
    " --data-dir or $SHIPYARD_HOME was started with, else ./platform.yaml)",
)
DataDirOpt = typer.Option(
    None,
    "--data-dir",
    parser=data_dir_arg,  # checked as given: "" is no folder, a file is no data dir
    help="the embedded platform's data dir (default: $SHIPYARD_HOME, else ~/.shipyard)",
)
