"""Implicit remoting: a server's commands called as if they were local (Import-PSSession).

    ad = psremoting.import_pssession(s, module="ActiveDirectory")
    ad.Get_ADUser(Identity="bob")                 # runs Get-ADUser -Identity bob in session s
    ad["Get-ADUser"]("bob")                       # positional, as the proxy binds it
    ad.Get_Service("W3SVC", as_job=True)          # a background job (-AsJob)
    psremoting.export_pssession(s, "~/Modules/AD", module="ActiveDirectory")   # Export-PSSession
    psremoting.import_module("~/Modules/AD")      # later: the same proxies, a new session

As PowerShell builds proxies (ImplicitRemotingCommands.cs): the commands and their parameters
come from the server's command metadata (the GetCommandMetadata pipeline); every parameter
takes any value (the server converts it), switches stay switches, and the parameters are
positional in the order the server lists them, the common parameters excepted; each proxy
gets -AsJob. A call runs the command by name in the session, with the parameters bound by
name, and writes its output (PSComputerName hidden, as Import-PSSession's proxies run
Invoke-Command -HideComputerName). The commands implicit remoting itself uses (Get-Command,
Select-Object, ...) are skipped unless named in `command_name`; so are names that would shadow
`existing` local commands, unless `allow_clobber`. `prefix` goes before the noun
(Get-Service -> Get-RemoteService).
"""

from __future__ import annotations

import fnmatch
import random
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psremoting.protocol.errors import InvalidOptionError, PSRemotingError
from psremoting.runspace.metadata import (
    DEFAULT_COMMAND_TYPE,
    RemoteCommand,
    RemoteParameter,
    get_command_metadata,
)
from psremoting.runspace.pipeline import Command

__all__ = [
    "COMMON_PARAMETERS",
    "ImplicitModule",
    "ProxyCommand",
    "import_pssession",
    "prefixed",
    "select_commands",
]

#: PowerShell's common parameters: a proxy takes them from CmdletBinding, not from the server.
COMMON_PARAMETERS = (
    "Verbose",
    "Debug",
    "ErrorAction",
    "WarningAction",
    "InformationAction",
    "ProgressAction",
    "ErrorVariable",
    "WarningVariable",
    "InformationVariable",
    "OutVariable",
    "OutBuffer",
    "PipelineVariable",
)
_COMMON = {n.lower() for n in COMMON_PARAMETERS}

#: Commands implicit remoting uses itself, skipped unless asked for by name (CommandSkipListFromServer).
SKIPPED_COMMANDS = (
    "Get-Command",
    "Get-FormatData",
    "Get-Help",
    "Select-Object",
    "Measure-Object",
    "Exit-PSSession",
    "Out-Default",
)

#: `input_object` not given: the command gets no pipeline input.
_NO_INPUT: Any = object()


@dataclass(frozen=True)
class ProxyCommand:
    """A local stand-in for one remote command (a proxy function)."""

    name: str  # the local name (with the prefix)
    remote: RemoteCommand
    module: ImplicitModule = field(repr=False, compare=False)

    @property
    def remote_name(self) -> str:
        return self.remote.name

    @property
    def parameters(self) -> tuple[RemoteParameter, ...]:
        """The proxy's own parameters, in order (the common ones excepted), then AsJob."""
        own = tuple(p for p in self.remote.parameters if p.name.lower() not in _COMMON and p.name != "AsJob")
        return (
            *own,
            RemoteParameter("AsJob", "System.Management.Automation.SwitchParameter", is_switch=True),
        )

    @property
    def positional(self) -> tuple[RemoteParameter, ...]:
        """The parameters taking positional arguments, in order (switches never do)."""
        return tuple(p for p in self.parameters if not p.is_switch)

    def syntax(self) -> str:
        parts = [self.name]
        parts += [f"[[-{p.name}] <Object>]" for p in self.positional]
        parts += [f"[-{p.name}]" for p in self.parameters if p.is_switch]
        parts.append("[<CommonParameters>]")
        return " ".join(parts)

    def resolve(self, name: str) -> str:
        """The parameter a keyword names: its name or alias, case-insensitively, ``snake_case``
        allowed (``display_name`` -> DisplayName), or a common parameter."""
        wanted = name.lower().replace("_", "")
        for p in self.remote.parameters:
            names = [p.name, *p.aliases]
            if any(n.lower().replace("_", "") == wanted for n in names):
                return p.name
        for common in COMMON_PARAMETERS:
            if common.lower() == wanted:
                return common
        known = ", ".join(p.name for p in self.parameters)
        raise InvalidOptionError(
            f"A parameter cannot be found that matches parameter name '{name}'. {self.name} takes: {known}."
        )

    def command(self, args: Sequence[Any] = (), params: dict[str, Any] | None = None) -> Command:
        """The remote command, positional `args` bound to their parameters as the proxy does."""
        named: dict[str, Any] = {}
        for key, value in (params or {}).items():
            real = self.resolve(key)
            if real in named:
                raise InvalidOptionError(f"Cannot bind parameter '{real}' because it is given twice.")
            named[real] = value
        free = [p for p in self.positional if p.name not in named]
        if len(args) > len(free):
            extra = args[len(free)]
            raise InvalidOptionError(
                f"A positional parameter cannot be found that accepts argument '{extra}'. "
                f"{self.name} takes {len(free)} positional argument(s) here: {', '.join(p.name for p in free)}."
            )
        for parameter, value in zip(free, args, strict=False):
            named[parameter.name] = value
        parameters: dict[str, Any] = {}
        for key, value in named.items():
            switch = self.remote.parameter(key)
            if switch is not None and switch.is_switch and value is True:
                parameters[key] = None  # -Switch
            else:
                parameters[key] = value
        return _ProxyCall(self.remote_name, is_script=False, parameters=parameters)

    def __call__(self, *args: Any, input_object: Any = _NO_INPUT, as_job: bool = False, **params: Any) -> Any:
        """Run the command in the module's session: an InvokeResult (output, `.errors`), or
        with `as_job=True` (-AsJob) a RemotingJob. `input_object` is its pipeline input."""
        return self.module.run(self, args, params, input_object=input_object, as_job=as_job)


