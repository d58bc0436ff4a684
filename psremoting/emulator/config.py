r"""The emulated host's declaration: session configurations, users and synthetic data.

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

    [[processes]]                           # Get-Process (replaces the default list)
    Name = "w3wp"
    Id = 4242
    WS = 52428800                           # bytes; also Handles, PM, NPM, VM, CPU, SI, Path

    [registry.'HKLM:\SOFTWARE\Contoso']     # Get-ItemProperty (beside the default keys)
    Version = "1.2"

    [[events]]                              # Get-EventLog (newest first, before the defaults)
    LogName = "Application"
    Source = "Contoso"
    EventID = 100
    EntryType = "Warning"
    Message = "Disk almost full."

    [environment]                           # machine environment variables ($env:)
    ChocolateyInstall = 'C:\ProgramData\chocolatey'

A JEA configuration (``visible_cmdlets`` given) runs in NoLanguage-like restriction: only
the listed commands (and what every JEA endpoint has: Get-Command, Get-FormatData,
Select-Object, Measure-Object, Out-Default, Exit-PSSession, Get-Help) exist there; any other
command is "not recognized" as on Windows, and Get-Command lists the allowed ones.
``format_data = false`` takes Get-FormatData away too: a client then formats with its
built-in views. With
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
    "DEFAULT_PROCESSES",
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


def _process(name: str, pid: int, handles: int, ws_k: int, cpu: float, si: int = 0) -> dict[str, Any]:
    return {"Name": name, "Id": pid, "Handles": handles, "WS": ws_k * 1024,
            "PM": ws_k * 512, "NPM": 12 * 1024 + handles * 8, "CPU": cpu, "SI": si}  # fmt: skip


#: The processes of a Windows Server Core host (no explorer) serving a remote session.
DEFAULT_PROCESSES: tuple[dict[str, Any], ...] = (
    {"Name": "Idle", "Id": 0, "Handles": 0, "WS": 8192, "PM": 61440, "NPM": 0, "CPU": None},
    _process("System", 4, 1734, 140, 92.5),
    _process("Registry", 88, 0, 31204, 1.2),
    _process("smss", 296, 53, 1208, 0.08),
    _process("csrss", 404, 412, 4980, 1.45),
    _process("wininit", 480, 163, 6496, 0.11),
    _process("csrss", 488, 150, 4340, 0.3, si=1),
    _process("winlogon", 548, 247, 10260, 0.2, si=1),
    _process("services", 624, 563, 9376, 6.72),
    _process("lsass", 636, 1190, 18792, 4.98),
    _process("svchost", 756, 834, 22472, 3.42),
    _process("svchost", 784, 712, 13604, 2.05),
    _process("svchost", 868, 1423, 56808, 12.67),
    _process("svchost", 920, 412, 11620, 0.89),
    _process("svchost", 1012, 291, 8764, 0.52),
    _process("svchost", 1144, 533, 19124, 1.73),
    _process("spoolsv", 1736, 402, 15452, 0.38),
    _process("svchost", 1896, 198, 7312, 0.16),
    _process("WmiPrvSE", 2312, 285, 17860, 0.84),
    _process("LogonUI", 2560, 482, 39080, 0.47, si=1),
    _process("dwm", 2596, 254, 29188, 0.61, si=1),
    _process("svchost", 2644, 380, 16640, 1.09),
    _process("wsmprovhost", 3488, 592, 68420, 0.94),
    _process("conhost", 3512, 112, 10688, 0.03),
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
    #: False: the role lacks Get-FormatData too (an endpoint that refuses to describe its
    #: views, as a restricted endpoint whose startup script removed it does); JEA only.
    format_data: bool = True

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments of the engine of a session on this endpoint."""
        options: dict[str, Any] = {"version": self.ps_version}
        if self.visible_cmdlets is not None:
            defaults = [c for c in JEA_DEFAULT_COMMANDS if self.format_data or c != "Get-FormatData"]
            options["allowed_commands"] = (*self.visible_cmdlets, *defaults)
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
    unknown = set(value) - {"name", "ps_version", "visible_cmdlets", "run_as_virtual_account", "format_data"}
    if unknown:
        raise ValueError(f"unknown session configuration setting(s): {', '.join(sorted(unknown))}")
    if not value.get("name"):
        raise ValueError("a session configuration needs a name")
    version = str(value.get("ps_version", "5.1"))
    if version not in ("5.1", "7", "7.4"):
        raise ValueError(f"ps_version must be 5.1 or 7.4, not {version!r}")
    cmdlets = value.get("visible_cmdlets")
    format_data = bool(value.get("format_data", True))
    if not format_data and cmdlets is None:
        raise ValueError("format_data = false is a JEA setting: give visible_cmdlets too")
    return SessionConfiguration(
        name=str(value["name"]),
        ps_version="7" if version.startswith("7") else "5.1",
        visible_cmdlets=tuple(str(c) for c in cmdlets) if cmdlets is not None else None,
        run_as_virtual_account=bool(value.get("run_as_virtual_account", False)),
        format_data=format_data,
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
    unknown = set(data) - {
        "users",
        "configurations",
        "services",
        "processes",
        "registry",
        "events",
        "environment",
        "computer_name",
    }
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
    if "processes" in data:
        processes = [dict(p) for p in data["processes"]]
        for number, process in enumerate(processes):
            if "Name" not in process or "Id" not in process:
                raise ValueError(f"{path}: process {number + 1} needs a Name and an Id")
        kwargs["processes"] = processes
    if "environment" in data:
        kwargs["environment"] = {str(k): str(v) for k, v in dict(data["environment"]).items()}
    if "registry" in data:
        kwargs["registry"] = {str(k): dict(v) for k, v in dict(data["registry"]).items()}
    if "events" in data:
        events = [dict(e) for e in data["events"]]
        for number, event in enumerate(events):
            if "LogName" not in event or "Message" not in event:
                raise ValueError(f"{path}: event {number + 1} needs a LogName and a Message")
        kwargs["events"] = events
    return kwargs
