"""Lists for people and for pipes: a table on a terminal, tab-separated lines
otherwise (so ``grep``, ``cut`` and ``awk`` see whole values, never a folded cell)."""

from __future__ import annotations

from collections.abc import Sequence

import typer
from rich.console import Console
from rich.table import Table


def print_rows(console: Console, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    if console.is_terminal:
        table = Table()
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    for line in (columns, *rows):
        # Not through Rich, which would expand the tabs into spaces.
        typer.echo("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in line))
