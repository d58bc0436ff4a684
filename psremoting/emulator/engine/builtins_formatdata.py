"""Get-FormatData: the server's view definitions, as Import-PSSession and the shell ask for them.

Windows answers ``Get-FormatData -TypeName <name>`` with ExtendedTypeDefinition objects (TypeName,
TypeNames, FormatViewDefinition: Name, Control). A table view's Control is a TableControl
(Headers: Label, Alignment, Width; Rows: Columns with a DisplayEntry of ValueType Property or
ScriptBlock, and its Value); a list view's a ListControl (Entries: Items with Label and
DisplayEntry). The emulator keeps Windows' default table views of the types it emits, and
`register_table_view` adds one (a test's type that only the server knows).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from typing import Any

from psrpcore.types import PSEnumBase, PSType

from psremoting.pslang.binder import CommandSignature, Parameter

from .commands import CommandContext, builtin
from .objects import make_object

__all__ = ["FORMAT_TABLES", "register_table_view"]

#: type name -> (view name, [(label, width, alignment, property)]), as the format.ps1xml files say.
FORMAT_TABLES: dict[str, tuple[str, list[tuple[str, int, str, str]]]] = {
    "System.ServiceProcess.ServiceController": (
        "service",
        [
            ("Status", 8, "Left", "Status"),
            ("Name", 18, "Left", "Name"),
            ("DisplayName", 38, "Left", "DisplayName"),
        ],
    ),
    "System.Diagnostics.Process": (
        "process",
        [
            ("Handles", 7, "Right", "HandleCount"),
            ("NPM(K)", 7, "Right", "NPM"),
            ("PM(K)", 8, "Right", "PM"),
            ("WS(K)", 10, "Right", "WS"),
            ("CPU(s)", 10, "Right", "CPU"),
            ("Id", 6, "Right", "Id"),
            ("SI", 3, "Right", "SessionId"),
            ("ProcessName", 0, "Undefined", "ProcessName"),
        ],
    ),
}


def register_table_view(type_name: str, columns: Sequence[tuple[str, int, str, str]], name: str = "") -> None:
    """Let the emulator's Get-FormatData answer for `type_name` with a table view of
    `columns` ((label, width, alignment Left/Right/Center/Undefined, property) each)."""
    FORMAT_TABLES[type_name] = (name or type_name, list(columns))


@PSType(["System.Management.Automation.Alignment"])
class Alignment(PSEnumBase):
    Undefined = 0
    Left = 1
    Center = 2
    Right = 3


@PSType(["System.Management.Automation.DisplayEntryValueType"])
class DisplayEntryValueType(PSEnumBase):
    Property = 0
    ScriptBlock = 1


def _sma(name: str) -> list[str]:
    return [f"System.Management.Automation.{name}", "System.Object"]


def _table_control(columns: list[tuple[str, int, str, str]]) -> Any:
    headers = [
        make_object(
            _sma("TableControlColumnHeader"),
            {"Label": label, "Alignment": Alignment[align], "Width": width},
            "System.Management.Automation.TableControlColumnHeader",
        )
        for label, width, align, _ in columns
    ]
    cells = [
        make_object(
            _sma("TableControlColumn"),
            {
                "Alignment": Alignment.Undefined,
                "DisplayEntry": make_object(
                    _sma("DisplayEntry"),
                    {"ValueType": DisplayEntryValueType.Property, "Value": prop},
                    f"PROPERTY: {prop}",
                ),
                "FormatString": None,
            },
            f"PROPERTY: {prop}",
        )
        for _, _, _, prop in columns
    ]
    row = make_object(
        _sma("TableControlRow"),
        {"Columns": cells, "Wrap": False, "SelectedBy": None},
        "System.Management.Automation.TableControlRow",
    )
    return make_object(
        [
            "System.Management.Automation.TableControl",
            "System.Management.Automation.PSControl",
            "System.Object",
        ],
        {
            "Headers": headers,
            "Rows": [row],
            "AutoSize": False,
            "HideTableHeaders": False,
            "GroupBy": None,
            "OutOfBand": False,
        },
        "System.Management.Automation.TableControl",
    )


def type_definition(type_name: str) -> Any:
    """The ExtendedTypeDefinition of a type the emulator has a view for."""
    view_name, columns = FORMAT_TABLES[type_name]
    view = make_object(
        _sma("FormatViewDefinition"),
        {"Name": view_name, "Control": _table_control(columns), "InstanceId": None},
        view_name,
    )
    return make_object(
        _sma("ExtendedTypeDefinition"),
        {"TypeName": type_name, "TypeNames": [type_name], "FormatViewDefinition": [view]},
        type_name,
    )


@builtin(
    CommandSignature(
        "Get-FormatData",
        (
            Parameter("TypeName", "string[]", position=0),
            Parameter("PowerShellVersion", "version"),
        ),
    )
)
def _get_format_data(ctx: CommandContext) -> Iterable[Any]:
    wanted = ctx.get("TypeName") or ["*"]
    patterns = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
    return [
        type_definition(name)
        for name in sorted(FORMAT_TABLES)
        if any(fnmatch.fnmatch(name.lower(), p.lower()) for p in patterns)
    ]
