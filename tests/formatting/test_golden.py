"""Golden tests: objects from the emulator (over real HTTP with NTLM) laid out by
`psremoting.out_string`, compared line by line with what Windows PowerShell 5.1 printed for the
same objects. The expected text is quoted from Microsoft's documentation and from published
transcripts of real Windows PowerShell 5.1 sessions (each case names its source), never from
our own output. Commands the emulator lacks are registered as handlers that return objects
with Windows' type names and properties.

A transcript's first and last blank lines depend on the prompt around it; the comparison runs
from the first non-blank line to the last, blank lines inside included.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import psremoting
from psremoting.cmdlets.formatting import FormatRequest
from psremoting.emulator import Emulator
from psremoting.emulator.engine.objects import local_datetime, make_object

USER, PASSWORD = "admin", "Golden-Passw0rd"
SERVICE = ["System.ServiceProcess.ServiceController", "System.ComponentModel.Component", "System.Object"]
PROCESS = ["System.Diagnostics.Process", "System.ComponentModel.Component", "System.Object"]
CMDLET = [
    "System.Management.Automation.CmdletInfo",
    "System.Management.Automation.CommandInfo",
    "System.Object",
]
FUNCTION = [
    "System.Management.Automation.FunctionInfo",
    "System.Management.Automation.CommandInfo",
    "System.Object",
]
MEASURE = [
    "Microsoft.PowerShell.Commands.GenericMeasureInfo",
    "Microsoft.PowerShell.Commands.MeasureInfo",
    "System.Object",
]

#: Get-Service, as a Windows Server answered in the transcripts quoted below.
SERVICES = [
    ("Stopped", "AJRouter", "AllJoyn Router Service"),
    ("Stopped", "ALG", "Application Layer Gateway Service"),
    ("Stopped", "AppIDSvc", "Application Identity"),
    ("Stopped", "AppMgmt", "Application Management"),
    ("Stopped", "AppReadiness", "App Readiness"),
    ("Stopped", "AppVClient", "Microsoft App-V Client"),
    ("Stopped", "AppXSvc", "AppX Deployment Service (AppXSVC)"),
    ("Stopped", "AudioEndpointBuilder", "Windows Audio Endpoint Builder"),
    ("Stopped", "Audiosrv", "Windows Audio"),
    ("Stopped", "AxInstSV", "ActiveX Installer (AxInstSV)"),
    ("Running", "Appinfo", "Application Information"),
    ("Stopped", "wmiApSrv", "WMI Performance Adapter"),
    ("Running", "WMIRegistrationService", "Intel(R) Management Engine WMI Provider Registration"),
    ("Running", "WinDefend", "Windows Defender Antivirus Service"),
    ("Running", "WinHttpAutoProxySvc", "WinHTTP Web Proxy Auto-Discovery Service"),
    ("Running", "Winmgmt", "Windows Management Instrumentation"),
    ("Running", "WinRM", "Windows Remote Management (WS-Management)"),
]


#: Full ServiceController objects (properties in .NET's order), as the transcripts show them.
FULL_SERVICES: dict[str, dict[str, Any]] = {
    "WinRM": {
        "Name": "WinRM", "RequiredServices": ["RPCSS", "HTTP"], "CanPauseAndContinue": False,
        "CanShutdown": True, "CanStop": True, "DisplayName": "Windows Remote Management (WS-Management)",
        "DependentServices": [], "MachineName": ".", "ServiceName": "WinRM",
        "ServicesDependedOn": ["RPCSS", "HTTP"], "ServiceHandle": "SafeServiceHandle", "Status": "Running",
        "ServiceType": "Win32ShareProcess", "StartType": "Automatic", "Site": None, "Container": None,
    },
    "Spooler": {  # a 5.1 build whose ServiceController has no StartType yet (Evil-WinRM transcript)
        "Name": "Spooler", "RequiredServices": ["RPCSS", "http"], "CanPauseAndContinue": False,
        "CanShutdown": False, "CanStop": True, "DisplayName": "Print Spooler", "DependentServices": ["Fax"],
        "MachineName": ".", "ServiceName": "Spooler", "ServicesDependedOn": ["RPCSS", "http"],
        "ServiceHandle": None, "Status": "Running", "ServiceType": "Win32OwnProcess, InteractiveProcess",
        "Site": None, "Container": None,
    },
}  # fmt: skip


def _name(ctx: Any) -> Any:
    """The -Name argument, given by name or by position."""
    return ctx.params.get("Name", ctx.args[0] if ctx.args else None)


def get_service(ctx: Any) -> list[Any]:
    import fnmatch

    given = _name(ctx) or "*"
    full = FULL_SERVICES.get(str(given)) if not isinstance(given, list) else None
    if full is not None:
        return [make_object(SERVICE, dict(full), full["Name"])]
    patterns = [str(p).lower() for p in (given if isinstance(given, list) else [given])]
    return [
        make_object(SERVICE, {"Status": status, "Name": name, "DisplayName": display}, name)
        for status, name, display in SERVICES
        if any(fnmatch.fnmatch(name.lower(), p) for p in patterns)
    ]


def get_process(ctx: Any) -> list[Any]:
    if str(_name(ctx)) == "iexplore":  # "Using Format commands" (MS docs)
        return [
            make_object(
                PROCESS,
                {
                    "Name": "iexplore",
                    "Id": pid,
                    "Handles": handles,
                    "CPU": cpu,
                    "SessionId": 1,
                    "ProcessName": "iexplore",
                    "FileVersion": "11.00.18362.1 (WinBuild.160101.0800)",
                    "StartTime": local_datetime(started),
                },  # fmt: skip
                "System.Diagnostics.Process (iexplore)",
            )
            for pid, handles, cpu, started in (
                (12808, 578, 13.140625, dt.datetime(2019, 10, 22, 11, 23, 58)),
                (21748, 641, 3.59375, dt.datetime(2019, 10, 22, 11, 23, 57)),
            )
        ]
    # Get-Process sqlservr on a domain controller (Evil-WinRM transcript, below)
    props = {
        "Handles": 832, "NPM": 114 * 1024, "PM": 406004 * 1024, "WS": 275560 * 1024, "CPU": None,
        "Id": 3436, "SessionId": 0, "ProcessName": "sqlservr", "Name": "sqlservr",
    }  # fmt: skip
    return [make_object(PROCESS, props, "System.Diagnostics.Process (sqlservr)")]


def get_command(ctx: Any) -> list[Any]:
    if str(ctx.params.get("Noun", "")) == "Process":  # Get-Command -Noun Process (5.1 docs)
        verbs = ("Debug", "Get", "Start", "Stop", "Wait")
        return [
            make_object(
                CMDLET,
                {
                    "CommandType": "Cmdlet",
                    "Name": f"{verb}-Process",
                    "Version": "3.1.0.0",
                    "Source": "Microsoft.PowerShell.Management",
                },
                f"{verb}-Process",
            )  # fmt: skip
            for verb in verbs
        ]
    rows = [
        ("Function", "Get-AppvVirtualProcess", "1.0.0.0", "AppvClient", FUNCTION),
        ("Function", "Start-AppvVirtualProcess", "1.0.0.0", "AppvClient", FUNCTION),
        ("Cmdlet", "Debug-Process", "3.1.0.0", "Microsoft.PowerShell.Management", CMDLET),
        ("Cmdlet", "Enter-PSHostProcess", "3.0.0.0", "Microsoft.PowerShell.Core", CMDLET),
        ("Cmdlet", "Get-Process", "3.1.0.0", "Microsoft.PowerShell.Management", CMDLET),
    ]
    return [
        make_object(types, {"CommandType": kind, "Name": name, "Version": version, "Source": source}, name)
        for kind, name, version, source, types in rows
    ]


def measure_object(ctx: Any) -> list[Any]:
    count = len(list(ctx.input))
    props = {"Count": count, "Average": None, "Sum": None, "Maximum": None, "Minimum": None, "Property": None}
    return [make_object(MEASURE, props)]


def get_version_table(ctx: Any) -> list[Any]:
    # $PSVersionTable of Windows 10 20H1, as "What version of PowerShell am I running?" shows it
    from psrpcore.types import PSVersion

    return [
        {
            "PSVersion": PSVersion("5.1.19041.1"),
            "PSEdition": "Desktop",
            "PSCompatibleVersions": [
                PSVersion(v) for v in ("1.0", "2.0", "3.0", "4.0", "5.0", "5.1.19041.1")
            ],
            "BuildVersion": PSVersion("10.0.19041.1"),
            "CLRVersion": PSVersion("4.0.30319.42000"),
            "WSManStackVersion": PSVersion("3.0"),
            "PSRemotingProtocolVersion": PSVersion("2.3"),
            "SerializationVersion": PSVersion("1.1.0.1"),
        }
    ]


GROUP = ["Microsoft.PowerShell.Commands.GroupInfo", "System.Object"]
PSSESSION = ["System.Management.Automation.Runspaces.PSSession", "System.Object"]


def get_pssession(ctx: Any) -> list[Any]:
    # the remote side's session, as PowerShell remoting over SSH (MS docs) lists it
    props = {
        "Id": 1, "Name": "SSH1", "ComputerName": "UbuntuVM1", "ComputerType": "RemoteMachine",
        "State": "Opened", "ConfigurationName": "DefaultShell", "Availability": "Available",
    }  # fmt: skip
    return [make_object(PSSESSION, props, "[PSSession]SSH1")]


def get_wmi_object(ctx: Any) -> list[Any]:
    # Win32_OperatingSystem of a Server 2019 domain controller (a 5.1 transcript, below): many
    # properties, of which the DefaultDisplayPropertySet shows six
    types = [
        "System.Management.ManagementObject#root\\cimv2\\Win32_OperatingSystem",
        "System.Management.ManagementObject#root\\cimv2\\CIM_OperatingSystem",
        "System.Management.ManagementObject", "System.Management.ManagementBaseObject",
        "System.ComponentModel.Component", "System.MarshalByRefObject", "System.Object",
    ]  # fmt: skip
    props = {
        "__GENUS": 2, "__CLASS": "Win32_OperatingSystem", "BootDevice": "\\Device\\HarddiskVolume1",
        "BuildNumber": "17763", "BuildType": "Multiprocessor Free", "Caption": "Microsoft Windows Server 2019",
        "CodeSet": "1252", "CountryCode": "1", "Organization": "", "RegisteredUser": "Windows User",
        "SerialNumber": "00429-90000-00001-AA056", "SystemDirectory": "C:\\Windows\\system32",
        "Version": "10.0.17763", "WindowsDirectory": "C:\\Windows",
    }  # fmt: skip
    return [make_object(types, props, "\\\\US-DC\\root\\cimv2:Win32_OperatingSystem=@")]


def get_date(ctx: Any) -> list[Any]:
    return [local_datetime(dt.datetime.fromisoformat(str(ctx.params.get("Date"))))]


def group_object(ctx: Any) -> list[Any]:
    # 1..20 | Group-Object -Property {$_ % 2}: the groups in the order they first appear
    groups: dict[str, list[int]] = {}
    for item in ctx.input:
        groups.setdefault(str(int(item) % 2), []).append(int(item))
    return [
        make_object(GROUP, {"Values": [int(k)], "Count": len(v), "Group": v, "Name": k})
        for k, v in sorted(groups.items())
    ]


def _stamp(path: Path, when: dt.datetime) -> None:
    seconds = when.timestamp()
    os.utime(path, (seconds, seconds))


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("c")
    sql = root / "SQLServer"
    sql.mkdir()
    (sql / "Logs").mkdir()
    (sql / "SQLEXPR_2019").mkdir()
    for name, size in (("sqlexpress.exe", 6379936), ("SQLEXPR_x64_ENU.exe", 268090448)):
        with open(sql / name, "wb") as handle:
            handle.truncate(size)  # sparse: the size is what the listing shows
    _stamp(sql / "Logs", dt.datetime(2023, 2, 7, 8, 6))
    _stamp(sql / "SQLEXPR_2019", dt.datetime(2022, 11, 18, 13, 37))
    _stamp(sql / "sqlexpress.exe", dt.datetime(2022, 11, 18, 13, 35))
    _stamp(sql / "SQLEXPR_x64_ENU.exe", dt.datetime(2022, 11, 18, 13, 36))
    (root / "LineNumbers.txt").write_text("".join(f"This is Line {n}\r\n" for n in range(1, 101)))
    with Emulator(users={USER: PASSWORD}, auth=("ntlm",), root=str(root)) as emu:
        emu.register("Get-Service", get_service)
        emu.register("Get-Process", get_process)
        emu.register("Get-Command", get_command)
        emu.register("Measure-Object", measure_object)
        emu.register("Get-VersionTable", get_version_table)
        emu.register("Group-Object", group_object)
        emu.register("Get-PSSession", get_pssession)
        emu.register("Get-Date", get_date)
        emu.register("Get-WmiObject", get_wmi_object)
        s = psremoting.new_pssession(
            connection_uri=emu.url, credential=(USER, PASSWORD), authentication="ntlm"
        )
        try:
            yield s
        finally:
            psremoting.remove_pssession(s)


def _run(session: Any, script: str, width: int = 120) -> list[str]:
    output = psremoting.invoke_command(script, session=session, hide_computer_name=True)
    return _trimmed(psremoting.out_string(output, width=width))


def _trimmed(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _expected(text: str) -> list[str]:
    return _trimmed(text.strip("\n"))


# Each case: (PowerShell typed on the server, expected text, source).
CASES: list[tuple[str, str, str]] = [
    (
        "Get-VersionTable",
        """
