"""Export-PSSession and Import-Module: implicit remoting proxies saved in a module, re-created later.

    psremoting.export_pssession(s, "~/Modules/Web", command_name=["Get-Service"])
    web = psremoting.import_module("~/Modules/Web")     # later, another process: a new session
    web.Get_Service("W3SVC")

The module is a folder holding ``<name>.psm1`` (and a ``<name>.psd1`` manifest): PowerShell
proxy functions for the commands, in the shape Export-PSSession writes them (a function per
command calling Invoke-Command in a session made on first use), with psremoting's own
description of the commands and of how to reach the server (computer, port, TLS, application
and configuration name, authentication, user name; never a password) in a comment block, from
which `import_module` re-creates the proxies.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from psremoting.cmdlets.implicit import ImplicitModule, import_pssession, select_commands
from psremoting.protocol.errors import InvalidOptionError
from psremoting.runspace.metadata import RemoteCommand, RemoteParameter

__all__ = ["export_pssession", "import_module", "read_module", "write_module"]

#: The first line of the description block an exported module carries for psremoting.
_MODULE_MARKER = "psremoting-implicit-remoting:"


def export_pssession(
    session: Any,
    output_module: str | Path,
    *,
    module: str | Sequence[str] | None = None,
    command_name: str | Sequence[str] | None = None,
    prefix: str | None = None,
    command_type: int | None = None,
    allow_clobber: bool = True,
    force: bool = False,
) -> Path:
    """Export-PSSession: write a module that re-creates these proxies later (`import_module`).

    The module is a folder named `output_module` holding ``<name>.psm1``: PowerShell proxy
    functions for the commands, with psremoting's own description of them (the commands,
    their parameters, and how to reach the server: computer, port, TLS, configuration,
    authentication; never a password) in a comment block at its top. An existing module is
    replaced only with `force`."""
    imported = import_pssession(
        session,
        module=module,
        command_name=command_name,
        prefix=prefix,
        command_type=command_type,
        allow_clobber=allow_clobber,
    )
    return write_module(imported, Path(output_module).expanduser(), force=force)


def _connection_of(session: Any) -> dict[str, Any]:
    info = session.connection_info
    # Where the connection really goes differs from the computer's name only when an endpoint
    # override routes it elsewhere (the emulator): that port is not the computer's.
    routed = info.host.lower() != info.computer_name.strip("[]").lower()
    return {
        "computer_name": info.computer_name,
        "port": None if routed else info.port,
        "use_ssl": info.use_ssl,
        "application_name": info.path,
        "configuration_name": info.configuration_name,
        "authentication": info.authentication,
        "username": info.credential.username if info.credential is not None else None,
    }


def write_module(imported: ImplicitModule, folder: Path, *, force: bool = False) -> Path:
    """Write `imported` as a module folder (see `export_pssession`); the .psm1 file."""
    target = folder / f"{folder.name}.psm1"
    if target.exists() and not force:
        raise InvalidOptionError(
            f"The module {target} already exists. Use the Force parameter (force=True) to replace it."
        )
    folder.mkdir(parents=True, exist_ok=True)
    description = {
        "version": 1,
        "prefix": imported.prefix,
        "connection": _connection_of(imported.session),
        "commands": [
            {
                "name": p.remote.name,
                "command_type": p.remote.command_type,
                "namespace": p.remote.namespace,
                "help_uri": p.remote.help_uri,
                "parameters": [
                    {
                        "name": q.name,
                        "type": q.parameter_type,
                        "aliases": list(q.aliases),
                        "switch": q.is_switch,
                    }
                    for q in p.remote.parameters
                ],
            }
            for p in imported.commands.values()
        ],
    }
    target.write_text(_module_text(imported, description), encoding="utf-8")
    manifest = folder / f"{folder.name}.psd1"
    exported = ", ".join(f"'{p.name}'" for p in imported.commands.values())
    manifest.write_text(
        "@{\n"
        f"    GUID = '{_stable_guid(folder.name)}'\n"
        f"    Description = 'Implicit remoting for {_connection_of(imported.session)['computer_name']}'\n"
        "    ModuleVersion = '1.0'\n"
        f"    RootModule = '{target.name}'\n"
        f"    FunctionsToExport = @({exported})\n"
        "}\n",
        encoding="utf-8",
    )
    return target


def _stable_guid(name: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"psremoting-module:{name}"))


def _module_text(imported: ImplicitModule, description: dict[str, Any]) -> str:
    connection = description["connection"]
    now = datetime.datetime.now().strftime("%m/%d/%Y %H:%M:%S")
    lines = [
        "<#",
        " # Implicit remoting module",
        f" # generated on {now}",
        " # by Export-PSSession cmdlet (psremoting)",
        "#>",
        "",
        "<# " + _MODULE_MARKER,
        json.dumps(description, indent=1, sort_keys=True),
        "#>",
        "",
        "$script:PSSession = $null",
        "function Get-PSImplicitRemotingSession {",
        "    param([Parameter(Mandatory = $true)] [string] $commandName)",
        "    if ($null -eq $script:PSSession -or $script:PSSession.State -ne 'Opened') {",
        "        Write-Host ('Creating a new session for implicit remoting of \"{0}\" command...' -f $commandName)",
        "        $script:PSSession = New-PSSession -ComputerName "
        + _ps_quote(connection["computer_name"])
        + (f" -Port {int(connection['port'])}" if connection["port"] else "")
        + (" -UseSSL" if connection["use_ssl"] else "")
        + " -ConfigurationName "
        + _ps_quote(connection["configuration_name"])
        + " -ApplicationName "
        + _ps_quote(connection["application_name"])
        + (" -Credential " + _ps_quote(connection["username"]) if connection["username"] else ""),
        "    }",
        "    $script:PSSession",
        "}",
        "",
    ]
    for proxy in imported.commands.values():
        params = []
        position = 0
        for p in proxy.parameters:
            if p.name == "AsJob":
                continue
            if p.is_switch:
                params.append(f"    [switch] ${{{p.name}}}")
            else:
                params.append(f"    [Parameter(Position = {position})] [System.Object] ${{{p.name}}}")
                position += 1
        params.append("    [switch] ${AsJob}")
        lines += [
            f"function {proxy.name} {{",
            "    [CmdletBinding()]",
            "    param(",
            ",\n".join(params),
            "    )",
            "    $bound = @{} + $PSBoundParameters",
            "    $null = $bound.Remove('AsJob')",
            f"    $session = Get-PSImplicitRemotingSession -commandName {_ps_quote(proxy.name)}",
            "    Invoke-Command -Session $session -HideComputerName -AsJob:$AsJob "
            f"-ArgumentList {_ps_quote(proxy.remote_name)}, $bound "
            "-ScriptBlock { param($name, $boundParams) & $name @boundParams }",
            "}",
            "",
        ]
    names = ", ".join(_ps_quote(p.name) for p in imported.commands.values())
    lines.append(f"Export-ModuleMember -Function {names}" if names else "")
    return "\n".join(lines) + "\n"


def _ps_quote(text: Any) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def read_module(path: str | Path) -> dict[str, Any]:
    """The description an exported module carries (from `export_pssession`)."""
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / f"{target.name}.psm1"
    try:
        text = target.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidOptionError(
            f"The specified module '{path}' was not loaded because no valid module file was found "
            f"({exc.strerror or exc})."
        ) from exc
    start = text.find("<# " + _MODULE_MARKER)
    end = text.find("#>", start) if start >= 0 else -1
    if start < 0 or end < 0:
        raise InvalidOptionError(
            f"The module {target} was not written by Export-PSSession (psremoting): it has no "
            f"'{_MODULE_MARKER}' block, so its proxies cannot be re-created."
        )
    try:
        description: dict[str, Any] = json.loads(text[start + 3 + len(_MODULE_MARKER) : end])
    except ValueError as exc:
        raise InvalidOptionError(
            f"The module {target} is damaged: its description is not valid JSON ({exc})."
        ) from exc
    return description


def import_module(
    path: str | Path,
    *,
    session: Any = None,
    credential: Any = None,
    existing: Iterable[str] = (),
) -> ImplicitModule:
    """Import-Module of an exported session module: the same proxies, in `session`, or in an
    open session to the module's computer, or else a new one (with `credential`, or the
    environment's / a Kerberos ticket)."""
    description = read_module(path)
    connection = description.get("connection") or {}
    commands = [
        RemoteCommand(
            name=str(c["name"]),
            command_type=str(c.get("command_type", "Cmdlet")),
            namespace=str(c.get("namespace", "")),
            help_uri=str(c.get("help_uri", "")),
            parameters=tuple(
                RemoteParameter(
                    name=str(p["name"]),
                    parameter_type=str(p.get("type", "System.Object")),
                    aliases=tuple(p.get("aliases") or ()),
                    is_switch=bool(p.get("switch")),
                )
                for p in c.get("parameters") or ()
            ),
        )
        for c in description.get("commands") or ()
    ]
    if session is None:
        session = _session_for(connection, credential)
    prefix = str(description.get("prefix") or "")
    chosen, _shadowing = select_commands(
        commands, command_name=None, prefix=prefix, existing=existing, allow_clobber=False
    )
    name = Path(path).expanduser().name.removesuffix(".psm1")
    return ImplicitModule(session, name, chosen, prefix)


