"""Built-ins over the emulated host's registry, network and event log: Get-ItemProperty on
``HKLM:``, Test-Connection and Get-EventLog.

The registry holds the keys an admin reads first (``HKLM:\\SOFTWARE\\Microsoft\\Windows
NT\\CurrentVersion``: ProductName, CurrentBuild, ReleaseId, UBR...), as a Windows Server 2019
host has them; Get-ItemProperty gives a PSCustomObject with the values and the provider's
PSPath/PSParentPath/PSChildName/PSDrive/PSProvider. Test-Connection writes Win32_PingStatus
objects (5.1) for the names this host resolves (itself, localhost, IPv4 literals); Get-EventLog
writes EventLogEntry objects of a System and an Application log, newest first.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import PSCustom, enumerate_value, to_string

from .builtins_system import adapted_object
from .commands import CommandContext, builtin
from .errors import PSError
from .formatting import format_scalar, register_renderer
from .objects import file_item, local_datetime, make_object

__all__ = ["REGISTRY", "event_log"]

_REGISTRY_PROVIDER = "Microsoft.PowerShell.Core\\Registry"
_HIVES = {"hklm": "HKEY_LOCAL_MACHINE", "hkcu": "HKEY_CURRENT_USER"}

#: Registry keys (full path, lower-case) -> their values, in Windows' order.
REGISTRY: dict[str, dict[str, Any]] = {
    "hkey_local_machine\\software\\microsoft\\windows nt\\currentversion": {
        "SystemRoot": "C:\\Windows", "BaseBuildRevisionNumber": 1, "BuildBranch": "rs5_release",
        "BuildGUID": "ffffffff-ffff-ffff-ffff-ffffffffffff", "BuildLab": "17763.rs5_release.180914-1434",
        "BuildLabEx": "17763.1.amd64fre.rs5_release.180914-1434", "CompositionEditionID": "ServerDatacenter",
        "CurrentBuild": "17763", "CurrentBuildNumber": "17763", "CurrentMajorVersionNumber": 10,
        "CurrentMinorVersionNumber": 0, "CurrentType": "Multiprocessor Free", "CurrentVersion": "6.3",
        "EditionID": "ServerDatacenter", "EditionSubManufacturer": "", "EditionSubstring": "",
        "EditionSubVersion": "", "InstallationType": "Server Core", "InstallDate": 1710408413,
        "ProductName": "Windows Server 2019 Datacenter", "ReleaseId": "1809", "SoftwareType": "System",
        "UBR": 5830, "PathName": "C:\\Windows", "ProductId": "00430-00000-00000-AA823",
        "RegisteredOrganization": "", "RegisteredOwner": "Windows User", "InstallTime": 133548820130000000,
    },
    "hkey_local_machine\\software\\microsoft\\powershell\\3\\powershellengine": {
        "ApplicationBase": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0", "ConsoleHostAssemblyName":
        "Microsoft.PowerShell.ConsoleHost, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35, "
        "ProcessorArchitecture=msil", "PowerShellVersion": "5.1.17763.1", "RuntimeVersion": "v4.0.30319",
        "PSCompatibleVersion": "1.0, 2.0, 3.0, 4.0, 5.0, 5.1",
    },
    "hkey_local_machine\\system\\currentcontrolset\\control\\computername\\computername": {},
    "hkey_local_machine\\software\\microsoft\\windows\\currentversion": {
        "ProgramFilesDir": "C:\\Program Files", "CommonFilesDir": "C:\\Program Files\\Common Files",
        "ProgramFilesDir (x86)": "C:\\Program Files (x86)", "ProgramW6432Dir": "C:\\Program Files",
        "SM_GamesName": "Games", "SM_ConfigureProgramsName": "Set Program Access and Defaults",
        "MediaPathUnexpanded": "%SystemRoot%\\Media", "ProgramFilesPath": "%ProgramFiles%",
        "CommonW6432Dir": "C:\\Program Files\\Common Files",
    },
}  # fmt: skip

_PROPERTY_ORDER_CASE = {k: {n.lower(): n for n in v} for k, v in REGISTRY.items()}


def _registry_key(path: str) -> tuple[str, str] | None:
    """(full key as Windows names it, display drive) for a registry path; None if not one."""
    text = path.strip().rstrip("\\")
    lower = text.lower()
    for prefix in ("microsoft.powershell.core\\registry::", "registry::"):
        if lower.startswith(prefix):
            text = text[len(prefix) :]
            lower = text.lower()
            break
    else:
        drive, colon, rest = text.partition(":")
        if not colon or drive.lower() not in _HIVES:
            return None
        return _HIVES[drive.lower()] + (
            rest if rest.startswith("\\") or not rest else "\\" + rest
        ), drive.upper()
    hive = lower.split("\\", 1)[0]
    short = {v.lower(): k for k, v in _HIVES.items()}.get(hive)
    if short is None:
        return None
    return _HIVES[short] + text[len(hive) :], short.upper()


def _declared_keys(ctx: CommandContext) -> dict[str, dict[str, Any]]:
    """The emulator config's ``registry`` keys by full lower-case name."""
    found: dict[str, dict[str, Any]] = {}
    for path, values in (getattr(ctx.engine, "registry", None) or {}).items():
        resolved = _registry_key(str(path))
        if resolved is not None:
            found[resolved[0].lower()] = dict(values)
    return found