Name                           Value
----                           -----
PSVersion                      5.1.19041.1
PSEdition                      Desktop
PSCompatibleVersions           {1.0, 2.0, 3.0, 4.0...}
BuildVersion                   10.0.19041.1
CLRVersion                     4.0.30319.42000
WSManStackVersion              3.0
PSRemotingProtocolVersion      2.3
SerializationVersion           1.1.0.1
""",
        "MS docs, Windows PowerShell system requirements: `$PSVersionTable` on 5.1.19041.1",
    ),
    (
        "Get-ChildItem C:\\SQLServer",
        r"""
    Directory: C:\SQLServer


Mode                LastWriteTime         Length Name
----                -------------         ------ ----
d-----         2/7/2023   8:06 AM                Logs
d-----       11/18/2022   1:37 PM                SQLEXPR_2019
-a----       11/18/2022   1:35 PM        6379936 sqlexpress.exe
-a----       11/18/2022   1:36 PM      268090448 SQLEXPR_x64_ENU.exe
""",
        "Evil-WinRM transcript of `ls` in C:\\SQLServer on Windows Server (5.1)",
    ),
    (
        "Get-Item C:\\SQLServer\\sqlexpress.exe",
        r"""
    Directory: C:\SQLServer


Mode                LastWriteTime         Length Name
----                -------------         ------ ----
-a----       11/18/2022   1:35 PM        6379936 sqlexpress.exe
""",
        "the row of the same transcript: Get-Item gives the FileInfo `ls` listed, in the same view",
    ),
    (
        "Get-ChildItem C:\\SQLServer -File | Sort-Object -Property Length -Descending",
        r"""
    Directory: C:\SQLServer


