"""View definitions: what PowerShell's format files say about a type's default look.

A `View` is a table, list, wide or custom view with its columns (label, property or a function
of the object, width, alignment) and an optional group-by header (the FileSystem view's
``    Directory: C:\\``). `BUILTIN_VIEWS` holds Windows PowerShell 5.1's default views of the
common types (DotNetTypes.format.ps1xml, FileSystem.format.ps1xml, PowerShellCore.format.ps1xml
...), looked up by type name with or without the ``Deserialized.`` prefix, as PowerShell does.
`DEFAULT_DISPLAY_PROPERTIES` holds the DefaultDisplayPropertySet of types that have no view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from psremoting.cmdlets.formatting.values import cell_text, long_datetime, prop

__all__ = ["BUILTIN_VIEWS", "DEFAULT_DISPLAY_PROPERTIES", "Column", "View", "view_for"]

Alignment = Literal["left", "right", ""]


@dataclass(frozen=True)
class Column:
    """One column of a table view (or one line of a list view)."""

    label: str
    value: str | Callable[[Any], Any]
    width: int = 0  # 0: sized from the data (the last column takes what is left)
    align: Alignment = ""

    def of(self, obj: Any) -> Any:
        if callable(self.value):
            try:
                return self.value(obj)
            except (AttributeError, TypeError, ValueError, KeyError):
                return None
        return prop(obj, self.value)


@dataclass(frozen=True)
class View:
    kind: Literal["table", "list", "wide", "custom"]
    columns: Sequence[Column] = ()
    group_label: str = ""
    group_by: Callable[[Any], str] | None = None
    wide: Callable[[Any], str] | None = None
    custom: Callable[[Any], str] | None = None
    name: str = field(default="")


def _parent(obj: Any) -> str:
    path = str(prop(obj, "PSParentPath") or "")
    return path.split("::", 1)[-1]


def _write_time(obj: Any) -> str:
    when = prop(obj, "LastWriteTime")
    if not isinstance(when, dt.datetime):
        return cell_text(when)
    hour = when.hour % 12 or 12
    time = f"{hour}:{when:%M} {'AM' if when.hour < 12 else 'PM'}"
    return f"{f'{when.month}/{when.day}/{when.year}':>10}  {time:>8}"


def _is_dir(obj: Any) -> bool:
    return any(t.endswith("System.IO.DirectoryInfo") for t in getattr(obj, "type_names", []) or [])


def _file_name(obj: Any) -> str:
    name = str(prop(obj, "Name") or "")
    return f"[{name}]" if _is_dir(obj) else name


_FILE_TABLE = View(
    "table",
    (
        Column("Mode", "Mode", 7, "left"),
        Column("LastWriteTime", _write_time, 25, "right"),
        Column("Length", "Length", 14, "right"),
        Column("Name", "Name", 0, "left"),
    ),
    group_label="Directory",
    group_by=_parent,
    name="children",
)
_FILE_LIST = View(
    "list",
    tuple(
        Column(n, n)
        for n in (
            "Name",
            "Length",
            "CreationTime",
            "LastWriteTime",
            "LastAccessTime",
            "Mode",
            "LinkType",
            "Target",
        )
    )
    + (Column("VersionInfo", "VersionInfo"),),
    group_label="Directory",
    group_by=_parent,
)
_DIR_LIST = View(
    "list",
    tuple(
        Column(n, n)
        for n in ("Name", "CreationTime", "LastWriteTime", "LastAccessTime", "Mode", "LinkType", "Target")
    ),
    group_label="Directory",
    group_by=_parent,
)
_FILE_WIDE = View("wide", group_label="Directory", group_by=_parent, wide=_file_name)


def _kilo(name: str) -> Callable[[Any], Any]:
    def value(obj: Any) -> Any:
        raw = prop(obj, name)
        return None if raw is None else int(round(float(raw) / 1024))

    return value


def _cpu(obj: Any) -> str:
    cpu = prop(obj, "CPU")
    return "" if cpu is None else f"{float(cpu):,.2f}"


_PROCESS = View(
    "table",
    (
        Column("Handles", lambda o: prop(o, "HandleCount", prop(o, "Handles")), 7, "right"),
        Column("NPM(K)", _kilo("NPM"), 7, "right"),
        Column("PM(K)", _kilo("PM"), 8, "right"),
        Column("WS(K)", _kilo("WS"), 10, "right"),
        Column("CPU(s)", _cpu, 10, "right"),
        Column("Id", "Id", 6, "right"),
        Column("SI", "SessionId", 3, "right"),
        Column("ProcessName", "ProcessName"),
    ),
)
_PROCESS_LIST = View(
    "list",
    (
        Column("Id", "Id"),
        Column("Handles", lambda o: prop(o, "HandleCount", prop(o, "Handles"))),
        Column("CPU", "CPU"),
        Column("SI", "SessionId"),
        Column("Name", lambda o: prop(o, "Name", prop(o, "ProcessName"))),
    ),
)
_SERVICE = View(
    "table",
    (
        Column("Status", "Status", 8, "left"),
        Column("Name", "Name", 18, "left"),
        Column("DisplayName", "DisplayName", 38),
    ),
)

_SERVICE_LIST = View(
    "list",
    tuple(
        Column(n, n)
        for n in (
            "Name", "DisplayName", "Status", "DependentServices", "ServicesDependedOn",
            "CanPauseAndContinue", "CanShutdown", "CanStop", "ServiceType",
        )
    ),
)  # fmt: skip


def _command_name(obj: Any) -> Any:
    if str(prop(obj, "CommandType")) == "Alias":
        return prop(obj, "DisplayName") or prop(obj, "Name")
    return prop(obj, "Name")


_COMMAND = View(
    "table",
    (
        Column("CommandType", "CommandType", 15, "left"),
        Column("Name", _command_name, 50, "left"),
        Column("Version", "Version", 10, "left"),
        Column("Source", "Source"),
    ),
)
_HASHTABLE = View("table", (Column("Name", "Name", 30, "left"), Column("Value", "Value")), name="Dictionary")
_VERSION = View(
    "table",
    (
        Column("Major", "Major", 6, "left"),
        Column("Minor", "Minor", 6, "left"),
        Column("Build", "Build", 6, "left"),
        Column("Revision", "Revision", 0, "left"),
    ),
)
_GROUP = View(
    "table",
    (Column("Count", "Count", 5, "right"), Column("Name", "Name", 25, "left"), Column("Group", "Group")),
)


def _error_text(obj: Any) -> str:
    """An ErrorRecord among the output (``2>&1``, ``$Error[0]``) as the console's error view
    shows a remote one: the message, its position, CategoryInfo, FullyQualifiedErrorId and
    PSComputerName."""
    lines = [str(obj)]
    position = prop(obj, "InvocationInfo_PositionMessage")
    if position:
        lines += str(position).replace("\r\n", "\n").split("\n")
    category = prop(obj, "ErrorCategory_Message") or prop(obj, "CategoryInfo")
    if category is not None:
        lines.append(f"    + CategoryInfo          : {category}")
    fqid = prop(obj, "FullyQualifiedErrorId")
    if fqid is not None:
        lines.append(f"    + FullyQualifiedErrorId : {fqid}")
    if prop(obj, "PSShowComputerName", False) and prop(obj, "PSComputerName") is not None:
        lines.append(f"    + PSComputerName        : {prop(obj, 'PSComputerName')}")
    return "\n".join(lines)


_ERROR = View("custom", custom=_error_text)
_DATETIME = View("custom", custom=lambda o: long_datetime(o) if isinstance(o, dt.datetime) else str(o))
_TOSTRING = View("custom", custom=str)
_PSSESSION = View(
    "table",
    (
        Column("Id", "Id", 3, "right"),
        Column("Name", "Name", 15, "left"),
        Column("ComputerName", "ComputerName", 15, "left"),
        Column("ComputerType", "ComputerType", 15, "left"),
        Column("State", "State", 13, "left"),
        Column("ConfigurationName", "ConfigurationName", 20, "left"),
        Column("Availability", "Availability", 13, "right"),
    ),
)
#: The client's PSSessions, as PowerShell 7 (the client the shell stands for) shows them, with
#: Transport: the same table as `$s` at the prompt (`format_table`).
_PSSESSION_7 = View(
    "table",
    (
        Column("Id", "Id", 3, "right"),
        Column("Name", "Name", 15, "left"),
        Column("Transport", "Transport", 9, "left"),
        Column("ComputerName", "ComputerName", 15, "left"),
        Column("ComputerType", "ComputerType", 15, "left"),
        Column("State", "State", 13, "left"),
        Column("ConfigurationName", "ConfigurationName", 20, "left"),
        Column("Availability", "Availability", 13, "right"),
    ),
)
_FILE_HASH = View(
    "table",
    (
        Column("Algorithm", "Algorithm", 15, "left"),
        Column("Hash", "Hash", 70, "left"),
        Column("Path", "Path"),
    ),
)
_HISTORY = View("table", (Column("Id", "Id", 4, "right"), Column("CommandLine", "CommandLine")))
_PATH = View("table", (Column("Path", "Path"),))
_TEXT_MEASURE = View(
    "table",
    (
        Column("Lines", "Lines", 5, "right"),
        Column("Words", "Words", 5, "right"),
        Column("Characters", "Characters", 10, "right"),
        Column("Property", "Property"),
    ),
)

#: Windows PowerShell 5.1's default view of each type, by its type name (no prefix).
BUILTIN_VIEWS: dict[str, list[View]] = {
    "System.IO.FileInfo": [_FILE_TABLE, _FILE_LIST, _FILE_WIDE],
    "System.IO.DirectoryInfo": [_FILE_TABLE, _DIR_LIST, _FILE_WIDE],
    "System.Diagnostics.Process": [_PROCESS, _PROCESS_LIST],
    "System.ServiceProcess.ServiceController": [_SERVICE, _SERVICE_LIST],
    "System.Management.Automation.CmdletInfo": [_COMMAND],
    "System.Management.Automation.FunctionInfo": [_COMMAND],
    "System.Management.Automation.AliasInfo": [_COMMAND],
    "System.Management.Automation.ApplicationInfo": [_COMMAND],
    "System.Management.Automation.FilterInfo": [_COMMAND],
    "System.Management.Automation.ExternalScriptInfo": [_COMMAND],
    "System.Collections.Hashtable": [_HASHTABLE],
    "System.Collections.Specialized.OrderedDictionary": [_HASHTABLE],
    "System.Management.Automation.PSPrimitiveDictionary": [_HASHTABLE],
    "System.Collections.DictionaryEntry": [_HASHTABLE],
    "System.Version": [_VERSION],
    "Microsoft.PowerShell.Commands.GroupInfo": [_GROUP],
    "System.DateTime": [_DATETIME],
    "System.Management.Automation.ErrorRecord": [_ERROR],
    "Microsoft.PowerShell.Commands.MatchInfo": [_TOSTRING],
    "System.Management.Automation.Runspaces.PSSession": [_PSSESSION],
    "psremoting.PSSession": [_PSSESSION_7],
    "Microsoft.PowerShell.Commands.HistoryInfo": [_HISTORY],
    "System.Management.Automation.PathInfo": [_PATH],
    "Microsoft.PowerShell.Commands.TextMeasureInfo": [_TEXT_MEASURE],
    "Microsoft.Powershell.Utility.FileHash": [_FILE_HASH],
    "Microsoft.PowerShell.Commands.FileHashInfo": [_FILE_HASH],  # PowerShell 7's
}

#: DefaultDisplayPropertySet of types without a view (types.ps1xml).
DEFAULT_DISPLAY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "System.Management.ManagementObject#root\\cimv2\\Win32_OperatingSystem": (
        "SystemDirectory",
        "Organization",
        "BuildNumber",
        "RegisteredUser",
        "SerialNumber",
        "Version",
    ),
    "System.Management.ManagementObject#root\\cimv2\\Win32_Service": (
        "ExitCode",
        "Name",
        "ProcessId",
        "StartMode",
        "State",
        "Status",
    ),
    "System.Management.ManagementObject#root\\cimv2\\Win32_Process": (
        "ProcessName",
        "Handles",
        "VM",
        "WS",
    ),
}


def view_for(type_names: Sequence[str], kind: str | None = None) -> View | None:
    """The first view (of `kind`, when given) for the most derived type that has one; type names
    are matched with or without ``Deserialized.``."""
    for name in type_names:
        views = BUILTIN_VIEWS.get(name.removeprefix("Deserialized."))
        if not views:
            continue
        for view in views:
            if kind is None or view.kind == kind:
                return view
        if kind is None:
            return views[0]
    return None
