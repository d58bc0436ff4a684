"""Text formatting as Windows PowerShell 5.1's Out-Default produces it on a remote host.

:class:`OutputFormatter` is fed objects one by one and returns the lines to write, so that
Out-Default can stream: strings and numbers print at once, file-system items print row by
row under their ``Directory:`` header (the view has fixed widths), other objects are grouped
by type into a table (fewer than five properties) or a list, flushed when the type changes
or the input ends. :func:`error_view` renders an ErrorRecord as NormalView does.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from typing import Any

from psrpcore.types import ErrorRecord, PSObject

from psremoting.protocol.secrets import SecureString
from psremoting.pslang.values import PSCustom, ScriptBlock, get_member, member_names, to_string

from .objects import type_names

__all__ = [
    "RENDERERS",
    "OutputFormatter",
    "error_view",
    "format_all",
    "format_datetime",
    "format_scalar",
    "list_lines",
    "register_renderer",
    "table_lines",
]

_FILE_TYPES = ("System.IO.FileInfo", "System.IO.DirectoryInfo")
_COMMAND_VIEW = [
    ("CommandType", 15, "CommandType"),
    ("Name", 50, "Name"),
    ("Version", 10, "Version"),
    ("Source", 0, "Source"),
]
#: Fixed table views of Windows PowerShell's format files: type -> (header, width (0: rest), property).
_VIEWS: dict[str, list[tuple[str, int, str]]] = {
    "System.Management.Automation.PathInfo": [("Path", 0, "Path")],
    "System.Management.Automation.CmdletInfo": _COMMAND_VIEW,
    "System.Management.Automation.FunctionInfo": _COMMAND_VIEW,
    "System.Management.Automation.AliasInfo": _COMMAND_VIEW,
    "System.Net.NetworkCredential": [("UserName", 0, "UserName"), ("Domain", 0, "Domain")],
    # Get-FileHash (PowerShellCore_format_ps1xml: Microsoft.Powershell.Utility.FileHash).
    "Microsoft.Powershell.Utility.FileHash": [
        ("Algorithm", 15, "Algorithm"),
        ("Hash", 70, "Hash"),
        ("Path", 0, "Path"),
    ],
    "System.Management.Automation.PSVariable": [("Name", 0, "Name"), ("Value", 0, "Value")],
    # Get-Service (System.ServiceProcess.ServiceController's table view): every column fixed.
    "System.ServiceProcess.ServiceController": [
        ("Status", 8, "Status"),
        ("Name", 18, "Name"),
        ("DisplayName", 38, "DisplayName"),
    ],
    # Get-CimInstance's table views (CIM format data); Get-WmiObject lists the display set.
    "Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_OperatingSystem": [
        (n, 0, n)
        for n in (
            "SystemDirectory",
            "Organization",
            "BuildNumber",
            "RegisteredUser",
            "SerialNumber",
            "Version",
        )
    ],
    "Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_LogicalDisk": [
        (n, 0, n) for n in ("DeviceID", "DriveType", "ProviderName", "VolumeName", "Size", "FreeSpace")
    ],
}


#: Table renderers of types whose view computes its cells (Process: NPM(K)...), by type name.
RENDERERS: dict[str, Callable[[list[Any]], list[str]]] = {}


def _guid_table(guids: list[Any]) -> list[str]:
    """System.Guid's table view (New-Guid): one Guid column."""
    return ["", "Guid", "----", *(str(g) for g in guids), "", ""]


def register_renderer(type_name: str, render: Callable[[list[Any]], list[str]]) -> None:
    """Let Out-Default render a group of objects of ``type_name`` with ``render``."""
    RENDERERS[type_name] = render


register_renderer("System.Guid", _guid_table)

_VERSION_VIEW = [
    ("Major", 6, "Major"),
    ("Minor", 6, "Minor"),
    ("Build", 6, "Build"),
    ("Revision", 8, "Revision"),
]