Mode                LastWriteTime         Length Name
----                -------------         ------ ----
-a----       11/18/2022   1:36 PM      268090448 SQLEXPR_x64_ENU.exe
-a----       11/18/2022   1:35 PM        6379936 sqlexpress.exe
""",
        "the file rows of the same transcript, in the order Sort-Object -Descending gives them",
    ),
    (
        "Get-Service | Where-Object Status -eq Stopped | Select-Object -First 10",
        """
Status   Name               DisplayName
------   ----               -----------
Stopped  AJRouter           AllJoyn Router Service
Stopped  ALG                Application Layer Gateway Service
Stopped  AppIDSvc           Application Identity
Stopped  AppMgmt            Application Management
Stopped  AppReadiness       App Readiness
Stopped  AppVClient         Microsoft App-V Client
Stopped  AppXSvc            AppX Deployment Service (AppXSVC)
Stopped  AudioEndpointBu... Windows Audio Endpoint Builder
Stopped  Audiosrv           Windows Audio
Stopped  AxInstSV           ActiveX Installer (AxInstSV)
""",
        "Start-Transcript of `Get-Service | Where-Object -Property Status -eq Stopped`; Where-Object docs",
    ),
    (
        "Get-Service wmi*",
        """
Status   Name               DisplayName
------   ----               -----------
Stopped  wmiApSrv           WMI Performance Adapter
Running  WMIRegistration... Intel(R) Management Engine WMI Prov...
""",
        'transcript of `Get-Service "wmi*"` (a Windows 10 console)',
    ),
    (
        "Get-Service AppIDSvc, Appinfo",
        """
