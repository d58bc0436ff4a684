"""Implicit remoting at the local prompt: Import-PSSession, Export-PSSession, Import-Module.

``Import-PSSession -Session $s -CommandName Get-Service`` makes ``Get-Service`` a command of
the local shell: a proxy with the remote command's parameters (from the server's command
metadata, as PowerShell builds proxy functions), that runs the command in `$s` and writes
its output (`psremoting.cmdlets.implicit`). Proxies complete with Tab, show in Get-Command and
Get-Help, take pipeline input, -AsJob, and the common parameters (-ErrorAction and friends go
to the remote command as well, as a proxy function's bound parameters do). Export-PSSession
writes them to a module; Import-Module re-creates them later, in a new session if needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from psremoting.console.builtins import Call, _list
from psremoting.console.cmdlet_types import COMMON_PARAMS, CmdletSpec, Param, refused
from psremoting.console.errors import ShellError

__all__ = ["IMPLEMENTATIONS", "ImportedCommands", "SPECS"]

_FORMAT = "the local shell formats remote objects itself and does not import the server's formatting data"
_FQ = "give the module by name with -Module"
_ARGS = "it passes arguments to Get-Command on the server for dynamic parameters, which this client does not ask for"
_CERT = "it signs the generated module, and the psremoting shell neither signs nor runs PowerShell modules"

_SELECTION = (
    Param("CommandName", "string[]", ("Name",), 2, help="The commands to import (wildcards allowed)."),
    Param("Module", "string[]", ("PSSnapin",), help="Import the commands of these modules."),
    Param(
        "CommandType",
        "string[]",
        ("Type",),
        help="Alias, Function, Filter, Cmdlet, ExternalScript, Application, Script, Configuration, All.",
    ),
    Param("AllowClobber", "switch", help="Import commands that have the name of a local command."),
    refused("FormatTypeName", "string[]", _FORMAT),
    refused("FullyQualifiedModule", "object[]", _FQ),
    refused("ArgumentList", "object[]", _ARGS, ("Args",)),
    refused("Certificate", "object", _CERT),
)

SPECS: tuple[CmdletSpec, ...] = (
    CmdletSpec(
        "Import-PSSession",
        "Imports commands from another session into the current session.",
        (
            Param("Session", "session", (), 0, True, help="The session to import commands from."),
            *_SELECTION,
            Param("Prefix", "string", help="A prefix for the nouns of the imported commands."),
            Param(
                "DisableNameChecking",
                "switch",
                help="Do not warn about unapproved verbs (this shell never does).",
            ),
        ),
        ("ipsn",),
        api="import_pssession",
    ),
    CmdletSpec(
        "Export-PSSession",
        "Exports commands from another session and saves them in a PowerShell module.",
        (
            Param("Session", "session", (), 0, True, help="The session to export commands from."),
            Param(
                "OutputModule",
                "string",
                ("PSPath", "ModuleName"),
                1,
                True,
                help="The folder of the module to write.",
            ),
            *_SELECTION,
            Param("Force", "switch", help="Replace an existing module."),
            Param("Encoding", "string", help="utf8 (the only encoding this client writes)."),
        ),
        ("epsn",),
        api="import_pssession",
    ),
    CmdletSpec(
        "Import-Module",
        "Loads a module written by Export-PSSession (or, with -PSSession, a server's module).",
        (
            Param("Name", "string[]", (), 0, True, True, help="The module folder or .psm1 file."),
            Param("PSSession", "session", help="Import the named modules of this session's server instead."),
            Param("Prefix", "string", help="A prefix for the nouns of the imported commands."),
            Param("PassThru", "switch", help="Write the module."),
            Param("Force", "switch", help="Import again even if already imported."),
            Param(
                "DisableNameChecking",
                "switch",
                help="Do not warn about unapproved verbs (this shell never does).",
            ),
        ),
        ("ipmo",),
        api="import_pssession",
    ),
)

_TYPE_FLAGS = {
    "alias": 1,
    "function": 2,
    "filter": 4,
    "cmdlet": 8,
    "externalscript": 16,
    "application": 32,
    "script": 64,
    "configuration": 256,
    "all": 511,
}


def _command_type(call: Call) -> int | None:
    if not call.has("CommandType"):
        return None
    flags = 0
    for value in _list(call.get("CommandType")) or []:
        for part in str(value).replace(",", " ").split():
            flag = _TYPE_FLAGS.get(part.lower())
            if flag is None:
                raise ShellError(
                    f"Cannot bind parameter 'CommandType'. Cannot convert value \"{part}\" to type "
                    '"System.Management.Automation.CommandTypes". Specify one of: Alias, Function, Filter, '
                    "Cmdlet, ExternalScript, Application, Script, Configuration, All.",
                    call.name,
                )
            flags |= flag
    return flags


@dataclass
class _Imported:
    spec: CmdletSpec
    proxy: Any


class ImportedCommands:
    """The proxies imported into this shell, by name (they come before the shell's cmdlets)."""

    def __init__(self) -> None:
        self._commands: dict[str, _Imported] = {}
        self.modules: list[Any] = []

    def add(self, module: Any) -> None:
        self.modules.append(module)
        for proxy in module.commands.values():
            self._commands[proxy.name.lower()] = _Imported(proxy_spec(proxy), proxy)

    def lookup(self, name: str) -> _Imported | None:
        return self._commands.get(name.lower())

    def specs(self) -> list[CmdletSpec]:
        return [entry.spec for entry in self._commands.values()]

    def names(self) -> list[str]:
        return [entry.spec.name for entry in self._commands.values()]


def proxy_spec(proxy: Any) -> CmdletSpec:
    """A proxy's signature for the shell's binder: its parameters in the server's order,
    positional in that order (switches excepted), every one taking any value."""
    params: list[Param] = []
    position = 0
    for p in proxy.parameters:
        if p.is_switch:
            params.append(Param(p.name, "switch", tuple(p.aliases), help=f"[{p.parameter_type}]"))
        else:
            params.append(Param(p.name, "object", tuple(p.aliases), position, help=f"[{p.parameter_type}]"))
            position += 1
    computer = getattr(proxy.module.session, "computer_name", "")
    return CmdletSpec(
        proxy.name,
        f"Runs {proxy.remote_name} on {computer} (implicit remoting, module {proxy.module.name}).",
        tuple(params),
    )


#: Common parameters a proxy forwards to the remote command (as $PSBoundParameters does).
_FORWARDED = ("Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction")
_COMMON_NAMES = {p.name for p in COMMON_PARAMS}


def run_proxy(call: Call, proxy: Any) -> Iterable[Any]:
    """One call of an imported command."""
    from psremoting.console.invoke_cmd import relay_events

    named = {k: v for k, v in call.params.items() if k not in _COMMON_NAMES and k != "AsJob"}
    named.update({k: call.params[k] for k in _FORWARDED if k in call.params})
    extra: dict[str, Any] = {"input_object": list(call.input)} if call.input else {}
    if call.get("AsJob"):
        return [proxy.module.run(proxy, [], named, as_job=True, **extra)]
    return relay_events(call, proxy.module.events(proxy, [], named, **extra))


def _imported(call: Call) -> ImportedCommands:
    table: ImportedCommands | None = getattr(call.context, "imported", None)
    if table is None:
        raise ShellError("This shell cannot import commands.", call.name)
    return table


def _local_names(call: Call) -> list[str]:
    """The commands a proxy must not shadow: the shell's cmdlets and aliases, and the proxies
    imported before."""
    names = getattr(call.context, "command_names", None)
    return list(names()) if callable(names) else _imported(call).names()


def import_pssession(call: Call) -> list[Any]:
    from psremoting.cmdlets.implicit import import_pssession as api

    module = api(
        call.get("Session"),
        module=_list(call.get("Module")),
        command_name=_list(call.get("CommandName")),
        prefix=call.get("Prefix"),
        command_type=_command_type(call),
        allow_clobber=bool(call.get("AllowClobber")),
        existing=_local_names(call),
        warn=call.write_warning,
    )
    _imported(call).add(module)
    return [module]


def export_pssession(call: Call) -> list[Any]:
    from psremoting.cmdlets.implicit_module import export_pssession as api

    encoding = str(call.get("Encoding") or "utf8").lower().replace("-", "")
    if encoding not in ("utf8", "utf8nobom", "default"):
        raise ShellError(
            f"-Encoding {call.get('Encoding')} is not supported on this client: it writes modules in UTF-8 only.",
            call.name,
        )
    import os

    path = api(
        call.get("Session"),
        os.path.expanduser(str(call.get("OutputModule"))),
        module=_list(call.get("Module")),
        command_name=_list(call.get("CommandName")),
        command_type=_command_type(call),
        allow_clobber=bool(call.get("AllowClobber", True)),
        force=bool(call.get("Force")),
    )
    return [str(item) for item in sorted(path.parent.iterdir())]


def import_module(call: Call) -> list[Any]:
    from psremoting.cmdlets.implicit import import_pssession as from_session
    from psremoting.cmdlets.implicit_module import import_module as api

    table = _imported(call)
    loaded: list[Any] = []
    for name in _list(call.get("Name")) or []:
        if call.has("PSSession"):
            module = from_session(
                call.get("PSSession"),
                module=[str(name)],
                prefix=call.get("Prefix"),
                existing=_local_names(call),
                warn=call.write_warning,
            )
        else:
            import os

            path = os.path.expanduser(str(name))
            if not os.path.exists(path):
                raise ShellError(
                    f"The specified module '{name}' was not loaded because no valid module file was found in any "
                    "module directory. The local shell loads modules written by Export-PSSession (give their "
                    "folder); to use a server's module, run Import-Module -PSSession $s -Name "
                    f"{name}, or Import-PSSession -Session $s -Module {name}.",
                    call.name,
                )
            from psremoting.protocol.errors import InvalidOptionError

            try:
                module = api(path, existing=_local_names(call))
            except InvalidOptionError as error:
                raise ShellError(error.message, call.name) from error
        table.add(module)
        loaded.append(module)
    return loaded if call.get("PassThru") else []


IMPLEMENTATIONS: dict[str, Callable[[Call], Iterable[Any]]] = {
    "Import-PSSession": import_pssession,
    "Export-PSSession": export_pssession,
    "Import-Module": import_module,
}
