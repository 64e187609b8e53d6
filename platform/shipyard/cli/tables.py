"""The CLI's tables: the terminal's width when there is one, wide enough for any row when piped, and
cells that wrap instead of being cut (a model name or a run id with an ellipsis cannot be copied)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

PIPED_WIDTH = 400  # a table is as wide as its content; this only stops rich wrapping at 80 columns


def console() -> Console:
    return Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)


def table(*columns: str | tuple[str, str], title: str | None = None) -> Table:
    """A table whose ``columns`` (a name, or (name, justify)) fold long values onto more lines."""
    out = Table(title=title, header_style="bold")
    for column in columns:
        name, justify = (column, "left") if isinstance(column, str) else column
        out.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    return out