Status   Name               DisplayName
------   ----               -----------
Stopped  AppIDSvc           Application Identity
Running  Appinfo            Application Information
""",
        "Creating a table view (MS docs, developer/format/creating-a-table-view), its last two rows",
    ),
    (
        "Get-Process sqlservr",
        """
Handles  NPM(K)    PM(K)      WS(K)     CPU(s)     Id  SI ProcessName
-------  ------    -----      -----     ------     --  -- -----------
    832     114   406004     275560              3436   0 sqlservr
""",
        "Evil-WinRM transcript of `Get-Process sqlservr` (HTB 'Monteverde' write-up, 5.1)",
    ),
    (
        "Get-Command -Noun *Process*",
        """
CommandType     Name                                               Version    Source
-----------     ----                                               -------    ------
Function        Get-AppvVirtualProcess                             1.0.0.0    AppvClient
Function        Start-AppvVirtualProcess                           1.0.0.0    AppvClient
Cmdlet          Debug-Process                                      3.1.0.0    Microsoft.PowerShell.Management
Cmdlet          Enter-PSHostProcess                                3.0.0.0    Microsoft.PowerShell.Core
Cmdlet          Get-Process                                        3.1.0.0    Microsoft.PowerShell.Management
""",
        "transcript of `Get-Command *process*` on Windows 10 (5.1)",
    ),
    (
        "1, 2, 3 | Measure-Object",
        """
