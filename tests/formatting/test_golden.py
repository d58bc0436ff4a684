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
from psremoting.emulator import Emulator
from psremoting.emulator.engine.objects import make_object

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
]


def get_service(ctx: Any) -> list[Any]:
    import fnmatch

    given = ctx.args[0] if ctx.args else "*"
    patterns = [str(p).lower() for p in (given if isinstance(given, list) else [given])]
    return [
        make_object(SERVICE, {"Status": status, "Name": name, "DisplayName": display}, name)
        for status, name, display in SERVICES
        if any(fnmatch.fnmatch(name.lower(), p) for p in patterns)
    ]


def get_process(ctx: Any) -> list[Any]:
    # Get-Process sqlservr on a domain controller (Evil-WinRM transcript, below)
    props = {
        "Handles": 832, "NPM": 114 * 1024, "PM": 406004 * 1024, "WS": 275560 * 1024, "CPU": None,
        "Id": 3436, "SessionId": 0, "ProcessName": "sqlservr", "Name": "sqlservr",
    }  # fmt: skip
    return [make_object(PROCESS, props, "System.Diagnostics.Process (sqlservr)")]


def get_command(ctx: Any) -> list[Any]:
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
    with Emulator(users={USER: PASSWORD}, auth=("ntlm",), root=str(root)) as emu:
        emu.register("Get-Service", get_service)
        emu.register("Get-Process", get_process)
        emu.register("Get-Command", get_command)
        emu.register("Measure-Object", measure_object)
        emu.register("Get-VersionTable", get_version_table)
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


@pytest.mark.parametrize(("script", "expected", "source"), CASES, ids=[c[0] for c in CASES])
def test_output_reads_as_windows_powershell_prints_it(
    session: Any, script: str, expected: str, source: str
) -> None:
    assert _run(session, script) == _expected(expected), source
