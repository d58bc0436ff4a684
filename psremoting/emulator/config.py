"""The emulated host's declaration: session configurations, users and synthetic data.

The same settings come from a TOML file (``psremoting emulator --config FILE``,
:func:`load_config`) or as keyword arguments of :class:`~psremoting.emulator.Emulator`
(``configurations=``, ``services=``), so a user's CI can model its own servers::

    [users]
    admin = "Secret123"                     # or PSREMOTING_PASSWORD / --user

    [[configurations]]                      # beside Microsoft.PowerShell and PowerShell.7
    name = "JEARole"
    visible_cmdlets = ["Get-Item", "Get-Command"]
    run_as_virtual_account = true

    [[services]]
    Name = "W3SVC"
    DisplayName = "World Wide Web Publishing Service"
    Status = "Stopped"

A JEA configuration (``visible_cmdlets`` given) runs in NoLanguage-like restriction: only
the listed commands (and what every JEA endpoint has: Get-Command, Get-FormatData,
Select-Object, Measure-Object, Out-Default, Exit-PSSession, Get-Help) exist there; any other
command is "not recognized" as on Windows, and Get-Command lists the allowed ones. With
``run_as_virtual_account`` the session's user is the WinRM virtual account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

__all__ = [
    "DEFAULT_CONFIGURATIONS",
    "DEFAULT_SERVICES",
    "JEA_DEFAULT_COMMANDS",
    "SessionConfiguration",
    "load_config",
    "session_configurations",
]

#: The commands every JEA session has, whatever the role allows (Windows' restricted set).
JEA_DEFAULT_COMMANDS = (
    "Clear-Host",
    "Exit-PSSession",
    "Get-Command",
    "Get-FormatData",
    "Get-Help",
    "Measure-Object",
    "Out-Default",
    "Select-Object",
)

#: Services every emulated host has unless the config says otherwise.
DEFAULT_SERVICES: tuple[dict[str, Any], ...] = (
    {"Name": "WinRM", "DisplayName": "Windows Remote Management (WS-Management)", "Status": "Running"},
    {"Name": "W32Time", "DisplayName": "Windows Time", "Status": "Running", "StartType": "Manual"},
    {"Name": "Spooler", "DisplayName": "Print Spooler", "Status": "Running"},
    {"Name": "W3SVC", "DisplayName": "World Wide Web Publishing Service", "Status": "Running"},
)


@dataclass(frozen=True)
class SessionConfiguration:
    """One endpoint of ``http://schemas.microsoft.com/powershell/<name>``."""

    name: str
    #: ``"5.1"`` (Windows PowerShell) or ``"7"`` (PowerShell 7.4).
    ps_version: str = "5.1"
    #: The commands a JEA role allows; None: a full-language endpoint.
    visible_cmdlets: tuple[str, ...] | None = None
    run_as_virtual_account: bool = False

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments of the engine of a session on this endpoint."""
        options: dict[str, Any] = {"version": self.ps_version}
        if self.visible_cmdlets is not None:
            options["allowed_commands"] = (*self.visible_cmdlets, *JEA_DEFAULT_COMMANDS)
        if self.run_as_virtual_account:
            options["virtual_account"] = True
        return options


DEFAULT_CONFIGURATIONS = (
    SessionConfiguration("Microsoft.PowerShell"),
    SessionConfiguration("Microsoft.PowerShell32"),
    SessionConfiguration("PowerShell.7", ps_version="7"),
)


def _configuration(value: SessionConfiguration | Mapping[str, Any]) -> SessionConfiguration:
    if isinstance(value, SessionConfiguration):
        return value
    unknown = set(value) - {"name", "ps_version", "visible_cmdlets", "run_as_virtual_account"}
    if unknown:
        raise ValueError(f"unknown session configuration setting(s): {', '.join(sorted(unknown))}")
    if not value.get("name"):
        raise ValueError("a session configuration needs a name")
    version = str(value.get("ps_version", "5.1"))
    if version not in ("5.1", "7", "7.4"):
        raise ValueError(f"ps_version must be 5.1 or 7.4, not {version!r}")
    cmdlets = value.get("visible_cmdlets")
    return SessionConfiguration(
        name=str(value["name"]),
        ps_version="7" if version.startswith("7") else "5.1",
        visible_cmdlets=tuple(str(c) for c in cmdlets) if cmdlets is not None else None,
        run_as_virtual_account=bool(value.get("run_as_virtual_account", False)),
    )


def session_configurations(
    extra: Iterable[SessionConfiguration | Mapping[str, Any]] = (),
    default_version: str = "5.1",
) -> dict[str, SessionConfiguration]:
    """The endpoints by lower-case name: the defaults (Microsoft.PowerShell running
    `default_version`), then `extra` (which may replace one)."""
    found = {c.name.lower(): c for c in DEFAULT_CONFIGURATIONS}
    if default_version != "5.1":
        for key in ("microsoft.powershell", "microsoft.powershell32"):
            found[key] = SessionConfiguration(found[key].name, ps_version=default_version)
    for value in extra:
        configuration = _configuration(value)
        found[configuration.name.lower()] = configuration
    return found


def load_config(path: str | Path) -> dict[str, Any]:
    """`Emulator` keyword arguments from a TOML file (see the module docstring)."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    unknown = set(data) - {"users", "configurations", "services", "computer_name"}
    if unknown:
        raise ValueError(f"{path}: unknown section(s): {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    if "users" in data:
        kwargs["users"] = {str(k): str(v) for k, v in dict(data["users"]).items()}
    if "computer_name" in data:
        kwargs["computer_name"] = str(data["computer_name"])
    if "configurations" in data:
        kwargs["configurations"] = [_configuration(c) for c in data["configurations"]]
    if "services" in data:
        services = [dict(s) for s in data["services"]]
        for service in services:
            if "Name" not in service:
                raise ValueError(f"{path}: a service needs a Name")
        kwargs["services"] = services
    return kwargs
