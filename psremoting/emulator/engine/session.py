"""The remote session's state: automatic variables, environment, current location.

Values here are what a Windows Server running Windows PowerShell 5.1 shows (or PowerShell
7.4 with ``version="7"``): ``$PSVersionTable``, ``$env:COMPUTERNAME`` in upper case,
``$HOME``, ``$PWD`` and ``$executionContext.SessionState.Path.CurrentLocation`` (which the
remote ``prompt`` function reads).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from psrpcore.types import PSVersion

from psremoting.pslang.dotnet import register_cast
from psremoting.pslang.values import CaseInsensitiveDict, to_string

from .objects import path_info

__all__ = ["ExecutionContextStub", "HostStub", "environment", "version_table"]


def _to_version(value: Any) -> PSVersion:
    """``[version]'5.1.2'``: a System.Version (what $PSVersionTable.PSVersion is)."""
    return value if isinstance(value, PSVersion) else PSVersion(to_string(value))


register_cast(("System.Version", "Version"), _to_version)


def version_table(version: str) -> CaseInsensitiveDict:
    """``$PSVersionTable`` as Windows PowerShell 5.1 (``"5.1"``) or PowerShell 7.4 (``"7"``) has it."""
    if version.startswith("7"):
        return CaseInsensitiveDict(
            [
                ("PSVersion", PSVersion("7.4.6")),
                ("PSEdition", "Core"),
                ("GitCommitId", "7.4.6"),
                ("OS", "Microsoft Windows 10.0.20348"),
                ("Platform", "Win32NT"),
                (
                    "PSCompatibleVersions",
                    [PSVersion(v) for v in ("1.0", "2.0", "3.0", "4.0", "5.0", "5.1", "6.0", "7.0")],
                ),
                ("PSRemotingProtocolVersion", PSVersion("2.3")),
                ("SerializationVersion", PSVersion("1.1.0.1")),
                ("WSManStackVersion", PSVersion("3.0")),
            ]
        )
    return CaseInsensitiveDict(
        [
            ("PSVersion", PSVersion("5.1.20348.2849")),
            ("PSEdition", "Desktop"),
            (
                "PSCompatibleVersions",
                [PSVersion(v) for v in ("1.0", "2.0", "3.0", "4.0", "5.0", "5.1.20348.2849")],
            ),
            ("BuildVersion", PSVersion("10.0.20348.2849")),
            ("CLRVersion", PSVersion("4.0.30319.42000")),
            ("WSManStackVersion", PSVersion("3.0")),
            ("PSRemotingProtocolVersion", PSVersion("2.3")),
            ("SerializationVersion", PSVersion("1.1.0.1")),
        ]
    )


def environment(
    computer_name: str, username: str, machine: Mapping[str, str] | None = None
) -> CaseInsensitiveDict:
    """The remote process environment (``$env:``) of a Windows Server session: the variables
    a wsmprovhost.exe has (as the recordings of real hosts list them: no HOMEDRIVE/HOMEPATH
    for a network logon), then the host's own machine variables (``machine``, the
    emulator's ``environment``)."""
    home = f"C:\\Users\\{username}"
    env = CaseInsensitiveDict(
        [
            ("ALLUSERSPROFILE", "C:\\ProgramData"),
            ("APPDATA", f"{home}\\AppData\\Roaming"),
            ("COMPUTERNAME", computer_name.upper()),
            ("CommonProgramFiles", "C:\\Program Files\\Common Files"),
            ("CommonProgramFiles(x86)", "C:\\Program Files (x86)\\Common Files"),
            ("CommonProgramW6432", "C:\\Program Files\\Common Files"),
            ("ComSpec", "C:\\Windows\\system32\\cmd.exe"),
            ("LOCALAPPDATA", f"{home}\\AppData\\Local"),
            ("NUMBER_OF_PROCESSORS", str(os.cpu_count() or 2)),
            ("OS", "Windows_NT"),
            ("Path", "C:\\Windows\\system32;C:\\Windows;C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\"),
            ("PATHEXT", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC;.CPL"),
            ("PROCESSOR_ARCHITECTURE", "AMD64"),
            ("PROCESSOR_IDENTIFIER", "Intel64 Family 6 Model 85 Stepping 7, GenuineIntel"),
            ("PROCESSOR_LEVEL", "6"),
            ("PROCESSOR_REVISION", "5507"),
            ("ProgramData", "C:\\ProgramData"),
            ("ProgramFiles", "C:\\Program Files"),
            ("ProgramFiles(x86)", "C:\\Program Files (x86)"),
            ("ProgramW6432", "C:\\Program Files"),
            ("PROMPT", "$P$G"),
            (
                "PSModulePath",
                f"{home}\\Documents\\WindowsPowerShell\\Modules;C:\\Program Files\\WindowsPowerShell\\Modules;"
                "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules",
            ),
            ("PUBLIC", "C:\\Users\\Public"),
            ("SystemDrive", "C:"),
            ("SystemRoot", "C:\\Windows"),
            ("TEMP", f"{home}\\AppData\\Local\\Temp"),
            ("TMP", f"{home}\\AppData\\Local\\Temp"),
            ("USERDOMAIN", computer_name.upper()),
            ("USERNAME", username),
            ("USERPROFILE", home),
            ("windir", "C:\\Windows"),
        ]
    )
    for name, value in (machine or {}).items():
        env[str(name)] = str(value)
    return env


class _PathIntrinsics:
    def __init__(self, owner: Any) -> None:
        self._owner = owner

    @property
    def CurrentLocation(self) -> Any:
        return path_info(self._owner.location)


class _SessionStateStub:
    def __init__(self, owner: Any) -> None:
        self.Path = _PathIntrinsics(owner)


class HostStub:
    """``$Host`` on the server side of a remote session: ServerRemoteHost."""

    Name = "ServerRemoteHost"
    Version = "1.0.0.0"
    CurrentCulture = "en-US"
    CurrentUICulture = "en-US"

    def __str__(self) -> str:
        return "System.Management.Automation.Remoting.ServerRemoteHost"


class ExecutionContextStub:
    """``$executionContext``: only ``SessionState.Path.CurrentLocation``, which ``prompt`` reads."""

    def __init__(self, owner: Any) -> None:
        self.SessionState = _SessionStateStub(owner)

    def __str__(self) -> str:
        return "System.Management.Automation.EngineIntrinsics"
