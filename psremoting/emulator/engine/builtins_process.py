"""Get-Process over the emulated host's declared processes (the emulator config's ``processes``).

Each process is a System.Diagnostics.Process as Windows PowerShell serializes it: the .NET
members as adapted properties (Id, ProcessName, HandleCount, WorkingSet64, SessionId...) and
types.ps1xml's aliases and script properties (Name, Handles, WS, PM, NPM, VM, CPU, Path) as
note properties, so the client's Process view shows Handles, NPM(K), PM(K), WS(K), CPU(s), Id,
SI and ProcessName as on Windows.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from psrpcore.types import ErrorCategory, PSInt64

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import enumerate_value, to_number, to_string

from .builtins_system import adapted_object
from .commands import CommandContext, builtin
from .formatting import register_renderer

__all__ = ["PROCESS_TYPES", "process_object"]

PROCESS_TYPES = ["System.Diagnostics.Process", "System.ComponentModel.Component",
                 "System.MarshalByRefObject", "System.Object"]  # fmt: skip

_SYSTEM_PATH = "C:\\Windows\\System32\\"


def process_object(process: Mapping[str, Any]) -> Any:
    """A Process as Get-Process returns it; ``process`` has Name and Id, the rest defaults."""
    name = str(process.get("Name", process.get("ProcessName", "")))
    pid = int(process.get("Id", 0))
    handles = int(process.get("Handles", process.get("HandleCount", 200)))
    ws = PSInt64(int(process.get("WS", process.get("WorkingSet64", 8 * 1024 * 1024))))
    pm = PSInt64(int(process.get("PM", process.get("PagedMemorySize64", 2 * 1024 * 1024))))
    npm = PSInt64(int(process.get("NPM", process.get("NonpagedSystemMemorySize64", 16 * 1024))))
    vm = PSInt64(int(process.get("VM", process.get("VirtualMemorySize64", 2203318222848))))
    cpu = process.get("CPU")
    cpu = float(cpu) if cpu is not None else None
    session = int(process.get("SI", process.get("SessionId", 0)))
    path = process.get("Path")
    if path is None and pid > 4 and name not in ("Idle", "System", "Registry", "Memory Compression"):
        path = _SYSTEM_PATH + name + ".exe"
    adapted = {
        "BasePriority": int(process.get("BasePriority", 8)),
        "HandleCount": handles,
        "Id": pid,
        "MachineName": ".",
        "NonpagedSystemMemorySize64": npm,
        "PagedMemorySize64": pm,
        "ProcessName": name,
        "SessionId": session,
        "VirtualMemorySize64": vm,
        "WorkingSet64": ws,
        "Responding": True,
        "MainWindowTitle": "",
        "MainWindowHandle": 0,
        "Threads": [],
        "Modules": [],
    }
    extended = {
        "Name": name,
        "SI": session,
        "Handles": handles,
        "VM": vm,
        "WS": ws,
        "PM": pm,
        "NPM": npm,
        "Path": path,
        "Company": "Microsoft Corporation" if path else None,
        "CPU": cpu,
        "Description": process.get("Description", name if path else None),
        "Product": "Microsoft® Windows® Operating System" if path else None,
        "__NounName": "Process",
    }
    return adapted_object(PROCESS_TYPES, adapted, f"System.Diagnostics.Process ({name})", extended)


def _matches(process: Mapping[str, Any], pattern: str) -> bool:
    return fnmatch.fnmatchcase(str(process.get("Name", "")).lower(), pattern.lower())


@builtin(
    CommandSignature(
        "Get-Process",
        (
            Parameter(
                "Name",
                "string[]",
                ("ProcessName",),
                position=0,
                sets=("Name",),
                value_from_pipeline_by_property_name=True,
            ),
            Parameter(
                "Id",
                "int[]",
                ("PID",),
                mandatory=True,
                sets=("Id",),
                value_from_pipeline_by_property_name=True,
            ),
            Parameter("ComputerName", "string[]", ("Cn",)),
            Parameter("Module", "switch"),
            Parameter("FileVersionInfo", "switch", ("FV", "FVI")),
        ),
    ),  # fmt: skip
    aliases=("gps", "ps"),
)
def _get_process(ctx: CommandContext) -> Iterable[Any]:
    processes: list[Mapping[str, Any]] = list(getattr(ctx.engine, "processes", []) or [])
    ordered = sorted(processes, key=lambda p: (str(p.get("Name", "")).lower(), int(p.get("Id", 0))))
    found: list[Mapping[str, Any]] = []
    if ctx.get("Id") is not None:
        for value in enumerate_value(ctx.get("Id")):
            pid = int(to_number(value))
            matches = [p for p in ordered if int(p.get("Id", -1)) == pid]
            if not matches:
                ctx.write_error(
                    ctx.error(
                        f"Cannot find a process with the process identifier {pid}.",
                        "Microsoft.PowerShell.Commands.ProcessCommandException",
                        ErrorCategory.ObjectNotFound,
                        "NoProcessFoundForGivenId",
                        pid,
                    )
                )
            found.extend(matches)
        return [process_object(p) for p in found]
    names = [to_string(n) for n in enumerate_value(ctx.get("Name"))] if ctx.get("Name") is not None else ["*"]
    for pattern in names:
        matches = [p for p in ordered if _matches(p, pattern)]
        if not matches and not any(ch in pattern for ch in "*?["):
            ctx.write_error(
                ctx.error(
                    f'Cannot find a process with the name "{pattern}". '
                    "Verify the process name and call the cmdlet again.",
                    "Microsoft.PowerShell.Commands.ProcessCommandException",
                    ErrorCategory.ObjectNotFound,
                    "NoProcessFoundForGivenName",
                    pattern,
                )
            )
        found.extend(p for p in matches if p not in found)
    return [process_object(p) for p in found]


def _kilo(value: Any) -> str:
    return str(int(round(float(value or 0) / 1024)))


def process_table(processes: list[Any]) -> list[str]:
    """5.1's Process table view: Handles NPM(K) PM(K) WS(K) CPU(s) Id SI ProcessName."""
    lines = ["", "Handles  NPM(K)    PM(K)      WS(K)     CPU(s)     Id  SI ProcessName",
             "-------  ------    -----      -----     ------     --  -- -----------"]  # fmt: skip
    for p in processes:
        cpu = getattr(p, "CPU", None)
        cells = (
            f"{getattr(p, 'Handles', 0):>7} {_kilo(getattr(p, 'NPM', 0)):>7} {_kilo(getattr(p, 'PM', 0)):>8} "
            f"{_kilo(getattr(p, 'WS', 0)):>10} {'' if cpu is None else f'{float(cpu):,.2f}':>10} "
            f"{getattr(p, 'Id', 0):>6} {getattr(p, 'SI', 0):>3} {getattr(p, 'ProcessName', '')}"
        )
        lines.append(cells)
    return [*lines, "", ""]


register_renderer(PROCESS_TYPES[0], process_table)
