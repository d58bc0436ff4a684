"""The shapes of the local shell's cmdlet table: `Param`, `CmdletSpec`, the common parameters.

Kept apart from the table itself (`cmdlets`) so that the table can be assembled from several
modules (the session cmdlets, jobs, file copy, implicit remoting).

A parameter PowerShell has but this client cannot honour is declared with `unsupported`
(the reason, in one sentence): it binds as PowerShell would, and the interpreter then refuses
it with "-Name is not supported on this client: <reason>", so that no parameter a user types
is silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    """One parameter: `kind` is the value type (`string`, `string[]`, `int`, `switch`, `session`...)."""

    name: str
    kind: str = "string"
    aliases: tuple[str, ...] = ()
    position: int | None = None
    mandatory: bool = False
    pipeline: bool = False
    help: str = ""
    sets: tuple[str, ...] = ()  # parameter sets; empty = all of them
    unsupported: str | None = None  # why this client refuses it (None: supported)
    by_property_name: bool = False  # ValueFromPipelineByPropertyName (bound item by item)

    @property
    def is_switch(self) -> bool:
        return self.kind == "switch"


@dataclass(frozen=True)
class CmdletSpec:
    """A cmdlet's name, aliases, parameters and one-line synopsis."""

    name: str
    synopsis: str
    params: tuple[Param, ...] = ()
    aliases: tuple[str, ...] = ()
    remaining: str | None = None  # parameter taking any extra positional arguments
    api: str | None = None  # psremoting attribute the cmdlet needs; absent -> not available
    common: bool = True  # takes the common parameters (-Verbose, -ErrorAction, ...)
    default_set: str | None = None
    function: bool = False  # a function in PowerShell (Clear-Host): any input goes to $input


def refused(name: str, kind: str, reason: str, aliases: tuple[str, ...] = ()) -> Param:
    """A parameter of PowerShell's that this client refuses, with the reason why."""
    return Param(name, kind, aliases, help=f"Not supported on this client: {reason}", unsupported=reason)


#: PowerShell's common parameters (about_CommonParameters). -OutBuffer and -PipelineVariable
#: are refused: the local shell hands each command's output on only when it is complete.
COMMON_PARAMS: tuple[Param, ...] = (
    Param("Verbose", "switch", ("vb",)),
    Param("Debug", "switch", ("db",)),
    Param("ErrorAction", "string", ("ea",)),
    Param("WarningAction", "string", ("wa",)),
    Param("InformationAction", "string", ("infa",)),
    Param("ProgressAction", "string", ("proga",)),
    Param("ErrorVariable", "string", ("ev",)),
    Param("WarningVariable", "string", ("wv",)),
    Param("InformationVariable", "string", ("iv",)),
    Param("OutVariable", "string", ("ov",)),
    refused(
        "OutBuffer",
        "int",
        "the local shell passes a command's output on when the command has finished, not in buffers",
        ("ob",),
    ),
    refused(
        "PipelineVariable",
        "string",
        "the local shell runs one command of a pipeline after the other, so there is no current "
        "object to share; use ForEach-Object in a remote session instead",
        ("pv",),
    ),
)

_SSH = (
    "it is for PowerShell remoting over SSH, and psremoting speaks WinRM (WS-Management) only; "
    "use -ComputerName (with -Credential)"
)
_VM = (
    "PowerShell Direct reaches a Hyper-V virtual machine from its Hyper-V host only; "
    "psremoting connects over WinRM: use -ComputerName with the machine's network name"
)
_CONTAINER = (
    "sessions into Windows containers are opened on the container host itself; "
    "use -ComputerName to reach the container over WinRM"
)

#: Parameters of PowerShell 7's New-PSSession / Enter-PSSession / Invoke-Command for transports
#: and local features this client does not have.
NOT_ON_THIS_CLIENT: tuple[Param, ...] = (
    refused("HostName", "string[]", _SSH),
    refused("UserName", "string", _SSH),
    refused("KeyFilePath", "string", _SSH, ("IdentityFilePath",)),
    refused("SSHTransport", "switch", _SSH),
    refused("SSHConnection", "object", _SSH),
    refused("Subsystem", "string", _SSH),
    refused("ConnectingTimeout", "int", _SSH),
    refused("Options", "object", _SSH),
    refused("VMId", "string[]", _VM, ("VMGuid",)),
    refused("VMName", "string[]", _VM),
    refused("ContainerId", "string[]", _CONTAINER),
    refused("RunAsAdministrator", "switch", _CONTAINER),
    refused(
        "CertificateThumbprint",
        "string",
        "it names a certificate in the Windows certificate store, which this computer does not have; "
        "give the certificate's PEM files with -CertificatePath and -KeyPath instead",
    ),
    refused(
        "AllowRedirection",
        "switch",
        "this client does not follow WinRM redirections; connect to the address the server "
        "redirects to, with -ConnectionUri",
    ),
    refused(
        "EnableNetworkAccess",
        "switch",
        "it adds a network token to loopback sessions on the local Windows computer, and sessions "
        "from this client are never loopback sessions",
    ),
)