def _version_table(versions: list[Any]) -> list[str]:
    """System.Version's table view; a Build or Revision not given is -1, as .NET has it."""
    parts = [
        {name: _or_minus_one(get_member(v, name, None)) for _, _, name in _VERSION_VIEW} for v in versions
    ]
    return _fixed_table(parts, _VERSION_VIEW)


def _or_minus_one(part: Any) -> Any:
    return -1 if part is None else part


register_renderer("System.Version", _version_table)


def _fixed_table(objects: list[Any], view: list[tuple[str, int, str]]) -> list[str]:
    """Rows of `view`'s properties under its headers, each column `width` wide (0: as wide as
    its widest cell)."""
    if all(width == 0 for _, width, _ in view):
        rows = [[format_scalar(get_member(o, prop, None)) for _, _, prop in view] for o in objects]
        return _table(rows, [h for h, _, _ in view], [False] * len(view))

    def cell(text: str, width: int, last: bool) -> str:
        if width and len(text) > width:
            text = text[: width - 3] + "..."
        return text if not width else text.ljust(width)

    # A last column of fixed width is padded to it, as Windows' table writer does.
    padded_last = view[-1][1] != 0

    def line(cells: list[str]) -> str:
        text = " ".join(cell(c, view[i][1], i == len(view) - 1) for i, c in enumerate(cells))
        return text if padded_last else text.rstrip()

    lines = ["", line([h for h, _, _ in view]), line(["-" * len(h) for h, _, _ in view])]
    for o in objects:
        lines.append(line([format_scalar(get_member(o, prop, None)) for _, _, prop in view]))
    return lines + ["", ""]


def format_datetime(value: dt.datetime) -> str:
    """DateTime's default display in en-US: ``Tuesday, November 24, 2026 11:19:39 PM``."""
    hour = value.hour % 12 or 12
    ampm = "AM" if value.hour < 12 else "PM"
    return f"{value:%A}, {value:%B} {value.day}, {value.year} {hour}:{value:%M}:{value:%S} {ampm}"


def short_datetime(value: dt.datetime) -> str:
    """``11/24/2026 11:19:39 PM`` (en-US short date and long time, as in a table cell)."""
    hour = value.hour % 12 or 12
    ampm = "AM" if value.hour < 12 else "PM"
    return f"{value.month}/{value.day}/{value.year} {hour}:{value:%M}:{value:%S} {ampm}"


