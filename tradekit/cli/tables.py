"""Tables for people (tk status, tk data ls, tk paper status, tk news ls).

On a terminal they are drawn by rich; piped or redirected they are plain, aligned text
that stays the same from run to run, so `grep` and `awk` can rely on it. FORCE_COLOR
draws them with rich even into a pipe, NO_COLOR takes the colour away (rich reads both),
TERM=dumb keeps them plain. Machine-readable output is each command's --json.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from tradekit.reporter import styled


@dataclass(frozen=True)
class Column:
    name: str
    #: numbers are right-aligned
    numeric: bool = False


@dataclass
class Table:
    columns: tuple[Column, ...]
    title: str | None = None
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(tuple("-" if cell is None else str(cell) for cell in cells))


def plain(table: Table) -> str:
    """Aligned columns, two spaces apart, a header line first; no trailing spaces."""
    widths = [
        max(len(column.name), *(len(row[i]) for row in table.rows))
        if table.rows
        else len(column.name)
        for i, column in enumerate(table.columns)
    ]

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            cell.rjust(width) if column.numeric else cell.ljust(width)
            for cell, width, column in zip(cells, widths, table.columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [table.title] if table.title else []
    lines.append(line(tuple(column.name for column in table.columns)))
    lines += [line(row) for row in table.rows]
    return "\n".join(lines) + "\n"


def show(*tables: Table, stream: TextIO | None = None) -> None:
    """Print tables, a blank line between them."""
    out = stream or sys.stdout
    if not styled(out):
        out.write("\n".join(plain(table) for table in tables))
        out.flush()
        return
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text  # cells are text, never markup ("[BREAKING] ..." in a title)

    console = Console(file=out, highlight=False, soft_wrap=False)
    for number, table in enumerate(tables):
        title = Text(table.title) if table.title else None
        drawn = RichTable(title=title, title_justify="left", header_style="bold")
        for column in table.columns:
            drawn.add_column(
                column.name, justify="right" if column.numeric else "left", overflow="fold"
            )
        for row in table.rows:
            drawn.add_row(*(Text(cell) for cell in row))
        if number:
            console.print()
        console.print(drawn)
