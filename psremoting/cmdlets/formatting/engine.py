"""Out-String for the objects that come back: PowerShell's formatting rules, in its order.

For each object: the view the caller asked for (Format-Table/-List/-Wide with -Property);
else the type's default view by type name (``Deserialized.`` matched too: `views`); else its
DefaultDisplayPropertySet; else a table for up to 4 properties and a list for 5 or more.
Consecutive objects of one shape share one table; a view with a group-by (the FileSystem
view's ``Directory:``) starts a new group with its header when the group's value changes.
Remote output in a table gets PowerShell's PSComputerName column. Scalars print as their
text, one a line.

`out_string(objects, width=120)` gives the text as Out-String does: a table or list is
preceded by one blank line and followed by two.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from psremoting.cmdlets.formatting.render import (
    TableColumn,
    fit_widths,
    list_lines,
    table_header,
    table_row,
    wide_lines,
)
from psremoting.cmdlets.formatting.values import (
    cell_text,
    is_numeric,
    prop,
    properties_of,
    scalar_text,
    type_names_of,
)
from psremoting.cmdlets.formatting.views import DEFAULT_DISPLAY_PROPERTIES, Column, View, view_for

__all__ = ["FormatRequest", "Property", "format_lines", "out_string"]

Kind = Literal["table", "list", "wide"]


@dataclass(frozen=True)
class Property:
    """A -Property entry: a name (wildcards allowed) or a calculated property
    (``@{Name=...; Expression=...; Width=...; Alignment=...; FormatString=...}``)."""

    name: str
    expression: str | Callable[[Any], Any] | None = None
    width: int = 0
    align: str = ""
    format_string: str | None = None


@dataclass
class FormatRequest:
    """What Format-Table/-List/-Wide were asked for (all optional)."""

    kind: Kind | None = None
    properties: Sequence[str | Property] | None = None
    autosize: bool = False
    wrap: bool = False
    group_by: str | Property | None = None
    columns: int | None = None
    hide_table_headers: bool = False
    #: The views of a type without a built-in one (the server's: `server_views.ServerViews`).
    view_source: Callable[[Any], Sequence[View]] | None = None


def _flatten(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, (list, tuple)):
            out += _flatten(value)
        elif isinstance(value, (bytes, bytearray)):
            out += list(value)  # a byte[] is enumerated: a number a line
        elif value is not None:
            out.append(value)
    return out


_SCALARS = (str, bytes, int, float, Decimal, bool, dt.date)


def _is_scalar(value: Any) -> bool:
    import uuid

    return isinstance(value, (*_SCALARS, uuid.UUID)) and not isinstance(value, dt.datetime)


def _timespan_properties(value: dt.timedelta) -> list[tuple[str, Any]]:
    ticks = (value.days * 86400 + value.seconds) * 10_000_000 + value.microseconds * 10
    sign = -1 if ticks < 0 else 1
    whole = abs(ticks)
    seconds = whole // 10_000_000
    return [
        ("Days", sign * (seconds // 86400)),
        ("Hours", sign * (seconds % 86400 // 3600)),
        ("Minutes", sign * (seconds % 3600 // 60)),
        ("Seconds", sign * (seconds % 60)),
        ("Milliseconds", sign * (whole % 10_000_000 // 10_000)),
        ("Ticks", ticks),
        ("TotalDays", ticks / 864e9),
        ("TotalHours", ticks / 36e9),
        ("TotalMinutes", ticks / 6e8),
        ("TotalSeconds", ticks / 1e7),
        ("TotalMilliseconds", ticks / 1e4),
    ]


def _all_properties(obj: Any) -> list[tuple[str, Any]]:
    if isinstance(obj, dt.timedelta):
        return _timespan_properties(obj)
    return properties_of(obj)


def _shows_computer_name(obj: Any) -> bool:
    return bool(prop(obj, "PSShowComputerName", False)) and prop(obj, "PSComputerName") is not None


def _expand(names: Sequence[str | Property], obj: Any) -> list[Column]:
    """-Property entries as columns: wildcards expanded against the first object."""
    columns: list[Column] = []
    available = [name for name, _ in _all_properties(obj)]
    for entry in names:
        if isinstance(entry, Property):
            expression = entry.expression if entry.expression is not None else entry.name
            value: Any = expression
            if entry.format_string:
                value = _formatted(expression, entry.format_string)
            align: Any = entry.align.lower() if entry.align else ""
            columns.append(Column(entry.name, value, entry.width, align))
            continue
        if any(ch in entry for ch in "*?["):
            columns += [Column(n, n) for n in available if fnmatch.fnmatch(n.lower(), entry.lower())]
        else:
            columns.append(Column(next((n for n in available if n.lower() == entry.lower()), entry), entry))
    return columns


def _formatted(expression: str | Callable[[Any], Any], spec: str) -> Callable[[Any], Any]:
    def value(obj: Any) -> Any:
        raw = expression(obj) if callable(expression) else prop(obj, expression)
        return _format_number(raw, spec)

    return value


def _format_number(value: Any, spec: str) -> str:
    """The .NET standard numeric formats a FormatString uses most: N2, F1, D5, P0, X."""
    if not spec or not isinstance(value, (int, float, Decimal)):
        return cell_text(value)
    letter, digits = spec[0].upper(), spec[1:]
    count = int(digits) if digits.isdigit() else None
    if letter == "N":
        return f"{value:,.{2 if count is None else count}f}"
    if letter == "F":
        return f"{value:.{2 if count is None else count}f}"
    if letter == "D" and isinstance(value, int):
        return str(value).zfill(count or 0)
    if letter == "P":
        return f"{float(value) * 100:,.{2 if count is None else count}f} %"
    if letter == "X" and isinstance(value, int):
        text = f"{value:X}" if spec[0] == "X" else f"{value:x}"
        return text.zfill(count or 0)
    return cell_text(value)


@dataclass
class _Shape:
    kind: str  # table, list, wide, custom, scalar
    columns: list[Column]
    view: View | None
    key: Any
    group: Callable[[Any], str] | None = None
    group_label: str = ""


def _shape(obj: Any, request: FormatRequest) -> _Shape:
    names = type_names_of(obj)
    kind = request.kind
    if request.properties:
        columns = _expand(request.properties, obj)
        chosen: str = kind or ("table" if len(columns) <= 4 else "list")
        return _Shape(chosen, columns, None, ("props", chosen))
    view = view_for(names, kind)
    if view is None and request.view_source is not None and not _is_scalar(obj):
        served = list(request.view_source(obj))
        view = next((v for v in served if kind is None or v.kind == kind), None)
    if view is None and kind is None and _is_scalar(obj):
        return _Shape("scalar", [], None, "scalar")
    if view is not None and (kind is None or view.kind == kind):
        columns = list(view.columns)
        if view.kind in ("table", "list") and _shows_computer_name(obj):
            columns.append(Column("PSComputerName", "PSComputerName"))
        return _Shape(view.kind, columns, view, ("view", id(view), kind), view.group_by, view.group_label)
    if isinstance(obj, dict) and not hasattr(obj, "type_names") and kind in (None, "list"):
        view = view_for(["System.Collections.Hashtable"])
        assert view is not None
        return _Shape(kind or "table", list(view.columns), view, ("view", id(view), kind))
    display = next(
        (
            DEFAULT_DISPLAY_PROPERTIES[n.removeprefix("Deserialized.")]
            for n in names
            if DEFAULT_DISPLAY_PROPERTIES.get(n.removeprefix("Deserialized."))
        ),
        None,
    )
    listed = display or tuple(n for n, _ in _all_properties(obj))
    columns = [Column(n, n) for n in listed]
    if not columns:
        return _Shape("scalar", [], None, "scalar")
    if kind == "wide":
        first = next((c for c in columns if c.label.lower() == "name"), columns[0])
        return _Shape("wide", [first], None, ("wide", first.label))
    chosen = kind or ("table" if len(columns) <= 4 else "list")
    key = (chosen, tuple(c.label for c in columns), names[0] if names else type(obj).__name__)
    return _Shape(chosen, columns, None, key)


def _group_of(request: FormatRequest, shape: _Shape) -> tuple[Callable[[Any], str] | None, str]:
    if request.group_by is None:
        return shape.group, shape.group_label
    entry = request.group_by
    if isinstance(entry, Property):
        expression = entry.expression if entry.expression is not None else entry.name
        label = entry.name
    else:
        expression, label = entry, entry

    def group(obj: Any) -> str:
        value = expression(obj) if callable(expression) else prop(obj, expression)
        return cell_text(value)

    return group, label


def _rows_of(obj: Any, shape: _Shape) -> list[Any]:
    """A dictionary's table shows its entries; everything else is one row."""
    if isinstance(obj, dict) and shape.view is not None and shape.view.name == "Dictionary":
        return [{"Name": k, "Value": v} for k, v in obj.items()]
    return [obj]