def format_scalar(value: Any) -> str:
    """One value as a table or list cell shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dt.datetime):
        return short_datetime(value)
    if isinstance(value, enum.Enum):
        return str(value.name)
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(format_scalar(v) for v in value) + "}"
    if isinstance(value, PSCustom):
        return to_string(value)
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    return to_string(value)


def _is_scalar(obj: Any) -> bool:
    return (
        obj is None
        or isinstance(obj, (str, int, float, bool, ScriptBlock, SecureString))
        or (isinstance(obj, PSObject) and not _properties(obj) and not isinstance(obj, dt.datetime))
    )


def _properties(obj: Any) -> list[str]:
    display = getattr(getattr(obj, "PSObject", None), "default_display_properties", None)
    if display:  # PSStandardMembers' DefaultDisplayPropertySet (CIM/WMI instances)
        return list(display)
    names = member_names(obj)
    if type_names(obj)[:1] == ["System.Management.Automation.PSCustomObject"] or isinstance(obj, PSCustom):
        return names
    return names


def _table(rows: list[list[str]], headers: list[str], right: list[bool]) -> list[str]:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: list[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            last = i == len(cells) - 1
            if right[i]:
                out.append(cell.rjust(widths[i]))
            else:
                out.append(cell if last else cell.ljust(widths[i]))
        return " ".join(out).rstrip()

    lines = ["", line(headers), line(["-" * len(h) for h in headers])]
    lines.extend(line(r) for r in rows)
    lines.extend(["", ""])
    return lines


def _hashtable_lines(tables: list[Any]) -> list[str]:
    rows = [
        (format_scalar(k), format_scalar(v))
        for t in tables
        for k, v in (
            t.items() if isinstance(t, dict) else [(get_member(t, "Name", ""), get_member(t, "Value", ""))]
        )
    ]
    lines = ["", "Name                           Value", "----                           -----"]
    for name, value in rows:
        lines.append(
            (name.ljust(30) + " " + value).rstrip() if len(name) <= 30 else (name[:27] + "... " + value)
        )
    lines.extend(["", ""])
    return lines


def _list_lines(objects: list[Any]) -> list[str]:
    lines: list[str] = [""]
    for obj in objects:
        names = _properties(obj)
        width = max((len(n) for n in names), default=0)
        for name in names:
            value = format_scalar(get_member(obj, name, None))
            lines.append(f"{name.ljust(width)} : {value}".rstrip())
        lines.append("")
    lines.append("")
    return lines


class OutputFormatter:
    """Turns a stream of objects into Out-Default's lines, keeping grouping state between calls."""

    def __init__(self) -> None:
        self._group: list[Any] = []
        self._group_key: tuple[str, ...] | None = None
        self._directory: str | None = None

    def feed(self, obj: Any) -> list[str]:
        """Lines to write now for ``obj`` (possibly none: it may be kept for a table)."""
        names = type_names(obj)
        if names[:1] and names[0] in _FILE_TYPES:
            return self.flush_group() + self._file_row(obj)
        lines = self._close_directory()
        if isinstance(obj, dt.datetime):
            return lines + self.flush_group() + ["", format_datetime(obj), "", ""]
        if isinstance(obj, ErrorRecord):
            return lines + self.flush_group()
        if isinstance(obj, str):
            return lines + self.flush_group() + obj.replace("\r\n", "\n").split("\n")
        if _is_scalar(obj):
            return (
                lines
                + self.flush_group()
                + [format_scalar(obj) if not isinstance(obj, PSObject) else str(obj)]
            )
        if (isinstance(obj, dict) and not isinstance(obj, PSCustom)) or names[:1] == [
            "System.Collections.DictionaryEntry"
        ]:
            key: tuple[str, ...] = ("@hashtable",)
        elif any(n in RENDERERS for n in names):
            # One table for all objects the renderer's type covers (EventLogEntry#System/...).
            key = (next(n for n in names if n in RENDERERS),)
        else:
            key = tuple(names[:1]) + tuple(_properties(obj))
        if self._group_key is not None and key != self._group_key:
            lines += self.flush_group()
        self._group_key = key
        self._group.append(obj)
        return lines

    def flush(self) -> list[str]:
        """Lines still pending at the end of the input."""
        return self.flush_group() + self._close_directory()

    def flush_group(self) -> list[str]:
        """Render the buffered group of same-typed objects."""
        group, key = self._group, self._group_key
        self._group, self._group_key = [], None
        if not group or key is None:
            return []
        if key == ("@hashtable",):
            return _hashtable_lines(group)
        if key and key[0] == "Microsoft.PowerShell.Commands.MemberDefinition":
            return _member_lines(group)
        render = RENDERERS.get(key[0]) if key else None
        if render is not None:
            return render(group)
        view = _VIEWS.get(key[0]) if key else None
        if view is not None:
            return _fixed_table(group, view)
        names = _properties(group[0])
        if len(names) >= 5:
            return _list_lines(group)
        rows = [[format_scalar(get_member(o, n, None)) for n in names] for o in group]
        right = [
            all(
                isinstance(get_member(o, n, None), (int, float))
                and not isinstance(get_member(o, n, None), bool)
                for o in group
            )
            for n in names
        ]
        return _table(rows, names, right)

    def _close_directory(self) -> list[str]:
        if self._directory is None:
            return []
        self._directory = None
        return ["", ""]

    def _file_row(self, obj: Any) -> list[str]:
        lines: list[str] = []
        parent = to_string(get_member(obj, "PSParentPath", "")).split("::", 1)[-1]
        if parent != self._directory:
            if self._directory is not None:
                lines += ["", ""]
            self._directory = parent
            lines += [
                "",
                "",
                f"    Directory: {parent}",
                "",
                "",
                "Mode                LastWriteTime         Length Name",
                "----                -------------         ------ ----",
            ]
        written = get_member(obj, "LastWriteTime", None)
        when = ""
        if isinstance(written, dt.datetime):
            hour = written.hour % 12 or 12
            ampm = "AM" if written.hour < 12 else "PM"
            date = f"{written.month}/{written.day}/{written.year}"
            when = f"{date:>10} {f'{hour}:{written:%M} {ampm}':>8}"
        length = get_member(obj, "Length", None)
        is_dir = bool(get_member(obj, "PSIsContainer", False))
        length_text = "" if is_dir or length is None else str(length)
        mode = to_string(get_member(obj, "Mode", ""))
        name = to_string(get_member(obj, "Name", ""))
        lines.append(f"{mode:<7} {when:>25} {length_text:>14} {name}".rstrip())
        return lines


