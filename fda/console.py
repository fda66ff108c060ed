"""The one set of CLI output helpers: the consoles, the error exit and the table printer.

    from fda.console import console, fail, print_df
    print_df(df, "title")        # a rich table, numbers right-aligned
    fail(err)                    # "error: <message> (<hint>)" on stderr, exit code 2

Every ``fda`` command prints through these, so output width, colours and the error format are the same
everywhere. A terminal gets its own width; a pipe or a test runner gets 160 columns.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from fda.errors import FDAError

console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

EXIT_ERROR = 2  # a typed error: bad input, missing index, dead LM server, ...


def fail(err: FDAError) -> NoReturn:
    """Print a typed error (its message carries the hint) and leave with exit code 2."""
    err_console.print(f"[bold red]error:[/] {err}")
    raise typer.Exit(code=EXIT_ERROR)


def print_df(df: pd.DataFrame, title: str) -> None:
    """A DataFrame as a rich table; floats with one decimal (format columns first for more)."""
    table = Table(title=title, show_lines=False)
    for col in df.columns:
        table.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(df[col]) else "left")
    for row in df.itertuples(index=False):
        table.add_row(*["" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)


def three_decimals(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A copy with ``columns`` as text with three decimals (print_df shows one)."""
    out = df.copy()
    for col in columns:
        out[col] = out[col].map(lambda v: f"{v:.3f}")
    return out