def _cell(column: Column, obj: Any) -> str:
    return cell_text(column.of(obj))


def _table_columns(shape: _Shape, sample: Any) -> list[TableColumn]:
    out = []
    for column in shape.columns:
        align = column.align
        if not align:
            align = "right" if shape.view is None and is_numeric(column.of(sample)) else "left"
        out.append(TableColumn(column.label, column.width, align))
    return out


def table_layout(
    objects: list[Any], shape: _Shape, request: FormatRequest, width: int
) -> tuple[list[TableColumn], list[int]] | None:
    """The columns of a table of `objects` and their widths (None for no rows)."""
    rows_objects = [r for o in objects for r in _rows_of(o, shape)]
    if not rows_objects:
        return None
    columns = _table_columns(shape, rows_objects[0])
    if request.autosize:
        columns = [TableColumn(c.label, 0, c.align) for c in columns]
    measured = [[" ".join(_cell(c, o).split("\n")) for c in shape.columns] for o in rows_objects]
    return columns, fit_widths(columns, measured, width)


def table_rows(
    objects: list[Any], shape: _Shape, request: FormatRequest, layout: tuple[list[TableColumn], list[int]]
) -> list[str]:
    """The rows of `objects` in a table already laid out."""
    columns, widths = layout
    lines: list[str] = []
    for obj in objects:
        for row in _rows_of(obj, shape):
            lines += table_row([_cell(c, row) for c in shape.columns], columns, widths, request.wrap)
    return lines


