"""The few local helper cmdlets of the shell: Get-Help, Get-Command, Set-Location, ...

They are what a user reaches for at any PowerShell prompt (help, cd, pwd, cls, echo);
everything else runs remotely. Same calling convention as `builtins`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from psremoting.console import cmdlets, display
from psremoting.console.builtins import Call
from psremoting.console.errors import ShellError


def get_help(call: Call) -> list[Any]:
    from psremoting.console.helptext import help_for

    name = call.get("Name")
    if not name:
        lines = [
            "",
            "The psremoting shell runs these cmdlets locally; type Get-Help NAME for one of them:",
            "",
        ]
        width = max(len(s.name) for s in cmdlets.SPECS)
        lines += [f"    {s.name.ljust(width)}  {s.synopsis}" for s in cmdlets.SPECS]
        lines += [
            "",
            "Anything else runs on a remote computer: Enter-PSSession -ComputerName HOST for an",
            "interactive session, or Invoke-Command -ComputerName HOST -ScriptBlock { ... }.",
            "",
        ]
        return ["\n".join(lines)]
    imported = getattr(call.context, "imported", None)
    proxy = imported.lookup(str(name)) if imported is not None else None
    text = help_for(
        str(name),
        full=bool(call.get("Full") or call.get("Detailed")),
        examples=bool(call.get("Examples")),
        parameter=call.get("Parameter"),
        spec=proxy.spec if proxy is not None else None,
    )
    if text is None:
        raise ShellError(
            f"Get-Help could not find {name} in a help file in this session. The local shell has help for "
            "its own cmdlets (Get-Command lists them); for remote commands, run Get-Help in a remote session.",
            "Get-Help",
        )
    return [text]


def get_command(call: Call) -> list[Any]:
    import fnmatch

    patterns = [str(p).lower() for p in (call.get("Name") or ["*"])] if call.has("Name") else ["*"]
    if isinstance(call.get("Name"), str):
        patterns = [str(call.get("Name")).lower()]
    rows: list[tuple[str, str, str]] = []  # (CommandType, Name, Alias or Source)
    imported = getattr(call.context, "imported", None)
    if imported is not None:
        for entry in imported.specs():
            if any(fnmatch.fnmatch(entry.name.lower(), p) for p in patterns):
                proxy = imported.lookup(entry.name)
                rows.append(("Function", entry.name, proxy.proxy.module.name if proxy is not None else ""))
    for spec in cmdlets.SPECS:
        names = [spec.name, *spec.aliases]
        if any(fnmatch.fnmatch(n.lower(), p) for n in names for p in patterns):
            rows.append(("Cmdlet", spec.name, ", ".join(spec.aliases)))
    if not rows:
        raise ShellError(
            f"The term '{call.get('Name')}' is not a command of the local shell. Get-Command lists them.",
            "Get-Command",
        )
    width = max(len(name) for _kind, name, _alias in rows)
    lines = [
        "",
        f"{'CommandType':<12}{'Name'.ljust(width)}  Alias",
        f"{'-----------':<12}{'----'.ljust(width)}  -----",
    ]
    lines += [f"{kind:<12}{name.ljust(width)}  {alias}" for kind, name, alias in rows]
    return ["\n".join(lines) + "\n"]


def set_location(call: Call) -> list[Any]:
    path = os.path.expanduser(str(call.get("Path") or "~"))
    try:
        os.chdir(path)
    except OSError:
        raise ShellError(f"Cannot find path '{path}' because it does not exist.", "Set-Location") from None
    return []


def get_location(call: Call) -> list[Any]:
    cwd = os.getcwd()
    return [f"\nPath\n----\n{cwd}\n"]


def clear_host(call: Call) -> list[Any]:
    call.context.ui.write("\x1b[H\x1b[2J")
    return []


def write_output(call: Call) -> list[Any]:
    return list(display.flatten([call.get("InputObject"), *call.input]))


def write_host(call: Call) -> list[Any]:
    values = list(display.flatten([call.get("Object"), *call.input]))
    separator = str(call.get("Separator", " "))
    text = separator.join(display.scalar_text(v) for v in values)
    ui = call.context.ui
    fg, bg = call.get("ForegroundColor"), call.get("BackgroundColor")
    if call.get("NoNewline"):
        ui.write(text, fg, bg)
    else:
        ui.write_line(text, fg, bg)
    return []


def get_history(call: Call) -> list[Any]:
    """Get-History [-Id N[,..]] [-Count N]: the entries typed at this prompt (ids from 1); an id
    can come down the pipeline (`1, 3 | Get-History`), as PowerShell's -Id is ValueFromPipeline."""
    lines = list(enumerate(call.context.history(), 1))
    if call.has("Id"):
        wanted = [int(i) for i in call.get("Id") or []]
        for missing in (i for i in wanted if not 1 <= i <= len(lines)):
            call.write_error(f"Cannot locate history for Id {missing}.")
        lines = [entry for entry in lines if entry[0] in wanted]
    if call.has("Count"):
        lines = lines[-int(call.get("Count")) :] if int(call.get("Count")) > 0 else []
    width = len(str(lines[-1][0])) if lines else 1
    body = [f"{str(i).rjust(max(2, width))} {line}" for i, line in lines]
    return ["\n  Id CommandLine\n  -- -----------\n" + "\n".join(body) + "\n"] if body else []


IMPLEMENTATIONS: dict[str, Callable[[Call], list[Any]]] = {
    "Get-Help": get_help,
    "Get-Command": get_command,
    "Set-Location": set_location,
    "Get-Location": get_location,
    "Clear-Host": clear_host,
    "Write-Output": write_output,
    "Write-Host": write_host,
    "Get-History": get_history,
}
