"""The ``WSMan:`` drive: the WinRM service's configuration as Get-Item shows it.

``Get-Item WSMan:\\localhost\\Service\\AllowUnencrypted`` answers a WSManConfigLeafElement with
the value the emulator really runs with, so a script (or pypsrp's JEA test) that reads the
service's settings sees what Windows gives: adapted Name/Value/Type/SourceOfValue, the
provider's PS* notes, and PowerShell's "Cannot find path" error for a setting that is not there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from psrpcore.types import ErrorCategory, PSObject

from psremoting.pslang.values import get_member, to_string

from .builtins_system import adapted_object
from .commands import CommandContext
from .formatting import format_scalar, register_renderer
from .wrapped import WrappedItem

__all__ = ["is_wsman_path", "leaf_table", "wsman_items", "wsman_settings"]

_PROVIDER = "Microsoft.WSMan.Management\\WSMan"
_LEAF_TYPES = [
    "Microsoft.WSMan.Management.WSManConfigLeafElement",
    "Microsoft.WSMan.Management.WSManConfigElement",
    "System.Object",
]


def wsman_settings(allow_unencrypted: bool) -> dict[str, dict[str, str]]:
    """The containers of ``WSMan:\\localhost`` and their settings (Windows Server defaults)."""
    return {
        "service": {
            "RootSDDL": "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)",
            "MaxConcurrentOperations": "4294967295",
            "MaxConcurrentOperationsPerUser": "1500",
            "EnumerationTimeoutms": "240000",
            "MaxConnections": "300",
            "MaxPacketRetrievalTimeSeconds": "120",
            "AllowUnencrypted": "true" if allow_unencrypted else "false",
            "IPv4Filter": "*",
            "IPv6Filter": "*",
            "EnableCompatibilityHttpListener": "false",
            "EnableCompatibilityHttpsListener": "false",
            "CertificateThumbprint": "",
            "AllowRemoteAccess": "true",
        },
        "shell": {
            "AllowRemoteShellAccess": "true",
            "IdleTimeout": "7200000",
            "MaxConcurrentUsers": "2147483647",
            "MaxShellRunTime": "2147483647",
            "MaxProcessesPerShell": "2147483647",
            "MaxMemoryPerShellMB": "2147483647",
            "MaxShellsPerUser": "2147483647",
        },
    }


def is_wsman_path(path: str) -> bool:
    return path.lower().startswith("wsman:")


def _drive_and_provider() -> tuple[PSObject, PSObject]:
    """The WSMan PSDriveInfo and its ProviderInfo, as a Windows host serializes them."""
    drive = adapted_object(
        ["System.Management.Automation.PSDriveInfo", "System.Object"],
        {
            "CurrentLocation": "",
            "Name": "WSMan",
            "Provider": _PROVIDER,
            "Root": "",
            "Description": "Root of WsMan Config Storage.",
            "MaximumSize": None,
            "Credential": adapted_object(
                ["System.Management.Automation.PSCredential", "System.Object"],
                {"UserName": None, "Password": None},
                "System.Management.Automation.PSCredential",
            ),
            "DisplayRoot": None,
        },
        "WSMan",
    )
    provider = adapted_object(
        ["System.Management.Automation.ProviderInfo", "System.Object"],
        {
            "ImplementingType": "Microsoft.WSMan.Management.WSManConfigProvider",
            "HelpFile": "Microsoft.WSMan.Management.dll-Help.xml",
            "Name": "WSMan",
            "PSSnapIn": "Microsoft.WSMan.Management",
            "ModuleName": "Microsoft.WSMan.Management",
            "Module": None,
            "Description": "",
            "Capabilities": "Credentials",
            "Home": "",
            "Drives": [drive],
        },
        _PROVIDER,
    )
    return drive, provider


def wsman_items(ctx: CommandContext, path: str, settings: Mapping[str, Mapping[str, str]]) -> Iterator[Any]:
    """Get-Item on one ``WSMan:`` path: the setting's leaf element, or PathNotFound.

    The element is the provider's PSObject wrapped by WriteItemObject (`WrappedItem`), with
    Windows' adapted properties in Windows' order."""
    parts = [p for p in path.split(":", 1)[1].replace("/", "\\").split("\\") if p]
    if len(parts) == 3 and parts[0].lower() == "localhost":
        container = settings.get(parts[1].lower(), {})
        for name, value in container.items():
            if name.lower() == parts[2].lower():
                parent = f"{_PROVIDER}::localhost\\{parts[1].capitalize()}"
                drive, provider = _drive_and_provider()
                yield adapted_object(
                    _LEAF_TYPES,
                    {
                        "SourceOfValue": None,
                        "Value": value,
                        "Name": name,
                        "TypeNameOfElement": "System.String",
                        "Type": "System.String",
                    },
                    "Microsoft.WSMan.Management.WSManConfigLeafElement",
                    {
                        "PSPath": f"{parent}\\{name}",
                        "PSParentPath": parent,
                        "PSChildName": name,
                        "PSDrive": drive,
                        "PSProvider": provider,
                        "PSIsContainer": False,
                    },
                    cls=WrappedItem,
                )
                return
    ctx.write_error(
        ctx.error(
            f"Cannot find path '{path}' because it does not exist.",
            "System.Management.Automation.ItemNotFoundException",
            ErrorCategory.ObjectNotFound,
            "PathNotFound",
            path,
        )
    )


def _cell(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 3] + "...").ljust(width)


def leaf_table(items: list[Any]) -> list[str]:
    """WSManConfigLeafElement's table view (WSMan.format.ps1xml): grouped by PSParentPath under
    a ``WSManConfig:`` header; Type (15), Name (30), SourceOfValue (15), Value."""
    lines: list[str] = []
    parent: str | None = None
    for item in items:
        where = to_string(get_member(item, "PSParentPath", ""))
        if where != parent:
            parent = where
            lines += ["", "", f"   WSManConfig: {where}", ""]
            lines.append(f"{_cell('Type', 15)} {_cell('Name', 30)} {_cell('SourceOfValue', 15)} Value")
            lines.append(f"{_cell('----', 15)} {_cell('----', 30)} {_cell('-------------', 15)} -----")
        cells = [
            format_scalar(get_member(item, p, None)) for p in ("TypeNameOfElement", "Name", "SourceOfValue")
        ]
        value = format_scalar(get_member(item, "Value", None))
        lines.append(f"{_cell(cells[0], 15)} {_cell(cells[1], 30)} {_cell(cells[2], 15)} {value}".rstrip())
    return [*lines, "", ""]


register_renderer(_LEAF_TYPES[0], leaf_table)