def _key_name(full: str) -> str:
    """The key's name as Windows spells it (keys are matched case-insensitively)."""
    spelled = {
        "hkey_local_machine\\software\\microsoft\\windows nt\\currentversion":
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
        "hkey_local_machine\\software\\microsoft\\powershell\\3\\powershellengine":
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\PowerShell\\3\\PowerShellEngine",
        "hkey_local_machine\\software\\microsoft\\windows\\currentversion":
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion",
    }  # fmt: skip
    return spelled.get(full.lower(), full)


def _not_found(ctx: CommandContext, path: str) -> PSError:
    return PSError(
        ctx.error(
            f"Cannot find path '{path}' because it does not exist.",
            "System.Management.Automation.ItemNotFoundException",
            ErrorCategory.ObjectNotFound,
            "PathNotFound",
            path,
        )
    )


def _item_property(ctx: CommandContext, path: str, names: list[str] | None) -> Any:
    resolved = _registry_key(path)
    if resolved is None:
        raise _not_found(ctx, path)
    full, drive = resolved
    values = _declared_keys(ctx).get(full.lower(), REGISTRY.get(full.lower()))
    if full.lower().endswith("control\\computername\\computername") and values is not None:
        values = {"ComputerName": ctx.engine.computer_name.upper()}
    if values is None:
        raise _not_found(ctx, path)
    name = _key_name(full)
    chosen: dict[str, Any] = {}
    for wanted in names or ["*"]:
        matched = [k for k in values if _like(k, wanted)]
        if not matched and not any(c in wanted for c in "*?"):
            ctx.write_error(
                ctx.error(
                    f"Property {wanted} does not exist at path {name}.",
                    "System.Management.Automation.PSArgumentException",
                    ErrorCategory.InvalidArgument,
                    "System.Management.Automation.PSArgumentException",
                    wanted,
                )
            )
        chosen.update((k, values[k]) for k in matched)
    if not chosen:
        return None
    parent, _, child = name.rpartition("\\")
    return PSCustom(
        {
            **chosen,
            "PSPath": f"{_REGISTRY_PROVIDER}::{name}",
            "PSParentPath": f"{_REGISTRY_PROVIDER}::{parent}",
            "PSChildName": child,
            "PSDrive": drive,
            "PSProvider": _REGISTRY_PROVIDER,
        }
    )