def _member_lines(members: list[Any]) -> list[str]:
    """Get-Member's view: a ``TypeName:`` header, then Name / MemberType / Definition."""
    lines: list[str] = []
    by_type: dict[str, list[Any]] = {}
    for m in members:
        by_type.setdefault(to_string(get_member(m, "TypeName", "")), []).append(m)
    for type_name, group in by_type.items():
        rows = [
            [to_string(get_member(m, p, "")) for p in ("Name", "MemberType", "Definition")] for m in group
        ]
        table = _table(rows, ["Name", "MemberType", "Definition"], [False, False, False])
        lines += ["", f"   TypeName: {type_name}"] + table
    return lines


def table_lines(objects: list[Any]) -> list[str]:
    """Format-Table: every object in one table of its properties (scalars as they are)."""
    if not objects or all(_is_scalar(o) for o in objects):
        return [format_scalar(o) for o in objects]
    names: list[str] = []
    for obj in objects:
        for name in _properties(obj):
            if name not in names:
                names.append(name)
    rows = [[format_scalar(get_member(o, n, None)) for n in names] for o in objects]
    right = [
        all(
            isinstance(get_member(o, n, None), (int, float)) and not isinstance(get_member(o, n, None), bool)
            for o in objects
        )
        for n in names
    ]
    return _table(rows, names, right)


def list_lines(objects: list[Any]) -> list[str]:
    """Format-List: every property of every object, one per line."""
    return _list_lines(objects)


def format_all(objects: Iterable[Any]) -> list[str]:
    """Every line Out-Default/Out-String would produce for ``objects``."""
    formatter = OutputFormatter()
    lines: list[str] = []
    for obj in objects:
        if isinstance(obj, ErrorRecord):
            lines += formatter.flush() + error_view(obj)
            continue
        lines += formatter.feed(obj)
    lines += formatter.flush()
    return lines


def error_view(record: ErrorRecord) -> list[str]:
    """An ErrorRecord as Windows PowerShell 5.1's NormalView shows it (also what PS 7 prints remotely)."""
    message = str(record)
    info = getattr(record, "InvocationInfo", None)
    prefix = ""
    position = ""
    if info is not None:
        my_command = getattr(info, "MyCommand", None)
        name = getattr(my_command, "Name", None) if my_command is not None else None
        name = name or getattr(info, "InvocationName", None)
        if name:
            prefix = f"{name} : "
        position = getattr(info, "PositionMessage", None) or ""
    lines = (prefix + message).splitlines() or [prefix]
    if position:
        lines += position.splitlines()
    lines.append(f"    + CategoryInfo          : {record.CategoryInfo}")
    lines.append(f"    + FullyQualifiedErrorId : {record.FullyQualifiedErrorId}")
    lines.append(" ")
    return lines