def _session_for(connection: dict[str, Any], credential: Any) -> Any:
    from psremoting.cmdlets.endpoints import DEFAULT_APPLICATION_NAME, connection_uri
    from psremoting.cmdlets.sessions import get_pssession, new_pssession

    computer = str(connection.get("computer_name") or "")
    configuration = str(connection.get("configuration_name") or "Microsoft.PowerShell")
    for candidate in get_pssession():
        if (
            candidate.computer_name.lower() == computer.lower()
            and candidate.configuration_name.lower() == configuration.lower()
            and candidate.state.value == "Opened"
        ):
            return candidate
    kwargs: dict[str, Any] = {"configuration_name": configuration}
    if connection.get("authentication"):
        kwargs["authentication"] = str(connection["authentication"])
    if credential is not None:
        kwargs["credential"] = credential
    app = str(connection.get("application_name") or DEFAULT_APPLICATION_NAME)
    if app.strip("/").lower() != DEFAULT_APPLICATION_NAME:
        return new_pssession(
            connection_uri=connection_uri(
                computer,
                port=connection.get("port"),
                use_ssl=bool(connection.get("use_ssl")),
                application_name=app,
            ),
            **kwargs,
        )
    return new_pssession(
        computer, port=connection.get("port"), use_ssl=bool(connection.get("use_ssl")), **kwargs
    )
