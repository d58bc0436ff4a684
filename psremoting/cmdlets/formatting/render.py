"""Laying text out as Out-String does: tables, lists and wide views at a console width.

A table's columns have a width from the view, or from the data (the widest cell or label);
the last column takes what is left of the line. A cell too wide for its column is cut to
end in "..." (Windows PowerShell 5.1), or wrapped onto more lines with `wrap`; columns that
do not fit the width at all are dropped, as PowerShell does. Labels are underlined with
dashes as long as the label, aligned as the column is. Trailing spaces are trimmed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["TableColumn", "list_lines", "table_header", "table_row", "fit_widths", "wide_lines"]


@dataclass
class TableColumn:
    label: str
    width: int = 0  # 0: from the data
    align: str = "left"


def _cut(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    if width <= 3:
        return text[:width]
    return text[: width - 3] + "..."


def _place(text: str, width: int, align: str) -> str:
    return text.rjust(width) if align == "right" else text.ljust(width)


def fit_widths(columns: Sequence[TableColumn], rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """Each column's width: the view's, or the widest of label and cells; the last column
    is cut to the line's width. Columns past the width get 0 (dropped)."""
    widths: list[int] = []
    for i, column in enumerate(columns):
        if column.width:
            widths.append(column.width)
        else:
            cells = [len(r[i]) for r in rows if i < len(r)]
            widths.append(max([len(column.label), *cells]))
    used = 0
    for i, w in enumerate(widths):
        start = used + (1 if i else 0)
        room = width - start
        if (
            room <= 0
            or (i < len(widths) - 1 and w > room and columns[i].width)
            or (room < len(columns[i].label))
        ):
            widths[i:] = [0] * (len(widths) - i)
            break
        if w > room:
            widths[i] = room
        used = start + widths[i]
    return widths


def _line(cells: Sequence[str], columns: Sequence[TableColumn], widths: Sequence[int]) -> str:
    parts = []
    for cell, column, w in zip(cells, columns, widths, strict=False):
        if w == 0:
            break
        parts.append(_place(cell, w, column.align))
    return " ".join(parts).rstrip()


def table_header(columns: Sequence[TableColumn], widths: Sequence[int]) -> list[str]:
    labels = [_cut(c.label, w) for c, w in zip(columns, widths, strict=False)]
    return [_line(labels, columns, widths), _line(["-" * len(t) for t in labels], columns, widths)]


def table_row(
    cells: Sequence[str], columns: Sequence[TableColumn], widths: Sequence[int], wrap: bool = False
) -> list[str]:
    flat = [" ".join(c.replace("\r\n", "\n").split("\n")) if not wrap else c for c in cells]
    if not wrap:
        return [_line([_cut(c, w) if w else c for c, w in zip(flat, widths, strict=False)], columns, widths)]
    pieces: list[list[str]] = []
    for cell, w in zip(flat, widths, strict=False):
        if not w:
            pieces.append([""])
            continue
        lines: list[str] = []
        for part in cell.split("\n") or [""]:
            lines += textwrap.wrap(part, w, break_long_words=True, drop_whitespace=True) or [""]
        pieces.append(lines)
    height = max(len(p) for p in pieces) if pieces else 1
    return [_line([p[k] if k < len(p) else "" for p in pieces], columns, widths) for k in range(height)]


def list_lines(pairs: Sequence[tuple[str, str]], width: int) -> list[str]:
    """``Name : Value`` lines, names padded to the longest; a long or multi-line value goes
    on under itself, indented to the value column."""
    if not pairs:
        return []
    pad = max(len(name) for name, _ in pairs)
    indent = pad + 3
    room = max(width - indent, 10)
    out: list[str] = []
    for name, value in pairs:
        chunks: list[str] = []
        for part in value.replace("\r\n", "\n").split("\n"):
            while len(part) > room:
                chunks.append(part[:room])
                part = part[room:]
            chunks.append(part)
        out.append(f"{name.ljust(pad)} : {chunks[0]}".rstrip())
        out += [(" " * indent + c).rstrip() for c in chunks[1:]]
    return out


def wide_lines(texts: Sequence[str], width: int, columns: int | None, autosize: bool) -> list[str]:
    """Format-Wide: items across the line in `columns` equal columns (2 by default; with
    `autosize`, as many as the widest item allows)."""
    if not texts:
        return []
    if autosize:
        widest = max(len(t) for t in texts) + 1
        columns = max(1, width // max(widest, 1))
    count = columns or 2
    cell = max(width // count, 1)
    out = []
    for start in range(0, len(texts), count):
        row = texts[start : start + count]
        out.append("".join(_cut(t, cell - 1).ljust(cell) for t in row).rstrip())
    return out