class _ProxyCall(Command):
    """A proxy's remote command; its text for the job table is the command line."""

    def job_text(self) -> str:
        parts = [self.text]
        for key, value in self.parameters.items():
            parts.append(f"-{key}" if value is None else f"-{key} {value}")
        return " ".join(parts)


class ImplicitModule:
    """The proxies Import-PSSession made: attributes (``Get_ADUser``), items (``["Get-ADUser"]``)."""

    def __init__(self, session: Any, name: str, commands: Iterable[RemoteCommand], prefix: str = "") -> None:
        self.session = session
        self.name = name
        self.prefix = prefix or ""
        self.commands: dict[str, ProxyCommand] = {}
        for remote in commands:
            local = prefixed(remote.name, self.prefix)
            self.commands[local.lower()] = ProxyCommand(local, remote, self)

    # -- PSModuleInfo's columns -----------------------------------------------------------
    module_type = "Script"
    version = "1.0"

    @property
    def exported_commands(self) -> list[str]:
        return [c.name for c in self.commands.values()]

    def __repr__(self) -> str:
        return f"<ImplicitModule {self.name} from {getattr(self.session, 'computer_name', '?')}: " + (
            ", ".join(self.exported_commands) + ">"
        )

    def __getitem__(self, name: str) -> ProxyCommand:
        proxy = self.commands.get(name.lower())
        if proxy is None:
            raise KeyError(
                f"The module {self.name} has no command {name!r}; it has {', '.join(self.exported_commands)}."
            )
        return proxy

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.commands

    def __getattr__(self, attribute: str) -> ProxyCommand:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        wanted = attribute.lower().replace("_", "-")
        proxy: ProxyCommand | None = self.__dict__.get("commands", {}).get(wanted)
        if proxy is None:
            relaxed = attribute.lower().replace("_", "")
            proxy = next(
                (p for k, p in self.__dict__.get("commands", {}).items() if k.replace("-", "") == relaxed),
                None,
            )
        if proxy is None:
            raise AttributeError(
                f"The module {self.__dict__.get('name')} has no command {attribute!r}; it has "
                + ", ".join(p.name.replace("-", "_") for p in self.__dict__.get("commands", {}).values())
            )
        return proxy

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {p.name.replace("-", "_") for p in self.commands.values()})

    # -- running --------------------------------------------------------------------------
    def run(
        self,
        proxy: ProxyCommand,
        args: Sequence[Any],
        params: dict[str, Any],
        *,
        input_object: Any = _NO_INPUT,
        as_job: bool = False,
    ) -> Any:
        """Run a proxy: its remote command by name, in the session, PSComputerName hidden."""
        from psremoting.cmdlets.invoke.command import invoke_command

        command = proxy.command(args, params)
        extra: dict[str, Any] = {} if input_object is _NO_INPUT else {"input_object": input_object}
        return invoke_command(command, session=self.session, hide_computer_name=True, as_job=as_job, **extra)

    def events(
        self,
        proxy: ProxyCommand,
        args: Sequence[Any],
        params: dict[str, Any],
        *,
        input_object: Any = _NO_INPUT,
    ) -> Any:
        """A proxy's run as InvokeEvents, as they arrive (for a shell that streams them)."""
        from psremoting.cmdlets.invoke.command import iter_invoke_command

        command = proxy.command(args, params)
        extra: dict[str, Any] = {} if input_object is _NO_INPUT else {"input_object": input_object}
        return iter_invoke_command(command, session=self.session, hide_computer_name=True, **extra)