Count    : 3
Average  :
Sum      :
Maximum  :
Minimum  :
Property :
""",
        "about_Return (MS docs), `Test-Return | Measure-Object`",
    ),
    (
        "@{'One'=1;'Two'=2} | Measure-Object",
        """
Count    : 1
Average  :
Sum      :
Maximum  :
Minimum  :
Property :
""",
        "about_Pipelines (MS docs), a hashtable is one object",
    ),
    (
        "$PSVersionTable.PSVersion",
        """
Major  Minor  Build  Revision
-----  -----  -----  --------
5      1      20348  2849
""",
        "Azure Storage docs transcript of `$PSVersionTable.PSVersion` (5 1 17763 134): the same view",
    ),
]


CASES += [
    (
        "Get-Content -Path C:\\LineNumbers.txt -TotalCount 5",
        """
This is Line 1
This is Line 2
This is Line 3
This is Line 4
This is Line 5
""",
        "Get-Content (MS docs), Example 2",
    ),
    (
        "(Get-Content -Path C:\\LineNumbers.txt -TotalCount 25)[-1]",
        "This is Line 25",
        "Get-Content (MS docs), Example 3",
    ),
    (
        "1..20 | Group-Object -Property {$_ % 2}",
        """
Count Name                      Group
----- ----                      -----
   10 0                         {2, 4, 6, 8...}
   10 1                         {1, 3, 5, 7...}
""",
        "Group-Object (MS docs), Example 2: group integers by odds and evens",
    ),
    (
        "Get-Service WinRM | Select-Object -Property *",
        """
Name                : WinRM
RequiredServices    : {RPCSS, HTTP}
CanPauseAndContinue : False
CanShutdown         : True
CanStop             : True
DisplayName         : Windows Remote Management (WS-Management)
DependentServices   : {}
MachineName         : .
ServiceName         : WinRM
ServicesDependedOn  : {RPCSS, HTTP}
ServiceHandle       : SafeServiceHandle
Status              : Running
ServiceType         : Win32ShareProcess
StartType           : Automatic
Site                :
Container           :
""",
        "transcript of `get-service -Name WinRM | Select-Object -Property *` (a TryHackMe write-up)",
    ),
]

CASES += [
    (
        "Get-Date -Date 2017-07-27T20:36:53",
        "Thursday, July 27, 2017 8:36:53 PM",
        "Start-Transcript log of `Get-Date` (Windows PowerShell transcript, Windows NT 6.2)",
    ),
    (
        "Get-Date -Date 2018-03-15T14:32:28",
        "Thursday, March 15, 2018 2:32:28 PM",
        "Get-Date help, Example 1 (Windows PowerShell)",
    ),
    (
        "Get-PSSession",
        """
 Id Name            ComputerName    ComputerType    State         ConfigurationName     Availability
 -- ----            ------------    ------------    -----         -----------------     ------------
  1 SSH1            UbuntuVM1       RemoteMachine   Opened        DefaultShell             Available
