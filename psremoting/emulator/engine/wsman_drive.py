"""The ``WSMan:`` drive: the WinRM service's configuration as Get-Item shows it.

``Get-Item WSMan:\\localhost\\Service\\AllowUnencrypted`` answers a WSManConfigLeafElement with
the value the emulator really runs with, so a script (or pypsrp's JEA test) that reads the
service's settings sees what Windows gives: adapted Name/Value/Type/SourceOfValue, the
provider's PS* notes, and PowerShell's "Cannot find path" error for a setting that is not there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from psrpcore.types import ErrorCategory

from .builtins_system import adapted_object
from .commands import CommandContext

__all__ = ["is_wsman_path", "wsman_items", "wsman_settings"]

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


def wsman_items(ctx: CommandContext, path: str, settings: Mapping[str, Mapping[str, str]]) -> Iterator[Any]:
    """Get-Item on one ``WSMan:`` path: the setting's leaf element, or PathNotFound."""
    parts = [p for p in path.split(":", 1)[1].replace("/", "\\").split("\\") if p]
    if len(parts) == 3 and parts[0].lower() == "localhost":
        container = settings.get(parts[1].lower(), {})
        for name, value in container.items():
            if name.lower() == parts[2].lower():
                parent = f"{_PROVIDER}::localhost\\{parts[1].capitalize()}"
                yield adapted_object(
                    _LEAF_TYPES,
                    {"Value": value, "SourceOfValue": "", "Type": "System.String", "Name": name},
                    "Microsoft.WSMan.Management.WSManConfigLeafElement",
                    {
                        "PSPath": f"{parent}\\{name}",
                        "PSParentPath": parent,
                        "PSChildName": name,
                        "PSDrive": "WSMan",
                        "PSProvider": _PROVIDER,
                        "PSIsContainer": False,
                    },
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