def prefixed(name: str, prefix: str) -> str:
    """`prefix` before the noun, as Import-PSSession -Prefix (Get-Service -> Get-XService)."""
    if not prefix:
        return name
    verb, dash, noun = name.partition("-")
    return f"{verb}-{prefix}{noun}" if dash else f"{prefix}{name}"


def _module_name() -> str:
    """A name like PowerShell's for an imported session module (tmp_zqo0pt2i.3ht)."""
    rng = random.SystemRandom()
    letters = string.ascii_lowercase + string.digits
    return (
        "tmp_"
        + "".join(rng.choice(letters) for _ in range(8))
        + "."
        + "".join(rng.choice(letters) for _ in range(3))
    )


def select_commands(
    found: Iterable[RemoteCommand],
    *,
    command_name: Sequence[str] | None,
    prefix: str,
    existing: Iterable[str],
    allow_clobber: bool,
) -> tuple[list[RemoteCommand], list[str]]:
    """The commands to proxy and the names skipped because they would shadow local ones."""
    asked = [n.lower() for n in command_name or []]
    taken = {n.lower() for n in existing}
    chosen: list[RemoteCommand] = []
    shadowing: list[str] = []
    seen: set[str] = set()
    for remote in found:
        key = remote.name.lower()
        if key in seen or not remote.name:
            continue
        if asked and not any(fnmatch.fnmatchcase(key, pattern) for pattern in asked):
            continue  # ErrorSkippedNonRequestedCommand
        if not re.fullmatch(r"[\w.-]+", remote.name):
            continue  # ErrorSkippedUnsafeCommandName
        if key in (c.lower() for c in SKIPPED_COMMANDS) and key not in asked:
            continue
        seen.add(key)
        if not allow_clobber and prefixed(remote.name, prefix).lower() in taken:
            shadowing.append(remote.name)
            continue
        chosen.append(remote)
    return chosen, shadowing


def import_pssession(
    session: Any,
    *,
    module: str | Sequence[str] | None = None,
    command_name: str | Sequence[str] | None = None,
    prefix: str | None = None,
    command_type: int | None = None,
    allow_clobber: bool = False,
    existing: Iterable[str] = (),
    warn: Any = None,
) -> ImplicitModule:
    """Import-PSSession: proxies for the commands of `session`'s server (see the module doc).

    `module` and `command_name` select the commands (wildcards allowed); `command_type` is
    CommandTypes flags (default: aliases, functions, filters and cmdlets). `existing` are
    local command names the proxies must not shadow unless `allow_clobber`; `warn(text)`
    receives PowerShell's warnings about skipped commands. Raises PSRemotingError when nothing
    matched, as Import-PSSession does ("returned no results").
    """
    names = [command_name] if isinstance(command_name, str) else list(command_name or [])
    modules = [module] if isinstance(module, str) else list(module or [])
    state = str(getattr(getattr(session, "state", None), "value", getattr(session, "state", "Opened")))
    if state != "Opened":
        raise PSRemotingError(
            f"Cannot import from the session {getattr(session, 'name', '')}: its state is {state}, not Opened."
        )
    found = get_command_metadata(
        session.runspace,
        names or ["*"],
        command_type=DEFAULT_COMMAND_TYPE if command_type is None else int(command_type),
        namespace=modules or None,
    )
    if not found and (names or modules):
        raise PSRemotingError("Running the Get-Command command in a remote session returned no results.")
    chosen, shadowing = select_commands(
        found, command_name=names, prefix=prefix or "", existing=existing, allow_clobber=allow_clobber
    )
    if warn is not None:
        if shadowing and not chosen:
            warn(
                "No command proxies have been created, because all of the requested remote commands would "
                "shadow existing local commands.  Use the AllowClobber parameter if you want to shadow "
                "existing local commands."
            )
        else:
            for name in shadowing:
                warn(
                    f"Proxy creation has been skipped for the following command: '{name}', because it would "
                    "shadow an existing local command.  Use the AllowClobber parameter if you want to shadow "
                    "existing local commands."
                )
    return ImplicitModule(session, _module_name(), chosen, prefix or "")