""",
        "PowerShell remoting over SSH (MS docs): `$session` of a Windows PowerShell-era PSSession",
    ),
    (
        "Get-WmiObject -Class win32_operatingsystem",
        r"""
SystemDirectory : C:\Windows\system32
Organization    :
BuildNumber     : 17763
RegisteredUser  : Windows User
SerialNumber    : 00429-90000-00001-AA056
Version         : 10.0.17763
""",
        "transcript of `Get-WmiObject -Class win32_operatingsystem -ComputerName us-dc...` (5.1): "
        "its DefaultDisplayPropertySet",
    ),
    (
        "Get-Service -Name win*",
        """
Status   Name               DisplayName
------   ----               -----------
Running  WinDefend          Windows Defender Antivirus Service
Running  WinHttpAutoProx... WinHTTP Web Proxy Auto-Discovery Se...
Running  Winmgmt            Windows Management Instrumentation
Running  WinRM              Windows Remote Management (WS-Manag...
""",
        "Using Format commands to change output view (MS docs): `Get-Service -Name win* | Format-Table`",
    ),
]


@pytest.mark.parametrize(("script", "expected", "source"), CASES, ids=[c[0] for c in CASES])
def test_output_reads_as_windows_powershell_prints_it(
    session: Any, script: str, expected: str, source: str
) -> None:
    assert _run(session, script) == _expected(expected), source


# Format-* variants: the objects from the server, laid out as Format-List/-Table/-Wide ask.
FORMAT_CASES: list[tuple[str, FormatRequest, str, str]] = [
    (
        "Get-Service -Name win*",
        FormatRequest("table", autosize=True),
        """
Status  Name                DisplayName
------  ----                -----------
Running WinDefend           Windows Defender Antivirus Service
Running WinHttpAutoProxySvc WinHTTP Web Proxy Auto-Discovery Service
Running Winmgmt             Windows Management Instrumentation
Running WinRM               Windows Remote Management (WS-Management)
""",
        "Using Format commands (MS docs): `Get-Service -Name win* | Format-Table -AutoSize`",
    ),
    (
        "Get-Process -Name iexplore",
        FormatRequest("list"),
        """
Id      : 12808
Handles : 578
CPU     : 13.140625
SI      : 1
Name    : iexplore

Id      : 21748
Handles : 641
CPU     : 3.59375
SI      : 1
Name    : iexplore
""",
        "Using Format commands (MS docs): `Get-Process -Name iexplore | Format-List`",
    ),
    (
        "Get-Process -Name iexplore",
        FormatRequest("list", ["ProcessName", "FileVersion", "StartTime", "Id"]),
        """
ProcessName : iexplore
FileVersion : 11.00.18362.1 (WinBuild.160101.0800)
StartTime   : 10/22/2019 11:23:58 AM
Id          : 12808

ProcessName : iexplore
FileVersion : 11.00.18362.1 (WinBuild.160101.0800)
StartTime   : 10/22/2019 11:23:57 AM
Id          : 21748
""",
        "Using Format commands (MS docs): `Format-List -Property ProcessName,FileVersion,StartTime,Id`",
    ),
    (
        "Get-Service WinRM",
        FormatRequest("list"),
        """
Name                : WinRM
DisplayName         : Windows Remote Management (WS-Management)
Status              : Running
DependentServices   : {}
ServicesDependedOn  : {RPCSS, HTTP}
CanPauseAndContinue : False
CanShutdown         : True
CanStop             : True
ServiceType         : Win32ShareProcess
""",
        "blog transcript of `Get-Service -Name WinRM | Format-List` (ServiceController's list view)",
    ),
    (
        "Get-Service Spooler",
        FormatRequest("list", ["*"]),
        """
Name                : Spooler
RequiredServices    : {RPCSS, http}
CanPauseAndContinue : False
CanShutdown         : False
CanStop             : True
DisplayName         : Print Spooler
DependentServices   : {Fax}
MachineName         : .
ServiceName         : Spooler
ServicesDependedOn  : {RPCSS, http}
ServiceHandle       :
Status              : Running
ServiceType         : Win32OwnProcess, InteractiveProcess
Site                :
Container           :
""",
        "Evil-WinRM transcript of `Get-Service Spooler | Format-List *` (5.1)",
    ),
]


@pytest.mark.parametrize(
    ("script", "request_", "expected", "source"),
    FORMAT_CASES,
    ids=[f"{c[0]} {c[1].kind}" for c in FORMAT_CASES],
)
def test_format_variants_read_as_windows_powershell_prints_them(
    session: Any, script: str, request_: FormatRequest, expected: str, source: str
) -> None:
    output = psremoting.invoke_command(script, session=session, hide_computer_name=True)
    assert _trimmed(psremoting.out_string(output, request=request_)) == _expected(expected), source


def test_a_table_is_cut_at_the_console_width(session: Any) -> None:
    """At a 90-column console (Out-Default lays lines out one column narrower, 89, as
    `console.display.console_width` does) the last column is cut: `Get-Command -Noun Process` as
    a Windows PowerShell docs page shows it (Microsoft.PowerShell.Management 3.1.0.0)."""
    expected = """
CommandType     Name                                               Version    Source
-----------     ----                                               -------    ------
Cmdlet          Debug-Process                                      3.1.0.0    Microsof...
Cmdlet          Get-Process                                        3.1.0.0    Microsof...
Cmdlet          Start-Process                                      3.1.0.0    Microsof...
Cmdlet          Stop-Process                                       3.1.0.0    Microsof...
Cmdlet          Wait-Process                                       3.1.0.0    Microsof...
"""
    assert _run(session, "Get-Command -Noun Process", width=89) == _expected(expected)


# The shell's own Format-Table, Format-List and Select-Object on objects from the server.
SHELL_CASES: list[tuple[str, str, str, str]] = [
    (
        "Get-Service -Name win*",
        "$out | Format-Table -AutoSize",
        FORMAT_CASES[0][2],
        "Using Format commands (MS docs): `Get-Service -Name win* | Format-Table -AutoSize`",
    ),
    (
        "Get-Process -Name iexplore",
        "$out | Format-List -Property ProcessName,FileVersion,StartTime,Id",
        FORMAT_CASES[2][2],
        "Using Format commands (MS docs): `Format-List -Property ProcessName,FileVersion,StartTime,Id`",
    ),
    (
        "Get-Process -Name iexplore",
        "$out | Select-Object -First 1 | Format-List",
        "\n".join(FORMAT_CASES[1][2].strip("\n").split("\n")[:5]),
        "Using Format commands (MS docs): the first of `Get-Process -Name iexplore | Format-List`",
    ),
    (
        "Get-Service -Name win*",
        "$out | Select-Object -Last 1",
        """
Status   Name               DisplayName
------   ----               -----------
Running  WinRM              Windows Remote Management (WS-Manag...
""",
        "Using Format commands (MS docs): the last row of `Get-Service -Name win* | Format-Table`",
    ),
]


@pytest.mark.parametrize(
    ("remote", "line", "expected", "source"), SHELL_CASES, ids=[c[1] for c in SHELL_CASES]
)
def test_the_shells_format_cmdlets_read_as_windows_powershell(
    session: Any, remote: str, line: str, expected: str, source: str
) -> None:
    import io

    from psremoting.console.host_ui import ConsoleHostUI
    from psremoting.console.interpreter import Interpreter

    out = io.StringIO()
    shell = Interpreter(ConsoleHostUI(stdout=out, stdin=io.StringIO(), color=False))
    shell.scope.set("out", psremoting.invoke_command(remote, session=session, hide_computer_name=True))
    shell.execute(line)
    assert _trimmed(out.getvalue()) == _expected(expected), source