def _like(name: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


@builtin(
    CommandSignature(
        "Get-ItemProperty",
        (
            Parameter("Path", "string[]", position=0, value_from_pipeline_by_property_name=True),
            Parameter("Name", "string[]", position=1),
            Parameter("LiteralPath", "string[]", ("PSPath",)),
        ),
    ),
    aliases=("gp",),
)
def _get_item_property(ctx: CommandContext) -> Iterable[Any]:
    paths = [to_string(p) for p in enumerate_value(ctx.get("Path") or ctx.get("LiteralPath") or ["."])]
    names = [to_string(n) for n in enumerate_value(ctx.get("Name"))] if ctx.get("Name") is not None else None
    out: list[Any] = []
    for path in paths:
        if _registry_key(path) is None and names is None:
            # A file or folder: Get-ItemProperty gives its FileInfo/DirectoryInfo, as Get-Item.
            from .builtins_fs import resolve_paths

            try:
                found = resolve_paths(ctx, path, literal=ctx.get("LiteralPath") is not None)
            except PSError as error:
                ctx.write_error(error.record)
                continue
            out.extend(file_item(host, "C:\\" if win in ("C:", "C:\\") else win) for win, host in found)
            continue
        try:
            item = _item_property(ctx, path, names)
        except PSError as error:
            ctx.write_error(error.record)
            continue
        if item is not None:
            out.append(item)
    return out


_PING_TYPE = "System.Management.ManagementObject#root\\cimv2\\Win32_PingStatus"


def _address(ctx: CommandContext, name: str) -> tuple[str, str] | None:
    """(IPv4, IPv6) this host resolves ``name`` to; None if no such host is known."""
    lower = name.lower()
    if lower in ("localhost", ".", ctx.engine.computer_name.lower()):
        return ("127.0.0.1", "::1")
    try:
        return (str(ipaddress.IPv4Address(name)), "")
    except ValueError:
        return None


@builtin(
    CommandSignature(
        "Test-Connection",
        (
            Parameter(
                "ComputerName",
                "string[]",
                ("CN", "IPAddress", "__SERVER", "Server", "Destination"),
                position=0,
                mandatory=True,
                value_from_pipeline_by_property_name=True,
            ),
            Parameter("Count", "int"),
            Parameter("Quiet", "switch"),
            Parameter("BufferSize", "int", ("Size", "Bytes", "BS")),
            Parameter("Source", "string[]"),
            Parameter("Delay", "int"),
        ),
    )  # fmt: skip
)
def _test_connection(ctx: CommandContext) -> Iterable[Any]:
    count = int(ctx.get("Count") or 4)
    size = int(ctx.get("BufferSize") or 32)
    source = ctx.engine.computer_name.upper()
    out: list[Any] = []
    for name in (to_string(n) for n in enumerate_value(ctx.get("ComputerName"))):
        address = _address(ctx, name)
        if ctx.switch("Quiet"):
            out.append(address is not None)
            continue
        if address is None:
            ctx.write_error(
                ctx.error(
                    f"Testing connection to computer '{name}' failed: No such host is known",
                    "System.Net.NetworkInformation.PingException",
                    ErrorCategory.ResourceUnavailable,
                    "TestConnectionException",
                    name,
                )
            )
            continue
        for _ in range(count):
            relative = f'Win32_PingStatus.Address="{name}",BufferSize={size},NoFragmentation=false,' \
                "RecordRoute=0,ResolveAddressNames=false,SourceRoute=\"\",SourceRouteType=0,Timeout=4000," \
                "TimestampRoute=0,TimeToLive=80,TypeofService=0"  # fmt: skip
            out.append(
                make_object(
                    [_PING_TYPE, "System.Management.ManagementObject#root\\cimv2\\__ExtendedStatus",
                     "System.Management.ManagementObject", "System.Management.ManagementBaseObject",
                     "System.ComponentModel.Component", "System.MarshalByRefObject", "System.Object"],
                    {"__GENUS": 2, "__CLASS": "Win32_PingStatus", "__SERVER": source, "__RELPATH": relative,
                     "Address": name, "BufferSize": size, "IPV4Address": address[0], "IPV6Address": address[1],
                     "ProtocolAddress": address[0], "ReplySize": size, "ResponseTime": 0, "ResponseTimeToLive": 128,
                     "StatusCode": 0, "PrimaryAddressResolutionStatus": 0, "TimeToLive": 80, "Timeout": 4000,
                     "PSComputerName": source},
                    f"\\\\{source}\\root\\cimv2:{relative}",
                )
            )  # fmt: skip
    return out


def _ping_table(replies: list[Any]) -> list[str]:
    """Win32_PingStatus's table view: Source, Destination, IPV4Address, IPV6Address, Bytes, Time(ms)."""
    lines = ["", "Source        Destination     IPV4Address      IPV6Address                              Bytes    Time(ms)",
             "------        -----------     -----------      -----------                              -----    --------"]  # fmt: skip
    for r in replies:
        lines.append(
            f"{to_string(r.__SERVER):<13} {to_string(r.Address):<15} {to_string(r.IPV4Address):<16} "
            f"{to_string(r.IPV6Address):<40} {r.ReplySize:<8} {r.ResponseTime:<8}".rstrip()
        )
    return [*lines, "", ""]


register_renderer(_PING_TYPE, _ping_table)

_SYSTEM_EVENTS = (
    ("Service Control Manager", 7036, 1073748860, "Information",
     "The Windows Modules Installer service entered the running state."),
    ("Service Control Manager", 7040, 1073748864, "Information",
     "The start type of the Background Intelligent Transfer Service service was changed from auto start to demand start."),
    ("Microsoft-Windows-Time-Service", 37, 37, "Information",
     "The time provider NtpClient is currently receiving valid time data from time.windows.com,0x8."),
    ("Service Control Manager", 7036, 1073748860, "Information",
     "The Windows Remote Management (WS-Management) service entered the running state."),
    ("EventLog", 6013, 2147489661, "Information", "The system uptime is 273147 seconds."),
    ("Microsoft-Windows-Kernel-General", 1, 1, "Information",
     "The system time has changed to 2026-12-03T07:00:00.000000000Z from 2026-12-03T07:00:00.500000000Z."),
    ("Service Control Manager", 7036, 1073748860, "Information",
     "The Windows Modules Installer service entered the stopped state."),
    ("Microsoft-Windows-WindowsUpdateClient", 19, 19, "Information",
     "Installation Successful: Windows successfully installed the following update: Security Intelligence Update."),
    ("Schannel", 36887, 36887, "Error",
     "A fatal alert was received from the remote endpoint. The TLS protocol defined fatal alert code is 46."),
    ("Service Control Manager", 7031, 3221232503, "Error",
     "The Windows Update service terminated unexpectedly.  It has done this 1 time(s)."),
    ("Microsoft-Windows-Kernel-Power", 109, 109, "Information", "The kernel power manager has initiated a shutdown transition."),
    ("EventLog", 6005, 2147489653, "Information", "The Event log service was started."),
    ("Microsoft-Windows-Kernel-General", 12, 12, "Information",
     "The operating system started at system time 2026-11-30T03:03:29.500000000Z."),
)  # fmt: skip
_APPLICATION_EVENTS = (
    ("Microsoft-Windows-Security-SPP", 16384, 1073758208, "Information",
     "Successfully scheduled Software Protection service for re-start."),
    ("Windows Error Reporting", 1001, 1001, "Information", "Fault bucket , type 0\r\nEvent Name: ..."),
    ("MsiInstaller", 1040, 1040, "Information", "Beginning a Windows Installer transaction."),
    ("Microsoft-Windows-RestartManager", 10000, 10000, "Information", "Starting session 0."),
)  # fmt: skip
_LOGS = {
    "system": ("System", _SYSTEM_EVENTS, 48211),
    "application": ("Application", _APPLICATION_EVENTS, 9120),
}


def event_log(
    name: str, computer: str, now: dt.datetime | None = None, extra: Iterable[Mapping[str, Any]] = ()
) -> list[Any] | None:
    """The entries of log ``name``, newest first (``extra``, the declared ones, before the
    defaults); None for a log this host lacks."""
    found = _LOGS.get(name.lower())
    if found is None:
        return None
    log, events, top = found
    now = (now or dt.datetime.now()).replace(microsecond=0)
    declared = [
        (str(e.get("Source", "Application")), int(e.get("EventID", 0)), int(e.get("InstanceId", e.get("EventID", 0))),
         str(e.get("EntryType", "Information")), str(e["Message"]))
        for e in extra if str(e.get("LogName", "")).lower() == log.lower()
    ]  # fmt: skip
    top += len(declared)
    entries = []
    for number, (source, event_id, instance, kind, message) in enumerate([*declared, *events]):
        when = local_datetime(now - dt.timedelta(minutes=37 * number + 3))
        entries.append(
            adapted_object(
                [f"System.Diagnostics.EventLogEntry#{log}/{source}/{instance}", "System.Diagnostics.EventLogEntry",
                 "System.ComponentModel.Component", "System.MarshalByRefObject", "System.Object"],
                {"EventID": event_id, "MachineName": computer, "Data": [], "Index": top - number,
                 "Category": "(0)", "CategoryNumber": 0, "EntryType": kind, "Message": message,
                 "Source": source, "ReplacementStrings": [], "InstanceId": instance, "TimeGenerated": when,
                 "TimeWritten": when, "UserName": None if source != "Service Control Manager" else None,
                 "Site": None, "Container": None},
                "System.Diagnostics.EventLogEntry",
            )
        )  # fmt: skip
    return entries


@builtin(
    CommandSignature(
        "Get-EventLog",
        (
            Parameter("LogName", "string", position=0),
            Parameter("Newest", "int"),
            Parameter("EntryType", "string[]"),
            Parameter("Source", "string[]"),
            Parameter("InstanceId", "long[]", position=1),
            Parameter("List", "switch"),
            Parameter("ComputerName", "string[]"),
        ),
    )
)
def _get_event_log(ctx: CommandContext) -> Iterable[Any]:
    if ctx.engine.version != "5.1":
        raise PSError(
            ctx.error(
                "The term 'Get-EventLog' is not recognized as a name of a cmdlet, function, script file, "
                "or executable program.",
                "System.Management.Automation.CommandNotFoundException",
                ErrorCategory.ObjectNotFound,
                "CommandNotFoundException",
                "Get-EventLog",
            ),
            terminating=True,
        )
    name = to_string(ctx.get("LogName") or "")
    if ctx.switch("List") or not name:
        return [PSCustom({"Log": log, "Entries": len(events)}) for log, events, _ in _LOGS.values()]
    entries = event_log(name, ctx.engine.computer_name.upper(), extra=getattr(ctx.engine, "events", ()))
    if entries is None:
        raise PSError(
            ctx.error(
                f"The event log '{name}' on computer '.' does not exist.",
                "System.InvalidOperationException",
                ErrorCategory.NotSpecified,
                "System.InvalidOperationException",
            ),
            terminating=True,
        )
    kinds = [to_string(k).lower() for k in enumerate_value(ctx.get("EntryType"))]
    sources = [to_string(s).lower() for s in enumerate_value(ctx.get("Source"))]
    if kinds:
        entries = [e for e in entries if to_string(e.EntryType).lower() in kinds]
    if sources:
        entries = [e for e in entries if any(_like(e.Source, s) for s in sources)]
    if ctx.get("Newest") is not None:
        entries = entries[: int(ctx.get("Newest"))]
    return entries


def _event_table(entries: list[Any]) -> list[str]:
    """EventLogEntry's table view: Index, Time, EntryType, Source, InstanceID, Message."""
    lines = ["", "   Index Time          EntryType   Source                 InstanceID Message",
             "   ----- ----          ---------   ------                 ---------- -------"]  # fmt: skip
    for e in entries:
        source = to_string(e.Source)
        source = source if len(source) <= 20 else source[:17] + "..."
        when = e.TimeGenerated.strftime("%b %d %H:%M")
        message = format_scalar(e.Message).replace("\r\n", " ")
        lines.append(
            f"{e.Index:>8} {when:<13} {to_string(e.EntryType):<11} {source:<20} {e.InstanceId:>12} {message}"
        )
    return [*lines, "", ""]


register_renderer("System.Diagnostics.EventLogEntry", _event_table)