def _table(objects: list[Any], shape: _Shape, request: FormatRequest, width: int) -> list[str]:
    layout = table_layout(objects, shape, request, width)
    if layout is None:
        return []
    lines: list[str] = [] if request.hide_table_headers else table_header(*layout)
    return lines + table_rows(objects, shape, request, layout)


def list_entries(objects: list[Any], shape: _Shape, width: int) -> list[str]:
    """Format-List's entries of `objects`, each after a blank line but the first."""
    return _list(objects, shape, width)


def shape_of(obj: Any, request: FormatRequest) -> _Shape:
    """How `obj` is shown (its view or generated columns); `.key` tells objects of one table."""
    return _shape(obj, request)


def group_of(request: FormatRequest, shape: _Shape) -> Callable[[Any], str] | None:
    return _group_of(request, shape)[0]


def _list(objects: list[Any], shape: _Shape, width: int) -> list[str]:
    out: list[str] = []
    for obj in objects:
        for row in _rows_of(obj, shape):
            if out:
                out.append("")
            pairs = [(c.label, _cell(c, row)) for c in shape.columns]
            out += list_lines(pairs, width)
    return out


def format_lines(
    objects: Iterable[Any],
    *,
    width: int = 120,
    request: FormatRequest | None = None,
    after_blank: bool = False,
) -> list[str]:
    """The lines Out-String writes for `objects` (blank lines included). `after_blank`: the
    text before them ended with a blank line (a group header then needs no blank of its own)."""
    request = request or FormatRequest()
    items = _flatten(objects)
    lines: list[str] = []
    index = 0
    forced_shape: _Shape | None = None
    while index < len(items):
        obj = items[index]
        shape = forced_shape or _shape(obj, request)
        if request.kind is not None or request.properties:
            forced_shape = shape
        if shape.kind == "scalar":
            lines += scalar_text(obj).replace("\r\n", "\n").split("\n")
            index += 1
            continue
        if shape.kind == "custom":
            text = shape.view.custom(obj) if shape.view and shape.view.custom else str(obj)
            lines += text.split("\n")
            index += 1
            continue
        group, label = _group_of(request, shape)
        batch = [obj]
        group_value = group(obj) if group else None
        index += 1
        while index < len(items):
            nxt = items[index]
            if forced_shape is None and _shape(nxt, request).key != shape.key:
                break
            if group is not None and group(nxt) != group_value:
                break
            batch.append(nxt)
            index += 1
        if group is not None:
            # the blank lines that end the table before are the header's too
            lead = [] if (lines[-1:] == [""] or (not lines and after_blank)) else [""]
            if request.group_by is not None:  # -GroupBy's header: indented 3, one blank line under it
                lines += [*lead, f"   {label}: {group_value}".rstrip()]
            else:  # a view's group (FileSystem's "Directory:"): indented 4, two blank lines under it
                lines += [*lead, f"    {label}: {group_value}".rstrip(), ""]
        if shape.kind == "table":
            body = _table(batch, shape, request, width)
        elif shape.kind == "list":
            body = _list(batch, shape, width)
        else:
            texts = [
                shape.view.wide(o) if shape.view and shape.view.wide else _cell(shape.columns[0], o)
                for o in batch
            ]
            body = wide_lines(texts, width, request.columns, request.autosize)
        lines += ["", *body, "", ""]
    return lines


def out_string(
    objects: Any,
    width: int = 120,
    *,
    request: FormatRequest | None = None,
    session: Any = None,
) -> str:
    """The text PowerShell's Out-String gives for `objects` (one object or an iterable of
    them) at a console `width`: default views, tables, lists, as Windows PowerShell 5.1.
    With the `session` that produced them, a type without a built-in view is shown with the
    server's view (Get-FormatData, asked once per type and kept for the session)."""
    if objects is None:
        return ""
    if session is not None:
        from dataclasses import replace

        from psremoting.cmdlets.formatting.server_views import session_views

        request = replace(request or FormatRequest(), view_source=session_views(session))
    if not isinstance(objects, (list, tuple)) and not _is_iterable_output(objects):
        objects = [objects]
    lines = format_lines(objects, width=width, request=request)
    return "".join(line + "\n" for line in lines)


def _is_iterable_output(value: Any) -> bool:
    from collections.abc import Generator, Iterator

    return isinstance(value, (Generator, Iterator))
